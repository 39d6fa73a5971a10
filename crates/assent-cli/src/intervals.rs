//! `assent intervals`: the consent-interval table a warehouse joins against, one JSON object per line.
//!
//! For a purpose, every subject's timeline in each scope: the site-wide one (`scope` `site`) and one for
//! each conversation or service whose own receipts name the purpose. Each row is a span over which the
//! gate's answer is the same, from `valid_from` (inclusive) to `valid_until` (exclusive, `null` while it
//! lasts), Unix seconds. Rows with `granted: true` are the intervals in which consent was in force; the
//! others say why not. A record in a conversation joins that conversation's rows when it has any, else
//! the site's: that is the gate's rule, and `assent filter` reads the same timelines.

use std::io::Write;

use assent_core::json::Json;
use assent_core::receipt::Interval;

use crate::book::Book;

/// The columns, in the order every row has them.
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

/// One row as a line of JSON, its members in [`COLUMNS`] order.
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

/// Calls `f` with every span of every subject's timelines for `purpose`: subjects in sorted order, the
/// site's timeline first, then each scope's, each in time order.
pub fn each_span(book: &Book, purpose: &str, mut f: impl FnMut(&str, &str, &Interval)) {
    for (subject, t) in book.timelines(purpose) {
        let scopes = std::iter::once(("site", &t.site)).chain(t.scoped.iter().map(|(s, t)| (s.as_str(), t)));
        for (scope, timeline) in scopes {
            timeline.iter().for_each(|span| f(subject, scope, span));
        }
    }
}

/// Writes the table, one line a span; returns the number of lines.
pub fn write(book: &Book, purpose: &str, out: &mut impl Write) -> anyhow::Result<usize> {
    let mut rows = 0;
    let mut result = Ok(());
    each_span(book, purpose, |subject, scope, span| {
        if result.is_ok() {
            result = writeln!(out, "{}", row(subject, purpose, scope, span));
            rows += 1;
        }
    });
    result?;
    Ok(rows)
}
