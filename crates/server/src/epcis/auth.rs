//! Bearer tokens for EPCIS clients that can only add an `Authorization`
//! header. A party proves it holds one of its registered keys by signing a
//! one-time challenge:
//!
//! 1. `POST /auth/challenge` `{"key": "<key name>+<hex key id>"}` →
//!    `{"challenge": "<text>", "expires": "…"}`. The text is a C2SP
//!    signed-note text:
//!    ```text
//!    oretrace.auth-challenge/v1
//!    <log origin>
//!    key <key name>+<hex key id>
//!    nonce <64 hex>
//!    expires <UTC time>
//!    ```
//! 2. `POST /auth/token` `{"challenge": "<text>", "signature": "<key name> <base64>"}`
//!    (the signature line a signed note would carry) → `{"access_token",
//!    "token_type": "Bearer", "expires_in", "party", "key"}`.
//!
//! A challenge is good once and for five minutes; a token for an hour.
//! Issuing a challenge keeps no state: its last line, `stamp <base64>`, is
//! the server's signature over the lines before it with a key made at
//! start-up (never the log key), so anyone may ask for challenges without
//! crowding out anyone else's. Only a challenge redeemed with a valid
//! signature is remembered (until it expires), to refuse its reuse. Tokens
//! live in memory; every use of a token checks that its key is still
//! registered to the same party (a party that rotates a key away drops the
//! key's tokens), on every route, and the ledger checks it again for every
//! captured event.

use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use oretrace_ledger::Store;
use oretrace_tlog::note::{KeyRef, NoteVerifier, SignatureLine};
use serde::{Deserialize, Serialize};

use super::{now_millis, random_hex};
use crate::{ApiError, AppState, blocking};

pub(crate) const CHALLENGE_HEADER: &str = "oretrace.auth-challenge/v1";
const CHALLENGE_TTL: Duration = Duration::from_secs(300);
const TOKEN_TTL: Duration = Duration::from_secs(3600);

/// The server's challenge-stamping key and the challenges redeemed.
pub(crate) struct Challenges {
    key: oretrace_tlog::note::NoteSigner,
    redeemed: std::sync::Mutex<std::collections::HashMap<String, Instant>>,
}

impl std::fmt::Debug for Challenges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Challenges")
    }
}

/// Most redeemed challenges remembered at once (each needed a valid
/// signature by a registered key).
const MAX_REDEEMED: usize = 100_000;

impl Challenges {
    pub(crate) fn new() -> Result<Self, ApiError> {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed)
            .map_err(|e| ApiError::internal(format!("no randomness: {e}")))?;
        let key = oretrace_tlog::note::NoteSigner::from_seed("oretrace-challenge", seed)
            .map_err(|e| ApiError::internal(e.to_string()))?;
        Ok(Challenges {
            key,
            redeemed: std::sync::Mutex::new(std::collections::HashMap::new()),
        })
    }

    /// Remembers a redeemed nonce; false if it was redeemed before.
    fn redeem(&self, nonce: &str, expires: Instant) -> Result<bool, ApiError> {
        let mut map = self
            .redeemed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= MAX_REDEEMED {
            let now = Instant::now();
            map.retain(|_, e| *e > now);
            if map.len() >= MAX_REDEEMED {
                return Err(ApiError::Refused(
                    oretrace_ledger::rules::Refusal::Overloaded,
                ));
            }
        }
        Ok(map.insert(nonce.to_owned(), expires).is_none())
    }
}

/// What a bearer token stands for.
#[derive(Clone, Debug)]
pub(crate) struct Grant {
    pub(crate) party: String,
    pub(crate) key: KeyRef,
    expires: Instant,
}

