//! "Always allow <service>" (issue 6): one service allowed although its purpose is refused, stored,
//! receipted, ended with the purpose, excluded from cleanup, and the same answer in the collector's
//! gate.

use crate::common::{counter, scoped_receipts, DAY, DEMO, NOW};
use assent_core::config::Blocking;
use assent_core::hash::config_fingerprint;
use assent_core::receipt::{gate, service_text, Claims, Evidence};
use assent_core::scoped::{decode_all, is_service_name, merge, Kind, Scope, ScopedChoice};
use assent_core::trackers::Trackers;
use assent_core::{Config, Effect, Event, Method, Record, Session, Source, UsageError, Visitor};

fn start() -> Session {
    Session::start(
        Config::parse(DEMO).unwrap(),
        config_fingerprint(DEMO),
        &Visitor::in_region("DE"),
        None,
        NOW,
        counter(),
    )
    .0
}

fn allow(s: &mut Session, service: &str, on: bool, at: u64) -> Vec<Effect> {
    s.handle(Event::AllowService { service: service.into(), on }, at, counter()).unwrap()
}

fn cleaned(effects: &[Effect]) -> Option<Vec<String>> {
    effects.iter().find_map(|e| match e {
        Effect::Cleanup { services, .. } => Some(services.clone()),
        _ => None,
    })
}

#[test]
fn always_allowing_a_service_lets_that_service_alone_run_while_its_purpose_stays_refused() {
    let mut s = start();
    s.handle(Event::RejectAll(Source::Ui), NOW, counter()).unwrap();
    assert_eq!(s.decide_element("marketing", Some("YouTube"), NOW), Ok(false));

    // The name is matched without regard to case, and recorded as the database spells it.
    let effects = allow(&mut s, "youtube", true, NOW + 10);
    let choice = &scoped_receipts(&effects)[0];
    assert_eq!(choice.scope, Scope::Service("YouTube".into()));
    assert_eq!((choice.purpose.as_str(), choice.on, choice.method), ("marketing", true, Method::Placeholder));
    assert_eq!(choice.expires_at, NOW + 10 + 390 * DAY, "as long as a site-wide grant");
    assert!(effects.contains(&Effect::ApplyGates), "its held embeds are decided again at once");
    assert!(effects.contains(&Effect::StoreScoped(choice.clone())));

    assert_eq!(s.decide_element("marketing", Some("YouTube"), NOW + 10), Ok(true));
    assert_eq!(
        s.decide_element("marketing", Some("Meta Pixel"), NOW + 10),
        Ok(false),
        "other marketing services stay blocked"
    );
    assert_eq!(s.decide_element("marketing", None, NOW + 10), Ok(false), "the purpose itself stays refused");
    assert!(!s.allowed("marketing"));
    assert_eq!(
        s.decide_element("analytics", Some("YouTube"), NOW + 10),
        Ok(false),
        "the grant is for YouTube under marketing only"
    );
    assert_eq!(s.allowed_services(NOW + 10).len(), 1);

    // It survives a reload from the stored line, and expires back to the purpose's answer.
    let stored = merge("", choice);
    assert_eq!(
        stored,
        format!(
            "3|YouTube|marketing|1|{}|{}|{}|{}|2026-11-01|placeholder",
            choice.subject,
            choice.receipt,
            NOW + 10,
            NOW + 10 + 390 * DAY
        )
    );
    let mut again = start();
    again.restore_scoped(Kind::Service, &stored);
    assert!(again.allowed_for_service("marketing", "YouTube", NOW + 20));
    assert!(!again.allowed_for_service("marketing", "YouTube", NOW + 10 + 390 * DAY));
    assert_eq!(again.scoped()[0].subject, choice.subject, "a visitor without a site-wide decision keeps the subject");
    assert!(decode_all(&stored, Kind::Conversation).is_empty(), "the kinds never mix");
}

#[test]
fn an_unknown_service_is_an_error_and_changes_nothing() {
    let mut s = start();
    let err = s.handle(Event::AllowService { service: "Nope".into(), on: true }, NOW, counter()).unwrap_err();
    assert_eq!(err, UsageError::UnknownService("Nope".into()));
    assert!(err.to_string().contains("not a service of the tracker database"), "{err}");
    assert!(s.scoped().is_empty());
    for bad in ["", " YouTube", "a|b", "a;b", "a,b", "a\nb", &"x".repeat(65)] {
        assert!(!is_service_name(bad), "{bad:?}");
    }
    let t = Trackers::new(&Blocking::default());
    for service in t.services() {
        assert!(is_service_name(&service.name), "{} cannot be stored or scoped", service.name);
    }
}

