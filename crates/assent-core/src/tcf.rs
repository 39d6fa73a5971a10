//! IAB Transparency and Consent Framework v2.3: the site's `tcf` config section, the Global Vendor
//! List (GVL) it names, the visitor's choices as stored, and the strings vendors read: the TC string
//! (core segment, the DisclosedVendors segment that v2.3 makes mandatory, and the publisher TC
//! segment) and Google's Additional Consent string (v2) for the Google ad-tech providers that are not
//! on the GVL. No I/O: the preferences module's TCF build fetches the GVL and keeps the choices.
//!
//! Rules applied when the signals are made, so no string says more than the policy allows:
//! - purposes 1, 3, 4, 5 and 6 never carry a legitimate-interest bit (TCF 2.2);
//! - a vendor gets a consent bit only if it declares a consent purpose (or a flexible purpose that a
//!   publisher restriction turns into consent), and a legitimate-interest bit only if it declares a
//!   legitimate-interest purpose (or a flexible one turned so). Policy v5.0.b ends the old workaround
//!   of a legitimate-interest bit for vendors with special purposes only, so they get none (the TC
//!   string specification's text of early 2026, and `@iabtechlabtcf/core` 1.5.21, still set it);
//! - deleted vendors and vendors not on the GVL get no bit and are not disclosed.
//!
//! Strings are padded to a multiple of 24 bits and written in base64url without padding, as the
//! IAB's `@iabtechlabtcf/core` does; its decoder checks our strings in the test suites.

use crate::error::ConfigError;
use crate::gpp::Bits;
use crate::json::{as_string, invalid, Fields, Json};

/// Purposes that may never be processed on legitimate interest.
const NO_LEGITIMATE_INTEREST: [u32; 5] = [1, 3, 4, 5, 6];
/// The TC string version written.
const VERSION: u8 = 2;
/// How long TCF choices last before the visitor is asked again: 13 months, as for Assent's own
/// decisions (`expiry.grantedDays`' default), within TCF's yearly reminder.
pub const MAX_AGE_DAYS: u64 = 390;

/// A set of ids (purposes, special features, vendors, Google's providers), kept sorted. (One type for
/// all of them: a `BTreeSet` per id type cost the module about 40 KB of wasm.)
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ids(Vec<u32>);

impl Ids {
    /// Whether `id` is in the set.
    pub fn contains(&self, id: u32) -> bool {
        self.0.binary_search(&id).is_ok()
    }

    /// Adds `id`; `false` if it was there.
    pub fn insert(&mut self, id: u32) -> bool {
        match self.0.binary_search(&id) {
            Ok(_) => false,
            Err(at) => {
                self.0.insert(at, id);
                true
            }
        }
    }

    /// Removes `id`; `false` if it was not there.
    pub fn remove(&mut self, id: u32) -> bool {
        match self.0.binary_search(&id) {
            Ok(at) => {
                self.0.remove(at);
                true
            }
            Err(_) => false,
        }
    }

    /// Adds `id` if absent, removes it if present.
    pub fn toggle(&mut self, id: u32) {
        if !self.remove(id) {
            self.insert(id);
        }
    }

    /// The ids, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.0.iter().copied()
    }

    /// The largest id.
    pub fn last(&self) -> Option<u32> {
        self.0.last().copied()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The ids in `self` for which `keep` holds.
    pub fn filter(&self, keep: impl Fn(u32) -> bool) -> Ids {
        Ids(self.iter().filter(|id| keep(*id)).collect())
    }
}

impl FromIterator<u32> for Ids {
    fn from_iter<I: IntoIterator<Item = u32>>(items: I) -> Ids {
        let mut ids: Vec<u32> = items.into_iter().collect();
        ids.sort_unstable();
        ids.dedup();
        Ids(ids)
    }
}

impl<'a> IntoIterator for &'a Ids {
    type Item = u32;
    type IntoIter = std::iter::Copied<std::slice::Iter<'a, u32>>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().copied()
    }
}

impl<const N: usize> From<[u32; N]> for Ids {
    fn from(ids: [u32; N]) -> Ids {
        ids.into_iter().collect()
    }
}

impl Extend<u32> for Ids {
    fn extend<I: IntoIterator<Item = u32>>(&mut self, items: I) {
        for id in items {
            self.insert(id);
        }
    }
}

/// What a publisher restriction requires of the vendors it names for one purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestrictionKind {
    /// The purpose is not allowed to them at all.
    NotAllowed = 0,
    /// Only with consent (for a flexible purpose declared on legitimate interest).
    RequireConsent = 1,
    /// Only on legitimate interest (for a flexible purpose declared on consent).
    RequireLegitimateInterest = 2,
}

impl RestrictionKind {
    fn named(name: &str) -> Option<RestrictionKind> {
        match name {
            "notAllowed" => Some(RestrictionKind::NotAllowed),
            "requireConsent" => Some(RestrictionKind::RequireConsent),
            "requireLegitimateInterest" => Some(RestrictionKind::RequireLegitimateInterest),
            _ => None,
        }
    }
}

