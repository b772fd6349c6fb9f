//! C2SP `tlog-witness` v1, `add-checkpoint`: the request body, the
//! witness's decision over it, and the answers, as bytes. Pure: the
//! witness service supplies the keys it trusts and the state it holds,
//! and stores what [`Accepted`] says after a compare-and-swap
//! (`docs/design/witness.md`); a log uses the same encodings to ask.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::checkpoint::{Checkpoint, parse_canonical_u64};
use crate::hash::{EMPTY_ROOT, Hash};
use crate::note::{NoteSignature, NoteVerifier, SignatureLine, SignedNote};
use crate::proof::verify_consistency;
use crate::{Error, note};

/// At most this many consistency proof lines (the spec's bound).
pub const MAX_PROOF_LINES: usize = 63;

/// A request body larger than this is refused before it is read further:
/// an old size line, 63 proof lines (45 bytes each) and a note of
/// [`note::MAX_NOTE_BYTES`] fit within it.
pub const MAX_BODY_BYTES: usize = note::MAX_NOTE_BYTES + 8 * 1024;

/// The `Content-Type` of a 409 answer.
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// A parsed `add-checkpoint` request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddCheckpoint {
    pub old_size: u64,
    pub proof: Vec<Hash>,
    /// The submitted checkpoint as a note, every signature line kept.
    pub note: SignedNote,
    pub checkpoint: Checkpoint,
}

/// The request body: `old <size>`, the proof lines, an empty line, the
/// checkpoint note.
pub fn request_body(old_size: u64, proof: &[Hash], checkpoint_note: &[u8]) -> Vec<u8> {
    let mut body = format!("old {old_size}\n").into_bytes();
    for hash in proof {
        body.extend_from_slice(hash.to_base64().as_bytes());
        body.push(b'\n');
    }
    body.push(b'\n');
    body.extend_from_slice(checkpoint_note);
    body
}

impl AddCheckpoint {
    /// Parses a request body; every error is the spec's 400.
    pub fn parse(body: &[u8]) -> Result<Self, Error> {
        if body.len() > MAX_BODY_BYTES {
            return Err(Error::malformed(
                "add-checkpoint request",
                format!("is {} bytes, at most {MAX_BODY_BYTES}", body.len()),
            ));
        }
        let text = std::str::from_utf8(body)
            .map_err(|_| Error::malformed("add-checkpoint request", "is not UTF-8"))?;
        // The header's lines are never empty: its end is the first blank
        // line (the note's own blank line comes later).
        let end = text.find("\n\n").ok_or_else(|| {
            Error::malformed(
                "add-checkpoint request",
                "has no empty line before the checkpoint",
            )
        })?;
        let header = &text[..end];
        let note_bytes = &body[end + 2..];
        let mut lines = header.split('\n');
        let old_line = lines.next().unwrap_or_default();
        let old = old_line.strip_prefix("old ").ok_or_else(|| {
            Error::malformed(
                "add-checkpoint request",
                format!("the first line {old_line:?} is not `old <size>`"),
            )
        })?;
        let old_size = parse_canonical_u64(old, "old size")?;
        let mut proof = Vec::new();
        for line in lines {
            if proof.len() == MAX_PROOF_LINES {
                return Err(Error::malformed(
                    "add-checkpoint request",
                    format!("has more than {MAX_PROOF_LINES} consistency proof lines"),
                ));
            }
            let raw = STANDARD.decode(line).map_err(|_| Error::Base64 {
                what: "consistency proof line",
            })?;
            let hash = Hash::from_slice(&raw)?;
            if hash.to_base64() != line {
                return Err(Error::malformed(
                    "consistency proof line",
                    "is not in its canonical base64 form",
                ));
            }
            proof.push(hash);
        }
        let note = SignedNote::parse(note_bytes)?;
        let checkpoint = Checkpoint::from_text(note.text())?;
        Ok(AddCheckpoint {
            old_size,
            proof,
            note,
            checkpoint,
        })
    }
}

/// What a witness holds for one log: the latest checkpoint it cosigned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Witnessed {
    pub size: u64,
    pub root: Hash,
}

/// Why a checkpoint is not cosigned, with the spec's status code.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// 400: the body does not parse, or the old size exceeds the
    /// checkpoint's.
    BadRequest(String),
    /// 403: no valid signature by a key trusted for the origin.
    Forbidden(String),
    /// 404: the origin is not a log this witness witnesses.
    UnknownOrigin(String),
    /// 409: the old size is not the size the witness holds.
    Conflict { size: u64 },
    /// 422: the checkpoint is not consistent with what the witness holds.
    Inconsistent(String),
}

