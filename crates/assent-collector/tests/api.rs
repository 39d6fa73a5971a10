//! The collector over HTTP (axum `oneshot`), on both backends: a real SQLite file in a temp dir, and a
//! real PostgreSQL that `cargo xtask test` starts on loopback (`ASSENT_TEST_DATABASE_URL`, one fresh
//! database per test). Every test runs as `<name>::sqlite` and `<name>::postgres`. Receipts are built
//! with the core's wire format and signed here with Ed25519 or P-256, as a browser would.

mod support;

use std::sync::Arc;

use assent_collector::{app, AppState, Settings, Store};
use assent_core::json::Json;
use assent_core::receipt::{Claims, PurposeClaim};
use assent_core::Method;
use assent_jose as jws;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use ed25519_dalek::Signer;
use http_body_util::BodyExt;
use tower::ServiceExt;

const NOW: u64 = 1_790_000_000;
const SUBJECT: &str = "0123456789abcdef0123456789abcdef";

struct Env {
    app: Router,
    _dir: tempfile::TempDir,
}

#[derive(Debug, Clone, Copy)]
enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh PostgreSQL database on the test server, or `None` (skipped) outside `npm test`.
async fn postgres_url() -> Option<String> {
    let Ok(base) = std::env::var("ASSENT_TEST_DATABASE_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the PostgreSQL suite: ASSENT_TEST_DATABASE_URL is not set"
        );
        eprintln!("PostgreSQL variant skipped: set ASSENT_TEST_DATABASE_URL (npm test starts a server and sets it)");
        return None;
    };
    let mut random = [0u8; 8];
    getrandom::getrandom(&mut random).unwrap();
    let name = format!("assent_t_{}", u64::from_le_bytes(random));
    let (client, connection) =
        tokio_postgres::connect(&format!("{base}/postgres"), tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
    Some(format!("{base}/{name}"))
}

async fn open(backend: Backend, dir: &tempfile::TempDir) -> Option<(Store, Option<String>)> {
    match backend {
        Backend::Sqlite => Some((Store::open(&dir.path().join("receipts.sqlite")).unwrap(), None)),
        Backend::Postgres => {
            let url = postgres_url().await?;
            Some((Store::open_postgres(&url).await.unwrap(), Some(url)))
        }
    }
}

async fn env_with(backend: Backend, settings: Settings) -> Option<Env> {
    let dir = tempfile::tempdir().unwrap();
    let (store, _) = open(backend, &dir).await?;
    let state = AppState::new(store, settings, Arc::new(|| NOW)).await.unwrap();
    Some(Env { app: app(state), _dir: dir })
}

async fn fresh(backend: Backend) -> Option<Env> {
    env_with(backend, Settings { api_key: Some("secret".into()), ..Settings::default() }).await
}

/// Runs each test on both backends.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name(super::Backend::Sqlite).await
            }
            #[tokio::test]
            async fn postgres() {
                super::$name(super::Backend::Postgres).await
            }
        }
    )*};
}

on_both_backends!(
    a_valid_receipt_is_stored_once_and_acknowledged_with_a_countersignature,
    another_keys_receipts_do_not_break_the_subjects_chain,
    a_signing_key_file_takes_over_and_the_stored_key_is_published_only_when_asked,
    bad_input_gets_a_4xx_with_a_reason_and_is_never_stored,
    chains_link_forks_are_refused_and_gaps_are_flagged,
    the_gate_answers_per_purpose_and_time,
    the_gate_answers_for_a_conversation_scope,
    es256_receipts_from_browsers_without_ed25519_are_accepted,
    batches_sec_gpc_export_auth_limits_and_contract_routes,
    the_receipt_table_refuses_update_and_delete,
    a_database_error_in_a_batch_acknowledges_nothing_unstored,
    a_receipt_signed_with_another_key_can_refuse_but_not_grant,
    in_a_batch_the_receipts_after_one_refused_for_now_wait,
    the_interval_table_pages_through_subjects_behind_the_api_key,
    the_changes_feed_lists_each_receipt_in_order_with_what_it_ended,
);

use support::{sign_ed25519, signed, ED_HEADER};

fn claims(n: u8, iat: u64, analytics: bool, prev: Option<String>) -> Claims {
    support::claims_for(SUBJECT, &format!("r{:032x}", n), iat, analytics, prev)
}

async fn call(app: &Router, req: Request<Body>) -> (StatusCode, String) {
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

async fn post(app: &Router, body: &str) -> (StatusCode, String) {
    post_with(app, body, None).await
}

async fn post_with(app: &Router, body: &str, gpc: Option<&str>) -> (StatusCode, String) {
    let mut req = Request::post("/v1/receipts").header("content-type", "text/plain");
    if let Some(v) = gpc {
        req = req.header("sec-gpc", v);
    }
    call(app, req.body(Body::from(body.to_string())).unwrap()).await
}

async fn get(app: &Router, uri: &str) -> (StatusCode, String) {
    call(app, Request::get(uri).body(Body::empty()).unwrap()).await
}

async fn export(app: &Router) -> Json {
    let req = Request::get(format!("/v1/subjects/{SUBJECT}/receipts")).header("authorization", "Bearer secret");
    let (status, body) = call(app, req.body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    Json::parse(&body).unwrap()
}

fn field<'a>(json: &'a Json, key: &str) -> &'a Json {
    json.as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {key} in {json:?}"))
}

fn stored_count(export: &Json) -> usize {
    match field(export, "receipts") {
        Json::Array(items) => items.len(),
        other => panic!("{other:?}"),
    }
}

async fn a_valid_receipt_is_stored_once_and_acknowledged_with_a_countersignature(backend: Backend) {
    let Some(env) = fresh(backend).await else { return };
    let jws = signed(&claims(1, NOW - 10, true, None));
    let (status, body) = post(&env.app, &jws).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let result = Json::parse(&body).unwrap();
    assert_eq!(field(&result, "chain"), &Json::String("first".into()));
    assert_eq!(field(&result, "hash"), &Json::String(jws::receipt_hash(&jws)));

    // The ack verifies with the key the collector publishes.
    let Json::String(ack) = field(&result, "ack") else { panic!() };
    let (_, jwks) = get(&env.app, "/.well-known/jwks.json").await;
    let Json::Array(keys) = field(&Json::parse(&jwks).unwrap(), "keys").clone() else { panic!() };
    let Json::String(x) = field(&keys[0], "x").clone() else { panic!() };
    let key = ed25519_dalek::VerifyingKey::from_bytes(&B64.decode(x).unwrap().try_into().unwrap()).unwrap();
    let parts: Vec<&str> = ack.split('.').collect();
    let sig = ed25519_dalek::Signature::from_slice(&B64.decode(parts[2]).unwrap()).unwrap();
    key.verify_strict(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig).expect("ack signature verifies");
    let ack_payload = String::from_utf8(B64.decode(parts[1]).unwrap()).unwrap();
    assert!(
        ack_payload.contains(&jws::receipt_hash(&jws)) && ack_payload.contains("\"receivedAt\":1790000000"),
        "{ack_payload}"
    );

    // A duplicate returns the same result and stores no second row.
    let (status2, body2) = post(&env.app, &jws).await;
    assert_eq!(status2, StatusCode::OK);
    assert_eq!(body2, body.replace("\"duplicate\":false", "\"duplicate\":true"));
    let exported = export(&env.app).await;
    assert_eq!(stored_count(&exported), 1);
    // The ack is signed again from the stored fields, not stored: the export carries the same bytes
    // the browser was given (Ed25519 is deterministic).
    let Json::Array(items) = field(&exported, "receipts") else { panic!() };
    assert_eq!(field(&items[0], "ack"), &Json::String(ack.clone()));
}

