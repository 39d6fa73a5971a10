//! `assent`: prove consent and keep opted-out data out of training sets.
//!
//! - `assent verify <receipts>` checks every signature and every subject's chain.
//! - `assent filter --purpose P --receipts <receipts> <data.jsonl>` keeps only the records whose
//!   subject had P granted at the record's own time.
//! - `assent intervals --purpose P --receipts <receipts>` writes the consent-interval table (NDJSON).
//! - `assent filter … --manifest run.json --signing-key key.pem` also signs a record of the run, and
//!   `assent verify --manifest run.json` checks it.
//! - `assent signals <assent.json>` writes the site's publisher signals (robots.txt, tdmrep.json).
//! - `assent config check <assent.json>` validates a site config.
//!
//! `<receipts>` is a collector export (`GET /v1/subjects/{id}/receipts`, one or several, also as
//! JSONL), a JSONL of compact JWS strings, or a collector's SQLite database file.

mod book;
mod filter;
mod intervals;
mod manifest;
mod record;
mod signals;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use assent_core::json::Json;
use assent_core::receipt::Claims;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "assent", version, about = "Prove consent and keep opted-out data out of training sets.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check every receipt's signature and every subject's chain; report each failure with its id.
    /// With --manifest, check a training run's signed manifest instead.
    Verify {
        /// Collector export(s), JSONL of JWS, or a collector SQLite file. With --manifest: check that
        /// every receipt the run relied on is among them and verifies.
        #[arg(required_unless_present = "manifest")]
        receipts: Option<PathBuf>,
        /// A JWKS saved to a file: the collector's `/.well-known/jwks.json` to check the countersigned
        /// acknowledgment of every exported receipt; with --manifest, the keys a manifest may be signed with.
        #[arg(long)]
        jwks: Option<PathBuf>,
        /// A manifest written by `assent filter --manifest`.
        #[arg(long)]
        manifest: Option<PathBuf>,
        /// With --manifest: the run's input, checked against its hash.
        #[arg(long, requires = "manifest")]
        data: Option<PathBuf>,
        /// With --manifest: the run's output (the kept records), checked against its hash.
        #[arg(long, requires = "manifest")]
        output: Option<PathBuf>,
    },
    /// Keep only records whose subject had the purpose granted at the record's time (JSONL in, JSONL out).
    Filter {
        /// The purpose, e.g. `ai_training`.
        #[arg(long)]
        purpose: String,
        /// Collector export(s), JSONL of JWS, or a collector SQLite file.
        #[arg(long, required_unless_present = "intervals", conflicts_with = "intervals")]
        receipts: Option<PathBuf>,
        /// Instead of receipts: the interval table for the purpose, as `assent intervals` writes it.
        #[arg(long)]
        intervals: Option<PathBuf>,
        /// Field holding the subject id (dotted path). Without it, the stamped `assent.receipt` is used.
        #[arg(long, default_value = "subject")]
        subject_field: String,
        /// Field holding the record's time: Unix seconds, Unix milliseconds or RFC 3339 (dotted path).
        #[arg(long, default_value = "timestamp")]
        time_field: String,
        /// Field holding the record's chat conversation id (dotted path). A record with one is judged
        /// by that conversation's own choice where it has one. Without the field, a stamped
        /// `assent.scope` of `conversation:<id>` is used.
        #[arg(long, default_value = "conversation")]
        conversation_field: String,
        /// The data, one JSON object per line (`-` for standard input).
        data: PathBuf,
        /// Write a signed manifest of this run here: purpose, time, input and output hashes, counts kept
        /// and dropped by reason, and every receipt relied on.
        #[arg(long, requires = "signing_key")]
        manifest: Option<PathBuf>,
        /// The Ed25519 key that signs the manifest, PKCS#8 PEM (`openssl genpkey -algorithm ed25519`).
        #[arg(long, requires = "manifest")]
        signing_key: Option<PathBuf>,
    },
    /// Write the consent-interval table for a purpose, one JSON object per line: every subject's spans
    /// of time with the gate's answer, granted or not, and why.
    Intervals {
        /// The purpose, e.g. `ai_training`.
        #[arg(long)]
        purpose: String,
        /// Collector export(s), JSONL of JWS, or a collector SQLite file.
        #[arg(long)]
        receipts: PathBuf,
    },
    /// Write the site's publisher signals from its config: the robots.txt `Content-Usage` rule, the
    /// `Content-Usage` header value and `/.well-known/tdmrep.json` (W3C TDMRep).
    Signals {
        /// The config file, e.g. assent.json.
        config: PathBuf,
        /// The directory to write `robots.txt` (the lines to add) and `.well-known/tdmrep.json` into;
        /// without it, print them.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Site config commands.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Validate a config: every error names the field.
    Check {
        /// The config file, e.g. assent.json.
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("assent: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<bool> {
    match cli.command {
        Command::Verify { receipts, jwks, manifest: Some(manifest), data, output } => manifest::verify(
            &manifest,
            &manifest::Against {
                jwks: jwks.as_deref(),
                data: data.as_deref(),
                output: output.as_deref(),
                receipts: receipts.as_deref(),
            },
        ),
        Command::Verify { receipts, jwks, .. } => {
            verify(&receipts.context("name the receipts to verify")?, jwks.as_deref())
        }
        Command::Filter {
            purpose,
            receipts,
            intervals,
            subject_field,
            time_field,
            conversation_field,
            data,
            manifest,
            signing_key,
        } => filter::filter(
            &purpose,
            &match (receipts, intervals) {
                (Some(path), _) => filter::Source::Receipts(path),
                (None, path) => filter::Source::Intervals(path.context("name --receipts or --intervals")?),
            },
            &filter::Fields { subject: subject_field, time: time_field, conversation: conversation_field },
            &data,
            manifest.zip(signing_key).map(|(path, key)| filter::Manifest { path, key }).as_ref(),
        ),
        Command::Intervals { purpose, receipts } => {
            let book = book::Book::load(&receipts)?;
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            let rows = intervals::write(&book, &purpose, &mut out)?;
            out.flush()?;
            eprintln!("assent intervals: {rows} spans for purpose `{purpose}` over {} subjects", book.by_subject.len());
            book.report("intervals");
            Ok(true)
        }
        Command::Signals { config, out } => signals::run(&config, out.as_deref()),
        Command::Config { command: ConfigCommand::Check { file } } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("read {}", file.display()))?;
            let usage = assent_core::json::Json::parse(&text)
                .and_then(|json| assent_core::aipref::ContentUsage::from_config(&json));
            match assent_core::Config::parse(&text).and_then(|config| usage.map(|_| config)) {
                Ok(config) => {
                    println!(
                        "{}: valid ({} purposes, {} region rules)",
                        file.display(),
                        config.purposes.len(),
                        config.regions.rules.len()
                    );
                    Ok(true)
                }
                Err(e) => {
                    println!("{}: {e}", file.display());
                    Ok(false)
                }
            }
        }
    }
}

