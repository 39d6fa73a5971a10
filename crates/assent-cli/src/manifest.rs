//! The signed record of a training run (`assent filter --manifest`), and its check (`assent verify
//! --manifest`): the purpose, the time, the hashes of the input and the output, counts kept and
//! dropped by reason, and every receipt relied on with its subject, scope and the records it kept.
//!
//! The file is `{"jws": …, "jwks": {"keys": [the signer's public key]}, "manifest": …}`: the JWS
//! (EdDSA, `typ` `assent-manifest+jws`) signs the canonical JSON of `manifest`, which is there in
//! plain JSON so that `jq` can answer "was subject S in this run, and under which consent?".

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use assent_core::json::Json;
use assent_jose::{CollectorKey, MANIFEST_TYPE};
use ed25519_dalek::pkcs8::DecodePrivateKey;
use sha2::{Digest as _, Sha256};

use crate::book::Book;
use crate::source::{field, get};

/// Version of the manifest payload.
const VERSION: u32 = 1;

/// The Ed25519 key that signs manifests: a PKCS#8 PEM file (`openssl genpkey -algorithm ed25519`).
pub fn signing_key(path: &Path) -> Result<CollectorKey> {
    let pem = std::fs::read_to_string(path).with_context(|| format!("read --signing-key {}", path.display()))?;
    let key = ed25519_dalek::SigningKey::from_pkcs8_pem(&pem).map_err(|e| {
        anyhow::anyhow!(
            "--signing-key {}: not an Ed25519 private key in PKCS#8 PEM ({e}); make one with `openssl genpkey -algorithm ed25519`",
            path.display()
        )
    })?;
    Ok(CollectorKey::from_secret(key.to_bytes()))
}

/// What a filter run saw and did.
pub struct Run<'a> {
    pub purpose: &'a str,
    /// What the hashes are of: `file` (the bytes of the input and of the records written, as
    /// `assent filter` reads and writes them) or `arrow-ipc` (the tables in the Arrow IPC stream format,
    /// as the Python package hashes them).
    pub hashed: &'static str,
    /// SHA-256 of the input, and its records.
    pub input: (String, usize),
    /// SHA-256 of the records kept, and their number.
    pub output: (String, usize),
    /// The receipts (or the interval table) the run read.
    pub receipts: &'a Path,
    /// Which: `receipts` or `intervals`.
    pub judged_by: &'static str,
    pub dropped: Vec<(&'static str, usize)>,
    /// (receipt, subject, scope it decided in) -> records kept under it.
    pub relied: HashMap<(String, String, String), usize>,
}

