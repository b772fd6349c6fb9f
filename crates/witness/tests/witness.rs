//! The witness as a log sees it: every status code of `tlog-witness` v1
//! through the HTTP router, the race the spec warns of, a restart, a
//! forked log, and checkpoints with extension lines.

#![expect(
    clippy::unwrap_used,
    reason = "test code: a failure panics with the value's message"
)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt as _;

use oretrace_tlog::checkpoint::Checkpoint;
use oretrace_tlog::cosignature::Cosigner;
use oretrace_tlog::hash::{Hash, leaf_hash};
use oretrace_tlog::note::{NoteSigner, SignedNote};
use oretrace_tlog::policy::Policy;
use oretrace_tlog::tree::{MemoryTree, prove_consistency};
use oretrace_tlog::witness::{parse_cosignatures, parse_size, request_body};
use oretrace_witness::{AddError, State, Witness, origin_hash, router};

const ORIGIN: &str = "log.example/registry";

fn log_key() -> NoteSigner {
    NoteSigner::from_seed(ORIGIN, [11; 32]).unwrap()
}

fn cosigner() -> Cosigner {
    Cosigner::from_seed("witness.example/w1", [12; 32]).unwrap()
}

/// A log whose entries are `prefix 0`, `prefix 1`, …
fn tree(n: u64, prefix: &str) -> MemoryTree {
    let mut t = MemoryTree::new();
    for i in 0..n {
        t.append(leaf_hash(format!("{prefix} {i}").as_bytes()));
    }
    t
}

fn checkpoint_note(t: &MemoryTree, extensions: &str) -> Vec<u8> {
    let text = format!(
        "{}{extensions}",
        Checkpoint::new(ORIGIN, t.size(), t.root())
            .unwrap()
            .to_text()
    );
    log_key().sign(&text).unwrap().to_bytes()
}

fn witness_in(dir: &std::path::Path) -> Witness {
    let policy =
        Policy::parse_logs(format!("log {}\n", log_key().verifier().to_vkey()).as_bytes()).unwrap();
    Witness::new(cosigner(), &policy, State::open(dir).unwrap())
}

async fn post(w: &Arc<Witness>, body: Vec<u8>) -> (StatusCode, Option<String>, Vec<u8>) {
    let response = router(w.clone())
        .oneshot(
            Request::post("/add-checkpoint")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, content_type, bytes.to_vec())
}

