//! Choosing the visitor's language and checking locale files against the reference.

use std::collections::BTreeSet;

/// The reference language: every key exists here first; other files must match its key set.
pub const REFERENCE_LANGUAGE: &str = "en";

/// Picks the language to show: the config's forced choice, then `<html lang>`, then the browser's
/// languages in order, then the config's first language. A tag matches exactly, then by its primary
/// subtag (`de-AT` → `de`).
pub fn negotiate(available: &[String], forced: Option<&str>, html_lang: Option<&str>, browser: &[String]) -> String {
    let pick = |want: &str| -> Option<String> {
        let want = want.trim();
        if want.is_empty() {
            return None;
        }
        let exact = available.iter().find(|a| a.eq_ignore_ascii_case(want));
        let primary = want.split('-').next().unwrap_or(want);
        exact.or_else(|| available.iter().find(|a| a.eq_ignore_ascii_case(primary))).cloned()
    };
    forced
        .and_then(pick)
        .or_else(|| html_lang.and_then(pick))
        .or_else(|| browser.iter().find_map(|b| pick(b)))
        .or_else(|| available.first().cloned())
        .unwrap_or_else(|| REFERENCE_LANGUAGE.to_string())
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
