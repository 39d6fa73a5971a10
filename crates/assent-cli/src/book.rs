//! Every verified receipt of a source, by subject in chain order, and each subject's consent timelines
//! for a purpose: what `filter`, `intervals` and the manifest all read, so they cannot disagree.

use std::collections::HashMap;
use std::path::Path;

use anyhow::{bail, Context, Result};
use assent_core::receipt::{Evidence, Interval};

use crate::source::{check, load_entries, Checked};

/// The receipts of a source, verified and grouped by subject.
pub struct Book {
    /// Each subject's receipts in chain order.
    pub by_subject: HashMap<String, Vec<Checked>>,
    /// The subject of every receipt id, for records stamped with `assent.receipt` only.
    pub subject_of_receipt: HashMap<String, String>,
    /// Receipts whose signature or schema did not verify (they count for nothing).
    pub unverified: usize,
    /// Receipts counted once that appear again (several exports share them).
    pub repeated: usize,
}

impl Book {
    pub fn load(path: &Path) -> Result<Book> {
        let mut by_subject: HashMap<String, Vec<Checked>> = HashMap::new();
        let mut subject_of_receipt: HashMap<String, String> = HashMap::new();
        let (mut unverified, mut repeated) = (0, 0);
        let entries = load_entries(path)?;
        // Checking signatures is most of the work: spread it over the cores, keeping the order.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = entries.len().div_ceil(threads).max(1);
        let checked: Vec<Result<Checked, String>> = std::thread::scope(|scope| {
            let parts: Vec<_> = entries
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|e| check(&e.jws).map(|c| Checked { received_at: e.received, ..c }))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            parts.into_iter().flat_map(|p| p.join().expect("a signature check panicked")).collect()
        });
        for checked in checked {
            match checked {
                // Several exports (one per endpoint) share receipts: a receipt counts once, where it first
                // appears, or a copy from an export that missed a later withdrawal would decide again.
                Ok(c) if subject_of_receipt.contains_key(&c.claims.id) => repeated += 1,
                Ok(c) => {
                    subject_of_receipt.insert(c.claims.id.clone(), c.claims.subject.clone());
                    by_subject.entry(c.claims.subject.clone()).or_default().push(c);
                }
                Err(_) => unverified += 1,
            }
        }
        let by_subject = by_subject.into_iter().map(|(s, r)| (s, chain_order(r))).collect();
        Ok(Book { by_subject, subject_of_receipt, unverified, repeated })
    }

    /// Tells of the receipts that were left out, on standard error.
    pub fn report(&self, command: &str) {
        if self.unverified > 0 {
            eprintln!(
                "assent {command}: ignored {} receipts whose signature or schema did not verify (run `assent verify`)",
                self.unverified
            );
        }
        if self.repeated > 0 {
            eprintln!(
                "assent {command}: counted {} receipts once that appear again in the receipts (several exports share them)",
                self.repeated
            );
        }
    }

    /// Every subject's timelines for `purpose`, subjects in sorted order.
    pub fn timelines(&self, purpose: &str) -> Vec<(&str, Timelines)> {
        let mut subjects: Vec<&String> = self.by_subject.keys().collect();
        subjects.sort_unstable();
        subjects.into_iter().map(|s| (s.as_str(), Timelines::of(&evidence(&self.by_subject[s]), purpose))).collect()
    }
}

pub use assent_core::timeline::Timelines;

/// The gate's view of a subject's verified receipts.
pub fn evidence(receipts: &[Checked]) -> Vec<Evidence<'_>> {
    receipts.iter().map(|c| Evidence { claims: &c.claims, key: &c.key, received_at: c.received_at }).collect()
}

