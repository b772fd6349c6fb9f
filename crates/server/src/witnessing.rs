//! The log's side of witnessing (`docs/design/witness.md`): after each new
//! checkpoint, every witness of the policy that has a URL is asked, in
//! parallel and each with a timeout, to cosign it (C2SP `tlog-witness`
//! v1), with a consistency proof from the size that witness last cosigned
//! (learned from a 409 when not known). Once the cosignatures that verify
//! meet the policy's quorum, the cosigned checkpoint is the one `GET
//! /checkpoint` serves; until then the last one that met it stays served.
//! A witness that is down or slow never blocks an append: this runs beside
//! the sequencer, and `/healthz` says which witness failed and why.

use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, Instant};

use serde::Serialize;

use oretrace_ledger::Store;
use oretrace_ledger::ledger::Ledger;
use oretrace_tlog::note::{NoteSignature, NoteVerifier, SignedNote};
use oretrace_tlog::policy::Policy;
use oretrace_tlog::witness::{parse_cosignatures, parse_size, request_body};

/// How long one witness may take to answer.
pub const WITNESS_TIMEOUT: Duration = Duration::from_secs(5);
/// How often the published checkpoint is looked at.
const POLL: Duration = Duration::from_millis(200);
/// How soon a round that missed the quorum is tried again.
const RETRY: Duration = Duration::from_secs(2);

/// One witness as the log last saw it.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct WitnessStatus {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    /// The largest size it cosigned for this log (as far as known).
    #[serde(skip_serializing_if = "Option::is_none")]
    cosigned_size: Option<u64>,
    /// Why the last request got no cosignature.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Debug)]
struct Inner {
    /// The latest checkpoint note that met the quorum, and its size.
    cosigned: Option<(u64, Vec<u8>)>,
    /// The witnesses (by name) whose cosignatures it carries.
    cosigned_by: Vec<String>,
    witnesses: Vec<WitnessStatus>,
}

/// The witnessing state a server shares between its handlers and the
/// task that asks the witnesses.
#[derive(Debug)]
pub(crate) struct Witnessing {
    policy: &'static Policy,
    inner: Mutex<Inner>,
}

