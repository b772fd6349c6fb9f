//! A budget per client for the work queries do: the candidate events an
//! EPCIS query examines. A query an index serves examines about a page;
//! one no index serves may examine tens of thousands (a scan). Each
//! client (an IP address; an IPv6 /64) has a bucket of candidates that
//! refills at a steady rate; every query is charged what it examined, and
//! a client whose bucket is below one chunk of candidates is answered 429
//! with `Retry-After` until it has refilled that far.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Candidates a query examined, as its handler reports them (a response
/// extension) for the budget to charge.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Examined(pub(crate) usize);

/// Most clients whose buckets are kept; full buckets go first.
const MAX_CLIENTS: usize = 65_536;

#[derive(Debug)]
struct Bucket {
    level: f64,
    at: Instant,
}

#[derive(Debug)]
pub(crate) struct ScanBudget {
    capacity: f64,
    /// Candidates refilled per second.
    rate: f64,
    /// What a client must have left to start a query.
    admit: f64,
    clients: Mutex<HashMap<Option<IpAddr>, Bucket>>,
}

/// The client a budget is kept for: its address, an IPv6 address by its
/// /64 (one host usually holds the whole prefix).
pub(crate) fn client_key(address: Option<IpAddr>) -> Option<IpAddr> {
    match address? {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => Some(IpAddr::V4(v4)),
            None => {
                let mut octets = v6.octets();
                octets[8..].fill(0);
                Some(IpAddr::V6(octets.into()))
            }
        },
        v4 => Some(v4),
    }
}

impl ScanBudget {
    /// `capacity` candidates per client, refilled from empty in `refill`;
    /// a query starts only with `admit` (at most `capacity`) left.
    pub(crate) fn new(capacity: usize, refill: Duration, admit: usize) -> Self {
        let capacity = capacity.max(1) as f64;
        ScanBudget {
            capacity,
            rate: capacity / refill.as_secs_f64().max(1e-3),
            admit: (admit as f64).min(capacity),
            clients: Mutex::new(HashMap::new()),
        }
    }

    fn refill(&self, bucket: &mut Bucket, now: Instant) {
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.level = (bucket.level + elapsed * self.rate).min(self.capacity);
        bucket.at = now;
    }

    /// Whether `client` may start a query now; if not, the seconds until
    /// it may.
    pub(crate) fn admit(&self, client: Option<IpAddr>) -> Result<(), u64> {
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        let Some(bucket) = clients.get_mut(&client) else {
            return Ok(());
        };
        self.refill(bucket, now);
        if bucket.level >= self.admit {
            Ok(())
        } else {
            Err(((self.admit - bucket.level) / self.rate).ceil().max(1.0) as u64)
        }
    }

    /// Charges `client` for `examined` candidates.
    pub(crate) fn charge(&self, client: Option<IpAddr>, examined: usize) {
        let mut clients = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        let now = Instant::now();
        if !clients.contains_key(&client) && clients.len() >= MAX_CLIENTS {
            // Full buckets say nothing a fresh one would not.
            let (capacity, rate) = (self.capacity, self.rate);
            clients.retain(|_, b| {
                b.level + now.saturating_duration_since(b.at).as_secs_f64() * rate < capacity
            });
        }
        // Still full: the newcomer shares the bucket of unknown clients.
        let client = if !clients.contains_key(&client) && clients.len() >= MAX_CLIENTS {
            None
        } else {
            client
        };
        let bucket = clients.entry(client).or_insert(Bucket {
            level: self.capacity,
            at: now,
        });
        self.refill(bucket, now);
        bucket.level -= examined as f64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_past_its_budget_waits_and_others_do_not() {
        let budget = ScanBudget::new(1000, Duration::from_secs(86_400), 512);
        let a = Some(IpAddr::from([10, 0, 0, 1]));
        let b = Some(IpAddr::from([10, 0, 0, 2]));
        assert!(budget.admit(a).is_ok());
        budget.charge(a, 400);
        assert!(budget.admit(a).is_ok(), "600 left");
        budget.charge(a, 400);
        let wait = budget.admit(a).unwrap_err();
        assert!(wait > 60, "a day to refill 1000: {wait} s for 312");
        assert!(budget.admit(b).is_ok());
    }

    #[test]
    fn ipv6_clients_are_kept_by_their_64() {
        let one: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let two: IpAddr = "2001:db8:1:2:bbbb::7".parse().unwrap();
        let other: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(client_key(Some(one)), client_key(Some(two)));
        assert_ne!(client_key(Some(one)), client_key(Some(other)));
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(client_key(Some(mapped)), Some(IpAddr::from([10, 0, 0, 1])));
    }
}
