//! The EPCIS 2.0 REST interface: capture (`/capture`, `POST /events`),
//! query (`GET /events`, the resource paths, named queries) and the
//! bearer-token authentication capture clients use (`/auth/…`).
//!
//! Every captured event becomes one log entry (a
//! [`oretrace_domain::event::CapturedEvent`] signed by the log key) and is
//! authorised by the ledger like any other record.

pub(crate) mod auth;
pub(crate) mod capture;
pub(crate) mod deliver;
pub(crate) mod discovery;
pub(crate) mod query;
pub(crate) mod socket;
pub(crate) mod subscribe;

pub use capture::{CAPTURE_SLOTS, SLOTS_PER_PARTY, UNPROVEN_SLOTS, UNPROVEN_SLOTS_PER_PARTY};

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::ApiError;

/// The EPCIS and CBV versions this repository speaks.
pub const EPCIS_VERSION: &str = "2.0.0";
pub const CBV_VERSION: &str = "2.0.0";

/// The GS1 JSON-LD context every document oretrace writes starts with.
pub const GS1_CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";

/// Adds the version headers every EPCIS response carries.
pub(crate) fn with_versions(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert("GS1-EPCIS-Version", HeaderValue::from_static(EPCIS_VERSION));
    h.insert("GS1-CBV-Version", HeaderValue::from_static(CBV_VERSION));
    response
}

/// Whether `path` is one of the binding's resources (the official OpenAPI
/// document's paths): `/`, a top-level resource and what is below it, or
/// a page token.
pub(crate) fn is_binding_path(path: &str) -> bool {
    path == "/"
        || path
            .strip_prefix('/')
            .and_then(|rest| rest.split('/').next())
            .is_some_and(|root| discovery::TOP_LEVEL.contains(&root) || root == "nextPageToken")
}

/// The layer over the whole application that makes the binding's paths
/// speak the binding: every error there becomes the problem of its
/// standard exception (`epcisException:…`, [`ApiError::exception`]),
/// whichever layer or handler raised it, and every answer carries the
/// version headers. Other paths keep oretrace's own problem types.
pub(crate) async fn binding_exceptions(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let binding = is_binding_path(&path);
    // The version a request asks for, on every binding resource.
    let refused = if binding {
        check_versions(request.headers())
            .and_then(|()| check_negotiation(request.headers()))
            .err()
    } else {
        None
    };
    let mut response = match refused {
        Some(refusal) => refusal.into_response(),
        None => next.run(request).await,
    };
    let raised = response.extensions_mut().remove::<crate::error::Raised>();
    if !binding {
        return response;
    }
    if let Some(mut raised) = raised {
        // A body over the limit is a capture's limit only on capture
        // paths; a named query's definition is a query too large.
        if raised.exception.name == "CaptureLimitExceededException"
            && !(path.starts_with("/capture") || path == "/events")
        {
            raised.exception.name = "QueryTooLargeException";
        }
        let problem = raised.binding_problem();
        *response.status_mut() = raised.exception.status;
        response
            .headers_mut()
            .remove(axum::http::header::CONTENT_LENGTH);
        *response.body_mut() =
            axum::body::Body::from(serde_json::to_vec(&problem).unwrap_or_default());
    }
    with_versions(response)
}

