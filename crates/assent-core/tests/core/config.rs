//! Config errors name the field and say what to change.

use assent_core::{Config, ConfigError};

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text)
}

const MINIMAL: &str = r#"{"notice":{"version":"1"},"controller":"Acme","purposes":[{"id":"necessary","required":true},{"id":"analytics"}]}"#;

#[test]
fn minimal_config_parses_with_defaults() {
    let c = parse(MINIMAL).unwrap();
    assert_eq!(c.cookie.name, "assent");
    assert_eq!(c.languages, assent_core::locale::shipped(), "every shipped language by default");
    assert_eq!(c.languages[0], "en", "English first: the fallback");
    assert_eq!(c.expiry.refused_days, 182);
    assert!(
        parse(&MINIMAL.replace(r#"}]}"#, r#"}],"cookie":{"domain":".acme.test"}}"#)).is_ok(),
        "a shared cookie without receipt endpoints is fine"
    );
}

#[test]
fn errors_name_the_field() {
    let table = [
        (MINIMAL.replace(r#""id":"analytics""#, r#""id":"Analytics""#), "config: purposes[1].id: `Analytics` must be lowercase snake_case, like `analytics`"),
        (MINIMAL.replace(r#""id":"analytics""#, r#""id":42"#), "config: purposes[1].id: expected a string, found the number 42"),
        (MINIMAL.replace(r#""version":"1""#, r#""version":"v 1""#), "config: notice.version: `v 1` must be 1-32 letters, digits, `.`, `_` or `-`"),
        (MINIMAL.replace(r#","required":true"#, ""), "config: purposes[0].required: `necessary` must be `required: true`"),
        (MINIMAL.replace(r#"{"id":"analytics"}"#, r#"{"id":"analytics","required":true}"#), "config: purposes[1].required: only `necessary` may be required; `analytics` must be a free choice"),
        (MINIMAL.replace(r#""controller""#, r#""controler""#), "config: controler: unknown field, expected one of `$schema`, `notice`, `controller`, `languages`, `language`, `cookie`, `expiry`, `purposes`, `regions`, `receipts`, `gpc`, `consentMode`, `contentUsage`, `tcf`, `optOutEntryPoint`, `text`, `blocking`, `theme`"),
        (MINIMAL.replace(r#"}]}"#, r#"}],"regions":{"rules":[{"match":["Europe"],"flow":"optIn"}]}}"#), "config: regions.rules[0].match[0]: `Europe` is neither an ISO 3166 code (`DE`, `US-CA`) nor a known group (`EU`, `EEA`, `US-STATES-WITH-PRIVACY-LAWS`)"),
        (MINIMAL.replace(r#"}]}"#, r#"}],"regions":{"default":"optin"}}"#), "config: regions.default: `optin` is not a flow: use `optIn`, `optOut` or `notice`"),
        (MINIMAL.replace(r#"}]}"#, r#"}],"expiry":{"grantedDays":400}}"#), "config: expiry.grantedDays: 400 days: must be between 1 and 395 (13 months)"),
        (MINIMAL.replace(r#"}]}"#, r#"}],"theme":{"position":"top"}}"#), "config: theme.position: `top`: use `bar`, `box` or `modal`"),
        (MINIMAL.replace(r#"}]}"#, r#"}],"theme":{"scheme":"night"}}"#), "config: theme.scheme: `night`: use `auto`, `light` or `dark`"),
        (MINIMAL.replace(r#"}]}"#, r#"}],"theme":{"colour":"red"}}"#), "config: theme.colour: unknown field, expected one of `scheme`, `position`"),
        (MINIMAL.replace(r#"{"id":"analytics"}"#, r#"{"id":"ai_training","optOut":true}"#), "config: purposes[1].optOut: `ai_training` is opt-in: remove `optOut`; to rest it on legitimate interest in some regions, list them in `legitimateInterest`"),
        (MINIMAL.replace(r#"{"id":"analytics"}"#, r#"{"id":"analytics","legitimateInterest":["US"]}"#), "config: purposes[1].legitimateInterest: only `ai_training` may rest on legitimate interest; `analytics` stores or reads data on the device, which needs consent (ePrivacy Art. 5(3))"),
        (MINIMAL.replace(r#"{"id":"analytics"}"#, r#"{"id":"ai_training","legitimateInterest":["America"]}"#), "config: purposes[1].legitimateInterest[0]: `America` is neither an ISO 3166 code (`DE`, `US-CA`) nor a known group (`EU`, `EEA`, `US-STATES-WITH-PRIVACY-LAWS`)"),
        (MINIMAL.replace(r#"}]}"#, r#"}],"blocking":{"services":[{"name":"Acme Stats","match":["stats.acme.test"]}]}}"#), "config: blocking.services[0].purpose: missing: `Acme Stats` is not in the tracker database, so it needs a purpose"),
        (MINIMAL.replace(r#"}]}"#, r#"}],"blocking":{"services":[{"name":"Hotjar","purpose":"replay"}]}}"#), "config: blocking.services[0].purpose: `replay` is not a purpose of this config; use one of necessary, analytics"),
        (MINIMAL.replace(r#"}]}"#, r#"}],"blocking":{"services":[{"name":"Acme Stats","purpose":"analytics"}]}}"#), "config: blocking.services[0].match: missing: list the hosts of `Acme Stats`, like `cdn.example.com` or `example.com/collect`"),
        (MINIMAL.replace(r#"}]}"#, r#"}],"blocking":{"services":[{"name":"Acme Stats","purpose":"analytics","match":["https://stats.acme.test/x"]}]}}"#), "config: blocking.services[0].match[0]: `https://stats.acme.test/x` must be a lowercase host with an optional path, like `cdn.example.com` or `example.com/collect` (no scheme, port or query)"),
        (MINIMAL.replace(r#"}]}"#, r#"}],"blocking":{"allow":["Stats.Example.com"]}}"#), "config: blocking.allow[0]: `Stats.Example.com` must be a lowercase host with an optional path, like `stats.example.com` (no scheme, port or query)"),
        (MINIMAL.replace(r#"}]}"#, r#"}],"blocking":{"reload":true}}"#), "config: blocking.reload: unknown field, expected one of `auto`, `services`, `allow`, `reloadOnWithdraw`"),
        // A cookie shared across subdomains cannot be combined with receipts. Such a decision used to be
        // receipted again on each one under the same id with another key (409, evidence lost; later grants
        // never counted).
        (MINIMAL.replace(r#"}]}"#, r#"}],"cookie":{"domain":".acme.test"},"receipts":{"endpoints":["/v1/receipts"]}}"#), "config: cookie.domain: cannot be combined with `receipts.endpoints` yet: receipts are signed with a key kept per origin, so a decision shared across subdomains cannot be receipted as one subject's chain; remove one of them"),
    ];
    for (text, expected) in table {
        assert_eq!(parse(&text).unwrap_err().to_string(), expected, "{text}");
    }
}

#[test]
fn missing_and_mistyped_sections_are_named() {
    let table = [
        (r#"{"controller":"Acme","purposes":[]}"#, "config: notice: missing: this field is required"),
        (
            r#"{"notice":{"version":"1"},"controller":"Acme"}"#,
            "config: purposes: missing: list the purposes, starting with `necessary`",
        ),
        (
            r#"{"notice":{"version":"1"},"controller":"Acme","purposes":{}}"#,
            "config: purposes: expected an array, found an object",
        ),
        (
            r#"{"notice":{"version":"1"},"controller":"Acme","purposes":[{"id":"necessary","required":"yes"}]}"#,
            "config: purposes[0].required: expected `true` or `false`, found the string \"yes\"",
        ),
        (
            r#"{"notice":{"version":"1"},"controller":"Acme","purposes":[{"id":"necessary","required":true}],"expiry":{"refusedDays":1.5}}"#,
            "config: expiry.refusedDays: expected a whole number of days, found 1.5",
        ),
        (
            r#"{"notice":{"version":"1"},"controller":"Acme","purposes":[{"id":"necessary","required":true}],"text":{"banner.title":{"de":3}}}"#,
            "config: text.banner.title.de: expected a string, found the number 3",
        ),
        ("[", "config is not valid JSON: unexpected end of input at line 1 column 2"),
    ];
    for (text, expected) in table {
        assert_eq!(parse(text).unwrap_err().to_string(), expected, "{text}");
    }
}
