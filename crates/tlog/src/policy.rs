//! C2SP `tlog-policy`: which logs are known, which witnesses, and the
//! quorum of cosignatures a checkpoint needs. Parsed strictly (every
//! error names its line and the rule broken) and evaluated over a
//! cosigned checkpoint note.

use crate::Error;
use crate::note::{NoteVerifier, SIG_TYPE_COSIGNATURE_V1, SIG_TYPE_ED25519, SignedNote};

/// Logs, witnesses and groups a policy may define (the spec recommends
/// supporting at least 32 of each); lines past these are refused.
pub const MAX_LOGS: usize = 256;
pub const MAX_WITNESSES: usize = 256;
pub const MAX_GROUPS: usize = 256;
/// A policy file larger than this is refused unread.
pub const MAX_POLICY_BYTES: usize = 256 * 1024;

/// A log of the policy: its key (whose name is the log's origin) and
/// URL, if given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyLog {
    pub key: NoteVerifier,
    pub url: Option<String>,
    /// The line that defined it (from 1).
    pub line: usize,
}

/// A witness of the policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyWitness {
    pub name: String,
    pub key: NoteVerifier,
    pub url: Option<String>,
    pub line: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Member {
    Witness(usize),
    Group(usize),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Group {
    name: String,
    threshold: usize,
    members: Vec<Member>,
}

/// What the quorum requires.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Quorum {
    None,
    Witness(usize),
    Group(usize),
}

/// A parsed policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    logs: Vec<PolicyLog>,
    witnesses: Vec<PolicyWitness>,
    groups: Vec<Group>,
    /// `None` only for a log list read with [`Policy::parse_logs`].
    quorum: Option<Quorum>,
}

fn err(line: usize, detail: impl Into<String>) -> Error {
    Error::Malformed {
        what: "policy",
        detail: format!("line {line}: {}", detail.into()),
    }
}

impl Policy {
    /// Parses a full policy: exactly one `quorum` line.
    pub fn parse(text: &[u8]) -> Result<Self, Error> {
        let policy = Self::parse_inner(text)?;
        if policy.quorum.is_none() {
            return Err(Error::malformed("policy", "has no quorum line"));
        }
        Ok(policy)
    }

    /// Parses a policy used as a list of logs (a witness's): the same
    /// rules, but the `quorum` line may be absent.
    pub fn parse_logs(text: &[u8]) -> Result<Self, Error> {
        Self::parse_inner(text)
    }

    fn parse_inner(text: &[u8]) -> Result<Self, Error> {
        if text.len() > MAX_POLICY_BYTES {
            return Err(Error::malformed(
                "policy",
                format!("is {} bytes, at most {MAX_POLICY_BYTES}", text.len()),
            ));
        }
        let mut policy = Policy {
            logs: Vec::new(),
            witnesses: Vec::new(),
            groups: Vec::new(),
            quorum: None,
        };
        let body = text.strip_suffix(b"\n").unwrap_or(text);
        for (i, raw) in body.split(|b| *b == b'\n').enumerate() {
            let n = i + 1;
            if let Some(b) = raw
                .iter()
                .find(|b| (**b < 0x20 && **b != b'\t') || **b == 0x7f)
            {
                return Err(err(n, format!("control character 0x{b:02x}")));
            }
            // Names, URLs and comments may hold any octet with the high bit
            // set; this reader needs them as text, so they must be UTF-8.
            let line = std::str::from_utf8(raw)
                .map_err(|_| err(n, "is not UTF-8 (names and URLs are read as text)"))?;
            let words: Vec<&str> = line.split([' ', '\t']).filter(|w| !w.is_empty()).collect();
            let Some((&keyword, args)) = words.split_first() else {
                continue;
            };
            if keyword.starts_with('#') {
                continue;
            }
            match keyword {
                "log" => policy.log_line(n, args)?,
                "witness" => policy.witness_line(n, args)?,
                "group" => policy.group_line(n, args)?,
                "quorum" => policy.quorum_line(n, args)?,
                other => {
                    return Err(err(
                        n,
                        format!("unknown keyword {other:?} (log, witness, group or quorum)"),
                    ));
                }
            }
        }
        Ok(policy)
    }