/// A publisher restriction: for `purpose`, the vendors listed are held to `kind`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restriction {
    /// The TCF purpose (1–11).
    pub purpose: u32,
    /// What is required.
    pub kind: RestrictionKind,
    /// The vendors it applies to (GVL ids).
    pub vendors: Vec<u32>,
}

/// A Google ad-tech provider that is not on the GVL (Additional Consent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Atp {
    /// Its id in Google's list of ad-tech providers.
    pub id: u32,
    /// Its name, as shown.
    pub name: String,
    /// Its privacy policy.
    pub privacy_url: String,
}

/// The `tcf` config section: present only on a site that serves ads through TCF vendors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcfConfig {
    /// The CMP id IAB Europe registered (the site's or its vendor's).
    pub cmp_id: u16,
    /// The CMP version, as registered.
    pub cmp_version: u16,
    /// The site's own copy of the GVL (`vendor-list.json`), relative to the page.
    pub gvl: String,
    /// The GVL vendors the site works with.
    pub vendors: Vec<u32>,
    /// The publisher's country (ISO 3166-1 alpha-2, upper case).
    pub publisher_country: String,
    /// Publisher restrictions.
    pub restrictions: Vec<Restriction>,
    /// TCF purposes the publisher itself processes on consent (the publisher TC segment).
    pub publisher_consent: Vec<u32>,
    /// TCF purposes the publisher itself processes on legitimate interest.
    pub publisher_legitimate_interest: Vec<u32>,
    /// Google's ad-tech providers outside the GVL (the AC string).
    pub google_atps: Vec<Atp>,
    /// Where TCF applies (`gdprApplies`): region ids or groups. By default the EEA, the UK and Switzerland.
    pub regions: Vec<String>,
    /// The site's copies of the IAB's translations of the GVL's texts, `{lang}` standing for the
    /// visitor's language in lower case (`/gvl/purposes-{lang}.json`). Without one, or for a language
    /// the site has no file for, the GVL's own English texts are shown.
    pub translations: Option<String>,
}

impl TcfConfig {
    /// Reads the section at `path` (`tcf`).
    pub fn parse(value: &Json, path: &str) -> Result<TcfConfig, ConfigError> {
        let f = Fields::new(
            value,
            path,
            &[
                "cmpId",
                "cmpVersion",
                "gvl",
                "vendors",
                "publisherCountryCode",
                "publisherRestrictions",
                "publisherPurposes",
                "googleAtps",
                "regions",
                "translations",
            ],
        )?;
        let cmp_id = f.u32("cmpId")?.ok_or_else(|| {
            invalid(f.path("cmpId"), "missing: the CMP id IAB Europe registered for this site or its CMP vendor")
        })?;
        if !(2..=4095).contains(&cmp_id) {
            return Err(invalid(f.path("cmpId"), format!("expected a registered CMP id (2–4095), found {cmp_id}")));
        }
        let cmp_version = f.u32("cmpVersion")?.unwrap_or(1);
        if !(1..=4095).contains(&cmp_version) {
            return Err(invalid(f.path("cmpVersion"), format!("expected 1–4095, found {cmp_version}")));
        }
        let gvl = f.string("gvl")?.ok_or_else(|| {
            invalid(f.path("gvl"), "missing: the URL of the site's copy of the Global Vendor List (vendor-list.json)")
        })?;
        let vendors = f.list("vendors", vendor_id)?.unwrap_or_default();
        if vendors.is_empty() {
            return Err(invalid(f.path("vendors"), "list the GVL ids of the vendors the site works with"));
        }
        let publisher_country = f.string("publisherCountryCode")?.unwrap_or_else(|| "AA".into());
        if publisher_country.len() != 2 || !publisher_country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(invalid(
                f.path("publisherCountryCode"),
                format!("expected two capital letters (ISO 3166-1 alpha-2), found {publisher_country:?}"),
            ));
        }
        let restrictions = f
            .list("publisherRestrictions", |v, p| {
                let r = Fields::new(v, p, &["purpose", "type", "vendors"])?;
                let purpose = purpose_id(r.required("purpose")?, &r.path("purpose"))?;
                let kind_name = r.string("type")?.unwrap_or_default();
                let kind = RestrictionKind::named(&kind_name).ok_or_else(|| {
                    invalid(
                        r.path("type"),
                        format!(
                            "expected `notAllowed`, `requireConsent` or `requireLegitimateInterest`, found {kind_name:?}"
                        ),
                    )
                })?;
                if kind == RestrictionKind::RequireLegitimateInterest && NO_LEGITIMATE_INTEREST.contains(&purpose) {
                    return Err(invalid(
                        r.path("type"),
                        format!("purpose {purpose} may not be processed on legitimate interest (TCF: 1, 3, 4, 5 and 6 need consent)"),
                    ));
                }
                let vendors = r.list("vendors", vendor_id)?.unwrap_or_default();
                Ok(Restriction { purpose, kind, vendors })
            })?
            .unwrap_or_default();
        let (publisher_consent, publisher_legitimate_interest) = match f.get("publisherPurposes") {
            None => (Vec::new(), Vec::new()),
            Some(v) => {
                let p = Fields::new(v, &f.path("publisherPurposes"), &["consent", "legitimateInterest"])?;
                let li = p.list("legitimateInterest", purpose_id)?.unwrap_or_default();
                if let Some(bad) = li.iter().find(|id| NO_LEGITIMATE_INTEREST.contains(id)) {
                    return Err(invalid(
                        p.path("legitimateInterest"),
                        format!("purpose {bad} may not be processed on legitimate interest (TCF: 1, 3, 4, 5 and 6 need consent)"),
                    ));
                }
                (p.list("consent", purpose_id)?.unwrap_or_default(), li)
            }
        };
        let google_atps = f
            .list("googleAtps", |v, p| {
                let a = Fields::new(v, p, &["id", "name", "privacyUrl"])?;
                Ok(Atp {
                    id: a
                        .u32("id")?
                        .ok_or_else(|| invalid(a.path("id"), "missing: the provider's id in Google's ATP list"))?,
                    name: a.string("name")?.ok_or_else(|| invalid(a.path("name"), "missing: the provider's name"))?,
                    privacy_url: a
                        .string("privacyUrl")?
                        .ok_or_else(|| invalid(a.path("privacyUrl"), "missing: the provider's privacy policy"))?,
                })
            })?
            .unwrap_or_default();
        let regions = f.list("regions", as_string)?.unwrap_or_else(|| vec!["EEA".into(), "GB".into(), "CH".into()]);
        let translations = f.string("translations")?;
        if let Some(t) = translations.as_ref().filter(|t| !t.contains("{lang}")) {
            return Err(invalid(
                f.path("translations"),
                format!("{t:?} has no `{{lang}}` for the visitor's language (e.g. `/gvl/purposes-{{lang}}.json`)"),
            ));
        }
        Ok(TcfConfig {
            cmp_id: cmp_id as u16,
            cmp_version: cmp_version as u16,
            gvl,
            vendors,
            publisher_country,
            restrictions,
            publisher_consent,
            publisher_legitimate_interest,
            google_atps,
            regions,
            translations,
        })
    }
}