/// A receipt as read, with what a collector export says about it.
pub(crate) struct Entry {
    pub jws: String,
    /// From an export row: the collector's countersignature (none when the row has `ack: null`), the
    /// chain status and the time it was received.
    stored: Option<Stored>,
    /// When the collector received it (Unix seconds): from an export row or a collector database.
    pub received: Option<u64>,
}

struct Stored {
    ack: Option<String>,
    chain: Option<String>,
    received_at: Option<String>,
}

impl Entry {
    fn bare(jws: &str) -> Entry {
        Entry { jws: jws.to_string(), stored: None, received: None }
    }

    /// An export row (`{"jws": …, "ack": …}`) or an object with a `jws`: with `--jwks`, one without
    /// an `ack` string fails (a row whose ack was deleted must not pass).
    fn row(row: &Json) -> Option<Entry> {
        let stored = Stored {
            ack: field(row, "ack").map(str::to_string),
            chain: field(row, "chain").map(str::to_string),
            received_at: field(row, "receivedAt").map(str::to_string),
        };
        let received = stored.received();
        Some(Entry { jws: field(row, "jws")?.to_string(), stored: Some(stored), received })
    }
}

impl Stored {
    /// When the collector received the receipt (Unix seconds), if the row says.
    fn received(&self) -> Option<u64> {
        record_time(&Json::String(self.received_at.clone()?))
    }
}