    fn log_line(&mut self, n: usize, args: &[&str]) -> Result<(), Error> {
        let (vkey, url) = match args {
            [vkey] => (*vkey, None),
            [vkey, url] => (*vkey, Some((*url).to_owned())),
            _ => return Err(err(n, "expected `log <vkey> [<url>]`")),
        };
        let key = NoteVerifier::from_vkey(vkey).map_err(|e| err(n, e.to_string()))?;
        if key.sig_type() != SIG_TYPE_ED25519 {
            return Err(err(
                n,
                "a log's key signs checkpoints: an Ed25519 note key (type 0x01)",
            ));
        }
        if self.same_key(&key) {
            return Err(err(n, "this key is already in the policy"));
        }
        if self.logs.len() == MAX_LOGS {
            return Err(err(n, format!("more than {MAX_LOGS} logs")));
        }
        self.logs.push(PolicyLog { key, url, line: n });
        Ok(())
    }

    fn witness_line(&mut self, n: usize, args: &[&str]) -> Result<(), Error> {
        let (name, vkey, url) = match args {
            [name, vkey] => (*name, *vkey, None),
            [name, vkey, url] => (*name, *vkey, Some((*url).to_owned())),
            _ => return Err(err(n, "expected `witness <name> <vkey> [<url>]`")),
        };
        self.new_name(n, name)?;
        let key = NoteVerifier::from_vkey(vkey).map_err(|e| err(n, e.to_string()))?;
        if key.sig_type() != SIG_TYPE_COSIGNATURE_V1 {
            return Err(err(
                n,
                "a witness's key cosigns: an Ed25519 cosignature key (type 0x04)",
            ));
        }
        if self.same_key(&key) {
            return Err(err(n, "this key is already in the policy"));
        }
        if self.witnesses.len() == MAX_WITNESSES {
            return Err(err(n, format!("more than {MAX_WITNESSES} witnesses")));
        }
        self.witnesses.push(PolicyWitness {
            name: name.to_owned(),
            key,
            url,
            line: n,
        });
        Ok(())
    }

    fn group_line(&mut self, n: usize, args: &[&str]) -> Result<(), Error> {
        let [name, k, members @ ..] = args else {
            return Err(err(n, "expected `group <name> <all|any|k> <name>...`"));
        };
        if members.is_empty() {
            return Err(err(n, "a group lists at least one member"));
        }
        self.new_name(n, name)?;
        let mut list = Vec::with_capacity(members.len());
        for m in members {
            let member = self.member(n, m)?;
            if list.contains(&member) {
                return Err(err(n, format!("{m:?} is listed twice")));
            }
            list.push(member);
        }
        let threshold = match *k {
            "all" => list.len(),
            "any" => 1,
            k => {
                let t: usize = (!k.starts_with('0') && k.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| k.parse().ok())
                    .flatten()
                    .ok_or_else(|| err(n, format!("{k:?} is not all, any or a decimal k")))?;
                if t < 1 || t > list.len() {
                    return Err(err(
                        n,
                        format!("k = {t} must be between 1 and the {} members", list.len()),
                    ));
                }
                t
            }
        };
        if self.groups.len() == MAX_GROUPS {
            return Err(err(n, format!("more than {MAX_GROUPS} groups")));
        }
        self.groups.push(Group {
            name: (*name).to_owned(),
            threshold,
            members: list,
        });
        Ok(())
    }

