//! `assent filter`: keep the records whose subject had the purpose granted at the record's own time,
//! and, with `--manifest`, sign a record of the run.

use std::collections::HashMap;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use assent_core::scoped::is_conversation_id;
use sha2::{Digest, Sha256};

use crate::book::{Book, Judge};
use crate::record::{Paths, Scalar};
use assent_core::receipt::Interval;

/// Which fields of a data record hold what `filter` needs.
pub struct Fields {
    pub subject: String,
    pub time: String,
    pub conversation: String,
}

/// What records are judged by.
pub enum Source {
    /// Receipts, verified here.
    Receipts(PathBuf),
    /// An interval table (`assent intervals`).
    Intervals(PathBuf),
}

impl Source {
    fn path(&self) -> &Path {
        match self {
            Source::Receipts(p) | Source::Intervals(p) => p,
        }
    }
}

/// Where the signed manifest of a run goes, and the key that signs it.
pub struct Manifest {
    pub path: PathBuf,
    pub key: PathBuf,
}

/// Why a record was dropped, in the order the summary and the manifest list them ([`Drop`]).
pub const REASONS: [&str; 7] =
    ["no_consent", "do_not_train", "content_usage", "no_subject", "no_time", "bad_conversation", "not_json"];

/// Why a record was dropped; its number is its place in [`REASONS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drop {
    NoConsent,
    DoNotTrain,
    ContentUsage,
    NoSubject,
    NoTime,
    BadConversation,
    NotJson,
}

/// The fields of a record that [`Judge::verdict`] reads after the subject, time and conversation fields
/// (which the caller names), in this order: what `assent.stamp()` wrote.
pub const STAMP_FIELDS: [&str; 4] = ["assent.do_not_train", "assent.content_usage", "assent.receipt", "assent.scope"];

impl Judge {
    /// The rule for one record, given its subject, time and conversation fields and its
    /// [`STAMP_FIELDS`]: kept, with its subject, the span that allows
    /// it and whether a conversation judged it; or why not. `ai` is whether the purpose is `ai_training`,
    /// for which a stamped opt-out wins over the receipts.
    pub fn verdict<'a>(
        &'a self,
        ai: bool,
        values: &'a [Option<Scalar<'a>>; 7],
    ) -> Result<(&'a str, &'a Interval, bool), Drop> {
        let [subject, time, conversation, do_not_train, usage, receipt, stamped_scope] = values;
        // What `assent.stamp()` said when the record was made wins: an opt-out stamped on the record
        // drops it even if the receipts (by the record's time field) say granted, in either form.
        if ai && *do_not_train == Some(Scalar::Bool(true)) {
            return Err(Drop::DoNotTrain);
        }
        if ai && usage.as_ref().and_then(Scalar::as_str).and_then(assent_core::aipref::train_ai) == Some(false) {
            return Err(Drop::ContentUsage);
        }
        let subject = subject.as_ref().and_then(Scalar::as_str).or_else(|| {
            let receipt = receipt.as_ref().and_then(Scalar::as_str)?;
            self.subject_of_receipt.get(receipt).map(String::as_str)
        });
        let subject = subject.ok_or(Drop::NoSubject)?;
        let at = time.as_ref().and_then(scalar_time).ok_or(Drop::NoTime)?;
        // A conversation id may be a number; one that is there but unusable drops the record rather
        // than letting the site-wide choice judge a message its conversation's own choice governs.
        let number;
        let conversation = match conversation {
            None | Some(Scalar::Null) => None,
            Some(Scalar::Str(id)) if is_conversation_id(id) => Some(&**id),
            Some(Scalar::UInt(n)) => {
                number = n.to_string();
                Some(number.as_str())
            }
            Some(Scalar::Number(id)) if is_conversation_id(id) => Some(id.as_str()),
            Some(_) => return Err(Drop::BadConversation),
        };
        let stamped_conversation =
            || stamped_scope.as_ref().and_then(Scalar::as_str).and_then(|s| s.strip_prefix("conversation:"));
        let scope = conversation.or_else(stamped_conversation);
        let span = self.timelines.get(subject).and_then(|t| t.at_conversation(scope, at)).filter(|s| s.answer.granted);
        Ok((subject, span.ok_or(Drop::NoConsent)?, scope.is_some()))
    }
}

/// Reads `inner` and hashes what it read.
struct Hashing<R> {
    inner: R,
    /// `None` when no manifest is asked for.
    hash: Option<Sha256>,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(hash) = &mut self.hash {
            hash.update(&buf[..n]);
        }
        Ok(n)
    }
}