// The section's JSON Schema: `TcfConfig::parse` is the rule, this documents it.
/// IAB TCF v2.3 (docs/tcf.md): present only on a site that serves ads through TCF vendors.
#[cfg(feature = "schema")]
#[derive(schemars::JsonSchema)]
#[schemars(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct TcfSchema {
    /// The CMP id IAB Europe registered for this site or its CMP vendor (2–4095).
    cmp_id: u16,
    /// The CMP version as registered (default 1).
    #[schemars(default)]
    cmp_version: Option<u16>,
    /// URL of the site's own copy of the Global Vendor List (`vendor-list.json`, specification version 3).
    gvl: String,
    /// GVL ids of the vendors the site works with.
    vendors: Vec<u16>,
    /// The publisher's country (ISO 3166-1 alpha-2; default `AA`, unknown).
    #[schemars(default)]
    publisher_country_code: Option<String>,
    /// Publisher restrictions: `{purpose, type: notAllowed | requireConsent | requireLegitimateInterest, vendors}`.
    #[schemars(default)]
    publisher_restrictions: Vec<RestrictionSchema>,
    /// TCF purposes the publisher itself processes: `{consent: [ids], legitimateInterest: [ids]}`.
    #[schemars(default)]
    publisher_purposes: Option<PublisherPurposesSchema>,
    /// Google ad-tech providers outside the GVL, for the Additional Consent string.
    #[schemars(default)]
    google_atps: Vec<AtpSchema>,
    /// Where TCF applies (`gdprApplies`): region ids or groups. Default `["EEA", "GB", "CH"]`.
    #[schemars(default)]
    regions: Option<Vec<String>>,
    /// The site's copies of the IAB's translations of the GVL's texts, `{lang}` standing for the
    /// visitor's language in lower case: `/gvl/purposes-{lang}.json`.
    #[schemars(default)]
    translations: Option<String>,
}

#[cfg(feature = "schema")]
#[derive(schemars::JsonSchema)]
#[schemars(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct RestrictionSchema {
    purpose: u8,
    /// `notAllowed`, `requireConsent` or `requireLegitimateInterest`.
    r#type: String,
    vendors: Vec<u16>,
}

#[cfg(feature = "schema")]
#[derive(schemars::JsonSchema)]
#[schemars(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct PublisherPurposesSchema {
    #[schemars(default)]
    consent: Vec<u8>,
    /// Never 1, 3, 4, 5 or 6.
    #[schemars(default)]
    legitimate_interest: Vec<u8>,
}

#[cfg(feature = "schema")]
#[derive(schemars::JsonSchema)]
#[schemars(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct AtpSchema {
    /// The provider's id in Google's ATP list.
    id: u32,
    name: String,
    privacy_url: String,
}

fn number(value: &Json, path: &str, max: u32, what: &str) -> Result<u32, ConfigError> {
    match value {
        Json::Number(n) => n.parse().ok().filter(|n| (1..=max).contains(n)),
        _ => None,
    }
    .ok_or_else(|| invalid(path, format!("expected {what} (1–{max}), found {}", value.describe())))
}

fn vendor_id(value: &Json, path: &str) -> Result<u32, ConfigError> {
    number(value, path, 65_535, "a GVL vendor id")
}

