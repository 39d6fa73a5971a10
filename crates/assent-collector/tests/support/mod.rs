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