impl Refusal {
    pub fn status(&self) -> u16 {
        match self {
            Refusal::BadRequest(_) => 400,
            Refusal::Forbidden(_) => 403,
            Refusal::UnknownOrigin(_) => 404,
            Refusal::Conflict { .. } => 409,
            Refusal::Inconsistent(_) => 422,
        }
    }

    /// The answer's body: the size line for 409, else the reason.
    pub fn body(&self) -> String {
        match self {
            Refusal::Conflict { size } => format!("{size}\n"),
            Refusal::BadRequest(why)
            | Refusal::Forbidden(why)
            | Refusal::UnknownOrigin(why)
            | Refusal::Inconsistent(why) => format!("{why}\n"),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Conflict { size } => write!(f, "the witness holds size {size}"),
            Refusal::BadRequest(why)
            | Refusal::Forbidden(why)
            | Refusal::UnknownOrigin(why)
            | Refusal::Inconsistent(why) => f.write_str(why),
        }
    }
}

/// A checkpoint that passed every check: cosign it, then store `next` in
/// place of `previous` (a compare-and-swap: if the state is no longer
/// `previous`, answer [`Refusal::Conflict`] with the size now held).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Accepted {
    pub checkpoint: Checkpoint,
    /// The checkpoint's text with the verified signatures of the log's
    /// trusted keys only (the witness's cosignature is added to it).
    pub note: SignedNote,
    pub previous: Option<Witnessed>,
    pub next: Witnessed,
}

/// The witness's decision on a request body, in the order the spec gives
/// its checks. `keys` are the log keys trusted for an origin (`None`: not
/// a log witnessed here); `stored` is what the witness holds for it.
pub fn decide<'k>(
    body: &[u8],
    keys: impl FnOnce(&str) -> Option<&'k [NoteVerifier]>,
    stored: impl FnOnce(&str) -> Option<Witnessed>,
) -> Result<Accepted, Refusal> {
    let request = AddCheckpoint::parse(body).map_err(|e| Refusal::BadRequest(e.to_string()))?;
    let origin = request.checkpoint.origin().to_owned();
    let trusted = keys(&origin).ok_or_else(|| {
        Refusal::UnknownOrigin(format!("no log with origin {origin:?} is witnessed here"))
    })?;
    let mut good: Vec<SignatureLine> = Vec::new();
    for key in trusted {
        match request.note.verify(key) {
            // One line per trusted key (the first; every one verified):
            // repeated lines are not carried into what the witness stores
            // and serves.
            Ok(_) => good.extend(
                request
                    .note
                    .signatures()
                    .iter()
                    .find(|s| s.name == key.name() && s.key_id == key.key_id())
                    .cloned()
                    .map(SignatureLine::from),
            ),
            Err(Error::UnknownKey { .. }) => {}
            Err(e) => return Err(Refusal::Forbidden(e.to_string())),
        }
    }
    if good.is_empty() {
        return Err(Refusal::Forbidden(format!(
            "the checkpoint carries no signature by a key trusted for {origin:?}"
        )));
    }
    let (old, size, root) = (
        request.old_size,
        request.checkpoint.size(),
        *request.checkpoint.root(),
    );
    if old > size {
        return Err(Refusal::BadRequest(format!(
            "the old size {old} is larger than the checkpoint's size {size}"
        )));
    }
    let previous = stored(&origin);
    let held = previous.map_or(0, |w| w.size);
    if old != held {
        return Err(Refusal::Conflict { size: held });
    }
    if size == 0 && root != EMPTY_ROOT {
        return Err(Refusal::Inconsistent(
            "a checkpoint of size 0 must have the empty tree's root".into(),
        ));
    }
    if old == 0 {
        if !request.proof.is_empty() {
            return Err(Refusal::Inconsistent(
                "a consistency proof from size 0 must be empty".into(),
            ));
        }
    } else {
        let held_root = previous.map_or(EMPTY_ROOT, |w| w.root);
        if old == size && held_root != root {
            return Err(Refusal::Inconsistent(format!(
                "the checkpoint's root at size {size} differs from the one cosigned at that size"
            )));
        }
        verify_consistency(old, size, &request.proof, &held_root, &root)
            .map_err(|e| Refusal::Inconsistent(e.to_string()))?;
    }
    let note = SignedNote::from_lines(request.note.text(), good)
        .map_err(|e| Refusal::BadRequest(e.to_string()))?;
    Ok(Accepted {
        checkpoint: request.checkpoint,
        note,
        previous,
        next: Witnessed { size, root },
    })
}

/// A 200 answer's body: one note signature line per cosignature.
pub fn cosignature_body(cosignatures: &[NoteSignature]) -> String {
    cosignatures
        .iter()
        .map(|s| {
            format!(
                "{}{}\n",
                note::SIGNATURE_PREFIX,
                SignatureLine::from(s.clone())
            )
        })
        .collect()
}

