//! The reference collector: `fn app(state) -> Router`.
//!
//! - `POST /v1/receipts` verifies a receipt and then appends it. It checks the JWS signature, the
//!   schema (canonical claims of a known version), the clock skew and chain continuity.
//! - `GET /v1/subjects/{id}/consent?purpose=…&at=…` is the purpose-scoped gate.
//! - `GET /v1/subjects/{id}/receipts` exports a subject's history (behind an API key).
//! - `GET /v1/intervals?purpose=…` pages through the consent-interval table, NDJSON (behind an API key).
//! - `GET /v1/changes?after=…&wait=…` is the ordered feed of consent changes, long-polled (behind an API key).
//! - With `--webhook`, each withdrawal and expiry is also POSTed, signed, to those URLs (`webhooks`).
//! - `GET /.well-known/jwks.json`, `GET /openapi.json` and `GET /healthz` complete the set.
//!
//! The HTTP contract is `docs/collector.openapi.json`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use assent_core::json::Json;
use assent_core::receipt::{Claims, Evidence};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower_http::cors::{AllowOrigin, CorsLayer};

pub mod error;
pub mod pg;
pub mod store;
mod tls;
pub mod webhooks;

use assent_jose as jws;
use assent_jose::CollectorKey;
pub use error::Rejection;
pub use store::Store;
use store::{Appended, Link, Row};

/// The OpenAPI document served at `/openapi.json`.
pub const OPENAPI: &str = include_str!("../../../docs/collector.openapi.json");

/// Deployment settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Bearer key for `GET /v1/subjects/{id}/receipts`; export is disabled without one.
    pub api_key: Option<String>,
    /// The sites that post receipts: allowed by CORS, and the only `origin` a receipt may claim.
    /// Empty: same-origin CORS only, and any claimed origin. `*`: any origin.
    pub allow_origins: Vec<String>,
    /// Requests a client may make per minute. Requests with the API key are not limited (a data
    /// pipeline calling the gate inline).
    pub rate_limit_per_minute: u32,
    /// Behind a reverse proxy or load balancer: the client is the last address in `X-Forwarded-For`
    /// (the one the proxy saw), not the proxy's own socket address.
    pub trust_forwarded_for: bool,
    /// How far in the future `iat` may be, in seconds.
    pub max_skew_secs: u64,
    /// Largest request body, in bytes (larger gets 413).
    pub body_limit: usize,
    /// The collector's signing secret from a key file (`--signing-key`). Without it, the secret stored
    /// in the database signs (created on first use).
    pub signing_key: Option<Secret>,
    /// Public keys (Ed25519, 32 bytes) that signed acks before and stay published (`--retired-key`).
    pub retired_keys: Vec<[u8; 32]>,
    /// With `signing_key`: keep publishing the key stored in the database, so the acks it signed still
    /// verify. While it is published, whoever can read the database can sign acks that verify.
    pub publish_database_key: bool,
    /// URLs that get each withdrawal and expiry as a signed POST (`--webhook`; see `webhooks`).
    pub webhooks: Vec<String>,
}

/// A signing secret; `Debug` never prints it.
#[derive(Clone, Copy)]
pub struct Secret(pub [u8; 32]);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            api_key: None,
            allow_origins: Vec::new(),
            rate_limit_per_minute: 600,
            trust_forwarded_for: false,
            max_skew_secs: 300,
            body_limit: 256 * 1024,
            signing_key: None,
            retired_keys: Vec::new(),
            publish_database_key: false,
            webhooks: Vec::new(),
        }
    }
}

/// A clock in Unix seconds (tests pass a fixed one).
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(|| std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()))
}

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    store: Store,
    key: Arc<CollectorKey>,
    /// `/.well-known/jwks.json`: the signing key, then the keys that signed acks before (so those still
    /// verify). Fixed at start.
    jwks: Arc<str>,
    settings: Arc<Settings>,
    clock: Clock,
    /// The rate limit's current minute and each client's requests in it.
    windows: Arc<Mutex<(u64, HashMap<String, u32>)>>,
    /// Woken after each receipt this instance stores: the changes feed's long polls.
    appended: Arc<tokio::sync::Notify>,
}

