//! The loader's twins of the core, pinned: every case in `data/conformance/` is read here against the
//! core and, by `tests/loader/conformance.test.mjs`, against the loader's own functions. A case the
//! two answer differently fails one side or the other.

use assent_core::decision::Decision;
use assent_core::scoped::{self, Kind};
use assent_core::trackers::{is_pattern, Trackers};
use assent_core::Config;
use serde_json::{json, Value};

use crate::common::DEMO;

fn vectors(name: &str) -> Value {
    let path = format!("{}/../../data/conformance/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn cases<'a>(v: &'a Value, key: &str) -> &'a Vec<Value> {
    v[key].as_array().unwrap_or_else(|| panic!("no `{key}`"))
}

fn text(v: &Value) -> Option<&str> {
    v.as_str()
}

/// The demo config with the case's `blocking`, through the core's own validation.
fn trackers_for(case: &Value) -> Trackers {
    let mut config: Value = serde_json::from_str(DEMO).unwrap();
    config["blocking"] = case.get("blocking").cloned().unwrap_or(json!({}));
    let config = Config::parse(&config.to_string()).unwrap_or_else(|e| panic!("{case}: {e}"));
    Trackers::new(&config.blocking)
}

#[test]
fn tracker_urls_belong_to_the_services_the_vectors_name() {
    let v = vectors("trackers.json");
    for case in cases(&v, "classify") {
        let got =
            trackers_for(case).classify(case["url"].as_str().unwrap()).map(|s| (s.name.clone(), s.purpose.clone()));
        let want = text(&case["service"]).map(|s| (s.to_string(), case["purpose"].as_str().unwrap().to_string()));
        assert_eq!(got, want, "{case}");
    }
}

#[test]
fn gated_elements_belong_to_the_services_the_vectors_name() {
    let v = vectors("trackers.json");
    for case in cases(&v, "serviceOf") {
        let t = trackers_for(case);
        let got = t.service_of(text(&case["dataService"]), text(&case["url"])).map(|s| s.name.as_str());
        assert_eq!(got, text(&case["service"]), "{case}");
    }
}

#[test]
fn tracker_patterns_are_usable_as_the_vectors_say() {
    let v = vectors("trackers.json");
    for case in cases(&v, "patterns") {
        assert_eq!(is_pattern(case["pattern"].as_str().unwrap()), case["valid"].as_bool().unwrap(), "{case}");
    }
}

#[test]
fn region_codes_name_places_as_the_vectors_say() {
    let v = vectors("regions.json");
    for case in cases(&v, "cases") {
        let got = assent_core::region::Region::parse(case["code"].as_str().unwrap()).is_some();
        assert_eq!(got, case["place"].as_bool().unwrap(), "{case}");
    }
}

#[test]
fn frames_are_out_of_sight_as_the_vectors_say() {
    let v = vectors("frames.json");
    for case in cases(&v, "cases") {
        let a = &case["attributes"];
        let got = assent_core::frames::hidden(
            text(&a["width"]),
            text(&a["height"]),
            a.get("hidden").is_some(),
            text(&a["style"]),
        );
        assert_eq!(got, case["hidden"].as_bool().unwrap(), "{case}");
    }
}

#[test]
fn config_fingerprints_match_the_vectors() {
    let v = vectors("fingerprint.json");
    for case in cases(&v, "cases") {
        let got = format!("{:08x}", assent_core::hash::config_fingerprint(case["text"].as_str().unwrap()));
        assert_eq!(got, case["fingerprint"].as_str().unwrap(), "{case}");
    }
}

/// A decision in the shape the vectors (and the loader's `decode`) give it. The version and the region
/// source are the cookie's own fields (the core reads `geo` as `geo:`, which the loader never matches).
fn shape(cookie: &str, d: &Decision) -> Value {
    let field = |i: usize| cookie.split('|').nth(i).unwrap();
    assert_eq!(assent_core::RegionSource::decode(field(13)).as_ref(), Some(&d.region_source));
    json!({
        "version": field(0),
        "subject": d.subject, "noticeVersion": d.notice_version, "decidedAt": d.decided_at, "expiresAt": d.expires_at,
        "granted": d.granted, "denied": d.denied, "fingerprint": format!("{:08x}", d.config_fingerprint),
        "method": d.method.as_str(), "region": d.region.clone().unwrap_or_default(), "flow": d.flow.as_str(),
        "receipt": d.receipt, "doNotTrain": d.do_not_train(), "source": field(13), "gpc": d.gpc,
        "persistent": d.persistent_ui, "consentMode": d.consent_mode,
    })
}

#[test]
fn stored_decisions_decode_as_the_vectors_say() {
    let v = vectors("stored-form.json");
    for case in cases(&v, "cases") {
        let cookie = case["cookie"].as_str().unwrap();
        let got = Decision::decode(cookie).map(|d| shape(cookie, &d)).unwrap_or(Value::Null);
        assert_eq!(got, case["decoded"], "{}", case["case"]);
    }
}

#[test]
fn scoped_choices_decode_and_count_as_the_vectors_say() {
    let v = vectors("scoped.json");
    let version = v["noticeVersion"].as_str().unwrap();
    let now = v["now"].as_u64().unwrap();
    for case in cases(&v, "cases") {
        let kind = if case["kind"] == "services" { Kind::Service } else { Kind::Conversation };
        let lines: Vec<&str> = case["lines"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
        let got: Vec<Value> = scoped::decode_all(&lines.join("\n"), kind)
            .iter()
            .map(|c| {
                let id = c.scope.key();
                json!({"id": id, "purpose": c.purpose, "on": c.on, "receipt": c.receipt, "inForce": c.in_force(version, now)})
            })
            .collect();
        assert_eq!(Value::from(got), case["choices"], "{}", case["case"]);
    }
}

#[test]
fn decisions_from_other_tabs_are_adopted_as_the_vectors_say() {
    let v = vectors("adoption.json");
    let own = Decision::decode(v["own"].as_str().unwrap()).unwrap();
    let now = v["now"].as_u64().unwrap();
    for case in cases(&v, "cases") {
        let got = Decision::decode(case["next"].as_str().unwrap())
            .is_some_and(|next| next.supersedes(Some(&own), &own.notice_version, own.flow, now));
        assert_eq!(got, case["adopts"].as_bool().unwrap(), "{}", case["case"]);
    }
}

#[test]
fn purposes_services_and_conversations_are_allowed_as_the_vectors_say() {
    use assent_core::session::{Session, Visitor};
    let v = vectors("allowed.json");
    let now = v["now"].as_u64().unwrap();
    for setup in cases(&v, "setups") {
        let config = Config::parse(DEMO).unwrap();
        let fingerprint = assent_core::hash::config_fingerprint(DEMO);
        let cookie = setup["cookie"].as_str();
        let (mut session, _) = Session::start(config, fingerprint, &Visitor::in_region("DE"), cookie, now, || [7; 16]);
        assert!(session.decision().is_some(), "{}: the decision must count", setup["about"]);
        for (kind, key) in [(Kind::Service, "services"), (Kind::Conversation, "conversations")] {
            let lines: Vec<&str> = setup[key].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
            session.restore_scoped(kind, &lines.join("\n"));
        }
        for q in cases(setup, "questions") {
            let purpose = q["purpose"].as_str().unwrap();
            let got = match text(&q["service"]) {
                Some(service) => session.allowed_for_service(purpose, service, now),
                None => session.allowed_in(purpose, text(&q["conversation"]), now),
            };
            assert_eq!(got, q["allowed"].as_bool().unwrap(), "{}: {q}", setup["about"]);
        }
    }
}

#[test]
fn unmade_scoped_receipts_are_the_ones_the_vectors_name() {
    let v = vectors("receipts-made.json");
    for case in cases(&v, "cases") {
        let kind = if case["kind"] == "services" { Kind::Service } else { Kind::Conversation };
        let lines: Vec<&str> = case["lines"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
        // In the order the session keeps them: decided, oldest first.
        let mut choices = scoped::decode_all(&lines.join("\n"), kind);
        choices.sort_by_key(|c| c.decided_at);
        let got: Vec<String> =
            scoped::unmade(&choices, kind, case["marker"].as_str().unwrap()).into_iter().map(|c| c.receipt).collect();
        assert_eq!(Value::from(got), case["unmade"], "{}", case["case"]);
    }
}
