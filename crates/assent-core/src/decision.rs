//! A visitor's decision and its compact stored form.
//!
//! The stored form is the cookie value. The core writes it; the loader and servers only read it:
//!
//! ```text
//! 2|<subject>|<notice version>|<decided at>|<expires at>|<granted>|<denied>|<config fingerprint>|<method>|<region>|<flow>|<receipt id>|<do not train>|<region source>|<gpc>|<persistent ui>|<consent mode>
//! ```
//!
//! Times are Unix seconds (UTC). `granted` and `denied` are purpose ids joined with `.`. The
//! fingerprint is 8 lowercase hex digits of [`crate::hash::config_fingerprint`]. Every field is
//! cookie-safe by construction (ids, labels, region codes and timezone names are validated), so nothing
//! is escaped. The region source is `page` (`data-region`), `geo:<zone>` (the geo endpoint, asked from
//! that timezone; `geo` before 2026-11-23), `tz:<zone>` (the timezone) or empty (unknown); `gpc` is whether the browser sent Global Privacy Control then; `persistent ui` is `1` when the core
//! shows something on every page view (the opt-out entry point), so the loader must start it; `consent mode` is the Google Consent Mode state the decision grants, one
//! letter per type (`crate::consent_mode::TYPES`), or empty when the site does not use it.

use crate::flow::Flow;

/// Version of the stored form. A reader that sees another version treats the cookie as absent.
pub const STORED_FORM_VERSION: &str = "3";

/// Version 2 has the same fields. It was written before a country alone (`US`) got the strictest rule
/// in it: the core reads it and writes it again as 3, and the loader, which acts only on 3, leaves a
/// version-2 cookie to the core once, so a decision made under the old resolution is checked again.
pub const PREVIOUS_FORM_VERSION: &str = "2";

/// How many `|`-separated fields the stored form has (its version first).
pub const STORED_FORM_FIELDS: usize = 17;

/// Where the region in force came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegionSource {
    /// No region: the strictest flow applies.
    Unknown,
    /// The page's `data-region`.
    Page,
    /// The config's geo endpoint, asked from this IANA timezone (empty when the browser gave none).
    Geo(String),
    /// The visitor's IANA timezone, mapped to a country.
    Timezone(String),
}

impl RegionSource {
    /// Stored form.
    pub fn encode(&self) -> String {
        match self {
            RegionSource::Unknown => String::new(),
            RegionSource::Page => "page".into(),
            RegionSource::Geo(zone) => format!("geo:{zone}"),
            RegionSource::Timezone(zone) => format!("tz:{zone}"),
        }
    }

    /// Inverse of [`RegionSource::encode`].
    pub fn decode(s: &str) -> Option<RegionSource> {
        Some(match s {
            "" => RegionSource::Unknown,
            "page" => RegionSource::Page,
            // Before the zone was kept: the loader never matches it, so the core asks again and stores the zone.
            "geo" | "geo:" => RegionSource::Geo(String::new()),
            other => match other.strip_prefix("geo:") {
                Some(zone) => RegionSource::Geo(Some(zone).filter(|z| is_timezone(z))?.to_string()),
                None => RegionSource::Timezone(other.strip_prefix("tz:").filter(|z| is_timezone(z))?.to_string()),
            },
        })
    }
}

/// An IANA timezone name as browsers report it: `Area/Location`, letters, digits, `/`, `_`, `+`, `-`.
pub fn is_timezone(zone: &str) -> bool {
    (1..=64).contains(&zone.len())
        && zone.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'+' | b'-'))
}

/// Seconds since the Unix epoch, UTC. Passed in by the caller: the core never reads a clock.
pub type Timestamp = u64;

/// How a decision was captured; recorded with it (and, later, in its receipt).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// "Accept all" on the banner or in preferences.
    AcceptAll,
    /// "Reject all" on the banner or in preferences.
    RejectAll,
    /// "Save choices" in preferences.
    PreferencesSaved,
    /// Withdrawal of one purpose or of everything.
    Withdrawal,
    /// The notice (opt-out and notice flows) was acknowledged; defaults stand.
    Acknowledged,
    /// A call on the JS API (`set`, `acceptAll`, `rejectAll`).
    Api,
    /// The per-conversation AI-training toggle (`<assent-ai-toggle>`).
    AiToggle,
    /// Global Privacy Control applied automatically (an opt-out of sale, sharing and targeted advertising).
    Gpc,
    /// "Always allow" on an embed's placeholder: one service allowed always.
    Placeholder,
}

impl Method {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::AcceptAll => "accept_all",
            Method::RejectAll => "reject_all",
            Method::PreferencesSaved => "preferences_saved",
            Method::Withdrawal => "withdrawal",
            Method::Acknowledged => "acknowledged",
            Method::Api => "api",
            Method::AiToggle => "ai_toggle",
            Method::Gpc => "gpc",
            Method::Placeholder => "placeholder",
        }
    }

    /// Inverse of [`Method::as_str`].
    pub fn parse(s: &str) -> Option<Method> {
        use Method::*;
        [AcceptAll, RejectAll, PreferencesSaved, Withdrawal, Acknowledged, Api, AiToggle, Gpc, Placeholder]
            .into_iter()
            .find(|m| m.as_str() == s)
    }
}