fn purpose_id(value: &Json, path: &str) -> Result<u32, ConfigError> {
    number(value, path, 24, "a TCF purpose id")
}

/// A purpose, special purpose, feature or special feature, as the GVL explains it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its id.
    pub id: u32,
    /// Its name.
    pub name: String,
    /// The standard explanation.
    pub description: String,
    /// The standard illustrations.
    pub illustrations: Vec<String>,
}

/// A stack: purposes and special features that a first layer may name together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stack {
    /// Its id.
    pub id: u32,
    /// Its name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// The purposes it stands for.
    pub purposes: Vec<u32>,
    /// The special features it stands for.
    pub special_features: Vec<u32>,
}

/// A vendor's declarations on the GVL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vendor {
    /// Its GVL id.
    pub id: u32,
    /// Its name.
    pub name: String,
    /// Purposes on consent.
    pub purposes: Vec<u32>,
    /// Purposes on legitimate interest.
    pub legitimate_interest: Vec<u32>,
    /// Purposes whose legal basis a publisher restriction may change.
    pub flexible: Vec<u32>,
    /// Special purposes (no choice).
    pub special_purposes: Vec<u32>,
    /// Features (no choice).
    pub features: Vec<u32>,
    /// Special features (an opt-in).
    pub special_features: Vec<u32>,
    /// The data categories it declares.
    pub data: Vec<u32>,
    /// Its privacy policy.
    pub privacy_url: String,
    /// Its legitimate-interest claim.
    pub legitimate_interest_url: String,
    /// How long its cookies live, in seconds (`None`: it does not say).
    pub cookie_max_age: Option<i64>,
    /// Whether it stores or reads by other means than cookies.
    pub non_cookie_access: bool,
    /// Whether the GVL marks it deleted.
    pub deleted: bool,
}

/// The Global Vendor List, as far as a CMP needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gvl {
    /// `vendorListVersion`.
    pub vendor_list_version: u16,
    /// `tcfPolicyVersion`.
    pub policy_version: u8,
    /// The language of its texts (two letters, upper case).
    pub language: String,
    /// The purposes.
    pub purposes: Vec<Entry>,
    /// The special purposes.
    pub special_purposes: Vec<Entry>,
    /// The features.
    pub features: Vec<Entry>,
    /// The special features.
    pub special_features: Vec<Entry>,
    /// The stacks.
    pub stacks: Vec<Stack>,
    /// The data categories.
    pub data_categories: Vec<Entry>,
    /// The vendors.
    pub vendors: Vec<Vendor>,
}

/// Member `key` of an object, if present and not null.
fn member<'a>(value: &'a Json, key: &str) -> Option<&'a Json> {
    value.as_object()?.iter().find(|(k, _)| k == key).map(|(_, v)| v).filter(|v| **v != Json::Null)
}

fn text_of(value: &Json, key: &str) -> Option<String> {
    match member(value, key) {
        Some(Json::String(s)) => Some(s.clone()),
        _ => None,
    }
}

fn text(value: &Json, key: &str) -> String {
    text_of(value, key).unwrap_or_default()
}

/// A purpose, feature or data category as the GVL (or its translation) writes it.
fn entry(e: &Json) -> Entry {
    Entry {
        id: whole(e, "id").unwrap_or(0) as u32,
        name: text(e, "name"),
        description: text(e, "description"),
        illustrations: match member(e, "illustrations") {
            Some(Json::Array(items)) => items.iter().filter_map(|i| as_string(i, "").ok()).collect(),
            _ => Vec::new(),
        },
    }
}

fn whole(value: &Json, key: &str) -> Option<i64> {
    match member(value, key) {
        Some(Json::Number(n)) => n.parse().ok(),
        _ => None,
    }
}