    fn quorum_line(&mut self, n: usize, args: &[&str]) -> Result<(), Error> {
        let [name] = args else {
            return Err(err(n, "expected `quorum <name>`"));
        };
        if self.quorum.is_some() {
            return Err(err(n, "a policy has exactly one quorum line"));
        }
        self.quorum = Some(if *name == "none" {
            Quorum::None
        } else {
            match self.member(n, name)? {
                Member::Witness(i) => Quorum::Witness(i),
                Member::Group(i) => Quorum::Group(i),
            }
        });
        Ok(())
    }

    fn member(&self, n: usize, name: &str) -> Result<Member, Error> {
        if let Some(i) = self.witnesses.iter().position(|w| w.name == name) {
            return Ok(Member::Witness(i));
        }
        if let Some(i) = self.groups.iter().position(|g| g.name == name) {
            return Ok(Member::Group(i));
        }
        Err(err(
            n,
            format!("{name:?} is not a witness or group defined on an earlier line"),
        ))
    }

    fn new_name(&self, n: usize, name: &str) -> Result<(), Error> {
        if name == "none" {
            return Err(err(n, "`none` is reserved"));
        }
        if self.witnesses.iter().any(|w| w.name == name)
            || self.groups.iter().any(|g| g.name == name)
        {
            return Err(err(n, format!("{name:?} is already defined")));
        }
        Ok(())
    }

    /// Whether `key` wraps a public key already in the policy (whatever its
    /// name, id or type).
    fn same_key(&self, key: &NoteVerifier) -> bool {
        self.logs
            .iter()
            .map(|l| &l.key)
            .chain(self.witnesses.iter().map(|w| &w.key))
            .any(|k| k.public_key() == key.public_key())
    }

    pub fn logs(&self) -> &[PolicyLog] {
        &self.logs
    }

    pub fn witnesses(&self) -> &[PolicyWitness] {
        &self.witnesses
    }

    /// The log whose origin is `origin`.
    pub fn log(&self, origin: &str) -> Option<&PolicyLog> {
        self.logs.iter().find(|l| l.key.name() == origin)
    }

    /// Whether the policy asks for no cosignature (`quorum none`, or a log
    /// list without a quorum line).
    pub fn needs_no_witness(&self) -> bool {
        matches!(self.quorum, None | Some(Quorum::None))
    }

    /// The witnesses (by name) whose cosignature on `note` verifies.
    pub fn cosigned_by(&self, note: &SignedNote) -> Vec<&str> {
        self.witnesses
            .iter()
            .filter(|w| note.verify(&w.key).is_ok())
            .map(|w| w.name.as_str())
            .collect()
    }

