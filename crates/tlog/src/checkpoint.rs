//! C2SP `tlog-checkpoint`: `origin\nsize\nbase64(root)\n`, then any
//! extension lines (opaque, each non-empty), signed as a note by the log's
//! Ed25519 key, whose name is the origin. oretrace's log writes no
//! extension lines; checkpoints of other logs that carry some are read
//! (and witnessed) with them.

use crate::Error;
use crate::hash::Hash;
use crate::note::{NoteSigner, NoteVerifier, SignedNote};

/// A tree head: which log, how many entries, and their Merkle root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    origin: String,
    size: u64,
    root: Hash,
    /// Extension lines, without their newlines; each non-empty.
    extensions: Vec<String>,
}

/// Parses a decimal with no sign and no leading zeros (except `0` itself).
pub fn parse_canonical_u64(text: &str, what: &'static str) -> Result<u64, Error> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::malformed(
            what,
            format!("{text:?} is not a decimal number"),
        ));
    }
    if text.len() > 1 && text.starts_with('0') {
        return Err(Error::malformed(
            what,
            format!("{text:?} has leading zeros"),
        ));
    }
    text.parse()
        .map_err(|_| Error::malformed(what, format!("{text:?} does not fit in 64 bits")))
}

impl Checkpoint {
    pub fn new(origin: &str, size: u64, root: Hash) -> Result<Self, Error> {
        if origin.is_empty() || origin.contains('\n') || origin.chars().any(char::is_control) {
            return Err(Error::malformed(
                "checkpoint",
                format!("origin {origin:?} is not a single non-empty line"),
            ));
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions: Vec::new(),
        })
    }

    /// The extension lines after the root, in order (none for the
    /// checkpoints this log writes).
    pub fn extensions(&self) -> &[String] {
        &self.extensions
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn root(&self) -> &Hash {
        &self.root
    }

    /// The note text: three lines and any extension lines, each ending in
    /// a newline.
    pub fn to_text(&self) -> String {
        let mut text = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            self.root.to_base64()
        );
        for line in &self.extensions {
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// Parses the note text of a checkpoint.
    pub fn from_text(text: &str) -> Result<Self, Error> {
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| Error::malformed("checkpoint", "does not end in a newline"))?;
        let lines: Vec<&str> = body.split('\n').collect();
        if lines.len() < 3 {
            return Err(Error::malformed(
                "checkpoint",
                format!("has {} lines, expected 3", lines.len()),
            ));
        }
        let extensions: Vec<String> = lines[3..].iter().map(|l| (*l).to_owned()).collect();
        if let Some(n) = extensions.iter().position(String::is_empty) {
            return Err(Error::malformed(
                "checkpoint",
                format!(
                    "extension line {} is empty (an extension line must not be)",
                    n + 1
                ),
            ));
        }
        let size = parse_canonical_u64(lines[1], "checkpoint tree size")?;
        let root = Hash::from_base64(lines[2])
            .map_err(|e| Error::malformed("checkpoint root hash", e.to_string()))?;
        let mut checkpoint = Checkpoint::new(lines[0], size, root)?;
        checkpoint.extensions = extensions;
        Ok(checkpoint)
    }

    /// Signs this checkpoint with the log key, whose name must be the origin.
    pub fn sign(&self, signer: &NoteSigner) -> Result<SignedNote, Error> {
        if signer.name() != self.origin {
            return Err(Error::malformed(
                "checkpoint",
                format!(
                    "log key {} cannot sign for origin {}",
                    signer.name(),
                    self.origin
                ),
            ));
        }
        signer.sign(&self.to_text())
    }

    /// Parses a signed checkpoint and verifies the log's signature on it.
    pub fn open(bytes: &[u8], log_key: &NoteVerifier) -> Result<(Checkpoint, SignedNote), Error> {
        if log_key.sig_type() != crate::note::SIG_TYPE_ED25519 {
            return Err(Error::malformed(
                "log key",
                "a log signs its checkpoints with an Ed25519 key (type 0x01), not a cosigner key",
            ));
        }
        let note = SignedNote::parse(bytes)?;
        let checkpoint = Checkpoint::from_text(note.text())?;
        if checkpoint.origin != log_key.name() {
            return Err(Error::malformed(
                "checkpoint",
                format!(
                    "origin {:?} is not the log key's name {:?}",
                    checkpoint.origin,
                    log_key.name()
                ),
            ));
        }
        note.verify(log_key)?;
        Ok((checkpoint, note))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::EMPTY_ROOT;

    #[test]
    fn golden_checkpoint_bytes() {
        let signer = NoteSigner::from_seed("oretrace.example/log", [1u8; 32]).unwrap();
        let cp = Checkpoint::new("oretrace.example/log", 0, EMPTY_ROOT).unwrap();
        let note = cp.sign(&signer).unwrap();
        let bytes = String::from_utf8(note.to_bytes()).unwrap();
        assert_eq!(
            bytes,
            "oretrace.example/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n\
             \u{2014} oretrace.example/log sJu16ZRG4S8sqldNkwkzhgmOgxAuvtEuDhQzATzgEwJupVW0fweHFYTCtCBOIo8OiYacjJ2ylko4JCdUblPanTZ/tw0=\n"
        );
        assert_eq!(
            signer.verifier().to_vkey(),
            "oretrace.example/log+b09bb5e9+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c"
        );
        let (opened, _) = Checkpoint::open(bytes.as_bytes(), &signer.verifier()).unwrap();
        assert_eq!(opened, cp);
    }

    #[test]
    fn extension_lines_are_kept_and_signed() {
        let root = EMPTY_ROOT.to_base64();
        let text = format!("o\n0\n{root}\nfirst extension\nsecond\n");
        let cp = Checkpoint::from_text(&text).unwrap();
        assert_eq!(cp.extensions(), ["first extension", "second"]);
        assert_eq!(cp.to_text(), text, "the same text back, byte for byte");
        assert_ne!(cp, Checkpoint::new("o", 0, EMPTY_ROOT).unwrap());
    }

    #[test]
    fn bad_checkpoints_name_the_problem() {
        let root = EMPTY_ROOT.to_base64();
        for (text, want) in [
            (format!("o\n007\n{root}\n"), "leading zeros"),
            (format!("o\n-1\n{root}\n"), "not a decimal"),
            (
                format!("o\n1\n{root}\nx\n\ny\n"),
                "extension line 2 is empty",
            ),
            ("o\n1\nAAAA\n".to_string(), "hash is 3 bytes"),
            (format!("o\n1\n{root}"), "newline"),
            (format!("\n1\n{root}\n"), "origin"),
            (format!("o\n18446744073709551616\n{root}\n"), "64 bits"),
        ] {
            let err = Checkpoint::from_text(&text).unwrap_err().to_string();
            assert!(err.contains(want), "{err:?} should mention {want:?}");
        }
    }

    #[test]
    fn wrong_key_and_wrong_signature_are_refused() {
        let signer = NoteSigner::from_seed("log.example", [2u8; 32]).unwrap();
        let other = NoteSigner::from_seed("log.example", [3u8; 32]).unwrap();
        let note = Checkpoint::new("log.example", 5, EMPTY_ROOT)
            .unwrap()
            .sign(&signer)
            .unwrap();
        let err = Checkpoint::open(&note.to_bytes(), &other.verifier()).unwrap_err();
        assert!(matches!(err, Error::UnknownKey { .. }), "{err}");
        let mut bytes = note.to_bytes();
        let at = bytes.len() - 10;
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        let err = Checkpoint::open(&bytes, &signer.verifier()).unwrap_err();
        assert!(matches!(err, Error::BadSignature { .. }), "{err}");
    }
}
