//! An audit gives the same report, and the same first failure, whatever
//! the number of threads it fetches tiles on.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::fs;
use std::path::Path;

use oretrace_logdir::TileLog;
use oretrace_tlog::note::{NoteSigner, NoteVerifier};
use oretrace_verify::{FolderSource, NoProgress, Report, Source, VerifyError, audit};

/// A folder source fetching on `threads` threads.
struct Threads(FolderSource, usize);

impl Source for Threads {
    fn get(&self, path: &str) -> Result<Option<Vec<u8>>, VerifyError> {
        self.0.get(path)
    }

    fn locate(&self, path: &str) -> String {
        self.0.locate(path)
    }

    fn fetch_threads(&self) -> usize {
        self.1
    }
}

/// 10 full bundles and a partial one.
const SIZE: u64 = 256 * 10 + 17;

fn write_log(dir: &Path) -> NoteVerifier {
    let signer = NoteSigner::from_seed("oretrace.test/threads", [3; 32]).unwrap();
    let key = signer.verifier();
    let mut log = TileLog::create(dir, signer).unwrap();
    let entries: Vec<Vec<u8>> = (0..SIZE)
        .map(|i| format!("entry {i}").into_bytes())
        .collect();
    for chunk in entries.chunks(700) {
        log.append(chunk).unwrap();
    }
    key
}

fn audit_with(dir: &Path, key: &NoteVerifier, threads: usize) -> Result<Report, VerifyError> {
    audit(
        &Threads(FolderSource::new(dir), threads),
        key,
        None,
        &NoProgress,
    )
}

fn flip(file: &Path, at: usize) {
    let mut bytes = fs::read(file).unwrap();
    bytes[at] ^= 0x01;
    fs::write(file, bytes).unwrap();
}

const THREADS: [usize; 5] = [0, 1, 2, 4, 64];

#[test]
fn a_good_log_gives_the_same_report_on_any_number_of_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let key = write_log(&dir);
    let reports: Vec<Report> = THREADS
        .iter()
        .map(|&t| audit_with(&dir, &key, t).unwrap())
        .collect();
    assert_eq!(reports[0].entries_checked, SIZE);
    for r in &reports {
        assert_eq!(r, &reports[0]);
    }
}

#[test]
fn the_first_problem_in_log_order_is_reported_on_any_number_of_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("log");
    let key = write_log(&dir);
    // Later problems, which threads running ahead meet first.
    fs::remove_file(dir.join("tile/entries/009")).unwrap();
    flip(&dir.join("tile/0/007"), 5);
    let errors = |want: &[&str]| {
        for t in THREADS {
            let err = audit_with(&dir, &key, t).unwrap_err().to_string();
            for w in want {
                assert!(err.contains(w), "{t} threads: {err:?} should mention {w:?}");
            }
        }
    };
    errors(&["tile/entries/007", "entry 0", "tile/0/007"]);

    // An earlier problem wins.
    flip(&dir.join("tile/entries/003"), 40);
    errors(&["tile/entries/003", "hashes to"]);

    // A missing resource, when it is the first problem.
    let tmp2 = tempfile::tempdir().unwrap();
    let dir2 = tmp2.path().join("log");
    let key2 = write_log(&dir2);
    fs::remove_file(dir2.join("tile/entries/009")).unwrap();
    for t in THREADS {
        let err = audit_with(&dir2, &key2, t).unwrap_err().to_string();
        assert!(
            err.contains("tile/entries/009") && err.contains("missing"),
            "{t} threads: {err:?}"
        );
    }
}