    /// Whether the witnesses named in `cosigned` meet the quorum.
    pub fn quorum_met(&self, cosigned: &[&str]) -> bool {
        let witnessed = |i: usize| {
            self.witnesses
                .get(i)
                .is_some_and(|w| cosigned.contains(&w.name.as_str()))
        };
        // Groups refer only to earlier ones: one pass in order.
        let mut met: Vec<bool> = Vec::with_capacity(self.groups.len());
        for g in &self.groups {
            let count = g
                .members
                .iter()
                .filter(|m| match m {
                    Member::Witness(i) => witnessed(*i),
                    Member::Group(i) => met.get(*i).copied().unwrap_or(false),
                })
                .count();
            met.push(count >= g.threshold);
        }
        match &self.quorum {
            None | Some(Quorum::None) => true,
            Some(Quorum::Witness(i)) => witnessed(*i),
            Some(Quorum::Group(i)) => met.get(*i).copied().unwrap_or(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::Checkpoint;
    use crate::cosignature::Cosigner;
    use crate::hash::EMPTY_ROOT;
    use crate::note::NoteSigner;

    fn witness(i: u8) -> Cosigner {
        Cosigner::from_seed(&format!("w{i}.example"), [i; 32]).unwrap()
    }

    fn log() -> NoteSigner {
        NoteSigner::from_seed("log.example", [100; 32]).unwrap()
    }

    fn spec_like() -> String {
        let mut p = format!(
            "# the example of the spec\nlog {} https://log.example/\n",
            log().verifier().to_vkey()
        );
        for i in 1..=3 {
            p.push_str(&format!(
                "witness X{i} {}\n",
                witness(i).verifier().to_vkey()
            ));
        }
        p.push_str("group X-witnesses 2 X1 X2 X3\n");
        for i in 4..=6 {
            p.push_str(&format!(
                "  witness\tY{} {}\n",
                i - 3,
                witness(i).verifier().to_vkey()
            ));
        }
        p.push_str("group Y-witnesses any Y1 Y2 Y3\ngroup X-and-Y all X-witnesses Y-witnesses\nquorum X-and-Y\n");
        p
    }

    #[test]
    fn the_spec_example_evaluates_as_the_spec_says() {
        let policy = Policy::parse(spec_like().as_bytes()).unwrap();
        assert_eq!(policy.logs().len(), 1);
        assert_eq!(
            policy.logs()[0].url.as_deref(),
            Some("https://log.example/")
        );
        assert_eq!(policy.witnesses().len(), 6);
        assert!(policy.quorum_met(&["X1", "X3", "Y2"]));
        assert!(!policy.quorum_met(&["X1", "Y2"]), "one X is not two");
        assert!(!policy.quorum_met(&["X1", "X2", "X3"]), "no Y");
        assert!(policy.log("log.example").is_some());
        // Over a note: only cosignatures that verify count.
        let mut note = Checkpoint::new("log.example", 0, EMPTY_ROOT)
            .unwrap()
            .sign(&log())
            .unwrap();
        for i in [1, 2, 5] {
            note.push_signature(witness(i).cosign(&note.clone(), 1_700_000_000).unwrap());
        }
        let by = policy.cosigned_by(&note);
        assert_eq!(by, ["X1", "X2", "Y2"]);
        assert!(policy.quorum_met(&by));
    }

    #[test]
    fn bad_policies_name_the_line_and_the_rule() {
        let w1 = witness(1).verifier().to_vkey();
        let lg = log().verifier().to_vkey();
        for (text, want) in [
            (format!("log {lg}\n"), "no quorum line"),
            (
                format!("witness A {w1}\nquorum B\n"),
                "line 2: \"B\" is not a witness or group",
            ),
            (
                format!("witness A {w1}\nwitness B {w1}\nquorum A\n"),
                "line 2: this key is already",
            ),
            (
                format!("witness A {w1}\ngroup G 2 A\nquorum G\n"),
                "line 2: k = 2",
            ),
            (
                format!("witness A {w1}\ngroup G 01 A\nquorum G\n"),
                "not all, any",
            ),
            (
                format!("witness A {w1}\ngroup G any A A\nquorum G\n"),
                "listed twice",
            ),
            (format!("witness none {w1}\nquorum none\n"), "reserved"),
            (format!("witness A {lg}\nquorum A\n"), "type 0x04"),
            (format!("log {w1}\nquorum none\n"), "type 0x01"),
            (
                "quorum none\nquorum none\n".to_string(),
                "exactly one quorum",
            ),
            ("frobnicate x\n".to_string(), "unknown keyword"),
            ("quorum none\x0b\n".to_string(), "control character"),
            (format!("log {lg} a b\nquorum none\n"), "expected `log"),
        ] {
            let e = Policy::parse(text.as_bytes()).unwrap_err().to_string();
            assert!(e.contains(want), "{e:?} should contain {want:?}");
        }
    }

    #[test]
    fn a_log_list_needs_no_quorum() {
        let text = format!("# witnessed logs\nlog {}\n\n", log().verifier().to_vkey());
        let p = Policy::parse_logs(text.as_bytes()).unwrap();
        assert!(p.needs_no_witness());
        assert!(p.quorum_met(&[]));
        assert!(Policy::parse(text.as_bytes()).is_err());
    }
}