impl AppState {
    /// Builds the state; creates the collector key on first use of the database.
    pub async fn new(store: Store, mut settings: Settings, clock: Clock) -> Result<AppState, Rejection> {
        // Compared as browsers send an origin: no space around it, no trailing `/`, lowercase. The
        // CORS header and the receipt's claimed origin are checked against the same list.
        settings.allow_origins = settings
            .allow_origins
            .iter()
            .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
            .filter(|o| !o.is_empty())
            .collect();
        // A key file replaces the key stored in the database. That one stays published only if asked
        // (the acks it signed still verify then, but so would acks forged from the database).
        let (key, stored) = match settings.signing_key {
            Some(Secret(secret)) => {
                let stored = if settings.publish_database_key { store.stored_collector_secret().await? } else { None };
                (CollectorKey::from_secret(secret), stored.map(CollectorKey::from_secret))
            }
            None => (CollectorKey::from_secret(store.collector_secret().await?), None),
        };
        let mut keys = vec![key.public_jwk()];
        for k in
            stored.iter().map(CollectorKey::public_jwk).chain(settings.retired_keys.iter().map(|x| jws::public_jwk(*x)))
        {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        let jwks = Json::Object(vec![("keys".into(), Json::Array(keys))]).canonical().into();
        Ok(AppState {
            store,
            key: Arc::new(key),
            jwks,
            settings: Arc::new(settings),
            clock,
            windows: Arc::default(),
            appended: Arc::default(),
        })
    }
}

/// Starts the background work: delivering the configured webhooks (`Settings::webhooks`), and on
/// PostgreSQL keeping the `consent_intervals` table up to date. Call it before serving: a webhook URL
/// configured for the first time gets every change from then on.
pub async fn start_background(state: &AppState) -> Result<(), Rejection> {
    webhooks::start(state).await?;
    if let Store::Postgres(pg) = &state.store {
        tokio::spawn(keep_intervals(state.clone(), pg.clone()));
    }
    Ok(())
}

/// Keeps `consent_intervals` (PostgreSQL) up to date: after each receipt this instance stores, and each
/// second (another instance's receipts). Instances take turns through an advisory lock.
async fn keep_intervals(state: AppState, pg: pg::PgStore) {
    let mut client: Option<tokio_postgres::Client> = None;
    loop {
        let appended = state.appended.notified();
        if client.as_ref().is_none_or(tokio_postgres::Client::is_closed) {
            client = match pg.own_connection().await {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::warn!(error = %e, "consent_intervals: no connection");
                    None
                }
            };
        }
        let took = match client.as_mut() {
            Some(c) => pg.refresh_intervals(c, 500, &table_rows).await,
            None => Err(Rejection::Storage("no connection".into())),
        };
        match took {
            Ok(n) if n > 0 => continue,
            Ok(_) => {
                tokio::select! {
                    () = appended => {}
                    () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "consent_intervals: not brought up to date; trying again in 5 s");
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            }
        }
    }
}

/// One row of the interval table: the columns of `assent_core::timeline::COLUMNS`, times in Unix
/// seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntervalRow {
    pub subject: String,
    pub purpose: String,
    pub scope: String,
    pub granted: bool,
    pub valid_from: i64,
    pub valid_until: Option<i64>,
    pub receipt: Option<String>,
    pub notice_version: Option<String>,
    pub method: Option<String>,
    pub decided_in: String,
    pub reason: String,
}

/// A subject's rows of the interval table for `purpose`, by the core's `timeline` (the rows
/// `assent intervals` writes).
fn interval_rows(subject: &str, purpose: &str, evidence: &[Evidence<'_>]) -> Vec<IntervalRow> {
    let time = |t: u64| i64::try_from(t).unwrap_or(i64::MAX);
    assent_core::timeline::Timelines::of(evidence, purpose)
        .spans()
        .map(|(scope, span)| {
            let a = &span.answer;
            IntervalRow {
                subject: subject.to_string(),
                purpose: purpose.to_string(),
                scope: scope.to_string(),
                granted: a.granted,
                valid_from: time(span.from),
                valid_until: span.until.map(time),
                receipt: a.receipt.clone(),
                notice_version: a.notice_version.clone(),
                method: a.method.map(|m| m.as_str().to_string()),
                decided_in: a.decided_in.clone().unwrap_or_else(|| "site".into()),
                reason: a.reason.to_string(),
            }
        })
        .collect()
}

/// A subject's rows of the interval table for every purpose its receipts name.
fn table_rows(subject: &str, rows: &[Row]) -> Vec<IntervalRow> {
    let claims = stored_claims(rows);
    let evidence = stored_evidence(&claims);
    let mut purposes: Vec<&str> = claims.iter().flat_map(|(c, _)| c.purposes.iter().map(|p| p.id.as_str())).collect();
    purposes.sort_unstable();
    purposes.dedup();
    purposes.into_iter().flat_map(|purpose| interval_rows(subject, purpose, &evidence)).collect()
}

/// The collector's routes.
pub fn app(state: AppState) -> Router {
    let origins = &state.settings.allow_origins;
    let cors = if origins.is_empty() {
        CorsLayer::new()
    } else {
        // `*` anywhere in the list: any origin (`AllowOrigin::list` would panic on it).
        let allow = if origins.iter().any(|o| o == "*") {
            AllowOrigin::any()
        } else {
            AllowOrigin::list(origins.iter().filter_map(|o| o.parse::<HeaderValue>().ok()))
        };
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([axum::http::header::CONTENT_TYPE, axum::http::header::AUTHORIZATION])
            // The browser's outbox waits as long as a 425 or 429 says.
            .expose_headers([axum::http::header::RETRY_AFTER])
    };
    Router::new()
        .route("/v1/receipts", post(post_receipts))
        .route("/v1/subjects/{id}/consent", get(gate))
        .route("/v1/subjects/{id}/receipts", get(export))
        .route("/v1/intervals", get(intervals))
        .route("/v1/changes", get(changes))
        .route("/.well-known/jwks.json", get(jwks))
        .route("/openapi.json", get(|| async { json_response(StatusCode::OK, OPENAPI.to_string()) }))
        .route("/healthz", get(healthz))
        .layer(DefaultBodyLimit::max(state.settings.body_limit))
        .layer(middleware::from_fn_with_state(state.clone(), rate_limit))
        .layer(cors)
        .layer(middleware::from_fn(readable_receipt_answers))
        .with_state(state)
}

/// The browser's outbox must read the answer to a receipt it posted: an ack to keep, or the reason for
/// a refusal (a 403 for a site not in `--allow-origin`). A `text/plain` POST needs no preflight, so
/// CORS never stopped the post itself (the claimed-origin check does); without this header the
/// browser stored nothing of the answer and sent the receipt again for ever. The GET routes keep the
/// allow-list.
async fn readable_receipt_answers(req: Request, next: Next) -> Response {
    let origin = (req.method() == Method::POST && req.uri().path() == "/v1/receipts")
        .then(|| req.headers().get(axum::http::header::ORIGIN).cloned())
        .flatten();
    let mut res = next.run(req).await;
    if let Some(origin) = origin {
        let headers = res.headers_mut();
        if !headers.contains_key(axum::http::header::ACCESS_CONTROL_ALLOW_ORIGIN) {
            headers.insert(axum::http::header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            headers.insert(axum::http::header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("retry-after"));
            headers.append(axum::http::header::VARY, HeaderValue::from_static("origin"));
        }
    }
    res
}

fn json_response(status: StatusCode, body: String) -> Response {
    let mut res = (status, body).into_response();
    res.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
    res
}

fn s(v: &str) -> Json {
    Json::String(v.to_string())
}

fn iso(t: i64) -> Json {
    time::OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .map_or(Json::Null, Json::String)
}

/// A fixed window of one minute per client address.
async fn rate_limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if state
        .settings
        .api_key
        .as_ref()
        .is_some_and(|key| bearer(request.headers()).is_some_and(|g| same_secret(g.as_bytes(), key.as_bytes())))
    {
        return next.run(request).await;
    }
    let forwarded = || {
        let header = request.headers().get("x-forwarded-for")?.to_str().ok()?;
        header.rsplit(',').next().map(|a| a.trim().to_string()).filter(|a| !a.is_empty())
    };
    let client = state
        .settings
        .trust_forwarded_for
        .then(forwarded)
        .flatten()
        .or_else(|| request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string()))
        .unwrap_or_else(|| "local".to_string());
    let minute = (state.clock)() / 60;
    let allowed = {
        let mut windows = state.windows.lock().unwrap_or_else(|p| p.into_inner());
        // A new minute starts every count again (and frees the last minute's clients at once).
        if windows.0 != minute {
            *windows = (minute, HashMap::new());
        }
        let count = windows.1.entry(bucket(&client)).or_insert(0);
        *count += 1;
        *count <= state.settings.rate_limit_per_minute
    };
    if !allowed {
        return Rejection::RateLimited(state.settings.rate_limit_per_minute).into_response();
    }
    next.run(request).await
}

