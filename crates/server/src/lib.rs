//! The HTTP API over the ledger.
//!
//! * `POST /records` takes a signed record (JSON envelope or signed-note
//!   entry) and answers once it is durable, with its index and a
//!   `tlog-proof` receipt ([`records`]).
//! * `GET /parties`, `/sites`, `/lots` (a page at a time, by id),
//!   `/records/…` read the registry ([`registry`], [`records`]);
//!   `GET /lots/{id}/provenance` traces a lot to its origins, and
//!   `/lots/{id}/provenance/events` gives the EPCIS 2.0 document of the
//!   events that answer rests on.
//! * `GET /lots/{id}/passport`: the lot passport, a Verifiable Credential
//!   signed as a compact JWS with its log receipts ([`passport`]), and
//!   `GET /.well-known/jwks.json`, the key that signs it.
//! * `GET /sites/{id}/custody-model`: the site's chain-of-custody
//!   declarations judged over a period ([`custody`]).
//! * `GET /shipments/{id}/reconciliation`: shipped against received per
//!   lot, flagged outside tolerance ([`reconciliation`]).
//! * `GET /value-addition`: the stage each exported lot left its country
//!   at, and the element mass exported per country, element and stage
//!   ([`value_added`]).
//! * The EPCIS 2.0 interface ([`epcis`]), with its limits per party
//!   (capture slots, jobs, tokens, named queries) and per client (the
//!   candidate events its queries examine, `budget`).
//! * `GET /agreements/{id}/ocds…` and `/exports/…csv`: the OCDS 1.1
//!   packages of an agreement and CSV of the whole registry, each cut at
//!   a published checkpoint ([`exports`]).
//! * `GET /checkpoint`, `/tile/…`, `/vkey` serve the log as C2SP
//!   `tlog-tiles`, so any tlog-tiles auditor can check the live server
//!   ([`log`]).
//! * `GET /assets/{name}`: the portal's scripts and map data, compiled in
//!   ([`assets`]).
//! * Every error is an RFC 7807 problem ([`error`]).
//!
//! The app is built by one function, [`router`], so tests drive it
//! in-process; [`serve`] runs it on a listener. This is the only crate
//! that knows HTTP; it knows no storage backend (the ledger is generic
//! over [`Store`]).

mod agreements;
mod anomalies;
pub mod assets;
mod budget;
pub mod compliance;
mod custody;
pub mod epcis;
pub mod error;
pub mod exports;
mod heavy;
pub mod inbox;
mod log;
pub mod openapi;
pub mod passport;
mod portal;
mod reconciliation;
mod records;
mod registry;
mod totals;
mod value_added;
mod witnessing;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::handler::Handler;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{MethodRouter, get, post};
use oretrace_domain::jose::CredentialKey;
use oretrace_ledger::Store;
use oretrace_ledger::ledger::Ledger;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use error::{ApiError, Problem};
pub use registry::{DEFAULT_PER_PAGE as DEFAULT_LIST_PER_PAGE, MAX_PER_PAGE as MAX_LIST_PER_PAGE};

/// How long one request may take before it is answered 503.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest request target (path and query) read; longer ones are
/// answered 414 with a problem body. (Past 64 KiB the HTTP parser itself
/// answers 414, before any of this code runs, without a body.)
pub const MAX_URI_BYTES: usize = 32 * 1024;

