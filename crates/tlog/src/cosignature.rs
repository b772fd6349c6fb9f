//! C2SP `tlog-cosignature`, Ed25519 flavour (signature type 0x04): a
//! witness's timestamped statement that it saw a checkpoint consistent with
//! everything it saw before.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer as _, SigningKey};

use crate::Error;
use crate::note::{
    NoteSignature, NoteVerifier, SIG_TYPE_COSIGNATURE_V1, SignedNote, check_key_name,
    split_key_parts,
};

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

    /// Parses `PRIVATE+KEY+<name>+<hex id>+<base64(0x04 || seed)>`: the
    /// signed-note private key form, with the cosignature type and its key
    /// id.
    pub fn from_skey(text: &str) -> Result<Self, Error> {
        let text = text.trim_end_matches('\n');
        let rest = text
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| Error::malformed("cosigner key", "does not start with PRIVATE+KEY+"))?;
        let (name, id, material) = split_key_parts(rest, "cosigner key")?;
        if material.len() != 33 || material[0] != SIG_TYPE_COSIGNATURE_V1 {
            return Err(Error::malformed(
                "cosigner key",
                "is not a 32-byte Ed25519 seed of type 0x04 (a cosigner key)",
            ));
        }
        let mut seed = [0u8; 32];
        seed.copy_from_slice(&material[1..]);
        let cosigner = Cosigner::from_seed(name, seed)?;
        if cosigner.verifier.key_id() != id {
            return Err(Error::malformed(
                "cosigner key",
                format!(
                    "key id {id:08x} does not match the key ({:08x})",
                    cosigner.verifier.key_id()
                ),
            ));
        }
        Ok(cosigner)
    }

    /// The `PRIVATE+KEY+...` text of this key. Keep it secret.
    pub fn to_skey(&self) -> String {
        let mut material = vec![SIG_TYPE_COSIGNATURE_V1];
        material.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.verifier.name(),
            self.verifier.key_id(),
            STANDARD.encode(material)
        )
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
    fn a_cosigner_key_round_trips_and_other_keys_are_refused() {
        let w = Cosigner::from_seed("witness.example/w1", [5u8; 32]).unwrap();
        let text = w.to_skey();
        let again = Cosigner::from_skey(&format!("{text}\n")).unwrap();
        assert_eq!(again.verifier(), w.verifier());
        let log = NoteSigner::from_seed("log.example", [4u8; 32]).unwrap();
        let err = Cosigner::from_skey(&log.to_skey()).unwrap_err().to_string();
        assert!(err.contains("type 0x04"), "{err}");
        assert!(
            NoteSigner::from_skey(&text).is_err(),
            "and the other way round"
        );
    }

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
