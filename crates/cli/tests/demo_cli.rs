//! `oretrace demo` as a newcomer meets it: the commands it prints work as
//! printed, for every fresh demo, and its log on stderr is plain text
//! when stderr is not a terminal.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

mod support;

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use support::{free_port, path};

/// A demo serving on a loopback port; killed and reaped on drop.
struct Demo {
    child: Child,
    port: u16,
    /// What it printed on stdout, up to and including the `Receipt:` line.
    printed: Vec<String>,
    /// Reads its stderr as it comes (so that the pipe never fills).
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Demo {
    fn start(data: &Path) -> Demo {
        let port = free_port();
        let mut child = Command::new(env!("CARGO_BIN_EXE_oretrace"))
            .args(["demo", "--data", path(data)])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut pipe = child.stderr.take().unwrap();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut pipe, &mut text);
            text
        });
        let stdout = child.stdout.take().unwrap();
        let mut printed = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let last = line.starts_with("Receipt:");
            printed.push(line);
            if last {
                break;
            }
        }
        assert!(
            printed.last().is_some_and(|l| l.starts_with("Receipt:")),
            "the demo stopped before printing its commands: {printed:#?}"
        );
        Demo {
            child,
            port,
            printed,
            stderr: Some(stderr),
        }
    }

    /// The command printed after `label`.
    fn command(&self, label: &str) -> String {
        self.printed
            .iter()
            .find_map(|l| l.strip_prefix(label))
            .unwrap_or_else(|| panic!("no {label} line in {:#?}", self.printed))
            .trim()
            .to_owned()
    }

    /// Stops the demo; returns what it wrote on stderr.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stderr
            .take()
            .map(|reader| reader.join().unwrap())
            .unwrap_or_default()
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a printed command line with `sh`, with no `oretrace` on the PATH
/// (the command names the binary by its path) and the auditor's default
/// state folder under `state`.
fn run_printed(command: &str, cwd: &Path, state: &Path) -> support::Run {
    let output = Command::new("sh")
        .args(["-c", command])
        .current_dir(cwd)
        .env("PATH", "/usr/bin:/bin")
        .env("XDG_STATE_HOME", state)
        .env_remove("ORETRACE_VKEY")
        .output()
        .unwrap();
    support::Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The receipt command fetched without curl: the URL is fetched here,
/// then the `oretrace verify --inclusion` half is run as printed.
fn run_receipt_command(command: &str, cwd: &Path, state: &Path) -> support::Run {
    let (fetch, verify) = command.split_once("&&").unwrap();
    let url = fetch
        .split_whitespace()
        .find(|w| w.starts_with("http"))
        .unwrap();
    let out = fetch.split('>').nth(1).unwrap().trim();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let body = reqwest::blocking::get(url).unwrap().bytes().unwrap();
    std::fs::write(cwd.join(out), body).unwrap();
    run_printed(verify.trim(), cwd, state)
}

#[test]
fn every_fresh_demo_prints_commands_that_work_with_one_auditor_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let mut origins = Vec::new();
    for round in 0..2 {
        let data = tmp.path().join(format!("demo-{round}"));
        let demo = Demo::start(&data);
        let verify = demo.command("Verify:");
        // Printed with the path of the binary that runs, so that it works
        // as printed whether or not `oretrace` is on the PATH.
        let binary = Path::new(env!("CARGO_BIN_EXE_oretrace"))
            .canonicalize()
            .unwrap();
        assert!(
            verify.starts_with(&format!("{} verify http://127.0.0.1:", binary.display())),
            "{verify}"
        );
        let vkey = verify.split('\'').nth(1).unwrap().to_owned();
        let origin = vkey.split('+').next().unwrap().to_owned();
        assert!(
            origin.starts_with("oretrace.example/demo/"),
            "each demo log has an origin of its own: {origin}"
        );

        // The printed verify command, twice: the second run finds the
        // checkpoint it remembered.
        for time in 0..2 {
            let run = run_printed(&verify, tmp.path(), &state);
            assert_eq!(
                run.code, 0,
                "round {round}, run {time}: {verify}\n{}{}",
                run.stdout, run.stderr
            );
            assert!(
                run.stdout.contains(&format!("verified: {origin} size 54")),
                "{}",
                run.stdout
            );
        }
        let run = run_receipt_command(&demo.command("Receipt:"), tmp.path(), &state);
        assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
        assert!(run.stdout.contains("verified: entry 0"), "{}", run.stdout);
        if round == 0 {
            // The printed provenance, reconciliation and audit commands, as printed.
            let run = run_printed(&demo.command("Trace:"), tmp.path(), &state);
            assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
            assert!(run.stdout.contains("fwo-loe-shilman"), "{}", run.stdout);
            let run = run_printed(&demo.command("Reconcile:"), tmp.path(), &state);
            assert_eq!(run.code, 1, "flagged: {}{}", run.stdout, run.stderr);
            assert!(run.stdout.contains("OUTSIDE"), "{}", run.stdout);
            // Both routes judged, in the demo's output and by the printed
            // command: Gwadar's operator fails the FEOC test.
            let feoc = demo
                .printed
                .iter()
                .find(|l| l.trim_start().starts_with("feoc-control"))
                .unwrap_or_else(|| panic!("no route table in {:#?}", demo.printed));
            assert!(feoc.contains("pass") && feoc.contains("fail"), "{feoc}");
            assert!(
                demo.printed.iter().any(|l| l
                    .trim_start()
                    .starts_with("gwadar: cophc (operator of gwadar-port")),
                "{:#?}",
                demo.printed
            );
            let run = run_printed(&demo.command("Judge:"), tmp.path(), &state);
            assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
            assert!(
                run.stdout.contains("feoc-control [FAIL: prohibited]"),
                "{}",
                run.stdout
            );
            assert!(run.stdout.contains("HYPOTHETICAL"), "{}", run.stdout);
            let run = run_printed(&demo.command("Exports:"), tmp.path(), &state);
            assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
            assert!(run.stdout.contains("concentrate"), "{}", run.stdout);
            // The printed passport commands: saved as printed, then the
            // key set fetched here (no curl) and the verification run as
            // printed.
            let run = run_printed(&demo.command("Passport:"), tmp.path(), &state);
            assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
            let position = demo
                .printed
                .iter()
                .position(|l| l.starts_with("Passport:"))
                .unwrap();
            let next = demo.printed[position + 1].trim();
            let (fetch, verify) = next.split_once("&&").unwrap();
            let url = fetch
                .split_whitespace()
                .find(|w| w.starts_with("http"))
                .unwrap();
            let _ = rustls::crypto::ring::default_provider().install_default();
            let jwks = reqwest::blocking::get(url).unwrap().text().unwrap();
            std::fs::write(tmp.path().join("jwks.json"), jwks).unwrap();
            let run = run_printed(verify.trim(), tmp.path(), &state);
            assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
            assert!(
                run.stdout.contains("verified: the passport of"),
                "{}",
                run.stdout
            );
            let run = run_printed(&demo.command("Audit:"), tmp.path(), &state);
            assert_eq!(run.code, 0, "clean: {}{}", run.stdout, run.stderr);
            assert!(run.stdout.contains("No anomaly found."), "{}", run.stdout);
        }

        // A refusal leaves a line with its status and problem type (the
        // request span names the method and path, as for every request).
        let missing = format!("http://127.0.0.1:{}/records/424242", demo.port);
        let _ = rustls::crypto::ring::default_provider().install_default();
        let answer = reqwest::blocking::get(&missing).unwrap();
        assert_eq!(answer.status().as_u16(), 404);
        let stderr = demo.stop();
        assert!(
            stderr.contains("serving the oretrace API"),
            "the demo logs on stderr: {stderr}"
        );
        assert!(
            stderr.lines().any(|l| l.contains("request refused")
                && l.contains("status=404")
                && l.contains("problem=https://oretrace.org/problems/")),
            "a refusal is logged: {stderr}"
        );
        // Each capture job of the demo leaves one line when it finishes:
        // its id, capturer and counts, never an event's content.
        let finished: Vec<&str> = stderr
            .lines()
            .filter(|l| l.contains("capture job finished"))
            .collect();
        assert!(!finished.is_empty(), "capture jobs are logged: {stderr}");
        for line in &finished {
            for member in [
                "job=",
                "capturer=",
                "captured=",
                "duplicate=0",
                "refused=0",
                "rolled_back=0",
            ] {
                assert!(line.contains(member), "{member} in {line}");
            }
            assert!(!line.contains("eventTime"), "{line}");
        }
        assert!(
            !stderr.contains('\u{1b}'),
            "no colour codes in a log that is not a terminal: {stderr:?}"
        );
        origins.push(origin);
    }
    assert_ne!(origins[0], origins[1]);

    // A demo directory keeps its origin when the demo runs again.
    let demo = Demo::start(&tmp.path().join("demo-1"));
    let verify = demo.command("Verify:");
    assert!(verify.contains(&format!("'{}+", origins[1])), "{verify}");
    let run = run_printed(&verify, tmp.path(), &state);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("consistent with the checkpoint verified before"),
        "{}",
        run.stdout
    );
}
