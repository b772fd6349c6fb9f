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
//! Both live in memory only. The key must still be registered when the
//! token is used: the ledger checks it again for every captured event.

use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use oretrace_ledger::Store;
use oretrace_tlog::note::{NoteVerifier, SignedNote};
use serde::{Deserialize, Serialize};

use super::{now_millis, random_hex};
use crate::{ApiError, AppState, blocking};

pub(crate) const CHALLENGE_HEADER: &str = "oretrace.auth-challenge/v1";
const CHALLENGE_TTL: Duration = Duration::from_secs(300);
const TOKEN_TTL: Duration = Duration::from_secs(3600);

#[derive(Clone, Debug)]
pub(crate) struct Challenge {
    text: String,
    expires: Instant,
}

/// What a bearer token stands for.
#[derive(Clone, Debug)]
pub(crate) struct Grant {
    pub(crate) party: String,
    /// `<key name>+<hex key id>`.
    pub(crate) key: String,
    expires: Instant,
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

/// Splits `<name>+<hex id>`.
fn parse_key(key: &str) -> Result<(String, u32), ApiError> {
    let bad = || ApiError::BadRequest("key: expected <key name>+<8 hex digit key id>".into());
    let (name, id) = key.rsplit_once('+').ok_or_else(bad)?;
    oretrace_tlog::note::check_key_name(name).map_err(|_| bad())?;
    if id.len() != 8 {
        return Err(bad());
    }
    Ok((
        name.to_owned(),
        u32::from_str_radix(id, 16).map_err(|_| bad())?,
    ))
}

/// The registered key `<name>+<id>` and its party.
async fn registered<S: Store>(
    state: &AppState<S>,
    name: &str,
    id: u32,
) -> Result<(NoteVerifier, String), ApiError> {
    let (n, i) = (name.to_owned(), id);
    let key = blocking(&state.ledger, move |l| Ok(l.store().key(&n, i)?)).await?;
    let key = key.ok_or_else(|| {
        ApiError::Unauthorized(format!(
            "key {name}+{id:08x} is not registered to any party"
        ))
    })?;
    let verifier = NoteVerifier::from_vkey(&key.vkey)
        .map_err(|e| ApiError::internal(format!("stored vkey does not parse: {e}")))?;
    Ok((verifier, key.party))
}

pub(crate) async fn challenge<S: Store>(
    State(state): State<AppState<S>>,
    body: axum::body::Bytes,
) -> Result<Json<ChallengeResponse>, ApiError> {
    let request: ChallengeRequest = serde_json::from_slice(&body).map_err(ApiError::from_json)?;
    let (name, id) = parse_key(&request.key)?;
    registered(&state, &name, id).await?;
    let nonce = random_hex(32)?;
    let expires = super::millis_rfc3339(now_millis() + CHALLENGE_TTL.as_millis() as i64);
    let text = format!(
        "{CHALLENGE_HEADER}\n{}\nkey {name}+{id:08x}\nnonce {nonce}\nexpires {expires}\n",
        state.ledger.origin()
    );
    state.epcis.challenges.insert(
        nonce,
        Challenge {
            text: text.clone(),
            expires: Instant::now() + CHALLENGE_TTL,
        },
    );
    Ok(Json(ChallengeResponse {
        challenge: text,
        expires,
    }))
}

pub(crate) async fn token<S: Store>(
    State(state): State<AppState<S>>,
    body: axum::body::Bytes,
) -> Result<Json<TokenResponse>, ApiError> {
    let request: TokenRequest = serde_json::from_slice(&body).map_err(ApiError::from_json)?;
    let refused = |why: &str| ApiError::Unauthorized(format!("challenge not accepted: {why}"));
    let nonce = request
        .challenge
        .lines()
        .find_map(|l| l.strip_prefix("nonce "))
        .ok_or_else(|| refused("no nonce"))?
        .to_owned();
    // One use: taken out before anything else is checked.
    let issued = state
        .epcis
        .challenges
        .remove(&nonce)
        .ok_or_else(|| refused("unknown or already used"))?;
    if issued.text != request.challenge {
        return Err(refused("the text differs from the one issued"));
    }
    if Instant::now() > issued.expires {
        return Err(refused("expired"));
    }
    let key = issued
        .text
        .lines()
        .find_map(|l| l.strip_prefix("key "))
        .ok_or_else(|| ApiError::internal("challenge without key"))?
        .to_owned();
    let (name, id) = parse_key(&key)?;
    let (verifier, party) = registered(&state, &name, id).await?;
    let note = format!("{}\n\u{2014} {}\n", issued.text, request.signature.trim());
    let note = SignedNote::parse(note.as_bytes())
        .map_err(|e| refused(&format!("the signature line does not parse: {e}")))?;
    note.verify(&verifier)
        .map_err(|e| refused(&format!("the signature does not verify: {e}")))?;
    let token = random_hex(32)?;
    state.epcis.tokens.insert(
        token.clone(),
        Grant {
            party: party.clone(),
            key: key.clone(),
            expires: Instant::now() + TOKEN_TTL,
        },
    );
    Ok(Json(TokenResponse {
        access_token: token,
        token_type: "Bearer",
        expires_in: TOKEN_TTL.as_secs(),
        party,
        key,
    }))
}

/// The header carrying a detached document signature: one signature line
/// (`<key name> <base64>`) per header; repeat the header for co-signers.
pub const SIGNATURE_HEADER: &str = "Oretrace-Signature";

/// Who is capturing, from the request's headers.
#[derive(Clone, Debug)]
pub(crate) enum Capturer {
    Token { party: String, key: String },
    Signed { lines: Vec<String> },
}

pub(crate) fn capturer<S: Store>(
    state: &AppState<S>,
    headers: &HeaderMap,
) -> Result<Capturer, ApiError> {
    let lines: Vec<String> = headers
        .get_all(SIGNATURE_HEADER)
        .iter()
        .map(|v| {
            v.to_str()
                .map(|s| s.trim().to_owned())
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
        return Ok(Capturer::Signed { lines });
    }
    let Some(auth) = headers.get(axum::http::header::AUTHORIZATION) else {
        return Err(ApiError::Unauthorized(format!(
            "capture needs a bearer token (POST /auth/challenge, then /auth/token) or a detached \
             document signature in {SIGNATURE_HEADER}"
        )));
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
    Ok(Capturer::Token {
        party: grant.party,
        key: grant.key,
    })
}