/// Refuses a request that asks for EPCIS or CBV versions other than 2.0
/// (`GS1-EPCIS-Version`, `GS1-CBV-Version`, or a `-Min`/`-Max` range that
/// excludes 2.0.0).
pub(crate) fn check_versions(headers: &HeaderMap) -> Result<(), ApiError> {
    for (name, wanted) in [
        ("GS1-EPCIS-Version", EPCIS_VERSION),
        ("GS1-CBV-Version", CBV_VERSION),
    ] {
        if let Some(v) = once(headers, name)? {
            // An empty header states no version, like an absent one.
            if v.is_empty() {
                continue;
            }
            // 2.0 and any 2.0.x.
            let speaks = version(v).is_some_and(|parts| parts.len() >= 2 && parts[..2] == [2, 0]);
            if !speaks {
                return Err(ApiError::NotAcceptable(format!(
                    "{name} {:?} is not supported: this repository speaks {wanted}",
                    crate::error::echo(v)
                )));
            }
        }
    }
    for (min, max) in [
        ("GS1-EPCIS-Min", "GS1-EPCIS-Max"),
        ("GS1-CBV-Min", "GS1-CBV-Max"),
    ] {
        for (name, excludes) in [
            (min, std::cmp::Ordering::Greater),
            (max, std::cmp::Ordering::Less),
        ] {
            if let Some(v) = once(headers, name)? {
                let excluded =
                    version(v).is_none_or(|parts| compare(&parts, &[2, 0, 0]) == excludes);
                if excluded {
                    return Err(ApiError::NotAcceptable(format!(
                        "{name} {:?} excludes version 2.0.0, the one this repository speaks \
                         (a version is dot-separated numbers)",
                        crate::error::echo(v)
                    )));
                }
            }
        }
    }
    Ok(())
}

/// A negotiation header's one value, trimmed: refused when it is given
/// more than once (the values could disagree) or is not visible ASCII.
pub(crate) fn once<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, ApiError> {
    let mut values = headers.get_all(name).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ApiError::NotAcceptable(format!(
            "{name} is given more than once: give it once"
        )));
    }
    first
        .to_str()
        .map(|v| Some(v.trim()))
        .map_err(|_| ApiError::NotAcceptable(format!("{name} is not visible ASCII")))
}

/// A version as the binding writes it (`^\d+(\.\d+)*$`), each part a
/// number (a part too large for u64 is the largest); `None` otherwise.
fn version(text: &str) -> Option<Vec<u64>> {
    text.split('.')
        .map(|part| {
            (!part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
                .then(|| part.parse().unwrap_or(u64::MAX))
        })
        .collect()
}

/// Two versions compared part by part, missing parts as 0 (2.0 = 2.0.0,
/// 2.0.0.5 > 2.0.0).
fn compare(a: &[u64], b: &[u64]) -> std::cmp::Ordering {
    let len = a.len().max(b.len());
    let part = |v: &[u64], i: usize| v.get(i).copied().unwrap_or(0);
    (0..len)
        .map(|i| part(a, i).cmp(&part(b, i)))
        .find(|o| o.is_ne())
        .unwrap_or(std::cmp::Ordering::Equal)
}

/// Refuses `GS1-CBV-XML-Format` when its value is none of the binding's
/// four (it is otherwise taken and ignored: no XML is served). A
/// request's `GS1-Extensions` says what the client knows and changes
/// nothing in the answer, so any value is taken.
pub(crate) fn check_negotiation(headers: &HeaderMap) -> Result<(), ApiError> {
    if let Some(v) = once(headers, "GS1-CBV-XML-Format")? {
        let ok = matches!(
            v,
            "No_Preference" | "Always_Web_URI" | "Always_URN" | "Never_Translates"
        );
        if !ok {
            return Err(ApiError::NotAcceptable(
                "GS1-CBV-XML-Format: one of No_Preference, Always_Web_URI, Always_URN, \
                 Never_Translates"
                    .into(),
            ));
        }
    }
    Ok(())
}

/// What an entry kept per party says about itself.
pub(crate) trait Kept {
    /// Past its time: anyone's expired entry may be dropped.
    fn expired(&self, now: Instant) -> bool;
    /// Its own party may lose it to make room for a new one of its own
    /// (an expired token, a finished capture job).
    fn spare(&self, now: Instant) -> bool {
        self.expired(now)
    }
    /// Roughly the bytes it holds.
    fn bytes(&self) -> usize {
        0
    }
}

/// The share of a [`PerParty`] map each party has, and the whole.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Share {
    /// What is kept, in words, for the refusal ("named queries").
    pub(crate) what: &'static str,
    /// What the refused party can do about it.
    pub(crate) hint: &'static str,
    pub(crate) per_party: usize,
    pub(crate) total: usize,
    pub(crate) party_bytes: usize,
    pub(crate) total_bytes: usize,
}

