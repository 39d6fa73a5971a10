//! A synthetic data set made from real signed receipts: subjects who accept or refuse, opt in to AI
//! training and withdraw, turn a conversation's "improve our AI" toggle on and off, meet a new notice
//! version, or let a short-lived choice expire; and chat records at random times around all of it.
//! The CLI's agreement test, the Python package, the DuckDB and Spark recipes and the filter benchmark
//! all read the same files (`cargo run --release -p assent-cli --example dataset`).

use std::io::Write;
use std::path::Path;

use assent_core::decision::{Decision, Method};
use assent_core::receipt::Claims;
use assent_core::scoped::{Kind, ScopedChoice};
use assent_core::{Config, Flow};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use ed25519_dalek::Signer;

const COOKIE: &str = "3|0123456789abcdef0123456789abcdef|2026-11-01|1764000000|1779552000|analytics.necessary|ai_training.marketing|1a2b3c4d|accept_all|DE|optIn|rfedcba9876543210fedcba9876543210|1|page|0|0|";
const LINE: &str = "3|c-0|ai_training|1|0123456789abcdef0123456789abcdef|r11111111111111111111111111111111|1764000000|1779552000|2026-11-01|ai_toggle";
/// The data set's first moment: 2026-11-01T00:00:00Z.
pub const START: u64 = 1_793_491_200;
const DAY: u64 = 86_400;

/// A small deterministic generator (xorshift64*), so every run and every language sees the same set.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// `claims` signed as a browser signs a receipt, with the subject's own key.
pub fn sign(key: &ed25519_dalek::SigningKey, claims: &Claims) -> String {
    let header = format!(
        r#"{{"alg":"EdDSA","jwk":{{"crv":"Ed25519","kty":"OKP","x":"{}"}},"typ":"assent-receipt+jws"}}"#,
        B64.encode(key.verifying_key().to_bytes())
    );
    let input = format!("{}.{}", B64.encode(header), B64.encode(claims.to_canonical_json()));
    format!("{input}.{}", B64.encode(key.sign(input.as_bytes()).to_bytes()))
}

/// What one subject did, as receipts in the order they were sent.
fn history(rng: &mut Rng, n: u64, config: &Config) -> Vec<Claims> {
    let subject = format!("{n:032x}");
    let mut t = START + rng.below(10 * DAY);
    let mut counter = 0u32;
    let mut id = || {
        counter += 1;
        format!("r{:024x}{counter:08x}", n)
    };
    let short = rng.chance(10);
    let life = |rng: &mut Rng| if short { DAY + rng.below(10 * DAY) } else { 390 * DAY };
    let site = |rng: &mut Rng, t: u64, id: String, ai: bool, version: &str, method: Method| {
        let mut d = Decision::decode(COOKIE).expect("a stored decision");
        d.subject = subject.clone();
        d.receipt = id;
        d.decided_at = t;
        d.expires_at = t + life(rng);
        d.method = method;
        d.notice_version = version.into();
        d.granted.retain(|p| p != "ai_training");
        d.denied.retain(|p| p != "ai_training");
        if ai {
            d.granted.push("ai_training".into())
        } else {
            d.denied.push("ai_training".into())
        }
        Claims::for_decision(&d, config, "https://shop.example".into(), "en".into(), "a".repeat(64), false, None)
    };
    let conversation = |rng: &mut Rng, t: u64, id: String, c: u64, on: bool, version: &str| {
        let mut choice = ScopedChoice::decode(LINE, Kind::Conversation).expect("a stored line");
        choice.notice_version = Some(version.into());
        choice.subject = subject.clone();
        choice.scope = assent_core::Scope::parse(&format!("conversation:c-{c}")).expect("a conversation scope");
        choice.receipt = id;
        choice.on = on;
        choice.decided_at = t;
        choice.expires_at = t + life(rng);
        let origin = "https://shop.example".to_string();
        Claims::for_scoped(
            &choice,
            config,
            Some("DE".into()),
            Flow::OptIn,
            origin,
            "en".into(),
            "c".repeat(64),
            false,
            None,
        )
    };
    let mut version = "2026-11-01";
    let ai = rng.chance(30);
    let mut out = vec![site(rng, t, id(), ai, version, Method::AcceptAll)];
    for _ in 0..rng.below(5) {
        t += 1 + rng.below(3 * DAY);
        let claims = match rng.below(10) {
            0..=3 => {
                let (c, on) = (rng.below(3), rng.chance(60));
                conversation(rng, t, id(), c, on, version)
            }
            4..=5 => site(rng, t, id(), true, version, Method::PreferencesSaved),
            6..=7 => site(rng, t, id(), false, version, Method::Withdrawal),
            // A new notice version: everyone is asked again, and a conversation's earlier choice ends.
            _ => {
                version = "2026-12-01";
                let ai = rng.chance(50);
                site(rng, t, id(), ai, version, Method::AcceptAll)
            }
        };
        out.push(claims);
    }
    out
}

/// Writes `receipts.jsonl` (one compact JWS a line, each subject's chain in order) and `records.jsonl`
/// (`{"id", "subject", "timestamp", "conversation"?, "text", "assent"?}`, one in twenty stamped
/// `do_not_train`) into `dir`.
pub fn write(dir: &Path, subjects: u64, records: u64, seed: u64) {
    let config = Config::parse(include_str!("../../../../web/demo/assent.json")).expect("the demo config");
    let mut rng = Rng::new(seed);
    let mut receipts = std::io::BufWriter::new(std::fs::File::create(dir.join("receipts.jsonl")).unwrap());
    let mut starts = Vec::with_capacity(subjects as usize);
    for n in 0..subjects {
        let mut secret = [0u8; 32];
        secret[..8].copy_from_slice(&(seed ^ n).to_le_bytes());
        secret[8] = 1;
        let key = ed25519_dalek::SigningKey::from_bytes(&secret);
        let mut prev: Option<String> = None;
        let chain = history(&mut rng, n, &config);
        starts.push(chain[0].issued_at);
        for mut claims in chain {
            claims.prev = prev.take();
            let jws = sign(&key, &claims);
            prev = Some(assent_jose::receipt_hash(&jws));
            writeln!(receipts, "{jws}").unwrap();
        }
    }
    receipts.flush().unwrap();
    let mut out = std::io::BufWriter::new(std::fs::File::create(dir.join("records.jsonl")).unwrap());
    for id in 0..records {
        let n = rng.below(subjects);
        let at = starts[n as usize] - DAY + rng.below(20 * DAY);
        let conversation = match rng.below(4) {
            3 => String::new(),
            c => format!(r#","conversation":"c-{c}""#),
        };
        // One record in twenty carries the opt-out `assent.stamp()` put on it when it was sent.
        let stamp = if rng.chance(5) { r#","assent":{"do_not_train":true,"content_usage":"train-ai=n"}"# } else { "" };
        writeln!(
            out,
            r#"{{"id":{id},"subject":"{n:032x}","timestamp":{at}{conversation},"text":"message {id} of a support chat"{stamp}}}"#
        )
        .unwrap();
    }
    out.flush().unwrap();
}