fn ids<T: TryFrom<i64>>(value: &Json, key: &str) -> Vec<T> {
    match member(value, key) {
        Some(Json::Array(items)) => items
            .iter()
            .filter_map(|v| match v {
                Json::Number(n) => n.parse::<i64>().ok().and_then(|n| T::try_from(n).ok()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The members of object `key`, in source order.
fn entries<'a>(value: &'a Json, key: &str) -> &'a [(String, Json)] {
    member(value, key).and_then(Json::as_object).unwrap_or(&[])
}

impl Gvl {
    /// Reads a GVL (specification version 3) and, optionally, a translation of its texts
    /// (`purposes-xx.json`: the same purposes, features and stacks in another language).
    pub fn parse(text_of_gvl: &str) -> Result<Gvl, ConfigError> {
        let v = Json::parse(text_of_gvl)?;
        let (Some(list_version), Some(policy)) = (whole(&v, "vendorListVersion"), whole(&v, "tcfPolicyVersion")) else {
            return Err(invalid(
                "",
                "not a Global Vendor List: `vendorListVersion` and `tcfPolicyVersion` are missing",
            ));
        };
        let entry = |(_, e): &(String, Json)| entry(e);
        let vendors = entries(&v, "vendors")
            .iter()
            .map(|(_, e)| {
                let url = match member(e, "urls") {
                    Some(Json::Array(urls)) => urls.first(),
                    _ => None,
                };
                Vendor {
                    id: whole(e, "id").unwrap_or(0) as u32,
                    name: text(e, "name"),
                    purposes: ids(e, "purposes"),
                    legitimate_interest: ids(e, "legIntPurposes"),
                    flexible: ids(e, "flexiblePurposes"),
                    special_purposes: ids(e, "specialPurposes"),
                    features: ids(e, "features"),
                    special_features: ids(e, "specialFeatures"),
                    data: ids(e, "dataDeclaration"),
                    privacy_url: url.map(|u| text(u, "privacy")).unwrap_or_default(),
                    legitimate_interest_url: url.map(|u| text(u, "legIntClaim")).unwrap_or_default(),
                    cookie_max_age: whole(e, "cookieMaxAgeSeconds"),
                    non_cookie_access: matches!(member(e, "usesNonCookieAccess"), Some(Json::Bool(true))),
                    deleted: member(e, "deletedDate").is_some(),
                }
            })
            .collect();
        Ok(Gvl {
            vendor_list_version: list_version as u16,
            policy_version: policy as u8,
            language: "EN".into(),
            purposes: entries(&v, "purposes").iter().map(entry).collect(),
            special_purposes: entries(&v, "specialPurposes").iter().map(entry).collect(),
            features: entries(&v, "features").iter().map(entry).collect(),
            special_features: entries(&v, "specialFeatures").iter().map(entry).collect(),
            stacks: entries(&v, "stacks")
                .iter()
                .map(|(_, e)| Stack {
                    id: whole(e, "id").unwrap_or(0) as u32,
                    name: text(e, "name"),
                    description: text(e, "description"),
                    purposes: ids(e, "purposes"),
                    special_features: ids(e, "specialFeatures"),
                })
                .collect(),
            data_categories: entries(&v, "dataCategories").iter().map(entry).collect(),
            vendors,
        })
    }

    /// The GVL with its texts in the language of `translation` (an IAB `purposes-xx.json`: purposes,
    /// special purposes, features, special features, stacks and data categories by id), whose
    /// language code is `language`. Entries it lacks keep their English text.
    pub fn translated(&self, translation: &str, language: &str) -> Result<Gvl, ConfigError> {
        let v = Json::parse(translation)?;
        let mut out = self.clone();
        let apply = |entries: &mut Vec<Entry>, key: &str| {
            for e in entries.iter_mut() {
                if let Some(t) = member(&v, key).and_then(|m| member(m, &e.id.to_string())).map(entry) {
                    if !t.name.is_empty() {
                        *e = Entry { id: e.id, ..t };
                    }
                }
            }
        };
        apply(&mut out.purposes, "purposes");
        apply(&mut out.special_purposes, "specialPurposes");
        apply(&mut out.features, "features");
        apply(&mut out.special_features, "specialFeatures");
        apply(&mut out.data_categories, "dataCategories");
        for s in out.stacks.iter_mut() {
            if let Some(t) = member(&v, "stacks").and_then(|m| member(m, &s.id.to_string())) {
                let name = text(t, "name");
                if !name.is_empty() {
                    s.name = name;
                    s.description = text(t, "description");
                }
            }
        }
        out.language = language.chars().take(2).collect::<String>().to_ascii_uppercase();
        Ok(out)
    }

    /// The vendor with `id`, unless the GVL has none or marks it deleted.
    pub fn vendor(&self, id: u32) -> Option<&Vendor> {
        self.vendors.iter().find(|v| v.id == id && !v.deleted)
    }
}

/// The visitor's TCF choices, as stored. Everything else in a TC string follows from them, the config
/// and the GVL ([`signals`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Choices {
    /// The UTC day (days since 1970-01-01) the choices were first made.
    pub created: u64,
    /// The UTC day they were last changed.
    pub updated: u64,
    /// The GVL's `vendorListVersion` when they were made.
    pub vendor_list_version: u16,
    /// The GVL's `tcfPolicyVersion` when they were made.
    pub policy_version: u8,
    /// The language they were made in (two capital letters: the TC string's `ConsentLanguage`).
    pub language: String,
    /// Purposes consented to.
    pub purposes: Ids,
    /// Purposes whose legitimate interest the visitor objected to.
    pub purpose_objections: Ids,
    /// Special features opted in to.
    pub special_features: Ids,
    /// Vendors consented to.
    pub vendors: Ids,
    /// Vendors whose legitimate interest the visitor objected to.
    pub vendor_objections: Ids,
    /// Google ad-tech providers consented to.
    pub atps: Ids,
    /// What was disclosed: [`disclosure`] of the config and GVL shown.
    pub disclosure: String,
}

/// What a choice was made about, in a few characters: the policy version, the vendors disclosed and
/// what each may do once the publisher's restrictions apply, the publisher's own purposes, and the
/// ATPs. A choice whose disclosure differs from today's is asked again.
pub fn disclosure(config: &TcfConfig, gvl: &Gvl) -> String {
    let mut text =
        format!("{}|{:?}{:?}|", gvl.policy_version, config.publisher_consent, config.publisher_legitimate_interest);
    for v in disclosed(config, gvl) {
        let (consent, li) = bases(config, v);
        text.push_str(&format!(
            "{}:{:?}{:?}{:?}{:?}{:?};",
            v.id, consent, li, v.special_purposes, v.features, v.special_features
        ));
    }
    for a in &config.google_atps {
        text.push_str(&format!("a{};", a.id));
    }
    format!("{:08x}", crate::hash::config_fingerprint(&text))
}

/// The configured vendors the GVL lists and does not mark deleted, in id order.
pub fn disclosed<'a>(config: &TcfConfig, gvl: &'a Gvl) -> Vec<&'a Vendor> {
    let mut ids: Vec<u32> = config.vendors.clone();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter().filter_map(|id| gvl.vendor(id)).collect()
}