#[tokio::test]
async fn every_answer_of_the_spec() {
    let dir = tempfile::tempdir().unwrap();
    let w = Arc::new(witness_in(dir.path()));
    let log = tree(40, "entry");
    let at = |n| tree(n, "entry");

    // First contact: old 0, no proof.
    let (status, _, body) = post(&w, request_body(0, &[], &checkpoint_note(&at(10), ""))).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let cosigs = parse_cosignatures(&body).unwrap();
    assert_eq!(cosigs.len(), 1);
    let mut note = SignedNote::parse(&checkpoint_note(&at(10), "")).unwrap();
    note.push_signature(cosigs[0].clone());
    let v = note.verify(cosigner().verifier()).unwrap();
    assert!(
        v.timestamp.unwrap() > 1_700_000_000,
        "a real, non-zero timestamp"
    );

    // 409 with the size held, as text/x.tlog.size.
    let (status, content_type, body) =
        post(&w, request_body(0, &[], &checkpoint_note(&at(20), ""))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(content_type.as_deref(), Some("text/x.tlog.size"));
    assert_eq!(parse_size(&body).unwrap(), 10);

    // 200 from the size held, with a proof.
    let proof = prove_consistency(10, 20, &log).unwrap();
    let (status, _, _) = post(&w, request_body(10, &proof, &checkpoint_note(&at(20), ""))).await;
    assert_eq!(status, StatusCode::OK);

    // 400: garbage, an old size above the checkpoint's, 64 proof lines.
    assert_eq!(
        post(&w, b"old x\n\n".to_vec()).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        post(&w, request_body(30, &[], &checkpoint_note(&at(25), "")))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    let many = vec![Hash([1; 32]); 64];
    assert_eq!(
        post(&w, request_body(20, &many, &checkpoint_note(&at(30), "")))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    // 413: a body past the bound.
    assert_eq!(
        post(&w, vec![b'a'; oretrace_tlog::witness::MAX_BODY_BYTES + 1])
            .await
            .0,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    // 403: signed by another key under the same name.
    let forger = NoteSigner::from_seed(ORIGIN, [13; 32]).unwrap();
    let forged = Checkpoint::new(ORIGIN, 30, at(30).root())
        .unwrap()
        .sign(&forger)
        .unwrap()
        .to_bytes();
    let proof = prove_consistency(20, 30, &log).unwrap();
    assert_eq!(
        post(&w, request_body(20, &proof, &forged)).await.0,
        StatusCode::FORBIDDEN
    );
    // 404: a log not witnessed here.
    let stranger = NoteSigner::from_seed("elsewhere.example/log", [14; 32]).unwrap();
    let unknown = Checkpoint::new("elsewhere.example/log", 30, at(30).root())
        .unwrap()
        .sign(&stranger)
        .unwrap()
        .to_bytes();
    assert_eq!(
        post(&w, request_body(0, &[], &unknown)).await.0,
        StatusCode::NOT_FOUND
    );
    // 422: a proof that does not verify.
    let wrong = prove_consistency(19, 30, &log).unwrap();
    assert_eq!(
        post(&w, request_body(20, &wrong, &checkpoint_note(&at(30), "")))
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // None of the refusals moved the state.
    assert_eq!(w.state().get(ORIGIN).unwrap().unwrap().witnessed.size, 20);

    // The monitoring URL serves the latest cosigned checkpoint.
    let response = router(w.clone())
        .oneshot(
            Request::get(format!("/{}/checkpoint", origin_hash(ORIGIN)))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let served = SignedNote::parse(&bytes).unwrap();
    let (cp, _) = Checkpoint::open(&bytes, &log_key().verifier()).unwrap();
    assert_eq!(cp.size(), 20);
    served.verify(cosigner().verifier()).unwrap();
    let response = router(w.clone())
        .oneshot(
            Request::get(format!("/{}/checkpoint", origin_hash("nope")))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[test]
fn a_forked_log_is_refused_and_the_state_kept() {
    let dir = tempfile::tempdir().unwrap();
    let w = witness_in(dir.path());
    let honest = tree(10, "entry");
    w.add_checkpoint(
        &request_body(0, &[], &checkpoint_note(&honest, "")),
        1_800_000_000,
    )
    .unwrap();
    // The fork shares no history with what was cosigned at size 10.
    let fork = tree(20, "forked");
    let proof = prove_consistency(10, 20, &fork).unwrap();
    let err = w
        .add_checkpoint(
            &request_body(10, &proof, &checkpoint_note(&fork, "")),
            1_800_000_001,
        )
        .unwrap_err();
    assert!(
        matches!(&err, AddError::Refused(r) if r.status() == 422),
        "{err}"
    );
    // And the same size with another root.
    let other = tree(10, "forked");
    let err = w
        .add_checkpoint(
            &request_body(10, &[], &checkpoint_note(&other, "")),
            1_800_000_002,
        )
        .unwrap_err();
    assert!(
        matches!(&err, AddError::Refused(r) if r.status() == 422),
        "{err}"
    );
    let held = w.state().get(ORIGIN).unwrap().unwrap();
    assert_eq!(held.witnessed.root, honest.root());
}

#[test]
fn concurrent_requests_from_one_size_are_never_both_cosigned() {
    let dir = tempfile::tempdir().unwrap();
    let w = Arc::new(witness_in(dir.path()));
    let log = tree(64, "entry");
    w.add_checkpoint(
        &request_body(0, &[], &checkpoint_note(&tree(8, "entry"), "")),
        1_800_000_000,
    )
    .unwrap();
    for round in 0..20 {
        let held = w.state().get(ORIGIN).unwrap().unwrap().witnessed.size;
        if held + 4 > 64 {
            break;
        }
        // Four requests race from the size held, each to another size.
        let handles: Vec<_> = (1..=4)
            .map(|k| {
                let w = w.clone();
                let next = tree(held + k, "entry");
                let proof = prove_consistency(held, held + k, &log).unwrap();
                let body = request_body(held, &proof, &checkpoint_note(&next, ""));
                std::thread::spawn(move || w.add_checkpoint(&body, 1_800_000_000 + round))
            })
            .collect();
        let outcomes: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let won = outcomes.iter().filter(|o| o.is_ok()).count();
        assert_eq!(won, 1, "round {round}: exactly one cosigned: {outcomes:?}");
        for o in &outcomes {
            if let Err(e) = o {
                assert!(
                    matches!(e, AddError::Refused(r) if r.status() == 409),
                    "{e}"
                );
            }
        }
    }
}

#[test]
fn a_restarted_witness_keeps_its_state() {
    let dir = tempfile::tempdir().unwrap();
    let log = tree(30, "entry");
    {
        let w = witness_in(dir.path());
        w.add_checkpoint(
            &request_body(0, &[], &checkpoint_note(&tree(12, "entry"), "")),
            1_800_000_000,
        )
        .unwrap();
    }
    let w = witness_in(dir.path());
    let err = w
        .add_checkpoint(
            &request_body(0, &[], &checkpoint_note(&log, "")),
            1_800_000_001,
        )
        .unwrap_err();
    assert!(
        matches!(&err, AddError::Refused(r) if r.body() == "12\n"),
        "{err}"
    );
    let proof = prove_consistency(12, 30, &log).unwrap();
    w.add_checkpoint(
        &request_body(12, &proof, &checkpoint_note(&log, "")),
        1_800_000_002,
    )
    .unwrap();
}

#[test]
fn checkpoints_with_extension_lines_are_witnessed_with_them() {
    let dir = tempfile::tempdir().unwrap();
    let w = witness_in(dir.path());
    let t = tree(5, "entry");
    let note = checkpoint_note(&t, "ext one\next two\n");
    let body = w
        .add_checkpoint(&request_body(0, &[], &note), 1_800_000_000)
        .unwrap();
    let mut cosigned = SignedNote::parse(&note).unwrap();
    cosigned.push_signature(parse_cosignatures(body.as_bytes()).unwrap().remove(0));
    // The cosignature covers the extension lines: the whole note text.
    cosigned.verify(cosigner().verifier()).unwrap();
    assert!(cosigned.text().ends_with("ext two\n"));
}

/// A client that sends headers and then trickles (or withholds) its body
/// is answered 408 once the request timeout passes, freeing its slot.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withheld_body_is_answered_408() {
    use std::io::{Read as _, Write as _};
    let dir = tempfile::tempdir().unwrap();
    let w = Arc::new(witness_in(dir.path()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(oretrace_witness::serve(w, listener, std::future::pending()));
    let answer = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(address).unwrap();
        s.write_all(
            b"POST /add-checkpoint HTTP/1.1\r\nHost: w\r\nContent-Length: 100\r\n\r\nold 0\n",
        )
        .unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        let started = std::time::Instant::now();
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).unwrap();
        (
            String::from_utf8_lossy(&buf[..n]).into_owned(),
            started.elapsed(),
        )
    })
    .await
    .unwrap();
    assert!(answer.0.starts_with("HTTP/1.1 408"), "{}", answer.0);
    assert!(answer.1 >= oretrace_witness::REQUEST_TIMEOUT - std::time::Duration::from_secs(1));
}

/// A client that never finishes its request headers is disconnected once
/// the header timeout passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unfinished_headers_are_cut_off() {
    use std::io::{Read as _, Write as _};
    let dir = tempfile::tempdir().unwrap();
    let w = Arc::new(witness_in(dir.path()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(oretrace_witness::serve(w, listener, std::future::pending()));
    let (read, took) = tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(address).unwrap();
        s.write_all(b"POST /add-checkpoint HTTP/1.1\r\nHost: w\r\n")
            .unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        let started = std::time::Instant::now();
        let mut buf = [0u8; 256];
        let read = s
            .read(&mut buf)
            .map(|n| String::from_utf8_lossy(&buf[..n]).into_owned());
        (read, started.elapsed())
    })
    .await
    .unwrap();
    // Closed (or answered with an error status), not left open.
    assert!(
        read.as_ref()
            .is_ok_and(|r| r.is_empty() || r.starts_with("HTTP/1.1 4")),
        "{read:?}"
    );
    assert!(took < std::time::Duration::from_secs(25), "{took:?}");
    assert!(took >= oretrace_witness::HEADER_TIMEOUT - std::time::Duration::from_secs(1));
}