/// Settings of the HTTP layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    /// Largest request body accepted (EPCIS capture aside); larger ones
    /// are answered 413.
    pub max_body_bytes: usize,
    /// Largest EPCIS capture body (`GS1-EPCIS-Capture-File-Size-Limit`).
    pub capture_max_bytes: usize,
    /// Most events one capture may hold (`GS1-EPCIS-Capture-Limit`).
    pub capture_max_events: usize,
    /// How long a capture body may take to arrive once the capture holds
    /// a slot; a slower one is answered 408.
    pub capture_body_timeout: Duration,
    /// Candidate events the EPCIS queries of one client (an IP address, an
    /// IPv6 /64) may examine in a burst; refilled over
    /// `client_scan_refill`. A query an index serves examines about a
    /// page; a scan up to 50,000.
    pub client_scan_budget: usize,
    /// How long an exhausted client budget takes to refill.
    pub client_scan_refill: Duration,
    /// Who publishes the OCDS exports ([`exports`]).
    pub ocds: OcdsPublisher,
    /// How much of the registry one `GET /lots/{id}/provenance` reads;
    /// past it the answer is 413, naming the bound.
    pub provenance: oretrace_ledger::provenance::ProvenanceLimits,
    /// The compliance rule packs `GET /lots/{id}/compliance` evaluates
    /// (the built-in ones unless `--rules DIR`); loaded once at start.
    pub rule_packs: &'static [oretrace_provenance::rules::RulePack],
    /// How much of the log one `GET /anomalies` scans (past it the answer
    /// is 413, naming the bound) and when a shipment is a custody gap.
    pub anomalies: oretrace_ledger::anomalies::AnomalyLimits,
    /// The witnesses asked to cosign each checkpoint and the quorum
    /// `/checkpoint` waits for (`tlog-policy`); `None`: no witnesses, the
    /// log's own checkpoint is served.
    pub witnesses: Option<&'static oretrace_tlog::policy::Policy>,
    /// Subscriptions may deliver to loopback addresses (`http` allowed
    /// there): for tests and the demo; never on a public registry.
    pub subscription_loopback: bool,
    /// The first wait after a failed delivery (doubled at each failure,
    /// at most an hour).
    pub subscription_retry: Duration,
}

/// The registry as publisher of its OCDS exports
/// (`docs/design/agreements.md`, "OCDS mapping"): set once per registry,
/// since every `ocid` and release id it publishes carries the prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OcdsPublisher {
    /// The OCDS prefix: `ocid` = `ocds-<prefix>-<agreement id>`. A
    /// registry that publishes to the OCDS Data Registry uses the prefix
    /// the Open Contracting Partnership assigned it; the default,
    /// `oretrace`, is not an assigned prefix.
    pub prefix: &'static str,
    /// The publisher's name, as each package's `publisher.name` states it.
    pub name: &'static str,
    /// The public base URL of this API (no trailing slash), for each
    /// package's `uri`, `publisher.uri` and the links to records. `None`
    /// (the default) takes `http://` and the request's `Host`.
    pub base_url: Option<&'static str>,
}

impl Default for OcdsPublisher {
    fn default() -> Self {
        OcdsPublisher {
            prefix: "oretrace",
            name: "oretrace registry",
            base_url: None,
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_body_bytes: 256 * 1024,
            capture_max_bytes: 32 * 1024 * 1024,
            capture_max_events: 10_000,
            capture_body_timeout: Duration::from_secs(15),
            client_scan_budget: 200_000,
            client_scan_refill: Duration::from_secs(60),
            ocds: OcdsPublisher::default(),
            provenance: oretrace_ledger::provenance::ProvenanceLimits::DEFAULT,
            rule_packs: compliance::built_in_packs(),
            anomalies: oretrace_ledger::anomalies::AnomalyLimits::DEFAULT,
            witnesses: None,
            subscription_loopback: false,
            subscription_retry: Duration::from_secs(30),
        }
    }
}

/// What every handler sees.
#[derive(Debug)]
struct AppState<S: Store> {
    ledger: Arc<Ledger<S>>,
    config: ServerConfig,
    epcis: Arc<epcis::EpcisState>,
    scan_budget: Arc<budget::ScanBudget>,
    heavy: Arc<heavy::HeavyReads>,
    /// The registry's credential key, which signs lot passports.
    credential: Option<Arc<CredentialKey>>,
    /// Cosignatures collected from the policy's witnesses, if any.
    witnessing: Option<Arc<witnessing::Witnessing>>,
    /// Answers that read a lot's whole upstream graph (provenance, its
    /// events, passports) computed at once: each can hold tens of MiB
    /// until it is sent, so a crowd of them waits here rather than
    /// growing the process without bound.
    upstream_answers: Arc<tokio::sync::Semaphore>,
}