/// The purposes a vendor may hold on consent, and on legitimate interest, once the publisher's
/// restrictions are applied. A restriction that requires a legal basis for a purpose the vendor did
/// not declare flexible means the vendor should not process it (TCF's TC string specification).
pub fn bases(config: &TcfConfig, v: &Vendor) -> (Ids, Ids) {
    let mut consent: Ids = v.purposes.iter().copied().collect();
    let mut li: Ids = v.legitimate_interest.iter().copied().collect();
    for r in config.restrictions.iter().filter(|r| r.vendors.contains(&v.id)) {
        match r.kind {
            RestrictionKind::NotAllowed => {
                consent.remove(r.purpose);
                li.remove(r.purpose);
            }
            RestrictionKind::RequireConsent if v.flexible.contains(&r.purpose) && li.remove(r.purpose) => {
                consent.insert(r.purpose);
            }
            RestrictionKind::RequireLegitimateInterest
                if v.flexible.contains(&r.purpose)
                    && !NO_LEGITIMATE_INTEREST.contains(&r.purpose)
                    && consent.remove(r.purpose) =>
            {
                li.insert(r.purpose);
            }
            _ if !v.flexible.contains(&r.purpose) => {
                consent.remove(r.purpose);
                li.remove(r.purpose);
            }
            _ => {}
        }
    }
    let li = li.filter(|p| !NO_LEGITIMATE_INTEREST.contains(&p));
    (consent, li)
}

/// What the first and second layers disclose, derived from the config and the GVL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// Purposes some disclosed vendor (or the publisher) asks consent for.
    pub consent_purposes: Ids,
    /// Purposes some disclosed vendor (or the publisher) processes on legitimate interest.
    pub li_purposes: Ids,
    /// Special purposes of the disclosed vendors.
    pub special_purposes: Ids,
    /// Features of the disclosed vendors.
    pub features: Ids,
    /// Special features of the disclosed vendors.
    pub special_features: Ids,
}

/// The purposes, features and special features the disclosed vendors and the publisher use.
pub fn scope(config: &TcfConfig, gvl: &Gvl) -> Scope {
    let mut s = Scope {
        consent_purposes: config.publisher_consent.iter().copied().collect(),
        li_purposes: config.publisher_legitimate_interest.iter().copied().collect(),
        special_purposes: Ids::default(),
        features: Ids::default(),
        special_features: Ids::default(),
    };
    for v in disclosed(config, gvl) {
        let (consent, li) = bases(config, v);
        s.consent_purposes.extend(consent.iter());
        s.li_purposes.extend(li.iter());
        s.special_purposes.extend(v.special_purposes.iter().copied());
        s.features.extend(v.features.iter().copied());
        s.special_features.extend(v.special_features.iter().copied());
    }
    s
}

impl Choices {
    /// Everything consented to, nothing objected to ("Accept all"). Never touches Assent's own
    /// purposes: AI training is not a TCF purpose.
    pub fn accept_all(config: &TcfConfig, gvl: &Gvl, today: u64, before: Option<&Choices>) -> Choices {
        let s = scope(config, gvl);
        Choices {
            purposes: s.consent_purposes,
            special_features: s.special_features,
            vendors: disclosed(config, gvl).iter().map(|v| v.id).collect(),
            atps: config.google_atps.iter().map(|a| a.id).collect(),
            ..Choices::blank(config, gvl, today, before)
        }
    }

    /// Nothing consented to ("Reject all"). Legitimate interest stays until objected to, as TCF
    /// provides; the right to object is one click further (`purpose_objections`, `vendor_objections`).
    pub fn reject_all(config: &TcfConfig, gvl: &Gvl, today: u64, before: Option<&Choices>) -> Choices {
        Choices::blank(config, gvl, today, before)
    }

    /// No consent and no objection, dated today (created on the first choice's day).
    pub fn blank(config: &TcfConfig, gvl: &Gvl, today: u64, before: Option<&Choices>) -> Choices {
        Choices {
            created: before.map_or(today, |b| b.created),
            updated: today,
            vendor_list_version: gvl.vendor_list_version,
            policy_version: gvl.policy_version,
            language: gvl.language.clone(),
            disclosure: disclosure(config, gvl),
            ..Choices::default()
        }
    }

    /// Whether these choices answer what the site discloses today (UTC day `today`). When the policy
    /// version, the vendors or what they may do, the publisher's purposes or the ATPs changed, or the
    /// choices are older than [`MAX_AGE_DAYS`], the visitor is asked again.
    pub fn current(&self, config: &TcfConfig, gvl: &Gvl, today: u64) -> bool {
        self.policy_version == gvl.policy_version
            && self.disclosure == disclosure(config, gvl)
            && today.saturating_sub(self.updated) <= MAX_AGE_DAYS
    }

