//! Choosing the visitor's language and checking locale files against the reference.

use std::collections::BTreeSet;

/// The reference language: every key exists here first; other files must match its key set.
pub const REFERENCE_LANGUAGE: &str = "en";

/// Picks the language to show: the config's forced choice, then `<html lang>`, then the browser's
/// languages in order, then the config's first language. A tag matches exactly, then through its
/// script or region where Assent ships variants (`zh-TW` → `zh-Hant`, `zh-CN` → `zh-Hans`, `es-MX` →
/// `es-419`, `pt-BR` → `pt-BR`, `pt-PT` → `pt`, `nb` → `no`), then by its primary subtag (`de-AT` → `de`).
pub fn negotiate(available: &[String], forced: Option<&str>, html_lang: Option<&str>, browser: &[String]) -> String {
    let pick = |want: &str| -> Option<String> {
        candidates(want).into_iter().find_map(|c| available.iter().find(|a| a.eq_ignore_ascii_case(&c)).cloned())
    };
    forced
        .and_then(pick)
        .or_else(|| html_lang.and_then(pick))
        .or_else(|| browser.iter().find_map(|b| pick(b)))
        .or_else(|| available.first().cloned())
        .unwrap_or_else(|| REFERENCE_LANGUAGE.to_string())
}

/// Latin American and Caribbean regions whose Spanish is `es-419` (UN M.49 region 419).
const LATIN_AMERICA: &[&str] = &[
    "419", "AR", "BO", "BR", "BZ", "CL", "CO", "CR", "CU", "DO", "EC", "GT", "HN", "MX", "NI", "PA", "PE", "PR", "PY",
    "SV", "US", "UY", "VE",
];

/// The locale files a language tag may be served by, best first.
fn candidates(want: &str) -> Vec<String> {
    let tag = want.trim().replace('_', "-");
    if tag.is_empty() {
        return Vec::new();
    }
    let parts: Vec<&str> = tag.split('-').collect();
    let primary = parts[0].to_ascii_lowercase();
    let script = parts[1..].iter().find(|p| p.len() == 4).map(|p| p.to_ascii_lowercase());
    let region = parts[1..]
        .iter()
        .find(|p| p.len() == 2 || (p.len() == 3 && p.bytes().all(|b| b.is_ascii_digit())))
        .map(|p| p.to_ascii_uppercase());
    let mut out = vec![tag.clone()];
    let variant = match primary.as_str() {
        "zh" if script.as_deref() == Some("hant") || matches!(region.as_deref(), Some("TW" | "HK" | "MO")) => {
            Some("zh-Hant")
        }
        "zh" => Some("zh-Hans"),
        "es" if region.as_deref().is_some_and(|r| LATIN_AMERICA.contains(&r)) => Some("es-419"),
        "pt" if region.as_deref() == Some("BR") => Some("pt-BR"),
        "nb" | "nn" => Some("no"),
        _ => None,
    };
    out.extend(variant.map(String::from));
    out.push(primary);
    out
}

/// Strings with legal force in California, in the wording of the law and its regulations (Cal. Civ.
/// Code §1798.135, CCPA Regulations §§7015 and 7025): shown in English there, with the visitor's
/// translation next to them. Equal to `locales/en.json` (tested).
pub const CALIFORNIA_ENGLISH: &[(&str, &str)] = &[
    ("entry.doNotSell", "Do Not Sell or Share My Personal Information"),
    ("entry.privacyChoices", "Your Privacy Choices"),
    ("gpc.honored", "Opt-Out Request Honored"),
];

/// Whether a language is written right to left (`dir="rtl"`): Arabic, Hebrew, Persian, Urdu and
/// the other right-to-left scripts' languages.
pub fn is_rtl(lang: &str) -> bool {
    let primary = lang.split(['-', '_']).next().unwrap_or(lang).to_ascii_lowercase();
    matches!(primary.as_str(), "ar" | "he" | "iw" | "fa" | "ur" | "ps" | "sd" | "yi" | "dv" | "ckb" | "ug")
}

/// The languages Assent ships (`locales/*.json`), the reference first: the default of the config's
/// `languages`.
pub fn shipped() -> Vec<String> {
    let mut all: Vec<String> = SHIPPED.iter().map(|l| l.to_string()).collect();
    all.sort_by_key(|l| l != REFERENCE_LANGUAGE);
    all
}

include!(concat!(env!("OUT_DIR"), "/languages.rs"));