/// `POST /v1/receipts`: one compact JWS as the body (`application/jose` or `text/plain`, which
/// `sendBeacon` uses), or `{"receipts": ["…", …]}` for a batch.
async fn post_receipts(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<String, axum::extract::rejection::StringRejection>,
) -> Response {
    // axum's own refusals (too large, not UTF-8) answer as JSON like every other refusal.
    let body = match body {
        Ok(body) => body,
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return Rejection::TooLarge(format!(
                "the body is over {} bytes: send fewer receipts per batch",
                state.settings.body_limit
            ))
            .into_response()
        }
        Err(e) => return Rejection::Malformed(format!("body: {}", e.body_text())).into_response(),
    };
    let gpc = headers.get("sec-gpc").is_some_and(|v| v.as_bytes() == b"1");
    let trimmed = body.trim();
    if !trimmed.starts_with('{') {
        return match accept(&state, trimmed.to_string(), gpc).await {
            Ok((status, result)) => json_response(status, result.canonical()),
            Err(rejection) => {
                tracing::warn!(reason = %rejection, "receipt refused");
                rejection.into_response()
            }
        };
    }
    let batch = match Json::parse(trimmed) {
        Ok(json) => json,
        Err(e) => return Rejection::Malformed(format!("batch body: {e}")).into_response(),
    };
    let items = match assent_core::json::Fields::new(&batch, "", &["receipts"])
        .and_then(|f| f.list("receipts", assent_core::json::as_string))
    {
        Ok(Some(items)) => items,
        Ok(None) => return Rejection::Malformed("a batch is {\"receipts\": [\"<jws>\", …]}".into()).into_response(),
        Err(e) => return Rejection::Malformed(format!("batch body: {e}")).into_response(),
    };
    let mut results = Vec::new();
    // A batch is a browser's outbox in chain order (sendBeacon on pagehide). After a receipt refused
    // for now, the rest wait, as the outbox holds them back: stored now, the next would be a gap and the
    // refused one a fork (409, lost) when it comes again.
    let mut held: Option<(usize, String)> = None;
    for (n, item) in items.into_iter().enumerate() {
        let outcome = match &held {
            Some((first, reason)) => Err(Rejection::Held(format!(
                "receipt no. {first} of this batch was refused for now ({reason}); send this one again after it"
            ))),
            None => accept(&state, item, gpc).await,
        };
        if let (Err(rejection), None) = (&outcome, &held) {
            if rejection.for_now() {
                held = Some((n + 1, rejection.to_string()));
            }
        }
        let result = match outcome {
            Ok((status, mut result)) => {
                if let Json::Object(m) = &mut result {
                    m.push(("status".into(), Json::Number(status.as_u16().to_string())));
                }
                result
            }
            Err(rejection) => Json::Object(vec![
                ("error".into(), s(&rejection.to_string())),
                ("status".into(), Json::Number(rejection.status().as_u16().to_string())),
            ]),
        };
        results.push(result);
    }
    json_response(StatusCode::OK, Json::Object(vec![("results".into(), Json::Array(results))]).canonical())
}

