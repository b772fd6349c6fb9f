//! Helpers shared by oretrace's benchmarks and tests, never by the product:
//! the quick-mode switch, interleaved timing with medians (so a figure and
//! its bound share the machine's conditions), and a minimal static file
//! server on a loopback port for HTTP audits; and where the conformance
//! data the tests read lives.

#![expect(
    clippy::expect_used,
    reason = "benchmark support: a broken setup stops the run with its message"
)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The environment variable that points the tests at another copy of the
/// conformance data (the folder that holds `epcis/`, `event-hash/`,
/// `merkle/`).
pub const CONFORMANCE_ENV: &str = "ORETRACE_CONFORMANCE_DIR";

/// `sub` (for instance `"merkle/testdata"`, or `""` for the whole folder)
/// in the conformance data the tests read: `$ORETRACE_CONFORMANCE_DIR`, or
/// `shared/conformance` beside the checkout (`../shared/conformance` from
/// the workspace root), as CI lays it out.
///
/// # Panics
///
/// When that folder is missing, with a sentence naming the path and how to
/// get it: a test that needs the data fails without it, it never skips.
pub fn conformance(sub: &str) -> PathBuf {
    let (root, from_env) = match std::env::var_os(CONFORMANCE_ENV) {
        Some(dir) if !dir.is_empty() => (PathBuf::from(dir), true),
        _ => (
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance"),
            false,
        ),
    };
    let dir = if sub.is_empty() {
        root.clone()
    } else {
        root.join(sub)
    };
    if !dir.is_dir() {
        let whence = if from_env {
            format!("{CONFORMANCE_ENV} points at {}", root.display())
        } else {
            format!(
                "the tests read it from shared/conformance beside the checkout, {}",
                root.display()
            )
        };
        panic!(
            "the conformance data {} is missing ({whence}): put the project's shared/conformance \
             folder (GS1 EPCIS schemas and examples, the CBV 2.0 event-hash vectors, the \
             transparency-dev/merkle vectors; see its README) beside the checkout, or set \
             {CONFORMANCE_ENV} to a copy of it",
            dir.display()
        );
    }
    dir
}

/// Whether a benchmark runs in its bounded quick form: on `--test` (as
/// criterion's test mode), without `--bench` (`cargo test --benches`,
/// nextest), or with `ORETRACE_BENCH_QUICK` set to anything but `0`.
pub fn quick_mode() -> bool {
    let args: Vec<String> = std::env::args().collect();
    let has = |flag: &str| args.iter().any(|a| a == flag);
    let env_quick = std::env::var("ORETRACE_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    env_quick || has("--test") || !has("--bench")
}

/// Whether the harness only asks for the list of benchmarks (`--list`, as
/// nextest does before running them).
pub fn list_mode() -> bool {
    std::env::args().any(|a| a == "--list")
}

/// The test harness of a plain-timing bench (`harness = false`, no
/// criterion): it is one test, `name`, to the runners that ask (`--list
/// --format terse`, as nextest does, answers `<name>: test`; it has no
/// ignored tests). Returns whether to run the bench now: for `cargo bench`
/// (the full form), `cargo test --benches`, or a runner asking for `name`
/// (the quick form, whose agreement checks are the test); not when only
/// listing, asked for ignored tests, or filtered out.
pub fn plain_bench(name: &str) -> bool {
    let args: Vec<String> = std::env::args().skip(1).collect();
    plain_bench_runs(name, &args, &mut std::io::stdout())
}

fn plain_bench_runs(name: &str, args: &[String], out: &mut impl std::io::Write) -> bool {
    let ignored = args.iter().any(|a| a == "--ignored");
    if args.iter().any(|a| a == "--list") {
        if !ignored {
            writeln!(out, "{name}: test").expect("writing the list");
        }
        return false;
    }
    if ignored {
        return false;
    }
    // libtest's options that take a value in the next argument.
    const WITH_VALUE: &[&str] = &[
        "--format",
        "--logfile",
        "--test-threads",
        "--color",
        "--shuffle-seed",
        "-Z",
    ];
    let exact = args.iter().any(|a| a == "--exact");
    let (mut filters, mut skips) = (Vec::new(), Vec::new());
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "--skip" {
            skips.extend(rest.next());
        } else if WITH_VALUE.contains(&arg.as_str()) {
            rest.next();
        } else if !arg.starts_with('-') {
            filters.push(arg);
        }
    }
    let matches = |f: &String| {
        if exact {
            f == name
        } else {
            name.contains(f.as_str())
        }
    };
    (filters.is_empty() || filters.iter().any(|f| matches(f)))
        && !skips.iter().any(|s| {
            if exact {
                *s == name
            } else {
                name.contains(s.as_str())
            }
        })
}

/// Seconds taken by `f`; its result is kept from the optimiser.
pub fn time<T>(f: impl FnOnce() -> T) -> f64 {
    let start = Instant::now();
    std::hint::black_box(f());
    start.elapsed().as_secs_f64()
}

/// The median of `xs` (NaN-safe ordering); 0 for none.
pub fn median(mut xs: Vec<f64>) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// Runs each closure once per repetition, interleaved so that they share the
/// machine's conditions, and returns each one's median seconds.
pub fn interleaved<const K: usize>(reps: usize, fs: [&dyn Fn() -> f64; K]) -> [f64; K] {
    let mut samples: [Vec<f64>; K] = std::array::from_fn(|_| Vec::with_capacity(reps));
    for _ in 0..reps {
        for (f, s) in fs.iter().zip(samples.iter_mut()) {
            s.push(f());
        }
    }
    samples.map(median)
}

