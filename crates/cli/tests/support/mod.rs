//! Shared helpers for the command-line tests: run the binary, build logs,
//! serve a folder over HTTP on a loopback port.

#![allow(dead_code)]

use std::io::{BufRead as _, BufReader, Write as _};
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
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Serves `root` as static files on 127.0.0.1 (GET only, 404 when absent)
/// from a background thread; returns the base URL.
pub fn serve_folder(root: &Path) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let root = root.to_owned();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let root = root.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
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
    url
}