fn hex(digest: impl AsRef<[u8]>) -> String {
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

pub fn filter(
    purpose: &str,
    source: &Source,
    fields: &Fields,
    data: &Path,
    manifest: Option<&Manifest>,
) -> Result<bool> {
    // Read the key first: a run that cannot be recorded must not be made.
    let key = manifest.map(|m| crate::manifest::signing_key(&m.key)).transpose()?;
    let judge = match source {
        Source::Receipts(path) => {
            let book = Book::load(path)?;
            book.report("filter");
            Judge::from_book(&book, purpose)
        }
        Source::Intervals(path) => Judge::from_table(path, purpose)?,
    };
    let (subject_field, time_field) = (fields.subject.as_str(), fields.time.as_str());
    let input: Box<dyn Read> = if data == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(data).with_context(|| format!("read {}", data.display()))?)
    };
    let hashing = key.is_some();
    let mut reader =
        std::io::BufReader::with_capacity(1 << 16, Hashing { inner: input, hash: hashing.then(Sha256::new) });
    let (mut total, mut kept, mut scoped) = (0usize, 0usize, 0usize);
    let mut dropped = [0usize; REASONS.len()];
    // The receipts relied on: (receipt, subject, scope it decided in) -> records kept under it.
    let mut relied: HashMap<(String, String, String), usize> = HashMap::new();
    let mut out_hash = Sha256::new();
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let ai = purpose == "ai_training";
    let [stamp0, stamp1, stamp2, stamp3] = STAMP_FIELDS;
    let paths = Paths::new(&[subject_field, time_field, &fields.conversation, stamp0, stamp1, stamp2, stamp3]);
    let mut line = String::new();
    loop {
        let mut values: [Option<Scalar<'_>>; 7] = Default::default();
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            break;
        }
        let text = line.trim_end_matches(['\n', '\r']);
        if text.trim().is_empty() {
            continue;
        }
        total += 1;
        if paths.read(text, &mut values).is_err() {
            dropped[Drop::NotJson as usize] += 1;
            continue;
        }
        let (subject, span, scope) = match judge.verdict(ai, &values) {
            Ok(kept) => kept,
            Err(reason) => {
                dropped[reason as usize] += 1;
                continue;
            }
        };
        scoped += usize::from(scope);
        kept += 1;
        out.write_all(text.as_bytes())?;
        out.write_all(b"\n")?;
        if key.is_some() {
            out_hash.update(text.as_bytes());
            out_hash.update(b"\n");
            let decided_in = span.answer.decided_in.clone().unwrap_or_else(|| "site".into());
            let receipt = span.answer.receipt.clone().unwrap_or_default();
            *relied.entry((receipt, subject.to_string(), decided_in)).or_default() += 1;
        }
    }
    out.flush()?;
    let [no_consent, stamped, usage, no_subject, no_time, bad_conversation, unparseable] = dropped;
    eprintln!(
        "assent filter: kept {kept} of {total} records for purpose `{purpose}` (subject from `{subject_field}` or `assent.receipt`, time from `{time_field}`, conversation from `{}` or `assent.scope`; {scoped} of the kept in a conversation scope); \
         dropped {}: {no_consent} without `{purpose}` granted at their time, {stamped} stamped `do_not_train`, {usage} stamped `Content-Usage: train-ai=n`, {no_subject} without a subject, {no_time} without a readable time, {bad_conversation} with a conversation id that is not one, {unparseable} not JSON",
        fields.conversation,
        total - kept
    );
    if let (Some(m), Some(key)) = (manifest, key) {
        let run = crate::manifest::Run {
            purpose,
            hashed: "file",
            input: (hex(reader.into_inner().hash.unwrap_or_default().finalize()), total),
            output: (hex(out_hash.finalize()), kept),
            receipts: source.path(),
            judged_by: match source {
                Source::Receipts(_) => "receipts",
                Source::Intervals(_) => "intervals",
            },
            dropped: REASONS.iter().copied().zip(dropped).collect(),
            relied,
        };
        crate::manifest::write(&m.path, &key, &run)?;
        eprintln!("assent filter: signed manifest of this run written to {}", m.path.display());
    }
    Ok(true)
}

/// A record's time in Unix seconds: seconds, milliseconds (13 digits) or RFC 3339.
fn scalar_time(value: &Scalar<'_>) -> Option<u64> {
    match value {
        Scalar::UInt(n) => Some(if *n >= 100_000_000_000 { n / 1000 } else { *n }),
        Scalar::Str(s) => crate::source::rfc3339_time(s),
        _ => None,
    }
}
