//! Receipts built with the core's wire format and signed with Ed25519 as a browser would, shared by the
//! collector's test binaries.
#![allow(dead_code)] // each test binary uses its own part

use assent_core::receipt::{Claims, PurposeClaim};
use assent_core::{Flow, Method};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use ed25519_dalek::Signer;

/// A site-wide decision's claims for `subject`, receipt `id`, issued at `iat`: analytics granted or
/// withdrawn, AI training refused; `prev` links it into the subject's chain.
pub fn claims_for(subject: &str, id: &str, iat: u64, analytics: bool, prev: Option<String>) -> Claims {
    Claims {
        id: id.into(),
        subject: subject.into(),
        issued_at: iat,
        origin: "https://shop.example".into(),
        controller: "Demo Shop Ltd".into(),
        region: Some("DE".into()),
        flow: Flow::OptIn,
        locale: "en".into(),
        notice_version: "2026-11-01".into(),
        notice_sha256: "a".repeat(64),
        purposes: vec![
            PurposeClaim {
                id: "analytics".into(),
                granted: analytics,
                data_categories: vec!["usage data".into()],
                legitimate_interest: false,
            },
            PurposeClaim {
                id: "ai_training".into(),
                granted: false,
                data_categories: vec![],
                legitimate_interest: false,
            },
        ],
        method: if analytics { Method::AcceptAll } else { Method::Withdrawal },
        gpc: false,
        expires_at: iat + 390 * 86_400,
        prev,
        scope: None,
    }
}

/// A JWS signed with the test's Ed25519 key (`$X` in `header` stands for its public half).
pub fn sign_ed25519(header: &str, payload: &str) -> String {
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let x = B64.encode(key.verifying_key().to_bytes());
    let header = header.replace("$X", &x);
    let input = format!("{}.{}", B64.encode(header), B64.encode(payload));
    format!("{input}.{}", B64.encode(key.sign(input.as_bytes()).to_bytes()))
}

/// The header a browser with Ed25519 writes.
pub const ED_HEADER: &str =
    r#"{"alg":"EdDSA","jwk":{"crv":"Ed25519","kty":"OKP","x":"$X"},"typ":"assent-receipt+jws"}"#;

/// The receipt for `c`, signed as a browser would.
pub fn signed(c: &Claims) -> String {
    sign_ed25519(ED_HEADER, &c.to_canonical_json())
}

/// One HTTP/1.1 request to the collector on loopback `port`, with the API key `key`: the status and
/// body, or `None` when the connection failed (the collector died).
pub fn http(port: u16, key: &str, method: &str, path: &str, body: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(20))).ok()?;
    let request = format!(
        "{method} {path} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {key}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let status = answer.get(9..12)?.parse().ok()?;
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Some((status, body))
}

/// Where a collector binary keeps its receipts.
pub enum Db {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

/// Starts the collector binary on `port` with the database `db`, the API key `key` and `args`; returns
/// once it listens. (Test binaries only: the examples that share this module have no binary to run.)
#[cfg(test)]
pub fn start_collector(port: u16, db: &Db, key: &str, args: &[&str]) -> std::process::Child {
    use std::time::{Duration, Instant};
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_assent-collector"));
    cmd.args(["--listen", &format!("127.0.0.1:{port}"), "--api-key", key])
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("ASSENT_DB")
        .env_remove("ASSENT_WEBHOOKS")
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    match db {
        Db::Sqlite(path) => cmd.arg("--db").arg(path),
        Db::Postgres(url) => cmd.args(["--database-url", url]),
    };
    let child = cmd.spawn().unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(20), "the collector did not listen within 20 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// A fresh database named `name` on the test server (`ASSENT_TEST_DATABASE_URL`), or `None` outside
/// `npm test` (CI must have one).
#[cfg(test)]
pub fn postgres_database(name: &str) -> Option<Db> {
    let Ok(base) = std::env::var("ASSENT_TEST_DATABASE_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the PostgreSQL variant: ASSENT_TEST_DATABASE_URL is not set"
        );
        eprintln!("PostgreSQL variant skipped: set ASSENT_TEST_DATABASE_URL (npm test starts a server and sets it)");
        return None;
    };
    let name = format!("{name}_{}", std::process::id());
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let (client, connection) =
            tokio_postgres::connect(&format!("{base}/postgres"), tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(connection);
        client.batch_execute(&format!("CREATE DATABASE {name}")).await.unwrap();
    });
    Some(Db::Postgres(format!("{base}/{name}")))
}
