//! Config errors name the field and say what to change.

use assent_core::{Config, ConfigError};

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::from_deserializer(&mut serde_json::Deserializer::from_str(text))
}

const MINIMAL: &str = r#"{"notice":{"version":"1"},"controller":"Acme","purposes":[{"id":"necessary","required":true},{"id":"analytics"}]}"#;

#[test]
fn minimal_config_parses_with_defaults() {
    let c = parse(MINIMAL).unwrap();
    assert_eq!(c.cookie.name, "assent");
    assert_eq!(c.languages, ["en"]);
    assert_eq!(c.expiry.refused_days, 182);
}

#[test]
fn errors_name_the_field() {
    let table = [
        (MINIMAL.replace(r#""id":"analytics""#, r#""id":"Analytics""#), "config: purposes[1].id: `Analytics` must be lowercase snake_case, like `analytics`"),
        (MINIMAL.replace(r#""id":"analytics""#, r#""id":42"#), "config: purposes[1].id: invalid type: integer `42`, expected a string"),
        (MINIMAL.replace(r#""version":"1""#, r#""version":"v 1""#), "config: notice.version: `v 1` must be 1-32 letters, digits, `.`, `_` or `-`"),
        (MINIMAL.replace(r#","required":true"#, ""), "config: purposes[0].required: `necessary` must be `required: true`"),
        (MINIMAL.replace(r#"{"id":"analytics"}"#, r#"{"id":"analytics","required":true}"#), "config: purposes[1].required: only `necessary` may be required; `analytics` must be a free choice"),
        (MINIMAL.replace(r#""controller""#, r#""controler""#), "config: controler: unknown field `controler`, expected one of `$schema`, `notice`, `controller`, `languages`, `language`, `cookie`, `expiry`, `purposes`, `regions`, `text`"),
        (MINIMAL.replace(r#"}]}"#, r#"}],"regions":{"rules":[{"match":["Europe"],"flow":"optIn"}]}}"#), "config: regions.rules[0].match[0]: `Europe` is neither an ISO 3166 code (`DE`, `US-CA`) nor a known group (`EU`, `EEA`, `US-STATES-WITH-PRIVACY-LAWS`)"),
        (MINIMAL.replace(r#"}]}"#, r#"}],"regions":{"default":"optin"}}"#), "config: regions.default: unknown variant `optin`, expected one of `notice`, `optOut`, `optIn`"),
        (MINIMAL.replace(r#"}]}"#, r#"}],"expiry":{"grantedDays":400}}"#), "config: expiry.grantedDays: 400 days: must be between 1 and 395 (13 months)"),
        (MINIMAL.replace(r#"{"id":"analytics"}"#, r#"{"id":"ai_training","optOut":true}"#), "config: purposes[1].optOut: `ai_training` is opt-in: remove `optOut` (a legitimate-interest basis is not supported yet)"),
    ];
    for (text, expected) in table {
        // serde_json may append " at line L column C"; the field path and message come first.
        let got = parse(&text).unwrap_err().to_string();
        assert!(got.starts_with(expected), "{text}\n got: {got}\nwant: {expected}");
    }
}
