//! The site config: what a site owner writes in `assent.json`.
//!
//! [`Config::parse`] reads the JSON text with [`crate::json`] (the same code in the browser and in
//! native tools) and then validates it. Every error names the field, e.g. `purposes[3].id`.

use crate::error::ConfigError;
use crate::flow::Flow;
use crate::json::{as_string, invalid, Fields, Json};
use crate::purpose::{is_purpose_id, AI_TRAINING, NECESSARY};

/// The whole site config.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename_all = "camelCase", deny_unknown_fields))]
pub struct Config {
    /// JSON Schema reference, ignored by Assent.
    #[cfg_attr(feature = "schema", schemars(rename = "$schema"))]
    pub schema: Option<String>,
    /// The privacy notice the banner summarises. Bump `version` when consent-relevant content changes:
    /// every visitor is asked again.
    pub notice: Notice,
    /// Who is asking for consent (shown in the banner, recorded in receipts).
    pub controller: String,
    /// Languages this site offers; each needs a file in `locales/`. The first is the fallback. Default:
    /// every language Assent ships, English first.
    #[cfg_attr(feature = "schema", schemars(default = "default_languages"))]
    pub languages: Vec<String>,
    /// Force one language instead of negotiating it from `<html lang>` and the browser.
    #[cfg_attr(feature = "schema", schemars(default))]
    pub language: Option<String>,
    /// Where the decision is stored.
    #[cfg_attr(feature = "schema", schemars(default))]
    pub cookie: CookieConfig,
    /// How long a decision is remembered.
    #[cfg_attr(feature = "schema", schemars(default))]
    pub expiry: Expiry,
    /// The purposes visitors choose among, in display order. `necessary` must be present.
    pub purposes: Vec<Purpose>,
    /// Which flow applies in which region.
    #[cfg_attr(feature = "schema", schemars(default))]
    pub regions: Regions,
    /// Where signed receipts are delivered.
    #[cfg_attr(feature = "schema", schemars(default))]
    pub receipts: Receipts,
    /// How the Global Privacy Control signal is honoured.
    #[cfg_attr(feature = "schema", schemars(default))]
    pub gpc: GpcConfig,
    /// Google Consent Mode v2: present to turn it on.
    #[cfg_attr(feature = "schema", schemars(default))]
    pub consent_mode: Option<ConsentModeConfig>,
    /// The persistent link back to the choices in opt-out regions: `privacyChoices` ("Your Privacy
    /// Choices", default), `doNotSell` ("Do Not Sell or Share My Personal Information"), or `none`
    /// when the site links to `assent.showPreferences()` itself.
    #[cfg_attr(feature = "schema", schemars(default))]
    pub opt_out_entry_point: EntryPoint,
    /// Per-string overrides of the locale files: `{"banner.title": "…"}` or `{"de": {"banner.title": "…"}}`.
    #[cfg_attr(feature = "schema", schemars(default))]
    pub text: Vec<(String, TextOverride)>,
    /// Automatic blocking of known trackers that the page injects (see docs/blocking.md).
    #[cfg_attr(feature = "schema", schemars(default))]
    pub blocking: Blocking,
    /// Colour scheme and position of the UI (colours, font, radius and spacing are CSS custom
    /// properties: docs/theming.md).
    #[cfg_attr(feature = "schema", schemars(default))]
    pub theme: Theme,
}

/// How the UI looks, beyond what CSS custom properties set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename_all = "camelCase", deny_unknown_fields))]
pub struct Theme {
    /// `auto` (the visitor's system setting, default), `light` or `dark`.
    #[cfg_attr(feature = "schema", schemars(default))]
    pub scheme: Scheme,
    /// Where the first layer sits: `bar` (across the bottom, default), `box` (a corner box) or `modal`
    /// (centred over the page, which waits for an answer).
    #[cfg_attr(feature = "schema", schemars(default))]
    pub position: Position,
}

/// Light or dark colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename_all = "camelCase"))]
pub enum Scheme {
    /// The visitor's system setting (`prefers-color-scheme`).
    #[default]
    Auto,
    /// Always light.
    Light,
    /// Always dark.
    Dark,
}

/// Where the first layer sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename_all = "camelCase"))]
pub enum Position {
    /// Across the bottom of the viewport.
    #[default]
    Bar,
    /// A box in the bottom corner.
    Box,
    /// Centred over a dimmed page (modal).
    Modal,
}

