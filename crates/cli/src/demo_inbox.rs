//! The demo's buyer inbox: USSM subscribes to the events of the lots
//! shipped to it (an EPCIS named query and a stream subscription, as any
//! buyer's platform would), and a receiver on loopback takes the pushed
//! deliveries, checks each one's `GS1-Signature` against the registry's
//! published key set before it believes it, and writes what arrived to
//! `buyer-inbox.jsonl` in the data directory.

use anyhow::Context as _;
use oretrace_tlog::note::NoteSigner;
use serde_json::json;

use crate::epcis_cmds::{answer_json, base, client, token};

/// The named query the buyer subscribes to.
pub const QUERY: &str = "ussm-inbound-lots";
/// The lots shipped to USSM in the scenario.
const LOTS: [&str; 2] = [
    "urn:oretrace:lot:fwo:sb-concentrate-0001",
    "urn:oretrace:lot:fwo:ree-concentrate-0001",
];

/// USSM's named query and subscription (made once: a data directory
/// already loaded keeps both). Returns the subscription's id.
pub fn subscribe(server: &str, ussm: &NoteSigner, inbox: &str) -> anyhow::Result<String> {
    let (bearer, _) = token(server, ussm)?;
    let http = client()?;
    let auth = format!("Bearer {bearer}");
    let existing = http
        .get(format!("{}/queries/{QUERY}", base(server)))
        .send()
        .context("reading the buyer's named query")?;
    if existing.status() == reqwest::StatusCode::NOT_FOUND {
        let defined = http
            .post(format!("{}/queries", base(server)))
            .header("authorization", &auth)
            .header("content-type", "application/json")
            .body(json!({"name": QUERY, "query": {"MATCH_anyEPCClass": LOTS}}).to_string())
            .send()
            .context("defining the buyer's named query")?;
        if !defined.status().is_success() {
            anyhow::bail!(
                "defining the buyer's named query: {} {}",
                defined.status(),
                defined.text().unwrap_or_default()
            );
        }
    }
    let path = format!("{}/queries/{QUERY}/subscriptions", base(server));
    let mine = answer_json(
        http.get(&path)
            .header("authorization", &auth)
            .send()
            .context("listing the buyer's subscriptions")?,
        "listing the buyer's subscriptions",
    )?;
    // A subscription from an earlier run points at that run's inbox:
    // ended, and made again for this one.
    for old in mine.as_array().into_iter().flatten() {
        if let Some(id) = old["subscriptionID"].as_str() {
            http.delete(format!("{path}/{id}"))
                .header("authorization", &auth)
                .send()
                .context("ending an earlier run's subscription")?;
        }
    }
    // From a day back: every event of the scenario captured in this run
    // (the log is minutes old), as it is pushed, not polled.
    let since = oretrace_epcis::format_timestamp_millis(
        i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis(),
        )
        .unwrap_or(0)
            - 24 * 3600 * 1000,
    )
    .context("formatting a time")?;
    let created = answer_json(
        http.post(&path)
            .header("authorization", &auth)
            .header("content-type", "application/json")
            .body(json!({"dest": inbox, "stream": true, "initialRecordTime": since}).to_string())
            .send()
            .context("subscribing the buyer")?,
        "subscribing the buyer",
    )?;
    created["subscriptionID"]
        .as_str()
        .map(str::to_owned)
        .context("the subscription answer has no subscriptionID")
}
