//! Writes the seeds that need the core to make them: receipt claims in canonical JSON
//! (`fuzz/corpus/claims/`) and collector intake inputs (`fuzz/corpus/intake/`): a claims text the
//! target signs, a signed JWS as sent, and a batch. The claims are the ones a browser makes, by the
//! core's own builders, for decisions read from the stored form under the demo config.
//! `cargo run -p assent-fuzz --example seeds`.

use assent_core::decision::{Decision, Method};
use assent_core::receipt::Claims;
use assent_core::scoped::{Kind, ScopedChoice};
use assent_core::{Config, Flow};
use assent_fuzz::intake::{signed, NOW};

const COOKIE: &str = "3|0123456789abcdef0123456789abcdef|2026-11-01|1764000000|1779552000|analytics.necessary|ai_training.marketing|1a2b3c4d|accept_all|DE|optIn|rfedcba9876543210fedcba9876543210|1|page|0|0|";
const LINE: &str = "3|c-123|ai_training|1|0123456789abcdef0123456789abcdef|r11111111111111111111111111111111|1764000000|1779552000|2026-11-01|ai_toggle";

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    let demo = include_str!("../../../web/demo/assent.json");
    let config = Config::parse(demo).expect("the demo config");
    let site = |n: u8, method: Method, granted: bool, prev: Option<String>| {
        let mut d = Decision::decode(COOKIE).expect("a stored decision");
        d.receipt = format!("r{n:032x}");
        d.decided_at = NOW - 60 + u64::from(n);
        d.expires_at = NOW + 390 * 86_400;
        d.method = method;
        if !granted {
            d.denied.append(&mut d.granted);
            d.granted.push("necessary".into());
            d.denied.retain(|p| p != "necessary");
            d.denied.sort();
        }
        let origin = "https://shop.example".to_string();
        Claims::for_decision(&d, &config, origin, "en".into(), "a".repeat(64), false, prev)
    };
    let mut conversation = ScopedChoice::decode(LINE, Kind::Conversation).expect("a stored line");
    conversation.decided_at = NOW - 30;
    conversation.expires_at = NOW + 390 * 86_400;
    let all = [
        site(1, Method::AcceptAll, true, None),
        site(2, Method::Withdrawal, false, Some("b".repeat(64))),
        Claims::for_scoped(
            &conversation,
            &config,
            Some("DE".into()),
            Flow::OptIn,
            "https://shop.example".into(),
            "en".into(),
            "c".repeat(64),
            false,
            None,
        ),
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