/// Verifies and appends one receipt. 201 when stored now, 200 with the first result for a duplicate.
async fn accept(state: &AppState, compact: String, gpc_header: bool) -> Result<(StatusCode, Json), Rejection> {
    let verified = jws::verify(&compact)?;
    let claims = Claims::from_canonical_json(&verified.payload).map_err(|e| {
        let message = e.to_string();
        Rejection::Invalid(message.strip_prefix("config: ").unwrap_or(&message).to_string())
    })?;
    let now = (state.clock)();
    if claims.issued_at > now + state.settings.max_skew_secs {
        return Err(Rejection::Future { iat: claims.issued_at, now, skew: state.settings.max_skew_secs });
    }
    if claims.expires_at <= claims.issued_at {
        return Err(Rejection::Invalid("exp: must be after iat".into()));
    }
    // CORS cannot stop a `text/plain` POST from another site (a simple request), so the allow-list is
    // also applied to the origin the receipt itself claims.
    let origins = &state.settings.allow_origins;
    if !origins.is_empty() && !origins.iter().any(|o| o == "*" || *o == claims.origin) {
        return Err(Rejection::Forbidden(format!(
            "origin `{}` is not one of the sites this collector serves ({}); add it with --allow-origin",
            claims.origin,
            origins.join(", ")
        )));
    }
    let as_i64 = |t: u64| i64::try_from(t).map_err(|_| Rejection::Invalid("iat/exp out of range".into()));
    let hash = jws::receipt_hash(&compact);
    let row = Row {
        seq: 0,
        id: claims.id.clone(),
        subject: claims.subject.clone(),
        issued_at: as_i64(claims.issued_at)?,
        received_at: as_i64(now)?,
        hash,
        prev: claims.prev.clone(),
        chain: String::new(),
        jws: compact.trim().to_string(),
        claims: verified.payload.clone(),
        key_thumbprint: verified.key_thumbprint,
        gpc_header,
    };
    let store = state.store.clone();
    let key = row.key_thumbprint.clone();
    let decide = move |head: Option<&Link>, prev_row: Option<&Link>| -> Result<String, Rejection> {
        let chain = match (&claims.prev, head, prev_row) {
            (None, None, _) => "first",
            (Some(prev), Some(head), _) if *prev == head.hash => "linked",
            // A chain is the receipts one key signs: naming another key's receipt continues no chain.
            (Some(_), _, Some(prev_row)) if prev_row.subject == claims.subject && prev_row.key != key => "gap",
            (Some(prev), Some(head), Some(prev_row)) if prev_row.subject == claims.subject => {
                return Err(Rejection::Conflict(format!(
                    "fork: prev {prev} is receipt {}, but the latest receipt this key signed for the subject is {}; a subject's history is one chain",
                    prev_row.id, head.id
                )))
            }
            (Some(_), _, Some(prev_row)) => {
                return Err(Rejection::Conflict(format!("prev names receipt {} of another subject", prev_row.id)))
            }
            // The previous receipt never reached this collector (or the browser lost its chain state):
            // stored, and flagged so an export shows the break.
            _ => "gap",
        };
        Ok(chain.to_string())
    };
    let appended = store.append(row, Box::new(decide)).await?;
    let (status, row, duplicate) = match appended {
        Appended::New(row) => {
            state.appended.notify_waiters();
            (StatusCode::CREATED, row, false)
        }
        Appended::Duplicate(row) => (StatusCode::OK, row, true),
    };
    tracing::info!(receipt = %row.id, subject = %row.subject, chain = %row.chain, duplicate, gpc_header = row.gpc_header, "receipt stored");
    Ok((
        status,
        Json::Object(vec![
            ("ack".into(), Json::String(ack(&state.key, &row))),
            ("chain".into(), s(&row.chain)),
            ("duplicate".into(), Json::Bool(duplicate)),
            ("hash".into(), s(&row.hash)),
            ("id".into(), s(&row.id)),
        ]),
    ))
}

/// Whether a stored row is what the collector verified: its JWS verifies, and its hash, claims and key
/// thumbprint are the JWS's own.
fn intact(row: &Row) -> bool {
    jws::verify(&row.jws).is_ok_and(|v| v.payload == row.claims && v.key_thumbprint == row.key_thumbprint)
        && jws::receipt_hash(&row.jws) == row.hash
}

/// The collector's countersigned acknowledgment of a stored receipt: chain status, id, receipt hash,
/// time of receipt and subject. It is signed after the commit, off the writer's serial path, and is not
/// stored: Ed25519 signatures are deterministic (RFC 8032), so signing the same stored fields again
/// (for a duplicate, or in an export) gives the same bytes.
fn ack(key: &CollectorKey, row: &Row) -> String {
    key.sign(&Json::Object(vec![
        ("chain".into(), s(&row.chain)),
        ("id".into(), s(&row.id)),
        ("receipt".into(), s(&row.hash)),
        ("receivedAt".into(), Json::Number(row.received_at.to_string())),
        ("sub".into(), s(&row.subject)),
    ]))
}

/// The latest `at` the gate reads: 9999-12-31T23:59:59Z. A larger number is most likely milliseconds.
const LAST_SECOND: i64 = 253_402_300_799;

fn parse_at(value: Option<&String>, now: u64) -> Result<i64, Rejection> {
    let Some(value) = value else {
        return i64::try_from(now).map_err(|_| Rejection::BadRequest("clock out of range".into()));
    };
    if let Ok(seconds) = value.parse::<i64>() {
        return if (0..=LAST_SECOND).contains(&seconds) {
            Ok(seconds)
        } else {
            Err(Rejection::BadRequest(format!(
                "at `{value}` is out of range: give Unix seconds (not milliseconds) from 1970 to 9999, or RFC 3339"
            )))
        };
    }
    let seconds = time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
        .map(|t| t.unix_timestamp())
        .map_err(|_| {
            Rejection::BadRequest(format!("at `{value}`: use Unix seconds or RFC 3339, e.g. 2026-11-22T10:00:00Z"))
        })?;
    if !(0..=LAST_SECOND).contains(&seconds) {
        return Err(Rejection::BadRequest(format!("at `{value}` is out of range: give a time from 1970 to 9999")));
    }
    Ok(seconds)
}

