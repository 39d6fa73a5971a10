//! Issue 5: where the region comes from (data-region, geo endpoint, timezone, strictest), the default
//! matrix in the demo config, and Global Privacy Control.

use crate::common::{DEMO, NOW};
use assent_core::hash::config_fingerprint;
use assent_core::{Config, Decision, Effect, Event, Flow, Method, Record, RegionSource, Session, Source, Ui, Visitor};

fn rng() -> [u8; 16] {
    [3; 16]
}

fn start_with(text: &str, visitor: &Visitor, stored: Option<&str>) -> (Session, Vec<Effect>) {
    Session::start(Config::parse(text).unwrap(), config_fingerprint(text), visitor, stored, NOW, rng)
}

fn start(visitor: &Visitor) -> (Session, Vec<Effect>) {
    start_with(DEMO, visitor, None)
}

fn visitor(region: Option<&str>, geo: Option<&str>, timezone: Option<&str>, gpc: bool) -> Visitor {
    let in_zone = timezone.map(Visitor::in_timezone).unwrap_or_default();
    Visitor { region: region.map(String::from), geo: geo.map(String::from), gpc, ..in_zone }
}

fn granted(s: &Session) -> Vec<&str> {
    let mut v: Vec<&str> = s.config().purposes.iter().map(|p| p.id.as_str()).filter(|id| s.allowed(id)).collect();
    v.sort();
    v
}

#[test]
fn the_region_comes_from_data_region_then_geo_then_timezone_then_the_strictest_flow() {
    use RegionSource::*;
    // (data-region, geo answer, timezone) → (region, source, flow)
    type Case<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>, Option<&'a str>, RegionSource, Flow);
    let table: [Case; 21] = [
        (Some("DE"), Some("US-CA"), Some("America/Los_Angeles"), Some("DE"), Page, Flow::OptIn),
        // The geo answer keeps the zone it was asked from: the loader trusts it only in that zone.
        (None, Some("US-TX"), Some("Europe/Berlin"), Some("US-TX"), Geo("Europe/Berlin".into()), Flow::OptOut),
        // A country alone (a CDN's country header) may be any of its subdivisions: the strictest applies.
        // It used to get `regions.default` (notice), so a Californian with GPC had marketing on.
        (Some("US"), None, None, Some("US"), Page, Flow::OptOut),
        (Some("ca"), None, None, Some("CA"), Page, Flow::OptIn),
        (None, Some("US"), Some("America/New_York"), Some("US"), Geo("America/New_York".into()), Flow::OptOut),
        // A code that names no place (Cloudflare's `XX` for unknown) is no region: the next source decides.
        (Some("XX"), None, Some("Asia/Tokyo"), Some("JP"), Timezone("Asia/Tokyo".into()), Flow::Notice),
        (None, Some("ZZ"), Some("Europe/Paris"), Some("FR"), Timezone("Europe/Paris".into()), Flow::OptIn),
        // A geo database's "somewhere in Europe" got `regions.default` (notice): no country, so the timezone.
        (None, Some("EU"), Some("Europe/Lisbon"), Some("PT"), Timezone("Europe/Lisbon".into()), Flow::OptIn),
        // Kosovo's `XK` is in the user-assigned range but names a country.
        (Some("XK"), None, None, Some("XK"), Page, Flow::Notice),
        (None, None, Some("Europe/Berlin"), Some("DE"), Timezone("Europe/Berlin".into()), Flow::OptIn),
        (None, None, Some("America/Los_Angeles"), Some("US"), Timezone("America/Los_Angeles".into()), Flow::OptOut),
        // Toronto's timezone covers Ontario (notice) and Quebec (opt-in): the strictest wins.
        (None, None, Some("America/Toronto"), Some("CA"), Timezone("America/Toronto".into()), Flow::OptIn),
        (None, None, Some("Asia/Tokyo"), Some("JP"), Timezone("Asia/Tokyo".into()), Flow::Notice),
        (None, None, Some("Europe/Zurich"), Some("CH"), Timezone("Europe/Zurich".into()), Flow::Notice),
        (None, None, Some("America/Sao_Paulo"), Some("BR"), Timezone("America/Sao_Paulo".into()), Flow::OptIn),
        // zone.tab's own country wins over a tzdb link's target (Busingen is German, not Swiss).
        (None, None, Some("Europe/Busingen"), Some("DE"), Timezone("Europe/Busingen".into()), Flow::OptIn),
        (None, None, Some("America/Lower_Princes"), Some("SX"), Timezone("America/Lower_Princes".into()), Flow::Notice),
        // An old alias that some browsers still report.
        (None, None, Some("Asia/Calcutta"), Some("IN"), Timezone("Asia/Calcutta".into()), Flow::Notice),
        // No country, but the zone still identifies the context for the loader's fast path.
        (None, None, Some("UTC"), None, Timezone("UTC".into()), Flow::OptIn),
        (None, None, None, None, Unknown, Flow::OptIn),
        // An unreadable data-region is reported and the next source is used.
        (Some("Germany"), None, Some("Asia/Tokyo"), Some("JP"), Timezone("Asia/Tokyo".into()), Flow::Notice),
    ];
    for (region, geo, tz, expected_region, source, flow) in table {
        let (s, effects) = start(&visitor(region, geo, tz, false));
        let case = format!("{region:?} {geo:?} {tz:?}");
        assert_eq!(s.region().map(|r| r.as_str()), expected_region, "{case}");
        assert_eq!(s.region_source(), &source, "{case}");
        assert_eq!(s.flow(), flow, "{case}");
        if region == Some("Germany") {
            assert!(effects.iter().any(|e| matches!(e, Effect::Warn(w) if w.contains("`Germany`"))), "{effects:?}");
        }
        if region == Some("XX") || geo == Some("ZZ") {
            assert!(
                !effects.iter().any(|e| matches!(e, Effect::Warn(_))),
                "an unknown country is no mistake: {effects:?}"
            );
        }
    }
}