/// The receipts of any supported source, in their stored order, with the export's details.
pub(crate) fn load_entries(path: &Path) -> Result<Vec<Entry>> {
    // A collector database is recognised by its 16-byte header, without reading the whole file.
    let mut header = [0u8; 16];
    let is_sqlite = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header))
        .is_ok_and(|()| &header == b"SQLite format 3\0");
    if is_sqlite {
        let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        let mut stmt = conn.prepare("SELECT jws, received_at FROM receipts ORDER BY seq")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(rows
            .iter()
            .map(|(jws, at)| Entry { received: u64::try_from(*at).ok(), ..Entry::bare(jws) })
            .collect());
    }
    let bytes = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
    let text = String::from_utf8(bytes).context("the receipts file is not UTF-8")?;
    let mut out = Vec::new();
    let take = |json: &Json, out: &mut Vec<Entry>| match json {
        Json::String(s) => out.push(Entry::bare(s)),
        Json::Array(items) => items.iter().for_each(|i| {
            if let Json::String(s) = i {
                out.push(Entry::bare(s))
            } else {
                out.extend(Entry::row(i))
            }
        }),
        Json::Object(_) => {
            if let Some(Json::Array(items)) = get(json, "receipts") {
                out.extend(items.iter().filter_map(Entry::row));
            } else {
                out.extend(Entry::row(json));
            }
        }
        _ => {}
    };
    if let Ok(whole) = Json::parse(&text) {
        take(&whole, &mut out);
        return Ok(out);
    }
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('{') || line.starts_with('"') || line.starts_with('[') {
            let json = Json::parse(line).map_err(|e| anyhow::anyhow!("{}:{}: {e}", path.display(), n + 1))?;
            take(&json, &mut out);
        } else {
            out.push(Entry::bare(line));
        }
    }
    Ok(out)
}

pub(crate) fn get<'a>(json: &'a Json, path: &str) -> Option<&'a Json> {
    path.split('.').try_fold(json, |node, key| node.as_object()?.iter().find(|(k, _)| k == key).map(|(_, v)| v))
}

pub(crate) fn field<'a>(json: &'a Json, path: &str) -> Option<&'a str> {
    match get(json, path)? {
        Json::String(s) => Some(s),
        _ => None,
    }
}

/// A verified receipt.
pub(crate) struct Checked {
    pub claims: Claims,
    pub hash: String,
    pub key: String,
    /// When a collector received it, from an export row: the gate counts a receipt from the earlier of
    /// this and its `iat`, as the collector does.
    pub received_at: Option<u64>,
}

pub(crate) fn check(jws: &str) -> Result<Checked, String> {
    let verified = assent_jose::verify(jws).map_err(|e| e.to_string())?;
    let claims = Claims::from_canonical_json(&verified.payload).map_err(|e| format!("invalid receipt: {e}"))?;
    Ok(Checked { claims, hash: assent_jose::receipt_hash(jws), key: verified.key_thumbprint, received_at: None })
}

fn label(jws: &str, n: usize) -> String {
    // The id, if the payload can be read at all, else the position.
    let id = assent_jose::unverified_payload(jws).and_then(|p| field(&Json::parse(&p).ok()?, "id").map(str::to_string));
    id.unwrap_or_else(|| format!("receipt #{}", n + 1))
}

/// Checks an exported row's acknowledgment: the collector's signature with a key of the JWKS, over
/// this receipt's hash, id and subject and the row's chain status and time of receipt.
fn check_ack(stored: &Stored, c: &Checked, jwks: &Json) -> Result<(), String> {
    let ack = stored
        .ack
        .as_deref()
        .ok_or("no ack: the collector did not countersign this row (it no longer verifies as stored)")?;
    let payload = assent_jose::verify_ack(ack, jwks).map_err(|e| format!("ack: {e}"))?;
    let payload = Json::parse(&payload).map_err(|e| format!("ack: payload: {e}"))?;
    let number = |key: &str| match get(&payload, key) {
        Some(Json::Number(n)) => n.parse::<i64>().ok(),
        _ => None,
    };
    let mismatches: Vec<String> = [
        ("receipt", field(&payload, "receipt") == Some(c.hash.as_str()), "is not this receipt's hash"),
        ("id", field(&payload, "id") == Some(c.claims.id.as_str()), "is not this receipt's id"),
        ("sub", field(&payload, "sub") == Some(c.claims.subject.as_str()), "is not this receipt's subject"),
        (
            "chain",
            stored.chain.is_none() || field(&payload, "chain") == stored.chain.as_deref(),
            "differs from the row's chain",
        ),
        (
            "receivedAt",
            stored.received_at.is_none()
                || number("receivedAt") == stored.received().and_then(|t| i64::try_from(t).ok()),
            "differs from the row's receivedAt",
        ),
    ]
    .iter()
    .filter(|(_, same, _)| !same)
    .map(|(name, _, why)| format!("{name} {why}"))
    .collect();
    if mismatches.is_empty() {
        Ok(())
    } else {
        Err(format!("ack signed by the collector, but its {}", mismatches.join(", its ")))
    }
}