/// Upstream-graph answers computed at once ([`AppState`]).
pub const UPSTREAM_ANSWERS_AT_ONCE: usize = 2;

impl<S: Store> Clone for AppState<S> {
    fn clone(&self) -> Self {
        AppState {
            ledger: self.ledger.clone(),
            config: self.config,
            epcis: self.epcis.clone(),
            scan_budget: self.scan_budget.clone(),
            heavy: self.heavy.clone(),
            credential: self.credential.clone(),
            witnessing: self.witnessing.clone(),
            upstream_answers: self.upstream_answers.clone(),
        }
    }
}

impl<S: Store> AppState<S> {
    /// A turn to compute an upstream-graph answer; held until the answer
    /// is serialised.
    pub(crate) async fn upstream_turn(
        &self,
    ) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
        self.upstream_answers
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| ApiError::internal("the server is shutting down"))
    }

    fn limits(&self) -> epcis::capture::Limits {
        epcis::capture::Limits {
            max_bytes: self.config.capture_max_bytes,
            max_events: self.config.capture_max_events,
        }
    }
}

/// Runs a synchronous ledger or store call on the blocking pool.
async fn blocking<S: Store, T: Send + 'static>(
    ledger: &Arc<Ledger<S>>,
    read: impl FnOnce(&Ledger<S>) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let ledger = ledger.clone();
    tokio::task::spawn_blocking(move || read(&ledger))
        .await
        .map_err(|e| ApiError::internal(format!("a blocking task failed: {e}")))?
}

/// The routes, built once with the table of what they are, so the table
/// ([`routes`]) cannot drift from the router.
struct Api<S: Store> {
    router: Router<AppState<S>>,
    table: Vec<(Method, &'static str)>,
}

impl<S: Store> Api<S> {
    fn route(
        mut self,
        method: Method,
        path: &'static str,
        handler: MethodRouter<AppState<S>>,
    ) -> Self {
        self.table.push((method, path));
        self.router = self.router.route(path, handler);
        self
    }

    fn get<H: Handler<T, AppState<S>>, T: 'static>(self, path: &'static str, handler: H) -> Self {
        self.route(Method::GET, path, get(handler))
    }

    /// A negotiated route: `html` answers a request that prefers HTML,
    /// `json` every other one, exactly as it would alone
    /// (`docs/design/portal.md`).
    fn page<H: Handler<T, AppState<S>>, T: 'static>(
        self,
        path: &'static str,
        json: H,
        html: portal::PageFn<S>,
    ) -> Self {
        self.route(
            Method::GET,
            path,
            get(move |State(state): State<AppState<S>>, request: Request| {
                portal::negotiate(state, request, json, html)
            }),
        )
    }

    fn post<H: Handler<T, AppState<S>>, T: 'static>(self, path: &'static str, handler: H) -> Self {
        self.route(Method::POST, path, post(handler))
    }

    fn delete<H: Handler<T, AppState<S>>, T: 'static>(
        self,
        path: &'static str,
        handler: H,
    ) -> Self {
        self.route(Method::DELETE, path, axum::routing::delete(handler))
    }

    fn options<H: Handler<T, AppState<S>>, T: 'static>(
        self,
        path: &'static str,
        handler: H,
    ) -> Self {
        self.route(Method::OPTIONS, path, axum::routing::options(handler))
    }
}

