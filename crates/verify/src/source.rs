//! Where a log's public artefacts are read from: a folder or a URL.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::VerifyError;

/// Largest resource fetched: a full entry bundle of 256 entries of
/// 65,535 bytes each, with their length prefixes.
pub const MAX_RESOURCE_BYTES: u64 = 256 * 65_537;

/// Threads (one request in flight each) an audit fetches an HTTP(S)
/// source's tiles on.
const HTTP_FETCH_THREADS: usize = 4;

/// A read-only view of a log's resources, named by their tlog-tiles paths.
/// `Sync`: an audit fetches from several threads at once.
pub trait Source: Sync {
    /// The bytes at `path`, or `None` if the source says it has none.
    fn get(&self, path: &str) -> Result<Option<Vec<u8>>, VerifyError>;
    /// A human-readable location of `path`, for messages.
    fn locate(&self, path: &str) -> String;
    /// How many threads an audit should fetch entry bundles and their hash
    /// tiles on, ahead of the hashing (each keeps one request in flight).
    /// 0, the default: fetch them on the auditing thread, one by one.
    fn fetch_threads(&self) -> usize {
        0
    }
}

/// Opens `location` as a URL (`http://`, `https://`) or a folder.
pub fn open_source(location: &str) -> Result<Box<dyn Source>, VerifyError> {
    if location.starts_with("http://") || location.starts_with("https://") {
        Ok(Box::new(HttpSource::new(location)?))
    } else {
        let path = Path::new(location);
        if !path.is_dir() {
            return Err(VerifyError::Operational(format!(
                "{location} is not a folder or an http(s) URL"
            )));
        }
        Ok(Box::new(FolderSource::new(path)))
    }
}

/// A log published as files in a folder.
#[derive(Debug, Clone)]
pub struct FolderSource {
    root: PathBuf,
}

impl FolderSource {
    pub fn new(root: &Path) -> Self {
        FolderSource {
            root: root.to_owned(),
        }
    }
}

impl Source for FolderSource {
    fn get(&self, path: &str) -> Result<Option<Vec<u8>>, VerifyError> {
        let full = self.root.join(path);
        let file = match std::fs::File::open(&full) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(VerifyError::Operational(format!("{}: {e}", full.display()))),
        };
        // The length is only a hint for the buffer: the read stays bounded.
        let len = file.metadata().ok().map(|m| m.len());
        read_bounded(file, len, || full.display().to_string(), None).map(Some)
    }

    fn locate(&self, path: &str) -> String {
        self.root.join(path).display().to_string()
    }

    /// One reader thread ahead of the hashing: reading (a copy out of the
    /// page cache, or a disk wait) overlaps hashing.
    fn fetch_threads(&self) -> usize {
        1
    }
}

/// Reads at most `MAX_RESOURCE_BYTES` (one more to detect a larger
/// resource). `len_hint`, the length the file system or server announced,
/// only sizes the buffer up front: one allocation and one read in the usual
/// case instead of a doubling series; it is not trusted. `location` names
/// the resource in messages and is only built on error.
fn read_bounded(
    reader: impl std::io::Read,
    len_hint: Option<u64>,
    location: impl Fn() -> String,
    deadline: Option<std::time::Instant>,
) -> Result<Vec<u8>, VerifyError> {
    let capacity = len_hint.map_or(0, |n| n.min(MAX_RESOURCE_BYTES + 1)) as usize;
    let mut bytes = Vec::with_capacity(capacity);
    Deadline {
        inner: reader,
        deadline,
    }
    .take(MAX_RESOURCE_BYTES + 1)
    .read_to_end(&mut bytes)
    .map_err(|e| VerifyError::Operational(format!("{}: {e}", location())))?;
    if bytes.len() as u64 > MAX_RESOURCE_BYTES {
        return Err(VerifyError::failed(
            location(),
            format!("is larger than {MAX_RESOURCE_BYTES} bytes"),
        ));
    }
    Ok(bytes)
}

/// A reader that fails once its deadline has passed: a server sending a
/// byte now and then cannot hold a request open for ever.
struct Deadline<R> {
    inner: R,
    deadline: Option<std::time::Instant>,
}

impl<R: std::io::Read> std::io::Read for Deadline<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.deadline.is_some_and(|d| std::time::Instant::now() > d) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("not received within {} s", REQUEST_DEADLINE.as_secs()),
            ));
        }
        self.inner.read(buf)
    }
}

/// The longest one HTTP request may take, body included.
const REQUEST_DEADLINE: Duration = Duration::from_secs(60);

/// A log served over HTTP(S) under a URL prefix.
#[derive(Debug)]
pub struct HttpSource {
    prefix: String,
    client: reqwest::blocking::Client,
}

impl HttpSource {
    pub fn new(prefix: &str) -> Result<Self, VerifyError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::blocking::Client::builder()
            .timeout(REQUEST_DEADLINE)
            .user_agent(concat!("oretrace-verify/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| VerifyError::Operational(format!("cannot build an HTTP client: {e}")))?;
        Ok(HttpSource {
            prefix: prefix.trim_end_matches('/').to_owned(),
            client,
        })
    }
}

impl Source for HttpSource {
    fn get(&self, path: &str) -> Result<Option<Vec<u8>>, VerifyError> {
        let url = self.locate(path);
        let deadline = std::time::Instant::now() + REQUEST_DEADLINE;
        let response = self
            .client
            .get(&url)
            .send()
            .map_err(|e| VerifyError::Operational(format!("{url}: {e}")))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(VerifyError::Operational(format!("{url}: HTTP {status}")));
        }
        let len = response.content_length();
        read_bounded(response, len, || url.clone(), Some(deadline)).map(Some)
    }

    fn locate(&self, path: &str) -> String {
        format!("{}/{path}", self.prefix)
    }

    /// Requests are latency-bound: several in flight hide the round trips.
    fn fetch_threads(&self) -> usize {
        HTTP_FETCH_THREADS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that gives one byte per call, for ever: a trickling server.
    struct Trickle;
    impl std::io::Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            std::thread::sleep(Duration::from_millis(5));
            buf[0] = b'x';
            Ok(1)
        }
    }

    #[test]
    fn a_trickling_body_stops_at_the_deadline() {
        let deadline = std::time::Instant::now() + Duration::from_millis(200);
        let started = std::time::Instant::now();
        let err = read_bounded(Trickle, None, || "trickle".into(), Some(deadline)).unwrap_err();
        assert!(err.to_string().contains("not received within"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
