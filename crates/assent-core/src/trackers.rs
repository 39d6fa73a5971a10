//! The tracker database: which URLs belong to which service and purpose, and which cookies and
//! storage keys each service leaves behind, so that a withdrawal can remove them.
//!
//! The data is `data/trackers.json`, generated into this crate by `build.rs`. The loader's compact
//! table is [`loader_table`], written into `dist/assent/assent.js` by `cargo xtask dist` from the same
//! static, so the loader and the core cannot disagree. A config extends it with `blocking`
//! ([`crate::config::Blocking`]).

use crate::config::Blocking;

include!(concat!(env!("OUT_DIR"), "/trackers.rs"));

/// One row of `data/trackers.json`, as generated.
pub(crate) struct ServiceData {
    name: &'static str,
    purpose: &'static str,
    matches: &'static [&'static str],
    cookies: &'static [&'static str],
    storage: &'static [&'static str],
}

/// A service whose requests Assent recognises: from the database, or added or changed by the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// Display name, also the key a config uses to change it (`Google Analytics`).
    pub name: String,
    /// The purpose that must be allowed before its tags run.
    pub purpose: String,
    /// `host` or `host/path-prefix` patterns; a host also covers its subdomains.
    pub matches: Vec<String>,
    /// First-party cookie names it sets; a trailing `*` is a prefix.
    pub cookies: Vec<String>,
    /// localStorage and sessionStorage keys it sets; a trailing `*` is a prefix.
    pub storage: Vec<String>,
}

/// The database as shipped, in file order.
pub fn database() -> Vec<Service> {
    DATABASE
        .iter()
        .map(|s| Service {
            name: s.name.into(),
            purpose: s.purpose.into(),
            matches: s.matches.iter().map(|m| m.to_string()).collect(),
            cookies: s.cookies.iter().map(|m| m.to_string()).collect(),
            storage: s.storage.iter().map(|m| m.to_string()).collect(),
        })
        .collect()
}

/// The loader's compact form of the database: `purpose|name|pattern,pattern` per service, services
/// joined by `;`. `build.rs` refuses names and patterns that hold a separator.
pub fn loader_table() -> String {
    DATABASE.iter().map(|s| format!("{}|{}|{}", s.purpose, s.name, s.matches.join(","))).collect::<Vec<_>>().join(";")
}

/// Whether `pattern` (`host` or `host/path-prefix`) covers a URL with this host and path.
pub fn pattern_matches(pattern: &str, host: &str, path: &str) -> bool {
    let (want_host, want_path) = pattern.find('/').map_or((pattern, ""), |i| pattern.split_at(i));
    let host = host.trim_end_matches('.');
    let host_ok = host.eq_ignore_ascii_case(want_host)
        || (host.len() > want_host.len()
            && host.as_bytes()[host.len() - want_host.len() - 1] == b'.'
            && host[host.len() - want_host.len()..].eq_ignore_ascii_case(want_host));
    host_ok && path.starts_with(want_path)
}

/// Whether `pattern` is a usable `host` or `host/path-prefix`: a lowercase host with a dot, no scheme,
/// port or query.
pub fn is_pattern(pattern: &str) -> bool {
    let host = pattern.split('/').next().unwrap_or_default();
    host.contains('.')
        && !host.starts_with('.')
        && !host.ends_with('.')
        && host.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && !pattern.contains(['?', '#', ' ', '|', ';', ','])
}

/// Whether a cookie or storage name matches a pattern (`_ga`, or `_ga_*` for a prefix).
pub fn name_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => name == pattern,
    }
}

/// The host and path of an absolute `http(s)://` or `ws(s)://` URL; `None` for anything else.
pub fn host_and_path(url: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    if !["http", "https", "ws", "wss"].iter().any(|s| s.eq_ignore_ascii_case(scheme)) {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..end];
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host =
        host.rsplit_once(':').filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit())).map_or(host, |(h, _)| h);
    let path = &rest[end..];
    let path = &path[..path.find(['?', '#']).unwrap_or(path.len())];
    Some((host, if path.is_empty() { "/" } else { path }))
}

/// Google's country domains (`www.google.de`, `google.co.uk`, `google.com.br`) serve the same Ads and
/// Maps paths as `google.com`, so they are looked up as `google.com` (the loader's `tracker` does the same).
fn google_country(host: &str) -> Option<String> {
    let (before, tld) = host.rsplit_once("google.")?;
    let cc = tld.strip_prefix("com.").or_else(|| tld.strip_prefix("co.")).unwrap_or(tld);
    ((before.is_empty() || before.ends_with('.')) && cc.len() == 2 && cc.bytes().all(|b| b.is_ascii_lowercase()))
        .then(|| [before, "google.com"].concat())
}