/// Automatic blocking: the tracker database (`data/trackers.json`) and the site's changes to it.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename_all = "camelCase", deny_unknown_fields))]
pub struct Blocking {
    /// Hold known trackers that the page injects until their purpose is allowed (default true).
    /// `false` gates only the elements marked with `data-category`.
    #[cfg_attr(feature = "schema", schemars(default = "default_true"))]
    pub auto: bool,
    /// Services to add, or to change by name (`{"name": "YouTube", "purpose": "preferences"}`).
    /// `match`, `cookies` and `storage` of a known service add to its lists.
    #[cfg_attr(feature = "schema", schemars(default))]
    pub services: Vec<ServiceRule>,
    /// `host` or `host/path-prefix` patterns never blocked, e.g. a first-party analytics proxy.
    #[cfg_attr(feature = "schema", schemars(default))]
    pub allow: Vec<String>,
    /// Reload the page after a withdrawal, so that scripts which already ran are gone (default false).
    #[cfg_attr(feature = "schema", schemars(default))]
    pub reload_on_withdraw: bool,
}

impl Default for Blocking {
    fn default() -> Self {
        Blocking { auto: true, services: Vec::new(), allow: Vec::new(), reload_on_withdraw: false }
    }
}

/// A service the config adds to the tracker database, or changes in it.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename_all = "camelCase", deny_unknown_fields))]
pub struct ServiceRule {
    /// The service's name; a known name (`Hotjar`) changes that service.
    pub name: String,
    /// The purpose its tags wait for. Required for a new service.
    #[cfg_attr(feature = "schema", schemars(default))]
    pub purpose: Option<String>,
    /// `host` or `host/path-prefix` patterns (a host covers its subdomains). Required for a new service.
    #[cfg_attr(feature = "schema", schemars(default, rename = "match"))]
    pub matches: Vec<String>,
    /// First-party cookie names it sets (`_x_*` for a prefix), removed on withdrawal.
    #[cfg_attr(feature = "schema", schemars(default))]
    pub cookies: Vec<String>,
    /// localStorage and sessionStorage keys it sets (`x_*` for a prefix), removed on withdrawal.
    #[cfg_attr(feature = "schema", schemars(default))]
    pub storage: Vec<String>,
}

/// A string override, either for every language or per language.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(untagged))]
pub enum TextOverride {
    /// The same text in every language.
    All(String),
    /// Text per language code.
    PerLanguage(Vec<(String, String)>),
}

/// Google Consent Mode v2 settings. `security_storage` is always granted (it serves `necessary`).
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename_all = "camelCase", deny_unknown_fields))]
pub struct ConsentModeConfig {
    /// Purpose id → the consent types it grants. A type named by several purposes is granted only when
    /// all of them are. Default: `analytics` → `analytics_storage`; `marketing` → `ad_storage`,
    /// `ad_user_data`, `ad_personalization`; `preferences` → `functionality_storage`,
    /// `personalization_storage` (each where the purpose is configured).
    #[cfg_attr(feature = "schema", schemars(default, with = "std::collections::BTreeMap<String, Vec<String>>"))]
    pub purposes: Vec<(String, Vec<String>)>,
    /// `gtag('set', 'ads_data_redaction', true)`: redact ad click identifiers while `ad_storage` is denied.
    #[cfg_attr(feature = "schema", schemars(default))]
    pub ads_data_redaction: bool,
    /// `gtag('set', 'url_passthrough', true)`: pass click identifiers in URLs while storage is denied.
    #[cfg_attr(feature = "schema", schemars(default))]
    pub url_passthrough: bool,
}

/// The persistent entry point in opt-out regions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename_all = "camelCase"))]
pub enum EntryPoint {
    /// "Your Privacy Choices".
    #[default]
    PrivacyChoices,
    /// "Do Not Sell or Share My Personal Information".
    DoNotSell,
    /// None: the site provides its own link.
    None,
}

/// What Global Privacy Control (`navigator.globalPrivacyControl`) does.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename_all = "camelCase", deny_unknown_fields))]
pub struct GpcConfig {
    /// The purposes that make up "sale, sharing and targeted advertising": refused automatically,
    /// with no prompt, in opt-out regions (default `["marketing"]`).
    #[cfg_attr(feature = "schema", schemars(default = "default_gpc_purposes"))]
    pub purposes: Vec<String>,
    /// Whether the signal also counts as an objection to `ai_training` (default true).
    #[cfg_attr(feature = "schema", schemars(default = "default_true"))]
    pub ai_training_objection: bool,
    /// In opt-in regions: `record` the signal only (default), or `prefillRefusal`, which keeps the
    /// signal's purposes out of "Accept all" so that only their own switch grants them.
    #[cfg_attr(feature = "schema", schemars(default))]
    pub in_opt_in_regions: GpcInOptIn,
}

/// What GPC does where consent is opt-in. It never grants anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename_all = "camelCase"))]
pub enum GpcInOptIn {
    /// Record it in receipts; nothing else changes.
    #[default]
    Record,
    /// Keep the signal's purposes out of "Accept all".
    PrefillRefusal,
}

