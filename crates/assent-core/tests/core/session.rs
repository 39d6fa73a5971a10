//! Data-driven tests of the consent state machine: (config, region, stored state, event) → decision.

use crate::common::{DAY, DEMO, NOW};
use assent_core::hash::config_fingerprint;
use assent_core::{Config, Decision, Effect, Event, Flow, Method, Session, Source, Ui, UsageError, Visitor};

fn demo() -> Config {
    Config::parse(DEMO).expect("demo config is valid")
}

fn start(region: Option<&str>, stored: Option<&str>) -> (Session, Vec<Effect>) {
    Session::start(
        demo(),
        config_fingerprint(DEMO),
        &Visitor { region: region.map(String::from), ..Visitor::default() },
        stored,
        NOW,
        rng,
    )
}

fn rng() -> [u8; 16] {
    [7; 16]
}

fn granted(s: &Session) -> Vec<&str> {
    let mut v: Vec<&str> = s.config().purposes.iter().map(|p| p.id.as_str()).filter(|id| s.allowed(id)).collect();
    v.sort();
    v
}

/// The effects other than Google Consent Mode commands (tested in tests/regions.rs).
fn without_consent_mode(effects: &[Effect]) -> Vec<Effect> {
    effects.iter().filter(|e| !matches!(e, Effect::ConsentMode(_))).cloned().collect()
}

fn stored_value(effects: &[Effect]) -> String {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::Store { value, .. } => Some(value.clone()),
            _ => None,
        })
        .expect("a Store effect")
}

#[test]
fn region_resolves_to_the_configured_flow() {
    // (region code, expected flow): subdivision beats country beats group; unknown region → strictest.
    let table = [
        (Some("DE"), Flow::OptIn),
        (Some("de"), Flow::OptIn),
        (Some("GB"), Flow::OptIn),
        (Some("NO"), Flow::OptIn), // EEA, not EU
        (Some("CA-QC"), Flow::OptIn),
        (Some("CA-ON"), Flow::Notice),
        (Some("CH"), Flow::Notice),
        (Some("US-CA"), Flow::OptOut),
        (Some("US-WA"), Flow::Notice),
        (Some("JP"), Flow::Notice),
        (None, Flow::OptIn),
        (Some("Germany"), Flow::OptIn), // unparseable → strictest, with a warning
    ];
    for (region, flow) in table {
        let (s, _) = start(region, None);
        assert_eq!(s.flow(), flow, "region {region:?}");
    }
    let (_, effects) = start(Some("Germany"), None);
    assert!(
        effects.iter().any(|e| matches!(e, Effect::Warn(w) if w.contains("`Germany`"))),
        "a bad data-region is reported: {effects:?}"
    );
}

#[test]
fn first_visit_defaults_per_flow_and_shows_banner() {
    // Opt-in: nothing optional runs. Opt-out and notice: `optOut` purposes run; sensitive ones do not.
    let table: [(&str, &[&str]); 3] = [
        ("DE", &["necessary"]),
        ("US-CA", &["analytics", "marketing", "necessary", "preferences"]),
        ("JP", &["analytics", "marketing", "necessary", "preferences"]),
    ];
    for (region, expected) in table {
        let (s, effects) = start(Some(region), None);
        assert_eq!(granted(&s), expected, "region {region}");
        assert_eq!(s.ui(), Ui::Banner);
        assert_eq!(without_consent_mode(&effects), vec![Effect::Render(Ui::Banner), Effect::ApplyGates]);
        assert!(!s.allowed("ai_training"), "AI training is never on by default ({region})");
        assert!(!s.allowed("replay"), "replay is not opt-out in the demo ({region})");
    }
}

#[test]
fn accept_all_never_grants_ai_training() {
    let (mut s, _) = start(Some("DE"), None);
    let effects = s.handle(Event::AcceptAll(Source::Ui), NOW, rng).unwrap();
    assert_eq!(granted(&s), ["analytics", "marketing", "necessary", "preferences", "replay"]);
    assert_eq!(
        without_consent_mode(&effects)[1..],
        [
            Effect::Render(Ui::Hidden),
            Effect::ApplyGates,
            Effect::Changed,
            Effect::Receipt(assent_core::Record::Site(s.decision().unwrap().clone()))
        ],
        "store, hide, apply, announce, make the receipt"
    );
    let d = Decision::decode(&stored_value(&effects)).unwrap();
    assert!(d.denied.iter().any(|p| p == "ai_training"));
    assert_eq!(d.method, Method::AcceptAll);
    assert_eq!(d.expires_at, NOW + 390 * DAY);

    // Granted separately, AI training survives a later "Accept all" and falls with "Reject all".
    s.handle(Event::Save(vec![("ai_training".into(), true)], Source::Ui), NOW, rng).unwrap();
    s.handle(Event::AcceptAll(Source::Ui), NOW, rng).unwrap();
    assert!(s.allowed("ai_training"));
    s.handle(Event::RejectAll(Source::Ui), NOW, rng).unwrap();
    assert_eq!(granted(&s), ["necessary"]);
}

