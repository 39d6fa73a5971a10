//! Per-conversation AI-training choices (issue 4): scope, override, stored form, legitimate interest,
//! receipts and the scoped gate.

use crate::common::{counter, scoped_receipts, DAY, DEMO, NOW};
use assent_core::hash::config_fingerprint;
use assent_core::receipt::{gate, toggle_text, Claims, Evidence};
use assent_core::scoped::{decode_all, encode_all, unmade, Kind, Scope, ScopedChoice, MAX_STORED};
use assent_core::{Basis, Config, Effect, Event, Method, Session, Source, UsageError, Visitor};

fn start_with(text: &str, region: &str) -> Session {
    Session::start(
        Config::parse(text).unwrap(),
        config_fingerprint(text),
        &Visitor::in_region(region),
        None,
        NOW,
        || [9; 16],
    )
    .0
}

fn toggle(s: &mut Session, conversation: &str, on: bool, at: u64) -> Vec<Effect> {
    s.handle(Event::AiToggle { conversation: conversation.into(), on }, at, counter()).unwrap()
}

fn recorded(effects: &[Effect]) -> ScopedChoice {
    scoped_receipts(effects).into_iter().next().expect("a conversation receipt")
}

/// The claims of a conversation receipt made in Germany (origin, locale and hash do not matter here).
fn scoped_claims(choice: &ScopedChoice, config: &Config, s: &Session) -> Claims {
    Claims::for_scoped(
        choice,
        config,
        Some("DE".into()),
        s.flow(),
        "o".into(),
        "en".into(),
        "a".repeat(64),
        false,
        None,
    )
}

