//! The collector's intake, through its real router and a real SQLite file: `POST /v1/receipts` from
//! the body's bytes up to the store.

use std::sync::Arc;

use assent_collector::{app, AppState, Settings, Store};
use assent_core::json::Json;
use axum::body::Body;
use axum::http::Request;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use ed25519_dalek::Signer;
use http_body_util::BodyExt;
use tower::ServiceExt;

/// The collector's clock: the seeds' receipts are issued just before it.
pub const NOW: u64 = 1_790_000_000;

struct Collector {
    runtime: tokio::runtime::Runtime,
    app: Router,
    _dir: tempfile::TempDir,
}

thread_local! {
    static COLLECTOR: Collector = {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = Store::open(&dir.path().join("fuzz.db")).expect("a SQLite store");
        let settings = Settings { rate_limit_per_minute: u32::MAX, ..Settings::default() };
        let state = runtime.block_on(AppState::new(store, settings, Arc::new(|| NOW))).expect("the collector's state");
        Collector { runtime, app: app(state), _dir: dir }
    };
}

/// A JWS over `payload`, signed as a browser with Ed25519 signs one (a fixed key).
pub fn signed(payload: &[u8]) -> String {
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let x = B64.encode(key.verifying_key().to_bytes());
    let header =
        format!(r#"{{"alg":"EdDSA","jwk":{{"crv":"Ed25519","kty":"OKP","x":"{x}"}},"typ":"assent-receipt+jws"}}"#);
    let input = format!("{}.{}", B64.encode(header), B64.encode(payload));
    format!("{input}.{}", B64.encode(key.sign(input.as_bytes()).to_bytes()))
}

/// The first byte picks the body: 0, the rest as sent; 1, the rest as claims, signed; 2, a batch of the
/// rest signed and the rest as sent. The collector must answer every body without a server error, and
/// refuse with a reason.
pub fn intake(data: &[u8]) {
    let Some((status, answer)) = post(data) else { return };
    assert!(status < 500, "{status}: {answer}");
    if status >= 400 {
        assert!(answer.contains("\"error\""), "a refusal says why: {status} {answer}");
    }
}

/// What the collector answers to the body `data` picks (see [`intake`]): its status and body.
pub fn post(data: &[u8]) -> Option<(u16, String)> {
    let (&mode, rest) = data.split_first()?;
    let body: Vec<u8> = match mode % 3 {
        0 => rest.to_vec(),
        1 => signed(rest).into_bytes(),
        _ => {
            let raw = Json::String(String::from_utf8_lossy(rest).into_owned());
            format!(r#"{{"receipts":[{},{}]}}"#, Json::String(signed(rest)).canonical(), raw.canonical()).into_bytes()
        }
    };
    Some(COLLECTOR.with(|c| {
        let request =
            Request::post("/v1/receipts").header("content-type", "text/plain").body(Body::from(body)).unwrap();
        c.runtime.block_on(async {
            let response = c.app.clone().oneshot(request).await.expect("the router answers");
            let status = response.status().as_u16();
            let body = response.into_body().collect().await.expect("a body").to_bytes();
            (status, String::from_utf8_lossy(&body).into_owned())
        })
    }))
}
