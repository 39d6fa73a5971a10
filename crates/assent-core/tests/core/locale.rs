//! Which language a visitor sees, plural messages, writing direction, and the locale-file checks
//! the build runs (issue 7).

use assent_core::locale::{is_rtl, negotiate, parse_plural, plural, plural_categories, shipped, string_problems};

fn available() -> Vec<String> {
    ["en", "de", "es", "es-419", "pt", "pt-BR", "zh-Hans", "zh-Hant", "no", "sr", "ar"].map(String::from).to_vec()
}

#[test]
fn the_config_then_html_lang_then_the_browser_then_the_first_language() {
    let b = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    // (forced, <html lang>, navigator.languages, shown)
    type Case<'a> = (Option<&'a str>, Option<&'a str>, &'a [&'a str], &'a str);
    let table: &[Case] = &[
        (Some("de"), Some("es"), &["pt-BR"], "de"),
        (None, Some("es"), &["pt-BR"], "es"),
        (None, None, &["pt-BR", "de"], "pt-BR"),
        (None, Some("xx"), &["fr-CA", "de-AT"], "de"), // nothing for xx or fr: the next, by primary subtag
        (None, None, &["ja"], "en"),                   // nothing matches: the config's first
        (Some("xx"), None, &["de"], "de"),             // a forced language that is not offered is skipped
        (None, None, &["zh-TW"], "zh-Hant"),
        (None, None, &["zh-HK"], "zh-Hant"),
        (None, None, &["zh-Hant-HK"], "zh-Hant"),
        (None, None, &["zh-CN"], "zh-Hans"),
        (None, None, &["zh"], "zh-Hans"),
        (None, None, &["zh-SG"], "zh-Hans"),
        (None, None, &["es-MX"], "es-419"),
        (None, None, &["es-419"], "es-419"),
        (None, None, &["es-ES"], "es"),
        (None, None, &["pt-PT"], "pt"),
        (None, None, &["pt"], "pt"),
        (None, None, &["nb-NO"], "no"),
        (None, None, &["nn"], "no"),
        (None, None, &["sr-Latn-RS"], "sr"),
        (None, Some("ar-EG"), &[], "ar"),
        (None, Some("  "), &["DE-de"], "de"),
    ];
    for (forced, html, browser, want) in table {
        assert_eq!(negotiate(&available(), *forced, *html, &b(browser)), *want, "{forced:?} {html:?} {browser:?}");
    }
}

#[test]
fn assent_ships_forty_plus_languages_with_the_reference_first_and_known_plural_rules() {
    let langs = shipped();
    assert_eq!(langs[0], "en");
    assert!(langs.len() >= 40, "{} languages", langs.len());
    for l in [
        "bg", "hr", "cs", "da", "nl", "en", "et", "fi", "fr", "de", "el", "hu", "ga", "it", "lv", "lt", "mt", "pl",
        "pt", "ro", "sk", "sl", "es", "sv",
    ] {
        assert!(langs.iter().any(|x| x == l), "the EU's official language {l}");
    }
    for l in [
        "pt-BR", "es-419", "zh-Hans", "zh-Hant", "ja", "ko", "hi", "th", "vi", "id", "ms", "tr", "ru", "uk", "ar",
        "he", "fa", "sr", "no", "is",
    ] {
        assert!(langs.iter().any(|x| x == l), "{l}");
    }
    for l in &langs {
        assert!(plural_categories(l).is_some(), "{l}: add its CLDR plural categories");
    }
}

#[test]
fn plural_messages_pick_the_category_and_fill_the_number() {
    let msg = "{days, plural, one {Kept # day} other {Kept # days}}";
    let p = parse_plural(msg).unwrap();
    assert_eq!((p.var, p.branches.len()), ("days", 2));
    assert_eq!(plural(msg, "one", 1), "Kept 1 day");
    assert_eq!(plural(msg, "other", 30), "Kept 30 days");
    assert_eq!(plural(msg, "few", 3), "Kept 3 days", "a missing category falls back to other");
    assert_eq!(plural("Plain {x}", "one", 1), "Plain {x}", "other messages are left alone");
    for bad in
        ["{days, plural, one {x} other {y}", "{days, plural}", "{, plural, one {#}}", "{days, plural, one {a {b}}}"]
    {
        assert_eq!(parse_plural(bad), None, "{bad}");
    }
}

#[test]
fn the_build_refuses_wrong_placeholders_and_invalid_plural_forms() {
    let en = "{days, plural, one {Kept # day} other {Kept # days}}";
    assert!(string_problems("en", en, en).is_empty());
    let ru_ok = "{days, plural, one {# день} few {# дня} many {# дней} other {# дня}}";
    assert!(string_problems("ru", ru_ok, en).is_empty());
    let cases = [
        ("ru", "{days, plural, one {# день} other {# дней}}", "invalid plural forms [\"one\", \"other\"]: `ru` has exactly [\"one\", \"few\", \"many\", \"other\"] (CLDR)"),
        ("ja", "{days, plural, one {# 日} other {# 日}}", "invalid plural forms [\"one\", \"other\"]: `ja` has exactly [\"other\"] (CLDR)"),
        ("de", "{tage, plural, one {# Tag} other {# Tage}}", "plural variable `tage`, the reference has `days`"),
        ("de", "{days, plural, one {ein Tag} other {# Tage}}", "plural form `one` lacks `#` (the number)"),
        ("de", "Bis zu {days} Tage", "must be a plural message like the reference's (`{n, plural, one {…} other {…}}`)"),
        ("xx", "{days, plural, other {#}}", "no plural rules are known for `xx`: add its CLDR categories to locale::plural_categories"),
    ];
    for (lang, text, want) in cases {
        assert_eq!(string_problems(lang, text, en), [want.to_string()], "{lang}: {text}");
    }
    assert_eq!(
        string_problems("de", "Von {service}", "Hosted by {controller}"),
        ["has placeholders {\"service\"}, the reference has {\"controller\"}"]
    );
}

#[test]
fn right_to_left_languages() {
    for l in ["ar", "he", "fa", "ar-EG", "ur"] {
        assert!(is_rtl(l), "{l}");
    }
    for l in ["en", "de", "ja", "zh-Hant", "tr", "hi"] {
        assert!(!is_rtl(l), "{l}");
    }
}

#[test]
fn california_keeps_the_legal_wording_in_english_exactly_as_the_reference_file_has_it() {
    use assent_core::hash::config_fingerprint;
    use assent_core::{Config, Session, Visitor};
    let json = assent_core::json::Json::parse(crate::common::EN).unwrap();
    let en = assent_core::json::string_map(&json, "").unwrap();
    for (key, text) in assent_core::locale::CALIFORNIA_ENGLISH {
        assert_eq!(en.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()), Some(*text), "{key}");
    }
    let demo = crate::common::DEMO;
    let start = |region: &str| {
        Session::start(
            Config::parse(demo).unwrap(),
            config_fingerprint(demo),
            &Visitor::in_region(region),
            None,
            0,
            || [1; 16],
        )
        .0
    };
    assert_eq!(start("US-CA").legal_english("gpc.honored"), Some("Opt-Out Request Honored"));
    assert_eq!(start("US-CA").legal_english("banner.title"), None, "only the strings with legal force");
    assert_eq!(start("US-VA").legal_english("gpc.honored"), None, "California only");
    assert_eq!(start("DE").legal_english("entry.doNotSell"), None);
}