impl Default for GpcConfig {
    fn default() -> Self {
        GpcConfig {
            purposes: default_gpc_purposes(),
            ai_training_objection: true,
            in_opt_in_regions: GpcInOptIn::Record,
        }
    }
}

/// Receipt delivery.
#[derive(Debug, Clone, PartialEq, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename_all = "camelCase", deny_unknown_fields))]
pub struct Receipts {
    /// Collector URLs (`https://…/v1/receipts`, or a same-origin path). Every receipt goes to each.
    /// Empty: receipts are still signed (so the subject's chain continues) but queued nowhere and sent nowhere.
    #[cfg_attr(feature = "schema", schemars(default))]
    pub endpoints: Vec<String>,
}

/// The privacy notice.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename_all = "camelCase", deny_unknown_fields))]
pub struct Notice {
    /// Version label: letters, digits, `.`, `_` or `-`, at most 32 characters.
    pub version: String,
    /// Link to the full privacy notice.
    #[cfg_attr(feature = "schema", schemars(default))]
    pub url: Option<String>,
}

/// Cookie settings for the stored decision.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename_all = "camelCase", deny_unknown_fields))]
pub struct CookieConfig {
    /// Cookie name.
    #[cfg_attr(feature = "schema", schemars(default = "default_cookie_name"))]
    pub name: String,
    /// Cookie domain, e.g. `.example.com` to share the decision across subdomains.
    #[cfg_attr(feature = "schema", schemars(default))]
    pub domain: Option<String>,
}

impl Default for CookieConfig {
    fn default() -> Self {
        CookieConfig { name: default_cookie_name(), domain: None }
    }
}

/// How long decisions are remembered, in days.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename_all = "camelCase", deny_unknown_fields))]
pub struct Expiry {
    /// A decision that grants any optional purpose (default 390 days, 13 months).
    #[cfg_attr(feature = "schema", schemars(default = "default_granted_days"))]
    pub granted_days: u32,
    /// A decision that refuses every optional purpose (default 182 days, 6 months, CNIL's good practice).
    #[cfg_attr(feature = "schema", schemars(default = "default_refused_days"))]
    pub refused_days: u32,
}

impl Default for Expiry {
    fn default() -> Self {
        Expiry { granted_days: default_granted_days(), refused_days: default_refused_days() }
    }
}

/// One purpose a visitor can allow or refuse.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename_all = "camelCase", deny_unknown_fields))]
pub struct Purpose {
    /// Lowercase snake_case id, used by `data-category` and the JS API.
    pub id: String,
    /// Always on and not toggleable. Only `necessary` may be required.
    #[cfg_attr(feature = "schema", schemars(default))]
    pub required: bool,
    /// On by default where the flow is opt-out or notice (until the visitor objects). Sensitive purposes
    /// leave this false and stay opt-in everywhere.
    #[cfg_attr(feature = "schema", schemars(default))]
    pub opt_out: bool,
    /// Display name; defaults to the locale's `purpose.<id>.name`.
    #[cfg_attr(feature = "schema", schemars(default))]
    pub name: Option<TextOverride>,
    /// Display description; defaults to the locale's `purpose.<id>.description`.
    #[cfg_attr(feature = "schema", schemars(default))]
    pub description: Option<TextOverride>,
    /// Services (vendors) that serve this purpose.
    #[cfg_attr(feature = "schema", schemars(default))]
    pub services: Vec<Service>,
    /// Categories of personal data this purpose uses, e.g. `usage data`.
    #[cfg_attr(feature = "schema", schemars(default))]
    pub data_categories: Vec<String>,
    /// How long this purpose's cookies live, in days (informational, shown in preferences).
    #[cfg_attr(feature = "schema", schemars(default))]
    pub cookie_days: Option<u32>,
    /// Regions (codes or groups, as in `regions.rules[].match`) where this purpose rests on legitimate
    /// interest instead of consent: on by default, with the objection shown before any data is used.
    /// Only `ai_training` may declare it (cookies and tracking need consent under ePrivacy Art. 5(3)).
    #[cfg_attr(feature = "schema", schemars(default))]
    pub legitimate_interest: Vec<String>,
}

/// A vendor or tool behind a purpose.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename_all = "camelCase", deny_unknown_fields))]
pub struct Service {
    /// Name as used in `data-service`.
    pub name: String,
    /// Link to the vendor's privacy policy.
    #[cfg_attr(feature = "schema", schemars(default))]
    pub privacy_url: Option<String>,
}