/// A decision as stored. `granted` and `denied` are disjoint and together cover every purpose the
/// config had when the decision was made (`necessary` is always in `granted`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Pseudonymous random subject id (32 hex digits), kept across decisions.
    pub subject: String,
    /// Id of the receipt that records this decision (`r` + 32 hex digits).
    pub receipt: String,
    /// The notice version the visitor answered.
    pub notice_version: String,
    /// When the decision was made.
    pub decided_at: Timestamp,
    /// When it stops counting and the visitor is asked again.
    pub expires_at: Timestamp,
    /// Purposes allowed, sorted.
    pub granted: Vec<String>,
    /// Purposes refused, sorted.
    pub denied: Vec<String>,
    /// Fingerprint of the config text the core last validated this decision against.
    pub config_fingerprint: u32,
    /// How it was captured.
    pub method: Method,
    /// Region code in force, if known.
    pub region: Option<String>,
    /// Flow in force.
    pub flow: Flow,
    /// Where the region came from.
    pub region_source: RegionSource,
    /// Whether the browser sent Global Privacy Control when the decision was made.
    pub gpc: bool,
    /// Whether the core shows something on every page view (the opt-out entry point): the loader
    /// then starts the wasm after the page has loaded, even when it could apply the decision alone.
    pub persistent_ui: bool,
    /// The Google Consent Mode state this decision grants ([`crate::consent_mode::encode`]), so the
    /// loader can send `gtag('consent', 'update', …)` on a returning visit without the wasm.
    pub consent_mode: String,
}

impl Decision {
    /// The cookie value.
    pub fn encode(&self) -> String {
        let join = |set: &[String]| crate::joined(set, ".");
        crate::joined(
            &[
                STORED_FORM_VERSION.to_string(),
                self.subject.clone(),
                self.notice_version.clone(),
                self.decided_at.to_string(),
                self.expires_at.to_string(),
                join(&self.granted),
                join(&self.denied),
                format!("{:08x}", self.config_fingerprint),
                self.method.as_str().to_string(),
                self.region.clone().unwrap_or_default(),
                self.flow.as_str().to_string(),
                self.receipt.clone(),
                if self.do_not_train() { "1" } else { "0" }.to_string(),
                self.region_source.encode(),
                if self.gpc { "1" } else { "0" }.to_string(),
                if self.persistent_ui { "1" } else { "0" }.to_string(),
                self.consent_mode.clone(),
            ],
            "|",
        )
    }

    /// Reads a cookie value; `None` for anything malformed or of another version (treated as no decision).
    pub fn decode(value: &str) -> Option<Decision> {
        let f: Vec<&str> = value.split('|').collect();
        if f.len() != STORED_FORM_FIELDS || (f[0] != STORED_FORM_VERSION && f[0] != PREVIOUS_FORM_VERSION) {
            return None;
        }
        let split = |s: &str| -> Option<Vec<String>> {
            if s.is_empty() {
                return Some(Vec::new());
            }
            let ids: Vec<String> = s
                .split('.')
                .map(|id| crate::purpose::is_purpose_id(id).then(|| id.to_string()))
                .collect::<Option<_>>()?;
            // Sorted and unique, as the core writes them.
            ids.windows(2).all(|w| w[0] < w[1]).then_some(ids)
        };
        let subject = f[1];
        if subject.len() != 32 || !subject.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let granted = split(f[5])?;
        let denied = split(f[6])?;
        if granted.iter().any(|g| denied.contains(g)) {
            return None;
        }
        let receipt = f[11];
        if receipt.len() != 33 || !receipt.starts_with('r') || !receipt[1..].bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let decision = Decision {
            subject: subject.to_string(),
            receipt: receipt.to_string(),
            notice_version: f[2].to_string(),
            decided_at: f[3].parse().ok()?,
            expires_at: f[4].parse().ok()?,
            granted,
            denied,
            config_fingerprint: u32::from_str_radix(f[7], 16).ok().filter(|_| f[7].len() == 8)?,
            method: Method::parse(f[8])?,
            region: (!f[9].is_empty()).then(|| f[9].to_string()),
            flow: Flow::parse(f[10])?,
            region_source: RegionSource::decode(f[13])?,
            gpc: flag(f[14])?,
            persistent_ui: flag(f[15])?,
            consent_mode: crate::consent_mode::decode(f[16]).map(|_| f[16].to_string())?,
        };
        // The flag is derived; a value that disagrees with `granted` means the cookie was edited.
        (f[12] == if decision.do_not_train() { "1" } else { "0" }).then_some(decision)
    }

    /// Whether this decision, read from the cookie another tab shares, replaces `own` (the decision
    /// this tab holds, if any) for a page under `notice_version` and `flow` at `now`: another receipt,
    /// made no earlier, not expired, for this notice, and under a flow at least as strict. The loader's
    /// `adopts` (`web/loader/stored.js`) is the same rule, pinned by `data/conformance/adoption.json`.
    pub fn supersedes(&self, own: Option<&Decision>, notice_version: &str, flow: Flow, now: Timestamp) -> bool {
        let newer = own.is_none_or(|own| own.receipt != self.receipt && self.decided_at >= own.decided_at);
        newer && self.expires_at > now && self.notice_version == notice_version && self.flow >= flow
    }

    /// Whether data must be kept out of AI training: true unless `ai_training` is granted. Stamped onto
    /// data that leaves the page (`assent.stamp`).
    pub fn do_not_train(&self) -> bool {
        !self.granted.iter().any(|p| p == crate::purpose::AI_TRAINING)
    }
}

fn flag(s: &str) -> Option<bool> {
    match s {
        "1" => Some(true),
        "0" => Some(false),
        _ => None,
    }
}

/// Lowercase hex of 16 random bytes supplied by the caller (subject and receipt ids).
pub fn hex(bytes: [u8; 16]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