fn api<S: Store>() -> Api<S> {
    Api {
        router: Router::new(),
        table: Vec::new(),
    }
    .page("/", epcis::discovery::top_level, portal::pages::index::<S>)
    .page(
        "/flows",
        portal::data::flows::<S>,
        portal::pages::flows::<S>,
    )
    .page("/map", portal::data::map::<S>, portal::pages::map::<S>)
    .page(
        "/search",
        portal::data::search::<S>,
        portal::pages::search::<S>,
    )
    .page(
        "/downloads",
        portal::data::downloads::<S>,
        portal::pages::downloads::<S>,
    )
    .post("/records", records::submit::<S>)
    .get("/records/{index}", records::record::<S>)
    .get("/records/{index}/receipt", records::receipt::<S>)
    .get("/records/by-hash/{hash}", records::by_hash::<S>)
    .get("/parties", registry::parties::<S>)
    .page(
        "/parties/{id}",
        registry::party::<S>,
        portal::pages::party::<S>,
    )
    .get("/sites", registry::sites::<S>)
    .page("/sites/{id}", registry::site::<S>, portal::pages::site::<S>)
    .get("/sites/{id}/custody-model", custody::custody_model::<S>)
    .get(
        "/shipments/{id}/reconciliation",
        reconciliation::reconciliation::<S>,
    )
    .get("/value-addition", value_added::value_addition::<S>)
    .get("/lots", registry::lots::<S>)
    .page("/lots/{id}", registry::lot::<S>, portal::pages::lot::<S>)
    .get("/lots/{id}/provenance", registry::provenance::<S>)
    .get("/lots/{id}/passport", passport::passport::<S>)
    .get("/.well-known/jwks.json", passport::jwks::<S>)
    .get(
        "/lots/{id}/provenance/events",
        registry::provenance_events::<S>,
    )
    .get("/lots/{id}/compliance", compliance::compliance::<S>)
    .get("/rule-packs", compliance::rule_packs::<S>)
    .get("/rule-packs/{id}", compliance::rule_pack::<S>)
    .get("/agreements", agreements::agreements::<S>)
    .page(
        "/agreements/{id}",
        agreements::agreement::<S>,
        portal::pages::agreement::<S>,
    )
    .get("/agreements/{id}/pledges", agreements::pledges::<S>)
    .get("/agreements/{id}/progress", agreements::progress::<S>)
    .get(
        "/agreements/{id}/versions/{version}",
        agreements::version::<S>,
    )
    .get(
        "/agreements/{id}/versions/{version}/clauses",
        agreements::clauses::<S>,
    )
    .get("/pledges/totals", totals::totals::<S>)
    .get("/anomalies", anomalies::anomalies::<S>)
    .get("/agreements/{id}/ocds", exports::record_package::<S>)
    .get(
        "/agreements/{id}/ocds/releases",
        exports::release_package::<S>,
    )
    .get("/exports/agreements.csv", exports::agreements_csv::<S>)
    .get("/exports/pledges.csv", exports::pledges_csv::<S>)
    .get("/exports/reports.csv", exports::reports_csv::<S>)
    .get("/reports", agreements::reports::<S>)
    .page(
        "/reports/{id}",
        agreements::report::<S>,
        portal::pages::report::<S>,
    )
    .get("/resources", agreements::resources::<S>)
    .get("/resources/{id}", agreements::resource::<S>)
    .get("/checkpoint", log::checkpoint::<S>)
    .get("/tile/{*path}", log::tile::<S>)
    .get("/vkey", log::vkey::<S>)
    .get("/assets/{name}", assets::asset)
    .get("/healthz", healthz::<S>)
    .get("/metrics", metrics::<S>)
    .get("/openapi.json", openapi_json)
    .post("/auth/challenge", epcis::auth::challenge::<S>)
    .post("/auth/token", epcis::auth::token::<S>)
    .get("/capture", epcis::capture::jobs::<S>)
    .get("/capture/{id}", epcis::capture::job::<S>)
    .get("/events", epcis::query::events::<S>)
    .page(
        "/events/{id}",
        epcis::query::event::<S>,
        portal::pages::event::<S>,
    )
    .get("/eventTypes", epcis::discovery::event_types)
    .get("/eventTypes/{value}", epcis::discovery::event_type)
    .get(
        "/eventTypes/{value}/events",
        epcis::query::event_type_events::<S>,
    )
    .get("/epcs", epcis::discovery::epcs::<S>)
    .get("/epcs/{epc}", epcis::discovery::epc::<S>)
    .get("/epcs/{epc}/events", epcis::query::epc_events::<S>)
    .get("/bizSteps", epcis::discovery::biz_steps::<S>)
    .get("/bizSteps/{value}", epcis::discovery::biz_step::<S>)
    .get("/bizLocations", epcis::discovery::biz_locations::<S>)
    .get("/bizLocations/{value}", epcis::discovery::biz_location::<S>)
    .get("/readPoints", epcis::discovery::read_points::<S>)
    .get("/readPoints/{value}", epcis::discovery::read_point::<S>)
    .get("/dispositions", epcis::discovery::dispositions::<S>)
    .get("/dispositions/{value}", epcis::discovery::disposition::<S>)
    .get(
        "/bizSteps/{value}/events",
        epcis::query::biz_step_events::<S>,
    )
    .get(
        "/bizLocations/{value}/events",
        epcis::query::biz_location_events::<S>,
    )
    .get(
        "/readPoints/{value}/events",
        epcis::query::read_point_events::<S>,
    )
    .get(
        "/dispositions/{value}/events",
        epcis::query::disposition_events::<S>,
    )
    .post("/queries", epcis::query::create_query::<S>)
    .get("/queries", epcis::query::list_queries::<S>)
    .get("/queries/{name}", epcis::query::get_query::<S>)
    .delete("/queries/{name}", epcis::query::delete_query::<S>)
    .get("/queries/{name}/events", epcis::query::query_events::<S>)
    .post(
        "/queries/{name}/subscriptions",
        epcis::subscribe::create::<S>,
    )
    .get("/queries/{name}/subscriptions", epcis::subscribe::list::<S>)
    .get(
        "/queries/{name}/subscriptions/{id}",
        epcis::subscribe::get::<S>,
    )
    .delete(
        "/queries/{name}/subscriptions/{id}",
        epcis::subscribe::delete::<S>,
    )
    .post(
        "/queries/{name}/subscriptions/{id}/resume",
        epcis::subscribe::resume::<S>,
    )
    .delete(
        "/nextPageToken/{token}",
        epcis::discovery::delete_next_page_token,
    )
}