/// Region rules: the first most specific match wins; see [`crate::region`].
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename_all = "camelCase", deny_unknown_fields))]
pub struct Regions {
    /// Rules matching countries (`DE`), subdivisions (`US-CA`) or named groups (`EEA`).
    #[cfg_attr(feature = "schema", schemars(default))]
    pub rules: Vec<RegionRule>,
    /// Flow for a known region that no rule matches.
    #[cfg_attr(feature = "schema", schemars(default = "default_flow"))]
    pub default: Flow,
    /// Where to ask for the visitor's region when the page gives no `data-region`: a URL answering
    /// `{"region": "US-CA"}` (CORS-enabled if on another origin). Asked once, with a 1.5 s timeout.
    #[cfg_attr(feature = "schema", schemars(default))]
    pub geo_endpoint: Option<String>,
}

impl Default for Regions {
    fn default() -> Self {
        Regions { rules: Vec::new(), default: default_flow(), geo_endpoint: None }
    }
}

/// One region rule.
#[derive(Debug, Clone, PartialEq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename_all = "camelCase", deny_unknown_fields))]
pub struct RegionRule {
    /// Region codes or group names this rule covers.
    #[cfg_attr(feature = "schema", schemars(rename = "match"))]
    pub matches: Vec<String>,
    /// The flow these regions get.
    pub flow: Flow,
    /// Purposes exempt from prior consent here: on by default, and the visitor can still turn them
    /// off (the UK's analytics exemption, Data (Use and Access) Act 2025).
    #[cfg_attr(feature = "schema", schemars(default))]
    pub exempt: Vec<String>,
}

fn default_languages() -> Vec<String> {
    crate::locale::shipped()
}
fn default_cookie_name() -> String {
    "assent".into()
}
fn default_granted_days() -> u32 {
    390
}
fn default_refused_days() -> u32 {
    182
}
fn default_flow() -> Flow {
    Flow::Notice
}
fn default_gpc_purposes() -> Vec<String> {
    vec!["marketing".into()]
}
#[cfg(feature = "schema")]
fn default_true() -> bool {
    true
}

