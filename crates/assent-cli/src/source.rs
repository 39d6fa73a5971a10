//! Reading receipts from any supported source, and the record fields every command reads.

use std::path::Path;

use anyhow::{Context, Result};
use assent_core::json::Json;
use assent_core::receipt::Claims;

/// A receipt as read, with what a collector export says about it.
pub struct Entry {
    pub jws: String,
    /// From an export row: the collector's countersignature (none when the row has `ack: null`), the
    /// chain status and the time it was received.
    pub stored: Option<Stored>,
    /// When the collector received it (Unix seconds): from an export row or a collector database.
    pub received: Option<u64>,
}

pub struct Stored {
    pub ack: Option<String>,
    pub chain: Option<String>,
    pub received_at: Option<String>,
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
    pub fn received(&self) -> Option<u64> {
        rfc3339_time(self.received_at.as_deref()?)
    }
}

/// The receipts of any supported source, in their stored order, with the export's details.
pub fn load_entries(path: &Path) -> Result<Vec<Entry>> {
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

pub fn get<'a>(json: &'a Json, path: &str) -> Option<&'a Json> {
    path.split('.').try_fold(json, |node, key| node.as_object()?.iter().find(|(k, _)| k == key).map(|(_, v)| v))
}

pub fn field<'a>(json: &'a Json, path: &str) -> Option<&'a str> {
    match get(json, path)? {
        Json::String(s) => Some(s),
        _ => None,
    }
}

/// A verified receipt.
pub struct Checked {
    pub claims: Claims,
    pub hash: String,
    pub key: String,
    /// When a collector received it, from an export row: the gate counts a receipt from the earlier of
    /// this and its `iat`, as the collector does.
    pub received_at: Option<u64>,
}

pub fn check(jws: &str) -> Result<Checked, String> {
    let verified = assent_jose::verify(jws).map_err(|e| e.to_string())?;
    let claims = Claims::from_canonical_json(&verified.payload).map_err(|e| format!("invalid receipt: {e}"))?;
    Ok(Checked { claims, hash: assent_jose::receipt_hash(jws), key: verified.key_thumbprint, received_at: None })
}

/// An RFC 3339 time in Unix seconds.
pub fn rfc3339_time(text: &str) -> Option<u64> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .and_then(|t| u64::try_from(t.unix_timestamp()).ok())
}