/// `GET /v1/subjects/{id}/consent?purpose=P&at=T[&scope=S]`: may subject's data be used for P at T?
/// A pipeline asking for one record passes the record's `Content-Usage` along: for `ai_training`,
/// `train-ai=n` there refuses whatever the receipts say (the data's own opt-out, as `assent filter`
/// reads it).
async fn gate(
    State(state): State<AppState>,
    Path(subject): Path<String>,
    headers: HeaderMap,
    q: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let result: Result<Json, Rejection> = async {
        subject_id(&subject)?;
        let Query(q) = q.map_err(|e| Rejection::BadRequest(e.body_text()))?;
        let purpose = q.get("purpose").ok_or_else(|| Rejection::BadRequest("purpose is required, e.g. ?purpose=analytics".into()))?;
        let at = parse_at(q.get("at"), (state.clock)())?;
        let scope = q.get("scope").filter(|s| !s.is_empty() && *s != "site");
        if let Some(scope) = scope.filter(|s| assent_core::scoped::Scope::parse(s).is_none()) {
            return Err(Rejection::BadRequest(format!(
                "scope `{scope}`: use site, conversation:<id> (1-64 letters, digits, `.`, `_`, `-`, `:`) or service:<name>"
            )));
        }
        // The whole history in arrival order: the gate needs the subject's first key as well as the
        // receipts issued by `at`.
        let rows = state.store.subject_receipts(&subject).await?;
        let claims = stored_claims(&rows);
        let evidence = stored_evidence(&claims);
        let mut answer = assent_core::receipt::gate(&evidence, purpose, u64::try_from(at).unwrap_or(0), scope.map(String::as_str));
        let usage = headers.get("content-usage").and_then(|v| v.to_str().ok());
        if purpose == "ai_training" && usage.and_then(assent_core::aipref::train_ai) == Some(false) {
            answer.granted = false;
            answer.reason = "the data's Content-Usage says train-ai=n";
        }
        let time = |t: Option<u64>| t.map_or(Json::Null, |t| iso(t as i64));
        Ok(Json::Object(vec![
            ("at".into(), iso(at)),
            ("decidedIn".into(), s(answer.decided_in.as_deref().unwrap_or("site"))),
            ("granted".into(), Json::Bool(answer.granted)),
            ("method".into(), answer.method.map_or(Json::Null, |m| s(m.as_str()))),
            ("purpose".into(), s(purpose)),
            ("reason".into(), s(answer.reason)),
            ("receipt".into(), answer.receipt.as_deref().map_or(Json::Null, s)),
            ("scope".into(), scope.map_or(s("site"), |v| s(v))),
            ("since".into(), time(answer.since)),
            ("subject".into(), s(&subject)),
            ("until".into(), time(answer.until)),
        ]))
    }
    .await;
    match result {
        Ok(json) => json_response(StatusCode::OK, json.canonical()),
        Err(e) => e.into_response(),
    }
}

/// A subject id as receipts carry it: 32 lowercase hex digits. Anything else can have no receipts (and
/// a NUL byte made PostgreSQL answer 503 where SQLite answered 200).
fn subject_id(subject: &str) -> Result<(), Rejection> {
    if assent_core::receipt::lower_hex(subject, 32) {
        Ok(())
    } else {
        Err(Rejection::BadRequest("subject id: 32 lowercase hex digits, as in the receipts' `sub`".into()))
    }
}

/// `GET /v1/subjects/{id}/receipts` with `Authorization: Bearer <key>`: the subject's full history.
async fn export(State(state): State<AppState>, Path(subject): Path<String>, headers: HeaderMap) -> Response {
    if let Err(e) = authorized(&state, &headers) {
        return e.into_response();
    }
    if let Err(e) = subject_id(&subject) {
        return e.into_response();
    }
    let rows = match state.store.subject_receipts(&subject).await {
        Ok(rows) => rows,
        Err(e) => return e.into_response(),
    };
    let receipts = rows
        .iter()
        .map(|r| {
            Json::Object(vec![
                // Countersigned again only if the stored row is still what was verified: a row written
                // into the database behind the collector's back gets no ack.
                ("ack".into(), if intact(r) { Json::String(ack(&state.key, r)) } else { Json::Null }),
                ("chain".into(), s(&r.chain)),
                ("gpcHeader".into(), Json::Bool(r.gpc_header)),
                ("hash".into(), s(&r.hash)),
                ("id".into(), s(&r.id)),
                ("issuedAt".into(), iso(r.issued_at)),
                ("jws".into(), s(&r.jws)),
                ("keyThumbprint".into(), s(&r.key_thumbprint)),
                ("prev".into(), r.prev.as_deref().map_or(Json::Null, s)),
                ("receivedAt".into(), iso(r.received_at)),
                ("seq".into(), Json::Number(r.seq.to_string())),
            ])
        })
        .collect();
    let body = Json::Object(vec![("receipts".into(), Json::Array(receipts)), ("subject".into(), s(&subject))]);
    json_response(StatusCode::OK, body.canonical())
}

/// The API key's check: exports and the interval table are behind it.
fn authorized(state: &AppState, headers: &HeaderMap) -> Result<(), Rejection> {
    let Some(expected) = &state.settings.api_key else {
        return Err(Rejection::Unauthorized(
            "export is disabled: start the collector with --api-key or ASSENT_API_KEY".into(),
        ));
    };
    if !bearer(headers).is_some_and(|g| same_secret(g.as_bytes(), expected.as_bytes())) {
        return Err(Rejection::Unauthorized("send Authorization: Bearer <api key>".into()));
    }
    Ok(())
}