/// Reads a 200 answer's body: its signature lines (at most
/// [`note::MAX_SIGNATURES`]).
pub fn parse_cosignatures(body: &[u8]) -> Result<Vec<NoteSignature>, Error> {
    let text = std::str::from_utf8(body)
        .map_err(|_| Error::malformed("cosignature answer", "is not UTF-8"))?;
    let lines = text
        .strip_suffix('\n')
        .ok_or_else(|| Error::malformed("cosignature answer", "does not end in a newline"))?;
    let mut out = Vec::new();
    for line in lines.split('\n') {
        if out.len() == note::MAX_SIGNATURES {
            return Err(Error::malformed(
                "cosignature answer",
                format!("has more than {} lines", note::MAX_SIGNATURES),
            ));
        }
        let rest = line.strip_prefix(note::SIGNATURE_PREFIX).ok_or_else(|| {
            Error::malformed(
                "cosignature answer",
                format!("line {line:?} does not start with an em dash and a space"),
            )
        })?;
        out.push(SignatureLine::parse(rest)?.signature().clone());
    }
    Ok(out)
}

/// Reads a 409 answer's body: the size the witness holds.
pub fn parse_size(body: &[u8]) -> Result<u64, Error> {
    let text = std::str::from_utf8(body)
        .ok()
        .and_then(|t| t.strip_suffix('\n'))
        .ok_or_else(|| Error::malformed("size answer", "is not one line of text"))?;
    parse_canonical_u64(text, "witness size")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cosignature::Cosigner;
    use crate::note::NoteSigner;
    use crate::tree::{MemoryTree, prove_consistency};

    /// A log of `n` entries and its roots by size.
    fn log(n: u64) -> (MemoryTree, Vec<Hash>) {
        let mut tree = MemoryTree::new();
        let mut roots = vec![EMPTY_ROOT];
        for i in 0..n {
            tree.append(crate::leaf_hash(format!("entry {i}").as_bytes()));
            roots.push(tree.root());
        }
        (tree, roots)
    }

    fn signer() -> NoteSigner {
        NoteSigner::from_seed("log.example/a", [7; 32]).unwrap()
    }

    fn note(size: u64, root: Hash) -> Vec<u8> {
        Checkpoint::new("log.example/a", size, root)
            .unwrap()
            .sign(&signer())
            .unwrap()
            .to_bytes()
    }

    fn decide_with(body: &[u8], held: Option<Witnessed>) -> Result<Accepted, Refusal> {
        let keys = [signer().verifier()];
        decide(
            body,
            |o| (o == "log.example/a").then_some(&keys[..]),
            |_| held,
        )
    }

    #[test]
    fn each_check_answers_the_spec_status() {
        let (hashes, roots) = log(20);
        let proof = |a: u64, b: u64| prove_consistency(a, b, &hashes).unwrap();
        let at = |size: u64| Witnessed {
            size,
            root: roots[size as usize],
        };
        // First contact from 0, then from what is held.
        let first = decide_with(&request_body(0, &[], &note(10, roots[10])), None).unwrap();
        assert_eq!(first.next, at(10));
        assert_eq!(first.previous, None);
        let next = decide_with(
            &request_body(10, &proof(10, 20), &note(20, roots[20])),
            Some(at(10)),
        )
        .unwrap();
        assert_eq!(next.next, at(20));
        // The same checkpoint again, from its own size: no proof needed.
        assert!(decide_with(&request_body(20, &[], &note(20, roots[20])), Some(at(20))).is_ok());

        let status = |body: Vec<u8>, held| decide_with(&body, held).unwrap_err().status();
        assert_eq!(status(b"old 01\n\n".to_vec(), None), 400);
        assert_eq!(
            status(request_body(11, &[], &note(10, roots[10])), None),
            400
        );
        assert_eq!(
            decide_with(
                &request_body(5, &proof(5, 10), &note(10, roots[10])),
                Some(at(8))
            ),
            Err(Refusal::Conflict { size: 8 })
        );
        assert_eq!(
            decide_with(&request_body(5, &proof(5, 10), &note(10, roots[10])), None),
            Err(Refusal::Conflict { size: 0 })
        );
        // A wrong proof, a fork at the same size, a non-empty proof from 0,
        // a size-0 checkpoint with another root.
        assert_eq!(
            status(
                request_body(10, &proof(9, 20), &note(20, roots[20])),
                Some(at(10))
            ),
            422
        );
        assert_eq!(
            status(request_body(10, &[], &note(10, roots[11])), Some(at(10))),
            422
        );
        assert_eq!(
            status(request_body(0, &proof(5, 10), &note(10, roots[10])), None),
            422
        );
        assert_eq!(status(request_body(0, &[], &note(0, roots[3])), None), 422);
        // Another log's key, and an unknown origin.
        let other = NoteSigner::from_seed("log.example/a", [8; 32]).unwrap();
        let forged = Checkpoint::new("log.example/a", 10, roots[10])
            .unwrap()
            .sign(&other)
            .unwrap()
            .to_bytes();
        assert_eq!(status(request_body(0, &[], &forged), None), 403);
        let elsewhere = NoteSigner::from_seed("log.example/b", [7; 32]).unwrap();
        let unknown = Checkpoint::new("log.example/b", 10, roots[10])
            .unwrap()
            .sign(&elsewhere)
            .unwrap()
            .to_bytes();
        assert_eq!(status(request_body(0, &[], &unknown), None), 404);
    }

    #[test]
    fn a_bad_signature_by_a_trusted_key_is_forbidden_and_others_are_ignored() {
        let (_, roots) = log(3);
        let good = note(3, roots[3]);
        // A stranger's signature line is ignored and not carried on.
        let stranger = NoteSigner::from_seed("someone.example", [9; 32]).unwrap();
        let mut parsed = SignedNote::parse(&good).unwrap();
        let extra = stranger.sign(parsed.text()).unwrap().signatures()[0].clone();
        parsed.push_signature(extra);
        let ok = decide_with(&request_body(0, &[], &parsed.to_bytes()), None).unwrap();
        assert_eq!(
            ok.note.signatures().len(),
            1,
            "only the log's own line is kept"
        );
        // The trusted key's line with one byte changed.
        let mut bad = good.clone();
        let at = bad.len() - 6;
        bad[at] = if bad[at] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            decide_with(&request_body(0, &[], &bad), None)
                .unwrap_err()
                .status(),
            403
        );
    }

    #[test]
    fn repeated_log_signature_lines_are_kept_once() {
        let (_, roots) = log(3);
        let mut note = SignedNote::parse(&note(3, roots[3])).unwrap();
        let line = note.signatures()[0].clone();
        for _ in 0..62 {
            note.push_signature(line.clone());
        }
        let ok = decide_with(&request_body(0, &[], &note.to_bytes()), None).unwrap();
        assert_eq!(ok.note.signatures().len(), 1);
    }

    #[test]
    fn bodies_are_parsed_strictly() {
        let (hashes, roots) = log(8);
        let proof = prove_consistency(4, 8, &hashes).unwrap();
        let body = request_body(4, &proof, &note(8, roots[8]));
        let parsed = AddCheckpoint::parse(&body).unwrap();
        assert_eq!((parsed.old_size, parsed.proof.clone()), (4, proof.clone()));
        let text = String::from_utf8(body).unwrap();
        for (bad, why) in [
            (text.replacen("old 4", "old  4", 1), "old size"),
            (text.replacen("old 4", "new 4", 1), "old <size>"),
            // Without the empty line the checkpoint's lines read as proof
            // lines.
            (text.replacen("\n\n", "\n", 1), "base64"),
            ("old 4\n".to_string(), "empty line"),
            (text.replacen(&proof[0].to_base64(), "AAAA", 1), "32"),
            (
                text.replacen(&proof[0].to_base64(), "not base64!", 1),
                "base64",
            ),
        ] {
            let err = AddCheckpoint::parse(bad.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(err.contains(why), "{err:?} should mention {why:?}");
        }
        let many = request_body(4, &vec![proof[0]; 64], &note(8, roots[8]));
        let err = AddCheckpoint::parse(&many).unwrap_err().to_string();
        assert!(err.contains("more than 63"), "{err}");
        assert!(AddCheckpoint::parse(&vec![b'x'; MAX_BODY_BYTES + 1]).is_err());
    }

    #[test]
    fn answers_round_trip_and_cosignatures_verify() {
        let (_, roots) = log(5);
        let accepted = decide_with(&request_body(0, &[], &note(5, roots[5])), None).unwrap();
        let witness = Cosigner::from_seed("witness.example/w1", [3; 32]).unwrap();
        let cosig = witness.cosign(&accepted.note, 1_700_000_000).unwrap();
        let body = cosignature_body(std::slice::from_ref(&cosig));
        assert!(body.starts_with("\u{2014} witness.example/w1 "));
        assert_eq!(
            parse_cosignatures(body.as_bytes()).unwrap(),
            vec![cosig.clone()]
        );
        let mut cosigned = accepted.note.clone();
        cosigned.push_signature(cosig);
        let v = cosigned.verify(witness.verifier()).unwrap();
        assert_eq!(v.timestamp, Some(1_700_000_000));
        assert_eq!(parse_size(b"42\n").unwrap(), 42);
        assert!(parse_size(b"042\n").is_err());
        assert_eq!(Refusal::Conflict { size: 7 }.body(), "7\n");
    }
}