    /// The stored form: one line of JSON.
    pub fn to_text(&self) -> String {
        fn list(ids: &Ids) -> String {
            crate::joined(&ids.iter().map(|i| i.to_string()).collect::<Vec<_>>(), ",")
        }
        format!(
            r#"{{"v":1,"created":{},"updated":{},"vlv":{},"policy":{},"lang":"{}","purposes":[{}],"purposeObjections":[{}],"specialFeatures":[{}],"vendors":[{}],"vendorObjections":[{}],"atps":[{}],"disclosure":"{}"}}"#,
            self.created,
            self.updated,
            self.vendor_list_version,
            self.policy_version,
            self.language,
            list(&self.purposes),
            list(&self.purpose_objections),
            list(&self.special_features),
            list(&self.vendors),
            list(&self.vendor_objections),
            list(&self.atps),
            self.disclosure,
        )
    }

    /// Reads [`Choices::to_text`]'s form; `None` for anything else (the visitor is asked again).
    pub fn from_text(text: &str) -> Option<Choices> {
        let v = Json::parse(text).ok()?;
        if whole(&v, "v") != Some(1) {
            return None;
        }
        Some(Choices {
            created: u64::try_from(whole(&v, "created")?).ok()?,
            updated: u64::try_from(whole(&v, "updated")?).ok()?,
            vendor_list_version: whole(&v, "vlv")? as u16,
            policy_version: whole(&v, "policy")? as u8,
            language: text_of(&v, "lang").filter(|l| l.len() == 2 && l.bytes().all(|b| b.is_ascii_uppercase()))?,
            purposes: ids(&v, "purposes").into_iter().collect(),
            purpose_objections: ids(&v, "purposeObjections").into_iter().collect(),
            special_features: ids(&v, "specialFeatures").into_iter().collect(),
            vendors: ids(&v, "vendors").into_iter().collect(),
            vendor_objections: ids(&v, "vendorObjections").into_iter().collect(),
            atps: ids(&v, "atps").into_iter().collect(),
            disclosure: text_of(&v, "disclosure")?,
        })
    }
}

/// Everything a TC string and `getTCData` say, after the rules above.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signals {
    /// Created, in deciseconds since the epoch (day granularity).
    pub created: u64,
    /// Last updated, likewise.
    pub updated: u64,
    /// The CMP id.
    pub cmp_id: u16,
    /// The CMP version.
    pub cmp_version: u16,
    /// The consent language (two capital letters).
    pub language: String,
    /// The GVL version the choices were made against.
    pub vendor_list_version: u16,
    /// The TCF policy version.
    pub policy_version: u8,
    /// The publisher's country.
    pub publisher_country: String,
    /// Special features opted in to.
    pub special_features: Ids,
    /// Purposes consented to.
    pub purpose_consents: Ids,
    /// Purposes whose legitimate interest was disclosed and not objected to.
    pub purpose_li: Ids,
    /// Vendors consented to.
    pub vendor_consents: Ids,
    /// Vendors whose legitimate interest stands.
    pub vendor_li: Ids,
    /// The publisher restrictions.
    pub restrictions: Vec<Restriction>,
    /// The vendors disclosed.
    pub disclosed: Ids,
    /// The publisher's purposes consented to.
    pub publisher_consents: Ids,
    /// The publisher's purposes on legitimate interest, not objected to.
    pub publisher_li: Ids,
    /// The Google ATPs consented to.
    pub atp_consents: Ids,
    /// The Google ATPs disclosed and not consented to (AC v2's `dv.` list).
    pub atps_disclosed: Ids,
}

/// The signals for `choices` under `config` and `gvl`.
pub fn signals(config: &TcfConfig, gvl: &Gvl, choices: &Choices) -> Signals {
    let s = scope(config, gvl);
    let shown = disclosed(config, gvl);
    let mut vendor_consents = Ids::default();
    let mut vendor_li = Ids::default();
    for v in &shown {
        let (consent, li) = bases(config, v);
        if !consent.is_empty() && choices.vendors.contains(v.id) {
            vendor_consents.insert(v.id);
        }
        if !li.is_empty() && !choices.vendor_objections.contains(v.id) {
            vendor_li.insert(v.id);
        }
    }
    let decis = |day: u64| day * 86_400 * 10;
    Signals {
        // The TC string's Created is the day of the last change, as LastUpdated (TC string v2.2 and
        // later); the first day is kept in the stored choices only.
        created: decis(choices.updated),
        updated: decis(choices.updated),
        cmp_id: config.cmp_id,
        cmp_version: config.cmp_version,
        language: choices.language.clone(),
        vendor_list_version: choices.vendor_list_version,
        policy_version: choices.policy_version,
        publisher_country: config.publisher_country.clone(),
        special_features: choices.special_features.filter(|f| s.special_features.contains(f)),
        purpose_consents: choices.purposes.filter(|p| s.consent_purposes.contains(p)),
        purpose_li: s.li_purposes.filter(|p| !choices.purpose_objections.contains(p)),
        vendor_consents,
        vendor_li,
        restrictions: config
            .restrictions
            .iter()
            .map(|r| Restriction {
                vendors: r.vendors.iter().copied().filter(|id| gvl.vendor(*id).is_some()).collect(),
                ..r.clone()
            })
            .filter(|r| !r.vendors.is_empty())
            .collect(),
        disclosed: shown.iter().map(|v| v.id).collect(),
        publisher_consents: config
            .publisher_consent
            .iter()
            .copied()
            .filter(|p| choices.purposes.contains(*p))
            .collect(),
        publisher_li: config
            .publisher_legitimate_interest
            .iter()
            .copied()
            .filter(|p| !choices.purpose_objections.contains(*p))
            .collect(),
        atp_consents: config.google_atps.iter().map(|a| a.id).filter(|id| choices.atps.contains(*id)).collect(),
        atps_disclosed: config.google_atps.iter().map(|a| a.id).filter(|id| !choices.atps.contains(*id)).collect(),
    }
}