#[test]
fn refusing_everything_or_withdrawing_the_purpose_ends_the_grant_but_other_choices_do_not() {
    // Reject all: ended, with a withdrawal receipt, and its cookies cleaned with the rest.
    let mut s = start();
    s.handle(Event::RejectAll(Source::Ui), NOW, counter()).unwrap();
    allow(&mut s, "YouTube", true, NOW + 10);
    let effects = s.handle(Event::RejectAll(Source::Ui), NOW + 20, counter()).unwrap();
    let ended = scoped_receipts(&effects);
    assert_eq!(ended.len(), 1);
    assert_eq!((ended[0].on, ended[0].method), (false, Method::Withdrawal));
    assert!(!s.allowed_for_service("marketing", "YouTube", NOW + 20));
    assert!(cleaned(&effects).unwrap().contains(&"YouTube".to_string()));

    // Withdrawing marketing ends it; withdrawing analytics, or saving choices, does not.
    let mut s = start();
    s.handle(Event::RejectAll(Source::Ui), NOW, counter()).unwrap();
    allow(&mut s, "YouTube", true, NOW + 10);
    let effects = s.handle(Event::Withdraw(Some("analytics".into())), NOW + 20, counter()).unwrap();
    assert!(scoped_receipts(&effects).is_empty());
    let effects = s
        .handle(
            Event::Save(vec![("marketing".into(), false), ("analytics".into(), true)], Source::Ui),
            NOW + 30,
            counter(),
        )
        .unwrap();
    assert!(scoped_receipts(&effects).is_empty(), "the preferences list the service on its own");
    assert!(s.allowed_for_service("marketing", "YouTube", NOW + 30));
    let services = cleaned(&effects).unwrap();
    assert!(
        services.contains(&"Meta Pixel".to_string()) && !services.contains(&"YouTube".to_string()),
        "an allowed service keeps its cookies"
    );
    let effects = s.handle(Event::Withdraw(Some("marketing".into())), NOW + 40, counter()).unwrap();
    assert_eq!(scoped_receipts(&effects).len(), 1);
    assert!(!s.allowed_for_service("marketing", "YouTube", NOW + 40));
}

#[test]
fn ending_a_grant_in_the_preferences_cleans_up_that_service() {
    let mut s = start();
    s.handle(Event::RejectAll(Source::Ui), NOW, counter()).unwrap();
    allow(&mut s, "YouTube", true, NOW + 10);
    let effects = allow(&mut s, "YouTube", false, NOW + 20);
    assert_eq!(scoped_receipts(&effects)[0].method, Method::PreferencesSaved, "ended in the preferences' list");
    assert!(cleaned(&effects).unwrap().contains(&"YouTube".to_string()));
    assert_eq!(s.decide_element("marketing", Some("YouTube"), NOW + 20), Ok(false));
    assert!(s.allowed_services(NOW + 20).is_empty());
}

#[test]
fn a_cookie_that_an_allowed_service_shares_is_kept() {
    // Two services of different purposes that both set `shared_id`.
    let text = DEMO.replacen(
        "\"regions\"",
        r#""blocking": {"services": [
            {"name": "Ads One", "purpose": "marketing", "match": ["ads.example"], "cookies": ["shared_id", "ads_*"]},
            {"name": "Stats One", "purpose": "analytics", "match": ["stats.example"], "cookies": ["shared_id"]}
        ]}, "regions""#,
        1,
    );
    let config = Config::parse(&text).unwrap();
    let t = Trackers::new(&config.blocking);
    let names = ["shared_id", "ads_x"];
    let only_ads = t.cleanup(&["Ads One".into()], &names, &[], "localhost", "/");
    let gone: Vec<&str> = only_ads.cookies.iter().map(|c| c.split('=').next().unwrap()).collect();
    assert_eq!(gone, ["ads_x", "ads_x"], "Stats One may run, so its cookie stays");
    let both = t.cleanup(&["Ads One".into(), "Stats One".into()], &names, &[], "localhost", "/");
    assert_eq!(both.cookies.len(), 4);
}

