//! Properties over generated values: the stored forms read back exactly what was written
//! (`decode(encode(x)) == x`), for the decision cookie and for each kind of scoped line.

use assent_core::decision::{Decision, Method, RegionSource};
use assent_core::scoped::{Scope, ScopedChoice};
use assent_core::Flow;
use proptest::collection::btree_set;
use proptest::prelude::*;

const METHODS: [Method; 9] = [
    Method::AcceptAll,
    Method::RejectAll,
    Method::PreferencesSaved,
    Method::Withdrawal,
    Method::Acknowledged,
    Method::Api,
    Method::AiToggle,
    Method::Gpc,
    Method::Placeholder,
];

fn hex32() -> impl Strategy<Value = String> {
    "[0-9a-f]{32}"
}

fn label() -> impl Strategy<Value = String> {
    "[A-Za-z0-9._-]{1,32}"
}

fn zone() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9/_+-]{0,30}"
}

fn region_source() -> impl Strategy<Value = RegionSource> {
    prop_oneof![
        Just(RegionSource::Unknown),
        Just(RegionSource::Page),
        Just(RegionSource::Geo(String::new())),
        zone().prop_map(RegionSource::Geo),
        zone().prop_map(RegionSource::Timezone),
    ]
}

/// Purpose ids split into a granted and a refused set (disjoint, each sorted).
fn purposes() -> impl Strategy<Value = (Vec<String>, Vec<String>)> {
    btree_set("[a-z][a-z0-9_]{0,12}", 0..8).prop_flat_map(|ids| {
        let ids: Vec<String> = ids.into_iter().collect();
        let n = ids.len();
        proptest::collection::vec(any::<bool>(), n).prop_map(move |sides| {
            let (granted, denied): (Vec<_>, Vec<_>) = ids.iter().cloned().zip(sides).partition(|(_, g)| *g);
            (granted.into_iter().map(|(id, _)| id).collect(), denied.into_iter().map(|(id, _)| id).collect())
        })
    })
}

prop_compose! {
    fn decision()(
        subject in hex32(), receipt in hex32(), notice_version in label(),
        decided_at in 0u64..=u64::MAX / 2, lifetime in 0u64..=400 * 86_400,
        (granted, denied) in purposes(), config_fingerprint in any::<u32>(),
        method in proptest::sample::select(METHODS.to_vec()),
        region in proptest::option::of("[A-Z]{2}(-[A-Z0-9]{1,3})?"),
        flow in proptest::sample::select(vec![Flow::Notice, Flow::OptOut, Flow::OptIn]),
        region_source in region_source(), gpc in any::<bool>(), persistent_ui in any::<bool>(),
        consent_mode in prop_oneof![Just(String::new()), "[gd]{7}"],
    ) -> Decision {
        Decision {
            subject, receipt: format!("r{receipt}"), notice_version, decided_at, expires_at: decided_at + lifetime,
            granted, denied, config_fingerprint, method, region, flow, region_source, gpc, persistent_ui, consent_mode,
        }
    }
}

prop_compose! {
    fn scoped()(
        conversation in proptest::bool::ANY,
        id in "[A-Za-z0-9._:-]{1,64}", service in "[A-Za-z0-9][A-Za-z0-9 ._-]{0,30}[A-Za-z0-9]",
        purpose in "[a-z][a-z0-9_]{0,12}", on in any::<bool>(), notice_version in proptest::option::of(label()),
        subject in hex32(), receipt in hex32(), decided_at in 0u64..=u64::MAX / 2, lifetime in 0u64..=400 * 86_400,
        method in proptest::sample::select(METHODS.to_vec()),
    ) -> ScopedChoice {
        let (scope, purpose, default) = if conversation {
            (Scope::Conversation(id), "ai_training".to_string(), Method::AiToggle)
        } else {
            (Scope::Service(service), purpose, Method::Placeholder)
        };
        // A line without a notice version (version 1) stores no method: it reads back as its kind's own.
        let method = if notice_version.is_some() { method } else { default };
        ScopedChoice {
            scope, purpose, on, notice_version, subject, receipt: format!("r{receipt}"), decided_at,
            expires_at: decided_at + lifetime, method,
        }
    }
}

proptest! {
    #[test]
    fn a_stored_decision_reads_back_as_written(d in decision()) {
        prop_assert_eq!(Decision::decode(&d.encode()), Some(d));
    }

    #[test]
    fn a_stored_scoped_choice_reads_back_as_written(c in scoped()) {
        prop_assert_eq!(ScopedChoice::decode(&c.encode(), c.scope.kind()), Some(c.clone()));
    }
}

/// JSON values with what receipts hold: integers (within ±2⁵³), any Unicode text (control characters,
/// astral planes), nested arrays and objects whose keys are any text.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::Bool),
        (-(1i64 << 53)..=(1i64 << 53)).prop_map(serde_json::Value::from),
        any::<String>().prop_map(serde_json::Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
            proptest::collection::btree_map(any::<String>(), inner, 0..6)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    /// The core's RFC 8785 canonical form (what receipts are signed over) is the one an independent
    /// implementation (the `serde_json_canonicalizer` crate) writes for the same value.
    #[test]
    fn canonical_json_matches_an_independent_rfc_8785_implementation(v in json_value()) {
        let ours = assent_core::json::Json::parse(&serde_json::to_string(&v).unwrap()).unwrap().canonical();
        prop_assert_eq!(ours, serde_json_canonicalizer::to_string(&v).unwrap());
    }
}
