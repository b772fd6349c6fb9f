//! The command line grammar, as one clap struct per command.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "oretrace",
    version,
    about = "A verifiable registry of critical-mineral value chains"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit a tlog-tiles log (folder or URL) without trusting its server, or check one receipt offline.
    Verify(VerifyArgs),
    /// Generate an Ed25519 signing key; print its verifier key (vkey).
    Keygen(KeygenArgs),
    /// Write a tlog-tiles log in a folder.
    #[command(subcommand)]
    Log(LogCommand),
    /// Serve the ledger: the JSON API, the tlog-tiles log and the OpenAPI document.
    Serve(ServeArgs),
    /// Load the reference scenario into an embedded store and serve it.
    Demo(DemoArgs),
    /// Sign a record with party keys, or submit a signed record to a server.
    #[command(subcommand)]
    Record(RecordCommand),
    /// Drop and rebuild every projection from the log; check the root.
    Rebuild(RebuildArgs),
    /// Bring a PostgreSQL store's schema up to date, or copy a log between
    /// an SQLite data directory and a PostgreSQL database (either way).
    Migrate(MigrateArgs),
    /// GS1 EPCIS 2.0 documents: canonical event hashes and schema validation.
    #[command(subcommand)]
    Epcis(EpcisCommand),
    /// Bearer tokens for EPCIS clients: sign a server challenge with a party key.
    #[command(subcommand)]
    Auth(AuthCommand),
    /// Capture an EPCIS 2.0 document into a server (each event one log entry) and wait for the job.
    Import(ImportArgs),
    /// Write a lot's events as one EPCIS 2.0 document (what `import` takes back), an
    /// agreement as an OCDS 1.1 package, or the registry's agreements, pledges or reports as CSV.
    Export(ExportArgs),
    /// Sealed agreement texts, on the party's side: seal clause by clause, reveal clauses, check a reveal.
    #[command(subcommand)]
    Agreement(AgreementCommand),
    /// Where a lot's elements came from: origin shares per element (site and country),
    /// the steps, custody and sites upstream; optionally the receipts of every record it rests on.
    Provenance(ProvenanceArgs),
    /// Reconcile a shipment: per lot, shipped against received (wet and dry mass,
    /// grade and contained mass per element), flagged outside tolerance. Exits 1
    /// when something is flagged.
    Reconcile(ReconcileArgs),
    /// Judge a lot against the compliance rule packs (DFARS 252.225-7052, FEOC
    /// control, OECD Annex II, EU CRMA): each rule's verdict with the records it
    /// rests on. Exits 1 when a prohibition fails; 0 otherwise (a red flag, a
    /// benchmark exceeded or an unproven verdict is printed, not an exit code).
    Compliance(ComplianceArgs),
    /// Local value addition: the element mass each country exported, per element and
    /// value-chain stage (ore, concentrate, … metal, product), with each stage's share.
    ValueAdded(ValueAddedArgs),
    /// A lot's passport: a W3C Verifiable Credential (VC-JOSE, a compact JWS) with the
    /// checkpoint and the receipts of every record it rests on; `passport verify FILE`
    /// checks one offline (exit 1 naming what failed); `passport key` prints the
    /// credential key of a data directory.
    Passport(PassportArgs),
    /// Scan the whole registry for anomalies (GET /anomalies): lots with no origin,
    /// exports above a site's production, custody gaps (shipped, never received),
    /// records out of time order, mass claimed twice, lots used after consumption.
    /// Each finding with the log indices it rests on. Exits 0 when nothing is found,
    /// 1 when anything is, 2 on an error.
    Audit(AuditArgs),
    /// A site's ISO 22095 chain-of-custody declarations, each judged over a period:
    /// transformations, claims, findings and the account per element. Exits 1 when
    /// a declaration has a finding.
    #[command(name = "custody-model")]
    CustodyModel(CustodyModelArgs),
    /// Run a transparency-log witness (C2SP tlog-witness v1): cosign the checkpoints of
    /// the logs listed in --logs, each only if consistent with the latest one cosigned;
    /// `witness keygen` makes its key.
    Witness(WitnessArgs),
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct WitnessArgs {
    #[command(subcommand)]
    pub command: Option<WitnessCommand>,
    /// The witness's data directory: its state per log (created if absent).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// The witness's private key (from `oretrace witness keygen`; mode 0600).
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// The logs to witness: a tlog-policy file whose `log <vkey> [<url>]` lines name
    /// them (other policy lines are checked, not used; `quorum` may be absent).
    #[arg(long)]
    pub logs: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8451")]
    pub listen: String,
}