/// Subjects per page of `GET /v1/intervals`, by default and at most.
const INTERVAL_PAGE: (usize, usize) = (1_000, 10_000);

/// `GET /v1/intervals?purpose=P[&after=<subject>][&limit=N][&format=parquet]` with the API key: the
/// consent-interval table for P (the rows `assent intervals` writes, by the same code), for up to N
/// subjects in subject order after `after`. A full page says where the next starts in the
/// `Assent-Next-After` header; the last page has none. NDJSON is streamed a subject at a time as it is
/// computed; `format=parquet` (or `Accept: application/vnd.apache.parquet`) answers the page as one
/// Parquet file.
async fn intervals(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let page: Result<(String, Vec<String>, Option<String>, bool), Rejection> = async {
        authorized(&state, &headers)?;
        let Query(q) = q.map_err(|e| Rejection::BadRequest(e.body_text()))?;
        let purpose = q.get("purpose").filter(|p| assent_core::purpose::is_purpose_id(p)).ok_or_else(|| {
            Rejection::BadRequest("purpose is required, a purpose id such as ?purpose=ai_training".into())
        })?;
        let after = q.get("after").map(String::as_str).filter(|a| !a.is_empty());
        if let Some(after) = after {
            subject_id(after).map_err(|_| {
                Rejection::BadRequest(
                    "after: a subject id (32 lowercase hex digits), as Assent-Next-After gave it".into(),
                )
            })?;
        }
        let limit = match q.get("limit") {
            None => INTERVAL_PAGE.0,
            Some(l) => l.parse::<usize>().ok().filter(|n| (1..=INTERVAL_PAGE.1).contains(n)).ok_or_else(|| {
                Rejection::BadRequest(format!("limit: a number of subjects from 1 to {}", INTERVAL_PAGE.1))
            })?,
        };
        let accept = headers.get("accept").and_then(|v| v.to_str().ok()).unwrap_or("");
        let parquet = match q.get("format").map(String::as_str) {
            None => accept.contains(PARQUET),
            Some("parquet") => true,
            Some("ndjson") => false,
            Some(other) => {
                return Err(Rejection::BadRequest(format!("format `{other}`: ndjson (the default) or parquet")))
            }
        };
        let subjects = state.store.subjects_after(after, limit).await?;
        let next = (subjects.len() == limit).then(|| subjects.last().cloned()).flatten();
        Ok((purpose.clone(), subjects, next, parquet))
    }
    .await;
    let (purpose, subjects, next, parquet) = match page {
        Ok(page) => page,
        Err(e) => return e.into_response(),
    };
    let mut res = if parquet {
        match interval_parquet(&state.store, &purpose, &subjects).await {
            Ok(file) => {
                let mut res = (StatusCode::OK, file).into_response();
                res.headers_mut().insert("content-type", HeaderValue::from_static(PARQUET));
                res
            }
            Err(e) => return e.into_response(),
        }
    } else {
        // A subject at a time, as computed. A database error part-way ends the body early (the
        // connection is closed without its last chunk), so a client never takes a cut page for whole.
        let (lines, body) = tokio::sync::mpsc::channel::<Result<String, std::io::Error>>(8);
        let store = state.store.clone();
        tokio::spawn(async move {
            for subject in &subjects {
                let chunk = match store.subject_receipts(subject).await {
                    Ok(rows) => Ok(subject_rows(subject, &purpose, &rows)),
                    Err(e) => Err(std::io::Error::other(e.to_string())),
                };
                let failed = chunk.is_err();
                if lines.send(chunk).await.is_err() || failed {
                    return;
                }
            }
        });
        let stream =
            futures_util::stream::unfold(body, |mut body| async { body.recv().await.map(|chunk| (chunk, body)) });
        let mut res = axum::body::Body::from_stream(stream).into_response();
        res.headers_mut().insert("content-type", HeaderValue::from_static("application/x-ndjson"));
        res
    };
    if let Some(next) = next.and_then(|n| HeaderValue::from_str(&n).ok()) {
        res.headers_mut().insert("assent-next-after", next);
    }
    res
}

/// The media type of a Parquet file.
const PARQUET: &str = "application/vnd.apache.parquet";

/// One subject's rows of the interval table, as NDJSON lines.
fn subject_rows(subject: &str, purpose: &str, rows: &[Row]) -> String {
    let claims = stored_claims(rows);
    let evidence = stored_evidence(&claims);
    let mut out = String::new();
    for (scope, span) in assent_core::timeline::Timelines::of(&evidence, purpose).spans() {
        out.push_str(&assent_core::timeline::row(subject, purpose, scope, span));
        out.push('\n');
    }
    out
}