/// `OPTIONS` on every path of the EPCIS binding that has no `OPTIONS`
/// route of its own: `Allow` from the other routes' methods, so that it
/// cannot drift from the router.
fn binding_options<S: Store>(others: &[(Method, &'static str)]) -> Api<S> {
    let mut api = Api {
        router: Router::new(),
        table: Vec::new(),
    };
    let mut paths: Vec<&'static str> = others
        .iter()
        .map(|(_, path)| *path)
        .filter(|path| epcis::is_binding_path(path))
        .collect();
    paths.sort_unstable();
    paths.dedup();
    for path in paths {
        let methods: Vec<&Method> = others
            .iter()
            .filter(|(_, p)| *p == path)
            .map(|(m, _)| m)
            .collect();
        if methods.contains(&&Method::OPTIONS) {
            continue;
        }
        let mut allow = vec!["OPTIONS".to_owned()];
        allow.extend(methods.iter().map(|m| m.to_string()));
        let Ok(allow) = HeaderValue::from_str(&allow.join(", ")) else {
            continue;
        };
        api = api.options(path, epcis::discovery::options(allow));
    }
    api
}

/// The capture routes: their bodies are held to the capture limits, not
/// the general one.
fn capture_api<S: Store>() -> Api<S> {
    Api {
        router: Router::new(),
        table: Vec::new(),
    }
    .post("/capture", epcis::capture::capture::<S>)
    .options("/capture", epcis::capture::options::<S>)
    .post("/events", epcis::capture::post_event::<S>)
}

/// The routes of [`api`] and [`capture_api`], which the binding's
/// `OPTIONS` routes describe.
fn handled_routes<S: Store>() -> Vec<(Method, &'static str)> {
    let mut table = api::<S>().table;
    table.extend(capture_api::<S>().table);
    table
}

/// Every route the API serves, as (method, path in axum syntax). The
/// table is the same for every store `S`.
pub fn routes<S: Store>() -> Vec<(Method, &'static str)> {
    let mut table = handled_routes::<S>();
    let options = binding_options::<S>(&table).table;
    table.extend(options);
    table
}

/// Why the application could not be built.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The EPCIS state (challenge secrets) needs the OS random source.
    #[error("the EPCIS interface could not be set up: {0}")]
    Epcis(String),
    #[error("the witnesses: {0}")]
    Witnesses(String),
}

/// Why [`serve`] stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Start(#[from] StartError),
    #[error("serving: {0}")]
    Io(#[from] std::io::Error),
}

/// Builds the application: routes, fallback and the middleware stack
/// (request id, tracing, problem bodies for layer errors, timeout, body
/// limit), with no credential key (no passports: [`router_with_credential`]).
/// Fails only without an OS random source.
pub fn router<S: Store>(
    ledger: Arc<Ledger<S>>,
    config: ServerConfig,
) -> Result<Router, StartError> {
    router_with_credential(ledger, config, None)
}

/// [`router`], with the registry's credential key signing lot passports
/// (`GET /lots/{id}/passport`) and published at `/.well-known/jwks.json`.
pub fn router_with_credential<S: Store>(
    ledger: Arc<Ledger<S>>,
    config: ServerConfig,
    credential: Option<CredentialKey>,
) -> Result<Router, StartError> {
    let epcis = epcis::EpcisState::new().map_err(|e| StartError::Epcis(e.to_string()))?;
    let witnessing = match config.witnesses {
        None => None,
        Some(policy) => {
            let w = Arc::new(witnessing::Witnessing::new(policy));
            // The witnesses are asked from a task beside the sequencer.
            if tokio::runtime::Handle::try_current().is_err() {
                return Err(StartError::Witnesses(
                    "witnesses are asked from an async runtime; none is running".into(),
                ));
            }
            witnessing::spawn(&ledger, w.clone());
            Some(w)
        }
    };
    let epcis = Arc::new(epcis);
    // Deliveries are signed with the credential key; without one no
    // subscription is taken, and none is delivered.
    if let Some(key) = &credential
        && tokio::runtime::Handle::try_current().is_ok()
    {
        epcis::deliver::spawn(
            &ledger,
            epcis::deliver::Deliverer {
                credential: Arc::new(key.clone()),
                loopback: config.subscription_loopback,
                retry: config.subscription_retry,
                wake: epcis.deliveries.clone(),
                busy: Arc::default(),
            },
        );
    }
    let state = AppState {
        ledger,
        config,
        epcis,
        scan_budget: Arc::new(budget::ScanBudget::new(
            config.client_scan_budget,
            config.client_scan_refill,
            epcis::query::CHUNK,
        )),
        heavy: Arc::new(heavy::HeavyReads::default()),
        credential: credential.map(Arc::new),
        witnessing,
        upstream_answers: Arc::new(tokio::sync::Semaphore::new(UPSTREAM_ANSWERS_AT_ONCE)),
    };
    // Each `Router::layer` wraps everything added before it; the request
    // id and tracing layers are outermost, the body limits innermost.
    let general = api::<S>()
        .router
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(RequestBodyLimitLayer::new(config.max_body_bytes));
    // Capture handlers read their bodies themselves, within the capture
    // limit, so that a 413 names that limit.
    let capture = capture_api::<S>().router.layer(DefaultBodyLimit::disable());
    let options = binding_options::<S>(&handled_routes::<S>()).router;
    Ok(general
        .merge(capture)
        .merge(options)
        .fallback(fallback)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            epcis::auth::refuse_bad_bearer::<S>,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            query_budget::<S>,
        ))
        .with_state(state)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        // A panic in a handler (a bug) answers 500 with a problem body
        // instead of dropping the connection; the server goes on.
        .layer(CatchPanicLayer::custom(
            |_: Box<dyn std::any::Any + Send>| {
                tracing::error!("a request handler panicked");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            },
        ))
        .layer(axum::middleware::from_fn(refuse_long_uri))
        .layer(axum::middleware::map_response_with_state(
            config,
            problem_for_bare_error,
        ))
        .layer(axum::middleware::from_fn(epcis::binding_exceptions))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(request_span))
                .layer(PropagateRequestIdLayer::x_request_id()),
        ))
}