#[test]
fn reject_all_is_remembered_for_the_refusal_period() {
    let (mut s, _) = start(Some("FR"), None);
    let effects = s.handle(Event::RejectAll(Source::Ui), NOW, rng).unwrap();
    let value = stored_value(&effects);
    let d = Decision::decode(&value).unwrap();
    assert_eq!(d.expires_at, NOW + 182 * DAY, "a refusal lasts refusedDays");
    assert_eq!(d.subject, "07070707070707070707070707070707");

    // Returning visit: no banner, nothing optional, no rewrite needed.
    let (s2, effects2) = start(Some("FR"), Some(&value));
    assert_eq!(s2.ui(), Ui::Hidden);
    assert_eq!(without_consent_mode(&effects2), vec![Effect::ApplyGates]);
    assert_eq!(granted(&s2), ["necessary"]);
}

#[test]
fn stored_decision_is_asked_again_when_expired_notice_changed_or_flow_stricter() {
    let (mut s, _) = start(Some("US-CA"), None);
    let value = stored_value(&s.handle(Event::Acknowledge, NOW, rng).unwrap());
    let d = Decision::decode(&value).unwrap();
    assert_eq!(d.method, Method::Acknowledged);

    // Still valid in the same region.
    let (same, _) = start(Some("US-CA"), Some(&value));
    assert_eq!(same.ui(), Ui::Hidden);

    // Expired.
    let later = Session::start(
        demo(),
        config_fingerprint(DEMO),
        &Visitor::in_region("US-CA"),
        Some(&value),
        d.expires_at,
        || [9; 16],
    )
    .0;
    assert_eq!(later.ui(), Ui::Banner, "an expired decision asks again");

    // Notice version bumped.
    let bumped_text = DEMO.replace("2026-11-01", "2026-12-01");
    let bumped = Config::parse(&bumped_text).unwrap();
    let (s3, _) = Session::start(
        bumped,
        config_fingerprint(&bumped_text),
        &Visitor::in_region("US-CA"),
        Some(&value),
        NOW,
        || [9; 16],
    );
    assert_eq!(s3.ui(), Ui::Banner, "a new notice version asks again");
    assert_eq!(
        granted(&s3),
        ["analytics", "marketing", "necessary", "preferences"],
        "opt-out defaults stand meanwhile"
    );

    // Opt-out acknowledgment carried into an opt-in region is no consent there.
    let (s4, _) = start(Some("DE"), Some(&value));
    assert_eq!(s4.ui(), Ui::Banner);
    assert_eq!(granted(&s4), ["necessary"]);
}

#[test]
fn changed_config_or_region_refreshes_the_stored_form_without_asking() {
    let (mut s, _) = start(Some("DE"), None);
    let value = stored_value(&s.handle(Event::AcceptAll(Source::Ui), NOW, rng).unwrap());
    let edited = DEMO.replace("Demo Shop Ltd", "Demo Shop GmbH");
    let config = Config::parse(&edited).unwrap();
    let (s2, effects) =
        Session::start(config, config_fingerprint(&edited), &Visitor::in_region("AT"), Some(&value), NOW + 10, || {
            [9; 16]
        });
    assert_eq!(s2.ui(), Ui::Hidden);
    let refreshed = Decision::decode(&stored_value(&effects)).unwrap();
    assert_eq!(refreshed.config_fingerprint, config_fingerprint(&edited));
    assert_eq!(refreshed.region.as_deref(), Some("AT"));
    assert_eq!(refreshed.decided_at, NOW, "the decision itself is unchanged");
}

#[test]
fn withdrawal_and_api_calls() {
    let (mut s, _) = start(Some("DE"), None);
    s.handle(Event::AcceptAll(Source::Api), NOW, rng).unwrap();
    assert_eq!(s.decision().unwrap().method, Method::Api);
    s.handle(Event::Withdraw(Some("analytics".into())), NOW, rng).unwrap();
    assert!(!s.allowed("analytics"));
    assert!(s.allowed("marketing"));
    assert_eq!(s.decision().unwrap().method, Method::Withdrawal);
    s.handle(Event::Withdraw(None), NOW, rng).unwrap();
    assert_eq!(granted(&s), ["necessary"]);

    let err = s.handle(Event::Withdraw(Some("analytcs".into())), NOW, rng).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown purpose `analytcs` in withdraw(); this site's purposes are: necessary, preferences, analytics, replay, marketing, ai_training"
    );
    let refuse_necessary = vec![("necessary".to_string(), false)];
    assert_eq!(s.handle(Event::Save(refuse_necessary, Source::Api), NOW, rng), Err(UsageError::NecessaryRefused));
}