/// A page of the interval table as one Parquet file: the NDJSON's columns, in its order and under its
/// names, with times as Unix seconds (Int64) and absent values as nulls.
async fn interval_parquet(store: &Store, purpose: &str, subjects: &[String]) -> Result<Vec<u8>, Rejection> {
    use arrow_array::builder::{BooleanBuilder, Int64Builder, StringBuilder};
    use arrow_array::{ArrayRef, RecordBatch};
    let mut text: [StringBuilder; 8] = std::array::from_fn(|_| StringBuilder::new());
    let (mut granted, mut from, mut until) = (BooleanBuilder::new(), Int64Builder::new(), Int64Builder::new());
    for subject in subjects {
        let rows = store.subject_receipts(subject).await?;
        let claims = stored_claims(&rows);
        for r in interval_rows(subject, purpose, &stored_evidence(&claims)) {
            let values = [
                Some(r.subject.as_str()),
                Some(r.purpose.as_str()),
                Some(r.scope.as_str()),
                r.receipt.as_deref(),
                r.notice_version.as_deref(),
                r.method.as_deref(),
                Some(r.decided_in.as_str()),
                Some(r.reason.as_str()),
            ];
            for (builder, value) in text.iter_mut().zip(values) {
                builder.append_option(value);
            }
            granted.append_value(r.granted);
            from.append_value(r.valid_from);
            until.append_option(r.valid_until);
        }
    }
    let [subject, purpose, scope, receipt, notice, method, decided_in, reason] = text;
    let column = |mut b: StringBuilder| -> ArrayRef { std::sync::Arc::new(b.finish()) };
    let batch = RecordBatch::try_from_iter([
        ("subject", column(subject)),
        ("purpose", column(purpose)),
        ("scope", column(scope)),
        ("granted", std::sync::Arc::new(granted.finish()) as ArrayRef),
        ("valid_from", std::sync::Arc::new(from.finish()) as ArrayRef),
        ("valid_until", std::sync::Arc::new(until.finish()) as ArrayRef),
        ("receipt", column(receipt)),
        ("notice_version", column(notice)),
        ("method", column(method)),
        ("decided_in", column(decided_in)),
        ("reason", column(reason)),
    ])
    .map_err(|e| Rejection::Storage(format!("interval table: {e}")))?;
    debug_assert!(batch.schema().fields().iter().map(|f| f.name().as_str()).eq(assent_core::timeline::COLUMNS));
    let mut file = Vec::new();
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::SNAPPY)
        .build();
    let mut writer = parquet::arrow::ArrowWriter::try_new(&mut file, batch.schema(), Some(props))
        .map_err(|e| Rejection::Storage(format!("parquet: {e}")))?;
    writer.write(&batch).map_err(|e| Rejection::Storage(format!("parquet: {e}")))?;
    writer.close().map_err(|e| Rejection::Storage(format!("parquet: {e}")))?;
    Ok(file)
}

/// Changes per page of `GET /v1/changes`, by default and at most, and the longest wait in seconds.
const CHANGES_PAGE: (usize, usize, u64) = (500, 5_000, 30);

/// The claims of a subject's stored receipts (those that parse), each with its row, in arrival order.
fn stored_claims<'a>(rows: impl IntoIterator<Item = &'a Row>) -> Vec<(Claims, &'a Row)> {
    rows.into_iter().filter_map(|r| Claims::from_canonical_json(&r.claims).ok().map(|c| (c, r))).collect()
}

