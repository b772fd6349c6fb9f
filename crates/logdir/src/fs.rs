//! Crash-safe file writes and the directory [`TileFetcher`].

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use oretrace_tlog::tile::{TileFetcher, TileId};

use crate::Error;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_owned(),
        source,
    }
}

/// Creates `dir` and any missing parents, fsyncing each parent that gained
/// an entry, so a new tile directory survives a crash.
pub(crate) fn create_dir_all(dir: &Path) -> Result<(), Error> {
    if dir.is_dir() {
        return Ok(());
    }
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(parent) = parent {
        create_dir_all(parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(()),
        Err(e) => return Err(io(dir)(e)),
    }
    sync_dir(parent.unwrap_or(Path::new(".")))
}

/// Takes the single-writer lock of a log directory for as long as the
/// returned file is open.
pub(crate) fn lock_writer(dir: &Path) -> Result<File, Error> {
    let path = dir.join(".writer.lock");
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io(&path))?;
    file.try_lock().map_err(|e| Error::Locked {
        path: path.clone(),
        detail: e.to_string(),
    })?;
    Ok(file)
}

pub(crate) fn read(path: &Path) -> Result<Vec<u8>, Error> {
    fs::read(path).map_err(io(path))
}

/// Writes `bytes` to a temporary file beside `path`, fsyncs it, renames it
/// over `path` and fsyncs the directory: readers see the old file or the
/// new one, never a torn one.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = path.parent().unwrap_or(Path::new("."));
    create_dir_all(dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(io(&tmp))?;
    file.write_all(bytes).map_err(io(&tmp))?;
    file.sync_all().map_err(io(&tmp))?;
    drop(file);
    fs::rename(&tmp, path).map_err(io(path))?;
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> Result<(), Error> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

/// Reads tiles from a log directory.
#[derive(Clone, Debug)]
pub struct DirFetcher {
    root: PathBuf,
}

impl DirFetcher {
    pub fn new(root: &Path) -> Self {
        DirFetcher {
            root: root.to_owned(),
        }
    }
}

impl TileFetcher for DirFetcher {
    fn fetch_tile(&self, tile: &TileId) -> Result<Vec<u8>, oretrace_tlog::Error> {
        let path = tile.path();
        fs::read(self.root.join(&path)).map_err(|e| oretrace_tlog::Error::Fetch {
            path,
            source: Box::new(e),
        })
    }
}
