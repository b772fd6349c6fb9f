//! The witness's durable state: per origin, the size, root and note of
//! the latest checkpoint it cosigned, in one SQLite database (WAL,
//! `synchronous=FULL`). It advances only by [`State::swap`], a
//! compare-and-swap in one transaction.

use std::path::Path;
use std::sync::{Mutex, PoisonError};

use oretrace_tlog::hash::Hash;
use oretrace_tlog::witness::Witnessed;
use rusqlite::{Connection, OptionalExtension as _, TransactionBehavior, params};

/// The database's file name in the witness's data directory.
pub const DB_FILE: &str = "witness.db";

#[derive(Debug, thiserror::Error)]
#[error("{what}: {source}")]
pub struct StateError {
    what: String,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

fn ctx<E: std::error::Error + Send + Sync + 'static>(what: &str) -> impl FnOnce(E) -> StateError {
    let what = what.to_owned();
    move |e| StateError {
        what,
        source: Box::new(e),
    }
}

/// What the witness holds for a log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Held {
    pub witnessed: Witnessed,
    /// The cosigned checkpoint note: the log's signature and the
    /// witness's cosignature.
    pub checkpoint: Vec<u8>,
}

/// The outcome of a compare-and-swap.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Swap {
    /// Stored, durably.
    Done,
    /// The state was no longer the one expected: nothing written; the
    /// size now held.
    Lost { size: u64 },
}

#[derive(Debug)]
pub struct State {
    conn: Mutex<Connection>,
}

impl State {
    /// Opens (creating if absent) the state in `dir`.
    pub fn open(dir: &Path) -> Result<Self, StateError> {
        std::fs::create_dir_all(dir).map_err(ctx(&format!("creating {}", dir.display())))?;
        let path = dir.join(DB_FILE);
        let conn = Connection::open(&path).map_err(ctx(&format!("opening {}", path.display())))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(ctx("setting WAL mode"))?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(ctx("setting synchronous=FULL"))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(ctx("setting the busy timeout"))?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS witnessed (
                origin TEXT PRIMARY KEY NOT NULL,
                size INTEGER NOT NULL CHECK (size >= 0),
                root BLOB NOT NULL CHECK (length(root) = 32),
                checkpoint BLOB NOT NULL
            ) STRICT;",
        )
        .map_err(ctx("creating the state table"))?;
        Ok(State {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// What is held for `origin`.
    pub fn get(&self, origin: &str) -> Result<Option<Held>, StateError> {
        let conn = self.conn();
        let row: Option<(i64, Vec<u8>, Vec<u8>)> = conn
            .query_row(
                "SELECT size, root, checkpoint FROM witnessed WHERE origin = ?1",
                [origin],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(ctx(&format!("reading the state of {origin:?}")))?;
        row.map(|(size, root, checkpoint)| {
            Ok(Held {
                witnessed: Witnessed {
                    size: u64::try_from(size).map_err(ctx("a stored size"))?,
                    root: Hash::from_slice(&root).map_err(ctx("a stored root"))?,
                },
                checkpoint,
            })
        })
        .transpose()
    }

    /// Stores `next` (and its cosigned note) for `origin` if the state is
    /// still `previous` (`None`: nothing held), in one transaction
    /// committed before returning.
    pub fn swap(
        &self,
        origin: &str,
        previous: Option<Witnessed>,
        next: Witnessed,
        checkpoint: &[u8],
    ) -> Result<Swap, StateError> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(ctx("starting the state transaction"))?;
        let size = i64::try_from(next.size).map_err(ctx("a size beyond SQLite's integers"))?;
        let changed = match previous {
            None => tx
                .execute(
                    "INSERT INTO witnessed (origin, size, root, checkpoint) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (origin) DO NOTHING",
                    params![origin, size, &next.root.0[..], checkpoint],
                )
                .map_err(ctx("storing the first checkpoint"))?,
            Some(p) => {
                let old = i64::try_from(p.size).map_err(ctx("a size beyond SQLite's integers"))?;
                tx.execute(
                    "UPDATE witnessed SET size = ?2, root = ?3, checkpoint = ?4
                     WHERE origin = ?1 AND size = ?5 AND root = ?6",
                    params![
                        origin,
                        size,
                        &next.root.0[..],
                        checkpoint,
                        old,
                        &p.root.0[..]
                    ],
                )
                .map_err(ctx("advancing the state"))?
            }
        };
        if changed != 1 {
            let now: Option<i64> = tx
                .query_row(
                    "SELECT size FROM witnessed WHERE origin = ?1",
                    [origin],
                    |r| r.get(0),
                )
                .optional()
                .map_err(ctx("reading the state after a lost swap"))?;
            let size = u64::try_from(now.unwrap_or(0)).map_err(ctx("a stored size"))?;
            return Ok(Swap::Lost { size });
        }
        tx.commit().map_err(ctx("committing the state"))?;
        Ok(Swap::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(size: u64, b: u8) -> Witnessed {
        Witnessed {
            size,
            root: Hash([b; 32]),
        }
    }

    #[test]
    fn swaps_advance_only_from_the_state_expected_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let state = State::open(dir.path()).unwrap();
        assert_eq!(state.get("o").unwrap(), None);
        assert_eq!(state.swap("o", None, w(3, 1), b"cp3").unwrap(), Swap::Done);
        assert_eq!(
            state.swap("o", None, w(4, 1), b"cp4").unwrap(),
            Swap::Lost { size: 3 },
            "a second first contact loses"
        );
        assert_eq!(
            state.swap("o", Some(w(3, 2)), w(5, 1), b"cp5").unwrap(),
            Swap::Lost { size: 3 },
            "the right size with another root loses"
        );
        assert_eq!(
            state.swap("o", Some(w(3, 1)), w(5, 1), b"cp5").unwrap(),
            Swap::Done
        );
        assert_eq!(
            state.swap("o", Some(w(3, 1)), w(6, 1), b"cp6").unwrap(),
            Swap::Lost { size: 5 },
            "the race the spec describes: the second from size 3 loses"
        );
        drop(state);
        let state = State::open(dir.path()).unwrap();
        let held = state.get("o").unwrap().unwrap();
        assert_eq!(
            (held.witnessed, held.checkpoint),
            (w(5, 1), b"cp5".to_vec())
        );
        assert_eq!(state.get("other").unwrap(), None);
    }
}