/// The CLDR cardinal plural categories of a shipped language (`Intl.PluralRules(lang)
/// .resolvedOptions().pluralCategories`, in CLDR order): what its plural messages must cover. The e2e
/// suite checks this table against the browser's.
pub fn plural_categories(lang: &str) -> Option<&'static [&'static str]> {
    const ONE_OTHER: &[&str] = &["one", "other"];
    const OTHER: &[&str] = &["other"];
    const ONE_MANY_OTHER: &[&str] = &["one", "many", "other"];
    const ONE_FEW_MANY_OTHER: &[&str] = &["one", "few", "many", "other"];
    const ONE_FEW_OTHER: &[&str] = &["one", "few", "other"];
    Some(match lang {
        "bg" | "da" | "de" | "el" | "en" | "et" | "fi" | "fa" | "hi" | "hu" | "is" | "nl" | "no" | "sv" | "tr" => {
            ONE_OTHER
        }
        "ja" | "ko" | "zh-Hans" | "zh-Hant" | "th" | "vi" | "id" | "ms" => OTHER,
        "fr" | "es" | "es-419" | "it" | "pt" | "pt-BR" => ONE_MANY_OTHER,
        "cs" | "sk" | "pl" | "ru" | "uk" | "lt" => ONE_FEW_MANY_OTHER,
        "hr" | "sr" | "ro" => ONE_FEW_OTHER,
        "sl" => &["one", "two", "few", "other"],
        "lv" => &["zero", "one", "other"],
        "he" => &["one", "two", "other"],
        "ga" | "mt" => &["one", "two", "few", "many", "other"],
        "ar" => &["zero", "one", "two", "few", "many", "other"],
        _ => return None,
    })
}

/// A plural message, `{days, plural, one {# day} other {# days}}` (ICU MessageFormat's plural form,
/// without offsets or exact-number cases): the variable and each category's text, where `#` stands for
/// the number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plural<'a> {
    /// The variable (`days`).
    pub var: &'a str,
    /// `(category, text)` in the order written.
    pub branches: Vec<(&'a str, &'a str)>,
}

/// Reads a plural message; `None` for any other string.
pub fn parse_plural(text: &str) -> Option<Plural<'_>> {
    let inner = text.strip_prefix('{')?.strip_suffix('}')?;
    let (var, rest) = inner.split_once(", plural,")?;
    if var.is_empty() || !var.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return None;
    }
    let mut branches = Vec::new();
    let mut rest = rest.trim_start();
    while !rest.is_empty() {
        let open = rest.find('{')?;
        let category = rest[..open].trim();
        let close = open + rest[open..].find('}')?;
        if category.is_empty() || rest[open + 1..close].contains('{') {
            return None;
        }
        branches.push((category, &rest[open + 1..close]));
        rest = rest[close + 1..].trim_start();
    }
    (!branches.is_empty()).then_some(Plural { var, branches })
}

/// Fills a message that may be a plural one: the branch for `category` (else `other`), with `#` as
/// `n`. Any other message is returned as it is.
pub fn plural(text: &str, category: &str, n: u64) -> String {
    match parse_plural(text) {
        Some(p) => {
            let pick = p
                .branches
                .iter()
                .find(|(c, _)| *c == category)
                .or_else(|| p.branches.iter().find(|(c, _)| *c == "other"));
            pick.map_or_else(String::new, |(_, t)| t.replace('#', &n.to_string()))
        }
        None => text.to_string(),
    }
}

/// What is wrong with a locale's string next to the reference's: different placeholders, a plural
/// message where the reference has none (or the reverse), or plural categories other than the
/// language's (`plural_categories`). Empty when nothing is.
pub fn string_problems(lang: &str, text: &str, reference: &str) -> Vec<String> {
    let mut out = Vec::new();
    match (parse_plural(reference), parse_plural(text)) {
        (Some(r), Some(t)) => {
            if r.var != t.var {
                out.push(format!("plural variable `{}`, the reference has `{}`", t.var, r.var));
            }
            match plural_categories(lang) {
                Some(want) => {
                    let mut got: Vec<&str> = t.branches.iter().map(|(c, _)| *c).collect();
                    got.sort();
                    let mut sorted = want.to_vec();
                    sorted.sort();
                    if got != sorted {
                        out.push(format!("invalid plural forms {got:?}: `{lang}` has exactly {want:?} (CLDR)"));
                    }
                }
                None => out.push(format!(
                    "no plural rules are known for `{lang}`: add its CLDR categories to locale::plural_categories"
                )),
            }
            for (category, branch) in &t.branches {
                if !branch.contains('#') {
                    out.push(format!("plural form `{category}` lacks `#` (the number)"));
                }
                if !placeholders(branch).is_empty() {
                    out.push(format!(
                        "plural form `{category}` has placeholders {:?}; only `#` is allowed inside",
                        placeholders(branch)
                    ));
                }
            }
        }
        (Some(_), None) => {
            out.push("must be a plural message like the reference's (`{n, plural, one {…} other {…}}`)".into())
        }
        (None, Some(_)) => out.push("is a plural message, but the reference's is not".into()),
        (None, None) => {
            if placeholders(text) != placeholders(reference) {
                out.push(format!(
                    "has placeholders {:?}, the reference has {:?}",
                    placeholders(text),
                    placeholders(reference)
                ));
            }
        }
    }
    out
}

/// Differences between a locale's keys and the reference's: `(missing, surplus)`.
pub fn key_differences<'a>(
    reference: impl IntoIterator<Item = &'a str>,
    locale: impl IntoIterator<Item = &'a str>,
) -> (Vec<&'a str>, Vec<&'a str>) {
    let reference: BTreeSet<&str> = reference.into_iter().collect();
    let locale: BTreeSet<&str> = locale.into_iter().collect();
    (reference.difference(&locale).copied().collect(), locale.difference(&reference).copied().collect())
}

/// The `{placeholder}` names in a string, sorted.
pub fn placeholders(text: &str) -> BTreeSet<&str> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        match after.find('}') {
            Some(end) => {
                out.insert(&after[..end]);
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}
