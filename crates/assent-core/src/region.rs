//! Resolving a visitor's region code to a flow with the config's rules.

use crate::config::{Config, RegionRule};
use crate::flow::Flow;

include!(concat!(env!("OUT_DIR"), "/region_groups.rs"));
include!(concat!(env!("OUT_DIR"), "/timezones.rs"));

/// The country of an IANA timezone (`Europe/Berlin` → `DE`), from tzdb's `zone.tab`.
pub fn country_for_timezone(zone: &str) -> Option<&'static str> {
    country_in(TIMEZONES, zone)
}

/// The same lookup in a copy of [`timezone_table`] (the browser fetches `timezones.txt`).
pub fn country_in<'a>(table: &'a str, zone: &str) -> Option<&'a str> {
    table.lines().find_map(|line| line.strip_prefix(zone)?.strip_prefix(' '))
}

/// The whole table as `zone COUNTRY` lines: what the build writes to `dist/assent/timezones.txt`.
pub fn timezone_table() -> &'static str {
    TIMEZONES
}

/// An ISO 3166-1 alpha-2 country (`DE`) or 3166-2 subdivision (`US-CA`), uppercased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Region(String);

impl Region {
    /// Parses `de`, `DE`, `us-ca`; returns `None` for anything else, and for the codes ISO 3166 leaves
    /// to users (`AA`, `QM`–`QZ`, `XA`–`XZ`, `ZZ`), which name no place: CDNs send `XX` for an unknown
    /// country. `XK` (Kosovo, in common use) is a country. `EU` and `AP` (what geo databases send for
    /// "somewhere in Europe / Asia-Pacific") name no country either.
    pub fn parse(code: &str) -> Option<Region> {
        let code = code.trim().to_ascii_uppercase();
        let (country, sub) = match code.split_once('-') {
            Some((c, s)) => (c, Some(s)),
            None => (code.as_str(), None),
        };
        let placeholder = match country.as_bytes() {
            [b'A', b'A'] | [b'Z', b'Z'] | [b'E', b'U'] | [b'A', b'P'] => true,
            [b'Q', c] => (b'M'..=b'Z').contains(c),
            [b'X', c] => *c != b'K',
            _ => false,
        };
        let country_ok = country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase()) && !placeholder;
        let sub_ok = sub.is_none_or(|s| (1..=3).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()));
        (country_ok && sub_ok).then_some(Region(code))
    }

    /// The code as written in config and receipts.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The country part.
    pub fn country(&self) -> &str {
        &self.0[..2]
    }
}

/// Whether a config `match` entry is a region code or a known group.
pub(crate) fn is_known_pattern(pattern: &str) -> bool {
    GROUPS.iter().any(|(name, _)| *name == pattern)
        || (Region::parse(pattern).is_some() && pattern == pattern.to_ascii_uppercase())
}

/// How specifically a pattern matches a region: a subdivision beats a country beats a group.
fn specificity(pattern: &str, region: &Region) -> Option<u8> {
    if pattern == region.as_str() && region.as_str().len() > 2 {
        return Some(3);
    }
    if pattern == region.country() {
        return Some(2);
    }
    let (_, members) = GROUPS.iter().find(|(name, _)| *name == pattern)?;
    members.iter().any(|m| *m == region.as_str() || *m == region.country()).then_some(1)
}

/// The rule in force for a region: the most specific matching rule wins; among equally specific
/// matches the strictest flow wins. `None` when no rule matches (then `regions.default` applies).
pub fn resolve_rule<'a>(config: &'a Config, region: &Region) -> Option<&'a RegionRule> {
    let mut best: Option<(u8, &RegionRule)> = None;
    for rule in &config.regions.rules {
        for pattern in &rule.matches {
            if let Some(s) = specificity(pattern, region) {
                best = Some(match best {
                    Some((bs, br)) if bs > s || (bs == s && br.flow >= rule.flow) => (bs, br),
                    _ => (s, rule),
                });
            }
        }
    }
    best.map(|(_, r)| r)
}

/// The flow for a region: that of [`resolve_rule`]. A known region that no rule matches gets
/// `regions.default`; an unknown region (`None`) gets the strictest flow the config can produce.
pub fn resolve_flow(config: &Config, region: Option<&Region>) -> Flow {
    let Some(region) = region else {
        return config.strictest_flow();
    };
    resolve_rule(config, region).map_or(config.regions.default, |r| r.flow)
}

/// The flow for a visitor known only to be somewhere in `country` (from the timezone): the strictest
/// flow of any rule that could apply there, a subdivision's included. America/Toronto covers Ontario
/// and Quebec, so `CA` gets Quebec's opt-in when a rule names `CA-QC`.
pub fn resolve_flow_somewhere_in(config: &Config, country: &Region) -> Flow {
    let subdivision = |code: &str| code.len() > 3 && code.starts_with(country.country()) && code.as_bytes()[2] == b'-';
    let mut flow = resolve_flow(config, Some(country));
    for rule in &config.regions.rules {
        let applies = rule.matches.iter().any(|pattern| {
            subdivision(pattern)
                || GROUPS.iter().any(|(name, members)| name == pattern && members.iter().any(|m| subdivision(m)))
        });
        if applies {
            flow = flow.max(rule.flow);
        }
    }
    flow
}

/// Whether any pattern (code or group) covers the region. An unknown region matches nothing.
pub fn matches_any(patterns: &[String], region: Option<&Region>) -> bool {
    region.is_some_and(|r| patterns.iter().any(|p| specificity(p, r).is_some()))
}
