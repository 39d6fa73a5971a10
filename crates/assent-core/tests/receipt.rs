//! The receipt wire format: RFC 8785 canonical JSON, claims round trip, and the notice-text rule.

use assent_core::hash::config_fingerprint;
use assent_core::json::Json;
use assent_core::receipt::{notice_text, Claims};
use assent_core::{Visitor, Config, Decision, Effect, Event, Flow, Session, Source};

const DEMO: &str = include_str!("../../../web/demo/assent.json");
const EN: &str = include_str!("../../../locales/en.json");

#[test]
fn canonical_json_sorts_by_utf16_and_escapes_like_json_stringify() {
    // RFC 8785 §3.2.3: sorting is by UTF-16 code units, so U+1F600 (D83D DE00) sorts before U+FB33.
    let v = Json::parse(r#"{"\u20ac":1,"\r":2,"\ufb33":3,"1":4,"\ud83d\ude00":5,"\u0080":6,"\u00f6":7}"#).unwrap();
    assert_eq!(v.canonical(), "{\"\\r\":2,\"1\":4,\"\u{80}\":6,\"ö\":7,\"€\":1,\"😀\":5,\"\u{fb33}\":3}");
    let s = Json::parse(r#"["tab\tquote\"slash\\ctl\u0001 é"]"#).unwrap();
    assert_eq!(s.canonical(), r#"["tab\tquote\"slash\\ctl\u0001 é"]"#);
    let nested = Json::parse(" { \"b\" : [ true , null ] , \"a\" : { \"d\" : 1 , \"c\" : \"x\" } } ").unwrap();
    assert_eq!(nested.canonical(), r#"{"a":{"c":"x","d":1},"b":[true,null]}"#);
}

fn decision() -> (Config, Decision) {
    let config = Config::parse(DEMO).unwrap();
    let (mut s, _) = Session::start(config.clone(), config_fingerprint(DEMO), &Visitor::in_region("DE"), None, 1_790_000_000, || [9; 16]);
    let effects = s.handle(Event::AcceptAll(Source::Ui), 1_790_000_000, || [9; 16]).unwrap();
    let value = effects.iter().find_map(|e| if let Effect::Store { value, .. } = e { Some(value.clone()) } else { None });
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
    let table = [
        (text.replacen('{', "{ ", 1), "config: payload: is not canonical JSON (RFC 8785): keys sorted, no whitespace, integers only"),
        (text.replace("\"v\":1", "\"v\":2"), "config: v: receipt version 2 is not supported (this build reads 1)"),
        (text.replace("\"method\":\"accept_all\"", "\"method\":\"nodded\""), "config: method: `nodded` is not a capture method"),
        (text.replace("\"gpc\":false,", ""), "config: gpc: missing"),
        (text.replace("\"sub\":\"0909", "\"sub\":\"ZZ09"), "config: sub: must be 32 lowercase hex digits"),
        (text.replace("\"iat\":1790000000", "\"iat\":\"yesterday\""), "config: iat: expected Unix seconds, found the string \"yesterday\""),
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
    assert_eq!(lines[..7], ["banner.title", "banner.body", "prefs.title", "prefs.intro", "prefs.separateTitle", "prefs.separateNote", "prefs.withdrawNote"]);
    assert_eq!(lines.len(), 7 + 2 * config.purposes.len());
    assert!(text.starts_with("banner.title=Your privacy choices\nbanner.body=Demo Shop Ltd would like"), "{text}");
    assert!(!text.ends_with('\n'));
}
