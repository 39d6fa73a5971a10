//! The consent-interval table (native tools only): each subject's timelines for a purpose, and the
//! table's rows exactly as `assent intervals`, the collector's `GET /v1/intervals` and the Python
//! package write them (docs/ai-training-data.md).

use crate::decision::Timestamp;
use crate::json::Json;
use crate::receipt::{interval_at, intervals, Evidence, Interval};

/// One subject's consent timelines for one purpose ([`intervals`]: the gate asked at every time its
/// answer can change): the site-wide one, and one for each scope in which the subject's receipts name
/// the purpose. A scope without receipts of its own follows the site-wide one, as the gate does.
#[derive(Debug, Clone, Default)]
pub struct Timelines {
    /// The site-wide timeline.
    pub site: Vec<Interval>,
    /// Each scope's, by scope name (`conversation:<id>`, `service:<name>`), in sorted order.
    pub scoped: Vec<(String, Vec<Interval>)>,
}

impl Timelines {
    /// From one subject's receipts in arrival order.
    pub fn of(receipts: &[Evidence<'_>], purpose: &str) -> Timelines {
        let mut scopes: Vec<&str> = receipts
            .iter()
            .filter(|e| e.claims.granted(purpose).is_some())
            .filter_map(|e| e.claims.scope.as_deref())
            .collect();
        scopes.sort_unstable();
        scopes.dedup();
        Timelines {
            site: intervals(receipts, purpose, None),
            scoped: scopes.into_iter().map(|s| (s.to_string(), intervals(receipts, purpose, Some(s)))).collect(),
        }
    }

    /// The span that decides a record at `at` in `conversation` (`None` for the site), if any.
    pub fn at_conversation(&self, conversation: Option<&str>, at: Timestamp) -> Option<&Interval> {
        let own = conversation.and_then(|c| {
            self.scoped.iter().find(|(name, _)| {
                name.len() == c.len() + "conversation:".len() && name.ends_with(c) && name.starts_with("conversation:")
            })
        });
        interval_at(own.map_or(&self.site, |(_, t)| t), at)
    }

    /// Every span with its scope's name (`site` first, then each scope), each timeline in time order.
    pub fn spans(&self) -> impl Iterator<Item = (&str, &Interval)> {
        let site = self.site.iter().map(|span| ("site", span));
        site.chain(self.scoped.iter().flat_map(|(scope, t)| t.iter().map(move |span| (scope.as_str(), span))))
    }
}

/// The table's columns, in the order every row has them.
pub const COLUMNS: [&str; 11] = [
    "subject",
    "purpose",
    "scope",
    "granted",
    "valid_from",
    "valid_until",
    "receipt",
    "notice_version",
    "method",
    "decided_in",
    "reason",
];

/// One row as a line of JSON (without the newline), its members in [`COLUMNS`] order.
pub fn row(subject: &str, purpose: &str, scope: &str, span: &Interval) -> String {
    let s = |v: &str| Json::String(v.to_string());
    let opt = |v: Option<&str>| v.map_or(Json::Null, s);
    let a = &span.answer;
    let values = [
        s(subject),
        s(purpose),
        s(scope),
        Json::Bool(a.granted),
        Json::Number(span.from.to_string()),
        span.until.map_or(Json::Null, |t| Json::Number(t.to_string())),
        opt(a.receipt.as_deref()),
        opt(a.notice_version.as_deref()),
        opt(a.method.map(|m| m.as_str())),
        s(a.decided_in.as_deref().unwrap_or("site")),
        s(a.reason),
    ];
    let mut line = String::from("{");
    for (i, (column, value)) in COLUMNS.iter().zip(values).enumerate() {
        if i > 0 {
            line.push(',');
        }
        line.push_str(&format!("\"{column}\":{}", value.canonical()));
    }
    line.push('}');
    line
}