/// Guards the re-signed acks: the export countersigns a stored row again only if it is still what the
/// collector verified. A row inserted into the database behind its back (the triggers stop UPDATE and
/// DELETE, not INSERT) gets no ack.
#[tokio::test]
async fn the_export_countersigns_only_rows_that_still_verify() {
    let env = fresh(Backend::Sqlite).await.unwrap();
    let first = signed(&claims(1, NOW - 10, true, None));
    assert_eq!(post(&env.app, &first).await.0, StatusCode::CREATED);
    let forged = signed(&claims(2, NOW - 5, true, Some(jws::receipt_hash(&first))));
    let conn = rusqlite::Connection::open(env._dir.path().join("receipts.sqlite")).unwrap();
    conn.execute(
        "INSERT INTO receipts (id, subject, issued_at, received_at, hash, prev, chain, jws, claims, key_thumbprint, gpc_header)
         SELECT 'r-forged', subject, issued_at + 5, received_at, ?1, hash, 'linked', ?2, claims, key_thumbprint, 0 FROM receipts",
        rusqlite::params![jws::receipt_hash(&forged), forged],
    )
    .unwrap();
    let Json::Array(items) = field(&export(&env.app).await, "receipts").clone() else { panic!() };
    let acks: Vec<bool> = items.iter().map(|r| matches!(field(r, "ack"), Json::String(_))).collect();
    assert_eq!(acks, [true, false], "the planted row's claims are not its JWS's, so it is not countersigned");
}

/// Guards databases made before acks were recomputed (they have a NOT NULL `ack` column, like a demo's
/// `target/demo/receipts.sqlite`): they keep accepting and chaining receipts.
#[tokio::test]
async fn a_database_from_before_recomputed_acks_keeps_working() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("receipts.sqlite");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "CREATE TABLE receipts (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, subject TEXT NOT NULL,
             issued_at INTEGER NOT NULL, received_at INTEGER NOT NULL, hash TEXT NOT NULL UNIQUE, prev TEXT, chain TEXT NOT NULL,
             jws TEXT NOT NULL, claims TEXT NOT NULL, key_thumbprint TEXT NOT NULL, gpc_header INTEGER NOT NULL, ack TEXT NOT NULL);",
        )
        .unwrap();
    let app = app(AppState::new(Store::open(&path).unwrap(), Settings::default(), Arc::new(|| NOW)).await.unwrap());
    let first = signed(&claims(1, NOW - 10, true, None));
    let (status, body) = post(&app, &first).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = post(&app, &signed(&claims(2, NOW, false, Some(jws::receipt_hash(&first))))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body.contains("\"chain\":\"linked\""), "{body}");
}