#[test]
fn the_default_matrix_in_the_demo_config() {
    // (region, flow, what is on before any choice)
    let table: [(&str, Flow, &[&str]); 9] = [
        ("DE", Flow::OptIn, &["necessary"]),
        ("FR", Flow::OptIn, &["necessary"]),
        // UK: opt-in, except the analytics exemption of the Data (Use and Access) Act 2025.
        ("GB", Flow::OptIn, &["analytics", "necessary"]),
        ("BR", Flow::OptIn, &["necessary"]),
        ("CA-QC", Flow::OptIn, &["necessary"]),
        ("CH", Flow::Notice, &["analytics", "marketing", "necessary", "preferences"]),
        ("US-CA", Flow::OptOut, &["analytics", "marketing", "necessary", "preferences"]),
        ("US-TX", Flow::OptOut, &["analytics", "marketing", "necessary", "preferences"]),
        ("JP", Flow::Notice, &["analytics", "marketing", "necessary", "preferences"]),
    ];
    for (region, flow, on) in table {
        let (s, _) = start(&Visitor::in_region(region));
        assert_eq!((s.flow(), granted(&s).as_slice()), (flow, on), "{region}");
        assert!(!s.allowed("replay") && !s.allowed("ai_training"), "{region}: sensitive purposes stay opt-in");
    }
}

#[test]
fn gpc_in_an_opt_out_region_opts_out_at_once_with_a_gpc_receipt_and_says_so() {
    for region in ["US-CA", "US-TX"] {
        let (s, effects) = start(&visitor(Some(region), None, None, true));
        let d = s.decision().expect("a decision made with no prompt");
        assert_eq!(d.method, Method::Gpc, "{region}");
        assert!(d.gpc);
        assert!(d.denied.contains(&"marketing".to_string()), "sale, sharing and targeted advertising are refused");
        assert!(d.denied.contains(&"ai_training".to_string()), "GPC objects to AI training by default");
        assert!(d.granted.contains(&"analytics".to_string()), "other opt-out purposes keep their default");
        assert!(s.gpc_honored());
        assert_eq!(s.ui(), Ui::Banner, "the notice shows once, with 'Opt-Out Request Honored'");
        assert!(effects.iter().any(|e| matches!(e, Effect::Receipt(Record::Site(r)) if r.method == Method::Gpc)));
        assert!(matches!(effects.last(), Some(Effect::ApplyGates)));
    }
}

#[test]
fn gpc_overrides_an_earlier_choice_made_without_it_but_a_later_explicit_opt_in_wins() {
    // Accepted before the signal was on: GPC now refuses marketing.
    let (mut s, _) = start(&Visitor::in_region("US-CA"));
    s.handle(Event::AcceptAll(Source::Ui), NOW, rng).unwrap();
    let before = s.decision().unwrap().encode();
    let (s, _) = start_with(DEMO, &visitor(Some("US-CA"), None, None, true), Some(&before));
    assert_eq!(s.decision().unwrap().method, Method::Gpc);
    assert!(!s.allowed("marketing"));

    // With the signal on, the visitor explicitly opts back in: that stands on later visits.
    let mut s = s;
    s.handle(Event::Save(vec![("marketing".into(), true)], Source::Ui), NOW + 5, rng).unwrap();
    let explicit = s.decision().unwrap().encode();
    let (again, effects) = start_with(DEMO, &visitor(Some("US-CA"), None, None, true), Some(&explicit));
    assert!(again.allowed("marketing"), "the explicit opt-in wins");
    assert_eq!(again.decision().unwrap().method, Method::PreferencesSaved);
    let update = assent_core::consent_mode::Command { command: "update", region: vec![], state: [true; 7] };
    assert_eq!(
        effects,
        vec![Effect::ConsentMode(vec![update]), Effect::Render(Ui::Hidden), Effect::ApplyGates],
        "no new receipt and no banner: Google tags hear the opt-in, and the entry point shows"
    );
    assert!(!again.gpc_honored(), "the page no longer claims the opt-out is in force");
}

