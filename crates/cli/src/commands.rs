//! What each command does; binaries may use anyhow, libraries may not.

use std::io::{BufRead as _, Write as _};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use oretrace_logdir::{LogReader, TileLog};
use oretrace_tlog::note::{NoteSigner, NoteVerifier};
use oretrace_verify::{Progress, VerifyError};

use crate::cli::{Cli, Command, EpcisCommand, KeygenArgs, LogCommand, VerifyArgs};

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Verify(args) => verify(&args),
        Command::Keygen(args) => keygen(&args),
        Command::Log(cmd) => log(cmd),
        Command::Serve(args) => crate::ledger_cmds::serve(&args),
        Command::Demo(args) => crate::ledger_cmds::demo(&args),
        Command::Record(cmd) => crate::ledger_cmds::record(cmd),
        Command::Rebuild(args) => crate::ledger_cmds::rebuild(&args),
        Command::Migrate(args) => crate::cluster::migrate(&args),
        Command::Epcis(cmd) => epcis(cmd),
        Command::Auth(crate::cli::AuthCommand::Token { server, key }) => {
            crate::epcis_cmds::auth_token(&server, &key)
        }
        Command::Import(args) => crate::epcis_cmds::import(
            &args.file,
            &args.server,
            &args.keys,
            args.token.as_deref(),
            args.error_behaviour,
            args.receipts.as_deref(),
        ),
        Command::Agreement(cmd) => crate::agreement_cmds::run(cmd),
        Command::Provenance(args) => crate::provenance_cmd::provenance(&args),
        Command::Reconcile(args) => crate::reconcile_cmd::reconcile(&args),
        Command::Compliance(args) => crate::compliance_cmd::compliance(&args),
        Command::ValueAdded(args) => crate::value_added_cmd::value_added(&args),
        Command::Passport(args) => crate::passport_cmd::run(&args),
        Command::Audit(args) => crate::audit_cmd::audit(&args),
        Command::Witness(args) => crate::witness_cmd::run(&args),
        Command::CustodyModel(args) => crate::custody_cmd::custody_model(&args),
        Command::Export(args) => match &args.lot {
            Some(lot) if args.upstream => {
                crate::epcis_cmds::export_upstream(&args.server, lot, args.out.as_deref())
            }
            Some(lot) => crate::epcis_cmds::export(&args.server, lot, args.out.as_deref()),
            None => crate::agreement_cmds::export(&args),
        },
    }
}

/// A vkey given on the command line as `flag` (named in the error).
pub(crate) fn parse_vkey(flag: &str, vkey: &str) -> anyhow::Result<NoteVerifier> {
    NoteVerifier::from_vkey(vkey).with_context(|| format!("{flag} {vkey:?}"))
}

/// A progress bar on stderr; hidden when stderr is not a terminal.
pub(crate) struct Bar(indicatif::ProgressBar);

impl Progress for Bar {
    fn start(&self, total: u64) {
        self.0.set_length(total);
    }
    fn advance(&self, done: u64) {
        self.0.set_position(done);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

pub(crate) fn progress_bar() -> Bar {
    let bar = indicatif::ProgressBar::new(0);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} verifying {pos}/{len} entries {wide_bar} {per_sec} eta {eta}",
    ) {
        bar.set_style(style);
    }
    Bar(bar)
}

fn verify(args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let log_key = parse_vkey("--vkey", &args.vkey)?;
    let outcome = if let Some(receipt_path) = &args.inclusion {
        let receipt = std::fs::read(receipt_path)
            .with_context(|| format!("reading {}", receipt_path.display()))?;
        let entry = match &args.entry {
            Some(p) => Some(std::fs::read(p).with_context(|| format!("reading {}", p.display()))?),
            None => None,
        };
        oretrace_verify::verify_receipt(&receipt, entry.as_deref(), &log_key).map(|r| {
            println!(
                "verified: entry {} is in {} at size {} with root {}",
                r.index,
                r.checkpoint.origin(),
                r.checkpoint.size(),
                r.checkpoint.root()
            );
            print_entry(&r.entry, &r.entry_sha256);
        })
    } else {
        return crate::monitor::audit_or_follow(args, &log_key);
    };
    match outcome {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e) => Ok(report_failure(&e)),
    }
}

