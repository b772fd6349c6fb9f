//! Witness throughput and the latency a quorum adds, each against a bound
//! measured in the same run (`docs/design/witness.md`; BENCHMARKS.md).
//!
//! * **Throughput**: `Witness::add_checkpoint` on one thread, each request
//!   advancing the witness by 16 entries of a 1,000,000-entry log (a
//!   consistency proof of about 20 hashes), the state durable on disk
//!   (SQLite WAL, `synchronous=FULL`: a commit per request). Bound: what
//!   each request must do at the least, one Ed25519 verification of the
//!   log's signature and one Ed25519 signature (ed25519-dalek, the same
//!   message sizes), in the same run.
//! * **Latency**: three witnesses served over HTTP on loopback, asked in
//!   parallel (as `oretrace serve --witness-policy` does) to cosign the
//!   next checkpoint; the time until all three have answered. Bound: one
//!   HTTP round trip to the same witnesses (`GET /`, three in parallel).
//!
//! `cargo bench -p oretrace-witness --bench witness`; quick form (`--
//! --test`, `cargo test --benches`): 200 requests, its checks only.

#![expect(
    clippy::expect_used,
    reason = "a benchmark stops with the message of whatever broke its setup"
)]

use std::sync::Arc;

use ed25519_dalek::{Signer as _, SigningKey, Verifier as _};
use oretrace_tlog::checkpoint::Checkpoint;
use oretrace_tlog::cosignature::Cosigner;
use oretrace_tlog::hash::leaf_hash;
use oretrace_tlog::note::NoteSigner;
use oretrace_tlog::policy::Policy;
use oretrace_tlog::tree::{MemoryTree, prove_consistency};
use oretrace_tlog::witness::request_body;
use oretrace_witness::{State, Witness};

const ORIGIN: &str = "bench.example/log";
const STEP: u64 = 16;

fn witness(dir: &std::path::Path, log: &NoteSigner, seed: u8) -> Witness {
    let policy = Policy::parse_logs(format!("log {}\n", log.verifier().to_vkey()).as_bytes())
        .expect("a log list");
    Witness::new(
        Cosigner::from_seed(&format!("bench.example/w{seed}"), [seed; 32]).expect("a key"),
        &policy,
        State::open(dir).expect("the state"),
    )
}

/// `n` request bodies, each from the size the previous one reached.
fn requests(
    tree: &MemoryTree,
    roots: &[oretrace_tlog::hash::Hash],
    log: &NoteSigner,
    start: u64,
    n: usize,
) -> Vec<Vec<u8>> {
    (0..n as u64)
        .map(|i| {
            let old = start + i * STEP;
            let new = old + STEP;
            let note = Checkpoint::new(ORIGIN, new, roots[new as usize])
                .expect("a checkpoint")
                .sign(log)
                .expect("signed")
                .to_bytes();
            let proof = prove_consistency(old, new, tree).expect("a proof");
            request_body(old, &proof, &note)
        })
        .collect()
}

