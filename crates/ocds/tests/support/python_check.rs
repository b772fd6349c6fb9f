//! The OCDS packages' independent check, shared by the tests that export
//! them (`#[path]`-included): the official schemas through the PyPI
//! `jsonschema` and the compiled release through the PyPI `ocdsmerge`
//! (`tests/ocds/check_packages.py`).

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

/// Schema errors and ocdsmerge's compiled releases, from the Python side;
/// `root` is the project root.
pub fn python_check(root: &Path, release_packages: &[Value], record_packages: &[Value]) -> Value {
    let python = root.join(".venv/interop/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run bash .ci/interop-env first (it installs the PyPI jsonschema and ocdsmerge packages)",
        python.display()
    );
    // The conformance data: $ORETRACE_CONFORMANCE_DIR, or `shared/conformance`
    // beside the checkout, as CI lays it out (as every other test reads it).
    let conformance = std::env::var_os("ORETRACE_CONFORMANCE_DIR")
        .filter(|d| !d.is_empty())
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/conformance"));
    let mut child = Command::new(&python)
        .arg(root.join("tests/ocds/check_packages.py"))
        .arg(conformance.join("ocds"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = json!({"release_packages": release_packages, "record_packages": record_packages})
        .to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    assert!(
        out.status.success(),
        "the OCDS check script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