/// The gate's view of a subject's stored receipts, in arrival order.
fn stored_evidence<'a>(claims: &'a [(Claims, &'a Row)]) -> Vec<Evidence<'a>> {
    claims
        .iter()
        .map(|(claims, r)| Evidence { claims, key: &r.key_thumbprint, received_at: u64::try_from(r.received_at).ok() })
        .collect()
}

/// A stored receipt as a change of consent: the purposes whose gate answer it ended or started in its
/// scope, judged against the subject's history up to it.
pub(crate) struct Change {
    pub(crate) row: Row,
    pub(crate) claims: Claims,
    pub(crate) ended: Vec<String>,
    pub(crate) started: Vec<String>,
}

/// Each row whose claims parse, with them and what `judge` makes of it given the subject's whole stored
/// history (read once per subject), in the order given.
async fn judged<T>(
    store: &Store,
    rows: Vec<Row>,
    judge: impl Fn(&Row, &Claims, &[Row]) -> T,
) -> Result<Vec<(Row, Claims, T)>, Rejection> {
    let mut histories: HashMap<String, Vec<Row>> = HashMap::new();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let Ok(claims) = Claims::from_canonical_json(&row.claims) else { continue };
        if !histories.contains_key(&row.subject) {
            histories.insert(row.subject.clone(), store.subject_receipts(&row.subject).await?);
        }
        let judgement = judge(&row, &claims, &histories[&row.subject]);
        out.push((row, claims, judgement));
    }
    Ok(out)
}

/// The changes that stored rows made, in the order given (rows whose claims no longer parse are left
/// out). The feed and the webhooks both read them here.
pub(crate) async fn changes_of(store: &Store, rows: Vec<Row>) -> Result<Vec<Change>, Rejection> {
    let judge = |row: &Row, claims: &Claims, history: &[Row]| {
        let history = stored_claims(history.iter().filter(|r| r.seq <= row.seq));
        let evidence = stored_evidence(&history);
        let (before, _) = evidence.split_at(evidence.len().saturating_sub(1));
        let at = claims.issued_at.min(u64::try_from(row.received_at).unwrap_or(u64::MAX));
        let scope = claims.scope.as_deref();
        let (mut ended, mut started) = (Vec::new(), Vec::new());
        for p in &claims.purposes {
            let was = assent_core::receipt::gate(before, &p.id, at, scope).granted;
            let is = assent_core::receipt::gate(&evidence, &p.id, at, scope).granted;
            match (was, is) {
                (true, false) => ended.push(p.id.clone()),
                (false, true) => started.push(p.id.clone()),
                _ => {}
            }
        }
        (ended, started)
    };
    let judged = judged(store, rows, judge).await?;
    Ok(judged.into_iter().map(|(row, claims, (ended, started))| Change { row, claims, ended, started }).collect())
}

/// Consent that ran out: a stored receipt whose `exp` has come while it was the receipt in force for
/// some of its purposes (no later choice had replaced it), with those purposes.
pub(crate) struct Expiry {
    pub(crate) row: Row,
    pub(crate) claims: Claims,
    pub(crate) purposes: Vec<String>,
}

/// What each row's expiry ended, by the gate's own rule: the purposes it decided just before its `exp`
/// and that nothing grants at it.
pub(crate) async fn expiries_of(store: &Store, rows: Vec<Row>) -> Result<Vec<Expiry>, Rejection> {
    let judge = |row: &Row, claims: &Claims, history: &[Row]| -> Vec<String> {
        let history = stored_claims(history);
        let evidence = stored_evidence(&history);
        let (at, scope) = (claims.expires_at, claims.scope.as_deref());
        claims
            .purposes
            .iter()
            .filter(|p| {
                let before = assent_core::receipt::gate(&evidence, &p.id, at.saturating_sub(1), scope);
                before.granted
                    && before.receipt.as_deref() == Some(row.id.as_str())
                    && !assent_core::receipt::gate(&evidence, &p.id, at, scope).granted
            })
            .map(|p| p.id.clone())
            .collect()
    };
    let judged = judged(store, rows, judge).await?;
    Ok(judged.into_iter().map(|(row, claims, purposes)| Expiry { row, claims, purposes }).collect())
}

/// `GET /v1/changes?after=<cursor>[&limit=N][&wait=S]` with the API key: every stored receipt after
/// the cursor, in the order the collector stored them, each with the purposes whose gate answer it
/// ended or started in its scope. With `wait`, an empty answer waits up to S seconds (at most 30) for
/// the next receipt. `next` is the cursor to ask after; the feed is the receipts table itself, so a
/// consumer that keeps its cursor with what it did loses and repeats nothing across restarts of
/// either side.
async fn changes(
    State(state): State<AppState>,
    headers: HeaderMap,
    q: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let result: Result<Json, Rejection> = async {
        authorized(&state, &headers)?;
        let Query(q) = q.map_err(|e| Rejection::BadRequest(e.body_text()))?;
        let number = |name: &str, default: u64, max: u64, what: &str| match q.get(name) {
            None => Ok(default),
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|n| *n <= max)
                .ok_or_else(|| Rejection::BadRequest(format!("{name}: {what}"))),
        };
        let after = number("after", 0, i64::MAX as u64, "a cursor, as `next` gave it (0 for the start)")?;
        let limit =
            number("limit", CHANGES_PAGE.0 as u64, CHANGES_PAGE.1 as u64, "a number of changes from 1 to 5000")?;
        if limit == 0 {
            return Err(Rejection::BadRequest("limit: a number of changes from 1 to 5000".into()));
        }
        let wait = number("wait", 0, CHANGES_PAGE.2, "seconds to wait for a change, from 0 to 30")?;
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(wait);
        let rows = loop {
            // Registered before the read, so a receipt stored in between still wakes this poll.
            let appended = state.appended.notified();
            let rows = state.store.receipts_after(after as i64, limit as usize).await?;
            if !rows.is_empty() || tokio::time::Instant::now() >= deadline {
                break rows;
            }
            // Another instance on the same PostgreSQL database does not wake this one: read again
            // each second.
            let tick = deadline.min(tokio::time::Instant::now() + std::time::Duration::from_secs(1));
            tokio::select! {
                () = appended => {}
                () = tokio::time::sleep_until(tick) => {}
            }
        };
        let next = rows.last().map_or(after as i64, |r| r.seq);
        let mut out = Vec::with_capacity(rows.len());
        for Change { row, claims, ended, started } in changes_of(&state.store, rows).await? {
            let ids = |granted: bool| {
                Json::Array(claims.purposes.iter().filter(|p| p.granted == granted).map(|p| s(&p.id)).collect())
            };
            let list = |ids: Vec<String>| Json::Array(ids.iter().map(|id| s(id)).collect());
            out.push(Json::Object(vec![
                ("cursor".into(), s(&row.seq.to_string())),
                ("ended".into(), list(ended)),
                ("expiresAt".into(), iso(i64::try_from(claims.expires_at).unwrap_or(i64::MAX))),
                ("granted".into(), ids(true)),
                ("issuedAt".into(), iso(row.issued_at)),
                ("method".into(), s(claims.method.as_str())),
                ("receipt".into(), s(&row.id)),
                ("receivedAt".into(), iso(row.received_at)),
                ("refused".into(), ids(false)),
                ("scope".into(), s(claims.scope.as_deref().unwrap_or("site"))),
                ("started".into(), list(started)),
                ("subject".into(), s(&row.subject)),
            ]));
        }
        Ok(Json::Object(vec![("changes".into(), Json::Array(out)), ("next".into(), s(&next.to_string()))]))
    }
    .await;
    match result {
        Ok(json) => json_response(StatusCode::OK, json.canonical()),
        Err(e) => e.into_response(),
    }
}

/// The rate limit's bucket for a client address: an IPv6 client by its /64, which one subscriber holds
/// whole (each address in it would otherwise get a limit of its own); anything else as it is.
fn bucket(client: &str) -> String {
    match client.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        _ => client.to_string(),
    }
}

/// The key in `Authorization: Bearer <key>`.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "))
}

/// Compares a presented key with the configured one in time that does not depend on where they differ.
fn same_secret(given: &[u8], expected: &[u8]) -> bool {
    given.len() == expected.len() && given.iter().zip(expected).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

async fn jwks(State(state): State<AppState>) -> Response {
    json_response(StatusCode::OK, state.jwks.to_string())
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.healthy().await {
        Ok(()) => json_response(StatusCode::OK, r#"{"status":"ok"}"#.into()),
        Err(e) => e.into_response(),
    }
}