#[test]
fn closing_is_never_a_decision() {
    let (mut s, _) = start(Some("DE"), None);
    s.handle(Event::OpenPreferences, NOW, rng).unwrap();
    let effects = s.handle(Event::Close, NOW, rng).unwrap();
    // Without a decision the first layer comes back: the visitor has not answered. Closing the dialog
    // used to leave an opt-in visitor with no banner and no way back on that page.
    assert_eq!(effects, vec![Effect::Render(Ui::Banner)]);
    assert!(s.decision().is_none());
    assert_eq!(granted(&s), ["necessary"]);
    // Escape on the first layer itself closes it (nothing recorded, nothing runs); preferences opened
    // afterwards, from the page, close to nothing.
    assert_eq!(s.handle(Event::Close, NOW, rng).unwrap(), vec![Effect::Render(Ui::Hidden)]);
    s.handle(Event::OpenPreferences, NOW, rng).unwrap();
    assert_eq!(s.handle(Event::Close, NOW, rng).unwrap(), vec![Effect::Render(Ui::Hidden)]);
    s.handle(Event::RejectAll(Source::Ui), NOW, rng).unwrap();
    s.handle(Event::OpenPreferences, NOW, rng).unwrap();
    assert_eq!(
        s.handle(Event::Close, NOW, rng).unwrap(),
        vec![Effect::Render(Ui::Hidden)],
        "with a decision, nothing stays"
    );
}

#[test]
fn gated_elements_are_decided_by_category() {
    let (mut s, _) = start(Some("DE"), None);
    assert_eq!(s.decide_element("necessary", None, NOW), Ok(true));
    assert_eq!(s.decide_element("analytics", None, NOW), Ok(false));
    s.handle(Event::Save(vec![("analytics".into(), true)], Source::Ui), NOW, rng).unwrap();
    assert_eq!(s.decide_element("analytics", None, NOW), Ok(true));
    assert_eq!(s.decide_element("replay", None, NOW), Ok(false));
    let err = s.decide_element("analytcs", None, NOW).unwrap_err().to_string();
    assert!(err.contains("unknown purpose `analytcs` in data-category=\"analytcs\""), "{err}");
}

#[test]
fn stored_form_round_trips_and_rejects_garbage() {
    let (mut s, _) = start(Some("US-CA"), None);
    let value = stored_value(&s.handle(Event::RejectAll(Source::Ui), NOW, rng).unwrap());
    expect_test::expect!["3|07070707070707070707070707070707|2026-11-01|1790000000|1823696000|necessary|ai_training.analytics.marketing.preferences.replay|FP|reject_all|US-CA|optOut|r07070707070707070707070707070707|1|page|0|1|ddddddg"]
        .assert_eq(&value.replace(&format!("{:08x}", config_fingerprint(DEMO)), "FP"));
    assert_eq!(Decision::decode(&value).unwrap().encode(), value);
    // A do-not-train flag that disagrees with the granted purposes means the cookie was edited.
    let flipped = value.replace("|1|page|0|", "|0|page|0|");
    let bad_consent_mode = format!("{}x", &value[..value.len() - 1]);
    let old_version = value.replacen("3|", "1|", 1);
    let bad_source = value.replace("|page|", "|tz:../x|");
    for garbage in [
        "",
        "2|x",
        "1|short|v|1|2|||00000000|api||optIn",
        &value.replace("reject_all", "maybe"),
        &flipped,
        &old_version,
        &bad_source,
        &bad_consent_mode,
    ] {
        assert_eq!(Decision::decode(garbage), None, "{garbage:?}");
    }
}