#[derive(Debug)]
struct Held<V> {
    owner: String,
    value: V,
    bytes: usize,
}

#[derive(Debug, Default)]
struct Owned {
    /// Keys, oldest first.
    keys: VecDeque<String>,
    bytes: usize,
}

#[derive(Debug)]
struct Shares<V> {
    map: HashMap<String, Held<V>>,
    parties: HashMap<String, Owned>,
    bytes: usize,
}

impl<V> Shares<V> {
    fn drop_key(&mut self, key: &str) -> Option<V> {
        let held = self.map.remove(key)?;
        if let Some(owned) = self.parties.get_mut(&held.owner) {
            owned.keys.retain(|k| k != key);
            owned.bytes = owned.bytes.saturating_sub(held.bytes);
            if owned.keys.is_empty() {
                self.parties.remove(&held.owner);
            }
        }
        self.bytes = self.bytes.saturating_sub(held.bytes);
        Some(held.value)
    }
}

/// A map of what parties keep on the server (capture jobs, tokens, named
/// queries), each party within its own share of entries and bytes and the
/// whole within a total. Making room never drops another party's entry:
/// a party may lose its own spare ones (oldest first), and expired entries
/// of anyone are dropped; beyond that the new entry is refused (429 at the
/// party's share, 503 at the total).
#[derive(Debug)]
pub(crate) struct PerParty<V> {
    inner: Mutex<Shares<V>>,
    share: Share,
}