/// Serves the API on `listener` until `shutdown` resolves, then finishes
/// the requests in flight.
pub async fn serve<S: Store>(
    ledger: Arc<Ledger<S>>,
    config: ServerConfig,
    credential: Option<CredentialKey>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let app = router_with_credential(ledger.clone(), config, credential)?;
    if let Ok(address) = listener.local_addr() {
        tracing::info!(%address, origin = ledger.origin(), "serving the oretrace API");
    }
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await?;
    Ok(())
}

fn request_span(request: &Request) -> tracing::Span {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!("request", method = %request.method(), uri = %request.uri(), request_id)
}

/// Turns error responses made below the handlers (405 from routing, 413
/// from the body limit, 503 from the timeout, 400 from path extraction)
/// into problem bodies, keeping their headers (such as `Allow`).
async fn problem_for_bare_error(
    State(config): State<ServerConfig>,
    response: Response,
) -> Response {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(error::PROBLEM_JSON.as_bytes()));
    // A portal page for an error (404 for an unknown id) is an answer
    // already, in HTML, to a client that asked for HTML.
    let is_page = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem || is_page {
        return response;
    }
    let error = match status {
        StatusCode::NOT_FOUND => ApiError::NotFound("no such resource".into()),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge {
            limit: config.max_body_bytes,
        },
        StatusCode::SERVICE_UNAVAILABLE => ApiError::Timeout,
        other => ApiError::Status(other),
    };
    let (parts, _) = response.into_parts();
    let mut problem = error.into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            problem.headers_mut().insert(name, value.clone());
        }
    }
    problem
}