/// Serves `root` as static files on 127.0.0.1 (GET only, 404 when absent,
/// keep-alive) from background threads, one per connection; returns the
/// base URL. It lives as long as the process.
pub fn serve_folder(root: &Path) -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}", listener.local_addr()?);
    let root = root.to_owned();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let root = root.clone();
            std::thread::spawn(move || {
                let Ok(read_half) = stream.try_clone() else {
                    return;
                };
                let mut reader = BufReader::new(read_half);
                loop {
                    let mut request = String::new();
                    if reader.read_line(&mut request).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut line = String::new();
                    while reader.read_line(&mut line).unwrap_or(0) > 2 {
                        line.clear();
                    }
                    let target = request
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or("/")
                        .trim_start_matches('/');
                    let file = root.join(target);
                    let response = match (target.contains(".."), std::fs::read(&file)) {
                        (false, Ok(body)) if file.is_file() => {
                            let mut r = format!(
                                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
                                body.len()
                            )
                            .into_bytes();
                            r.extend_from_slice(&body);
                            r
                        }
                        _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec(),
                    };
                    if stream.write_all(&response).is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok(url)
}

/// Where benchmarks keep their data: `$ORETRACE_BENCH_DIR`, or the
/// temporary directory.
pub fn data_parent() -> std::path::PathBuf {
    std::env::var_os("ORETRACE_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
}

/// A fresh, empty data directory `oretrace-bench-<what>-…` under
/// [`data_parent`], removed on drop.
pub fn fresh_dir(what: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("oretrace-bench-{what}-"))
        .tempdir_in(data_parent())
        .expect("creating a temporary data directory")
}

/// The filesystem type holding `dir`, from `/proc/self/mountinfo` (the
/// longest mount point that is a prefix of the path).
pub fn filesystem_type(dir: &Path) -> Option<String> {
    let dir = dir.canonicalize().ok()?;
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mut best: Option<(usize, String)> = None;
    for line in info.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let (Some(mount), Some(dash)) = (fields.get(4), fields.iter().position(|f| *f == "-"))
        else {
            continue;
        };
        let Some(fstype) = fields.get(dash + 1) else {
            continue;
        };
        let mount = mount.replace("\\040", " ");
        if dir.starts_with(&mount) && best.as_ref().is_none_or(|(len, _)| mount.len() >= *len) {
            best = Some((mount.len(), (*fstype).to_owned()));
        }
    }
    best.map(|(_, t)| t)
}

/// [`data_parent`] and its filesystem type; exits 2 if it is in memory
/// (tmpfs, ramfs), where fsync is free and `what` figures would mean
/// nothing — except in [`quick_mode`], whose figures are not to be quoted
/// and which runs for its checks, on whatever disk the tests have.
pub fn durable_parent(what: &str) -> (std::path::PathBuf, String) {
    let parent = data_parent();
    let fstype = filesystem_type(&parent).unwrap_or_else(|| "unknown".into());
    if matches!(fstype.as_str(), "tmpfs" | "ramfs") && !quick_mode() {
        eprintln!(
            "{} is on {fstype}: fsync is free there, so {what} figures would mean nothing. \
             Set ORETRACE_BENCH_DIR to a directory on a real disk.",
            parent.display()
        );
        std::process::exit(2);
    }
    (parent, fstype)
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    /// The data is where the tests look for it (and, run again by
    /// [`a_missing_conformance_folder_fails_naming_it`] with the folder
    /// pointed elsewhere, this is what fails).
    #[test]
    fn conformance_data_resolves() {
        let dir = super::conformance("merkle/testdata");
        assert!(dir.ends_with("merkle/testdata"), "{}", dir.display());
        assert!(super::conformance("").join("event-hash").is_dir());
    }

    #[test]
    fn a_missing_conformance_folder_fails_naming_it() {
        let missing = tempfile::tempdir().unwrap().path().join("no-such-folder");
        let out = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "tests::conformance_data_resolves", "--nocapture"])
            .env(super::CONFORMANCE_ENV, &missing)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "it passed without the data: {stderr}"
        );
        let wanted = format!(
            "the conformance data {} is missing ({} points at {})",
            missing.join("merkle/testdata").display(),
            super::CONFORMANCE_ENV,
            missing.display()
        );
        assert!(stderr.contains(&wanted), "{stderr}");
        assert!(
            stderr.contains("set ORETRACE_CONFORMANCE_DIR to a copy"),
            "{stderr}"
        );
    }

    fn runs(args: &[&str]) -> (bool, String) {
        let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        let mut out = Vec::new();
        let run = super::plain_bench_runs("checks", &args, &mut out);
        (run, String::from_utf8(out).unwrap())
    }

    #[test]
    fn a_plain_bench_is_one_test_to_the_runners() {
        // nextest lists, then runs the test by its exact name.
        assert_eq!(
            runs(&["--list", "--format", "terse"]),
            (false, "checks: test\n".into())
        );
        assert_eq!(
            runs(&["--list", "--format", "terse", "--ignored"]),
            (false, String::new())
        );
        assert_eq!(
            runs(&["checks", "--exact", "--nocapture"]),
            (true, String::new())
        );
        assert!(!runs(&["--exact", "check", "--nocapture"]).0);
        assert!(!runs(&["--ignored", "--exact", "checks"]).0);
        // cargo bench, cargo test --benches, filters.
        assert!(runs(&["--bench"]).0);
        assert!(runs(&[]).0);
        assert!(runs(&["--test-threads", "1", "che"]).0);
        assert!(!runs(&["--test-threads", "1", "other"]).0);
        assert!(!runs(&["--skip", "checks"]).0);
    }

    #[test]
    fn medians() {
        assert_eq!(super::median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(super::median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(super::median(vec![]), 0.0);
    }
}