impl<V: Clone + Kept> PerParty<V> {
    pub(crate) fn new(share: Share) -> Self {
        PerParty {
            inner: Mutex::new(Shares {
                map: HashMap::new(),
                parties: HashMap::new(),
                bytes: 0,
            }),
            share,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Shares<V>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn quota(&self, limit: usize, what: &'static str) -> ApiError {
        ApiError::QuotaExceeded {
            what,
            limit,
            hint: self.share.hint,
        }
    }

    /// Drops `owner`'s spare entries (oldest first, never `keep`) while it
    /// holds `count_room` or more entries or more than `party_bytes -
    /// incoming` bytes; then refuses if it still does, or if the whole is
    /// full after dropping everyone's expired entries.
    fn make_room(
        &self,
        g: &mut Shares<V>,
        owner: &str,
        incoming: usize,
        count_room: usize,
        keep: Option<&str>,
    ) -> Result<(), ApiError> {
        let now = Instant::now();
        let share = self.share;
        let over = |g: &Shares<V>| {
            g.parties.get(owner).is_some_and(|o| {
                o.keys.len() >= count_room || o.bytes.saturating_add(incoming) > share.party_bytes
            })
        };
        while over(g) {
            let spare = g.parties.get(owner).and_then(|o| {
                o.keys
                    .iter()
                    .find(|k| {
                        Some(k.as_str()) != keep
                            && g.map.get(*k).is_some_and(|h| h.value.spare(now))
                    })
                    .cloned()
            });
            match spare {
                Some(k) => {
                    g.drop_key(&k);
                }
                None => break,
            }
        }
        if let Some(o) = g.parties.get(owner) {
            if o.keys.len() >= count_room {
                return Err(self.quota(share.per_party, share.what));
            }
            if o.bytes.saturating_add(incoming) > share.party_bytes {
                return Err(self.quota(share.party_bytes, "bytes held"));
            }
        }
        let full = |g: &Shares<V>| {
            g.map.len() >= share.total || g.bytes.saturating_add(incoming) > share.total_bytes
        };
        if full(g) {
            let expired: Vec<String> = g
                .map
                .iter()
                .filter(|(k, h)| Some(k.as_str()) != keep && h.value.expired(now))
                .map(|(k, _)| k.clone())
                .collect();
            for k in expired {
                g.drop_key(&k);
            }
            if full(g) {
                return Err(ApiError::Refused(
                    oretrace_ledger::rules::Refusal::Overloaded,
                ));
            }
        }
        Ok(())
    }

    /// Whether `owner` could add an entry now (making room as
    /// [`PerParty::insert_new`] would).
    pub(crate) fn has_room(&self, owner: &str) -> Result<(), ApiError> {
        let mut g = self.lock();
        self.make_room(&mut g, owner, 0, self.share.per_party, None)
    }

    /// Adds `value` under `key` for `owner`: false if the key is taken,
    /// an error if the owner's share or the whole is full.
    pub(crate) fn insert_new(&self, owner: &str, key: String, value: V) -> Result<bool, ApiError> {
        let mut g = self.lock();
        if g.map.contains_key(&key) {
            return Ok(false);
        }
        let bytes = value.bytes();
        self.make_room(&mut g, owner, bytes, self.share.per_party, None)?;
        let owned = g.parties.entry(owner.to_owned()).or_default();
        owned.keys.push_back(key.clone());
        owned.bytes += bytes;
        g.bytes += bytes;
        g.map.insert(
            key,
            Held {
                owner: owner.to_owned(),
                value,
                bytes,
            },
        );
        Ok(true)
    }

    pub(crate) fn get(&self, key: &str) -> Option<V> {
        self.lock().map.get(key).map(|h| h.value.clone())
    }

    /// Changes an entry in place, then keeps its owner within its share of
    /// bytes by dropping the owner's own spare entries (the changed one
    /// stays).
    pub(crate) fn update(&self, key: &str, f: impl FnOnce(&mut V)) {
        let mut g = self.lock();
        let g = &mut *g;
        let Some(held) = g.map.get_mut(key) else {
            return;
        };
        f(&mut held.value);
        let (before, after) = (held.bytes, held.value.bytes());
        held.bytes = after;
        let owner = held.owner.clone();
        if let Some(o) = g.parties.get_mut(&owner) {
            o.bytes = o.bytes.saturating_sub(before) + after;
        }
        g.bytes = g.bytes.saturating_sub(before) + after;
        // Over its bytes: its own spare entries go; over nothing else,
        // nothing is refused (the entry exists already).
        let _ = self.make_room(g, &owner, 0, usize::MAX, Some(key));
    }

    pub(crate) fn remove(&self, key: &str) -> Option<V> {
        self.lock().drop_key(key)
    }

    /// How many of `owner`'s entries satisfy `f`.
    pub(crate) fn count_of(&self, owner: &str, f: impl Fn(&V) -> bool) -> usize {
        let g = self.lock();
        g.parties.get(owner).map_or(0, |o| {
            o.keys
                .iter()
                .filter(|k| g.map.get(*k).is_some_and(|h| f(&h.value)))
                .count()
        })
    }

    /// `owner`'s entries, oldest first.
    pub(crate) fn values_of(&self, owner: &str) -> Vec<(String, V)> {
        let g = self.lock();
        g.parties.get(owner).map_or_else(Vec::new, |o| {
            o.keys
                .iter()
                .filter_map(|k| g.map.get(k).map(|h| (k.clone(), h.value.clone())))
                .collect()
        })
    }
}

/// Bytes `value` takes as JSON, counted without keeping the text.
pub(crate) fn json_bytes(value: &impl serde::Serialize) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// The shares of capture jobs, tokens and named queries.
pub const JOBS_PER_PARTY: usize = 100;
/// Capture jobs of one party still running (each holds its signed events
/// until the ledger has them).
pub const RUNNING_JOBS_PER_PARTY: usize = 4;
pub const JOB_BYTES_PER_PARTY: usize = 32 * 1024 * 1024;
pub const TOKENS_PER_PARTY: usize = 100;
pub const QUERIES_PER_PARTY: usize = 100;

/// What the EPCIS interface keeps between requests (in memory: capture
/// jobs, challenges and tokens do not survive a restart; named queries and
/// subscriptions are in the store;
/// the events themselves are in the log).
#[derive(Debug)]
pub(crate) struct EpcisState {
    /// Captures being read and prepared at once (each holds a body).
    pub(crate) capture_slots: std::sync::Arc<capture::Slots>,
    pub(crate) jobs: PerParty<capture::Job>,
    pub(crate) challenges: auth::Challenges,
    pub(crate) tokens: PerParty<auth::Grant>,
    /// Wakes the delivery task (a subscription created or resumed).
    pub(crate) deliveries: std::sync::Arc<tokio::sync::Notify>,
    /// Subscription sockets open, by party.
    pub(crate) sockets: std::sync::Arc<socket::Sockets>,
}

impl EpcisState {
    pub(crate) fn new() -> Result<Self, ApiError> {
        Ok(EpcisState {
            capture_slots: std::sync::Arc::new(capture::Slots::new()),
            jobs: PerParty::new(Share {
                what: "capture jobs",
                hint: "wait for one of its captures to finish",
                per_party: JOBS_PER_PARTY,
                total: 10_000,
                party_bytes: JOB_BYTES_PER_PARTY,
                total_bytes: 512 * 1024 * 1024,
            }),
            challenges: auth::Challenges::new()?,
            tokens: PerParty::new(Share {
                what: "live bearer tokens",
                hint: "a token lasts an hour: reuse one",
                per_party: TOKENS_PER_PARTY,
                total: 100_000,
                party_bytes: usize::MAX,
                total_bytes: usize::MAX,
            }),
            deliveries: std::sync::Arc::new(tokio::sync::Notify::new()),
            sockets: std::sync::Arc::default(),
        })
    }

    pub(crate) fn wake_deliveries(&self) {
        self.deliveries.notify_one();
    }
}

/// `n` random bytes as lower-case hex.
pub(crate) fn random_hex(n: usize) -> Result<String, ApiError> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::internal(format!("no randomness: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Now, as a UTC timestamp to the millisecond (`2026-11-26T21:00:00.000Z`).
pub(crate) fn now_rfc3339() -> String {
    millis_rfc3339(now_millis())
}

pub(crate) fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Milliseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ` (outside
/// years 1–9999, which no clock reading is, as the milliseconds themselves).
pub(crate) fn millis_rfc3339(ms: i64) -> String {
    oretrace_epcis::format_timestamp_millis(ms)
        .unwrap_or_else(|| format!("{ms} ms from 1970-01-01T00:00:00Z"))
}

#[cfg(test)]
mod negotiation_tests {
    use super::*;

    fn with(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn versions_are_dot_separated_numbers_and_ranges_must_hold_2_0_0() {
        for ok in [
            &[("GS1-EPCIS-Version", "2.0.0")][..],
            &[("GS1-EPCIS-Version", "2.0")],
            &[("GS1-CBV-Version", "2.0.3")],
            &[("GS1-EPCIS-Version", "")],
            &[("GS1-EPCIS-Min", "1.0.0"), ("GS1-EPCIS-Max", "2.0.0")],
            &[
                ("GS1-EPCIS-Min", "2"),
                ("GS1-EPCIS-Max", "99999999999999999999999"),
            ],
            &[("GS1-CBV-Min", "1.2.0"), ("GS1-CBV-Max", "2.0.0.0")],
        ] {
            assert!(check_versions(&with(ok)).is_ok(), "{ok:?}");
        }
        for refused in [
            &[("GS1-EPCIS-Version", "2.0.garbage")][..],
            &[("GS1-EPCIS-Version", "1.2")],
            &[("GS1-EPCIS-Version", "2")],
            &[("GS1-EPCIS-Min", "2.0.0.5")],
            &[("GS1-EPCIS-Min", "P5hlD")],
            &[("GS1-EPCIS-Max", "")],
            &[("GS1-EPCIS-Max", "1.9.9")],
            &[("GS1-CBV-Max", "1.2")],
            &[("GS1-EPCIS-Version", "2.0.0"), ("GS1-EPCIS-Version", "9")],
            &[("GS1-EPCIS-Min", "1"), ("GS1-EPCIS-Min", "3")],
        ] {
            assert!(
                matches!(
                    check_versions(&with(refused)),
                    Err(ApiError::NotAcceptable(_))
                ),
                "{refused:?}"
            );
        }
        assert!(check_negotiation(&with(&[("GS1-CBV-XML-Format", "Always_URN")])).is_ok());
        for refused in [
            &[("GS1-CBV-XML-Format", "bogus")][..],
            &[
                ("GS1-CBV-XML-Format", "Always_URN"),
                ("GS1-CBV-XML-Format", "bogus"),
            ],
        ] {
            assert!(check_negotiation(&with(refused)).is_err(), "{refused:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug)]
    struct Item {
        done: bool,
        bytes: usize,
    }

    impl Kept for Item {
        fn expired(&self, _: Instant) -> bool {
            false
        }
        fn spare(&self, _: Instant) -> bool {
            self.done
        }
        fn bytes(&self) -> usize {
            self.bytes
        }
    }

    fn share() -> Share {
        Share {
            what: "items",
            hint: "wait",
            per_party: 3,
            total: 5,
            party_bytes: 100,
            total_bytes: 1000,
        }
    }

    fn item(done: bool, bytes: usize) -> Item {
        Item { done, bytes }
    }

    #[test]
    fn times_are_written_to_the_millisecond_in_utc() {
        assert_eq!(millis_rfc3339(1_005_007), "1970-01-01T00:16:45.007Z");
        assert_eq!(millis_rfc3339(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(
            millis_rfc3339(253_402_300_800_000),
            "253402300800000 ms from 1970-01-01T00:00:00Z"
        );
    }

    #[test]
    fn a_party_at_its_share_loses_only_its_own_spare_entries() {
        let map = PerParty::new(share());
        assert!(map.insert_new("b", "b1".into(), item(true, 1)).unwrap());
        for i in 0..3 {
            assert!(
                map.insert_new("a", format!("a{i}"), item(i == 0, 1))
                    .unwrap()
            );
        }
        // a's finished a0 makes room; b's finished b1 is never touched.
        assert!(map.insert_new("a", "a3".into(), item(false, 1)).unwrap());
        assert!(map.get("a0").is_none() && map.get("b1").is_some());
        // Nothing of a's is spare now: refused, naming the share.
        let e = map
            .insert_new("a", "a4".into(), item(false, 1))
            .unwrap_err();
        assert!(
            matches!(e, ApiError::QuotaExceeded { limit: 3, .. }),
            "{e:?}"
        );
        // The whole is full (4 of 5, one more fits; then none).
        assert!(map.insert_new("c", "c1".into(), item(false, 1)).unwrap());
        let e = map
            .insert_new("d", "d1".into(), item(false, 1))
            .unwrap_err();
        assert!(matches!(e, ApiError::Refused(_)), "{e:?}");
        let held: usize = ["a", "b", "c", "d"]
            .iter()
            .map(|p| map.values_of(p).len())
            .sum();
        assert_eq!(held, 5);
    }

    #[test]
    fn a_party_past_its_bytes_loses_its_own_spare_entries_and_no_one_elses() {
        let map = PerParty::new(share());
        map.insert_new("b", "b1".into(), item(true, 60)).unwrap();
        map.insert_new("a", "a1".into(), item(true, 40)).unwrap();
        map.insert_new("a", "a2".into(), item(false, 10)).unwrap();
        // a2 grows past a's 100 bytes: a's finished a1 goes, b's stays.
        map.update("a2", |i| i.bytes = 90);
        assert!(map.get("a1").is_none() && map.get("a2").is_some() && map.get("b1").is_some());
        // A new entry that would take a past its bytes is refused.
        let e = map
            .insert_new("a", "a3".into(), item(false, 20))
            .unwrap_err();
        assert!(
            matches!(e, ApiError::QuotaExceeded { limit: 100, .. }),
            "{e:?}"
        );
        assert_eq!(map.values_of("a").len(), 1);
    }
}
