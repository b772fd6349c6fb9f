//! `oretrace agreement`: sealed agreement texts on the party's side
//! (`docs/design/agreements.md`). Everything here runs offline: the text
//! and its salts never go to a server.
//!
//! The opening file (`oretrace.opening/v1`, JSON):
//! `{"format", "root", "count", "clauses": [{"index", "salt", "text"}]}`.
//! A reveal (`oretrace.reveal/v1`, JSON):
//! `{"format", "root", "count", "clauses": [{"index", "salt", "text", "proof": [hex…]}]}`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use oretrace_domain::disclosure::{Salt, Sealed, verify_clause};
use oretrace_domain::values::Digest;
use oretrace_tlog::hash::Hash;
use serde_json::{Value, json};

use crate::cli::AgreementCommand;
use crate::commands::{hex, write_secret};

const OPENING: &str = "oretrace.opening/v1";
const REVEAL: &str = "oretrace.reveal/v1";

pub fn run(cmd: AgreementCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AgreementCommand::Seal { text, out } => seal(&text, &out),
        AgreementCommand::Reveal { opening, clauses } => reveal(&opening, &clauses),
        AgreementCommand::Verify {
            reveal,
            root,
            count,
        } => verify(&reveal, &root, count),
    }
}

/// The clauses of a text: its paragraphs (blocks separated by one or more
/// blank lines), each without its surrounding line breaks.
fn paragraphs(text: &str) -> Vec<String> {
    let mut clauses = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                clauses.push(current.join("\n"));
                current.clear();
            }
        } else {
            current.push(line);
        }
    }
    if !current.is_empty() {
        clauses.push(current.join("\n"));
    }
    clauses
}

fn seal(text_file: &Path, out: &Path) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(text_file)
        .with_context(|| format!("reading {} (UTF-8 text)", text_file.display()))?;
    let texts = paragraphs(&text);
    let mut clauses: Vec<(Salt, &str)> = Vec::with_capacity(texts.len());
    for t in &texts {
        let mut salt = [0u8; 32];
        getrandom::fill(&mut salt).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        clauses.push((salt, t.as_str()));
    }
    let sealed =
        Sealed::new(&clauses).with_context(|| format!("sealing {}", text_file.display()))?;
    let opening = json!({
        "format": OPENING,
        "root": hex(sealed.root().as_bytes()),
        "count": sealed.count(),
        "clauses": clauses.iter().enumerate().map(|(i, (s, t))| json!({
            "index": i, "salt": hex(s), "text": t,
        })).collect::<Vec<_>>(),
    });
    write_secret(out, serde_json::to_string_pretty(&opening)?.as_bytes())?;
    println!("root:    {}", hex(sealed.root().as_bytes()));
    println!("clauses: {}", sealed.count());
    println!(
        "opening: {} (private: the texts and salts; keep it, reveal from it)",
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// 32 bytes written as 64 lower-case hex digits (the domain's digest form).
fn hex32(text: &str, what: &str) -> anyhow::Result<[u8; 32]> {
    Digest::parse(text)
        .map(|d| *d.bytes())
        .map_err(|_| anyhow::anyhow!("{what} is not 64 lower-case hex digits"))
}

fn read_json(path: &Path, format: &str) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let value: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    if value["format"] != format {
        bail!("{} is not an {format} file", path.display());
    }
    Ok(value)
}

/// (index, salt, text) of each clause of an opening or a reveal.
fn clauses_of(value: &Value) -> anyhow::Result<Vec<(u64, Salt, String)>> {
    value["clauses"]
        .as_array()
        .context("no clauses")?
        .iter()
        .map(|c| {
            let index = c["index"].as_u64().context("a clause without an index")?;
            let salt = hex32(c["salt"].as_str().unwrap_or_default(), "a clause's salt")?;
            let text = c["text"].as_str().context("a clause without a text")?;
            Ok((index, salt, text.to_owned()))
        })
        .collect()
}

fn reveal(opening_file: &Path, which: &str) -> anyhow::Result<ExitCode> {
    let opening = read_json(opening_file, OPENING)?;
    let clauses = clauses_of(&opening)?;
    let pairs: Vec<(Salt, &str)> = clauses.iter().map(|(_, s, t)| (*s, t.as_str())).collect();
    let sealed = Sealed::new(&pairs).context("the opening's clauses")?;
    if opening["root"] != hex(sealed.root().as_bytes()) {
        bail!("the opening's clauses do not give its root: the file was changed");
    }
    let wanted: Vec<u64> = if which == "all" {
        (0..sealed.count()).collect()
    } else {
        which
            .split(',')
            .map(|i| {
                i.trim()
                    .parse::<u64>()
                    .with_context(|| format!("--clauses: {i:?} is not a clause index"))
            })
            .collect::<anyhow::Result<_>>()?
    };
    let mut listed = Vec::new();
    for index in wanted {
        let (_, salt, text) = clauses
            .get(usize::try_from(index).unwrap_or(usize::MAX))
            .with_context(|| {
                format!(
                    "--clauses: the text has {} clauses, no {index}",
                    sealed.count()
                )
            })?;
        let proof = sealed.proof(index)?;
        listed.push(json!({
            "index": index, "salt": hex(salt), "text": text,
            "proof": proof.iter().map(|h| hex(h.as_bytes())).collect::<Vec<_>>(),
        }));
    }
    let out = json!({
        "format": REVEAL,
        "root": hex(sealed.root().as_bytes()),
        "count": sealed.count(),
        "clauses": listed,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}

fn verify(reveal_file: &Path, root: &str, count: u64) -> anyhow::Result<ExitCode> {
    let root = Hash(hex32(root, "--root")?);
    let reveal = read_json(reveal_file, REVEAL)?;
    let clauses = clauses_of(&reveal)?;
    let proofs: Vec<Vec<Hash>> = reveal["clauses"]
        .as_array()
        .context("no clauses")?
        .iter()
        .map(|c| {
            c["proof"]
                .as_array()
                .context("a clause without a proof")?
                .iter()
                .map(|h| Ok(Hash(hex32(h.as_str().unwrap_or_default(), "a proof hash")?)))
                .collect::<anyhow::Result<Vec<Hash>>>()
        })
        .collect::<anyhow::Result<_>>()?;
    for ((index, salt, text), proof) in clauses.iter().zip(&proofs) {
        if let Err(e) = verify_clause(&root, count, *index, salt, text, proof) {
            println!("FAILED: {e}");
            return Ok(ExitCode::from(1));
        }
    }
    println!(
        "verified: {} clause(s) open the sealed root {} of {count} clauses",
        clauses.len(),
        hex(root.as_bytes())
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::paragraphs;

    #[test]
    fn clauses_are_paragraphs() {
        assert_eq!(
            paragraphs("Article 1.\nScope.\n\n\n  \nArticle 2.\n"),
            ["Article 1.\nScope.", "Article 2."]
        );
        assert!(paragraphs("\n\n").is_empty());
    }
}
