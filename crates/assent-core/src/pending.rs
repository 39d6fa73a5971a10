//! Decisions whose receipts are still to be made. The browser keeps them in `localStorage`
//! ([`KEY`]), each written in the same task as the decision itself, so that one replaced at once, or
//! followed at once by a navigation, a crash or a closed tab, still gets its receipt on the next page
//! view. A line goes when its receipt is made (docs/receipts.md, "Every decision, one receipt").
//!
//! One line per record, oldest first: `site <cookie form>`, `conversation <scoped line>` or
//! `service <scoped line>`.

use crate::decision::Decision;
use crate::scoped::{Kind, ScopedChoice};
use crate::session::Record;

/// The localStorage key.
pub const KEY: &str = "assent.pending";

/// At most this many records wait (the newest are kept): a visitor deciding again and again with
/// receipts that cannot be made (no storage for the signer, say) keeps a bounded list.
pub const MAX: usize = 64;

fn line(record: &Record) -> String {
    match record {
        Record::Site(d) => format!("site {}", d.encode()),
        Record::Scoped(c) => {
            let tag = match c.scope.kind() {
                Kind::Conversation => "conversation",
                Kind::Service => "service",
            };
            format!("{tag} {}", c.encode())
        }
    }
}

/// The receipt id a record's receipt is made under.
pub fn receipt_id(record: &Record) -> &str {
    match record {
        Record::Site(d) => &d.receipt,
        Record::Scoped(c) => &c.receipt,
    }
}

/// The records in `stored`, oldest first. Lines that do not read are skipped.
pub fn read(stored: &str) -> Vec<Record> {
    stored
        .lines()
        .filter_map(|l| match l.split_once(' ')? {
            ("site", form) => Decision::decode(form).map(Record::Site),
            ("conversation", form) => ScopedChoice::decode(form, Kind::Conversation).map(Record::Scoped),
            ("service", form) => ScopedChoice::decode(form, Kind::Service).map(Record::Scoped),
            _ => None,
        })
        .collect()
}

/// `stored` with `record` added last (once: a record already there is not added again), keeping the
/// newest `keep` records. Returns the new list and how many older records it let go.
pub fn push(stored: &str, record: &Record, keep: usize) -> (String, usize) {
    let new = line(record);
    let mut lines: Vec<&str> = stored.lines().filter(|l| !l.is_empty()).collect();
    if !lines.contains(&new.as_str()) {
        lines.push(&new);
    }
    let dropped = lines.len().saturating_sub(keep);
    (crate::joined(&lines[dropped..], "\n"), dropped)
}

/// `stored` without the record whose receipt is `receipt` (a receipt id is one field of its line).
pub fn remove(stored: &str, receipt: &str) -> String {
    crate::joined(&stored.lines().filter(|l| !l.split('|').any(|f| f == receipt)).collect::<Vec<_>>(), "\n")
}