/// Keeps each client's EPCIS queries within its budget of candidate
/// events examined: a query route (`GET …/events`) is refused 429 while
/// the client's budget is short; every answer is charged what it examined.
async fn query_budget<S: Store>(
    State(state): State<AppState<S>>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    let client = budget::client_key(
        request
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip()),
    );
    let queries = request.method() == Method::GET
        && request
            .extensions()
            .get::<axum::extract::MatchedPath>()
            .is_some_and(|p| p.as_str().ends_with("/events"));
    if queries && let Err(retry_after) = state.scan_budget.admit(client) {
        return ApiError::TooManyRequests {
            detail: format!(
                "this client's queries have examined their budget of {} candidate events \
                 (queries that no index serves examine many); retry in {retry_after} s, or \
                 narrow the query (an EPC, a location, a time range)",
                state.config.client_scan_budget
            ),
            retry_after,
        }
        .into_response();
    }
    let response = next.run(request).await;
    if let Some(budget::Examined(n)) = response.extensions().get::<budget::Examined>() {
        state.scan_budget.charge(client, *n);
    }
    response
}

/// Answers 414 with a problem body for a request target over
/// [`MAX_URI_BYTES`].
async fn refuse_long_uri(request: Request, next: axum::middleware::Next) -> Response {
    let length = request
        .uri()
        .path_and_query()
        .map_or(0, |p| p.as_str().len());
    if length > MAX_URI_BYTES {
        return ApiError::UriTooLong {
            length,
            limit: MAX_URI_BYTES,
        }
        .into_response();
    }
    next.run(request).await
}

/// The fallback: a 404 page for a browser, the 404 problem for every
/// other client.
async fn fallback(request: Request) -> Response {
    let accept = request
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok());
    if request.method() == Method::GET && oretrace_portal::negotiate::wants_html(accept) {
        return portal::pages::not_found(request).await;
    }
    no_route(request.method().clone(), request.uri().clone())
        .await
        .into_response()
}

