//! The verifier's memory: the last checkpoint it accepted for each origin,
//! so the next run can tell a rollback or a fork from honest growth.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use oretrace_tlog::checkpoint::Checkpoint;
use oretrace_tlog::note::NoteVerifier;

use crate::VerifyError;

/// A folder with one file per origin holding the last verified checkpoint
/// note, exactly as the log signed it.
#[derive(Debug, Clone)]
pub struct StateStore {
    dir: PathBuf,
}

impl StateStore {
    pub fn new(dir: &Path) -> Self {
        StateStore {
            dir: dir.to_owned(),
        }
    }

    /// The default folder: `$XDG_STATE_HOME/oretrace/verify`, else
    /// `$HOME/.local/state/oretrace/verify`.
    pub fn default_dir() -> Option<PathBuf> {
        let base = std::env::var_os("XDG_STATE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
        Some(base.join("oretrace/verify"))
    }

    fn file_for(&self, origin: &str) -> PathBuf {
        let safe: String = origin
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let digest = oretrace_tlog::hash::sha256(origin.as_bytes());
        self.dir.join(format!(
            "{safe}-{:02x}{:02x}{:02x}{:02x}.checkpoint",
            digest[0], digest[1], digest[2], digest[3]
        ))
    }

    /// The last checkpoint accepted for the key's origin, re-verified.
    pub fn load(&self, log_key: &NoteVerifier) -> Result<Option<Checkpoint>, VerifyError> {
        let path = self.file_for(log_key.name());
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(VerifyError::Operational(format!("{}: {e}", path.display()))),
        };
        let (checkpoint, _) = Checkpoint::open(&bytes, log_key).map_err(|e| {
            VerifyError::Operational(format!(
                "{}: the remembered checkpoint does not verify with this key ({e}): a log signed by \
                 another key was verified before under the origin {}. If this is a different \
                 log, give it an origin of its own (oretrace serve --origin, on a new data \
                 directory), or use another --state folder (or --no-state) to audit it apart",
                path.display(),
                log_key.name()
            ))
        })?;
        Ok(Some(checkpoint))
    }

    /// [`StateStore::load`] with the signed note, as a [`crate::Seen`].
    pub fn load_seen(&self, log_key: &NoteVerifier) -> Result<Option<crate::Seen>, VerifyError> {
        let Some(checkpoint) = self.load(log_key)? else {
            return Ok(None);
        };
        let path = self.file_for(log_key.name());
        let note = std::fs::read(&path)
            .map_err(|e| VerifyError::Operational(format!("{}: {e}", path.display())))?;
        Ok(Some(crate::Seen {
            source: format!("verified before, remembered in {}", path.display()),
            note,
            checkpoint,
            served_by_log: true,
        }))
    }

    /// Remembers `note` (the checkpoint just verified) for its origin.
    pub fn save(&self, note: &[u8], checkpoint: &Checkpoint) -> Result<(), VerifyError> {
        let op =
            |e: std::io::Error| VerifyError::Operational(format!("{}: {e}", self.dir.display()));
        std::fs::create_dir_all(&self.dir).map_err(op)?;
        let path = self.file_for(checkpoint.origin());
        let tmp = path.with_extension("tmp");
        let mut file = std::fs::File::create(&tmp).map_err(op)?;
        file.write_all(note).map_err(op)?;
        file.sync_all().map_err(op)?;
        std::fs::rename(&tmp, &path).map_err(op)?;
        Ok(())
    }
}
