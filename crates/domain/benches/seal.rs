//! Sealing and revealing an agreement text clause by clause
//! (`oretrace_domain::disclosure`), against raw SHA-256 over the same bytes
//! measured in the same run (the machines are shared and noisy, so only
//! the ratio is comparable between runs).
//!
//! * **seal**: `Sealed::new` over n clauses (a commitment per clause and
//!   the RFC 6962 tree over them);
//! * **reveal + verify all**: an inclusion proof per clause from the sealed
//!   tree, and `verify_clause` of each;
//! * **bound, raw SHA-256**: `sha2::Sha256::digest` of each clause's
//!   committed bytes (prefix, index, salt, text): the irreducible cost.
//!
//! Full form (`cargo bench -p oretrace-domain --bench seal`): 10,000
//! clauses of about 600 bytes, median of 9 interleaved runs. Quick form
//! (`-- --test`, `cargo test --benches`, nextest: one test,
//! `quick_form_with_its_checks`): 200 clauses, 3 runs, and the check that
//! every clause verifies and a changed one does not.

#![expect(
    clippy::unwrap_used,
    reason = "a benchmark stops with the message of whatever broke its setup"
)]

use oretrace_benchkit::{interleaved, plain_bench, quick_mode, time};
use oretrace_domain::disclosure::{CLAUSE_PREFIX, Salt, Sealed, verify_clause};
use sha2::{Digest as _, Sha256};

fn clauses(n: usize) -> Vec<(Salt, String)> {
    (0..n)
        .map(|i| {
            let salt: Salt = oretrace_tlog::hash::sha256(format!("salt {i}").as_bytes());
            let text = format!(
                "Article {i}. The parties shall cooperate on the exploration, extraction, \
                 processing and refining of critical minerals, including antimony, copper \
                 and rare earth elements, under the terms set out in this clause and in the \
                 annexes, subject to the laws of each party and to the milestones agreed \
                 in the schedule, with reports every quarter (illustrative text {i}). {}",
                "x".repeat(i % 97)
            );
            (salt, text)
        })
        .collect()
}

fn committed_bytes(i: usize, salt: &Salt, text: &str) -> Vec<u8> {
    let mut b = CLAUSE_PREFIX.to_vec();
    b.push(0);
    b.extend_from_slice(&(i as u32).to_be_bytes());
    b.extend_from_slice(salt);
    b.extend_from_slice(text.as_bytes());
    b
}

fn main() {
    if !plain_bench("quick_form_with_its_checks") {
        return;
    }
    let quick = quick_mode();
    let (n, reps) = if quick { (200, 3) } else { (10_000, 9) };
    let owned = clauses(n);
    let pairs: Vec<(Salt, &str)> = owned.iter().map(|(s, t)| (*s, t.as_str())).collect();
    let bytes: Vec<Vec<u8>> = owned
        .iter()
        .enumerate()
        .map(|(i, (s, t))| committed_bytes(i, s, t))
        .collect();
    let total: usize = bytes.iter().map(Vec::len).sum();

    // The checks: every clause opens, a changed one does not.
    let sealed = Sealed::new(&pairs).unwrap();
    for (i, (s, t)) in pairs.iter().enumerate() {
        let proof = sealed.proof(i as u64).unwrap();
        verify_clause(&sealed.root(), sealed.count(), i as u64, s, t, &proof).unwrap();
        let changed = format!("{t} ");
        assert!(
            verify_clause(
                &sealed.root(),
                sealed.count(),
                i as u64,
                s,
                &changed,
                &proof
            )
            .is_err()
        );
    }

    let seal = || time(|| Sealed::new(&pairs).unwrap().root());
    let reveal = || {
        time(|| {
            for (i, (s, t)) in pairs.iter().enumerate() {
                let proof = sealed.proof(i as u64).unwrap();
                verify_clause(&sealed.root(), sealed.count(), i as u64, s, t, &proof).unwrap();
            }
        })
    };
    let raw = || {
        time(|| {
            bytes
                .iter()
                .map(|b| Sha256::digest(b)[0])
                .fold(0u8, u8::wrapping_add)
        })
    };
    let [t_seal, t_reveal, t_raw] = interleaved(reps, [&seal, &reveal, &raw]);
    println!(
        "== sealed agreement texts: {n} clauses, {total} committed bytes, median of {reps} interleaved runs{} ==",
        if quick {
            " (quick form: figures not to be quoted)"
        } else {
            ""
        }
    );
    println!(
        "{:<44} {:>10} {:>12} {:>8}",
        "benchmark", "ms", "clauses/s", "ratio"
    );
    for (name, t) in [
        ("bound: raw SHA-256 of the committed bytes", t_raw),
        ("seal (commitments + RFC 6962 tree)", t_seal),
        ("reveal + verify every clause", t_reveal),
    ] {
        println!(
            "{name:<44} {:>10.2} {:>12.0} {:>8.3}",
            t * 1e3,
            n as f64 / t,
            t_raw / t
        );
    }
    println!("ratio = raw SHA-256 time / time (1.000 = as fast as hashing the bytes once)");
}