/// A subject's receipts in chain order: each after the receipt its `prev` names; otherwise (the first,
/// and each after a gap) in the order they were received when every one says when (export rows, a
/// collector database), else in the file's order. Exports of several collectors overlap, and one whose
/// endpoint was added later holds only the later receipts: in file order its withdrawal could come
/// before the grant it ends.
fn chain_order(receipts: Vec<Checked>) -> Vec<Checked> {
    let by_hash: HashMap<&str, usize> = receipts.iter().enumerate().map(|(i, c)| (c.hash.as_str(), i)).collect();
    let mut placed = vec![false; receipts.len()];
    let mut order = Vec::with_capacity(receipts.len());
    let mut starts: Vec<usize> = (0..receipts.len()).collect();
    if receipts.iter().all(|c| c.received_at.is_some()) {
        starts.sort_by_key(|&i| (receipts[i].received_at, i));
    }
    for start in starts {
        // Walk back through `prev` to the earliest receipt not placed yet, then place the walk forward.
        let (mut walk, mut i) = (Vec::new(), start);
        while !placed[i] && !walk.contains(&i) {
            walk.push(i);
            match receipts[i].claims.prev.as_deref().and_then(|p| by_hash.get(p)) {
                Some(&earlier) => i = earlier,
                None => break,
            }
        }
        for &i in walk.iter().rev() {
            placed[i] = true;
            order.push(i);
        }
    }
    let mut slots: Vec<Option<Checked>> = receipts.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// What `filter` judges records by: each subject's timelines for the purpose, and the subject of each
/// receipt id (for records stamped with `assent.receipt` only).
pub struct Judge {
    pub timelines: HashMap<String, Timelines>,
    pub subject_of_receipt: HashMap<String, String>,
}

impl Judge {
    /// From verified receipts, by the gate's rule.
    pub fn from_book(book: &Book, purpose: &str) -> Judge {
        Judge {
            timelines: book.timelines(purpose).into_iter().map(|(s, t)| (s.to_string(), t)).collect(),
            subject_of_receipt: book.subject_of_receipt.clone(),
        }
    }

    /// From an interval table written by `assent intervals` (or the collector's intervals route) for
    /// `purpose`: every row, granted or not, as written. Rows must be in timeline order per scope.
    pub fn from_table(path: &Path, purpose: &str) -> Result<Judge> {
        use crate::record::{Paths, Scalar};
        use assent_core::receipt::{GateAnswer, REASONS};
        let file = std::fs::File::open(path).with_context(|| format!("read {}", path.display()))?;
        let paths = Paths::new(&crate::intervals::COLUMNS);
        let mut timelines: HashMap<String, Timelines> = HashMap::new();
        let mut subject_of_receipt = HashMap::new();
        for (n, line) in std::io::BufRead::lines(std::io::BufReader::new(file)).enumerate() {
            let line = line.with_context(|| format!("read {}", path.display()))?;
            if line.trim().is_empty() {
                continue;
            }
            let at = || format!("{}:{}", path.display(), n + 1);
            let mut v: [Option<Scalar<'_>>; 11] = Default::default();
            paths.read(&line, &mut v).map_err(|e| anyhow::anyhow!("{}: {e}", at()))?;
            let text = |i: usize| v[i].as_ref().and_then(Scalar::as_str);
            let time = |i: usize| match v[i] {
                Some(Scalar::UInt(t)) => Some(t),
                _ => None,
            };
            let (Some(subject), Some(row_purpose), Some(scope), Some(Scalar::Bool(granted)), Some(from)) =
                (text(0), text(1), text(2), v[3].clone(), time(4))
            else {
                bail!(
                    "{}: not a row of `assent intervals` (it needs subject, purpose, scope, granted and valid_from)",
                    at()
                );
            };
            if row_purpose != purpose {
                bail!(
                    "{}: a row for purpose `{row_purpose}`, not `{purpose}`: use the table made for `{purpose}`",
                    at()
                );
            }
            let reason = text(10)
                .and_then(|r| REASONS.iter().find(|k| **k == r))
                .with_context(|| format!("{}: reason is not one the gate gives", at()))?;
            let receipt = text(6).map(str::to_string);
            if let Some(r) = &receipt {
                subject_of_receipt.insert(r.clone(), subject.to_string());
            }
            let span = Interval {
                from,
                until: time(5),
                answer: GateAnswer {
                    granted,
                    reason,
                    since: None,
                    until: None,
                    receipt,
                    method: text(8).and_then(assent_core::Method::parse),
                    decided_in: text(9).filter(|s| *s != "site").map(str::to_string),
                    notice_version: text(7).map(str::to_string),
                },
            };
            let t = timelines.entry(subject.to_string()).or_default();
            let timeline = if scope == "site" {
                &mut t.site
            } else if let Some((_, tl)) = t.scoped.iter_mut().find(|(s, _)| s == scope) {
                tl
            } else {
                t.scoped.push((scope.to_string(), Vec::new()));
                &mut t.scoped.last_mut().expect("just pushed").1
            };
            if timeline.last().is_some_and(|last| last.from >= span.from) {
                bail!("{}: rows of subject {subject} in scope {scope} are out of order (sort by valid_from)", at());
            }
            timeline.push(span);
        }
        Ok(Judge { timelines, subject_of_receipt })
    }
}