async fn bad_input_gets_a_4xx_with_a_reason_and_is_never_stored(backend: Backend) {
    let Some(env) = fresh(backend).await else { return };
    let good = claims(1, NOW - 10, true, None);
    let payload = good.to_canonical_json();
    let jws = signed(&good);
    let parts: Vec<&str> = jws.split('.').collect();
    let tampered_payload = B64.encode(payload.replace("\"granted\":false", "\"granted\":true"));
    let hs256 = format!("{}.{}.{}", B64.encode(r#"{"alg":"HS256","typ":"JWT"}"#), parts[1], parts[2]);
    let none = format!("{}.{}.", B64.encode(r#"{"alg":"none","jwk":{"kty":"OKP"}}"#), parts[1]);
    let table: Vec<(String, StatusCode, &str)> = vec![
        (
            "not a jws".into(),
            StatusCode::BAD_REQUEST,
            "malformed receipt: a JWS compact string has three base64url parts",
        ),
        (
            format!("{}.{}.{}", parts[0], tampered_payload, parts[2]),
            StatusCode::BAD_REQUEST,
            "bad signature: the Ed25519 signature does not match",
        ),
        (hs256, StatusCode::BAD_REQUEST, "malformed receipt: header.alg `HS256` is not accepted"),
        (none, StatusCode::BAD_REQUEST, "malformed receipt: header.alg `none` is not accepted"),
        (
            sign_ed25519(ED_HEADER, &payload.replace("\"v\":1", "\"v\":9")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid receipt: v: receipt version 9 is not supported",
        ),
        (
            sign_ed25519(ED_HEADER, &payload.replacen('{', "{ ", 1)),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid receipt: payload: is not canonical JSON",
        ),
        (
            signed(&claims(2, NOW + 3_600, true, None)),
            StatusCode::TOO_EARLY,
            "receipt issued in the future: iat 1790003600 is more than 300 s after",
        ),
    ];
    for (body, status, reason) in table {
        let (got, text) = post(&env.app, &body).await;
        assert_eq!(got, status, "{text}");
        let Json::String(error) = field(&Json::parse(&text).unwrap(), "error").clone() else { panic!("{text}") };
        assert!(error.starts_with(reason), "got: {error}\nwant: {reason}");
    }
    // A receipt from a fast clock is refused for now: 425 with the seconds until the collector's clock has
    // caught up. It used to be refused for good (422), and the browser dropped it.
    let req = Request::post("/v1/receipts")
        .header("content-type", "text/plain")
        .body(Body::from(signed(&claims(2, NOW + 3_600, true, None))))
        .unwrap();
    let res = env.app.clone().oneshot(req).await.unwrap();
    assert_eq!(
        (res.status(), res.headers().get("retry-after").and_then(|v| v.to_str().ok())),
        (StatusCode::TOO_EARLY, Some("3300"))
    );
    assert_eq!(stored_count(&export(&env.app).await), 0, "nothing refused was stored");
}

async fn chains_link_forks_are_refused_and_gaps_are_flagged(backend: Backend) {
    let Some(env) = fresh(backend).await else { return };
    let r1 = signed(&claims(1, NOW - 100, true, None));
    let r2 = signed(&claims(2, NOW - 50, false, Some(jws::receipt_hash(&r1))));
    assert_eq!(post(&env.app, &r1).await.0, StatusCode::CREATED);
    let (status, body) = post(&env.app, &r2).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(body.contains("\"chain\":\"linked\""), "{body}");

    // A tampered copy of a receipt in the middle of the chain does not verify.
    let parts: Vec<&str> = r2.split('.').collect();
    let forged = B64.encode(claims(2, NOW - 50, true, Some(jws::receipt_hash(&r1))).to_canonical_json());
    let (status, body) = post(&env.app, &format!("{}.{}.{}", parts[0], forged, parts[2])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // A second successor of r1 forks the chain: refused.
    let fork = signed(&claims(3, NOW - 40, true, Some(jws::receipt_hash(&r1))));
    let (status, body) = post(&env.app, &fork).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.contains("fork: prev"), "{body}");

    // A receipt whose predecessor never arrived is stored and flagged.
    let gap = signed(&claims(4, NOW - 30, true, Some("f".repeat(64))));
    let (status, body) = post(&env.app, &gap).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(body.contains("\"chain\":\"gap\""), "{body}");
    let chains: Vec<String> = match field(&export(&env.app).await, "receipts") {
        Json::Array(items) => items.iter().map(|r| format!("{:?}", field(r, "chain"))).collect(),
        _ => unreachable!(),
    };
    assert_eq!(chains, ["String(\"first\")", "String(\"linked\")", "String(\"gap\")"]);
}

async fn the_gate_answers_per_purpose_and_time(backend: Backend) {
    let Some(env) = fresh(backend).await else { return };
    let r1 = signed(&claims(1, NOW - 1000, true, None));
    let r2 = signed(&claims(2, NOW - 500, true, Some(jws::receipt_hash(&r1))));
    let r3 = signed(&claims(3, NOW - 100, false, Some(jws::receipt_hash(&r2))));
    for r in [&r1, &r2, &r3] {
        assert_eq!(post(&env.app, r).await.0, StatusCode::CREATED);
    }
    let ask = |purpose: &str, at: u64| format!("/v1/subjects/{SUBJECT}/consent?purpose={purpose}&at={at}");
    let (_, before) = get(&env.app, &ask("analytics", NOW - 2000)).await;
    assert!(before.contains("\"granted\":false") && before.contains("no receipt"), "{before}");
    let (_, during) = get(&env.app, &ask("analytics", NOW - 200)).await;
    expect_test::expect![[r#"{"at":"2026-09-21T14:10:00Z","decidedIn":"site","granted":true,"method":"accept_all","purpose":"analytics","reason":"granted","receipt":"r00000000000000000000000000000002","scope":"site","since":"2026-09-21T13:56:40Z","subject":"0123456789abcdef0123456789abcdef","until":"2027-10-16T14:05:00Z"}"#]].assert_eq(&during);
    let (_, after) = get(&env.app, &ask("analytics", NOW)).await;
    assert!(
        after.contains("\"granted\":false")
            && after.contains("\"reason\":\"refused\"")
            && after.contains("r00000000000000000000000000000003"),
        "{after}"
    );
    let (_, ai) = get(&env.app, &ask("ai_training", NOW - 200)).await;
    assert!(ai.contains("\"granted\":false"), "AI training was never granted: {ai}");
    let (_, rfc) =
        get(&env.app, &format!("/v1/subjects/{SUBJECT}/consent?purpose=analytics&at=2026-09-21T14:10:00Z")).await;
    assert_eq!(rfc, during, "RFC 3339 and Unix seconds ask the same question");
    let (status, bad) = get(&env.app, &format!("/v1/subjects/{SUBJECT}/consent?at=now")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(bad.contains("purpose is required"), "{bad}");

    // A receipt counts from the earlier of its `iat` and when it was received. It used to count only from
    // its `iat`: a device clock 4 minutes fast (within the accepted skew) signed a grant the collector
    // already holds, and the gate said "refused" for those 4 minutes.
    let r4 = signed(&claims(4, NOW + 240, true, Some(jws::receipt_hash(&r3))));
    assert_eq!(post(&env.app, &r4).await.0, StatusCode::CREATED);
    let (_, now) = get(&env.app, &format!("/v1/subjects/{SUBJECT}/consent?purpose=analytics")).await;
    assert!(now.contains("\"granted\":true") && now.contains("r00000000000000000000000000000004"), "{now}");
    let (_, earlier) = get(&env.app, &ask("analytics", NOW - 1)).await;
    assert!(
        earlier.contains("\"granted\":false") && earlier.contains("r00000000000000000000000000000003"),
        "before it arrived: {earlier}"
    );
}

/// Issue 4: `scope=conversation:<id>` answers with that conversation's own AI-training choice, and
/// with the site-wide one where the conversation has none.
async fn the_gate_answers_for_a_conversation_scope(backend: Backend) {
    let Some(env) = fresh(backend).await else { return };
    let toggle = |n: u8, iat: u64, on: bool, conversation: &str, prev: &str| {
        let mut c = claims(n, iat, false, Some(jws::receipt_hash(prev)));
        c.purposes = vec![PurposeClaim {
            id: "ai_training".into(),
            granted: on,
            data_categories: vec!["chat transcripts".into()],
            legitimate_interest: false,
        }];
        c.method = Method::AiToggle;
        c.scope = Some(format!("conversation:{conversation}"));
        signed(&c)
    };
    let site = signed(&claims(1, NOW - 1000, true, None)); // ai_training refused site-wide
    let on = toggle(2, NOW - 500, true, "c-123", &site);
    let off = toggle(3, NOW - 100, false, "c-123", &on);
    for r in [&site, &on, &off] {
        assert_eq!(post(&env.app, r).await.0, StatusCode::CREATED, "scoped receipts join the subject's one chain");
    }
    let ask =
        |scope: &str, at: u64| format!("/v1/subjects/{SUBJECT}/consent?purpose=ai_training&at={at}&scope={scope}");
    // (scope, time, granted, deciding receipt, decided in)
    let table = [
        ("conversation:c-123", NOW - 700, false, "r00000000000000000000000000000001", "site"),
        ("conversation:c-123", NOW - 300, true, "r00000000000000000000000000000002", "conversation:c-123"),
        ("conversation:c-123", NOW, false, "r00000000000000000000000000000003", "conversation:c-123"),
        ("conversation:c-999", NOW - 300, false, "r00000000000000000000000000000001", "site"),
        ("site", NOW - 300, false, "r00000000000000000000000000000001", "site"),
    ];
    for (scope, at, granted, receipt, decided_in) in table {
        let (status, body) = get(&env.app, &ask(scope, at)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains(&format!("\"granted\":{granted}")), "{scope} at {at}: {body}");
        assert!(body.contains(&format!("\"receipt\":\"{receipt}\"")), "{scope} at {at}: {body}");
        assert!(body.contains(&format!("\"decidedIn\":\"{decided_in}\"")), "{scope} at {at}: {body}");
        assert!(body.contains(&format!("\"scope\":\"{scope}\"")), "the asked scope is echoed: {body}");
    }
    // The record's own Content-Usage, passed along by a pipeline: `train-ai=n` refuses where the receipts
    // grant; `train-ai=y` (or a value that says nothing) leaves the receipts' answer.
    let with_usage = |value: &str| {
        Request::get(ask("conversation:c-123", NOW - 300)).header("content-usage", value).body(Body::empty()).unwrap()
    };
    let (_, body) = call(&env.app, with_usage("train-ai=n")).await;
    assert!(body.contains("\"granted\":false") && body.contains("Content-Usage says train-ai=n"), "{body}");
    for value in ["train-ai=y", "search=n", "not a dictionary ("] {
        let (_, body) = call(&env.app, with_usage(value)).await;
        assert!(body.contains("\"granted\":true"), "{value}: {body}");
    }
}

async fn es256_receipts_from_browsers_without_ed25519_are_accepted(backend: Backend) {
    use p256::ecdsa::signature::Signer as _;
    let Some(env) = fresh(backend).await else { return };
    let key = p256::ecdsa::SigningKey::from_bytes(&[5u8; 32].into()).unwrap();
    let point = key.verifying_key().to_encoded_point(false);
    let header = format!(
        r#"{{"alg":"ES256","jwk":{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}}}"#,
        B64.encode(point.x().unwrap()),
        B64.encode(point.y().unwrap())
    );
    let input = format!("{}.{}", B64.encode(header), B64.encode(claims(1, NOW, true, None).to_canonical_json()));
    let sig: p256::ecdsa::Signature = key.sign(input.as_bytes());
    let receipt = format!("{input}.{}", B64.encode(sig.to_bytes()));
    // An ES256 signature's second valid form, (r, n−s), is the same signed content: a duplicate. Anyone who
    // saw the receipt could post that twin first; the browser's own copy used to be refused as a conflict
    // (409) and dropped from its outbox.
    let (r, s) = sig.split_scalars();
    let twin = p256::ecdsa::Signature::from_scalars(r.to_bytes(), (-*s).to_bytes()).unwrap();
    use p256::ecdsa::signature::Verifier as _;
    key.verifying_key().verify(input.as_bytes(), &twin).expect("the twin verifies too");
    let (status, body) = post(&env.app, &format!("{input}.{}", B64.encode(twin.to_bytes()))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = post(&env.app, &receipt).await;
    assert_eq!((status, body.contains("\"duplicate\":true")), (StatusCode::OK, true), "{body}");
    // Other signed content under the same id is still refused.
    let header_b64 = input.split('.').next().unwrap();
    let other = format!("{header_b64}.{}", B64.encode(claims(1, NOW, false, None).to_canonical_json()));
    let other_sig: p256::ecdsa::Signature = key.sign(other.as_bytes());
    let (status, body) = post(&env.app, &format!("{other}.{}", B64.encode(other_sig.to_bytes()))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}

async fn batches_sec_gpc_export_auth_limits_and_contract_routes(backend: Backend) {
    let settings = Settings {
        api_key: Some("secret".into()),
        body_limit: 8 * 1024,
        rate_limit_per_minute: 30,
        ..Settings::default()
    };
    let Some(env) = env_with(backend, settings).await else { return };
    let r1 = signed(&claims(1, NOW, true, None));
    let r2 = signed(&claims(2, NOW, true, Some(jws::receipt_hash(&r1))));
    let batch = format!(r#"{{"receipts":["{r1}","{r2}","junk"]}}"#);
    let (status, body) = post_with(&env.app, &batch, Some("1")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("\"status\":201") && body.contains("\"status\":400"), "{body}");
    let export_json = export(&env.app).await;
    assert_eq!(stored_count(&export_json), 2);
    assert!(format!("{export_json:?}").contains("(\"gpcHeader\", Bool(true))"), "Sec-GPC: 1 is recorded");

    // Only the exact value "1" counts.
    let env2 = fresh(backend).await.unwrap();
    post_with(&env2.app, &r1, Some("true")).await;
    assert!(format!("{:?}", export(&env2.app).await).contains("(\"gpcHeader\", Bool(false))"));

    // Export needs the key.
    let (status, body) = get(&env.app, &format!("/v1/subjects/{SUBJECT}/receipts")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body.contains("Bearer"), "{body}");

    // Too large a body: 413. It and a body that is not UTF-8 answer as JSON like every
    // other refusal; axum's own plain-text answers used to break clients that parse `error`.
    let (status, body) = post(&env.app, &"x".repeat(9 * 1024)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body.starts_with("{\"error\":\"too large: the body is over"), "{body}");
    let not_utf8 =
        Request::post("/v1/receipts").header("content-type", "text/plain").body(Body::from(vec![0xff, 0xfe])).unwrap();
    let (status, body) = call(&env.app, not_utf8).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.starts_with("{\"error\":\"malformed receipt: body:"), "{body}");

    // Contract routes.
    let (status, openapi) = get(&env.app, "/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    for route in [
        "/v1/receipts",
        "/v1/subjects/{id}/consent",
        "/v1/subjects/{id}/receipts",
        "/v1/intervals",
        "/.well-known/jwks.json",
        "/healthz",
    ] {
        assert!(openapi.contains(&format!("\"{route}\"")), "openapi.json documents {route}");
    }
    assert_eq!(get(&env.app, "/healthz").await, (StatusCode::OK, r#"{"status":"ok"}"#.to_string()));

    // Rate limit: 30 a minute per client, then 429.
    let mut last = StatusCode::OK;
    for _ in 0..30 {
        last = get(&env.app, "/healthz").await.0;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    // A caller with the API key (a pipeline calling the gate inline) is not limited.
    let keyed = Request::get(format!("/v1/subjects/{SUBJECT}/consent?purpose=analytics"))
        .header("authorization", "Bearer secret");
    assert_eq!(call(&env.app, keyed.body(Body::empty()).unwrap()).await.0, StatusCode::OK);
}

/// Guards the rate limit behind a load balancer: every request arrives from the proxy's address, so
/// without `trust_forwarded_for` all visitors would share one bucket; with it, each client address in
/// `X-Forwarded-For` (the last entry, the one the proxy saw) has its own.
#[tokio::test]
async fn behind_a_proxy_the_rate_limit_is_per_forwarded_client() {
    let settings = Settings { rate_limit_per_minute: 3, trust_forwarded_for: true, ..Settings::default() };
    let env = env_with(Backend::Sqlite, settings).await.unwrap();
    let from = |client: &str| {
        Request::get("/healthz")
            .header("x-forwarded-for", format!("203.0.113.9, {client}"))
            .body(Body::empty())
            .unwrap()
    };
    for _ in 0..3 {
        assert_eq!(call(&env.app, from("198.51.100.1")).await.0, StatusCode::OK);
    }
    assert_eq!(call(&env.app, from("198.51.100.1")).await.0, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(call(&env.app, from("198.51.100.2")).await.0, StatusCode::OK, "another client has its own bucket");
    // An IPv6 client's /64 shares one bucket; rotating addresses within it used to get a fresh limit for each.
    for n in 1..=3 {
        assert_eq!(call(&env.app, from(&format!("2001:db8:1:2::{n}"))).await.0, StatusCode::OK);
    }
    assert_eq!(
        call(&env.app, from("2001:db8:1:2:ffff::9")).await.0,
        StatusCode::TOO_MANY_REQUESTS,
        "one /64, one bucket"
    );
    assert_eq!(call(&env.app, from("2001:db8:1:3::1")).await.0, StatusCode::OK, "another /64 has its own");
}

/// Guards the append-only log: even a direct SQL UPDATE, DELETE (or TRUNCATE) on the database is refused,
/// on the receipts and on the collector's key (a replaced key would change every ack the collector
/// signs again from the stored rows, and instances would disagree).
async fn the_receipt_table_refuses_update_and_delete(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some((store, url)) = open(backend, &dir).await else { return };
    let app = app(AppState::new(store, Settings::default(), Arc::new(|| NOW)).await.unwrap());
    assert_eq!(post(&app, &signed(&claims(1, NOW, true, None))).await.0, StatusCode::CREATED);
    let errors: Vec<String> = match url {
        None => {
            let conn = rusqlite::Connection::open(dir.path().join("receipts.sqlite")).unwrap();
            let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
            assert_eq!(mode, "wal");
            [
                "UPDATE receipts SET chain = 'linked'",
                "DELETE FROM receipts",
                "UPDATE collector_key SET secret = x'00'",
                "DELETE FROM collector_key",
            ]
            .iter()
            .map(|sql| conn.execute(sql, []).unwrap_err().to_string())
            .collect()
        }
        Some(url) => {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(connection);
            let mut errors = Vec::new();
            for sql in [
                "UPDATE receipts SET chain = 'linked'",
                "DELETE FROM receipts",
                "TRUNCATE receipts",
                "UPDATE collector_key SET secret = '\\x00'",
                "DELETE FROM collector_key",
                "TRUNCATE collector_key",
            ] {
                let e = client.batch_execute(sql).await.unwrap_err();
                errors.push(e.as_db_error().map(|d| d.message().to_string()).unwrap_or_else(|| e.to_string()));
            }
            errors
        }
    };
    assert!(errors.iter().all(|e| e.contains("append-only")), "{errors:?}");
    assert_eq!(
        errors.iter().filter(|e| e.contains("collector key")).count(),
        if matches!(backend, Backend::Postgres) { 3 } else { 2 }
    );
}

/// PostgreSQL is for several collector instances behind a load balancer: two instances on one database
/// share the collector key and the chains, and two successors of one receipt sent at the same moment to
/// different instances cannot both be stored (the advisory lock serialises them: one 201, one 409 fork).
#[tokio::test]
async fn two_instances_on_one_postgres_database_keep_one_chain_per_subject() {
    let Some(url) = postgres_url().await else { return };
    let instance = || async {
        let store = Store::open_postgres(&url).await.unwrap();
        app(AppState::new(store, Settings { api_key: Some("secret".into()), ..Settings::default() }, Arc::new(|| NOW))
            .await
            .unwrap())
    };
    let (a, b) = (instance().await, instance().await);
    let (_, jwks_a) = get(&a, "/.well-known/jwks.json").await;
    assert_eq!(get(&b, "/.well-known/jwks.json").await.1, jwks_a, "both instances sign acks with the same key");

    let r1 = signed(&claims(1, NOW - 100, true, None));
    assert_eq!(post(&a, &r1).await.0, StatusCode::CREATED);
    let r2 = signed(&claims(2, NOW - 50, false, Some(jws::receipt_hash(&r1))));
    let fork = signed(&claims(3, NOW - 40, true, Some(jws::receipt_hash(&r1))));
    let (on_b, on_a) = tokio::join!(post(&b, &r2), post(&a, &fork));
    let mut statuses = [on_b.0, on_a.0];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT], "{on_b:?} {on_a:?}");
    assert_eq!(stored_count(&export(&a).await), 2);
    assert_eq!(stored_count(&export(&b).await), 2, "both instances see the same history");
}

/// Guards the "acknowledged only once committed" promise when a database error hits a group-committed
/// batch. PostgreSQL aborts the whole transaction on any failed statement and then turns COMMIT into a
/// rollback without an error, so a writer that carried on after the failure answered 201 with an ack
/// for receipts that were never stored (the browser then deletes them from its outbox). Here a row
/// slipped in behind the collector's back makes one receipt's insert fail (same hash, other id) while
/// 30 others are appended at the same moment: every 201 must be in the table, and every other answer
/// must be a retryable 503, after which the retry is stored.
async fn a_database_error_in_a_batch_acknowledges_nothing_unstored(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some((store, url)) = open(backend, &dir).await else { return };
    let app = app(AppState::new(
        store,
        Settings { rate_limit_per_minute: u32::MAX, ..Settings::default() },
        Arc::new(|| NOW),
    )
    .await
    .unwrap());
    let receipt = |n: u8| {
        let mut c = claims(n, NOW - 10, true, None);
        c.subject = format!("{:032x}", 1000 + n as u32);
        signed(&c)
    };
    let poisoned = receipt(30); // sent last, so it fails after others of its batch were appended
    let insert = "INSERT INTO receipts (id, subject, issued_at, received_at, hash, prev, chain, jws, claims, key_thumbprint, gpc_header)
                  VALUES ('r-planted', 'someone', 1, 1, '$HASH', NULL, 'first', 'x', '{}', 'k', false)"
        .replace("$HASH", &jws::receipt_hash(&poisoned));
    let stored_ids = || async {
        match &url {
            None => {
                let conn = rusqlite::Connection::open(dir.path().join("receipts.sqlite")).unwrap();
                let mut stmt = conn.prepare("SELECT id FROM receipts").unwrap();
                let ids =
                    stmt.query_map([], |r| r.get::<_, String>(0)).unwrap().map(Result::unwrap).collect::<Vec<_>>();
                ids
            }
            Some(url) => {
                let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
                tokio::spawn(connection);
                client
                    .query("SELECT id FROM receipts", &[])
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| r.get::<_, String>(0))
                    .collect()
            }
        }
    };
    match &url {
        None => rusqlite::Connection::open(dir.path().join("receipts.sqlite")).unwrap().execute_batch(&insert).unwrap(),
        Some(url) => {
            let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
            tokio::spawn(connection);
            client.batch_execute(&insert).await.unwrap();
        }
    }
    let mut posts = tokio::task::JoinSet::new();
    for n in 0..=30u8 {
        let (app, jws) = (app.clone(), receipt(n));
        posts.spawn(async move { (n, post(&app, &jws).await) });
    }
    let mut retry = Vec::new();
    let mut created = Vec::new();
    while let Some(done) = posts.join_next().await {
        let (n, (status, body)) = done.unwrap();
        match status {
            StatusCode::CREATED => created.push(n),
            StatusCode::SERVICE_UNAVAILABLE => retry.push(n),
            other => panic!("receipt {n}: {other} {body}"),
        }
    }
    assert!(retry.contains(&30), "the receipt whose insert fails is not acknowledged");
    let ids = stored_ids().await;
    for n in &created {
        assert!(ids.contains(&format!("r{:032x}", n)), "receipt {n} was acknowledged (201) but is not stored: {ids:?}");
    }
    for n in retry.into_iter().filter(|n| *n != 30) {
        assert_eq!(post(&app, &receipt(n)).await.0, StatusCode::CREATED, "receipt {n} is stored when sent again");
    }
    assert_eq!(stored_ids().await.len(), 31, "the planted row and the 30 receipts");
}

/// Guards the gate against a receipt forged for a subject: its id is readable by the page's scripts, so
/// anyone can sign `{sub: victim, prev: null, analytics: granted}` with a key of their own. It is stored
/// (flagged as a gap, evidence of the attempt) but the gate does not honour its grant; a refusal signed
/// with another key is honoured, since refusing is always safe.
async fn a_receipt_signed_with_another_key_can_refuse_but_not_grant(backend: Backend) {
    let Some(env) = fresh(backend).await else { return };
    let refusal = signed(&claims(1, NOW - 100, false, None));
    assert_eq!(post(&env.app, &refusal).await.0, StatusCode::CREATED);
    let other_key = signed_by_another_key;
    let (status, body) = post(&env.app, &other_key(&claims(2, NOW - 50, true, None))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body.contains("\"chain\":\"first\""), "the first of its own key's chain: {body}");
    let (_, answer) = get(&env.app, &format!("/v1/subjects/{SUBJECT}/consent?purpose=analytics&at={}", NOW - 40)).await;
    assert!(answer.contains("\"granted\":false") && answer.contains(assent_core::receipt::OTHER_KEY), "{answer}");
    assert!(
        assent_collector::OPENAPI.contains(assent_core::receipt::OTHER_KEY),
        "the contract lists this reason, or clients generated from it reject the answer"
    );

    // The subject's own key grants; another key's later refusal then decides.
    let grant = signed(&claims(3, NOW - 30, true, Some("f".repeat(64))));
    assert_eq!(post(&env.app, &grant).await.0, StatusCode::CREATED);
    let (_, answer) = get(&env.app, &format!("/v1/subjects/{SUBJECT}/consent?purpose=analytics&at={}", NOW - 25)).await;
    assert!(answer.contains("\"granted\":true"), "{answer}");
    assert_eq!(
        post(&env.app, &other_key(&claims(4, NOW - 20, false, Some(jws::receipt_hash(&grant))))).await.0,
        StatusCode::CREATED
    );
    let (_, answer) = get(&env.app, &format!("/v1/subjects/{SUBJECT}/consent?purpose=analytics&at={}", NOW - 10)).await;
    assert!(answer.contains("\"granted\":false") && answer.contains("\"reason\":\"refused\""), "{answer}");
}

/// Guards key rotation: a key file (`--signing-key`) signs new acks. The key the database held is
/// published only when asked (`--publish-database-key`): then the acks browsers already keep still
/// verify; otherwise whoever reads the database could sign acks that verify.
async fn a_signing_key_file_takes_over_and_the_stored_key_is_published_only_when_asked(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some((store, _)) = open(backend, &dir).await else { return };
    let jwks = |app: Router| async move { Json::parse(&get(&app, "/.well-known/jwks.json").await.1).unwrap() };
    let before = app(AppState::new(store.clone(), Settings::default(), Arc::new(|| NOW)).await.unwrap());
    let (_, body) = post(&before, &signed(&claims(1, NOW - 20, true, None))).await;
    let Json::String(old_ack) = field(&Json::parse(&body).unwrap(), "ack").clone() else { panic!("{body}") };
    let settings = |publish| Settings {
        signing_key: Some(assent_collector::Secret([5; 32])),
        publish_database_key: publish,
        ..Settings::default()
    };
    let alone = jwks(app(AppState::new(store.clone(), settings(false), Arc::new(|| NOW)).await.unwrap())).await;
    assert!(
        matches!(field(&alone, "keys"), Json::Array(k) if k.len() == 1),
        "only the file's key: {}",
        alone.canonical()
    );
    assert!(jws::verify_ack(&old_ack, &alone).is_err(), "the database's key is not trusted unless published");
    let after = app(AppState::new(store, settings(true), Arc::new(|| NOW)).await.unwrap());
    let published = jwks(after.clone()).await;
    let Json::Array(keys) = field(&published, "keys").clone() else { panic!() };
    assert_eq!(keys.len(), 2, "the file's key and the stored one: {}", published.canonical());
    let new_kid = jws::CollectorKey::from_secret([5; 32]).kid;
    assert_eq!(field(&keys[0], "kid"), &Json::String(new_kid.clone()), "the file's key first");
    let (_, body) = post(
        &after,
        &signed(&claims(2, NOW - 10, false, Some(jws::receipt_hash(&signed(&claims(1, NOW - 20, true, None)))))),
    )
    .await;
    let Json::String(new_ack) = field(&Json::parse(&body).unwrap(), "ack").clone() else { panic!("{body}") };
    assert!(
        new_ack.starts_with(&B64.encode(format!(r#"{{"alg":"EdDSA","kid":"{new_kid}","typ":"assent-ack+jws"}}"#))),
        "new acks are signed with the file's key"
    );
    for ack in [&old_ack, &new_ack] {
        jws::verify_ack(ack, &published).unwrap_or_else(|e| panic!("{e}: {ack}"));
    }
}

/// A receipt signed with a key that is not the subject's (anyone who learns a subject id can post one).
fn signed_by_another_key(c: &Claims) -> String {
    let key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let header = ED_HEADER.replace("$X", &B64.encode(key.verifying_key().to_bytes()));
    let input = format!("{}.{}", B64.encode(header), B64.encode(c.to_canonical_json()));
    format!("{input}.{}", B64.encode(key.sign(input.as_bytes()).to_bytes()))
}

/// Guards chain continuity against receipts another key posts for the subject: they are stored, but
/// they are not the head the subject's own next receipt is checked against. Before, the browser's next
/// receipt (here a withdrawal) was refused as a fork (409), the browser dropped it, and the gate kept
/// answering with the grant before it.
async fn another_keys_receipts_do_not_break_the_subjects_chain(backend: Backend) {
    let Some(env) = fresh(backend).await else { return };
    let grant = signed(&claims(1, NOW - 100, true, None));
    assert_eq!(post(&env.app, &grant).await.0, StatusCode::CREATED);
    for (n, prev) in [(2, None), (3, Some(jws::receipt_hash(&grant)))] {
        let (status, body) = post(&env.app, &signed_by_another_key(&claims(n, NOW - 90, true, prev.clone()))).await;
        assert_eq!(status, StatusCode::CREATED, "stored as evidence of what was posted: {body}");
        let expected = if prev.is_some() { "\"chain\":\"gap\"" } else { "\"chain\":\"first\"" };
        assert!(body.contains(expected), "its own key's chain; naming the subject's receipt continues nothing: {body}");
    }
    let withdrawal = signed(&claims(4, NOW - 80, false, Some(jws::receipt_hash(&grant))));
    let (status, body) = post(&env.app, &withdrawal).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body.contains("\"chain\":\"linked\""), "{body}");
    let (_, answer) = get(&env.app, &format!("/v1/subjects/{SUBJECT}/consent?purpose=analytics&at={}", NOW - 70)).await;
    assert!(answer.contains("\"granted\":false") && answer.contains("\"reason\":\"refused\""), "{answer}");
    // A real fork of the subject's own chain is still refused.
    let (status, body) = post(&env.app, &signed(&claims(5, NOW - 60, true, Some(jws::receipt_hash(&grant))))).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("latest receipt this key signed for the subject is"), "{body}");
}

/// Guards the origin allow-list: CORS cannot stop a `text/plain` POST from another site, so a receipt
/// claiming an origin the collector does not serve is refused (403) and not stored; `*` allows any
/// (tower-http panicked on it in a CORS list).
#[tokio::test]
async fn receipts_must_claim_an_origin_the_collector_serves() {
    let settings = |origins: &[&str]| Settings {
        api_key: Some("secret".into()),
        allow_origins: origins.iter().map(|o| o.to_string()).collect(),
        ..Settings::default()
    };
    let env = env_with(Backend::Sqlite, settings(&["https://other.example"])).await.unwrap();
    let (status, body) = post(&env.app, &signed(&claims(1, NOW, true, None))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body.contains("origin `https://shop.example` is not one of the sites") && body.contains("--allow-origin"),
        "{body}"
    );
    assert_eq!(stored_count(&export(&env.app).await), 0);
    for origins in [&["https://other.example", "https://shop.example/"][..], &["*"]] {
        let env = env_with(Backend::Sqlite, settings(origins)).await.unwrap();
        assert_eq!(post(&env.app, &signed(&claims(1, NOW, true, None))).await.0, StatusCode::CREATED, "{origins:?}");
    }

    // Every answer to a receipt POST is readable by the origin that posted it, once (no second header
    // where CORS already set one). The browser used to be unable to read the answer to a cross-origin POST
    // whose origin CORS did not list: with no --allow-origin a stored receipt (201) looked like a network
    // error and was sent again for ever, and a 403's reason never reached the console.
    for (origins, status) in [
        (&[][..], StatusCode::CREATED),
        (&["https://other.example"][..], StatusCode::FORBIDDEN),
        (&["https://shop.example"][..], StatusCode::CREATED),
    ] {
        let env = env_with(Backend::Sqlite, settings(origins)).await.unwrap();
        let req =
            Request::post("/v1/receipts").header("content-type", "text/plain").header("origin", "https://shop.example");
        let res =
            env.app.clone().oneshot(req.body(Body::from(signed(&claims(1, NOW, true, None)))).unwrap()).await.unwrap();
        assert_eq!(res.status(), status, "{origins:?}");
        let allowed: Vec<_> = res.headers().get_all("access-control-allow-origin").iter().collect();
        assert_eq!(allowed, ["https://shop.example"], "{origins:?}");
        let exposed =
            res.headers().get("access-control-expose-headers").map(|v| v.to_str().unwrap().to_ascii_lowercase());
        assert_eq!(exposed.as_deref(), Some("retry-after"), "{origins:?}");
    }
    // The GET routes keep the allow-list.
    let env = env_with(Backend::Sqlite, settings(&["https://other.example"])).await.unwrap();
    let req = Request::get(format!("/v1/subjects/{SUBJECT}/consent?purpose=analytics"))
        .header("origin", "https://shop.example");
    let res = env.app.clone().oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
}

/// Guards recovery on PostgreSQL: when the database closes the collector's connections (a restart, a
/// failover), the collector connects again by itself. Before, every request answered 503 until the
/// process was restarted, while /healthz could still say ok.
#[tokio::test]
async fn after_postgresql_drops_its_connections_the_collector_reconnects() {
    let dir = tempfile::tempdir().unwrap();
    let Some((store, Some(url))) = open(Backend::Postgres, &dir).await else { return };
    let app =
        app(AppState::new(store, Settings { api_key: Some("secret".into()), ..Settings::default() }, Arc::new(|| NOW))
            .await
            .unwrap());
    let first = signed(&claims(1, NOW - 10, true, None));
    assert_eq!(post(&app, &first).await.0, StatusCode::CREATED);
    let (admin, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let dropped = admin
        .query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()", &[])
        .await
        .unwrap();
    assert_eq!(dropped.len(), 2, "the collector's read and write connections");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(get(&app, "/healthz").await.0, StatusCode::OK);
    let (status, body) = post(&app, &signed(&claims(2, NOW, false, Some(jws::receipt_hash(&first))))).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(stored_count(&export(&app).await), 2);
}

/// TLS to PostgreSQL, with libpq's `sslmode`/`sslrootcert` meanings (see `docs/collector.md`). The test
/// server (started by `cargo xtask test`) has a certificate for `localhost` only, signed by the CA in
/// `ASSENT_TEST_DATABASE_CA`. Guards: managed PostgreSQL services require TLS, and a certificate that
/// does not check out must stop the collector when the URL asks for a check.
#[tokio::test]
async fn postgres_tls_as_sslmode_says() {
    if postgres_url().await.is_none() {
        return;
    }
    let ca = std::env::var("ASSENT_TEST_DATABASE_CA")
        .expect("ASSENT_TEST_DATABASE_CA: the test PostgreSQL must serve TLS (cargo xtask test starts one that does)");
    let base = std::env::var("ASSENT_TEST_DATABASE_URL").unwrap();
    let (admin, connection) =
        tokio_postgres::connect(&format!("{base}/postgres"), tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    // Opens a store on a fresh database with `query` appended; returns whether every session it
    // opened is encrypted, or the error.
    let encrypted = |query: String, by_name: bool| {
        let admin = &admin;
        async move {
            let url = postgres_url().await.unwrap();
            let url = if by_name { url.replace("127.0.0.1", "localhost") } else { url };
            let store = Store::open_postgres(&format!("{url}{query}")).await.map_err(|e| e.to_string())?;
            AppState::new(store.clone(), Settings::default(), Arc::new(|| NOW)).await.map_err(|e| e.to_string())?;
            let database = url.rsplit('/').next().unwrap();
            let row = admin
                .query_one(
                    "SELECT count(*) FILTER (WHERE s.ssl), count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.datname = $1",
                    &[&database],
                )
                .await
                .unwrap();
            let (tls, all): (i64, i64) = (row.get(0), row.get(1));
            assert!(all >= 2, "the store keeps a read and a write connection open ({all} sessions)");
            Ok::<bool, String>(tls == all)
        }
    };
    let ca_q = |mode: &str| format!("?sslmode={mode}&sslrootcert={ca}");
    assert_eq!(
        encrypted(String::new(), false).await,
        Ok(true),
        "the default (prefer) encrypts when the server offers TLS"
    );
    assert_eq!(
        encrypted("?sslmode=require".into(), false).await,
        Ok(true),
        "require encrypts, without a certificate check"
    );
    assert_eq!(encrypted("?sslmode=disable".into(), false).await, Ok(false), "disable does not encrypt");
    assert_eq!(
        encrypted(ca_q("verify-full"), true).await,
        Ok(true),
        "verify-full: the CA signed it, and it names localhost"
    );
    assert_eq!(encrypted(ca_q("verify-ca"), false).await, Ok(true), "verify-ca checks the chain, not the name");
    let wrong_name = encrypted(ca_q("verify-full"), false).await.unwrap_err();
    assert!(
        wrong_name.contains("not valid for name \"127.0.0.1\"") && wrong_name.contains("connect by that name"),
        "the certificate does not name 127.0.0.1: {wrong_name}"
    );
    let untrusted = encrypted("?sslmode=verify-full".into(), true).await.unwrap_err();
    assert!(
        untrusted.contains("UnknownIssuer") && untrusted.contains("sslrootcert"),
        "the Mozilla roots do not include the test CA: {untrusted}"
    );
    let unknown_mode = encrypted("?sslmode=verify".into(), false).await.unwrap_err();
    assert!(unknown_mode.contains("sslmode `verify`") && unknown_mode.contains("verify-full"), "{unknown_mode}");
}

/// The allow-list is read the way browsers send origins, for CORS as for the receipt's origin. It used to
/// be used as written for CORS but trimmed of a trailing `/` for the receipt's origin, so
/// `--allow-origin https://shop.example/` (or a space after a comma in ASSENT_ALLOW_ORIGINS) stored the
/// receipt but sent no CORS header: the browser could not read the answer and resent the receipt for ever.
#[tokio::test]
async fn the_allow_list_is_read_as_browsers_send_origins() {
    let settings = Settings {
        allow_origins: vec!["https://shop.example/".into(), " HTTPS://Other.example".into()],
        ..Settings::default()
    };
    let env = env_with(Backend::Sqlite, settings).await.unwrap();
    for origin in ["https://shop.example", "https://other.example"] {
        let req = Request::post("/v1/receipts").header("content-type", "text/plain").header("origin", origin);
        let res =
            env.app.clone().oneshot(req.body(Body::from(signed(&claims(1, NOW, true, None)))).unwrap()).await.unwrap();
        assert!(res.status().is_success(), "{origin}: {}", res.status());
        assert_eq!(res.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()), Some(origin));
    }
}

/// A bad time or subject id is the caller's mistake: 400 with the rule, on both backends, for the gate and
/// the export. The gate used to answer 200 with `"at": null` for an `at` in milliseconds, and a subject id
/// with a NUL byte got 503 on PostgreSQL but 200 on SQLite.
#[tokio::test]
async fn the_gate_and_export_refuse_a_bad_time_or_subject_id() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(env) = fresh(backend).await else { continue };
        for (uri, says) in [
            (format!("/v1/subjects/{SUBJECT}/consent?purpose=analytics&at=1790000000000"), "not milliseconds"),
            (format!("/v1/subjects/{SUBJECT}/consent?purpose=analytics&at=-5"), "out of range"),
            // An RFC 3339 time before 1970 and an unknown scope are refused; the first used to be
            // answered for 1970, the second echoed back with 200 as if it had been asked.
            (format!("/v1/subjects/{SUBJECT}/consent?purpose=analytics&at=1960-01-01T00:00:00Z"), "from 1970 to 9999"),
            (format!("/v1/subjects/{SUBJECT}/consent?purpose=analytics&scope=foo"), "scope `foo`: use site"),
            ("/v1/subjects/%00/consent?purpose=analytics".to_string(), "32 lowercase hex digits"),
            (format!("/v1/subjects/{}/consent?purpose=analytics", SUBJECT.to_uppercase()), "32 lowercase hex digits"),
        ] {
            let (status, body) = get(&env.app, &uri).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{backend:?} {uri}: {body}");
            assert!(body.contains(says), "{backend:?} {uri}: {body}");
        }
        let req = Request::get("/v1/subjects/%00/receipts").header("authorization", "Bearer secret");
        let (status, body) = call(&env.app, req.body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{backend:?}: {body}");
        let (status, _) =
            get(&env.app, &format!("/v1/subjects/{SUBJECT}/consent?purpose=analytics&at=1790000000")).await;
        assert_eq!(status, StatusCode::OK, "seconds still work");
    }
}

/// Collector instances started together on one database (replicas, a rolling restart) all start: they take
/// turns on an advisory lock. They used to fail at start, since concurrent `CREATE OR REPLACE` of the same
/// function or trigger fails with "tuple concurrently updated".
#[tokio::test]
async fn several_instances_can_start_at_once_on_postgresql() {
    let Some(url) = postgres_url().await else { return };
    for round in ["a fresh database", "a set-up one"] {
        let (a, b, c, d) = tokio::join!(
            Store::open_postgres(&url),
            Store::open_postgres(&url),
            Store::open_postgres(&url),
            Store::open_postgres(&url)
        );
        for store in [a, b, c, d] {
            store.unwrap_or_else(|e| panic!("{round}: {e}"));
        }
    }
}

/// In a batch (the browser's outbox, sent by sendBeacon on pagehide), the receipts after one refused for now
/// (425: its device clock was ahead) wait (424), and nothing of them is stored. The successor used to be
/// stored as a gap; when the refused receipt came again it was a fork, refused for good (409), and the
/// browser dropped it, so a decision lost its evidence.
async fn in_a_batch_the_receipts_after_one_refused_for_now_wait(backend: Backend) {
    let Some(env) = fresh(backend).await else { return };
    let r1 = signed(&claims(1, NOW - 100, true, None));
    assert_eq!(post(&env.app, &r1).await.0, StatusCode::CREATED);
    // r2 was signed while the device clock ran an hour ahead; r3 after it was set right.
    let r2 = signed(&claims(2, NOW + 3_600, false, Some(jws::receipt_hash(&r1))));
    let r3 = signed(&claims(3, NOW - 10, true, Some(jws::receipt_hash(&r2))));
    let (status, body) = post(&env.app, &format!(r#"{{"receipts":["{r2}","{r3}"]}}"#)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let results = match field(&Json::parse(&body).unwrap(), "results") {
        Json::Array(items) => items.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(format!("{:?}", field(&results[0], "status")), "Number(\"425\")");
    assert_eq!(format!("{:?}", field(&results[1], "status")), "Number(\"424\")");
    assert!(
        format!("{:?}", field(&results[1], "error")).contains("receipt no. 1 of this batch was refused for now"),
        "{body}"
    );
    assert_eq!(stored_count(&export(&env.app).await), 1, "the successor is not stored ahead of its predecessor");
    // A permanent refusal (a tampered receipt) holds nothing back: the browser drops it, not the rest.
    let parts: Vec<&str> = r3.split('.').collect();
    let tampered =
        format!("{}.{}.{}", parts[0], B64.encode(claims(3, NOW - 10, false, None).to_canonical_json()), parts[2]);
    let r4 = signed(&claims(4, NOW - 5, true, Some(jws::receipt_hash(&r1))));
    let (_, body) = post(&env.app, &format!(r#"{{"receipts":["{tampered}","{r4}"]}}"#)).await;
    assert!(body.contains("\"chain\":\"linked\""), "{body}");
    assert_eq!(stored_count(&export(&env.app).await), 2);
}

/// `GET /v1/intervals` is the consent-interval table of `assent intervals`, by the same code: every span
/// of the gate's answer for each subject, a page of subjects at a time, behind the API key.
async fn the_interval_table_pages_through_subjects_behind_the_api_key(backend: Backend) {
    let Some(env) = fresh(backend).await else { return };
    let subjects = ["0000000000000000000000000000000a", SUBJECT, "ffffffffffffffffffffffffffffffff"];
    for (n, subject) in subjects.iter().enumerate() {
        let id = |k: u8| format!("r{:030x}{n:01x}{k:01x}", 0);
        let r1 = signed(&support::claims_for(subject, &id(1), NOW - 1000, true, None));
        let r2 = signed(&support::claims_for(subject, &id(2), NOW - 100, false, Some(jws::receipt_hash(&r1))));
        for r in [&r1, &r2] {
            assert_eq!(post(&env.app, r).await.0, StatusCode::CREATED);
        }
    }
    let page = |query: &str| {
        Request::get(format!("/v1/intervals?{query}"))
            .header("authorization", "Bearer secret")
            .body(Body::empty())
            .unwrap()
    };
    let res = env.app.clone().oneshot(page("purpose=analytics&limit=2")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/x-ndjson");
    assert_eq!(res.headers()["assent-next-after"], SUBJECT);
    let first = String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    let rows: Vec<&str> = first.lines().collect();
    assert_eq!(rows.len(), 4, "two spans for each of two subjects: {first}");
    assert_eq!(
        rows[2],
        format!(
            r#"{{"subject":"{SUBJECT}","purpose":"analytics","scope":"site","granted":true,"valid_from":{},"valid_until":{},"receipt":"r00000000000000000000000000000011","notice_version":"2026-11-01","method":"accept_all","decided_in":"site","reason":"granted"}}"#,
            NOW - 1000,
            NOW - 100
        )
    );
    assert!(rows[3].contains(r#""granted":false"#) && rows[3].contains(r#""valid_until":null"#), "{}", rows[3]);
    let res = env.app.clone().oneshot(page(&format!("purpose=analytics&limit=2&after={SUBJECT}"))).await.unwrap();
    assert!(res.headers().get("assent-next-after").is_none(), "the last page");
    let last = String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert_eq!(last.lines().count(), 2);
    assert!(last.starts_with(r#"{"subject":"ffffffffffffffffffffffffffffffff""#), "{last}");

    // Without the key, or with a question it cannot answer: a 4xx that says why.
    let (status, body) = get(&env.app, "/v1/intervals?purpose=analytics").await;
    assert_eq!((status, body.contains("Bearer")), (StatusCode::UNAUTHORIZED, true), "{body}");
    for (query, why) in [
        ("limit=2", "purpose is required"),
        ("purpose=Analytics", "purpose is required"),
        ("purpose=analytics&after=xyz", "after: a subject id"),
        ("purpose=analytics&limit=0", "limit: a number of subjects from 1 to 10000"),
    ] {
        let (status, body) = call(&env.app, page(query)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert!(body.contains(why), "{query}: {body}");
    }
}

/// `GET /v1/changes` is every stored receipt after a cursor, in the order stored, each with the purposes
/// whose gate answer it ended or started; a long poll returns as soon as a receipt is stored.
async fn the_changes_feed_lists_each_receipt_in_order_with_what_it_ended(backend: Backend) {
    let Some(env) = fresh(backend).await else { return };
    let r1 = signed(&claims(1, NOW - 1000, true, None));
    let r2 = signed(&claims(2, NOW - 500, false, Some(jws::receipt_hash(&r1))));
    for r in [&r1, &r2] {
        assert_eq!(post(&env.app, r).await.0, StatusCode::CREATED);
    }
    let feed = |query: String| {
        Request::get(format!("/v1/changes?{query}"))
            .header("authorization", "Bearer secret")
            .body(Body::empty())
            .unwrap()
    };
    let (status, body) = call(&env.app, feed("after=0".into())).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let page = Json::parse(&body).unwrap();
    let member =
        |json: &Json, key: &str| json.as_object().unwrap().iter().find(|(k, _)| k == key).unwrap().1.canonical();
    let Json::Array(changes) = page.as_object().unwrap().iter().find(|(k, _)| k == "changes").unwrap().1.clone() else {
        panic!("{body}")
    };
    let summary: Vec<[String; 5]> =
        changes.iter().map(|c| ["receipt", "scope", "started", "ended", "refused"].map(|k| member(c, k))).collect();
    assert_eq!(
        summary,
        [
            [r#""r00000000000000000000000000000001""#, r#""site""#, r#"["analytics"]"#, "[]", r#"["ai_training"]"#],
            [
                r#""r00000000000000000000000000000002""#,
                r#""site""#,
                "[]",
                r#"["analytics"]"#,
                r#"["ai_training","analytics"]"#
            ],
        ]
        .map(|row| row.map(str::to_string))
    );
    let next = member(&page, "next").trim_matches('"').to_string();
    assert_eq!(member(&changes[1], "cursor"), format!("\"{next}\""));
    let (_, empty) = call(&env.app, feed(format!("after={next}"))).await;
    assert_eq!(empty, format!(r#"{{"changes":[],"next":"{next}"}}"#), "nothing after the last cursor");

    // A long poll waiting for the next change answers with it once it is stored.
    let (app, request) = (env.app.clone(), feed(format!("after={next}&wait=30")));
    let waiting = tokio::spawn(async move { call(&app, request).await });
    let r3 = signed(&claims(3, NOW - 100, true, Some(jws::receipt_hash(&r2))));
    assert_eq!(post(&env.app, &r3).await.0, StatusCode::CREATED);
    let (status, woke) = waiting.await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert!(
        woke.contains("r00000000000000000000000000000003") && woke.contains(r#""started":["analytics"]"#),
        "{woke}"
    );

    let (status, body) = get(&env.app, "/v1/changes").await;
    assert_eq!((status, body.contains("Bearer")), (StatusCode::UNAUTHORIZED, true), "{body}");
    for (query, why) in [("after=-1", "after: a cursor"), ("limit=0", "limit: a number"), ("wait=31", "wait: seconds")]
    {
        let (status, body) = call(&env.app, feed(query.into())).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert!(body.contains(why), "{query}: {body}");
    }
}

/// On PostgreSQL the collector keeps `consent_intervals`: the interval table as SQL, row for row what
/// `GET /v1/intervals` serves, for every purpose the receipts name; `consent_in_force` is its grants in
/// force at the database's `now()`.
#[tokio::test]
async fn on_postgres_the_consent_intervals_table_is_the_interval_table() {
    let dir = tempfile::tempdir().unwrap();
    let Some((store, Some(url))) = open(Backend::Postgres, &dir).await else { return };
    let settings = Settings { api_key: Some("secret".into()), ..Settings::default() };
    let state = AppState::new(store, settings, Arc::new(|| NOW)).await.unwrap();
    assent_collector::start_background(&state).await.unwrap();
    let app = app(state);
    let (withdrew, granted, expired) = ("a".repeat(32), "b".repeat(32), "c".repeat(32));
    let r1 = signed(&support::claims_for(&withdrew, &format!("r{}1", "0".repeat(31)), NOW - 1000, true, None));
    let r2 = support::claims_for(
        &withdrew,
        &format!("r{}2", "0".repeat(31)),
        NOW - 100,
        false,
        Some(jws::receipt_hash(&r1)),
    );
    let r3 = support::claims_for(&granted, &format!("r{}3", "0".repeat(31)), NOW - 900, true, None);
    let mut r4 = support::claims_for(&expired, &format!("r{}4", "0".repeat(31)), NOW - 800, true, None);
    r4.expires_at = NOW - 500;
    for r in [r1, signed(&r2), signed(&r3), signed(&r4)] {
        assert_eq!(post(&app, &r).await.0, StatusCode::CREATED);
    }
    let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    let started = std::time::Instant::now();
    loop {
        let caught_up: bool = client
            .query_one(
                "SELECT coalesce((SELECT after_seq FROM consent_intervals_cursor), 0) = (SELECT max(seq) FROM receipts)",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if caught_up {
            break;
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(20), "consent_intervals did not catch up");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let sql: Vec<Json> = client
        .query(
            "SELECT subject, purpose, scope, granted, valid_from, valid_until, receipt, notice_version, method, decided_in, reason
             FROM consent_intervals ORDER BY purpose, subject, scope <> 'site', scope, valid_from",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let text = |i: usize| r.get::<_, Option<String>>(i).map_or(Json::Null, Json::String);
            let number = |v: Option<i64>| v.map_or(Json::Null, |v| Json::Number(v.to_string()));
            let values = [
                text(0),
                text(1),
                text(2),
                Json::Bool(r.get(3)),
                number(r.get(4)),
                number(r.get(5)),
                text(6),
                text(7),
                text(8),
                text(9),
                text(10),
            ];
            Json::Object(assent_core::timeline::COLUMNS.iter().map(|c| c.to_string()).zip(values).collect())
        })
        .collect();
    let mut served = Vec::new();
    for purpose in ["ai_training", "analytics"] {
        let req = Request::get(format!("/v1/intervals?purpose={purpose}"))
            .header("authorization", "Bearer secret")
            .body(Body::empty())
            .unwrap();
        let body = app.clone().oneshot(req).await.unwrap().into_body().collect().await.unwrap().to_bytes();
        served.extend(String::from_utf8(body.to_vec()).unwrap().lines().map(|l| Json::parse(l).unwrap()));
    }
    for purpose in ["ai_training", "analytics"] {
        assert!(served.iter().any(|r| r.canonical().contains(&format!(r#""purpose":"{purpose}""#))), "{purpose}");
    }
    assert_eq!(sql, served, "consent_intervals holds the rows GET /v1/intervals serves");
    let in_force: Vec<(String, String)> = client
        .query("SELECT subject, purpose FROM consent_in_force ORDER BY subject, purpose", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(in_force, [(granted, "analytics".to_string())], "only the grant still in force");
}
