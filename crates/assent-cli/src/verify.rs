//! `assent verify`: every signature, key and chain, and with `--jwks` the collector's acknowledgments.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use assent_core::json::Json;

use crate::source::{check, field, get, load_entries, Checked, Stored};

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

/// Verifies, printing one line per failure and a summary to standard output; `Ok(false)` if any failed.
pub fn verify(path: &Path, jwks_path: Option<&Path>) -> Result<bool> {
    verify_to(path, jwks_path, &mut std::io::stdout().lock())
}

/// [`verify`], writing its lines to `out`.
pub fn verify_to(path: &Path, jwks_path: Option<&Path>, out: &mut impl Write) -> Result<bool> {
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