impl Config {
    /// Parses and validates config text. Errors name the field, e.g. `config: purposes[3].id: ...`.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let config = Config::from_json(&Json::parse(text)?)?;
        config.validate()?;
        Ok(config)
    }

    fn from_json(v: &Json) -> Result<Config, ConfigError> {
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(tcf) = v.as_object().and_then(|m| m.iter().find(|(k, _)| k == "tcf")) {
            crate::tcf::TcfConfig::parse(&tcf.1, "tcf")?;
        }
        let f = Fields::new(
            v,
            "",
            &[
                "$schema",
                "notice",
                "controller",
                "languages",
                "language",
                "cookie",
                "expiry",
                "purposes",
                "regions",
                "receipts",
                "gpc",
                "consentMode",
                // The site's stance toward AI crawlers, read by `assent signals` only (aipref::ContentUsage).
                "contentUsage",
                // IAB TCF (tcf::TcfConfig): read in the browser by the preferences module's TCF build and
                // the loader only, so not a field of this model; checked here natively (`config check`).
                "tcf",
                "optOutEntryPoint",
                "text",
                "blocking",
                "theme",
            ],
        )?;
        let notice = Fields::new(f.required("notice")?, "notice", &["version", "url"])?;
        let notice =
            Notice { version: as_string(notice.required("version")?, "notice.version")?, url: notice.string("url")? };
        let cookie = match f.get("cookie") {
            None => CookieConfig::default(),
            Some(c) => {
                let c = Fields::new(c, "cookie", &["name", "domain"])?;
                CookieConfig {
                    name: c.string("name")?.unwrap_or_else(default_cookie_name),
                    domain: c.string("domain")?,
                }
            }
        };
        let expiry = match f.get("expiry") {
            None => Expiry::default(),
            Some(e) => {
                let e = Fields::new(e, "expiry", &["grantedDays", "refusedDays"])?;
                Expiry {
                    granted_days: e.u32("grantedDays")?.unwrap_or_else(default_granted_days),
                    refused_days: e.u32("refusedDays")?.unwrap_or_else(default_refused_days),
                }
            }
        };
        let regions = match f.get("regions") {
            None => Regions::default(),
            Some(r) => {
                let r = Fields::new(r, "regions", &["rules", "default", "geoEndpoint"])?;
                let rules = r.list("rules", |v, path| {
                    let rule = Fields::new(v, path, &["match", "flow", "exempt"])?;
                    let matches = rule
                        .list("match", as_string)?
                        .ok_or_else(|| invalid(rule.path("match"), "missing: list region codes or groups"))?;
                    Ok(RegionRule {
                        matches,
                        flow: flow(rule.required("flow")?, &rule.path("flow"))?,
                        exempt: rule.list("exempt", as_string)?.unwrap_or_default(),
                    })
                })?;
                let default = match r.get("default") {
                    Some(d) => flow(d, "regions.default")?,
                    None => default_flow(),
                };
                Regions { rules: rules.unwrap_or_default(), default, geo_endpoint: r.string("geoEndpoint")? }
            }
        };
        let text = match f.get("text") {
            None => Vec::new(),
            Some(t) => {
                let members = t.as_object().ok_or_else(|| invalid("text", "expected an object of strings"))?;
                members.iter().map(|(k, v)| Ok((k.clone(), text_override(v, &format!("text.{k}"))?))).collect::<Result<
                    _,
                    ConfigError,
                >>(
                )?
            }
        };
        let mut gpc_defaulted = true;
        let mut gpc = match f.get("gpc") {
            None => GpcConfig::default(),
            Some(g) => {
                let g = Fields::new(g, "gpc", &["purposes", "aiTrainingObjection", "inOptInRegions"])?;
                let in_opt_in_regions = match g.string("inOptInRegions")?.as_deref() {
                    None | Some("record") => GpcInOptIn::Record,
                    Some("prefillRefusal") => GpcInOptIn::PrefillRefusal,
                    Some(other) => {
                        return Err(invalid(
                            "gpc.inOptInRegions",
                            format!("`{other}`: use `record` or `prefillRefusal` (GPC never grants anything)"),
                        ))
                    }
                };
                let purposes = g.list("purposes", as_string)?;
                gpc_defaulted = purposes.is_none();
                GpcConfig {
                    purposes: purposes.unwrap_or_else(default_gpc_purposes),
                    ai_training_objection: g.bool("aiTrainingObjection")?.unwrap_or(true),
                    in_opt_in_regions,
                }
            }
        };
        let consent_mode = match f.get("consentMode") {
            None => None,
            Some(c) => {
                let c = Fields::new(c, "consentMode", &["purposes", "adsDataRedaction", "urlPassthrough"])?;
                let purposes = match c.get("purposes") {
                    None => None,
                    Some(map) => {
                        let members = map.as_object().ok_or_else(|| {
                            invalid(
                                "consentMode.purposes",
                                "expected an object: {\"analytics\": [\"analytics_storage\"]}",
                            )
                        })?;
                        Some(
                            members
                                .iter()
                                .map(|(k, v)| {
                                    let path = format!("consentMode.purposes.{k}");
                                    let types = match v {
                                        Json::Array(items) => items
                                            .iter()
                                            .enumerate()
                                            .map(|(i, t)| as_string(t, &format!("{path}[{i}]")))
                                            .collect::<Result<Vec<_>, _>>()?,
                                        other => {
                                            return Err(invalid(
                                                &path,
                                                format!("expected a list of consent types, found {}", other.describe()),
                                            ))
                                        }
                                    };
                                    Ok((k.clone(), types))
                                })
                                .collect::<Result<Vec<_>, ConfigError>>()?,
                        )
                    }
                };
                Some((
                    purposes,
                    ConsentModeConfig {
                        purposes: Vec::new(),
                        ads_data_redaction: c.bool("adsDataRedaction")?.unwrap_or(false),
                        url_passthrough: c.bool("urlPassthrough")?.unwrap_or(false),
                    },
                ))
            }
        };
        let opt_out_entry_point = match f.string("optOutEntryPoint")?.as_deref() {
            None | Some("privacyChoices") => EntryPoint::PrivacyChoices,
            Some("doNotSell") => EntryPoint::DoNotSell,
            Some("none") => EntryPoint::None,
            Some(other) => {
                return Err(invalid(
                    "optOutEntryPoint",
                    format!("`{other}`: use `privacyChoices`, `doNotSell` or `none`"),
                ))
            }
        };
        let theme = match f.get("theme") {
            None => Theme::default(),
            Some(t) => {
                let t = Fields::new(t, "theme", &["scheme", "position"])?;
                Theme {
                    scheme: match t.string("scheme")?.as_deref() {
                        None | Some("auto") => Scheme::Auto,
                        Some("light") => Scheme::Light,
                        Some("dark") => Scheme::Dark,
                        Some(other) => {
                            return Err(invalid("theme.scheme", format!("`{other}`: use `auto`, `light` or `dark`")))
                        }
                    },
                    position: match t.string("position")?.as_deref() {
                        None | Some("bar") => Position::Bar,
                        Some("box") => Position::Box,
                        Some("modal") => Position::Modal,
                        Some(other) => {
                            return Err(invalid("theme.position", format!("`{other}`: use `bar`, `box` or `modal`")))
                        }
                    },
                }
            }
        };
        let receipts = match f.get("receipts") {
            None => Receipts::default(),
            Some(r) => Receipts {
                endpoints: Fields::new(r, "receipts", &["endpoints"])?
                    .list("endpoints", as_string)?
                    .unwrap_or_default(),
            },
        };
        let blocking = match f.get("blocking") {
            None => Blocking::default(),
            Some(b) => {
                let b = Fields::new(b, "blocking", &["auto", "services", "allow", "reloadOnWithdraw"])?;
                let services = b.list("services", |v, path| {
                    let s = Fields::new(v, path, &["name", "purpose", "match", "cookies", "storage"])?;
                    Ok(ServiceRule {
                        name: as_string(s.required("name")?, &s.path("name"))?,
                        purpose: s.string("purpose")?,
                        matches: s.list("match", as_string)?.unwrap_or_default(),
                        cookies: s.list("cookies", as_string)?.unwrap_or_default(),
                        storage: s.list("storage", as_string)?.unwrap_or_default(),
                    })
                })?;
                Blocking {
                    auto: b.bool("auto")?.unwrap_or(true),
                    services: services.unwrap_or_default(),
                    allow: b.list("allow", as_string)?.unwrap_or_default(),
                    reload_on_withdraw: b.bool("reloadOnWithdraw")?.unwrap_or(false),
                }
            }
        };
        let purposes: Vec<Purpose> = f
            .list("purposes", purpose)?
            .ok_or_else(|| invalid("purposes", "missing: list the purposes, starting with `necessary`"))?;
        let consent_mode = consent_mode.map(|(explicit, mut cm)| {
            cm.purposes = explicit.unwrap_or_else(|| {
                crate::consent_mode::DEFAULT_MAP
                    .iter()
                    .filter(|(p, _)| purposes.iter().any(|c| c.id == *p))
                    .map(|(p, types)| (p.to_string(), types.iter().map(|t| t.to_string()).collect()))
                    .collect()
            });
            cm
        });
        if gpc_defaulted {
            // The default (`marketing`) applies only where the site has that purpose.
            gpc.purposes.retain(|id| purposes.iter().any(|p| &p.id == id));
        }
        Ok(Config {
            schema: f.string("$schema")?,
            receipts,
            notice,
            controller: as_string(f.required("controller")?, "controller")?,
            languages: f.list("languages", as_string)?.unwrap_or_else(default_languages),
            language: f.string("language")?,
            cookie,
            expiry,
            purposes,
            regions,
            gpc,
            consent_mode,
            opt_out_entry_point,
            text,
            blocking,
            theme,
        })
    }

    /// Checks what types alone cannot: ids, uniqueness, `necessary`, lifetimes.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |path: String, message: String| Err(ConfigError::Invalid { path, message });
        if !is_label(&self.notice.version) {
            return invalid(
                "notice.version".into(),
                format!("`{}` must be 1-32 letters, digits, `.`, `_` or `-`", self.notice.version),
            );
        }
        if self.controller.trim().is_empty() {
            return invalid("controller".into(), "must name who asks for consent".into());
        }
        if !is_cookie_name(&self.cookie.name) {
            return invalid("cookie.name".into(), format!("`{}` is not a valid cookie name", self.cookie.name));
        }
        if self.languages.is_empty() {
            return invalid("languages".into(), "must list at least one language".into());
        }
        for (i, lang) in self.languages.iter().enumerate() {
            if !is_language_tag(lang) {
                return invalid(
                    format!("languages[{i}]"),
                    format!("`{lang}` is not a language tag like `de` or `pt-BR`"),
                );
            }
        }
        if let Some(lang) = &self.language {
            if !self.languages.contains(lang) {
                return invalid("language".into(), format!("`{lang}` is not listed in `languages`"));
            }
        }
        for (field, days) in [("grantedDays", self.expiry.granted_days), ("refusedDays", self.expiry.refused_days)] {
            if days == 0 || days > 395 {
                return invalid(
                    format!("expiry.{field}"),
                    format!("{days} days: must be between 1 and 395 (13 months)"),
                );
            }
        }
        let mut seen = Vec::new();
        for (i, purpose) in self.purposes.iter().enumerate() {
            if !is_purpose_id(&purpose.id) {
                return invalid(
                    format!("purposes[{i}].id"),
                    format!("`{}` must be lowercase snake_case, like `analytics`", purpose.id),
                );
            }
            if seen.contains(&purpose.id.as_str()) {
                return invalid(format!("purposes[{i}].id"), format!("`{}` is listed twice", purpose.id));
            }
            seen.push(&purpose.id);
            if purpose.required && purpose.id != NECESSARY {
                return invalid(
                    format!("purposes[{i}].required"),
                    format!("only `necessary` may be required; `{}` must be a free choice", purpose.id),
                );
            }
            if purpose.id == NECESSARY && !purpose.required {
                return invalid(format!("purposes[{i}].required"), "`necessary` must be `required: true`".into());
            }
            if purpose.id == AI_TRAINING && purpose.opt_out {
                // AI training is never on because a flow is opt-out: only a declared legitimate interest,
                // with its prior objection, may put it on by default.
                return invalid(
                    format!("purposes[{i}].optOut"),
                    "`ai_training` is opt-in: remove `optOut`; to rest it on legitimate interest in some regions, list them in `legitimateInterest`".into(),
                );
            }
            if !purpose.legitimate_interest.is_empty() && purpose.id != AI_TRAINING {
                return invalid(
                    format!("purposes[{i}].legitimateInterest"),
                    format!("only `ai_training` may rest on legitimate interest; `{}` stores or reads data on the device, which needs consent (ePrivacy Art. 5(3))", purpose.id),
                );
            }
            for (j, code) in purpose.legitimate_interest.iter().enumerate() {
                if !crate::region::is_known_pattern(code) {
                    return invalid(
                        format!("purposes[{i}].legitimateInterest[{j}]"),
                        format!("`{code}` is neither an ISO 3166 code (`DE`, `US-CA`) nor a known group (`EU`, `EEA`, `US-STATES-WITH-PRIVACY-LAWS`)"),
                    );
                }
            }
        }
        for (i, url) in self.receipts.endpoints.iter().enumerate() {
            if !(url.starts_with("https://") || url.starts_with("http://") || url.starts_with('/')) {
                return invalid(
                    format!("receipts.endpoints[{i}]"),
                    format!("`{url}` must be an http(s) URL or a path starting with `/`"),
                );
            }
        }
        // The signing key and the chain head live in the origin's IndexedDB; a shared cookie would make
        // each subdomain receipt the same decision again under the same id with another key (the
        // collector refuses it as a conflict) and give the subject keys whose grants never count.
        if self.cookie.domain.is_some() && !self.receipts.endpoints.is_empty() {
            return invalid(
                "cookie.domain".into(),
                "cannot be combined with `receipts.endpoints` yet: receipts are signed with a key kept per origin, so a decision shared across subdomains cannot be receipted as one subject's chain; remove one of them".into(),
            );
        }
        if !seen.contains(&NECESSARY) {
            return invalid("purposes".into(), "must include `{\"id\": \"necessary\", \"required\": true}`".into());
        }
        if let Some(cm) = &self.consent_mode {
            for (id, types) in &cm.purposes {
                if self.purpose(id).is_none() {
                    return invalid(
                        format!("consentMode.purposes.{id}"),
                        format!("`{id}` is not a configured purpose"),
                    );
                }
                for (j, t) in types.iter().enumerate() {
                    if !crate::consent_mode::TYPES.contains(&t.as_str()) || t == "security_storage" {
                        return invalid(
                            format!("consentMode.purposes.{id}[{j}]"),
                            format!(
                                "`{t}` is not a Consent Mode type a purpose can grant: use {}",
                                crate::joined(&crate::consent_mode::TYPES[..6], ", ")
                            ),
                        );
                    }
                }
            }
        }
        for (i, id) in self.gpc.purposes.iter().enumerate() {
            if self.purpose(id).is_none() || id == NECESSARY {
                return invalid(
                    format!("gpc.purposes[{i}]"),
                    format!("`{id}` must be one of the configured optional purposes (usually `marketing`)"),
                );
            }
        }
        if let Some(url) = &self.regions.geo_endpoint {
            if !(url.starts_with("https://") || url.starts_with("http://") || url.starts_with('/')) {
                return invalid(
                    "regions.geoEndpoint".into(),
                    format!("`{url}` must be an http(s) URL or a path starting with `/`"),
                );
            }
        }
        for (i, rule) in self.regions.rules.iter().enumerate() {
            for (j, id) in rule.exempt.iter().enumerate() {
                let sensitive = id == NECESSARY || id == AI_TRAINING || self.gpc.purposes.contains(id);
                if self.purpose(id).is_none() || sensitive {
                    return invalid(
                        format!("regions.rules[{i}].exempt[{j}]"),
                        format!("`{id}` cannot be exempt from consent: list configured purposes such as `analytics`; never `necessary`, `ai_training` or a GPC purpose"),
                    );
                }
            }
            for (j, code) in rule.matches.iter().enumerate() {
                if !crate::region::is_known_pattern(code) {
                    return invalid(
                        format!("regions.rules[{i}].match[{j}]"),
                        format!("`{code}` is neither an ISO 3166 code (`DE`, `US-CA`) nor a known group (`EU`, `EEA`, `US-STATES-WITH-PRIVACY-LAWS`)"),
                    );
                }
            }
        }
        self.validate_blocking()
    }

    fn validate_blocking(&self) -> Result<(), ConfigError> {
        use crate::trackers::{database, is_pattern};
        let invalid = |path: String, message: String| Err(ConfigError::Invalid { path, message });
        let known = database();
        for (i, rule) in self.blocking.services.iter().enumerate() {
            let path = format!("blocking.services[{i}]");
            let existing = known.iter().any(|s| s.name.eq_ignore_ascii_case(&rule.name));
            if !crate::scoped::is_service_name(&rule.name) {
                return invalid(format!("{path}.name"), format!("`{}` must be a service name of 1 to 64 characters, without `|`, `;`, `,` or spaces at either end", rule.name));
            }
            match &rule.purpose {
                Some(id) if self.purpose(id).is_none() => {
                    let ids: Vec<&str> = self.purposes.iter().map(|p| p.id.as_str()).collect();
                    return invalid(
                        format!("{path}.purpose"),
                        format!("`{id}` is not a purpose of this config; use one of {}", crate::joined(&ids, ", ")),
                    );
                }
                None if !existing => {
                    return invalid(
                        format!("{path}.purpose"),
                        format!("missing: `{}` is not in the tracker database, so it needs a purpose", rule.name),
                    );
                }
                _ => {}
            }
            if !existing && rule.matches.is_empty() {
                return invalid(
                    format!("{path}.match"),
                    format!(
                        "missing: list the hosts of `{}`, like `cdn.example.com` or `example.com/collect`",
                        rule.name
                    ),
                );
            }
            for (j, m) in rule.matches.iter().enumerate() {
                if !is_pattern(m) {
                    return invalid(format!("{path}.match[{j}]"), format!("`{m}` must be a lowercase host with an optional path, like `cdn.example.com` or `example.com/collect` (no scheme, port or query)"));
                }
            }
        }
        for (i, m) in self.blocking.allow.iter().enumerate() {
            if !is_pattern(m) {
                return invalid(format!("blocking.allow[{i}]"), format!("`{m}` must be a lowercase host with an optional path, like `stats.example.com` (no scheme, port or query)"));
            }
        }
        Ok(())
    }

    /// The purpose with this id.
    pub fn purpose(&self, id: &str) -> Option<&Purpose> {
        self.purposes.iter().find(|p| p.id == id)
    }

    /// The strictest flow any rule or the default can produce: used when the region is unknown.
    pub fn strictest_flow(&self) -> Flow {
        self.regions.rules.iter().map(|r| r.flow).chain([self.regions.default]).max().unwrap_or(Flow::OptIn)
    }
}