fn verify(path: &Path, jwks_path: Option<&Path>) -> Result<bool> {
    let entries = load_entries(path)?;
    if entries.is_empty() {
        bail!("{}: no receipts found", path.display());
    }
    let jwks = match jwks_path {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("read {}", p.display()))?;
            Some(Json::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?)
        }
        None => None,
    };
    let (mut acks, mut unacked) = (0, 0);
    let receipts: Vec<&str> = entries.iter().map(|e| e.jws.as_str()).collect();
    let mut failures = 0;
    // A chain is the receipts one key signed for a subject (as the collector keeps them); the subject's
    // own key is the key of its first receipt (the collector's gate and `filter` trust only that one).
    let mut heads: HashMap<(String, String), (String, String)> = HashMap::new(); // (subject, key) -> (hash, id)
    let mut owners: HashMap<String, String> = HashMap::new(); // subject -> key
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for (n, jws) in receipts.iter().enumerate() {
        match check(jws) {
            Err(reason) => {
                failures += 1;
                writeln!(out, "FAIL {}: {reason}", label(jws, n))?;
            }
            Ok(c) => {
                let owner = owners.entry(c.claims.subject.clone()).or_insert_with(|| c.key.clone());
                let foreign = *owner != c.key;
                if foreign {
                    failures += 1;
                    writeln!(
                        out,
                        "FAIL {}: signed with key {}, not subject {}'s own key {} (its first receipt's): not the subject's evidence; it can refuse, never grant",
                        c.claims.id, c.key, c.claims.subject, owner
                    )?;
                }
                let chain = (c.claims.subject.clone(), c.key.clone());
                let expected = heads.get(&chain);
                let ok = match (&c.claims.prev, expected) {
                    (None, None) => true,
                    (Some(prev), Some((hash, _))) => prev == hash,
                    _ => false,
                };
                // (A receipt of another key already failed above: its chain is not the subject's.)
                if !ok && !foreign {
                    failures += 1;
                    let prev = c.claims.prev.as_deref().unwrap_or("null");
                    let before = expected
                        .map_or("none (this is the subject's first receipt here)".to_string(), |(h, id)| {
                            format!("{id} with hash {h}")
                        });
                    writeln!(
                        out,
                        "FAIL {}: chain broken for subject {}: prev is {prev}, the previous receipt is {before}",
                        c.claims.id, c.claims.subject
                    )?;
                }
                match (&jwks, &entries[n].stored) {
                    (Some(jwks), Some(stored)) => match check_ack(stored, &c, jwks) {
                        Ok(()) => acks += 1,
                        Err(reason) => {
                            failures += 1;
                            writeln!(out, "FAIL {}: {reason}", c.claims.id)?;
                        }
                    },
                    // A bare JWS beside an export would otherwise pass unacknowledged among acknowledged rows.
                    (Some(_), None) => {
                        failures += 1;
                        writeln!(out, "FAIL {}: not a row of a collector export, so no acknowledgment: with --jwks every receipt must be one the collector acknowledged", c.claims.id)?;
                    }
                    (None, Some(stored)) if stored.ack.is_some() => unacked += 1,
                    (None, _) => {}
                }
                heads.insert(chain, (c.hash, c.claims.id.clone()));
            }
        }
    }
    if failures == 0 {
        let acked = match (&jwks, acks) {
            (Some(_), n) => format!("; {n} acknowledgments verify against the JWKS"),
            (None, _) => String::new(),
        };
        writeln!(
            out,
            "ok: {} receipts of {} subjects; every signature verifies and every chain is intact{acked}",
            receipts.len(),
            owners.len()
        )?;
        if unacked > 0 {
            writeln!(
                out,
                "({unacked} acknowledgments not checked: pass --jwks with the collector's /.well-known/jwks.json)"
            )?;
        }
    } else {
        writeln!(out, "{failures} of {} receipts failed", receipts.len())?;
    }
    Ok(failures == 0)
}

/// A record's time in Unix seconds: seconds, milliseconds (13 digits) or RFC 3339.
pub(crate) fn record_time(value: &Json) -> Option<u64> {
    match value {
        Json::Number(n) => {
            let n: u64 = n.parse().ok()?;
            Some(if n >= 100_000_000_000 { n / 1000 } else { n })
        }
        Json::String(s) => rfc3339_time(s),
        _ => None,
    }
}

/// An RFC 3339 time in Unix seconds.
pub(crate) fn rfc3339_time(text: &str) -> Option<u64> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .and_then(|t| u64::try_from(t.unix_timestamp()).ok())
}
