//! The checks behind Assent's fuzz targets (`fuzz/`, run by `cargo xtask fuzz`). Each takes the
//! fuzzer's bytes, feeds them to one input surface, and panics only when a property fails: a panic in
//! the code under test, or an answer that contradicts itself. `tests/seeds.rs` replays the committed
//! seed corpora and regressions through the same functions in `npm test`.
//!
//! | Target | Surface | Property |
//! |---|---|---|
//! | `config` | `Config::parse` (parsing and validation) | no panic; a valid config builds its tracker table and its fingerprint |
//! | `stored` | the decision cookie and the scoped lines | no panic; whatever decodes, encodes back to something that decodes to the same |
//! | `claims` | the core's JSON, RFC 8785 canonical form, receipt claims | no panic; canonical form is a fixed point; claims read from canonical JSON write back the same bytes |
//! | `usnat` | the GPP `usnat` encoder | the string decodes (by the reader here) to the fields encoded |
//! | `trackers` | the tracker table's URL lookup | no panic; a URL's service is one the table holds, and the same through `service_of` |
//! | `intake` | the collector's `POST /v1/receipts`, from JWS parsing to the store | never a 5xx; a refusal is a 4xx with a reason |

pub mod intake;
mod usnat;

pub use intake::intake;
pub use usnat::usnat;

use assent_core::decision::Decision;
use assent_core::json::Json;
use assent_core::receipt::Claims;
use assent_core::scoped::{self, Kind, ScopedChoice};
use assent_core::trackers::{host_and_path, Trackers};
use assent_core::Config;

/// The names of the targets, each a function here and a binary in `fuzz/fuzz_targets/`.
pub const TARGETS: [&str; 6] = ["config", "stored", "claims", "usnat", "trackers", "intake"];

/// Runs target `name` on `data` (the seed replay's entry point).
pub fn run(name: &str, data: &[u8]) {
    match name {
        "config" => config(data),
        "stored" => stored(data),
        "claims" => claims(data),
        "usnat" => usnat(data),
        "trackers" => trackers(data),
        "intake" => intake(data),
        _ => panic!("no fuzz target named {name}"),
    }
}

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// Config parsing and validation.
pub fn config(data: &[u8]) {
    let Some(text) = text(data) else { return };
    if let Ok(config) = Config::parse(text) {
        let trackers = Trackers::new(&config.blocking);
        for service in trackers.services() {
            assert!(
                trackers.service_of(Some(&service.name), None).is_some(),
                "a configured service is found by its name"
            );
        }
        let _ = assent_core::hash::config_fingerprint(text);
    }
}

/// The stored forms: the decision cookie, one scoped line of each kind, and a stored list.
pub fn stored(data: &[u8]) {
    let Some(text) = text(data) else { return };
    if let Some(d) = Decision::decode(text) {
        assert_eq!(Decision::decode(&d.encode()), Some(d.clone()), "a decoded cookie encodes back to itself");
    }
    for kind in [Kind::Conversation, Kind::Service] {
        if let Some(c) = ScopedChoice::decode(text, kind) {
            assert_eq!(
                ScopedChoice::decode(&c.encode(), kind),
                Some(c.clone()),
                "a decoded line encodes back to itself"
            );
        }
        let all = scoped::decode_all(text, kind);
        let again = scoped::decode_all(&scoped::encode_all(&all, kind), kind);
        assert!(again.len() <= all.len(), "re-reading a stored list finds nothing new");
    }
}

/// JSON, its canonical form, and receipt claims.
pub fn claims(data: &[u8]) {
    let Some(text) = text(data) else { return };
    if let Ok(json) = Json::parse(text) {
        let canonical = json.canonical();
        let again = Json::parse(&canonical).expect("canonical JSON parses");
        assert_eq!(again.canonical(), canonical, "the canonical form is a fixed point");
    }
    if let Ok(claims) = Claims::from_canonical_json(text) {
        assert_eq!(claims.to_canonical_json(), text, "claims read from canonical JSON write back the same bytes");
    }
}

/// The tracker table's lookup of a URL, with the table the core ships.
pub fn trackers(data: &[u8]) {
    let Some(url) = text(data) else { return };
    thread_local! {
        static TABLE: Trackers = Trackers::new(&assent_core::config::Blocking::default());
    }
    TABLE.with(|table| {
        let Some(service) = table.classify(url) else { return };
        assert!(table.services().iter().any(|s| s.name == service.name));
        assert_eq!(table.service_of(None, Some(url)).map(|s| &s.name), Some(&service.name));
        let (host, path) = host_and_path(url).expect("a classified URL has a host");
        // What a refusal removes, with the URL's parts as the names the page shows.
        let _ = table.cleanup(std::slice::from_ref(&service.name), &[host, path, url], &[url], host, path);
    });
}
