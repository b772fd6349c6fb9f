//! Replays every committed fuzz input through its target on the stable
//! toolchain, without cargo-fuzz: the seeds (`fuzz/corpus-seed/<target>`),
//! the regressions (`fuzz/regressions/<target>`: inputs that once crashed
//! a target, kept once fixed) and, when present, the local working corpus
//! (`fuzz/corpus/<target>`, not committed). Every failing file is named.

#![expect(
    clippy::expect_used,
    reason = "a fuzz target reports a broken invariant by panicking"
)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use oretrace_fuzz_targets::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("a readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn replay(kind: &str, require: bool) {
    let mut failures = Vec::new();
    let mut count = 0;
    for (name, target) in TARGETS {
        let dir = fuzz_dir().join(kind).join(name);
        let inputs = files(&dir);
        if require {
            assert!(!inputs.is_empty(), "{} has no inputs", dir.display());
        }
        for path in inputs {
            let data = std::fs::read(&path).expect("a readable input");
            count += 1;
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| target(&data))) {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                failures.push(format!("{}: {message}", path.display()));
            }
        }
    }
    eprintln!("replayed {count} {kind} inputs");
    assert!(
        failures.is_empty(),
        "failing inputs:\n{}",
        failures.join("\n")
    );
}

#[test]
fn seeds() {
    replay("corpus-seed", true);
}

#[test]
fn regressions() {
    replay("regressions", false);
}

#[test]
fn local_corpus() {
    replay("corpus", false);
}
