//! WAL checkpoints off the commit path.
//!
//! Left to itself, SQLite checkpoints inside the commit that takes the WAL
//! past `wal_autocheckpoint` pages: with 1000-entry batches that is nearly
//! every commit, and it doubles the time `integrate` takes (the pages are
//! copied into the database file and that file is fsynced before the
//! commit returns). Instead, a thread with its own connection runs a
//! PASSIVE checkpoint after each append: it never blocks the writer or the
//! readers, and pokes that arrive while it works collapse into one more
//! round. The writer keeps a high `wal_autocheckpoint` as a backstop, so
//! the WAL stays bounded even if this thread falls behind.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use rusqlite::Connection;

use crate::error::{Context as _, Result};
use crate::schema::open_checkpointer;

pub(crate) struct Checkpointer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Shared {
    flags: Mutex<Flags>,
    wake: Condvar,
}

#[derive(Default)]
struct Flags {
    /// Something was appended since the last checkpoint began.
    pending: bool,
    stop: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Flags> {
        self.flags.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for Checkpointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Checkpointer")
            .field("running", &self.thread.is_some())
            .finish()
    }
}

impl Checkpointer {
    pub(crate) fn start(path: &Path) -> Result<Self> {
        let conn = open_checkpointer(path)?;
        let shared = Arc::new(Shared::default());
        let theirs = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("oretrace-sqlite-checkpoint".into())
            .spawn(move || run(&conn, &theirs))
            .ctx(|| "starting the WAL checkpoint thread")?;
        Ok(Checkpointer {
            shared,
            thread: Some(thread),
        })
    }

    /// Asks for a checkpoint soon. Never blocks on the checkpoint itself.
    pub(crate) fn poke(&self) {
        self.shared.lock().pending = true;
        self.shared.wake.notify_one();
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.shared.lock().stop = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(conn: &Connection, shared: &Shared) {
    loop {
        {
            let mut flags = shared.lock();
            while !flags.pending && !flags.stop {
                flags = shared
                    .wake
                    .wait(flags)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            if flags.stop {
                return;
            }
            flags.pending = false;
        }
        // A failure (a busy lock, a full disk) is not fatal: the next poke
        // tries again, and the writer's autocheckpoint is the backstop.
        let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
    }
}