impl Witnessing {
    pub(crate) fn new(policy: &'static Policy) -> Self {
        let witnesses = policy
            .witnesses()
            .iter()
            .map(|w| WitnessStatus {
                name: w.name.clone(),
                url: w.url.clone(),
                cosigned_size: None,
                error: w
                    .url
                    .is_none()
                    .then(|| "no URL in the policy: it cannot be asked".to_owned()),
            })
            .collect();
        Witnessing {
            policy,
            inner: Mutex::new(Inner {
                cosigned: None,
                cosigned_by: Vec::new(),
                witnesses,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The latest checkpoint note that met the quorum, if any did.
    pub(crate) fn cosigned(&self) -> Option<(u64, Vec<u8>)> {
        self.lock().cosigned.clone()
    }

    /// The size of the latest checkpoint a quorum cosigned, and by whom.
    pub(crate) fn cosigned_by(&self) -> Option<(u64, Vec<String>)> {
        let inner = self.lock();
        inner
            .cosigned
            .as_ref()
            .map(|(size, _)| (*size, inner.cosigned_by.clone()))
    }

    /// The witnessing lines of `/metrics` (Prometheus text format).
    pub(crate) fn metrics(&self) -> String {
        let inner = self.lock();
        let label = |name: &str| name.replace('\\', "\\\\").replace('"', "\\\"");
        let mut out = String::from(
            "# HELP oretrace_cosigned_size Entries covered by the latest checkpoint the witness policy's quorum cosigned (the one /checkpoint serves).\n\
             # TYPE oretrace_cosigned_size gauge\n",
        );
        out.push_str(&format!(
            "oretrace_cosigned_size {}\n",
            inner.cosigned.as_ref().map_or(0, |(s, _)| *s)
        ));
        out.push_str(
            "# HELP oretrace_witness_cosigned_size The largest size each witness is known to have cosigned.\n\
             # TYPE oretrace_witness_cosigned_size gauge\n",
        );
        for w in &inner.witnesses {
            out.push_str(&format!(
                "oretrace_witness_cosigned_size{{witness=\"{}\"}} {}\n",
                label(&w.name),
                w.cosigned_size.unwrap_or(0)
            ));
        }
        out.push_str(
            "# HELP oretrace_witness_up 1 when the witness cosigned the log's last request to it, 0 when that request failed (see /healthz for why).\n\
             # TYPE oretrace_witness_up gauge\n",
        );
        for w in &inner.witnesses {
            out.push_str(&format!(
                "oretrace_witness_up{{witness=\"{}\"}} {}\n",
                label(&w.name),
                u8::from(w.error.is_none())
            ));
        }
        out
    }

    /// What `/healthz` says of the witnesses.
    pub(crate) fn health(&self) -> serde_json::Value {
        let inner = self.lock();
        serde_json::json!({
            "cosigned_size": inner.cosigned.as_ref().map(|(s, _)| *s),
            "witnesses": inner.witnesses,
        })
    }
}

/// Starts asking the witnesses, for as long as the ledger lives.
pub(crate) fn spawn<S: Store>(ledger: &Arc<Ledger<S>>, witnessing: Arc<Witnessing>) {
    let weak = Arc::downgrade(ledger);
    tokio::spawn(run(weak, witnessing));
}

async fn run<S: Store>(ledger: Weak<Ledger<S>>, w: Arc<Witnessing>) {
    // reqwest is built without a default TLS provider; an https witness
    // needs one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = match reqwest::Client::builder().timeout(WITNESS_TIMEOUT).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "no HTTP client: witnesses will not be asked");
            return;
        }
    };
    let mut last_round: Option<(u64, Instant)> = None;
    loop {
        let Some(l) = ledger.upgrade() else {
            return;
        };
        let published = tokio::task::spawn_blocking({
            let l = l.clone();
            move || l.checkpoint()
        })
        .await;
        if let Ok(Ok((checkpoint, note))) = published {
            let size = checkpoint.size();
            let covered = w.cosigned().is_some_and(|(s, _)| s == size);
            let due = match last_round {
                Some((s, at)) => s != size || at.elapsed() >= RETRY,
                None => true,
            };
            if !covered && due {
                last_round = Some((size, Instant::now()));
                round(&l, &w, &client, size, note).await;
            }
        }
        drop(l);
        tokio::time::sleep(POLL).await;
    }
}

/// Asks every witness with a URL to cosign `note` (of size `size`);
/// publishes the cosigned note if the quorum is met.
async fn round<S: Store>(
    ledger: &Arc<Ledger<S>>,
    w: &Arc<Witnessing>,
    client: &reqwest::Client,
    size: u64,
    note: Vec<u8>,
) {
    let mut tasks = tokio::task::JoinSet::new();
    let known: Vec<Option<u64>> = w.lock().witnesses.iter().map(|s| s.cosigned_size).collect();
    for (i, pw) in w.policy.witnesses().iter().enumerate() {
        let Some(url) = pw.url.clone() else {
            continue;
        };
        let (ledger, client, key, note) =
            (ledger.clone(), client.clone(), pw.key.clone(), note.clone());
        let held = known.get(i).copied().flatten();
        tasks.spawn(async move {
            let outcome = ask(&ledger, &client, &url, &key, held, size, &note).await;
            (i, outcome)
        });
    }
    let mut cosignatures: Vec<NoteSignature> = Vec::new();
    let mut names: Vec<&str> = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let Ok((i, outcome)) = joined else {
            continue;
        };
        let mut inner = w.lock();
        let Some(status) = inner.witnesses.get_mut(i) else {
            continue;
        };
        match outcome {
            Ok(signature) => {
                status.cosigned_size = Some(size);
                status.error = None;
                cosignatures.push(signature);
                if let Some(pw) = w.policy.witnesses().get(i) {
                    names.push(pw.name.as_str());
                }
            }
            Err((why, learned)) => {
                if learned.is_some() {
                    status.cosigned_size = learned;
                }
                tracing::warn!(witness = %status.name, size, error = %why, "no cosignature");
                status.error = Some(why);
            }
        }
    }
    if !w.policy.quorum_met(&names) {
        return;
    }
    let Ok(mut cosigned) = SignedNote::parse(&note) else {
        return;
    };
    for s in cosignatures {
        cosigned.push_signature(s);
    }
    let mut inner = w.lock();
    // A slower round never replaces a larger checkpoint already cosigned.
    if inner.cosigned.as_ref().is_none_or(|(s, _)| *s <= size) {
        inner.cosigned = Some((size, cosigned.to_bytes()));
        inner.cosigned_by = names.iter().map(|n| (*n).to_owned()).collect();
        tracing::info!(size, witnesses = ?names, "checkpoint cosigned by a quorum");
    }
}

/// One witness's cosignature on `note`, or why not (and the size it
/// holds, when it said).
async fn ask<S: Store>(
    ledger: &Arc<Ledger<S>>,
    client: &reqwest::Client,
    url: &str,
    key: &NoteVerifier,
    known: Option<u64>,
    size: u64,
    note: &[u8],
) -> Result<NoteSignature, (String, Option<u64>)> {
    let endpoint = format!("{}/add-checkpoint", url.trim_end_matches('/'));
    let mut old = known.unwrap_or(0);
    let mut learned = known;
    // Once from what is known, once more from what a 409 told.
    for _ in 0..2 {
        if old > size {
            return Err((
                format!(
                    "the witness holds size {old}, beyond this log's {size}: it has seen another history of this log"
                ),
                learned,
            ));
        }
        let proof = if old == 0 || old == size {
            Vec::new()
        } else {
            let l = ledger.clone();
            match tokio::task::spawn_blocking(move || l.consistency_proof(old, size)).await {
                Ok(Ok(p)) => p,
                Ok(Err(e)) => return Err((format!("no consistency proof: {e}"), learned)),
                Err(e) => return Err((format!("no consistency proof: {e}"), learned)),
            }
        };
        let response = client
            .post(&endpoint)
            .body(request_body(old, &proof, note))
            .send()
            .await
            .map_err(|e| (format!("{endpoint}: {e}"), learned))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| (format!("{endpoint}: {e}"), learned))?;
        match status {
            200 => {
                let lines = parse_cosignatures(&body).map_err(|e| {
                    (
                        format!("a 200 answer that is not signature lines: {e}"),
                        learned,
                    )
                })?;
                let mut checked = SignedNote::parse(note)
                    .map_err(|e| (format!("the checkpoint note: {e}"), learned))?;
                let received: Vec<String> = lines
                    .iter()
                    .map(|s| format!("{}+{:08x}", s.name, s.key_id))
                    .collect();
                let mine = lines
                    .into_iter()
                    .find(|s| s.name == key.name() && s.key_id == key.key_id())
                    .ok_or_else(|| {
                        (
                            format!(
                                "no cosignature by the policy's key {}+{:08x} for this witness (the answer carries {})",
                                key.name(),
                                key.key_id(),
                                received.join(", ")
                            ),
                            learned,
                        )
                    })?;
                checked.push_signature(mine.clone());
                checked
                    .verify(key)
                    .map_err(|e| (format!("its cosignature does not verify: {e}"), learned))?;
                return Ok(mine);
            }
            409 => {
                let held = parse_size(&body)
                    .map_err(|e| (format!("a 409 answer without a size: {e}"), learned))?;
                learned = Some(held);
                old = held;
            }
            other => {
                let text = String::from_utf8_lossy(&body);
                let text: String = text.trim().chars().take(200).collect();
                return Err((format!("{other}: {text}"), learned));
            }
        }
    }
    Err((
        "the witness's size changed twice while it was asked".to_owned(),
        learned,
    ))
}