#[test]
fn refusing_a_purpose_cleans_up_its_trackers_and_reloads_only_after_a_withdrawal_when_configured() {
    // The purposes of the services a cleanup names.
    let cleanup = |s: &Session, effects: &[Effect]| {
        effects.iter().find_map(|e| match e {
            Effect::Cleanup { services, reload } => {
                let mut purposes: Vec<String> = services
                    .iter()
                    .map(|n| {
                        s.trackers().services().iter().find(|t| &t.name == n).expect("a known service").purpose.clone()
                    })
                    .collect();
                purposes.sort();
                purposes.dedup();
                Some((purposes, *reload))
            }
            _ => None,
        })
    };
    // A first "Reject all": nothing was allowed, so nothing to reload; the trackers' leftovers
    // (set before Assent was installed, say) are removed all the same. ai_training has no tracker.
    let (mut s, _) = start(Some("DE"), None);
    let effects = s.handle(Event::RejectAll(Source::Ui), NOW, rng).unwrap();
    assert_eq!(
        cleanup(&s, &effects),
        Some((vec!["analytics".into(), "marketing".into(), "preferences".into(), "replay".into()], false))
    );
    // Accept all refuses nothing that has trackers: no cleanup.
    let effects = s.handle(Event::AcceptAll(Source::Ui), NOW, rng).unwrap();
    assert_eq!(cleanup(&s, &effects), None);
    // With reloadOnWithdraw, withdrawing an allowed purpose reloads the page.
    let text = DEMO.replacen("\"regions\"", "\"blocking\": {\"reloadOnWithdraw\": true}, \"regions\"", 1);
    let visitor = Visitor { region: Some("DE".into()), ..Visitor::default() };
    let (mut s, _) = Session::start(Config::parse(&text).unwrap(), config_fingerprint(&text), &visitor, None, NOW, rng);
    s.handle(Event::AcceptAll(Source::Ui), NOW, rng).unwrap();
    let effects = s.handle(Event::Withdraw(Some("analytics".into())), NOW + 60, rng).unwrap();
    assert_eq!(cleanup(&s, &effects), Some((vec!["analytics".into()], true)));
}

/// Prose in one language while many are offered is reported to the site owner. Since the default
/// `languages` is every shipped language, a purpose described in one string would otherwise show
/// untranslated to most visitors without a word.
#[test]
fn prose_in_one_language_while_many_are_offered_is_reported() {
    let text = DEMO.replacen(r#"{ "id": "replay","#, r#"{ "id": "replay", "description": "Records your clicks.","#, 1);
    let (_, effects) = Session::start(
        Config::parse(&text).unwrap(),
        config_fingerprint(&text),
        &Visitor::in_region("DE"),
        None,
        NOW,
        rng,
    );
    let warning = effects.iter().find_map(|e| match e {
        Effect::Warn(w) if w.contains("untranslated") => Some(w.clone()),
        _ => None,
    });
    assert!(
        warning.as_deref().is_some_and(|w| w.contains("purposes[replay]")
            && w.contains(&format!("{} languages", assent_core::locale::shipped().len()))),
        "{warning:?}"
    );
    let (_, effects) = start(Some("DE"), None);
    assert!(
        !effects.iter().any(|e| matches!(e, Effect::Warn(w) if w.contains("untranslated"))),
        "the demo config gives none"
    );
}

/// A tab takes in a decision another tab stored since: `adopt_stored` takes in the newer decision; its own,
/// an older or an expired one changes nothing. A tab used to read the shared cookie once, so a withdrawal
/// made in another tab did not hold in it, and its next choice granted the withdrawn purpose again.
#[test]
fn a_decision_another_tab_stored_since_is_adopted() {
    let (mut a, _) = start(Some("FR"), None);
    let first = stored_value(&a.handle(Event::AcceptAll(Source::Ui), NOW, rng).unwrap());
    let (mut b, _) = start(Some("FR"), Some(&first));
    assert!(b.adopt_stored(&first, NOW + 5).is_empty(), "its own decision: nothing to do");
    let withdrawn = stored_value(&a.handle(Event::Withdraw(Some("analytics".into())), NOW + 10, || [9; 16]).unwrap());
    let effects = b.adopt_stored(&withdrawn, NOW + 20);
    assert!(effects.contains(&Effect::ApplyGates) && effects.contains(&Effect::Changed), "{effects:?}");
    assert!(!b.allowed("analytics"), "the withdrawal holds in the other tab");
    // Its next choice starts from the adopted decision: analytics stays withdrawn.
    let next = Decision::decode(&stored_value(
        &b.handle(Event::Withdraw(Some("marketing".into())), NOW + 30, || [3; 16]).unwrap(),
    ))
    .unwrap();
    assert!(
        !next.granted.contains(&"analytics".to_string()) && !next.granted.contains(&"marketing".to_string()),
        "{next:?}"
    );
    // An older decision (a tab that wrote late) and an expired one are not taken in.
    let (mut c, _) = start(Some("FR"), Some(&withdrawn));
    assert!(c.adopt_stored(&first, NOW + 40).is_empty(), "older");
    assert!(c.adopt_stored("not a decision", NOW + 40).is_empty());
    let (mut d, _) = start(Some("FR"), Some(&first));
    assert!(d.adopt_stored(&withdrawn, NOW + 400 * DAY).is_empty(), "expired");
    assert!(d.allowed("analytics"));
}
