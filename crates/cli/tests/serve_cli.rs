//! `oretrace serve` as a newcomer starts it: every new data directory
//! gets a log origin of its own, so one auditor memory verifies any
//! number of registries (a directory keeps its origin, and `--origin`
//! names one for a new log); an address in use says how to choose another.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

mod support;

use std::path::Path;

use support::{Server, free_port, oretrace, path, vkey};

fn served_vkey(server: &Server) -> String {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::get(format!("{}/vkey", server.base()))
        .unwrap()
        .text()
        .unwrap()
        .trim()
        .to_owned()
}

fn origin_of(vkey: &str) -> String {
    vkey.split('+').next().unwrap().to_owned()
}

fn audit(server: &Server, vkey: &str, state: &Path) -> support::Run {
    oretrace(&[
        "verify",
        &server.base(),
        "--vkey",
        vkey,
        "--state",
        path(state),
    ])
}

#[test]
fn each_new_data_directory_gets_an_origin_of_its_own() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let operator = vkey(9);
    let mut origins = Vec::new();
    for name in ["a", "b"] {
        let server = Server::start(&tmp.path().join(name), free_port(), &operator);
        let vkey = served_vkey(&server);
        let origin = origin_of(&vkey);
        let suffix = origin.strip_prefix("oretrace.example/log/").unwrap();
        assert!(
            suffix.len() == 8 && suffix.bytes().all(|b| b.is_ascii_hexdigit()),
            "{origin}"
        );
        // One auditor memory verifies both registries.
        let run = audit(&server, &vkey, &state);
        assert_eq!(run.code, 0, "{name}: {}{}", run.stdout, run.stderr);
        origins.push(origin);
    }
    assert_ne!(origins[0], origins[1]);

    // A directory keeps its origin on restart, with or without --origin
    // naming it; another --origin is refused and the log stays as it was.
    let a = tmp.path().join("a");
    let server = Server::start(&a, free_port(), &operator);
    assert_eq!(origin_of(&served_vkey(&server)), origins[0]);
    drop(server);
    let server = Server::start_with(&a, free_port(), &operator, &["--origin", &origins[0]]);
    assert_eq!(origin_of(&served_vkey(&server)), origins[0]);
    drop(server);
    let run = oretrace(&[
        "serve",
        "--data",
        path(&a),
        "--operator-vkey",
        &operator,
        "--origin",
        "example.org/other",
        "--listen",
        &format!("127.0.0.1:{}", free_port()),
    ]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(&format!(
            "--origin example.org/other: the log in {} already has the origin {}",
            a.display(),
            origins[0]
        )) && run.stderr.contains("give a new --data directory"),
        "{}",
        run.stderr
    );

    // --origin names a new directory's log.
    let server = Server::start_with(
        &tmp.path().join("c"),
        free_port(),
        &operator,
        &["--origin", "example.org/registry"],
    );
    let vkey = served_vkey(&server);
    assert_eq!(origin_of(&vkey), "example.org/registry");
    let run = audit(&server, &vkey, &state);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn an_address_in_use_says_how_to_choose_another() {
    let tmp = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    let run = oretrace(&[
        "serve",
        "--data",
        path(&tmp.path().join("data")),
        "--operator-vkey",
        &vkey(9),
        "--listen",
        &listen,
    ]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(&format!("listening on {listen}: "))
            && run
                .stderr
                .contains("(choose another with --listen 127.0.0.1:PORT)"),
        "{}",
        run.stderr
    );
}