fn file_sha256(path: &Path) -> Result<String> {
    let mut hash = Sha256::new();
    let mut file = std::fs::File::open(path).with_context(|| format!("read {}", path.display()))?;
    std::io::copy(&mut file, &mut hash)?;
    Ok(hash.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.replace_nanosecond(0).unwrap_or(t).format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

pub fn write(path: &Path, key: &CollectorKey, run: &Run<'_>) -> Result<()> {
    let s = |v: &str| Json::String(v.to_string());
    let n = |v: usize| Json::Number(v.to_string());
    let digest = |(hash, records): &(String, usize)| {
        Json::Object(vec![
            ("hashed".into(), s(run.hashed)),
            ("records".into(), n(*records)),
            ("sha256".into(), s(hash)),
        ])
    };
    let mut relied: Vec<(&(String, String, String), &usize)> = run.relied.iter().collect();
    relied.sort_unstable();
    let relied = relied
        .into_iter()
        .map(|((receipt, subject, scope), records)| {
            Json::Object(vec![
                ("receipt".into(), s(receipt)),
                ("records".into(), n(*records)),
                ("scope".into(), s(scope)),
                ("subject".into(), s(subject)),
            ])
        })
        .collect();
    let manifest = Json::Object(vec![
        ("at".into(), s(&rfc3339(time::OffsetDateTime::now_utc()))),
        ("dropped".into(), Json::Object(run.dropped.iter().map(|(k, v)| (k.to_string(), n(*v))).collect())),
        ("input".into(), digest(&run.input)),
        ("output".into(), digest(&run.output)),
        ("purpose".into(), s(run.purpose)),
        (
            "receipts".into(),
            Json::Object(vec![
                ("from".into(), s(run.judged_by)),
                ("reliedOn".into(), Json::Array(relied)),
                ("sha256".into(), s(&file_sha256(run.receipts)?)),
            ]),
        ),
        ("type".into(), s("training-run")),
        ("v".into(), n(VERSION as usize)),
    ]);
    let file = Json::Object(vec![
        ("jws".into(), s(&key.sign_typed(&manifest, MANIFEST_TYPE))),
        ("jwks".into(), Json::Object(vec![("keys".into(), Json::Array(vec![key.public_jwk()]))])),
        ("manifest".into(), manifest),
    ]);
    let mut out = std::fs::File::create(path).with_context(|| format!("write --manifest {}", path.display()))?;
    writeln!(out, "{}", file.canonical())?;
    Ok(())
}

/// Data to check against a manifest's hash: a file, or a hash computed elsewhere (the Python package
/// hashes a table as its Arrow IPC stream), with what to call it in a failure.
pub enum Digest<'a> {
    File(&'a Path),
    Sha256(String, &'a str),
}

/// What `assent verify --manifest` checks the manifest against, besides its signature.
pub struct Against<'a> {
    pub jwks: Option<&'a Path>,
    pub data: Option<Digest<'a>>,
    pub output: Option<Digest<'a>>,
    pub receipts: Option<&'a Path>,
}

/// Checks a manifest, printing the verdict to standard output; `Ok(false)` if anything fails.
pub fn verify(path: &Path, against: &Against<'_>) -> Result<bool> {
    verify_to(path, against, &mut std::io::stdout().lock())
}

/// [`verify`], writing its lines to `out`.
pub fn verify_to(path: &Path, against: &Against<'_>, out: &mut impl Write) -> Result<bool> {
    let text = std::fs::read_to_string(path).with_context(|| format!("read {}", path.display()))?;
    let file = Json::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let (Some(jws), Some(manifest)) = (field(&file, "jws"), get(&file, "manifest")) else {
        bail!("{}: not a manifest of `assent filter --manifest` (it needs `jws` and `manifest`)", path.display());
    };
    let (jwks, whose) = match against.jwks {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("read {}", p.display()))?;
            (Json::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?, "the JWKS given")
        }
        None => (
            get(&file, "jwks").cloned().unwrap_or(Json::Null),
            "the key in the file itself (pass --jwks with your published key to check who signed)",
        ),
    };
    let mut failures = Vec::new();
    match assent_jose::verify_with_jwks(jws, &jwks, MANIFEST_TYPE) {
        Err(e) => failures.push(format!("signature: {e}")),
        Ok(payload) if payload != manifest.canonical() => {
            failures.push("the readable `manifest` differs from what the signature covers".to_string())
        }
        Ok(_) => {}
    }
    let sha = |key: &str| field(manifest, key);
    for (given, key, what) in
        [(&against.data, "input.sha256", "--data"), (&against.output, "output.sha256", "--output")]
    {
        let (actual, name) = match given {
            None => continue,
            Some(Digest::File(p)) => (file_sha256(p)?, format!("{what} {}", p.display())),
            Some(Digest::Sha256(hash, name)) => (hash.clone(), name.to_string()),
        };
        if sha(key) != Some(actual.as_str()) {
            failures.push(format!("{name}: its SHA-256 {actual} is not the run's {key}"));
        }
    }
    let relied: Vec<(&str, &str)> = match get(manifest, "receipts.reliedOn") {
        Some(Json::Array(items)) => {
            items.iter().filter_map(|r| Some((field(r, "receipt")?, field(r, "subject")?))).collect()
        }
        _ => Vec::new(),
    };
    if let Some(p) = against.receipts {
        let book = Book::load(p)?;
        let missing: HashSet<&str> = relied
            .iter()
            .filter(|(receipt, subject)| book.subject_of_receipt.get(*receipt).map(String::as_str) != Some(*subject))
            .map(|(receipt, _)| *receipt)
            .collect();
        let mut missing: Vec<&str> = missing.into_iter().collect();
        missing.sort_unstable();
        for receipt in missing {
            failures.push(format!(
                "receipt {receipt} relied on is not among the verified receipts of {} for its subject",
                p.display()
            ));
        }
    }
    if failures.is_empty() {
        let subjects: HashSet<&str> = relied.iter().map(|(_, s)| *s).collect();
        let receipts: HashSet<&str> = relied.iter().map(|(r, _)| *r).collect();
        let count = |key: &str| match get(manifest, key) {
            Some(Json::Number(n)) => n.clone(),
            _ => "?".into(),
        };
        writeln!(
            out,
            "ok: training run for `{}` at {}, signed as checked against {whose}; kept {} of {} records, relying on {} receipts of {} subjects{}{}{}",
            field(manifest, "purpose").unwrap_or("?"),
            field(manifest, "at").unwrap_or("?"),
            count("output.records"),
            count("input.records"),
            receipts.len(),
            subjects.len(),
            if against.data.is_some() { "; the input matches its hash" } else { "" },
            if against.output.is_some() { "; the output matches its hash" } else { "" },
            if against.receipts.is_some() { "; every receipt relied on verifies" } else { "" },
        )?;
    } else {
        for f in &failures {
            writeln!(out, "FAIL {}: {f}", path.display())?;
        }
    }
    Ok(failures.is_empty())
}