/// What a withdrawal removes from the browser.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cleanup {
    /// `document.cookie` assignments that expire each matching cookie in every domain and path
    /// variant the page can reach.
    pub cookies: Vec<String>,
    /// localStorage and sessionStorage keys to remove.
    pub storage: Vec<String>,
}

/// The database with a config's changes applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trackers {
    services: Vec<Service>,
    allow: Vec<String>,
}

impl Trackers {
    /// The database, with `blocking.services` changing or adding services and `blocking.allow`
    /// taking hosts out. The config was validated: every rule is usable.
    pub fn new(blocking: &Blocking) -> Trackers {
        if !blocking.auto {
            return Trackers { services: Vec::new(), allow: Vec::new() };
        }
        let mut services = database();
        for rule in &blocking.services {
            match services.iter_mut().find(|s| s.name.eq_ignore_ascii_case(&rule.name)) {
                Some(s) => {
                    if let Some(purpose) = &rule.purpose {
                        s.purpose = purpose.clone();
                    }
                    s.matches.extend(rule.matches.iter().cloned());
                    s.cookies.extend(rule.cookies.iter().cloned());
                    s.storage.extend(rule.storage.iter().cloned());
                }
                None => services.push(Service {
                    name: rule.name.clone(),
                    purpose: rule.purpose.clone().unwrap_or_default(),
                    matches: rule.matches.clone(),
                    cookies: rule.cookies.clone(),
                    storage: rule.storage.clone(),
                }),
            }
        }
        Trackers { services, allow: blocking.allow.clone() }
    }

    /// Every service, database first.
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// The service an absolute URL belongs to, unless the config allow-lists its host.
    pub fn classify(&self, url: &str) -> Option<&Service> {
        let (host, path) = host_and_path(url)?;
        let country = google_country(host);
        let host = country.as_deref().unwrap_or(host);
        if self.allow.iter().any(|a| pattern_matches(a, host, path)) {
            return None;
        }
        self.services.iter().find(|s| s.matches.iter().any(|m| pattern_matches(m, host, path)))
    }

    /// The service of a gated element: the one its `data-service` names (`named`), if the table knows
    /// it (in any case), else the one its absolute URL belongs to. The loader's `serviceOf`
    /// (`web/loader/trackers.js`) is the same rule, pinned by `data/conformance/trackers.json`.
    pub fn service_of(&self, named: Option<&str>, url: Option<&str>) -> Option<&Service> {
        named
            .and_then(|n| self.services.iter().find(|s| s.name.eq_ignore_ascii_case(n)))
            .or_else(|| url.and_then(|u| self.classify(u)))
    }

    /// What to remove when the services named `refused` may not run (every other service may): the
    /// cookies among `cookie_names` (what `document.cookie` shows) and the storage keys among
    /// `storage_keys` that they set, except a name that a service still allowed uses too.
    /// A cookie is expired for the host alone and for every parent domain, on `/` and on every prefix
    /// of `path`: the variants a page at `host` + `path` can see.
    pub fn cleanup(
        &self,
        refused: &[String],
        cookie_names: &[&str],
        storage_keys: &[&str],
        host: &str,
        path: &str,
    ) -> Cleanup {
        let (services, allowed): (Vec<&Service>, Vec<&Service>) =
            self.services.iter().partition(|s| refused.contains(&s.name));
        let owned = |names: &[&str], pick: fn(&Service) -> &Vec<String>| -> Vec<String> {
            let sets = |list: &[&Service], n: &str| list.iter().any(|s| pick(s).iter().any(|p| name_matches(p, n)));
            let mut out: Vec<String> =
                names.iter().filter(|n| sets(&services, n) && !sets(&allowed, n)).map(|n| n.to_string()).collect();
            out.sort();
            out.dedup();
            out
        };
        let mut domains = vec![None];
        let labels: Vec<&str> = host.split('.').collect();
        let numeric = host.bytes().all(|b| b.is_ascii_digit() || b == b'.') || host.contains(':');
        if numeric || labels.len() < 2 {
            domains.push(Some(host.to_string()));
        } else {
            domains.extend((0..labels.len() - 1).map(|i| Some(crate::joined(&labels[i..], "."))));
        }
        let mut paths = vec!["/".to_string()];
        for (i, _) in path.match_indices('/').skip(1) {
            paths.push(path[..i].to_string());
            paths.push(path[..=i].to_string());
        }
        if path.len() > 1 && !path.ends_with('/') {
            paths.push(path.to_string());
        }
        paths.dedup();
        let mut cookies = Vec::new();
        for name in owned(cookie_names, |s| &s.cookies) {
            for domain in &domains {
                for p in &paths {
                    let domain = domain.as_ref().map(|d| format!("; Domain={d}")).unwrap_or_default();
                    cookies.push(format!("{name}=; Max-Age=0; Path={p}{domain}"));
                }
            }
        }
        Cleanup { cookies, storage: owned(storage_keys, |s| &s.storage) }
    }
}
