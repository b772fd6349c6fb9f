//! Shared helpers for the command-line tests: run the binary, build logs,
//! serve a folder over HTTP on a loopback port.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]
#![allow(dead_code, reason = "each suite uses part of this module")]

pub mod live;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use oretrace_logdir::TileLog;
use oretrace_tlog::note::NoteSigner;

pub const ORIGIN: &str = "oretrace.test/cli";

pub fn signer(seed: u8) -> NoteSigner {
    NoteSigner::from_seed(ORIGIN, [seed; 32]).unwrap()
}

pub fn vkey(seed: u8) -> String {
    signer(seed).verifier().to_vkey()
}

/// Writes a log of `size` entries `prefix i` in batches of 100.
pub fn write_log(dir: &Path, seed: u8, size: u64, prefix: &str) {
    let mut log = TileLog::create(dir, signer(seed)).unwrap();
    let entries: Vec<Vec<u8>> = (0..size)
        .map(|i| format!("{prefix} {i}").into_bytes())
        .collect();
    for chunk in entries.chunks(100) {
        log.append(chunk).unwrap();
    }
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn oretrace(args: &[&str]) -> Run {
    let output: Output = Command::new(env!("CARGO_BIN_EXE_oretrace"))
        .args(args)
        .env_remove("ORETRACE_VKEY")
        .env_remove("ORETRACE_VERIFY_STATE")
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

pub fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The project root (two levels above this crate).
/// The Python of the independent verifiers (`.venv/interop`, or
/// `ORETRACE_INTEROP_PYTHON`); a missing one fails the test, naming how to
/// install it.
pub fn interop_python() -> PathBuf {
    if let Some(p) = std::env::var_os("ORETRACE_INTEROP_PYTHON") {
        return PathBuf::from(p);
    }
    let venv = project_root().join(".venv/interop/bin/python");
    assert!(
        venv.exists(),
        "no {}: run `bash .ci/run` (or .ci/interop-env) to install tlog-scales",
        venv.display()
    );
    venv
}

pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Serves `root` as static files on a loopback port; returns the base URL.
pub fn serve_folder(root: &Path) -> String {
    oretrace_benchkit::serve_folder(root).unwrap()
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `oretrace demo --no-serve` loaded into `data`, then served by
/// `oretrace serve` (with the demo's operator key) on a free port.
pub fn served_demo(data: &Path) -> Server {
    let run = oretrace(&["demo", "--data", path(data), "--no-serve"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let operator = vkey_of(&data.join("keys/registry_operator.key"));
    Server::start(data, free_port(), &operator)
}

/// An `oretrace serve` child process; killed (SIGKILL) and reaped on drop.
pub struct Server {
    child: std::process::Child,
    pub port: u16,
}

impl Server {
    /// Starts `oretrace serve` on `data` and `port` and waits until it
    /// accepts connections.
    pub fn start(data: &Path, port: u16, operator_vkey: &str) -> Server {
        Self::start_with(data, port, operator_vkey, &[])
    }

    /// [`Server::start`] with more `serve` arguments.
    pub fn start_with(data: &Path, port: u16, operator_vkey: &str, extra: &[&str]) -> Server {
        let server = Self::spawn(data, port, operator_vkey, extra);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return server;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("oretrace serve did not start on port {port}");
    }

    /// Starts `oretrace serve` without waiting for it (it may still be
    /// opening its store when this returns).
    pub fn spawn(data: &Path, port: u16, operator_vkey: &str, extra: &[&str]) -> Server {
        let child = Command::new(env!("CARGO_BIN_EXE_oretrace"))
            .args([
                "serve",
                "--data",
                path(data),
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .args(["--operator-vkey", operator_vkey])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(server_log())
            .spawn()
            .unwrap();
        Server { child, port }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// Where a server's log goes: appended to the file named by
/// `ORETRACE_TEST_SERVER_LOG` when set (to see what a server said in a
/// failing run), else nowhere.
fn server_log() -> std::process::Stdio {
    match std::env::var_os("ORETRACE_TEST_SERVER_LOG") {
        Some(file) => std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(file)
            .map_or_else(|_| std::process::Stdio::null(), Into::into),
        None => std::process::Stdio::null(),
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The verifier key of a signing-key file.
pub fn vkey_of(key_file: &Path) -> String {
    let text = std::fs::read_to_string(key_file).unwrap();
    NoteSigner::from_skey(text.trim())
        .unwrap()
        .verifier()
        .to_vkey()
}
