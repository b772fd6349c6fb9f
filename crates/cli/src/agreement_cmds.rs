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

use crate::cli::{AgreementCommand, CsvExport, ExportArgs, OcdsPackage};
use crate::commands::{hex, write_secret};

const OPENING: &str = "oretrace.opening/v1";
const REVEAL: &str = "oretrace.reveal/v1";

pub fn run(cmd: AgreementCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AgreementCommand::Seal { text, out } => seal(&text, &out),
        AgreementCommand::Reveal {
            opening,
            clauses,
            agreement,
            version,
            time,
            illustrative,
        } => {
            let record = match (agreement, version) {
                (Some(agreement), Some(version)) => Some(RevealRecord {
                    agreement,
                    version,
                    time,
                    illustrative,
                }),
                _ => None,
            };
            reveal(&opening, &clauses, record)
        }
        AgreementCommand::List {
            server,
            party,
            country,
            overdue,
            as_of,
        } => crate::agreement_show::list(&server, party, country, overdue, as_of),
        AgreementCommand::Show {
            id,
            server,
            as_of,
            json,
        } => crate::agreement_show::show(&server, &id, as_of, json),
        AgreementCommand::Verify {
            reveal,
            root,
            count,
            receipt,
            vkey,
        } => match (root, count, receipt, vkey) {
            (Some(root), Some(count), _, _) => verify(&reveal, Sealing::Given { root, count }),
            (_, _, Some(receipt), Some(vkey)) => {
                verify(&reveal, Sealing::Receipt { receipt, vkey })
            }
            _ => bail!("give --root and --count, or --receipt and --vkey"),
        },
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
    let (root, count) =
        seal_to(&text, out).with_context(|| format!("sealing {}", text_file.display()))?;
    println!("root:    {root}");
    println!("clauses: {count}");
    println!(
        "opening: {} (private: the texts and salts; keep it, reveal from it)",
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Seals `text` (its paragraphs are its clauses), each clause with a
/// fresh 32-byte salt, and writes the opening to `out` (mode 0600).
/// Returns the root (hex) and the clause count: what the agreement
/// record carries.
pub(crate) fn seal_to(text: &str, out: &Path) -> anyhow::Result<(String, u64)> {
    let texts = paragraphs(text);
    let mut clauses: Vec<(Salt, &str)> = Vec::with_capacity(texts.len());
    for t in &texts {
        let mut salt = [0u8; 32];
        getrandom::fill(&mut salt).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
        clauses.push((salt, t.as_str()));
    }
    let sealed = Sealed::new(&clauses)?;
    let root = hex(sealed.root().as_bytes());
    let opening = json!({
        "format": OPENING,
        "root": root,
        "count": sealed.count(),
        "clauses": clauses.iter().enumerate().map(|(i, (s, t))| json!({
            "index": i, "salt": hex(s), "text": t,
        })).collect::<Vec<_>>(),
    });
    write_secret(out, serde_json::to_string_pretty(&opening)?.as_bytes())?;
    Ok((root, sealed.count()))
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

/// What `reveal --agreement` needs to print a disclosure record.
pub(crate) struct RevealRecord {
    pub(crate) agreement: String,
    pub(crate) version: u32,
    pub(crate) time: Option<String>,
    pub(crate) illustrative: bool,
}

fn reveal(
    opening_file: &Path,
    which: &str,
    record: Option<RevealRecord>,
) -> anyhow::Result<ExitCode> {
    let wanted: Option<Vec<u64>> = if which == "all" {
        None
    } else {
        Some(
            which
                .split(',')
                .map(|i| {
                    i.trim()
                        .parse::<u64>()
                        .with_context(|| format!("--clauses: {i:?} is not a clause index"))
                })
                .collect::<anyhow::Result<_>>()?,
        )
    };
    let (root, count, listed) = open_clauses(opening_file, wanted.as_deref())?;
    let out = match record {
        None => json!({
            "format": REVEAL,
            "root": root,
            "count": count,
            "clauses": listed,
        }),
        Some(r) => disclosure_record(r, listed)?,
    };
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}

/// The root (hex), clause count, and the `wanted` clauses (all if
/// `None`) of an opening file, each with its text, salt and proof.
pub(crate) fn open_clauses(
    opening_file: &Path,
    wanted: Option<&[u64]>,
) -> anyhow::Result<(String, u64, Vec<Value>)> {
    let opening = read_json(opening_file, OPENING)?;
    let clauses = clauses_of(&opening)?;
    let pairs: Vec<(Salt, &str)> = clauses.iter().map(|(_, s, t)| (*s, t.as_str())).collect();
    let sealed = Sealed::new(&pairs).context("the opening's clauses")?;
    let root = hex(sealed.root().as_bytes());
    if opening["root"] != root.as_str() {
        bail!("the opening's clauses do not give its root: the file was changed");
    }
    let all: Vec<u64> = (0..sealed.count()).collect();
    let mut listed = Vec::new();
    for &index in wanted.unwrap_or(&all) {
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
    Ok((root, sealed.count(), listed))
}

/// A `disclosure` record of the listed clauses (checked by the domain's
/// own parser, so what is printed is what the registry reads).
pub(crate) fn disclosure_record(r: RevealRecord, clauses: Vec<Value>) -> anyhow::Result<Value> {
    if clauses.len() > oretrace_domain::agreement::MAX_REVEALED {
        bail!(
            "a disclosure record carries at most {} clauses: reveal the rest in another (--clauses)",
            oretrace_domain::agreement::MAX_REVEALED
        );
    }
    let time = match r.time {
        Some(t) => t,
        None => oretrace_domain::values::Timestamp::from_unix(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)),
        )
        .to_string(),
    };
    let value = json!({
        "kind": "disclosure",
        "agreement": r.agreement,
        "version": r.version,
        "clauses": clauses,
        "time": time,
        "figures": if r.illustrative { "illustrative" } else { "reported" },
    });
    let record = oretrace_domain::wire::RecordJson::parse(value.to_string().as_bytes())
        .context("the disclosure record")?;
    Ok(serde_json::to_value(
        oretrace_domain::wire::RecordJson::of(&record),
    )?)
}

/// Where the sealed root and clause count come from.
enum Sealing {
    Given {
        root: String,
        count: u64,
    },
    /// The sealed version's entry, proven in the log by a receipt.
    Receipt {
        receipt: std::path::PathBuf,
        vkey: String,
    },
}

/// The clauses a file reveals, and the agreement and version it names if
/// it is a disclosure record.
type Revealed = (Vec<Value>, Option<(String, u64)>);

/// The revealed clauses of a file: an `oretrace.reveal/v1` file, a
/// disclosure record's JSON, or `GET /records/{index}`'s answer for one;
/// with the agreement and version a disclosure record names.
fn revealed_clauses(path: &Path) -> anyhow::Result<Revealed> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let value: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    // `GET /records/{index}` answers `{"index", "kind", "record", …}`; a
    // disclosure record's own JSON is `{"kind", "agreement", …}`.
    let record = if value["record"]["kind"] == "disclosure" {
        Some(&value["record"])
    } else if value["kind"] == "disclosure" {
        Some(&value)
    } else {
        None
    };
    match record {
        Some(r) => {
            let agreement = r["agreement"].as_str().context("no agreement")?.to_owned();
            let version = r["version"].as_u64().context("no version")?;
            let clauses = r["clauses"].as_array().context("no clauses")?.clone();
            Ok((clauses, Some((agreement, version))))
        }
        None if value["format"] == REVEAL => Ok((
            value["clauses"].as_array().context("no clauses")?.clone(),
            None,
        )),
        None => bail!(
            "{} is neither an {REVEAL} file nor a disclosure record",
            path.display()
        ),
    }
}

fn verify(reveal_file: &Path, sealing: Sealing) -> anyhow::Result<ExitCode> {
    let (clauses, names) = revealed_clauses(reveal_file)?;
    let (root, count, source) = match sealing {
        Sealing::Given { root, count } => (Hash(hex32(&root, "--root")?), count, None),
        Sealing::Receipt { receipt, vkey } => {
            let log_key = crate::commands::parse_vkey("--vkey", &vkey)?;
            let bytes = std::fs::read(&receipt)
                .with_context(|| format!("reading {}", receipt.display()))?;
            let report = match oretrace_verify::verify_receipt(&bytes, None, &log_key) {
                Ok(r) => r,
                Err(e) => {
                    println!("FAILED: the receipt: {e}");
                    return Ok(ExitCode::from(1));
                }
            };
            let signed = oretrace_domain::envelope::SignedRecord::from_entry(&report.entry)
                .context("the receipt's entry is not a record")?;
            let oretrace_domain::Record::Agreement(a) = signed.record() else {
                println!(
                    "FAILED: the receipt's entry is a {} record, not an agreement version",
                    signed.record().kind()
                );
                return Ok(ExitCode::from(1));
            };
            let oretrace_domain::agreement::Terms::Sealed { root, count, .. } = &a.terms else {
                println!(
                    "FAILED: agreement {} version {} is public: nothing was sealed",
                    a.id, a.version
                );
                return Ok(ExitCode::from(1));
            };
            if let Some((agreement, version)) = &names
                && (agreement != a.id.as_str() || *version != u64::from(a.version))
            {
                println!(
                    "FAILED: the reveal is of {agreement} version {version}, the receipt's entry is {} version {}",
                    a.id, a.version
                );
                return Ok(ExitCode::from(1));
            }
            let source = format!(
                "agreement {} version {}, log entry {} under checkpoint {} size {}",
                a.id,
                a.version,
                report.index,
                report.checkpoint.origin(),
                report.checkpoint.size()
            );
            (Hash(*root.bytes()), u64::from(*count), Some(source))
        }
    };
    let mut indices = Vec::new();
    for c in &clauses {
        let index = c["index"].as_u64().context("a clause without an index")?;
        let salt = hex32(c["salt"].as_str().unwrap_or_default(), "a clause's salt")?;
        let text = c["text"].as_str().context("a clause without a text")?;
        let proof = c["proof"]
            .as_array()
            .context("a clause without a proof")?
            .iter()
            .map(|h| Ok(Hash(hex32(h.as_str().unwrap_or_default(), "a proof hash")?)))
            .collect::<anyhow::Result<Vec<Hash>>>()?;
        if let Err(e) = verify_clause(&root, count, index, &salt, text, &proof) {
            // The error names the clause.
            println!("FAILED: {e}");
            return Ok(ExitCode::from(1));
        }
        indices.push(index.to_string());
    }
    println!(
        "verified: {} clause(s) ({}) open the sealed root {} of {count} clauses",
        clauses.len(),
        indices.join(", "),
        hex(root.as_bytes())
    );
    match source {
        Some(source) => println!("sealed in: {source}"),
        // A proof fixes each clause's place under the root, not the number
        // of clauses: a tree of another size can have the same path.
        None => println!(
            "root and count as given: check them against the sealed record (--receipt reads both from it)"
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// `oretrace export --agreement ID [--ocds record|releases]` or
/// `oretrace export --csv agreements|pledges|reports [--as-of DAY]`:
/// downloads the export from the server as it is, to `--out` or stdout,
/// and says on stderr which published checkpoint it was cut at.
pub fn export(args: &ExportArgs) -> anyhow::Result<ExitCode> {
    crate::epcis_cmds::check_server(&args.server)?;
    let base = args.server.trim_end_matches('/');
    let (url, what) = match (&args.agreement, args.csv) {
        (Some(id), _) => {
            if id.is_empty() || id.contains(['/', '?', '#']) {
                bail!("--agreement {id:?} is not an agreement id (<party>:<name>)");
            }
            let tail = match args.ocds {
                None | Some(OcdsPackage::Record) => "",
                Some(OcdsPackage::Releases) => "/releases",
            };
            (
                format!("{base}/agreements/{id}/ocds{tail}"),
                format!("the OCDS package of {id}"),
            )
        }
        (None, Some(csv)) => {
            let name = match csv {
                CsvExport::Agreements => "agreements",
                CsvExport::Pledges => "pledges",
                CsvExport::Reports => "reports",
            };
            let mut url = format!("{base}/exports/{name}.csv");
            if let Some(day) = &args.as_of {
                oretrace_domain::money::Date::parse(day)
                    .map_err(|e| anyhow::anyhow!("--as-of: {e}"))?;
                url.push_str(&format!("?asOf={day}"));
            }
            (url, format!("{name}.csv"))
        }
        (None, None) => bail!("say what to export: --lot, --agreement or --csv"),
    };
    let response = crate::epcis_cmds::client()?
        .get(&url)
        .send()
        .with_context(|| format!("GET {url}"))?;
    let status = response.status();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let checkpoint = (
        header("oretrace-checkpoint-size"),
        header("oretrace-checkpoint-root"),
    );
    let body = response
        .bytes()
        .with_context(|| format!("reading {what} from {url}"))?;
    if !status.is_success() {
        bail!(
            "{what}: {}",
            crate::epcis_cmds::refusal(status, &String::from_utf8_lossy(&body))
        );
    }
    match &args.out {
        Some(path) => {
            std::fs::write(path, &body).with_context(|| format!("writing {}", path.display()))?;
            eprintln!("{what} written to {}", path.display());
        }
        None => {
            use std::io::Write as _;
            std::io::stdout()
                .write_all(&body)
                .context("writing to stdout")?;
        }
    }
    if let (Some(size), Some(root)) = checkpoint {
        eprintln!("cut at the published checkpoint of size {size}, root {root}");
    }
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
