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

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use assent_cli::{book, filter, gvl, intervals, manifest, signals, verify};
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
    /// Cut the IAB's Global Vendor List down to the config's `tcf.vendors`, for the site to serve as
    /// its copy (`tcf.gvl`; docs/tcf.md).
    Gvl {
        /// The config file, e.g. assent.json.
        config: PathBuf,
        /// The IAB's vendor-list.json (specification version 3).
        gvl: PathBuf,
        /// Where to write the cut-down list; without it, print it.
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
                data: data.as_deref().map(manifest::Digest::File),
                output: output.as_deref().map(manifest::Digest::File),
                receipts: receipts.as_deref(),
            },
        ),
        Command::Verify { receipts, jwks, .. } => {
            verify::verify(&receipts.context("name the receipts to verify")?, jwks.as_deref())
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
        Command::Gvl { config, gvl, out } => gvl::run(&config, &gvl, out.as_deref()),
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