#[test]
fn service_receipts_carry_the_scope_and_the_copy_that_asked_and_the_gate_only_widens() {
    let config = Config::parse(DEMO).unwrap();
    let mut s = start();
    s.handle(Event::RejectAll(Source::Ui), NOW, counter()).unwrap();
    let refusal =
        Claims::for_decision(s.decision().unwrap(), &config, "o".into(), "en".into(), "a".repeat(64), false, None);
    let flow = s.flow();
    let claims_of = |c: &ScopedChoice| {
        Claims::for_scoped(c, &config, Some("DE".into()), flow, "o".into(), "en".into(), "b".repeat(64), false, None)
    };
    let on = claims_of(&scoped_receipts(&allow(&mut s, "YouTube", true, NOW + 100))[0]);
    let off = claims_of(&scoped_receipts(&allow(&mut s, "YouTube", false, NOW + 200))[0]);
    assert_eq!(on.scope.as_deref(), Some("service:YouTube"));
    assert_eq!(on.method, Method::Placeholder);
    assert_eq!(on.purposes.iter().map(|p| (p.id.as_str(), p.granted)).collect::<Vec<_>>(), [("marketing", true)]);
    let json = on.to_canonical_json();
    assert_eq!(Claims::from_canonical_json(&json).unwrap(), on, "the scope survives the collector's parse");
    for bad in ["service:", "service:a|b", "site", "service: YouTube"] {
        let broken = json.replace("\"service:YouTube\"", &format!("{bad:?}"));
        let err = Claims::from_canonical_json(&broken).unwrap_err().to_string();
        assert!(err.contains("scope") && err.contains("service:<name>"), "{bad}: {err}");
    }

    s.handle(Event::AcceptAll(Source::Ui), NOW + 300, counter()).unwrap();
    let accept =
        Claims::for_decision(s.decision().unwrap(), &config, "o".into(), "en".into(), "a".repeat(64), false, None);
    let all = [refusal, on.clone(), off.clone(), accept.clone()];
    let scope = Some("service:YouTube");
    // (time, granted, deciding receipt)
    for (at, granted, receipt) in
        [(NOW + 50, false, &all[0]), (NOW + 150, true, &on), (NOW + 250, false, &all[0]), (NOW + 350, true, &accept)]
    {
        let answer = gate(&one_key(&all), "marketing", at, scope);
        assert_eq!(
            (answer.granted, answer.receipt.as_deref()),
            (granted, Some(receipt.id.as_str())),
            "at +{}",
            at - NOW
        );
    }
    // The ended grant does not refuse what the site-wide decision later grants: it only widened.
    assert_eq!(gate(&one_key(&all), "marketing", NOW + 350, scope).decided_in, None);

    let text = service_text(&config, true, "YouTube", |k| format!("<{k} {{service}}>"));
    assert_eq!(
        text,
        "placeholder.message=<placeholder.message YouTube>\nplaceholder.always=<placeholder.always YouTube>"
    );
    let text = service_text(&config, false, "YouTube", |k| format!("<{k}>"));
    assert_eq!(text, "prefs.allowedTitle=<prefs.allowedTitle>\nprefs.allowedNote=<prefs.allowedNote>");
}

/// A new notice version ends every scoped choice made under the old one. A grant made under an earlier
/// version used to keep loading the service after the version changed (the banner asked again, but
/// YouTube ran).
#[test]
fn a_new_notice_version_ends_every_scoped_choice_made_under_the_old_one() {
    let mut s = start();
    s.handle(Event::RejectAll(Source::Ui), NOW, counter()).unwrap();
    let stored = merge("", &scoped_receipts(&allow(&mut s, "YouTube", true, NOW + 10))[0]);
    let bumped = DEMO.replace("2026-11-01", "2026-12-01");
    let mut later = Session::start(
        Config::parse(&bumped).unwrap(),
        config_fingerprint(&bumped),
        &Visitor::in_region("DE"),
        None,
        NOW + 20,
        counter(),
    )
    .0;
    later.restore_scoped(Kind::Service, &stored);
    assert!(!later.allowed_for_service("marketing", "YouTube", NOW + 20), "asked again under the new notice");
    assert!(later.allowed_services(NOW + 20).is_empty());
    // A version-1 line (before versions were stored) still counts.
    let v1 = stored.replacen("3|", "1|", 1).rsplitn(3, '|').nth(2).unwrap().to_string();
    later.restore_scoped(Kind::Service, &v1);
    assert!(later.allowed_for_service("marketing", "YouTube", NOW + 20));
}

/// With reloadOnWithdraw, the receipts of the grants "Reject all" ends are queued before the cleanup
/// reloads the page; it used to reload first.
#[test]
fn ended_grants_are_recorded_before_a_cleanup_that_reloads() {
    let text = DEMO.replacen("\"regions\"", "\"blocking\": {\"reloadOnWithdraw\": true}, \"regions\"", 1);
    let mut s = Session::start(
        Config::parse(&text).unwrap(),
        config_fingerprint(&text),
        &Visitor::in_region("DE"),
        None,
        NOW,
        counter(),
    )
    .0;
    s.handle(Event::AcceptAll(Source::Ui), NOW, counter()).unwrap();
    s.handle(Event::AiToggle { conversation: "c-1".into(), on: true }, NOW, counter()).unwrap();
    s.handle(Event::Withdraw(Some("marketing".into())), NOW + 5, counter()).unwrap();
    allow(&mut s, "YouTube", true, NOW + 10);
    let effects = s.handle(Event::RejectAll(Source::Ui), NOW + 20, counter()).unwrap();
    let cleanup = effects.iter().position(|e| matches!(e, Effect::Cleanup { reload: true, .. })).expect("a reload");
    let scoped: Vec<usize> = effects
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e, Effect::Receipt(Record::Scoped(_))))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(scoped.len(), 2, "YouTube's grant and the conversation's");
    assert!(scoped.iter().all(|i| *i < cleanup), "{effects:?}");
    assert!(scoped_receipts(&effects).iter().all(|c| c.method == Method::Withdrawal));
}

/// The receipts as one browser key signed them, in this order of arrival.
fn one_key(all: &[Claims]) -> Vec<Evidence<'_>> {
    all.iter().map(|claims| Evidence { claims, key: "browser-key", received_at: None }).collect()
}