/// A fixed-width field of flags: bit `i` (from 1) set when `i` is in `set`.
fn flags(bits: &mut Bits, set: &Ids, width: u32) {
    for i in 1..=width {
        bits.0.push(set.contains(i));
    }
}

fn letters(bits: &mut Bits, two: &str) {
    for b in two.bytes().take(2) {
        bits.push(b.saturating_sub(b'A').into(), 6);
    }
}

/// Runs of consecutive ids: `(first, last)`.
fn runs(ids: &Ids) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = Vec::new();
    for id in ids.iter() {
        match out.last_mut() {
            Some((_, last)) if *last + 1 == id => *last = id,
            _ => out.push((id, id)),
        }
    }
    out
}

fn range_entries(bits: &mut Bits, runs: &[(u32, u32)]) {
    bits.push(runs.len() as u32, 12);
    for &(first, last) in runs {
        bits.0.push(first != last);
        bits.push(first, 16);
        if first != last {
            bits.push(last, 16);
        }
    }
}

/// A vendor section: MaxVendorId, then a bit field or ranges, whichever is shorter.
fn vendor_vector(bits: &mut Bits, ids: &Ids) {
    let max = ids.last().unwrap_or(0);
    bits.push(max, 16);
    let runs = runs(ids);
    let range_len = 12 + runs.iter().map(|(a, b)| if a == b { 17 } else { 33 }).sum::<u32>();
    if range_len < max {
        bits.0.push(true);
        range_entries(bits, &runs);
    } else {
        bits.0.push(false);
        for id in 1..=max {
            bits.0.push(ids.contains(id));
        }
    }
}

impl Signals {
    /// The TC string: core segment, DisclosedVendors segment, publisher TC segment.
    pub fn tc_string(&self) -> String {
        let mut core = Bits::default();
        core.push(VERSION.into(), 6);
        for deciseconds in [self.created, self.updated] {
            core.push((deciseconds >> 32) as u32, 4);
            core.push(deciseconds as u32, 32);
        }
        core.push(self.cmp_id.into(), 12);
        core.push(self.cmp_version.into(), 12);
        core.push(1, 6); // ConsentScreen: the first layer
        letters(&mut core, &self.language);
        core.push(self.vendor_list_version.into(), 12);
        core.push(self.policy_version.into(), 6);
        core.0.push(true); // IsServiceSpecific: this site's choices only
        core.0.push(false); // UseNonStandardTexts
        flags(&mut core, &self.special_features, 12);
        flags(&mut core, &self.purpose_consents, 24);
        flags(&mut core, &self.purpose_li, 24);
        core.0.push(false); // PurposeOneTreatment
        letters(&mut core, &self.publisher_country);
        vendor_vector(&mut core, &self.vendor_consents);
        vendor_vector(&mut core, &self.vendor_li);
        core.push(self.restrictions.len() as u32, 12);
        for r in &self.restrictions {
            core.push(r.purpose, 6);
            core.push(r.kind as u32, 2);
            let ids: Ids = r.vendors.iter().copied().collect();
            range_entries(&mut core, &runs(&ids));
        }
        let mut disclosed = Bits::default();
        disclosed.push(1, 3);
        vendor_vector(&mut disclosed, &self.disclosed);
        let mut publisher = Bits::default();
        publisher.push(3, 3);
        flags(&mut publisher, &self.publisher_consents, 24);
        flags(&mut publisher, &self.publisher_li, 24);
        publisher.push(0, 6); // NumCustomPurposes
        crate::joined(&[core, disclosed, publisher].map(|b| b.base64url_padded(24)), ".")
    }

    /// Google's Additional Consent string, version 2: `2~<consented ids>~dv.<ids disclosed and not
    /// consented to>`.
    pub fn ac_string(&self) -> String {
        let dots = |ids: &Ids| crate::joined(&ids.iter().map(|id| id.to_string()).collect::<Vec<_>>(), ".");
        format!("2~{}~dv.{}", dots(&self.atp_consents), dots(&self.atps_disclosed))
    }
}

/// The UTC day of `now_ms` (milliseconds since the epoch).
pub fn day_of(now_ms: f64) -> u64 {
    (now_ms / 86_400_000.0).floor().max(0.0) as u64
}

#[cfg(test)]
mod tests;
