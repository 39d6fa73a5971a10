//! `assent intervals`: the consent-interval table a warehouse joins against, one JSON object per line.
//!
//! For a purpose, every subject's timeline in each scope: the site-wide one (`scope` `site`) and one for
//! each conversation or service whose own receipts name the purpose. Each row is a span over which the
//! gate's answer is the same, from `valid_from` (inclusive) to `valid_until` (exclusive, `null` while it
//! lasts), Unix seconds. Rows with `granted: true` are the intervals in which consent was in force; the
//! others say why not. A record in a conversation joins that conversation's rows when it has any, else
//! the site's: that is the gate's rule, and `assent filter` reads the same timelines.

use std::io::Write;

use assent_core::receipt::Interval;

use crate::book::Book;

pub use assent_core::timeline::{row, COLUMNS};

/// Calls `f` with every span of every subject's timelines for `purpose`: subjects in sorted order, the
/// site's timeline first, then each scope's, each in time order.
pub fn each_span(book: &Book, purpose: &str, mut f: impl FnMut(&str, &str, &Interval)) {
    for (subject, t) in book.timelines(purpose) {
        t.spans().for_each(|(scope, span)| f(subject, scope, span));
    }
}

/// Writes the table, one line a span; returns the number of lines.
pub fn write(book: &Book, purpose: &str, out: &mut impl Write) -> anyhow::Result<usize> {
    let mut rows = 0;
    for (subject, t) in book.timelines(purpose) {
        for (scope, span) in t.spans() {
            writeln!(out, "{}", row(subject, purpose, scope, span))?;
            rows += 1;
        }
    }
    Ok(rows)
}
