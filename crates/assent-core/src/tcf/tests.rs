//! The TC and AC strings for a set of choices, pinned in `data/tcf-vectors.json`. The same file is
//! decoded with the IAB's `@iabtechlabtcf/core` in `tests/loader/tcf.test.mjs`, which checks that each
//! string says exactly the `expect` fields written beside it.

use super::*;

const GVL: &str = include_str!("../../../../tests/fixtures/gvl/vendor-list.json");
const VECTORS: &str = include_str!("../../../../data/tcf-vectors.json");

fn list<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    format!("[{}]", items.into_iter().map(|i| i.to_string()).collect::<Vec<_>>().join(","))
}

/// What a decoder must read back, as JSON (the names `@iabtechlabtcf/core`'s model uses).
fn expect(s: &Signals) -> String {
    let restrictions: Vec<String> = s
        .restrictions
        .iter()
        .map(|r| format!(r#"{{"purpose":{},"type":{},"vendors":{}}}"#, r.purpose, r.kind as u8, list(&r.vendors)))
        .collect();
    format!(
        r#"{{"cmpId":{},"cmpVersion":{},"vendorListVersion":{},"policyVersion":{},"consentLanguage":"{}","publisherCountryCode":"{}","created":{},"lastUpdated":{},"isServiceSpecific":true,"specialFeatureOptins":{},"purposeConsents":{},"purposeLegitimateInterests":{},"vendorConsents":{},"vendorLegitimateInterests":{},"vendorsDisclosed":{},"publisherConsents":{},"publisherLegitimateInterests":{},"publisherRestrictions":[{}]}}"#,
        s.cmp_id,
        s.cmp_version,
        s.vendor_list_version,
        s.policy_version,
        s.language,
        s.publisher_country,
        s.created * 100,
        s.updated * 100,
        list(&s.special_features),
        list(&s.purpose_consents),
        list(&s.purpose_li),
        list(&s.vendor_consents),
        list(&s.vendor_li),
        list(&s.disclosed),
        list(&s.publisher_consents),
        list(&s.publisher_li),
        restrictions.join(","),
    )
}

fn cases() -> (TcfConfig, Gvl, Vec<(&'static str, Choices)>) {
    let vectors = Json::parse(VECTORS).unwrap();
    let config = TcfConfig::parse(member(&vectors, "config").unwrap(), "tcf").unwrap();
    let gvl = Gvl::parse(GVL).unwrap();
    let day = 20_000;
    let all = Choices::accept_all(&config, &gvl, day, None);
    let mixed = Choices {
        purposes: [1, 2, 7].into(),
        special_features: [1].into(),
        // Few and low ids: the vendor section is a bit field, not ranges.
        vendors: [10, 32].into(),
        atps: [89].into(),
        ..Choices::blank(&config, &gvl, day, None)
    };
    let objected = Choices { purpose_objections: [7].into(), vendor_objections: [32, 1002].into(), ..all.clone() };
    let withdrawn = Choices::reject_all(&config, &gvl, day + 3, Some(&all));
    let cases = vec![
        ("accept all", all),
        ("reject all", Choices::reject_all(&config, &gvl, day, None)),
        ("mixed vendors", mixed),
        ("objection to legitimate interest", objected),
        ("withdrawal three days later", withdrawn),
    ];
    (config, gvl, cases)
}

#[test]
fn strings_match_the_shared_vectors() {
    let (config, gvl, cases) = cases();
    let vectors = Json::parse(VECTORS).unwrap();
    let Some(Json::Array(pinned)) = member(&vectors, "cases") else { panic!("tcf.json has no cases") };
    let mut written = Vec::new();
    for (name, choices) in &cases {
        let s = signals(&config, &gvl, choices);
        let case = format!(
            r#"{{"name":"{name}","choices":{},"tcString":"{}","acString":"{}","expect":{}}}"#,
            choices.to_text(),
            s.tc_string(),
            s.ac_string(),
            expect(&s)
        );
        written.push(case);
    }
    if std::env::var_os("ASSENT_BLESS").is_some() {
        let config = member(&vectors, "config").unwrap().canonical();
        let text = format!("{{\"config\":{config},\"cases\":[\n{}\n]}}\n", written.join(",\n"));
        std::fs::write(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/tcf-vectors.json"), text).unwrap();
        return;
    }
    assert_eq!(pinned.len(), written.len());
    for (pinned, ours) in pinned.iter().zip(&written) {
        assert_eq!(&Json::parse(ours).unwrap(), pinned, "case {}", text(pinned, "name"));
    }
}

#[test]
fn accept_all_grants_every_disclosed_vendor_that_asks_consent_and_nothing_of_assents_own() {
    let (config, gvl, cases) = cases();
    let s = signals(&config, &gvl, &cases[0].1);
    // 1001 declares special purposes only: no consent bit, and (Policy v5.0.b) no legitimate-interest bit.
    assert_eq!(s.vendor_consents, [10, 32, 52, 76, 91, 755, 1002].into());
    assert!(!s.vendor_li.contains(1001));
    // Disclosed: the configured vendors on the GVL, not deleted (1003) and not missing (4242).
    assert_eq!(s.disclosed, [10, 32, 52, 76, 91, 755, 1001, 1002].into());
    // Purposes 1, 3, 4, 5 and 6 never carry legitimate interest.
    assert!(s.purpose_li.iter().all(|p| !NO_LEGITIMATE_INTEREST.contains(&p)));
    assert_eq!(s.ac_string(), "2~89.1097~dv.", "dv. lists what was disclosed and not consented to");
}

#[test]
fn publisher_restrictions_move_a_flexible_purpose_and_forbid_one() {
    let (config, gvl, _) = cases();
    let google = gvl.vendor(755).unwrap();
    let (consent, li) = bases(&config, google);
    // Purpose 2 is flexible for Google and the site requires consent for it.
    assert!(consent.contains(2) && !li.contains(2));
    let criteo = gvl.vendor(91).unwrap();
    let (consent, li) = bases(&config, criteo);
    assert!(!consent.contains(7) && !li.contains(7));
    // A legal basis required for a purpose the vendor did not declare flexible: it should not process it.
    let strict = TcfConfig {
        restrictions: vec![Restriction { purpose: 1, kind: RestrictionKind::RequireConsent, vendors: vec![10] }],
        ..config.clone()
    };
    let (consent, _) = bases(&strict, gvl.vendor(10).unwrap());
    assert!(!consent.contains(1) && consent.contains(2));
}

#[test]
fn choices_are_asked_again_when_the_policy_or_a_disclosed_vendor_changes() {
    let (config, gvl, cases) = cases();
    let all = &cases[0].1;
    let day = all.updated;
    assert!(all.current(&config, &gvl, day));
    // Another vendor list version with the same declarations: still current.
    assert!(all.current(&config, &Gvl { vendor_list_version: 141, ..gvl.clone() }, day));
    assert!(!all.current(&config, &Gvl { policy_version: 6, ..gvl.clone() }, day));
    let mut changed = gvl.clone();
    changed.vendors.iter_mut().find(|v| v.id == 755).unwrap().purposes.push(5);
    assert!(!all.current(&config, &changed, day));
    let more = TcfConfig { vendors: [config.vendors.clone(), vec![1]].concat(), ..config.clone() };
    let mut with_one = gvl.clone();
    with_one.vendors.push(Vendor { id: 1, ..gvl.vendors[0].clone() });
    assert!(!all.current(&more, &with_one, day));
    // A publisher restriction that changes what a vendor may do, and the publisher's own purposes.
    let unrestricted = TcfConfig { restrictions: Vec::new(), ..config.clone() };
    assert!(!all.current(&unrestricted, &gvl, day));
    let own = TcfConfig { publisher_consent: vec![1, 2], ..config.clone() };
    assert!(!all.current(&own, &gvl, day));
    // Thirteen months on.
    assert!(all.current(&config, &gvl, day + MAX_AGE_DAYS));
    assert!(!all.current(&config, &gvl, day + MAX_AGE_DAYS + 1));
}

#[test]
fn the_stored_form_reads_back() {
    let (_, _, cases) = cases();
    let negative = cases[0].1.to_text().replace("\"created\":20000", "\"created\":-1");
    assert_eq!(Choices::from_text(&negative), None);
    for (_, c) in cases {
        assert_eq!(Choices::from_text(&c.to_text()), Some(c));
    }
    assert_eq!(Choices::from_text("{\"v\":2}"), None);
}

#[test]
fn a_bad_section_says_what_to_fix() {
    let bad = |text: &str| TcfConfig::parse(&Json::parse(text).unwrap(), "tcf").unwrap_err().to_string();
    assert!(bad(r#"{"gvl":"/v.json","vendors":[1]}"#).contains("tcf.cmpId"));
    assert!(bad(r#"{"cmpId":300,"vendors":[1]}"#).contains("tcf.gvl"));
    assert!(bad(r#"{"cmpId":300,"gvl":"/v.json","vendors":[1],"publisherPurposes":{"legitimateInterest":[3]}}"#)
        .contains("purpose 3 may not"));
    assert!(bad(r#"{"cmpId":300,"gvl":"/v.json","vendors":[1],"publisherRestrictions":[{"purpose":2,"type":"maybe","vendors":[1]}]}"#)
        .contains("requireConsent"));
    assert!(bad(r#"{"cmpId":300,"gvl":"/v.json","vendors":[1],"publisherRestrictions":[{"purpose":3,"type":"requireLegitimateInterest","vendors":[1]}]}"#)
        .contains("purpose 3 may not"));
}

#[test]
fn a_translation_replaces_the_texts_it_has_and_sets_the_consent_language() {
    let (config, gvl, cases) = cases();
    let de = gvl.translated(include_str!("../../../../tests/fixtures/gvl/purposes-de.json"), "de").unwrap();
    assert_eq!(de.purposes[0].name, "Speichern von oder Zugriff auf Informationen auf einem Endgerät");
    // What the file lacks stays English; the vendors and versions are the GVL's.
    assert_eq!(de.purposes[2].name, gvl.purposes[2].name);
    assert_eq!((de.vendors.len(), de.vendor_list_version), (gvl.vendors.len(), gvl.vendor_list_version));
    // Choices made in German say so in the string, whatever language it is read in later.
    let german = Choices::accept_all(&config, &de, 20_000, None);
    assert_eq!(signals(&config, &gvl, &german).language, "DE");
    assert_eq!(signals(&config, &de, &cases[0].1).language, "EN");
    // The texts are not part of what was disclosed: the choices stay current.
    assert!(cases[0].1.current(&config, &de, cases[0].1.updated));
}