async fn no_route(method: Method, uri: axum::http::Uri) -> ApiError {
    let path = uri.path();
    // An eventID pasted as is (`ni:///sha-256;…?ver=CBV2.0`) splits into
    // path segments and a query: say how to write it in a path.
    let hint = if path.starts_with("/events/") && path.contains(':') {
        ": an eventID in a path is percent-encoded (ni%3A%2F%2F%2Fsha-256%3B…%3Fver%3DCBV2.0), \
         as the Location header of a capture writes it"
    } else {
        ""
    };
    ApiError::NotFound(format!(
        "no route for {method} {}{hint}",
        crate::error::echo(path)
    ))
}

async fn healthz<S: Store>(
    State(state): State<AppState<S>>,
) -> Result<Json<serde_json::Value>, ApiError> {
    use oretrace_ledger::ledger::SequencerHealth;
    let health = state.ledger.health();
    let node = state.ledger.node_status();
    match health {
        SequencerHealth::Running => {}
        // Among nodes sharing a store: writes go nowhere while no node
        // holds the lease.
        SequencerHealth::Follower if node.node.is_some() && node.sequencer.is_none() => {
            return Err(ApiError::Refused(
                oretrace_ledger::rules::Refusal::Unavailable(
                    "no node holds the sequencer lease: writes are refused until one takes it (within a lease term of a node that can)".into(),
                ),
            ));
        }
        SequencerHealth::Follower => {}
        SequencerHealth::Stalled { busy_for } => {
            return Err(ApiError::Refused(
                oretrace_ledger::rules::Refusal::Unavailable(format!(
                    "the sequencer has worked on one batch for {} s",
                    busy_for.as_secs()
                )),
            ));
        }
        SequencerHealth::Failing => {
            return Err(ApiError::Refused(oretrace_ledger::rules::Refusal::Unavailable(
                "the last batch of writes could not be stored (a full disk?); writes are refused until one is".into(),
            )));
        }
        SequencerHealth::Degraded => {
            return Err(ApiError::Refused(
                oretrace_ledger::rules::Refusal::Unavailable(
                    "the store failed and cannot be read back; writes are refused".into(),
                ),
            ));
        }
        SequencerHealth::Stopped => {
            return Err(ApiError::Refused(
                oretrace_ledger::rules::Refusal::Unavailable("the sequencer has stopped".into()),
            ));
        }
    }
    let size = blocking(&state.ledger, |ledger| Ok(ledger.checkpoint()?.0.size())).await?;
    let role = if health == SequencerHealth::Follower {
        "follower"
    } else {
        "sequencer"
    };
    let mut health = serde_json::json!({"status": "ok", "size": size, "role": role});
    if let Some(name) = node.node {
        health["node"] = name.into();
    }
    if let Some(epoch) = node.epoch {
        health["epoch"] = epoch.into();
    }
    if let Some(sequencer) = node.sequencer {
        health["sequencer"] = sequencer.into();
    }
    if let Some(w) = &state.witnessing {
        health["witnessing"] = w.health();
    }
    Ok(Json(health))
}

/// `GET /metrics`: the log's size and, with a witness policy, each
/// witness's state, in the Prometheus text format.
async fn metrics<S: Store>(State(state): State<AppState<S>>) -> Result<Response, ApiError> {
    let size = blocking(&state.ledger, |ledger| Ok(ledger.checkpoint()?.0.size())).await?;
    let mut body = format!(
        "# HELP oretrace_log_size Entries covered by the log's latest signed checkpoint.\n\
         # TYPE oretrace_log_size gauge\n\
         oretrace_log_size {size}\n"
    );
    if let Some(w) = &state.witnessing {
        body.push_str(&w.metrics());
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        body,
    )
        .into_response())
}

async fn openapi_json() -> Response {
    let mut response = Json(openapi::document()).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}