#[test]
fn gpc_in_an_opt_in_region_is_recorded_and_can_prefill_a_refusal_but_never_grants() {
    let (mut s, _) = start(&visitor(Some("DE"), None, None, true));
    assert!(s.decision().is_none() && s.ui() == Ui::Banner, "no automatic decision: the opt-in banner asks");
    s.handle(Event::AcceptAll(Source::Ui), NOW, rng).unwrap();
    let d = s.decision().unwrap();
    assert!(
        d.gpc && d.granted.contains(&"marketing".to_string()),
        "recorded; an explicit Accept all is the visitor's choice"
    );

    let prefill = DEMO.replace(r#""receipts":"#, r#""gpc": { "inOptInRegions": "prefillRefusal" }, "receipts":"#);
    let (mut s, _) = start_with(&prefill, &visitor(Some("DE"), None, None, true), None);
    s.handle(Event::AcceptAll(Source::Ui), NOW, rng).unwrap();
    assert!(!s.allowed("marketing"), "Accept all leaves GPC's purposes refused");
    assert!(s.allowed("analytics"));
    s.handle(Event::Save(vec![("marketing".into(), true)], Source::Ui), NOW, rng).unwrap();
    assert!(s.allowed("marketing"), "its own switch still grants it");
    let (no_gpc, _) = start_with(&prefill, &Visitor::in_region("DE"), None);
    let mut no_gpc = no_gpc;
    no_gpc.handle(Event::AcceptAll(Source::Ui), NOW, rng).unwrap();
    assert!(no_gpc.allowed("marketing"), "without the signal nothing changes");
}

#[test]
fn gpc_objects_to_ai_training_under_legitimate_interest_unless_configured_otherwise() {
    let li = DEMO.replace(r#"{ "id": "ai_training","#, r#"{ "id": "ai_training", "legitimateInterest": ["JP"],"#);
    let (s, _) = start_with(&li, &visitor(Some("JP"), None, None, true), None);
    assert!(!s.allowed("ai_training"), "the signal is an objection");
    let (s, _) = start_with(&li, &visitor(Some("JP"), None, None, false), None);
    assert!(s.allowed("ai_training"));
    let lenient = li.replace(r#""receipts":"#, r#""gpc": { "aiTrainingObjection": false }, "receipts":"#);
    let (s, _) = start_with(&lenient, &visitor(Some("JP"), None, None, true), None);
    assert!(s.allowed("ai_training"), "configured: GPC is no objection to AI training");
}

#[test]
fn the_stored_form_keeps_the_region_source_and_gpc_so_the_loader_can_compare() {
    let (mut s, _) = start(&visitor(None, None, Some("Europe/Berlin"), true));
    s.handle(Event::RejectAll(Source::Ui), NOW, rng).unwrap();
    let d = Decision::decode(&s.decision().unwrap().encode()).unwrap();
    assert_eq!(
        (d.region.as_deref(), &d.region_source, d.gpc),
        (Some("DE"), &RegionSource::Timezone("Europe/Berlin".into()), true)
    );
    // The same visitor with the signal switched off: the decision stands as it was made (with GPC).
    let (s2, effects) = start_with(DEMO, &visitor(None, None, Some("Europe/Berlin"), false), Some(&d.encode()));
    assert!(!effects.iter().any(|e| matches!(e, Effect::Store { .. })), "{effects:?}");
    assert!(s2.decision().unwrap().gpc);
    assert_eq!(s2.ui(), Ui::Hidden);
}

/// Refreshing the stored form does not rewrite what a decision was made under. A US
/// visit must not turn a Berlin opt-in decision into an opt-out one, and a visit without GPC must not
/// let GPC later override an explicit opt-in made with GPC on.
#[test]
fn a_refresh_keeps_the_flow_and_gpc_a_decision_was_made_under() {
    let (mut s, _) = start(&Visitor::in_region("DE"));
    s.handle(Event::AcceptAll(Source::Ui), NOW, rng).unwrap();
    let berlin = s.decision().unwrap().encode();
    let (us, effects) = start_with(DEMO, &Visitor::in_region("US-NY"), Some(&berlin));
    let refreshed = effects.iter().find_map(|e| match e {
        Effect::Store { value, .. } => Decision::decode(value),
        _ => None,
    });
    assert_eq!(refreshed.as_ref().map(|d| d.flow), Some(Flow::OptIn), "still the flow it was made under");
    assert_eq!(us.decision().unwrap().flow, Flow::OptIn);
    let (back, _) = start_with(DEMO, &Visitor::in_region("DE"), Some(&refreshed.unwrap().encode()));
    assert!(back.decision().is_some() && back.ui() == Ui::Hidden, "back in Berlin: no new question");

    let (s, _) = start(&visitor(Some("US-CA"), None, None, true));
    let mut s = s;
    s.handle(Event::Save(vec![("marketing".into(), true)], Source::Ui), NOW, rng).unwrap();
    let explicit = s.decision().unwrap().encode();
    let (_, effects) = start_with(DEMO, &visitor(Some("US-CA"), None, None, false), Some(&explicit));
    assert!(!effects.iter().any(|e| matches!(e, Effect::Store { .. })), "a visit without GPC changes nothing");
    let (again, _) = start_with(DEMO, &visitor(Some("US-CA"), None, None, true), Some(&explicit));
    assert!(again.allowed("marketing"), "the explicit opt-in still wins");
}

#[test]
fn consent_mode_defaults_come_from_the_rules_and_updates_follow_decisions() {
    use assent_core::consent_mode::{Command, TYPES};
    let names = |state: &[bool; 7]| TYPES.iter().zip(state).filter(|(_, g)| **g).map(|(t, _)| *t).collect::<Vec<_>>();
    let (mut s, effects) = start(&Visitor::in_region("DE"));
    let Some(Effect::ConsentMode(commands)) = effects.iter().find(|e| matches!(e, Effect::ConsentMode(_))) else {
        panic!("{effects:?}")
    };
    // One default per rule (groups expanded for Google's geolocation), then this visitor's update.
    let defaults: Vec<&Command> = commands.iter().filter(|c| c.command == "default").collect();
    assert_eq!(defaults.len(), 4);
    assert!(
        defaults[0].region.contains(&"DE".to_string()) && defaults[0].region.contains(&"NO".to_string()),
        "EEA expanded"
    );
    assert_eq!(names(&defaults[0].state), ["security_storage"], "opt-in: everything denied but security");
    assert_eq!(names(&defaults[1].state), ["analytics_storage", "security_storage"], "GB: the analytics exemption");
    assert!(defaults[3].region.contains(&"US-CA".to_string()));
    assert_eq!(names(&defaults[3].state), TYPES, "US opt-out: the opt-out purposes are on before a choice");
    assert_eq!(commands.last().unwrap().command, "update");
    assert_eq!(names(&commands.last().unwrap().state), ["security_storage"]);
    // Every decision sends an update before any tag it allows runs.
    let effects = s.handle(Event::Save(vec![("analytics".into(), true)], Source::Ui), NOW, rng).unwrap();
    let at = |f: fn(&Effect) -> bool| effects.iter().position(f).unwrap();
    assert!(at(|e| matches!(e, Effect::ConsentMode(_))) < at(|e| matches!(e, Effect::ApplyGates)));
    let Some(Effect::ConsentMode(update)) = effects.iter().find(|e| matches!(e, Effect::ConsentMode(_))) else {
        unreachable!()
    };
    assert_eq!(names(&update[0].state), ["analytics_storage", "security_storage"]);
    assert!(s.decision().unwrap().encode().ends_with("|dddgddg"), "the loader's copy for returning visits");
}

/// The expected strings were produced by the IAB's own encoder (`@iabgpp/cmpapi` 3.2.0's `GppModel`,
/// usnat with the four notices given, MspaCoveredTransaction 2, and the GPC subsection).
#[test]
fn gpp_usnat_strings_match_the_iab_encoder() {
    use assent_core::gpp::{header, UsNat, UsSection, UsSignal};
    assert_eq!(header(&[7]), "DBABLA");
    assert_eq!(UsNat::for_opt_out(true, true).gpp_string(), "DBABLA~CVQVAAAAAACA.YA");
    assert_eq!(UsNat::for_opt_out(false, false).gpp_string(), "DBABLA~CVQqAAAAAACA.QA");

    // The same through the table-driven `UsSignal`.
    for (opted_out, gpc) in [(true, true), (false, false), (true, false), (false, true)] {
        let us = UsSignal { section: UsSection::Nat, opted_out, gpc };
        let nat = UsNat::for_opt_out(opted_out, gpc);
        assert_eq!((us.fields(), us.gpp_string()), (nat.fields(), nat.gpp_string()), "{opted_out} {gpc}");
    }

    // Which visitors get a section: US opt-out regions, with the decision's opt-out; the national one
    // where the state has no section of its own. Every state of the demo's opt-out rule has one, so
    // here the rule covers the whole US, and the visitor is in New York.
    let whole_us = DEMO.replace("\"US-STATES-WITH-PRIVACY-LAWS\"", "\"US\"");
    assert_ne!(whole_us, DEMO);
    let (s, _) = start_with(&whole_us, &visitor(Some("US-NY"), None, None, true), None);
    assert_eq!(s.gpp().unwrap().gpp_string(), "DBABLA~CVQVAAAAAACA.YA", "GPC applied: opted out, Gpc = true");
    let (s, _) = start_with(&whole_us, &Visitor::in_region("US-NY"), None);
    assert!(!s.gpp().unwrap().opted_out, "no opt-out yet");
    assert_eq!(start(&Visitor::in_region("US-NY")).0.gpp(), None, "New York is not an opt-out region in the demo");
    for region in ["DE", "JP", "CA-QC"] {
        assert_eq!(start(&Visitor::in_region(region)).0.gpp(), None, "{region}");
    }
}

/// The state sections, for a visitor in the state. The expected strings were produced by the IAB's own
/// encoder (`@iabgpp/cmpapi` 3.2's `GppModel`: the notices given, the opt-outs, MspaCoveredTransaction
/// 2, and the GPC subsection where the section has one; Virginia's has none). Those of the sections
/// from Utah on were produced by `@iabgpp/cmpapi` 3.2.0 in node: a `GppModel` with each field of the
/// section (its segments' `getFieldNames()`) set by `setFieldValue(section, field, value)` to what
/// Assent writes (the sale, sharing, targeted advertising and processing notices 1, the sensitive data
/// notices 0, the opt-outs 1 opted out or 2, every consent and list 0, `MspaCoveredTransaction` 2, the
/// MSPA modes 0, `GpcSegmentType` 1, `Gpc`), then `encode()`. Utah's and Florida's have no GPC
/// subsection; Indiana's, Kentucky's and Rhode Island's have their sensitive data consents subsection
/// (`.AAA`, all 0) instead, which the IAB's encoder writes by default.
#[test]
fn gpp_state_sections_match_the_iab_encoder_and_follow_the_visitors_state() {
    use assent_core::gpp::{UsSection, UsSignal};
    let cases = [
        (UsSection::Ca, true, true, "DBABBg~BUUAAACA.YA"),
        (UsSection::Ca, false, false, "DBABBg~BUoAAACA.QA"),
        (UsSection::Va, true, false, "DBABRg~BVUAACA"),
        (UsSection::Va, false, false, "DBABRg~BVoAACA"),
        (UsSection::Co, true, true, "DBABJg~BVUAAIA.YA"),
        (UsSection::Co, false, false, "DBABJg~BVoAAIA.QA"),
        (UsSection::Ct, true, true, "DBABVg~BVUAAAIA.YA"),
        (UsSection::Ct, false, false, "DBABVg~BVoAAAIA.QA"),
        (UsSection::Ut, true, true, "DBABFg~BVFAAAgA"),
        (UsSection::Ut, false, false, "DBABFg~BVKAAAgA"),
        (UsSection::Fl, true, true, "DBABAw~BVUAAACA"),
        (UsSection::Fl, false, false, "DBABAw~BVoAAACA"),
        (UsSection::Mt, true, true, "DBABQw~BVUAAACA.YA"),
        (UsSection::Mt, false, false, "DBABQw~BVoAAACA.QA"),
        (UsSection::Or, true, true, "DBABIw~BVUAAAACAA.YA"),
        (UsSection::Or, false, false, "DBABIw~BVoAAAACAA.QA"),
        (UsSection::Tx, true, true, "DBABEw~BVUAAAgA.YA"),
        (UsSection::Tx, false, false, "DBABEw~BVoAAAgA.QA"),
        (UsSection::De, true, true, "DBABUw~BVUAAAACAA.YA"),
        (UsSection::De, false, false, "DBABUw~BVoAAAACAA.QA"),
        (UsSection::Ia, true, true, "DBABCw~BVFAAAgA.YA"),
        (UsSection::Ia, false, false, "DBABCw~BVKAAAgA.QA"),
        (UsSection::Ne, true, true, "DBABSw~BVUAAAgA.YA"),
        (UsSection::Ne, false, false, "DBABSw~BVoAAAgA.QA"),
        (UsSection::Nh, true, true, "DBABKw~BVUAAACA.YA"),
        (UsSection::Nh, false, false, "DBABKw~BVoAAACA.QA"),
        (UsSection::Nj, true, true, "DBABAYA~BVUAAAAAgA.YA"),
        (UsSection::Nj, false, false, "DBABAYA~BVoAAAAAgA.QA"),
        (UsSection::Tn, true, true, "DBABQYA~BVUAAAgA.YA"),
        (UsSection::Tn, false, false, "DBABQYA~BVoAAAgA.QA"),
        (UsSection::Mn, true, true, "DBABIYA~BVUAAAgA.YA"),
        (UsSection::Mn, false, false, "DBABIYA~BVoAAAgA.QA"),
        (UsSection::Md, true, true, "DBABEYA~BhVQ.YA"),
        (UsSection::Md, false, false, "DBABEYA~BhWg.QA"),
        (UsSection::In, true, true, "DBABUYA~BhVQ.AAA"),
        (UsSection::In, false, false, "DBABUYA~BhWg.AAA"),
        (UsSection::Ky, true, true, "DBABCYA~BhVQ.AAA"),
        (UsSection::Ky, false, false, "DBABCYA~BhWg.AAA"),
        (UsSection::Ri, true, true, "DBABSYA~BhVQ.AAA"),
        (UsSection::Ri, false, false, "DBABSYA~BhWg.AAA"),
    ];
    for (section, opted_out, gpc, expected) in cases {
        assert_eq!(UsSignal { section, opted_out, gpc }.gpp_string(), expected, "{section:?} {opted_out} {gpc}");
    }
    // The section follows the resolved state; GPC opts out where the law says so.
    let states = [
        ("US-CA", UsSection::Ca),
        ("US-VA", UsSection::Va),
        ("US-CO", UsSection::Co),
        ("US-UT", UsSection::Ut),
        ("US-CT", UsSection::Ct),
        ("US-FL", UsSection::Fl),
        ("US-MT", UsSection::Mt),
        ("US-OR", UsSection::Or),
        ("US-TX", UsSection::Tx),
        ("US-DE", UsSection::De),
        ("US-IA", UsSection::Ia),
        ("US-NE", UsSection::Ne),
        ("US-NH", UsSection::Nh),
        ("US-NJ", UsSection::Nj),
        ("US-TN", UsSection::Tn),
        ("US-MN", UsSection::Mn),
        ("US-MD", UsSection::Md),
        ("US-IN", UsSection::In),
        ("US-KY", UsSection::Ky),
        ("US-RI", UsSection::Ri),
    ];
    assert_eq!(states.len() + 1, UsSection::ALL.len(), "every state section, and the national one");
    for (region, section) in states {
        assert_eq!(UsSection::for_region(region), section, "{region}");
        // Florida's law covers only the largest companies: the demo's opt-out group leaves it out.
        if region == "US-FL" {
            continue;
        }
        let (s, _) = start(&visitor(Some(region), None, None, true));
        let us = s.gpp().unwrap();
        assert_eq!((us.section, us.gpc), (section, true), "{region}");
        if region != "US-VA" {
            assert!(us.opted_out, "{region}: GPC is an opt-out of sale, sharing and targeted advertising");
        }
    }
    let (s, _) = start(&Visitor::in_region("US-VA"));
    assert_eq!(s.gpp().unwrap().gpp_string(), "DBABRg~BVoAACA", "Virginia without GPC: no opt-out, no subsection");
    let (s, _) = start(&Visitor::in_region("US-TX"));
    assert_eq!(s.gpp().unwrap().gpp_string(), "DBABEw~BVoAAAgA.QA", "Texas: its own section");

    // `supportedAPIs`, and the `__gpp` parameters that name a section.
    let ids: Vec<u32> = UsSection::ALL.iter().map(|s| s.id()).collect();
    assert_eq!(ids, (7..=27).collect::<Vec<u32>>());
    assert_eq!(
        (UsSection::named("ustx"), UsSection::named("16"), UsSection::from_id(27)),
        (Some(UsSection::Tx), Some(UsSection::Tx), Some(UsSection::Ri))
    );
    assert_eq!((UsSection::named("usxx"), UsSection::from_id(2)), (None, None));
}

/// Every US section's fields, as `getSection` answers them: their GPP names in order, a list with its
/// length. The strings above cannot tell apart two fields that are both 0, or two lists' lengths. The
/// expected text was produced by `@iabgpp/cmpapi` 3.2.0 in node: each section's segments'
/// `getFieldNames()`, a list (`EncodableFixedIntegerList`) with its `numElements`.
#[test]
fn gpp_sections_have_the_iab_fields_in_order() {
    use assent_core::gpp::{FieldValue, UsSection, UsSignal};
    let expected = "\
usnat: Version SharingNotice SaleOptOutNotice SharingOptOutNotice TargetedAdvertisingOptOutNotice SensitiveDataProcessingOptOutNotice SensitiveDataLimitUseNotice SaleOptOut SharingOptOut TargetedAdvertisingOptOut SensitiveDataProcessing[16] KnownChildSensitiveDataConsents[3] PersonalDataConsents MspaCoveredTransaction MspaOptOutOptionMode MspaServiceProviderMode GpcSegmentType Gpc
usca: Version SaleOptOutNotice SharingOptOutNotice SensitiveDataLimitUseNotice SaleOptOut SharingOptOut SensitiveDataProcessing[9] KnownChildSensitiveDataConsents[2] PersonalDataConsents MspaCoveredTransaction MspaOptOutOptionMode MspaServiceProviderMode GpcSegmentType Gpc
usva: Version SharingNotice SaleOptOutNotice TargetedAdvertisingOptOutNotice SaleOptOut TargetedAdvertisingOptOut SensitiveDataProcessing[8] KnownChildSensitiveDataConsents MspaCoveredTransaction MspaOptOutOptionMode MspaServiceProviderMode
usco: Version SharingNotice SaleOptOutNotice TargetedAdvertisingOptOutNotice SaleOptOut TargetedAdvertisingOptOut SensitiveDataProcessing[7] KnownChildSensitiveDataConsents MspaCoveredTransaction MspaOptOutOptionMode MspaServiceProviderMode GpcSegmentType Gpc
usut: Version SharingNotice SaleOptOutNotice TargetedAdvertisingOptOutNotice SensitiveDataProcessingOptOutNotice SaleOptOut TargetedAdvertisingOptOut SensitiveDataProcessing[8] KnownChildSensitiveDataConsents MspaCoveredTransaction MspaOptOutOptionMode MspaServiceProviderMode
usct: Version SharingNotice SaleOptOutNotice TargetedAdvertisingOptOutNotice SaleOptOut TargetedAdvertisingOptOut SensitiveDataProcessing[8] KnownChildSensitiveDataConsents[3] MspaCoveredTransaction MspaOptOutOptionMode MspaServiceProviderMode GpcSegmentType Gpc
usfl: Version ProcessingNotice SaleOptOutNotice TargetedAdvertisingOptOutNotice SaleOptOut TargetedAdvertisingOptOut SensitiveDataProcessing[8] KnownChildSensitiveDataConsents[3] AdditionalDataProcessingConsent MspaCoveredTransaction MspaOptOutOptionMode MspaServiceProviderMode
usmt: Version SharingNotice SaleOptOutNotice TargetedAdvertisingOptOutNotice SaleOptOut TargetedAdvertisingOptOut SensitiveDataProcessing[8] KnownChildSensitiveDataConsents[3] AdditionalDataProcessingConsent MspaCoveredTransaction MspaOptOutOptionMode MspaServiceProviderMode GpcSegmentType Gpc
usor: Version ProcessingNotice SaleOptOutNotice TargetedAdvertisingOptOutNotice SaleOptOut TargetedAdvertisingOptOut SensitiveDataProcessing[11] KnownChildSensitiveDataConsents[3] AdditionalDataProcessingConsent MspaCoveredTransaction MspaOptOutOptionMode MspaServiceProviderMode GpcSegmentType Gpc
ustx: Version ProcessingNotice SaleOptOutNotice TargetedAdvertisingOptOutNotice SaleOptOut TargetedAdvertisingOptOut SensitiveDataProcessing[8] KnownChildSensitiveDataConsents AdditionalDataProcessingConsent MspaCoveredTransaction MspaOptOutOptionMode MspaServiceProviderMode GpcSegmentType Gpc
usde: Version ProcessingNotice SaleOptOutNotice TargetedAdvertisingOptOutNotice SaleOptOut TargetedAdvertisingOptOut SensitiveDataProcessing[9] KnownChildSensitiveDataConsents[5] AdditionalDataProcessingConsent MspaCoveredTransaction MspaOptOutOptionMode MspaServiceProviderMode GpcSegmentType Gpc
usia: Version ProcessingNotice SaleOptOutNotice TargetedAdvertisingOptOutNotice SensitiveDataOptOutNotice SaleOptOut TargetedAdvertisingOptOut SensitiveDataProcessing[8] KnownChildSensitiveDataConsents MspaCoveredTransaction MspaOptOutOptionMode MspaServiceProviderMode GpcSegmentType Gpc
usne: Version ProcessingNotice SaleOptOutNotice TargetedAdvertisingOptOutNotice SaleOptOut TargetedAdvertisingOptOut SensitiveDataProcessing[8] KnownChildSensitiveDataConsents AdditionalDataProcessingConsent MspaCoveredTransaction MspaOptOutOptionMode MspaServiceProviderMode GpcSegmentType Gpc
usnh: Version ProcessingNotice SaleOptOutNotice TargetedAdvertisingOptOutNotice SaleOptOut TargetedAdvertisingOptOut SensitiveDataProcessing[8] KnownChildSensitiveDataConsents[3] AdditionalDataProcessingConsent MspaCoveredTransaction MspaOptOutOptionMode MspaServiceProviderMode GpcSegmentType Gpc
usnj: Version ProcessingNotice SaleOptOutNotice TargetedAdvertisingOptOutNotice SaleOptOut TargetedAdvertisingOptOut SensitiveDataProcessing[10] KnownChildSensitiveDataConsents[5] AdditionalDataProcessingConsent MspaCoveredTransaction MspaOptOutOptionMode MspaServiceProviderMode GpcSegmentType Gpc
ustn: Version ProcessingNotice SaleOptOutNotice TargetedAdvertisingOptOutNotice SaleOptOut TargetedAdvertisingOptOut SensitiveDataProcessing[8] KnownChildSensitiveDataConsents AdditionalDataProcessingConsent MspaCoveredTransaction MspaOptOutOptionMode MspaServiceProviderMode GpcSegmentType Gpc
usmn: Version ProcessingNotice SaleOptOutNotice TargetedAdvertisingOptOutNotice SaleOptOut TargetedAdvertisingOptOut SensitiveDataProcessing[8] KnownChildSensitiveDataConsents AdditionalDataProcessingConsent MspaCoveredTransaction MspaOptOutOptionMode MspaServiceProviderMode GpcSegmentType Gpc
usmd: MspaVersion MspaCoveredTransaction MspaMode ProcessingNotice SaleOptOutNotice TargetedAdvertisingOptOutNotice SaleOptOut TargetedAdvertisingOptOut AdditionalDataProcessingConsent GpcSegmentType Gpc
usin: MspaVersion MspaCoveredTransaction MspaMode ProcessingNotice SaleOptOutNotice TargetedAdvertisingOptOutNotice SaleOptOut TargetedAdvertisingOptOut KnownChildSensitiveDataConsents AdditionalDataProcessingConsent SensitiveDataProcessing[8]
usky: MspaVersion MspaCoveredTransaction MspaMode ProcessingNotice SaleOptOutNotice TargetedAdvertisingOptOutNotice SaleOptOut TargetedAdvertisingOptOut KnownChildSensitiveDataConsents AdditionalDataProcessingConsent SensitiveDataProcessing[8]
usri: MspaVersion MspaCoveredTransaction MspaMode ProcessingNotice SaleOptOutNotice TargetedAdvertisingOptOutNotice SaleOptOut TargetedAdvertisingOptOut KnownChildSensitiveDataConsents AdditionalDataProcessingConsent SensitiveDataProcessing[8]
";
    let mut actual = String::new();
    for section in UsSection::ALL {
        let fields = UsSignal { section, opted_out: true, gpc: true }.fields();
        let names: Vec<String> = fields
            .into_iter()
            .map(|(name, value)| match value {
                FieldValue::List(items) => format!("{name}[{}]", items.len()),
                _ => name.to_string(),
            })
            .collect();
        actual += &format!("{}: {}\n", section.name(), names.join(" "));
    }
    assert_eq!(actual, expected);
}

/// Outside opt-in, an opt-out holds when the decision is set aside (a new notice version, a move to a
/// stricter flow): California holds an opt-out until the consumer opts back in. The decision used to be
/// dropped whole, so what the visitor had opted out of ran again by default until they answered the new
/// banner.
#[test]
fn an_opt_out_holds_when_the_decision_is_asked_again() {
    const DAYS: u64 = 24 * 60 * 60;
    // US-CA: the visitor opts out of marketing; then the site publishes a new notice.
    let (mut s, _) = start(&Visitor::in_region("US-CA"));
    s.handle(Event::Save(vec![("marketing".into(), false)], Source::Ui), NOW, rng).unwrap();
    let stored = s.decision().unwrap().encode();
    let bumped = DEMO.replace("\"version\": \"2026-11-01\"", "\"version\": \"2026-12-01\"");
    assert_ne!(bumped, DEMO);
    let (s, _) = start_with(&bumped, &Visitor::in_region("US-CA"), Some(&stored));
    assert!(s.decision().is_none(), "asked again");
    assert_eq!(s.ui(), Ui::Banner);
    assert_eq!(granted(&s), ["analytics", "necessary", "preferences"], "marketing stays off meanwhile");
    assert!(s.gpp().unwrap().opted_out, "and GPP says opted out");

    // CH (notice): the visitor refuses analytics; in US-CA (stricter) they are asked again, analytics off.
    let (mut s, _) = start(&Visitor::in_region("CH"));
    s.handle(Event::Save(vec![("analytics".into(), false)], Source::Ui), NOW, rng).unwrap();
    let stored = s.decision().unwrap().encode();
    let (mut s, _) = start_with(DEMO, &Visitor::in_region("US-CA"), Some(&stored));
    assert!(s.decision().is_none());
    assert_eq!(granted(&s), ["marketing", "necessary", "preferences"]);
    // Answering the new banner with OK keeps the refusal, now in a decision of its own.
    s.handle(Event::Acknowledge, NOW + 5, rng).unwrap();
    assert!(s.decision().unwrap().denied.contains(&"analytics".to_string()), "the refusal is kept");

    // Opt-in regions ask before anything runs, so nothing needs to stand there.
    let (mut s, _) = start(&Visitor::in_region("DE"));
    s.handle(Event::AcceptAll(Source::Ui), NOW, rng).unwrap();
    let stored = s.decision().unwrap().encode();
    let (s, _) = start_with(&bumped, &Visitor::in_region("DE"), Some(&stored));
    assert_eq!(granted(&s), ["necessary"]);

    // An opt-out keeps the longer expiry (grantedDays, 390), not refusedDays (182): it must not lapse
    // into running again sooner than a grant would. Refusing in an opt-in region keeps refusedDays.
    let (mut s, _) = start(&Visitor::in_region("US-CA"));
    s.handle(Event::RejectAll(Source::Ui), NOW, rng).unwrap();
    assert_eq!(s.decision().unwrap().expires_at, NOW + 390 * DAYS);
    let (mut s, _) = start(&Visitor::in_region("DE"));
    s.handle(Event::RejectAll(Source::Ui), NOW, rng).unwrap();
    assert_eq!(s.decision().unwrap().expires_at, NOW + 182 * DAYS);
}

/// The geo endpoint's answer keeps the timezone it was asked from; a decision stored before that
/// (`geo`) is refreshed with it, and one asked from another zone (a traveller) is refreshed too.
#[test]
fn a_geo_region_keeps_the_zone_it_was_asked_from() {
    let v = |zone: &str| visitor(None, Some("US-TX"), Some(zone), false);
    let (mut s, _) = start(&v("America/Chicago"));
    s.handle(Event::AcceptAll(Source::Ui), NOW, rng).unwrap();
    let stored = s.decision().unwrap().encode();
    assert!(stored.contains("|geo:America/Chicago|"), "{stored}");
    let store = |effects: &[Effect]| {
        effects.iter().find_map(|e| match e {
            Effect::Store { value, .. } => Some(value.clone()),
            _ => None,
        })
    };
    let (_, effects) = start(&v("America/Chicago"));
    let (_, same) = start_with(DEMO, &v("America/Chicago"), Some(&stored));
    assert_eq!(store(&same), None, "nothing to refresh: {effects:?}");
    let legacy = stored.replace("|geo:America/Chicago|", "|geo|");
    let (_, refreshed) = start_with(DEMO, &v("America/Chicago"), Some(&legacy));
    assert!(store(&refreshed).is_some_and(|v| v.contains("|geo:America/Chicago|")), "{refreshed:?}");
    let (s, travelled) = start_with(DEMO, &v("America/Denver"), Some(&stored));
    assert!(s.decision().is_some(), "same region, same flow: the decision stands");
    assert!(store(&travelled).is_some_and(|v| v.contains("|geo:America/Denver|")), "{travelled:?}");
}

/// A version-2 cookie is checked again and rewritten as version 3: the loader acts only on version 3; the
/// core reads version 2, checks it again under the current region resolution, and writes it as 3. Cookies
/// written for `data-region="US"` before a country alone got its strictest subdivision say `notice`, and the
/// loader would otherwise go on acting on them alone for up to 390 days.
#[test]
fn a_version_2_cookie_is_checked_again_and_rewritten() {
    let (mut s, _) = start(&Visitor::in_region("JP"));
    s.handle(Event::Acknowledge, NOW, rng).unwrap();
    let v3 = s.decision().unwrap().encode();
    assert!(v3.starts_with("3|") && v3.contains("|JP|notice|"), "{v3}");
    // What the old core wrote for data-region="US": region US, flow notice.
    let v2_us = format!("2|{}", &v3[2..]).replace("|JP|notice|", "|US|notice|");
    let (s, _) = start_with(DEMO, &Visitor::in_region("US"), Some(&v2_us));
    assert!(s.decision().is_none(), "US is opt-out now: asked again");
    // A version-2 form that still counts is written again as version 3.
    let v2_jp = format!("2|{}", &v3[2..]);
    let (s, effects) = start_with(DEMO, &Visitor::in_region("JP"), Some(&v2_jp));
    assert!(s.decision().is_some());
    assert!(effects.iter().any(|e| matches!(e, Effect::Store { value, .. } if value.starts_with("3|"))), "{effects:?}");
}