#[derive(Debug, Subcommand)]
pub enum WitnessCommand {
    /// Generate a witness key (an Ed25519 cosigner key, signature type 0x04); print
    /// its vkey, which logs and verifiers put in their policy.
    Keygen {
        /// The witness's name: a schema-less URL such as witness.example.org/w1.
        #[arg(long)]
        name: String,
        /// Where to write the private key (created with mode 0600; never overwritten).
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct ComplianceArgs {
    /// The lot's id (a URI).
    pub lot: String,
    /// Server base URL.
    #[arg(long, env = "ORETRACE_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// Only this pack (see GET /rule-packs).
    #[arg(long, value_name = "ID")]
    pub pack: Option<String>,
    /// What if the material had passed through SITE instead of every transit
    /// site it did pass (repeat for several); the verdicts are then about that
    /// route, and say so.
    #[arg(long, value_name = "SITE")]
    pub via: Vec<String>,
    /// Print the server's JSON instead of the verdicts.
    #[arg(long)]
    pub json: bool,
    /// Save the `tlog-proof` receipt of every record the verdicts rest on as
    /// DIR/<index>.tlog-proof (check each with `oretrace verify --inclusion`).
    #[arg(long, value_name = "DIR")]
    pub receipts: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ValueAddedArgs {
    /// Server base URL.
    #[arg(long, env = "ORETRACE_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// Only the exports of this country (ISO 3166-1 alpha-2, e.g. PK).
    #[arg(long)]
    pub country: Option<String>,
    /// Only shipments on or after this day (YYYY-MM-DD, UTC).
    #[arg(long)]
    pub from: Option<String>,
    /// Only shipments before this day (YYYY-MM-DD, UTC).
    #[arg(long)]
    pub to: Option<String>,
    /// Print the server's JSON (the totals and the first 1,000 lots with their
    /// evidence) instead of the table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct PassportArgs {
    #[command(subcommand)]
    pub command: Option<PassportCommand>,
    /// The lot's id (a URI).
    #[arg(required = true)]
    pub lot: Option<String>,
    /// Server base URL.
    #[arg(long, env = "ORETRACE_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// Save the passport (the compact JWS) here instead of printing it.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum PassportCommand {
    /// Check a passport offline: the JWS with the issuer's key, the checkpoint with the
    /// log's key, every receipt against the checkpoint, every record the subject cites.
    Verify {
        /// The passport (a compact JWS, as `oretrace passport LOT --out FILE` saves it).
        file: PathBuf,
        /// The issuer's JWK set (or one JWK), as served at /.well-known/jwks.json.
        #[arg(long, value_name = "FILE")]
        issuer_jwks: PathBuf,
        /// The log's verifier key (C2SP vkey), as served at /vkey.
        #[arg(long, value_name = "VKEY")]
        log_vkey: String,
        /// Print the verified credential as JSON after the summary.
        #[arg(long)]
        json: bool,
    },
    /// Print the public JWK set of a data directory's credential key (created if absent).
    Key {
        /// Data directory.
        #[arg(long, env = "ORETRACE_DATA", default_value = "oretrace-data")]
        data: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Server base URL.
    #[arg(long, env = "ORETRACE_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// Print the findings as JSON (every page merged) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Only findings of this kind: no-origin, export-above-production, custody-gap,
    /// out-of-time-order, claimed-twice, used-after-consumed.
    #[arg(long)]
    pub kind: Option<String>,
}

#[derive(Debug, Args)]
pub struct CustodyModelArgs {
    /// The site's id.
    pub site: String,
    /// Start of the period (inclusive), UTC to the second (2025-01-01T00:00:00Z).
    #[arg(long)]
    pub from: Option<String>,
    /// End of the period (exclusive), UTC to the second.
    #[arg(long)]
    pub to: Option<String>,
    /// Server base URL.
    #[arg(long, env = "ORETRACE_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// Print the API's JSON instead of the summary.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ProvenanceArgs {
    /// The lot's id (a URI).
    pub lot: String,
    /// Server base URL.
    #[arg(long, env = "ORETRACE_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// Print the API's JSON instead of the tree.
    #[arg(long)]
    pub json: bool,
    /// Save the `tlog-proof` receipt of every record the answer rests on as
    /// DIR/<index>.tlog-proof (check each with `oretrace verify --inclusion`).
    #[arg(long, value_name = "DIR")]
    pub receipts: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// The shipment's identifier.
    pub shipment: String,
    /// Server base URL.
    #[arg(long, env = "ORETRACE_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// Print the server's JSON instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Wet and dry mass tolerance, in percent of the shipped mass (default 0.5).
    #[arg(long)]
    pub mass_tolerance: Option<String>,
    /// Grade tolerance, in percentage points (default 2 % of the shipped grade).
    #[arg(long)]
    pub grade_tolerance: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AgreementCommand {
    /// Split TEXT into clauses (paragraphs: blocks separated by blank lines), draw a
    /// fresh salt per clause and print the sealed root and clause count; the opening
    /// (texts and salts) goes to OUT, a private file that never leaves the party.
    Seal {
        /// The agreement text (UTF-8).
        text: PathBuf,
        /// Where to write the opening (created, mode 0600; refused if it exists).
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the reveal of some clauses of an opening (their texts, salts and
    /// inclusion proofs) as JSON; with --agreement and --version, as a `disclosure`
    /// record ready for `record sign`.
    Reveal {
        /// The opening written by `seal`.
        opening: PathBuf,
        /// Clause indices to reveal (0-based, comma-separated), or `all`.
        #[arg(long, default_value = "all")]
        clauses: String,
        /// Print a disclosure record of this agreement (`<party>:<name>`).
        #[arg(long, requires = "version")]
        agreement: Option<String>,
        /// The sealed version the clauses belong to.
        #[arg(long, requires = "agreement")]
        version: Option<u32>,
        /// The record's time (RFC 3339, UTC; default now).
        #[arg(long, requires = "agreement")]
        time: Option<String>,
        /// Mark the record's figures `illustrative` (invented for a demonstration).
        #[arg(long, requires = "agreement")]
        illustrative: bool,
    },
    /// List a registry's agreements: parties, status, disclosure, whether anything is
    /// overdue and who has not confirmed.
    List {
        /// Server base URL.
        #[arg(long, env = "ORETRACE_SERVER", default_value = "http://127.0.0.1:8080")]
        server: String,
        /// Only agreements this party is a party to.
        #[arg(long)]
        party: Option<String>,
        /// Only agreements binding a party of this country (ISO 3166-1 alpha-2).
        #[arg(long)]
        country: Option<String>,
        /// Only agreements with something overdue (as of --as-of, default today).
        #[arg(long)]
        overdue: bool,
        /// The day overdue is computed for (YYYY-MM-DD).
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Show one agreement: every version, who registered and who confirmed it, its
    /// disclosure, pledges against what was delivered.
    Show {
        /// The agreement id (`<party>:<name>`).
        id: String,
        /// Server base URL.
        #[arg(long, env = "ORETRACE_SERVER", default_value = "http://127.0.0.1:8080")]
        server: String,
        /// The day overdue and pledge status are computed for (YYYY-MM-DD).
        #[arg(long)]
        as_of: Option<String>,
        /// Print the server's JSON instead.
        #[arg(long)]
        json: bool,
    },
    /// Check revealed clauses offline: exit 0 if every clause opens the sealed root,
    /// 1 naming the first that does not. The root and count come from --root and
    /// --count, or from the sealed agreement's entry in a tlog-proof receipt checked
    /// against the log's key (--receipt and --vkey).
    Verify {
        /// The reveal: as `reveal` prints it, or a disclosure record (its JSON, or
        /// the answer of GET /records/{index}).
        reveal: PathBuf,
        /// The sealed root (64 hex digits), as the sealed record states it.
        #[arg(
            long,
            required_unless_present = "receipt",
            conflicts_with = "receipt",
            requires = "count"
        )]
        root: Option<String>,
        /// The sealed clause count, as the sealed record states it.
        #[arg(long, requires = "root")]
        count: Option<u64>,
        /// The tlog-proof receipt of the sealed agreement version's log entry
        /// (GET /records/{index}/receipt).
        #[arg(long, requires = "vkey")]
        receipt: Option<PathBuf>,
        /// The log's verifier key, to check the receipt's checkpoint.
        #[arg(long, env = "ORETRACE_VKEY", requires = "receipt")]
        vkey: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Sign a challenge from the server with a registered key; print a bearer token.
    Token {
        /// Server base URL.
        #[arg(long, env = "ORETRACE_SERVER", default_value = "http://127.0.0.1:8080")]
        server: String,
        /// The party's signing key file (from `oretrace keygen`).
        #[arg(long)]
        key: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// An EPCISDocument (JSON / JSON-LD).
    pub file: PathBuf,
    /// Server base URL.
    #[arg(long, env = "ORETRACE_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// Sign the document with this party key (detached signature); repeat for co-signers
    /// (an assay needs the custodian and the laboratory).
    #[arg(long = "key", conflicts_with = "token")]
    pub keys: Vec<PathBuf>,
    /// Capture with a bearer token instead (from `oretrace auth token`).
    #[arg(long, env = "ORETRACE_TOKEN")]
    pub token: Option<String>,
    /// GS1-Capture-Error-Behaviour: rollback (all or nothing), proceed or all.
    #[arg(long, default_value = "rollback", value_parser = parse_behaviour)]
    pub error_behaviour: oretrace_domain::event::CaptureBehaviour,
    /// Save a tlog-proof receipt for each event in the log (captured or
    /// duplicate) to this folder, as <index>.tlog-proof.
    #[arg(long)]
    pub receipts: Option<PathBuf>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["lot", "agreement", "csv"])))]
pub struct ExportArgs {
    /// The lot's id (a URI): its events as an EPCIS 2.0 document.
    #[arg(long)]
    pub lot: Option<String>,
    /// With --lot: the events of everything the lot's provenance rests on
    /// (its upstream lots' making, assays, shipments, receipts and
    /// transformations), in log order, instead of the lot's own events.
    #[arg(long, requires = "lot")]
    pub upstream: bool,
    /// An agreement's id (`<party>:<name>`): its OCDS 1.1 package.
    #[arg(long)]
    pub agreement: Option<String>,
    /// Which OCDS package of the agreement: the record package (releases and
    /// the compiled release; the default) or the release package.
    #[arg(long, value_enum, requires = "agreement")]
    pub ocds: Option<OcdsPackage>,
    /// The whole registry as CSV: agreements, pledges or reports.
    #[arg(long, value_enum)]
    pub csv: Option<CsvExport>,
    /// The day the CSV's computed columns (overdue, status) are computed for,
    /// YYYY-MM-DD (default: the server's today).
    #[arg(long, requires = "csv")]
    pub as_of: Option<String>,
    /// Server base URL.
    #[arg(long, env = "ORETRACE_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// Output file (default stdout).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Which OCDS package `export --agreement` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OcdsPackage {
    Record,
    Releases,
}

/// Which CSV `export --csv` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CsvExport {
    Agreements,
    Pledges,
    Reports,
}

#[derive(Debug, Subcommand)]
pub enum EpcisCommand {
    /// Print the CBV 2.0 event hash (ni:///sha-256;…?ver=CBV2.0) of each event, in document order.
    Hash {
        /// An EPCISDocument, EPCISQueryDocument or single event (JSON / JSON-LD).
        file: PathBuf,
        /// After each hash, print the event's pre-hash string (the canonical text hashed).
        #[arg(long)]
        prehash: bool,
    },
    /// Validate a document against the EPCIS 2.0 JSON Schema; exit 1 listing each violation.
    Validate {
        /// An EPCISDocument (JSON / JSON-LD).
        file: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Data directory (created if absent): the SQLite database and the log key.
    #[arg(long, env = "ORETRACE_DATA", default_value = "oretrace-data")]
    pub data: PathBuf,
    /// Address to listen on.
    #[arg(long, env = "ORETRACE_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// The registry operator's vkey: the key that endorses new parties.
    #[arg(long, env = "ORETRACE_OPERATOR_VKEY")]
    pub operator_vkey: String,
    /// A shared PostgreSQL store (`postgres://user@host:port/db`) instead of
    /// the SQLite database in --data: several nodes serve it, one at a time
    /// sequencing writes (a lease in the database); --data still holds the
    /// log key, which every node of one log shares.
    #[arg(long, env = "ORETRACE_STORE", value_name = "URL")]
    pub store: Option<String>,
    /// This node's name among the nodes sharing --store (default: the
    /// listen address and process id).
    #[arg(long, env = "ORETRACE_NODE")]
    pub node: Option<String>,
    /// The URL other nodes' followers name when they refuse a write
    /// (default: http:// and the address listened on).
    #[arg(long, env = "ORETRACE_ADVERTISE", value_name = "URL")]
    pub advertise: Option<String>,
    /// Seconds the sequencer lease lasts unless renewed (renewed every
    /// third of it); a failed sequencer is replaced after about this long.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub lease_seconds: u64,
    /// A tlog-policy file: its witnesses (each with its URL) are asked to cosign every
    /// new checkpoint, and /checkpoint serves the latest one its quorum cosigned.
    #[arg(long, env = "ORETRACE_WITNESS_POLICY")]
    pub witness_policy: Option<PathBuf>,
    /// Let EPCIS subscriptions deliver to loopback addresses (and over plain
    /// http there): for tests and local receivers, never on a public registry.
    /// Without it only public https destinations are called.
    #[arg(long)]
    pub epcis_allow_loopback_dest: bool,
    /// Seconds before an EPCIS subscription's first retry after a failed delivery
    /// (doubled at each failure, at most an hour; paused after 10 failures).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub epcis_retry_seconds: u64,
    /// The log's origin (key name) for a new data directory; by default
    /// `oretrace.example/log/<8 random hex digits>`, an origin of its own.
    /// A data directory keeps the origin of its log key.
    #[arg(long)]
    pub origin: Option<String>,
    /// Most events one EPCIS capture may hold (GS1-EPCIS-Capture-Limit).
    #[arg(long, default_value_t = 10_000)]
    pub capture_max_events: usize,
    /// Largest EPCIS capture body in bytes (GS1-EPCIS-Capture-File-Size-Limit).
    #[arg(long, default_value_t = 32 * 1024 * 1024)]
    pub capture_max_bytes: usize,
    /// Seconds a capture body may take to arrive once admitted (then 408).
    #[arg(long, default_value_t = 15)]
    pub capture_body_timeout: u64,
    /// Candidate events one client's EPCIS queries may examine per minute
    /// (then 429 with Retry-After); a scan no index serves examines up to 50,000.
    #[arg(long, default_value_t = 200_000)]
    pub query_scan_budget: usize,
    /// Per-element mass balance: how much more of an element, in percent
    /// of each grade whose assay states no uncertainty, a transformation's
    /// assayed outputs may hold than its inputs did before an output's
    /// assay is refused. A rule of the log: `oretrace rebuild` must be
    /// given the same.
    #[arg(long, value_name = "PERCENT", default_value = "2", value_parser = parse_percent)]
    pub element_balance_tolerance: oretrace_domain::values::Percent,
    /// Load the compliance rule packs from DIR (every *.json in it) instead
    /// of the built-in ones (the repository's rules/); a pack that does not
    /// parse stops the start, naming its file, line and rule.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// Apply the schema migrations this build knows to the PostgreSQL store
    /// at URL and print its schema version.
    #[arg(long, value_name = "URL", conflicts_with_all = ["from", "to"])]
    pub store: Option<String>,
    /// The store to copy the log from: an SQLite data directory or a
    /// postgres:// URL.
    #[arg(long, requires = "to")]
    pub from: Option<String>,
    /// The empty store to copy it into: a data directory or a postgres://
    /// URL (of another kind than --from).
    #[arg(long, requires = "from")]
    pub to: Option<String>,
    /// The registry operator's vkey (to replay the log into the target's
    /// projections).
    #[arg(long, env = "ORETRACE_OPERATOR_VKEY")]
    pub operator_vkey: Option<String>,
    /// The element balance tolerance the log was written with.
    #[arg(long, value_name = "PERCENT", default_value = "2", value_parser = parse_percent)]
    pub element_balance_tolerance: oretrace_domain::values::Percent,
}

#[derive(Debug, Args)]
pub struct RebuildArgs {
    #[arg(long, env = "ORETRACE_DATA", default_value = "oretrace-data")]
    pub data: PathBuf,
    #[arg(long, env = "ORETRACE_OPERATOR_VKEY")]
    pub operator_vkey: String,
    /// Per-element mass balance: how much more of an element, in percent
    /// of each grade whose assay states no uncertainty, a transformation's
    /// assayed outputs may hold than its inputs did before an output's
    /// assay is refused. A rule of the log: `oretrace rebuild` must be
    /// given the same.
    #[arg(long, value_name = "PERCENT", default_value = "2", value_parser = parse_percent)]
    pub element_balance_tolerance: oretrace_domain::values::Percent,
}

#[derive(Debug, Subcommand)]
pub enum RecordCommand {
    /// Sign a record (JSON) with one or more keys; print the envelope to post.
    Sign {
        /// The record as JSON (see /openapi.json for the shapes).
        record: PathBuf,
        /// A signing key file (from `oretrace keygen`); repeat for co-signers.
        #[arg(long = "key", required = true)]
        keys: Vec<PathBuf>,
    },
    /// Post a signed envelope to a server; print the index and save the receipt.
    Submit {
        /// The envelope as JSON (from `oretrace record sign`).
        envelope: PathBuf,
        /// Server base URL.
        #[arg(long, env = "ORETRACE_SERVER", default_value = "http://127.0.0.1:8080")]
        server: String,
        /// Where to write the tlog-proof receipt.
        #[arg(long)]
        receipt: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Log location: a folder, or an http(s) URL prefix serving /checkpoint and /tile/...
    #[arg(required_unless_present = "inclusion", conflicts_with = "inclusion")]
    pub location: Option<String>,
    /// The log's verifier key: name+hex(key id)+base64(0x01||public key).
    #[arg(long, env = "ORETRACE_VKEY")]
    pub vkey: String,
    /// Check one tlog-proof receipt offline instead of a whole log.
    #[arg(long, value_name = "RECEIPT")]
    pub inclusion: Option<PathBuf>,
    /// With --inclusion: the entry's bytes (default: the receipt's extra line).
    #[arg(long, requires = "inclusion")]
    pub entry: Option<PathBuf>,
    /// Folder remembering the last verified checkpoint per origin
    /// (default $XDG_STATE_HOME/oretrace/verify or ~/.local/state/oretrace/verify).
    #[arg(long, env = "ORETRACE_VERIFY_STATE")]
    pub state: Option<PathBuf>,
    /// Do not read or update the remembered checkpoint.
    #[arg(long, conflicts_with = "state")]
    pub no_state: bool,
    /// A checkpoint of this log saved elsewhere (a file; repeatable): the log must be
    /// consistent with it, or both signed checkpoints are printed as evidence (exit 1).
    #[arg(long = "checkpoint", value_name = "FILE", conflicts_with = "inclusion")]
    pub checkpoints: Vec<PathBuf>,
    /// A tlog-policy file: the served checkpoint must carry its quorum of witness
    /// cosignatures, and the latest checkpoint each witness with a URL cosigned is
    /// checked against the log too.
    #[arg(long, conflicts_with = "inclusion")]
    pub witness_policy: Option<PathBuf>,
    /// Keep following the log: check every new checkpoint (signature, consistency with
    /// everything seen, quorum, new entries) until a fork is found (exit 1).
    #[arg(long, conflicts_with = "inclusion")]
    pub follow: bool,
    /// With --follow: seconds between polls (doubled after an error, up to 300).
    #[arg(long, default_value_t = 10, requires = "follow")]
    pub interval: u64,
}

#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Key name: for a log, its origin (a schema-less URL such as example.org/log).
    #[arg(long)]
    pub name: String,
    /// Where to write the private key (created with mode 0600; never overwritten).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Create an empty log in DIR, signed by the key in --key.
    Create {
        dir: PathBuf,
        #[arg(long)]
        key: PathBuf,
    },
    /// Append entries: one per line of INPUT (or stdin), one checkpoint per batch.
    Append {
        dir: PathBuf,
        #[arg(long)]
        key: PathBuf,
        /// A file of entries, one per line; `-` or absent for stdin.
        input: Option<PathBuf>,
        /// Entries per checkpoint.
        #[arg(long, default_value_t = 1000)]
        batch: usize,
    },
    /// Write a tlog-proof receipt for the entry at INDEX.
    Receipt {
        dir: PathBuf,
        #[arg(long)]
        index: u64,
        #[arg(long, env = "ORETRACE_VKEY")]
        vkey: String,
        /// Output file (default stdout).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Data directory for the demo (created and loaded if empty).
    #[arg(long, default_value = "oretrace-demo")]
    pub data: PathBuf,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Load the scenario, print where to look, and exit without serving.
    #[arg(long)]
    pub no_serve: bool,
    /// Load the compliance rule packs from DIR instead of the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub rules: Option<PathBuf>,
}

fn parse_percent(text: &str) -> Result<oretrace_domain::values::Percent, String> {
    oretrace_domain::values::Percent::parse(text).map_err(|e| format!("{text:?}: {e}"))
}

fn parse_behaviour(text: &str) -> Result<oretrace_domain::event::CaptureBehaviour, String> {
    oretrace_domain::event::CaptureBehaviour::parse(text).map_err(|e| e.to_string())
}