impl super::Kept for Grant {
    fn expired(&self, now: Instant) -> bool {
        now > self.expires
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChallengeRequest {
    key: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct ChallengeResponse {
    challenge: String,
    expires: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenRequest {
    challenge: String,
    signature: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    party: String,
    key: String,
}

/// The server's stamp on a challenge's lines: its signature, base64.
fn stamp_of(key: &oretrace_tlog::note::NoteSigner, base: &str) -> Result<String, ApiError> {
    let note = key
        .sign(base)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let line = note
        .signatures()
        .first()
        .map(|s| SignatureLine::from(s.clone()).to_string())
        .ok_or_else(|| ApiError::internal("a signed note without a signature"))?;
    line.split_once(' ')
        .map(|(_, b64)| b64.to_owned())
        .ok_or_else(|| ApiError::internal("a signature line without a signature"))
}

/// Parses `<key name>+<8 lower-case hex digit key id>`.
fn parse_key(key: &str) -> Result<KeyRef, ApiError> {
    KeyRef::parse(key).map_err(|e| ApiError::BadRequest(format!("key: {e}")))
}

/// The registered key and its party.
async fn registered<S: Store>(
    state: &AppState<S>,
    key: &KeyRef,
) -> Result<(NoteVerifier, String), ApiError> {
    let (n, i) = (key.name().to_owned(), key.key_id());
    let stored = blocking(&state.ledger, move |l| Ok(l.store().key(&n, i)?)).await?;
    let key = stored.ok_or_else(|| {
        ApiError::Unauthorized(format!("key {key} is not registered to any party"))
    })?;
    Ok((key.verifier().clone(), key.party().to_string()))
}

pub(crate) async fn challenge<S: Store>(
    State(state): State<AppState<S>>,
    body: axum::body::Bytes,
) -> Result<Json<ChallengeResponse>, ApiError> {
    let request: ChallengeRequest =
        serde_json::from_slice(&body).map_err(ApiError::from_request_json)?;
    let key = parse_key(&request.key)?;
    registered(&state, &key).await?;
    let nonce = random_hex(32)?;
    let expires = super::millis_rfc3339(now_millis() + CHALLENGE_TTL.as_millis() as i64);
    let base = format!(
        "{CHALLENGE_HEADER}\n{}\nkey {key}\nnonce {nonce}\nexpires {expires}\n",
        state.ledger.origin()
    );
    let stamp = stamp_of(&state.epcis.challenges.key, &base)?;
    Ok(Json(ChallengeResponse {
        challenge: format!("{base}stamp {stamp}\n"),
        expires,
    }))
}

pub(crate) async fn token<S: Store>(
    State(state): State<AppState<S>>,
    body: axum::body::Bytes,
) -> Result<Json<TokenResponse>, ApiError> {
    let request: TokenRequest =
        serde_json::from_slice(&body).map_err(ApiError::from_request_json)?;
    let refused = |why: &str| ApiError::Unauthorized(format!("challenge not accepted: {why}"));
    let text = request.challenge.as_str();
    // The stamp: this server issued exactly these lines.
    let (base, stamp) = text
        .strip_suffix('\n')
        .and_then(|t| t.rsplit_once('\n'))
        .and_then(|(base, last)| Some((format!("{base}\n"), last.strip_prefix("stamp ")?)))
        .ok_or_else(|| refused("not a challenge from this server"))?;
    if stamp_of(&state.epcis.challenges.key, &base)? != stamp
        || !base.starts_with(&format!("{CHALLENGE_HEADER}\n{}\n", state.ledger.origin()))
    {
        return Err(refused("not a challenge from this server"));
    }
    let field = |name: &str| {
        base.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(str::to_owned)
            .ok_or_else(|| refused("malformed"))
    };
    let nonce = field("nonce ")?;
    let key = field("key ")?;
    let expires = oretrace_epcis::query::timestamp_millis(&field("expires ")?)
        .ok_or_else(|| refused("malformed"))?;
    let left = expires - now_millis();
    if left <= 0 {
        return Err(refused("expired"));
    }
    let key = parse_key(&key)?;
    let (verifier, party) = registered(&state, &key).await?;
    let line = SignatureLine::parse(request.signature.trim())
        .map_err(|e| refused(&format!("the signature line does not parse: {e}")))?;
    line.verify(text, &verifier)
        .map_err(|e| refused(&format!("the signature does not verify: {e}")))?;
    // The party's share of tokens, before the challenge is used up.
    state.epcis.tokens.has_room(&party)?;
    // One use: remembered only now that it is proven.
    let until = Instant::now() + Duration::from_millis(left as u64);
    if !state.epcis.challenges.redeem(&nonce, until)? {
        return Err(refused("already used"));
    }
    let token = random_hex(32)?;
    let grant = Grant {
        party: party.clone(),
        key: key.clone(),
        expires: Instant::now() + TOKEN_TTL,
    };
    if !state
        .epcis
        .tokens
        .insert_new(&party, token.clone(), grant)?
    {
        return Err(ApiError::internal("a fresh random token was taken"));
    }
    Ok(Json(TokenResponse {
        access_token: token,
        token_type: "Bearer",
        expires_in: TOKEN_TTL.as_secs(),
        party,
        key: key.to_string(),
    }))
}

/// The header carrying a detached document signature: one signature line
/// (`<key name> <base64>`) per header; repeat the header for co-signers,
/// each key once.
pub const SIGNATURE_HEADER: &str = "Oretrace-Signature";

/// Who is capturing, from the request's headers.
#[derive(Clone, Debug)]
pub(crate) enum Capturer {
    Token { party: String, key: KeyRef },
    Signed { lines: Vec<SignatureLine> },
}

/// The party of a request that must carry a bearer token (not detached
/// signatures): `what` says what for, in the refusal ("named queries are
/// defined and deleted").
pub(crate) async fn bearer_party<S: Store>(
    state: &AppState<S>,
    headers: &HeaderMap,
    what: &str,
) -> Result<String, ApiError> {
    let refusal = || ApiError::Unauthorized(format!("{what} with a bearer token"));
    if !headers.contains_key(axum::http::header::AUTHORIZATION) {
        return Err(refusal());
    }
    match capturer(state, headers).await? {
        Capturer::Token { party, .. } => Ok(party),
        Capturer::Signed { .. } => Err(refusal()),
    }
}

pub(crate) async fn capturer<S: Store>(
    state: &AppState<S>,
    headers: &HeaderMap,
) -> Result<Capturer, ApiError> {
    let lines: Vec<&str> = headers
        .get_all(SIGNATURE_HEADER)
        .iter()
        .map(|v| {
            v.to_str()
                .map(str::trim)
                .map_err(|_| ApiError::BadRequest(format!("{SIGNATURE_HEADER} is not ASCII")))
        })
        .collect::<Result<_, _>>()?;
    if !lines.is_empty() {
        if lines.len() > oretrace_domain::event::MAX_DOCUMENT_SIGNATURES {
            return Err(ApiError::BadRequest(format!(
                "at most {} {SIGNATURE_HEADER} headers",
                oretrace_domain::event::MAX_DOCUMENT_SIGNATURES
            )));
        }
        let lines = lines
            .into_iter()
            .map(|line| {
                SignatureLine::parse(line).map_err(|e| {
                    ApiError::Unauthorized(format!(
                        "{SIGNATURE_HEADER}: not a signature line <key name> <base64>: {e}"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        // Each key signs once: a repeated line (or a second line by the
        // same key) would be counted and logged as another signer.
        let mut keys = std::collections::HashSet::with_capacity(lines.len());
        if let Some(again) = lines
            .iter()
            .map(SignatureLine::key)
            .find(|k| !keys.insert(k.clone()))
        {
            return Err(ApiError::BadRequest(format!(
                "{SIGNATURE_HEADER}: key {again} signs more than once; give one \
                 {SIGNATURE_HEADER} header per signing key"
            )));
        }
        return Ok(Capturer::Signed { lines });
    }
    match bearer(state, headers).await? {
        Some(grant) => Ok(Capturer::Token {
            party: grant.party,
            key: grant.key,
        }),
        None => Err(ApiError::Unauthorized(format!(
            "capture needs a bearer token (POST /auth/challenge, then /auth/token) or a detached \
             document signature in {SIGNATURE_HEADER}"
        ))),
    }
}

/// The grant of the request's bearer token, if it carries an
/// `Authorization` header: a token is good while it has not expired and
/// its key is still registered to the same party (checked on every use,
/// so a key rotated away or moved takes its tokens with it).
pub(crate) async fn bearer<S: Store>(
    state: &AppState<S>,
    headers: &HeaderMap,
) -> Result<Option<Grant>, ApiError> {
    let Some(auth) = headers.get(axum::http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let token = auth
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(|| ApiError::Unauthorized("Authorization: Bearer <token> expected".into()))?;
    let grant = state
        .epcis
        .tokens
        .get(token)
        .ok_or_else(|| ApiError::Unauthorized("unknown or expired token".into()))?;
    if Instant::now() > grant.expires {
        state.epcis.tokens.remove(token);
        return Err(ApiError::Unauthorized("unknown or expired token".into()));
    }
    let (name, id) = (grant.key.name().to_owned(), grant.key.key_id());
    let key = blocking(&state.ledger, move |l| Ok(l.store().key(&name, id)?)).await?;
    if key.is_none_or(|k| k.party().as_str() != grant.party) {
        state.epcis.tokens.remove(token);
        return Err(ApiError::Unauthorized(format!(
            "the token's key {} is no longer registered to party {}",
            grant.key, grant.party
        )));
    }
    Ok(Some(grant))
}

/// Refuses (401) any request that presents a bearer token that is not
/// good, whatever the route: a revoked key's token reads nothing either.
pub(crate) async fn refuse_bad_bearer<S: Store>(
    State(state): State<AppState<S>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let presents_bearer = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer ") || v.starts_with("bearer "));
    if presents_bearer && let Err(e) = bearer(&state, request.headers()).await {
        return e.into_response();
    }
    next.run(request).await
}
