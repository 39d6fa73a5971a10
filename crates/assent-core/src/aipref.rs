//! AI usage preferences in the IETF AIPREF working group's vocabulary: `train-ai=y` / `train-ai=n`
//! (and `search`), an RFC 9651 structured-field dictionary carried in the `Content-Usage` header field
//! and in robots.txt `Content-Usage` rules. Assent follows the editors' drafts of August 2026
//! (draft-ietf-aipref-vocab, draft-ietf-aipref-attach); docs/ai-training-data.md says what it writes and
//! reads.

/// The header field (and robots.txt rule) that carries the preference.
pub const HEADER: &str = "Content-Usage";

/// What a `Content-Usage` value says about AI training (the loader's `stamp()` writes `train-ai=n` or
/// `train-ai=y`; this reads any dictionary): `Some(false)` for `train-ai=n`, `Some(true)` for
/// `train-ai=y`, `None` when it says nothing about it. A value that is not a structured-field dictionary
/// says nothing (RFC 9651 §4.2: a field that fails to parse is ignored). As in a dictionary, the last
/// `train-ai` member wins; parameters are allowed and ignored.
pub fn train_ai(value: &str) -> Option<bool> {
    let mut said = None;
    for member in value.split(',') {
        let member = member.trim_matches([' ', '\t']);
        let (key, rest) = match member.find(['=', ';']) {
            Some(i) => (&member[..i], &member[i..]),
            None => (member, ""),
        };
        if !is_key(key) {
            return None;
        }
        let item = rest.strip_prefix('=').map(|v| v.split(';').next().unwrap_or_default());
        if key == "train-ai" {
            said = match item {
                Some("y") => Some(true),
                Some("n") => Some(false),
                // Another value (or a bare key, `?1`) is not in the vocabulary: nothing stated.
                _ => None,
            };
        }
    }
    said
}

/// An RFC 9651 key: a lowercase letter or `*`, then lowercase letters, digits, `_`, `-`, `.`, `*`.
fn is_key(key: &str) -> bool {
    let mut bytes = key.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_lowercase() || b == b'*')
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.' | b'*'))
}

/// The site's own stance toward crawlers that would train AI on its pages: the config's
/// `contentUsage`. `assent signals` writes it to robots.txt, the `Content-Usage` header value and
/// `/.well-known/tdmrep.json` (W3C TDMRep), so one config states the site's training stance to
/// visitors' data and to crawlers alike. The browser never reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(rename_all = "camelCase", deny_unknown_fields))]
pub struct ContentUsage {
    /// May crawlers use the site's content to train AI models (`train-ai`)? Also sets the TDMRep
    /// reservation: `false` reserves text and data mining rights.
    pub train_ai: bool,
    /// May they use it to build a search application (`search`)? Unstated when absent.
    pub search: Option<bool>,
    /// With `trainAi: false`: the URL of the site's licensing policy for text and data mining
    /// (TDMRep `tdm-policy`).
    pub tdm_policy: Option<String>,
}

impl ContentUsage {
    /// The config's `contentUsage`, if any; every error names the field.
    pub fn from_config(config: &crate::json::Json) -> Result<Option<ContentUsage>, crate::ConfigError> {
        use crate::json::{invalid, Fields};
        let Some(v) = config.as_object().and_then(|m| m.iter().find(|(k, _)| k == "contentUsage")).map(|(_, v)| v)
        else {
            return Ok(None);
        };
        let f = Fields::new(v, "contentUsage", &["trainAi", "search", "tdmPolicy"])?;
        let train_ai = f.bool("trainAi")?.ok_or_else(|| {
            invalid("contentUsage.trainAi", "is required: true lets crawlers train AI on the site, false says no")
        })?;
        let tdm_policy = f.string("tdmPolicy")?;
        if let Some(url) = &tdm_policy {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(invalid("contentUsage.tdmPolicy", "must be an absolute http(s) URL"));
            }
            if train_ai {
                return Err(invalid(
                    "contentUsage.tdmPolicy",
                    "applies only when rights are reserved: set trainAi to false or remove tdmPolicy",
                ));
            }
        }
        Ok(Some(ContentUsage { train_ai, search: f.bool("search")?, tdm_policy }))
    }

    /// The `Content-Usage` value: `train-ai=n`, then `search=…` when stated.
    pub fn header(&self) -> String {
        let yn = |b: bool| if b { "y" } else { "n" };
        let mut value = format!("train-ai={}", yn(self.train_ai));
        if let Some(search) = self.search {
            value.push_str(&format!(", search={}", yn(search)));
        }
        value
    }

    /// The robots.txt group that states it for every crawler.
    pub fn robots(&self) -> String {
        format!("User-Agent: *\n{HEADER}: {}\n", self.header())
    }

    /// `/.well-known/tdmrep.json`: one rule for the whole site.
    pub fn tdmrep(&self) -> crate::json::Json {
        use crate::json::Json;
        let mut rule = vec![
            ("location".to_string(), Json::String("/*".into())),
            ("tdm-reservation".to_string(), Json::Number(if self.train_ai { "0" } else { "1" }.into())),
        ];
        if let Some(url) = &self.tdm_policy {
            rule.push(("tdm-policy".to_string(), Json::String(url.clone())));
        }
        Json::Array(vec![Json::Object(rule)])
    }
}