fn main() {
    if !oretrace_benchkit::plain_bench("quick_form_with_its_checks") {
        return;
    }
    let quick = oretrace_benchkit::quick_mode();
    let (size, n, reps) = if quick {
        (20_000u64, 200usize, 1)
    } else {
        (1_000_000, 2_000, 5)
    };
    let log = NoteSigner::from_seed(ORIGIN, [1; 32]).expect("a log key");
    let mut tree = MemoryTree::new();
    let mut roots = vec![oretrace_tlog::hash::EMPTY_ROOT];
    for i in 0..size {
        tree.append(leaf_hash(format!("entry {i}").as_bytes()));
        roots.push(tree.root());
    }
    // The witnesses first see the log at half its size.
    let start = size / 2;
    let first = Checkpoint::new(ORIGIN, start, roots[start as usize])
        .expect("a checkpoint")
        .sign(&log)
        .expect("signed")
        .to_bytes();
    let per_rep = n / reps;

    // Throughput, interleaved with the bound.
    let tmp = oretrace_benchkit::fresh_dir("witness");
    let mut witness_secs = Vec::new();
    let mut bound_secs = Vec::new();
    let key = SigningKey::from_bytes(&[9; 32]);
    let verifying = key.verifying_key();
    let message = vec![b'x'; 120];
    let signature = key.sign(&message);
    for rep in 0..reps {
        let w = witness(&tmp.path().join(format!("t{rep}")), &log, 2);
        w.add_checkpoint(&request_body(0, &[], &first), 1_800_000_000)
            .expect("first contact");
        let bodies = requests(&tree, &roots, &log, start, per_rep);
        witness_secs.push(oretrace_benchkit::time(|| {
            for b in &bodies {
                w.add_checkpoint(b, 1_800_000_001).expect("cosigned");
            }
        }));
        bound_secs.push(oretrace_benchkit::time(|| {
            for _ in 0..per_rep {
                verifying.verify(&message, &signature).expect("verifies");
                std::hint::black_box(key.sign(&message));
            }
        }));
        let held = w.state().get(ORIGIN).expect("state").expect("held");
        assert_eq!(
            held.witnessed.size,
            start + per_rep as u64 * STEP,
            "every request advanced it"
        );
    }
    let (ws, bs) = (
        oretrace_benchkit::median(witness_secs),
        oretrace_benchkit::median(bound_secs),
    );
    println!(
        "== witness throughput: {per_rep} add-checkpoint requests per run, {reps} runs, one thread, state on disk ({}) ==",
        oretrace_benchkit::filesystem_type(tmp.path()).unwrap_or_default()
    );
    println!("{:<58} {:>12} {:>10}", "", "requests/s", "ratio");
    println!(
        "{:<58} {:>12.0} {:>10}",
        "bound: Ed25519 verify + sign (ed25519-dalek)",
        per_rep as f64 / bs,
        "1"
    );
    println!(
        "{:<58} {:>12.0} {:>10.4}",
        "Witness::add_checkpoint (parse, verify, proof, sign, commit)",
        per_rep as f64 / ws,
        bs / ws
    );

    // Latency of a quorum of three over HTTP on loopback.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let mut urls = Vec::new();
    for i in 0..3u8 {
        let w = Arc::new(witness(&tmp.path().join(format!("h{i}")), &log, 10 + i));
        w.add_checkpoint(&request_body(0, &[], &first), 1_800_000_000)
            .expect("first contact");
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("a port");
        urls.push(format!(
            "http://{}",
            listener.local_addr().expect("an address")
        ));
        runtime.spawn(oretrace_witness::serve(
            w,
            listener,
            std::future::pending::<()>(),
        ));
    }
    let rounds = if quick { 50 } else { 500 };
    let bodies = requests(&tree, &roots, &log, start, rounds);
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let (mut round_secs, mut rtt_secs) = (Vec::new(), Vec::new());
    runtime.block_on(async {
        for body in &bodies {
            let t = std::time::Instant::now();
            let asks = urls.iter().map(|u| {
                client
                    .post(format!("{u}/add-checkpoint"))
                    .body(body.clone())
                    .send()
            });
            for r in futures_util::future::join_all(asks).await {
                assert_eq!(r.expect("an answer").status().as_u16(), 200);
            }
            round_secs.push(t.elapsed().as_secs_f64());
            let t = std::time::Instant::now();
            let pings = urls.iter().map(|u| client.get(format!("{u}/")).send());
            for r in futures_util::future::join_all(pings).await {
                assert_eq!(r.expect("an answer").status().as_u16(), 200);
            }
            rtt_secs.push(t.elapsed().as_secs_f64());
        }
    });
    let p = |xs: &mut Vec<f64>, q: f64| {
        xs.sort_by(f64::total_cmp);
        xs[((xs.len() as f64 - 1.0) * q).round() as usize] * 1e3
    };
    let (r50, r99, b50, b99) = (
        p(&mut round_secs, 0.5),
        p(&mut round_secs, 0.99),
        p(&mut rtt_secs, 0.5),
        p(&mut rtt_secs, 0.99),
    );
    println!(
        "== latency to a checkpoint cosigned by three witnesses on loopback, {rounds} rounds =="
    );
    println!(
        "{:<58} {:>8} {:>8} {:>10}",
        "", "p50 ms", "p99 ms", "ratio p50"
    );
    println!(
        "{:<58} {b50:>8.3} {b99:>8.3} {:>10}",
        "bound: GET / to the three in parallel", "1"
    );
    println!(
        "{:<58} {r50:>8.3} {r99:>8.3} {:>10.4}",
        "add-checkpoint to the three in parallel, all answered",
        b50 / r50
    );
    if quick {
        println!("quick form: figures not to be quoted");
    }
}
