//! A small pool of read-only connections. In WAL mode readers never wait
//! for the writer (nor it for them): each read sees the last commit made
//! before it started.

use std::fmt;
use std::ops::Deref;
use std::path::PathBuf;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use rusqlite::Connection;

use crate::error::Result;
use crate::schema::open_reader;

/// At most this many reader connections are open at once; a caller that
/// finds them all busy waits for one.
pub const MAX_READERS: usize = 4;

pub(crate) struct Readers {
    path: PathBuf,
    state: Mutex<State>,
    returned: Condvar,
}

struct State {
    idle: Vec<Connection>,
    /// Connections open, idle or leased.
    open: usize,
}

impl fmt::Debug for Readers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.lock();
        f.debug_struct("Readers")
            .field("path", &self.path)
            .field("open", &state.open)
            .field("idle", &state.idle.len())
            .finish()
    }
}

impl Readers {
    pub(crate) fn new(path: PathBuf) -> Self {
        Readers {
            path,
            state: Mutex::new(State {
                idle: Vec::new(),
                open: 0,
            }),
            returned: Condvar::new(),
        }
    }

    /// The pool's state is a list and a count, consistent whenever the lock
    /// is released, so a panic elsewhere while holding it is harmless.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Lends a connection: an idle one, a new one while fewer than
    /// [`MAX_READERS`] are open, or else the next one returned.
    pub(crate) fn get(&self) -> Result<Lease<'_>> {
        let mut state = self.lock();
        loop {
            if let Some(conn) = state.idle.pop() {
                return Ok(Lease {
                    pool: self,
                    conn: Some(conn),
                });
            }
            if state.open < MAX_READERS {
                state.open += 1;
                drop(state); // Opening takes a while: let others lease meanwhile.
                return match open_reader(&self.path) {
                    Ok(conn) => Ok(Lease {
                        pool: self,
                        conn: Some(conn),
                    }),
                    Err(e) => {
                        self.lock().open -= 1;
                        self.returned.notify_one();
                        Err(e)
                    }
                };
            }
            state = self
                .returned
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// A leased reader connection, back to the pool on drop.
pub(crate) struct Lease<'a> {
    pool: &'a Readers,
    conn: Option<Connection>,
}

impl Deref for Lease<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        // Present from construction until drop.
        self.conn
            .as_ref()
            .unwrap_or_else(|| unreachable!("a lease holds its connection until dropped"))
    }
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // A read transaction left open (a panic mid-read) would pin an
            // old snapshot and stop WAL checkpoints: end it.
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            self.pool.lock().idle.push(conn);
            self.pool.returned.notify_one();
        }
    }
}