/// Prints why verification failed; the exit code: 1 for a log (or
/// receipt) that is wrong, with both checkpoints for a fork; 2 when the
/// check could not be made.
pub(crate) fn report_failure(error: &VerifyError) -> ExitCode {
    match error {
        VerifyError::Failed { location, detail } => {
            eprintln!("FAILED: {location}: {detail}");
            ExitCode::from(1)
        }
        VerifyError::Fork(fork) => {
            eprintln!("FAILED: {}", fork.detail);
            eprintln!(
                "evidence: two checkpoints signed by the log's key that no append-only log can both have"
            );
            for seen in [&fork.earlier, &fork.now] {
                eprintln!("--- seen at {}", seen.source);
                eprint!("{}", String::from_utf8_lossy(&seen.note));
            }
            eprintln!("---");
            ExitCode::from(1)
        }
        VerifyError::Operational(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// What a verified entry holds: an oretrace record's kind, subject,
/// record hash and signers (for a captured event, who captured it and
/// how, and the log key that logged it); any other entry's SHA-256.
fn print_entry(entry: &[u8], entry_sha256: &[u8; 32]) {
    let Ok(signed) = oretrace_domain::envelope::SignedRecord::from_entry(entry) else {
        println!(
            "the entry is not an oretrace record; its SHA-256 is {}",
            hex(entry_sha256)
        );
        return;
    };
    let envelope = signed.to_envelope();
    let signers: Vec<&str> = envelope.signatures.iter().map(|s| s.key.as_str()).collect();
    if let oretrace_domain::Record::Event(event) = signed.record() {
        println!("record:   epcis-event {}", event.event_id().as_str());
        println!("record hash: {}", hex(&signed.record_hash()));
        println!(
            "captured by: {} ({})",
            event.captured_by(),
            capture_auth(event.auth())
        );
        println!("logged by: {}", signers.join(", "));
        return;
    }
    let record = serde_json::to_value(&envelope.record).unwrap_or_default();
    let subject = ["id", "lot", "shipment"]
        .iter()
        .find_map(|field| record[*field].as_str())
        .unwrap_or("-");
    println!("record:   {} {subject}", signed.record().kind());
    println!("record hash: {}", hex(&signed.record_hash()));
    println!("signed by: {}", signers.join(", "));
}

/// How a captured event's capturer was authenticated, in words.
fn capture_auth(auth: &oretrace_domain::event::CaptureAuth) -> String {
    match auth {
        oretrace_domain::event::CaptureAuth::Token { key } => format!("bearer token of {key}"),
        oretrace_domain::event::CaptureAuth::Signed { signatures, .. } => {
            let names: Vec<String> = signatures
                .iter()
                .map(|line| line.key().name().to_owned())
                .collect();
            format!("signed document: {}", names.join(", "))
        }
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn keygen(args: &KeygenArgs) -> anyhow::Result<ExitCode> {
    let signer = generate_key(&args.name)?;
    write_secret(&args.out, signer.to_skey().as_bytes())?;
    println!("{}", signer.verifier().to_vkey());
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn generate_key(name: &str) -> anyhow::Result<NoteSigner> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(NoteSigner::from_seed(name, seed)?)
}

/// Creates `path` with mode 0600, refusing to overwrite a key.
pub(crate) fn write_secret(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(bytes)?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    // The new name must survive a crash too.
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing {}", dir.display()))?;
    Ok(())
}

pub(crate) fn read_key(path: &Path) -> anyhow::Result<NoteSigner> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    NoteSigner::from_skey(text.trim())
        .with_context(|| format!("{} is not a signing key", path.display()))
}

fn log(cmd: LogCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        LogCommand::Create { dir, key } => {
            let log = TileLog::create(&dir, read_key(&key)?)?;
            println!("created {} ({})", dir.display(), log.checkpoint().origin());
        }
        LogCommand::Append {
            dir,
            key,
            input,
            batch,
        } => {
            if batch == 0 {
                bail!("--batch must be at least 1");
            }
            let mut log = TileLog::open(&dir, read_key(&key)?)?;
            let reader: Box<dyn std::io::BufRead> = match input.as_deref() {
                None => Box::new(std::io::stdin().lock()),
                Some(p) if p == Path::new("-") => Box::new(std::io::stdin().lock()),
                Some(p) => Box::new(std::io::BufReader::new(
                    std::fs::File::open(p).with_context(|| format!("opening {}", p.display()))?,
                )),
            };
            let mut pending: Vec<Vec<u8>> = Vec::with_capacity(batch);
            let start = log.size();
            for line in reader.split(b'\n') {
                pending.push(line?);
                if pending.len() == batch {
                    log.append(&pending)?;
                    pending.clear();
                }
            }
            log.append(&pending)?;
            let cp = log.checkpoint();
            println!(
                "appended {} entries; size {} root {}",
                cp.size() - start,
                cp.size(),
                cp.root()
            );
        }
        LogCommand::Receipt {
            dir,
            index,
            vkey,
            out,
        } => {
            let reader = LogReader::open(&dir, &parse_vkey("--vkey", &vkey)?)?;
            let receipt = reader.receipt(index)?.to_bytes();
            match out {
                Some(path) => std::fs::write(&path, receipt)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => std::io::stdout().write_all(&receipt)?,
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn read_json(path: &Path) -> anyhow::Result<serde_json::Value> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{} is not JSON", path.display()))
}

fn epcis(cmd: EpcisCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        EpcisCommand::Hash { file, prehash } => {
            let document = read_json(&file)?;
            let hashes = oretrace_epcis::document_event_hashes(&document)
                .with_context(|| format!("hashing the events of {}", file.display()))?;
            let mut out = std::io::stdout().lock();
            if prehash {
                let context = oretrace_epcis::Context::from_document(&document);
                let events = oretrace_epcis::document_events(&document)
                    .with_context(|| format!("the events of {}", file.display()))?;
                for (hash, event) in hashes.iter().zip(events) {
                    writeln!(out, "{hash}")?;
                    writeln!(out, "{}", oretrace_epcis::event_prehash(event, &context)?)?;
                }
                return Ok(ExitCode::SUCCESS);
            }
            for hash in hashes {
                writeln!(out, "{hash}")?;
            }
            Ok(ExitCode::SUCCESS)
        }
        EpcisCommand::Validate { file } => {
            let document = read_json(&file)?;
            let validator = oretrace_epcis_schema::EpcisValidator::shared()
                .map_err(|e| anyhow::anyhow!("loading the EPCIS schema: {e}"))?;
            match validator.validate_document(&document) {
                Ok(()) => {
                    println!("valid: {}", file.display());
                    Ok(ExitCode::SUCCESS)
                }
                Err(violations) => {
                    for v in &violations {
                        eprintln!(
                            "{}: {}{}",
                            if v.pointer.is_empty() {
                                "/"
                            } else {
                                &v.pointer
                            },
                            v.message,
                            oretrace_epcis_map::violation_hint(&document, &v.pointer)
                                .unwrap_or_default()
                        );
                    }
                    eprintln!(
                        "invalid: {} violation(s) in {}",
                        violations.len(),
                        file.display()
                    );
                    Ok(ExitCode::from(1))
                }
            }
        }
    }
}

#[cfg(test)]
mod vkey_tests {
    #[test]
    fn a_bad_vkey_is_named_by_the_flag_it_came_from() {
        let e = super::parse_vkey("--operator-vkey", "not a vkey").unwrap_err();
        assert!(
            format!("{e:#}").starts_with("--operator-vkey \"not a vkey\""),
            "{e:#}"
        );
    }
}
