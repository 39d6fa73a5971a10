//! The receipt wire format: RFC 8785 canonical JSON, claims round trip, and the notice-text rule.

use crate::common::{DEMO, EN};
use assent_core::hash::config_fingerprint;
use assent_core::json::Json;
use assent_core::receipt::{gate, interval_at, intervals, notice_text, Claims, Evidence, OTHER_KEY, REASONS};
use assent_core::{Config, Decision, Effect, Event, Flow, Session, Source, Visitor};

#[test]
fn canonical_json_sorts_by_utf16_and_escapes_like_json_stringify() {
    // RFC 8785 §3.2.3: sorting is by UTF-16 code units, so U+1F600 (D83D DE00) sorts before U+FB33.
    let v = Json::parse(r#"{"\u20ac":1,"\r":2,"\ufb33":3,"1":4,"\ud83d\ude00":5,"\u0080":6,"\u00f6":7}"#).unwrap();
    assert_eq!(v.canonical(), "{\"\\r\":2,\"1\":4,\"\u{80}\":6,\"ö\":7,\"€\":1,\"😀\":5,\"\u{fb33}\":3}");
    let s = Json::parse(r#"["tab\tquote\"slash\\ctl\u0001 é"]"#).unwrap();
    assert_eq!(s.canonical(), r#"["tab\tquote\"slash\\ctl\u0001 é"]"#);
    // Escapes at both ends and side by side; U+007F is not a control character to JSON.
    let edges = Json::parse(r#"["\b\f\n\u001f", "\u007f\"", "ü\r\r€"]"#).unwrap();
    assert_eq!(edges.canonical(), "[\"\\b\\f\\n\\u001f\",\"\u{7f}\\\"\",\"ü\\r\\r€\"]");
    let nested = Json::parse(" { \"b\" : [ true , null ] , \"a\" : { \"d\" : 1 , \"c\" : \"x\" } } ").unwrap();
    assert_eq!(nested.canonical(), r#"{"a":{"c":"x","d":1},"b":[true,null]}"#);
}

fn decision() -> (Config, Decision) {
    let config = Config::parse(DEMO).unwrap();
    let (mut s, _) = Session::start(
        config.clone(),
        config_fingerprint(DEMO),
        &Visitor::in_region("DE"),
        None,
        1_790_000_000,
        || [9; 16],
    );
    let effects = s.handle(Event::AcceptAll(Source::Ui), 1_790_000_000, || [9; 16]).unwrap();
    let value =
        effects.iter().find_map(|e| if let Effect::Store { value, .. } = e { Some(value.clone()) } else { None });
    (config, Decision::decode(&value.unwrap()).unwrap())
}

fn claims() -> Claims {
    let (config, d) = decision();
    Claims::for_decision(&d, &config, "https://shop.example".into(), "en".into(), "0".repeat(64), false, None)
}

#[test]
fn claims_serialise_canonically_and_round_trip() {
    let c = claims();
    let text = c.to_canonical_json();
    expect_test::expect![[r#"{"controller":"Demo Shop Ltd","exp":1823696000,"flow":"optIn","gpc":false,"iat":1790000000,"id":"r09090909090909090909090909090909","locale":"en","method":"accept_all","notice":{"sha256":"0000000000000000000000000000000000000000000000000000000000000000","version":"2026-11-01"},"origin":"https://shop.example","prev":null,"purposes":{"ai_training":{"dataCategories":["chat transcripts"],"granted":false},"analytics":{"dataCategories":["usage data","device data"],"granted":true},"marketing":{"dataCategories":["advertising identifiers","browsing history"],"granted":true},"necessary":{"dataCategories":["session state"],"granted":true},"preferences":{"dataCategories":["language","display settings"],"granted":true},"replay":{"dataCategories":["clicks","scrolls","page content"],"granted":true}},"region":"DE","scope":null,"sub":"09090909090909090909090909090909","v":1}"#]].assert_eq(&text);
    let back = Claims::from_canonical_json(&text).unwrap();
    assert_eq!(back.to_canonical_json(), text);
    assert_eq!(back.granted("analytics"), Some(true));
    assert_eq!(back.granted("ai_training"), Some(false), "Accept all never grants AI training");
}

#[test]
fn receivers_refuse_non_canonical_or_malformed_claims() {
    let text = claims().to_canonical_json();
    // A purpose written twice is refused. It used to re-serialise to the same bytes and pass, while
    // `JSON.parse` (jose, any JS reader) takes the other copy than the collector did.
    let mut twice = claims();
    let mut copy = twice.purposes[0].clone();
    copy.granted = !copy.granted;
    twice.purposes.insert(1, copy);
    let first = twice.purposes[0].id.clone();
    let table = [
        (
            twice.to_canonical_json(),
            format!("config: purposes.{first}: is listed twice: one receipt must mean one thing to every reader").leak()
                as &str,
        ),
        (
            text.replacen('{', "{ ", 1),
            "config: payload: is not canonical JSON (RFC 8785): keys sorted, no whitespace, integers only",
        ),
        (text.replace("\"v\":1", "\"v\":2"), "config: v: receipt version 2 is not supported (this build reads 1)"),
        (
            text.replace("\"method\":\"accept_all\"", "\"method\":\"nodded\""),
            "config: method: `nodded` is not a capture method",
        ),
        (text.replace("\"gpc\":false,", ""), "config: gpc: missing"),
        (text.replace("\"sub\":\"0909", "\"sub\":\"ZZ09"), "config: sub: must be 32 lowercase hex digits"),
        (
            text.replace("\"iat\":1790000000", "\"iat\":\"yesterday\""),
            "config: iat: expected Unix seconds, found the string \"yesterday\"",
        ),
    ];
    for (bad, expected) in table {
        assert_eq!(Claims::from_canonical_json(&bad).unwrap_err().to_string(), expected);
    }
}

#[test]
fn notice_text_is_recomputable_from_the_locale_file() {
    let config = Config::parse(DEMO).unwrap();
    let locale = Json::parse(EN).unwrap();
    let strings = assent_core::json::string_map(&locale, "").unwrap();
    let lookup = |k: &str| strings.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let text = notice_text(&config, Flow::OptIn, lookup);
    let lines: Vec<&str> = text.lines().map(|l| l.split('=').next().unwrap()).collect();
    assert_eq!(
        lines[..7],
        [
            "banner.title",
            "banner.body",
            "prefs.title",
            "prefs.intro",
            "prefs.separateTitle",
            "prefs.separateNote",
            "prefs.withdrawNote"
        ]
    );
    assert_eq!(lines.len(), 7 + 2 * config.purposes.len());
    assert!(text.starts_with("banner.title=Your privacy choices\nbanner.body=Demo Shop Ltd would like"), "{text}");
    assert!(!text.ends_with('\n'));
}

/// A receipt like `claims()` with `analytics` granted or refused, issued at `iat`.
fn analytics(granted: bool, iat: u64, id: &str) -> Claims {
    let mut c = claims();
    c.id = id.into();
    c.issued_at = iat;
    c.expires_at = iat + 390 * 86_400;
    c.purposes.iter_mut().filter(|p| p.id == "analytics").for_each(|p| p.granted = granted);
    c
}

/// The subject id is readable by the page's scripts, so anyone can sign a receipt for
/// it with a key of their own. Only the key of the subject's first receipt can grant; another key's
/// receipt still counts as a refusal, which is always safe to honour.
#[test]
fn only_the_subjects_first_key_can_grant_but_any_key_can_refuse() {
    let t = 1_790_000_000;
    let (refusal, forged, later_refusal) =
        (analytics(false, t, "r1"), analytics(true, t + 10, "r2"), analytics(false, t + 20, "r3"));
    let receipts = [
        Evidence { claims: &refusal, key: "browser", received_at: None },
        Evidence { claims: &forged, key: "attacker", received_at: None },
        Evidence { claims: &later_refusal, key: "attacker", received_at: None },
    ];
    let answer = gate(&receipts[..2], "analytics", t + 15, None);
    assert_eq!((answer.granted, answer.reason, answer.receipt.as_deref()), (false, OTHER_KEY, Some("r2")));
    assert_eq!(gate(&receipts, "analytics", t + 25, None).reason, "refused", "another key's refusal is honoured");
    // The same grant from the subject's own key is honoured.
    let own = [
        Evidence { claims: &refusal, key: "browser", received_at: None },
        Evidence { claims: &forged, key: "browser", received_at: None },
    ];
    assert!(gate(&own, "analytics", t + 15, None).granted);
}

/// Receipts are ordered by arrival (their chain), not by `iat`. A browser clock that
/// ran 4 minutes fast for a grant (within the collector's 300 s skew) and was corrected before the
/// withdrawal a minute later gave the withdrawal the earlier `iat`, and the grant kept winning.
#[test]
fn the_latest_receipt_to_arrive_decides_even_when_a_fast_clock_made_an_earlier_one_look_newer() {
    let t = 1_790_000_000;
    let grant = analytics(true, t + 240, "r1"); // the clock was 240 s fast
    let withdrawal = analytics(false, t + 60, "r2"); // corrected, a minute later in real time
    let chain = [
        Evidence { claims: &grant, key: "k", received_at: None },
        Evidence { claims: &withdrawal, key: "k", received_at: None },
    ];
    for at in [t + 100, t + 300, t + 86_400] {
        let answer = gate(&chain, "analytics", at, None);
        assert_eq!((answer.granted, answer.receipt.as_deref()), (false, Some("r2")), "at +{}", at - t);
    }
}

/// One receipt of a generated history: which scope, whether `analytics` is granted, which key signed
/// it, how its `iat`, arrival and expiry fall, and the notice version.
type Step = (u8, bool, bool, u64, Option<u64>, u64, bool);

fn history(steps: &[Step]) -> Vec<(Claims, &'static str, Option<u64>)> {
    let t = 1_790_000_000;
    let mut clock = t;
    steps
        .iter()
        .enumerate()
        .map(|(n, &(scope, granted, own_key, gap, late, life, renewed))| {
            clock += gap;
            let mut c = analytics(granted, clock, &format!("r{n}"));
            c.expires_at = clock + life;
            c.scope = match scope {
                0 | 1 => None,
                2 => Some("conversation:a".into()),
                3 => Some("conversation:b".into()),
                _ => Some("service:youtube".into()),
            };
            if renewed {
                c.notice_version = "2".into();
            }
            (c, if own_key || n == 0 { "own" } else { "other" }, late.map(|l| clock + l))
        })
        .collect()
}

proptest::proptest! {
    /// The interval table is the gate: for every scope and at every time around every receipt, the span
    /// holding the time carries the gate's own answer, and before the first receipt there is none.
    #[test]
    fn the_intervals_give_the_gates_answer_at_every_time(
        steps in proptest::collection::vec(
            (0u8..5, proptest::bool::ANY, proptest::bool::weighted(0.85), 0u64..50,
             proptest::option::of(0u64..30), 1u64..120, proptest::bool::weighted(0.2)),
            1..12,
        )
    ) {
        let chain = history(&steps);
        let evidence: Vec<Evidence<'_>> =
            chain.iter().map(|(c, key, late)| Evidence { claims: c, key, received_at: *late }).collect();
        let first = evidence.iter().map(|e| e.claims.issued_at.min(e.received_at.unwrap_or(u64::MAX))).min().unwrap();
        let last = evidence.iter().map(|e| e.claims.expires_at).max().unwrap();
        for scope in [None, Some("conversation:a"), Some("conversation:b"), Some("service:youtube")] {
            let timeline = intervals(&evidence, "analytics", scope);
            for pair in timeline.windows(2) {
                proptest::prop_assert_eq!(pair[0].until, Some(pair[1].from), "spans are contiguous");
            }
            for at in first.saturating_sub(2)..=last + 2 {
                let expected = gate(&evidence, "analytics", at, scope);
                proptest::prop_assert!(REASONS.contains(&expected.reason), "{} is not listed in REASONS", expected.reason);
                match interval_at(&timeline, at) {
                    None => proptest::prop_assert!(at < first && !expected.granted, "no span at {} ({:?})", at, scope),
                    Some(span) => {
                        let a = &span.answer;
                        proptest::prop_assert_eq!(
                            (a.granted, a.reason, &a.receipt, &a.decided_in, a.method, &a.notice_version),
                            (expected.granted, expected.reason, &expected.receipt, &expected.decided_in, expected.method, &expected.notice_version),
                            "at {} in {:?}", at, scope
                        );
                    }
                }
            }
        }
    }
}
