//! C2SP `tlog-cosignature`, Ed25519 flavour (signature type 0x04): a
//! witness's timestamped statement that it saw a checkpoint consistent with
//! everything it saw before.

use ed25519_dalek::{Signer as _, SigningKey};

use crate::Error;
use crate::note::{NoteSignature, NoteVerifier, SignedNote, check_key_name};

/// `cosignature/v1\ntime <t>\n` followed by the checkpoint's note text.
pub fn signed_message(checkpoint_text: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{checkpoint_text}")
}

/// A witness key that cosigns checkpoints.
pub struct Cosigner {
    verifier: NoteVerifier,
    key: SigningKey,
}

impl std::fmt::Debug for Cosigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Cosigner({})", self.verifier.to_vkey())
    }
}

impl Cosigner {
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Self, Error> {
        check_key_name(name)?;
        let key = SigningKey::from_bytes(&seed);
        Ok(Cosigner {
            verifier: NoteVerifier::cosigner(name, key.verifying_key()),
            key,
        })
    }

    /// The witness's vkey (type 0x04).
    pub fn verifier(&self) -> &NoteVerifier {
        &self.verifier
    }

    /// Cosigns a checkpoint note at `timestamp` (POSIX seconds, < 2^63).
    pub fn cosign(&self, note: &SignedNote, timestamp: u64) -> Result<NoteSignature, Error> {
        if timestamp > i64::MAX as u64 {
            return Err(Error::OutOfRange {
                what: "cosignature",
                detail: "timestamp exceeds 2^63-1".into(),
            });
        }
        let signature = self
            .key
            .sign(signed_message(note.text(), timestamp).as_bytes());
        let mut bytes = timestamp.to_be_bytes().to_vec();
        bytes.extend_from_slice(&signature.to_bytes());
        Ok(NoteSignature {
            name: self.verifier.name().to_owned(),
            key_id: self.verifier.key_id(),
            bytes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::Checkpoint;
    use crate::hash::EMPTY_ROOT;
    use crate::note::NoteSigner;

    #[test]
    fn cosigned_checkpoint_verifies_for_log_and_witness() {
        let log = NoteSigner::from_seed("log.example", [4u8; 32]).unwrap();
        let witness = Cosigner::from_seed("witness.example/w1", [5u8; 32]).unwrap();
        let mut note = Checkpoint::new("log.example", 3, EMPTY_ROOT)
            .unwrap()
            .sign(&log)
            .unwrap();
        let cosig = witness.cosign(&note, 1_679_315_147).unwrap();
        note.push_signature(cosig);
        let parsed = SignedNote::parse(&note.to_bytes()).unwrap();
        parsed.verify(&log.verifier()).unwrap();
        let vkey = witness.verifier().to_vkey();
        let v = NoteVerifier::from_vkey(&vkey).unwrap();
        assert_eq!(v.sig_type(), 0x04);
        assert_eq!(parsed.verify(&v).unwrap().timestamp, Some(1_679_315_147));
        assert_eq!(
            signed_message("log.example\n3\nx=\n", 1_679_315_147),
            "cosignature/v1\ntime 1679315147\nlog.example\n3\nx=\n"
        );
    }
}