/// A config that rests `ai_training` on legitimate interest in the US only.
fn legitimate_interest_config() -> String {
    DEMO.replace(r#"{ "id": "ai_training","#, r#"{ "id": "ai_training", "legitimateInterest": ["US"],"#)
}

#[test]
fn a_conversation_choice_overrides_the_site_wide_one_for_that_conversation_only() {
    let mut s = start_with(DEMO, "DE");
    s.handle(Event::AcceptAll(Source::Ui), NOW, counter()).unwrap();
    assert!(!s.allowed_in("ai_training", Some("A"), NOW), "Accept all leaves AI training off in every conversation");
    assert!(s.do_not_train(Some("A"), true, NOW));

    let effects = toggle(&mut s, "A", true, NOW + 10);
    let choice = recorded(&effects);
    assert_eq!((choice.on, choice.expires_at), (true, NOW + 10 + 390 * DAY));
    assert_eq!(effects[1], Effect::ScopedChanged(Scope::Conversation("A".into())));
    assert!(s.allowed_in("ai_training", Some("A"), NOW + 10));
    assert!(!s.do_not_train(Some("A"), false, NOW + 10), "the flag flips at once");
    assert!(s.do_not_train(Some("B"), true, NOW + 10), "conversation B is unaffected");
    assert!(s.do_not_train(None, true, NOW + 10), "the site-wide choice is unaffected");
    assert!(!s.allowed("ai_training"));

    // Off again within the same conversation: one click, one more receipt.
    let off = recorded(&toggle(&mut s, "A", false, NOW + 20));
    assert_ne!(off.receipt, choice.receipt);
    assert_eq!(off.subject, choice.subject, "one subject across scopes");
    assert!(s.do_not_train(Some("A"), true, NOW + 20));

    // A conversation refusal also wins over a site-wide grant.
    s.handle(Event::Save(vec![("ai_training".into(), true)], Source::Ui), NOW + 30, counter()).unwrap();
    assert!(!s.allowed_in("ai_training", Some("A"), NOW + 30));
    assert!(s.allowed_in("ai_training", Some("B"), NOW + 30), "B follows the site-wide grant");
}

#[test]
fn conversation_choices_survive_a_reload_and_expire_back_to_the_site_wide_choice() {
    let mut s = start_with(DEMO, "DE");
    let stored = effects_store(&toggle(&mut s, "c-123", true, NOW));
    let mut again = start_with(DEMO, "DE");
    again.restore_scoped(Kind::Conversation, &stored);
    assert!(again.allowed_in("ai_training", Some("c-123"), NOW + DAY));
    assert!(
        !again.allowed_in("ai_training", Some("c-123"), NOW + 391 * DAY),
        "expired: the site-wide choice (none) applies"
    );
    // The subject id chosen for the toggle is kept when the banner is answered later.
    let subject = again.conversation_choice("c-123", NOW).unwrap().subject.clone();
    again.handle(Event::RejectAll(Source::Ui), NOW + 5, counter()).unwrap();
    assert_eq!(again.decision().unwrap().subject, subject);
}

fn effects_store(effects: &[Effect]) -> String {
    effects
        .iter()
        .find_map(|e| match e {
            Effect::StoreScoped(c) => Some(assent_core::scoped::merge("", c)),
            _ => None,
        })
        .expect("a StoreConversation effect")
}

#[test]
fn stored_form_is_bounded_and_rejects_garbage() {
    let choice = |i: usize| ScopedChoice {
        scope: Scope::Conversation(format!("c-{i}")),
        purpose: "ai_training".into(),
        on: i.is_multiple_of(2),
        notice_version: (!i.is_multiple_of(3)).then(|| "2026-11-01".to_string()), // version-1 lines (none) still read
        subject: "ab".repeat(16),
        receipt: format!("r{}", "cd".repeat(16)),
        decided_at: NOW + i as u64,
        expires_at: NOW + DAY,
        method: Method::AiToggle,
    };
    let many: Vec<ScopedChoice> = (0..MAX_STORED + 5).map(choice).collect();
    let text = encode_all(&many, Kind::Conversation);
    let back = decode_all(&text, Kind::Conversation);
    assert_eq!(back.len(), MAX_STORED, "only the latest are kept");
    assert_eq!(back.first().unwrap().scope.key(), "c-5");
    assert_eq!(back.last(), many.last());
    let garbage = format!(
        "2|x\n1|bad id|ai_training|1|{s}|r{r}|1|2\n1|c|analytics|1|{s}|r{r}|1|2\n{}\n1|c|ai_training|maybe|x|y|1|2",
        choice(7).encode(),
        s = "ab".repeat(16),
        r = "cd".repeat(16)
    );
    assert_eq!(
        decode_all(&garbage, Kind::Conversation),
        vec![choice(7)],
        "malformed lines are skipped, valid ones kept"
    );
}

#[test]
fn bad_conversation_ids_are_refused_with_the_rule() {
    let mut s = start_with(DEMO, "DE");
    for bad in ["", "has space", "a|b", &"x".repeat(65)] {
        let err = s.handle(Event::AiToggle { conversation: bad.into(), on: true }, NOW, counter()).unwrap_err();
        assert!(matches!(err, UsageError::BadConversation(..)), "{bad:?}");
    }
    let err = s.handle(Event::AiToggle { conversation: "a b".into(), on: true }, NOW, counter()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "conversation `a b` on <assent-ai-toggle> must be 1 to 64 characters of A-Z, a-z, 0-9, `.`, `_`, `:` or `-`"
    );
    assert!(!s.allowed_in("ai_training", Some("a b"), NOW));
}

#[test]
fn legitimate_interest_starts_on_but_counts_only_once_the_objection_was_shown() {
    let text = legitimate_interest_config();
    // (region, basis, on by default)
    for (region, basis, on) in [("US-CA", Basis::LegitimateInterest, true), ("DE", Basis::Consent, false)] {
        let s = start_with(&text, region);
        assert_eq!(s.basis("ai_training"), basis, "{region}");
        assert_eq!(s.allowed_in("ai_training", Some("c"), NOW), on, "{region}");
        assert!(s.do_not_train(Some("c"), false, NOW), "{region}: nothing is used before the objection is shown");
        assert_eq!(s.do_not_train(Some("c"), true, NOW), !on, "{region}: once shown, the default counts");
    }
    // An unknown region never gets the legitimate-interest default.
    let unknown = Session::start(Config::parse(&text).unwrap(), 0, &Visitor::default(), None, NOW, || [9; 16]).0;
    assert_eq!(unknown.basis("ai_training"), Basis::Consent);

    // The objection is one click, and its receipt says which basis applied.
    let mut s = start_with(&text, "US-CA");
    let off = recorded(&toggle(&mut s, "c", false, NOW));
    assert!(s.do_not_train(Some("c"), true, NOW));
    let config = Config::parse(&text).unwrap();
    let claims = Claims::for_scoped(
        &off,
        &config,
        Some("US-CA".into()),
        s.flow(),
        "https://x.example".into(),
        "en".into(),
        "a".repeat(64),
        false,
        None,
    );
    let json = claims.to_canonical_json();
    assert!(json.contains(r#""purposes":{"ai_training":{"basis":"legitimateInterest","dataCategories":["chat transcripts"],"granted":false}}"#), "{json}");
    assert_eq!(Claims::from_canonical_json(&json).unwrap(), claims, "the basis survives the round trip");
}

#[test]
fn toggle_receipts_carry_scope_method_and_the_toggle_copy_hash_rule() {
    let config = Config::parse(DEMO).unwrap();
    let mut s = start_with(DEMO, "DE");
    let choice = recorded(&toggle(&mut s, "c-123", true, NOW));
    let claims = Claims::for_scoped(
        &choice,
        &config,
        Some("DE".into()),
        s.flow(),
        "https://x.example".into(),
        "en".into(),
        "b".repeat(64),
        true,
        Some("c".repeat(64)),
    );
    assert_eq!(claims.scope.as_deref(), Some("conversation:c-123"));
    assert_eq!(claims.method, Method::AiToggle);
    assert_eq!(claims.purposes.len(), 1, "a toggle receipt speaks for ai_training only");
    assert_eq!(claims.id, choice.receipt);
    let text = toggle_text(&config, Basis::Consent, |k| format!("<{k} by {{controller}}>"));
    expect_test::expect![[r#"
        toggle.label=<toggle.label by Demo Shop Ltd>
        toggle.description=<toggle.description by Demo Shop Ltd>
        toggle.learnMore=<toggle.learnMore by Demo Shop Ltd>"#]]
    .assert_eq(&text);
}

#[test]
fn the_scoped_gate_uses_the_conversation_choice_and_falls_back_to_the_site_wide_one() {
    let config = Config::parse(DEMO).unwrap();
    let mut s = start_with(DEMO, "DE");
    let claims_of = |choice: &ScopedChoice, s: &Session| scoped_claims(choice, &config, s);
    let on = claims_of(&recorded(&toggle(&mut s, "A", true, NOW + 100)), &s);
    let off = claims_of(&recorded(&toggle(&mut s, "A", false, NOW + 200)), &s);
    s.handle(Event::Save(vec![("ai_training".into(), true)], Source::Ui), NOW + 300, counter()).unwrap();
    let site =
        Claims::for_decision(s.decision().unwrap(), &config, "o".into(), "en".into(), "a".repeat(64), false, None);
    let all = [on.clone(), off.clone(), site.clone()];
    // (time, scope, granted, deciding receipt)
    let table = [
        (NOW + 50, Some("conversation:A"), false, None),
        (NOW + 150, Some("conversation:A"), true, Some(&on)),
        (NOW + 250, Some("conversation:A"), false, Some(&off)),
        (NOW + 350, Some("conversation:A"), false, Some(&off)), // A's own refusal wins over the site-wide grant
        (NOW + 350, Some("conversation:B"), true, Some(&site)), // B has no choice of its own
        (NOW + 150, None, false, None),
        (NOW + 350, None, true, Some(&site)),
    ];
    for (at, scope, granted, receipt) in table {
        let answer = gate(&one_key(&all), "ai_training", at, scope);
        assert_eq!(answer.granted, granted, "at +{} in {scope:?}: {answer:?}", at - NOW);
        assert_eq!(answer.receipt.as_ref(), receipt.map(|c| &c.id), "at +{} in {scope:?}", at - NOW);
        assert_eq!(answer.decided_in, receipt.and_then(|c| c.scope.clone()));
    }
}

/// Under legitimate interest, "Accept all" on the first layer (which never shows AI training) does not
/// make data trainable. AI training stays unanswered: nothing is stamped
/// trainable, the receipt does not claim it, until the visitor sees the choice.
#[test]
fn a_first_layer_answer_under_legitimate_interest_leaves_ai_training_unanswered() {
    let text = legitimate_interest_config();
    let config = Config::parse(&text).unwrap();
    let mut s = start_with(&text, "US-CA");
    s.handle(Event::AcceptAll(Source::Ui), NOW, counter()).unwrap();
    let d = s.decision().unwrap().clone();
    assert!(!d.granted.contains(&"ai_training".to_string()) && !d.denied.contains(&"ai_training".to_string()));
    assert!(d.do_not_train(), "the cookie's flag (what the loader stamps) says do-not-train");
    assert!(s.do_not_train(None, false, NOW), "nothing trainable site-wide");
    assert!(s.do_not_train(Some("c"), false, NOW));
    assert!(!s.do_not_train(Some("c"), true, NOW), "once the toggle shows the objection, the default counts");
    let claims = Claims::for_decision(&d, &config, "o".into(), "en".into(), "a".repeat(64), false, None);
    assert_eq!(claims.granted("ai_training"), None, "the receipt claims nothing about it");
    // Seen and kept in the dialog: now it is answered.
    s.handle(Event::Save(vec![("ai_training".into(), true)], Source::Ui), NOW + 1, counter()).unwrap();
    assert!(!s.do_not_train(None, false, NOW + 1));
}

/// Withdrawing AI training site-wide (or "Reject all") also ends every conversation's
/// own grant, each with a receipt, so withdrawing is as easy as granting in both scopes.
#[test]
fn a_site_wide_withdrawal_ends_conversation_grants_with_receipts() {
    for event in [Event::Withdraw(Some("ai_training".into())), Event::Withdraw(None), Event::RejectAll(Source::Ui)] {
        let mut s = start_with(DEMO, "DE");
        toggle(&mut s, "A", true, NOW);
        toggle(&mut s, "B", false, NOW);
        let effects = s.handle(event.clone(), NOW + 10, counter()).unwrap();
        let ended: Vec<(String, bool, Method)> =
            scoped_receipts(&effects).iter().map(|c| (c.scope.key().to_string(), c.on, c.method)).collect();
        assert_eq!(ended, [("A".to_string(), false, Method::Withdrawal)], "{event:?}: only A was on");
        assert!(s.do_not_train(Some("A"), true, NOW + 10), "{event:?}");
    }
    // Withdrawing another purpose leaves conversations alone.
    let mut s = start_with(DEMO, "DE");
    toggle(&mut s, "A", true, NOW);
    s.handle(Event::Withdraw(Some("analytics".into())), NOW + 10, counter()).unwrap();
    assert!(!s.do_not_train(Some("A"), false, NOW + 10));
}

/// An expired conversation refusal no longer decides in the gate (the browser falls
/// back to the site-wide choice then, and so must the collector and the CLI).
#[test]
fn an_expired_conversation_choice_falls_back_to_the_site_wide_one_in_the_gate() {
    let config = Config::parse(DEMO).unwrap();
    let mut s = start_with(DEMO, "DE");
    s.handle(Event::Save(vec![("ai_training".into(), true)], Source::Ui), NOW, counter()).unwrap();
    let site =
        Claims::for_decision(s.decision().unwrap(), &config, "o".into(), "en".into(), "a".repeat(64), false, None);
    let off = recorded(&toggle(&mut s, "A", false, NOW + 10));
    let off = scoped_claims(&off, &config, &s);
    let all = [site.clone(), off.clone()];
    assert!(
        !gate(&one_key(&all), "ai_training", NOW + 20, Some("conversation:A")).granted,
        "the refusal decides while it lasts"
    );
    let later = off.expires_at + 1;
    let answer = gate(&one_key(&all), "ai_training", later, Some("conversation:A"));
    assert_eq!((answer.granted, answer.decided_in), (true, None), "then the site-wide grant, as in the browser");
}

/// Two tabs do not overwrite each other's conversation choices. Each write merges
/// one choice into what is stored now.
#[test]
fn storing_a_choice_keeps_what_another_tab_stored() {
    let mut tab_a = start_with(DEMO, "DE");
    let mut tab_b = start_with(DEMO, "DE");
    let a = recorded(&toggle(&mut tab_a, "X", false, NOW));
    let stored = assent_core::scoped::merge("", &a);
    let b = recorded(&toggle(&mut tab_b, "Y", true, NOW + 1));
    let stored = assent_core::scoped::merge(&stored, &b);
    let back = decode_all(&stored, Kind::Conversation);
    assert_eq!(back.iter().map(|c| (c.scope.key(), c.on)).collect::<Vec<_>>(), [("X", false), ("Y", true)]);
}

/// The receipts as one browser key signed them, in this order of arrival.
fn one_key(all: &[Claims]) -> Vec<Evidence<'_>> {
    all.iter().map(|claims| Evidence { claims, key: "browser-key", received_at: None }).collect()
}

/// A conversation's grant made under an earlier notice version no longer counts in the browser once the
/// notice changes, nor in the gate after a site-wide receipt under the new version: "Reject all" under
/// the new notice used to leave it granted there.
#[test]
fn a_new_notice_version_ends_conversation_grants_in_the_gate() {
    let v1 = Config::parse(DEMO).unwrap();
    let text = DEMO.replace(r#""version": "2026-11-01""#, r#""version": "2026-12-01""#);
    let v2 = Config::parse(&text).unwrap();
    let mut s = start_with(DEMO, "DE");
    let on = recorded(&toggle(&mut s, "A", true, NOW));
    let on = scoped_claims(&on, &v1, &s);
    let mut s2 = start_with(&text, "DE");
    s2.handle(Event::RejectAll(Source::Ui), NOW + 10, counter()).unwrap();
    let rejected =
        Claims::for_decision(s2.decision().unwrap(), &v2, "o".into(), "en".into(), "a".repeat(64), false, None);
    let all = [on.clone(), rejected.clone()];
    let answer = gate(&one_key(&all), "ai_training", NOW + 20, Some("conversation:A"));
    assert_eq!((answer.granted, answer.receipt.as_ref()), (false, Some(&rejected.id)), "{answer:?}");
    assert!(
        gate(&one_key(&all), "ai_training", NOW + 5, Some("conversation:A")).granted,
        "before it, the grant counted"
    );
    // Under the same notice version, the conversation's own grant still overrides a site-wide refusal.
    let mut s3 = start_with(DEMO, "DE");
    s3.handle(Event::Save(vec![("ai_training".into(), false)], Source::Ui), NOW + 10, counter()).unwrap();
    let refused =
        Claims::for_decision(s3.decision().unwrap(), &v1, "o".into(), "en".into(), "a".repeat(64), false, None);
    let all = [on.clone(), refused];
    assert!(gate(&one_key(&all), "ai_training", NOW + 20, Some("conversation:A")).granted);
}

/// A browser keeps MAX_STORED conversation choices; the grant it forgets to make room
/// ends with a withdrawal receipt, so the gate stops honouring it when the browser does (and a later
/// "Reject all", which ends only the grants the browser still holds, leaves none behind).
#[test]
fn a_grant_the_browser_forgets_ends_with_a_receipt() {
    let config = Config::parse(DEMO).unwrap();
    let mut s = start_with(DEMO, "DE");
    let claims_of = |c: &ScopedChoice, s: &Session| scoped_claims(c, &config, s);
    let mut all = Vec::new();
    for n in 0..MAX_STORED {
        let effects = toggle(&mut s, &format!("c{n}"), n % 2 == 0, NOW + n as u64);
        assert_eq!(effects.iter().filter(|e| matches!(e, Effect::Receipt(_))).count(), 1, "nothing forgotten yet");
        all.push(claims_of(&recorded(&effects), &s));
    }
    let at = NOW + 1_000;
    let effects = toggle(&mut s, "new", true, at);
    let scoped = scoped_receipts(&effects);
    assert_eq!(
        scoped.iter().map(|c| (c.scope.key(), c.on, c.method)).collect::<Vec<_>>(),
        [("c0", false, Method::Withdrawal), ("new", true, Method::AiToggle)],
        "c0 (a grant) is forgotten and ended, before the new choice's receipt (the newest stored line's is made last)"
    );
    assert!(s.do_not_train(Some("c0"), false, at), "the browser no longer honours it");
    all.extend(scoped.iter().map(|c| claims_of(c, &s)));
    assert!(gate(&one_key(&all), "ai_training", at - 1, Some("conversation:c0")).granted);
    assert!(!gate(&one_key(&all), "ai_training", at + 1, Some("conversation:c0")).granted, "nor does the gate");
    // A forgotten refusal needs no receipt.
    let effects = toggle(&mut s, "newer", true, at + 1);
    assert_eq!(effects.iter().filter(|e| matches!(e, Effect::Receipt(_))).count(), 1, "c1 was a refusal");
}

/// A scoped choice whose receipt was not made before the page went away is re-made from its stored line
/// on the next page view with its own method and the notice version it was made under (version-3 lines
/// keep the method). The line used to name no method: a withdrawal came back as `ai_toggle` (with the
/// toggle copy's hash), a "Stop allowing" as `placeholder`.
#[test]
fn a_stored_choice_keeps_its_method_and_notice_version() {
    let mut s = start_with(DEMO, "DE");
    toggle(&mut s, "A", true, NOW);
    let effects = s.handle(Event::RejectAll(Source::Ui), NOW + 10, counter()).unwrap();
    let ended = recorded(&effects);
    assert_eq!(ended.method, Method::Withdrawal);
    let line = ended.encode();
    assert!(line.starts_with("3|A|ai_training|0|") && line.ends_with("|2026-11-01|withdrawal"), "{line}");
    assert_eq!(ScopedChoice::decode(&line, Kind::Conversation), Some(ended.clone()));
    // Re-made under a newer notice, the receipt still names the version the choice was made under.
    let text = DEMO.replace(r#""version": "2026-11-01""#, r#""version": "2026-12-01""#);
    let v2 = Config::parse(&text).unwrap();
    let claims = scoped_claims(&ended, &v2, &s);
    assert_eq!((claims.method, claims.notice_version.as_str()), (Method::Withdrawal, "2026-11-01"));
    // An unknown method makes the line unreadable, as any other malformed field does.
    assert_eq!(ScopedChoice::decode(&line.replace("|withdrawal", "|maybe"), Kind::Conversation), None);
}

/// Only the stored choices after the one the browser's marker names are made again, bounded by the
/// marker's time, even when that choice has been replaced by a later choice for the same conversation
/// (on, made; then off, and the page went away before signing). Every stored choice used to be made
/// again then: those older than the chain's last 64 ids were signed a second time under their ids,
/// refused (409), and the browser's chain moved onto receipts the collector never stored, so the real
/// one became a gap.
#[test]
fn only_choices_after_the_marked_one_are_made_again() {
    let choice = |key: &str, n: u64| ScopedChoice {
        scope: Scope::Conversation(key.into()),
        purpose: "ai_training".into(),
        on: n.is_multiple_of(2),
        notice_version: Some("2026-11-01".into()),
        subject: "ab".repeat(16),
        receipt: format!("r{n:032x}"),
        decided_at: NOW + n,
        expires_at: NOW + DAY,
        method: Method::AiToggle,
    };
    // c-old (made long ago), c-A on (made: the marker), then c-A off replaced it, unmade.
    let stored = vec![choice("c-old", 1), choice("c-B", 5), choice("c-A", 9)];
    let keys = |v: Vec<ScopedChoice>| v.into_iter().map(|c| c.scope.key().to_string()).collect::<Vec<_>>();
    let marker = format!("r{:032x}|{}", 8, NOW + 8);
    assert_eq!(keys(unmade(&stored, Kind::Conversation, &marker)), ["c-A"], "only what came after the marked choice");
    // The marked choice still stored: the ones after it, not it.
    let marker = format!("r{:032x}|{}", 5, NOW + 5);
    assert_eq!(keys(unmade(&stored, Kind::Conversation, &marker)), ["c-A"]);
    // All made: nothing.
    let marker = format!("r{:032x}|{}", 9, NOW + 9);
    assert!(unmade(&stored, Kind::Conversation, &marker).is_empty());
    // A bare id from before times were kept, naming no stored choice: every one, as before.
    assert_eq!(keys(unmade(&stored, Kind::Conversation, &format!("r{:032x}", 8))), ["c-old", "c-B", "c-A"]);
    // No marker at all (no receipt of the kind made yet): every one.
    assert_eq!(unmade(&stored, Kind::Conversation, "").len(), 3);
    // Another kind's choices are not this kind's.
    assert!(unmade(&stored, Kind::Service, "").is_empty());
}
