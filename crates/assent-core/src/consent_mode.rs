//! Google Consent Mode v2: which consent types the decision in force grants, and the region defaults
//! derived from the config's rules. The client hands these to `gtag('consent', …)` through the loader.

use crate::config::Config;
use crate::flow::Flow;
use crate::region::GROUPS;

/// The consent types, in the order of the stored form's Consent Mode field.
pub const TYPES: [&str; 7] = [
    "ad_storage",
    "ad_user_data",
    "ad_personalization",
    "analytics_storage",
    "functionality_storage",
    "personalization_storage",
    "security_storage",
];

/// The default purpose → types map (used for the purposes a site configures).
pub const DEFAULT_MAP: [(&str, &[&str]); 3] = [
    ("analytics", &["analytics_storage"]),
    ("marketing", &["ad_storage", "ad_user_data", "ad_personalization"]),
    ("preferences", &["functionality_storage", "personalization_storage"]),
];

/// Granted (`true`) or denied, per [`TYPES`].
pub type State = [bool; 7];

/// One `gtag('consent', command, …)` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// `default` or `update`.
    pub command: &'static str,
    /// ISO 3166 codes the default is for (Google's own geolocation); empty for everyone.
    pub region: Vec<String>,
    /// The types' states.
    pub state: State,
}

/// The state for a set of allowed purposes. A type is granted when every purpose that maps to it is
/// allowed; `security_storage` is always granted; a type no purpose maps to is denied.
pub fn state(config: &Config, allowed: impl Fn(&str) -> bool) -> Option<State> {
    let cm = config.consent_mode.as_ref()?;
    let mut state = [false; 7];
    for (i, t) in TYPES.iter().enumerate() {
        let mut purposes = cm.purposes.iter().filter(|(_, types)| types.iter().any(|x| x == t)).peekable();
        state[i] = *t == "security_storage" || (purposes.peek().is_some() && purposes.all(|(p, _)| allowed(p)));
    }
    Some(state)
}

/// The stored form: one letter per type, `g` granted or `d` denied (empty without Consent Mode).
pub fn encode(state: Option<State>) -> String {
    state.map_or_else(String::new, |s| s.iter().map(|g| if *g { 'g' } else { 'd' }).collect())
}

/// Inverse of [`encode`].
pub fn decode(s: &str) -> Option<Option<State>> {
    if s.is_empty() {
        return Some(None);
    }
    let bytes = s.as_bytes();
    if bytes.len() != 7 || !bytes.iter().all(|b| *b == b'g' || *b == b'd') {
        return None;
    }
    let mut state = [false; 7];
    for (i, b) in bytes.iter().enumerate() {
        state[i] = *b == b'g';
    }
    Some(Some(state))
}

/// Region-specific defaults for Google's own geolocation, from the config's rules: each rule's
/// regions (groups expanded to their codes) get the state before any choice under its flow
/// (opt-out purposes on outside opt-in, and the rule's exemptions).
pub fn region_defaults(config: &Config) -> Vec<Command> {
    if config.consent_mode.is_none() {
        return Vec::new();
    }
    config
        .regions
        .rules
        .iter()
        .filter_map(|rule| {
            let region: Vec<String> = rule
                .matches
                .iter()
                .flat_map(|m| match GROUPS.iter().find(|(name, _)| name == m) {
                    Some((_, members)) => members.iter().map(|c| c.to_string()).collect(),
                    None => vec![m.clone()],
                })
                .collect();
            let on = |p: &str| {
                rule.exempt.iter().any(|e| e == p)
                    || (rule.flow != Flow::OptIn && config.purpose(p).is_some_and(|c| c.opt_out))
            };
            Some(Command { command: "default", region, state: state(config, on)? })
        })
        .collect()
}
