//! Writes the seeds that need the core to make them: receipt claims in canonical JSON
//! (`fuzz/corpus/claims/`) and collector intake inputs (`fuzz/corpus/intake/`): a claims text the
//! target signs, a signed JWS as sent, and a batch. `cargo run -p assent-fuzz --example seeds`.

use assent_core::receipt::{Claims, PurposeClaim};
use assent_core::{Flow, Method};
use assent_fuzz::intake::{signed, NOW};

fn claims(n: u8, method: Method, scope: Option<&str>, prev: Option<String>) -> Claims {
    let purpose = |id: &str, granted| PurposeClaim {
        id: id.into(),
        granted,
        data_categories: vec!["usage data".into()],
        legitimate_interest: false,
    };
    Claims {
        id: format!("r{n:032x}"),
        subject: "0123456789abcdef0123456789abcdef".into(),
        issued_at: NOW - 60 + u64::from(n),
        origin: "https://shop.example".into(),
        controller: "Demo Shop Ltd".into(),
        region: Some("DE".into()),
        flow: Flow::OptIn,
        locale: "en".into(),
        notice_version: "2026-11-01".into(),
        notice_sha256: "a".repeat(64),
        purposes: if scope.is_some() {
            vec![purpose("ai_training", true)]
        } else {
            vec![purpose("analytics", method != Method::Withdrawal), purpose("ai_training", false)]
        },
        method,
        gpc: false,
        expires_at: NOW + 390 * 86_400,
        prev,
        scope: scope.map(str::to_string),
    }
}

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    let all = [
        claims(1, Method::AcceptAll, None, None),
        claims(2, Method::Withdrawal, None, Some("b".repeat(64))),
        claims(3, Method::AiToggle, Some("conversation:c-123"), None),
    ];
    for (n, c) in all.iter().enumerate() {
        let text = c.to_canonical_json();
        std::fs::write(root.join(format!("claims/seed-{n}.json")), &text).unwrap();
        std::fs::write(root.join(format!("intake/claims-{n}")), [&[1u8][..], text.as_bytes()].concat()).unwrap();
        std::fs::write(root.join(format!("intake/jws-{n}")), [&[0u8][..], signed(text.as_bytes()).as_bytes()].concat())
            .unwrap();
        std::fs::write(root.join(format!("intake/batch-{n}")), [&[2u8][..], text.as_bytes()].concat()).unwrap();
    }
}