/// Notice versions and similar labels: safe in a cookie without encoding.
pub(crate) fn is_label(s: &str) -> bool {
    (1..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn is_cookie_name(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
}

fn is_language_tag(s: &str) -> bool {
    let mut parts = s.split('-');
    let primary = parts.next().unwrap_or("");
    (2..=3).contains(&primary.len())
        && primary.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

fn flow(v: &Json, path: &str) -> Result<Flow, ConfigError> {
    let name = as_string(v, path)?;
    Flow::parse(&name)
        .ok_or_else(|| invalid(path, format!("`{name}` is not a flow: use `optIn`, `optOut` or `notice`")))
}

fn text_override(v: &Json, path: &str) -> Result<TextOverride, ConfigError> {
    match v {
        Json::String(s) => Ok(TextOverride::All(s.clone())),
        _ => crate::json::string_map(v, path).map(TextOverride::PerLanguage),
    }
}

fn purpose(v: &Json, path: &str) -> Result<Purpose, ConfigError> {
    let f = Fields::new(
        v,
        path,
        &[
            "id",
            "required",
            "optOut",
            "name",
            "description",
            "services",
            "dataCategories",
            "cookieDays",
            "legitimateInterest",
        ],
    )?;
    let text = |key: &str| f.get(key).map(|v| text_override(v, &f.path(key))).transpose();
    Ok(Purpose {
        id: as_string(f.required("id")?, &f.path("id"))?,
        required: f.bool("required")?.unwrap_or(false),
        opt_out: f.bool("optOut")?.unwrap_or(false),
        name: text("name")?,
        description: text("description")?,
        services: f
            .list("services", |v, path| {
                let s = Fields::new(v, path, &["name", "privacyUrl"])?;
                Ok(Service {
                    name: as_string(s.required("name")?, &s.path("name"))?,
                    privacy_url: s.string("privacyUrl")?,
                })
            })?
            .unwrap_or_default(),
        data_categories: f.list("dataCategories", as_string)?.unwrap_or_default(),
        cookie_days: f.u32("cookieDays")?,
        legitimate_interest: f.list("legitimateInterest", as_string)?.unwrap_or_default(),
    })
}
