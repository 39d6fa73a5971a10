//! Append-only receipt storage in SQLite (one file, WAL). A receipt is acknowledged only after its
//! transaction has committed with `synchronous=FULL`. Triggers refuse any UPDATE or DELETE.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::Rejection;

/// One stored receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Order of arrival for this collector.
    pub seq: i64,
    /// Receipt id.
    pub id: String,
    /// Subject id.
    pub subject: String,
    /// `iat` of the receipt.
    pub issued_at: i64,
    /// When the collector stored it.
    pub received_at: i64,
    /// SHA-256 of the JWS.
    pub hash: String,
    /// `prev` of the receipt.
    pub prev: Option<String>,
    /// `first`, `linked` or `gap`.
    pub chain: String,
    /// The JWS as received.
    pub jws: String,
    /// The canonical claims.
    pub claims: String,
    /// The signer's key thumbprint.
    pub key_thumbprint: String,
    /// Whether the request carried `Sec-GPC: 1`.
    pub gpc_header: bool,
    /// The collector's countersigned acknowledgment.
    pub ack: String,
}

/// The SQLite store. Cloning shares the connection.
#[derive(Debug, Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
CREATE TABLE IF NOT EXISTS receipts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    subject TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    prev TEXT,
    chain TEXT NOT NULL,
    jws TEXT NOT NULL,
    claims TEXT NOT NULL,
    key_thumbprint TEXT NOT NULL,
    gpc_header INTEGER NOT NULL,
    ack TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS receipts_subject_time ON receipts (subject, issued_at, seq);
CREATE TRIGGER IF NOT EXISTS receipts_no_update BEFORE UPDATE ON receipts
    BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;
CREATE TRIGGER IF NOT EXISTS receipts_no_delete BEFORE DELETE ON receipts
    BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;
CREATE TABLE IF NOT EXISTS collector_key (id INTEGER PRIMARY KEY CHECK (id = 1), secret BLOB NOT NULL);
";

const COLUMNS: &str = "seq, id, subject, issued_at, received_at, hash, prev, chain, jws, claims, key_thumbprint, gpc_header, ack";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        seq: r.get(0)?,
        id: r.get(1)?,
        subject: r.get(2)?,
        issued_at: r.get(3)?,
        received_at: r.get(4)?,
        hash: r.get(5)?,
        prev: r.get(6)?,
        chain: r.get(7)?,
        jws: r.get(8)?,
        claims: r.get(9)?,
        key_thumbprint: r.get(10)?,
        gpc_header: r.get(11)?,
        ack: r.get(12)?,
    })
}

/// What appending did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    /// Stored now.
    New(Row),
    /// The same receipt was stored before; here is that row.
    Duplicate(Row),
}

impl Store {
    /// Opens (or creates) the database file.
    pub fn open(path: &Path) -> Result<Store, Rejection> {
        let conn = Connection::open(path)?;
        conn.execute_batch(SCHEMA)?;
        Ok(Store { conn: Arc::new(Mutex::new(conn)) })
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T, Rejection>) -> Result<T, Rejection> {
        let mut conn = self.conn.lock().map_err(|_| Rejection::Storage("connection lock poisoned".into()))?;
        f(&mut conn)
    }

    /// The collector's signing secret, created on first use.
    pub fn collector_secret(&self) -> Result<[u8; 32], Rejection> {
        self.with(|c| {
            let existing: Option<Vec<u8>> =
                c.query_row("SELECT secret FROM collector_key WHERE id = 1", [], |r| r.get(0)).optional()?;
            if let Some(secret) = existing {
                return secret.try_into().map_err(|_| Rejection::Storage("collector key is not 32 bytes".into()));
            }
            let mut secret = [0u8; 32];
            getrandom::getrandom(&mut secret).map_err(|e| Rejection::Storage(format!("no randomness for the collector key: {e}")))?;
            c.execute("INSERT INTO collector_key (id, secret) VALUES (1, ?1)", params![secret.to_vec()])?;
            Ok(secret)
        })
    }

    /// Appends a verified receipt in one transaction. `decide` sees the subject's current chain head
    /// and the row `prev` names (if stored), and returns the chain status and the ack, or a refusal.
    pub fn append(
        &self,
        mut new: Row,
        decide: impl FnOnce(Option<&Row>, Option<&Row>) -> Result<(String, String), Rejection>,
    ) -> Result<Appended, Rejection> {
        self.with(|c| {
            let tx = c.transaction()?;
            let existing = tx
                .query_row(&format!("SELECT {COLUMNS} FROM receipts WHERE id = ?1"), params![new.id], row)
                .optional()?;
            if let Some(existing) = existing {
                if existing.hash == new.hash {
                    return Ok(Appended::Duplicate(existing));
                }
                return Err(Rejection::Conflict(format!("receipt id {} was already stored with different content", new.id)));
            }
            let head = tx
                .query_row(
                    &format!("SELECT {COLUMNS} FROM receipts WHERE subject = ?1 ORDER BY seq DESC LIMIT 1"),
                    params![new.subject],
                    row,
                )
                .optional()?;
            let prev_row = match &new.prev {
                Some(prev) => tx
                    .query_row(&format!("SELECT {COLUMNS} FROM receipts WHERE hash = ?1"), params![prev], row)
                    .optional()?,
                None => None,
            };
            let (chain, ack) = decide(head.as_ref(), prev_row.as_ref())?;
            new.chain = chain;
            new.ack = ack;
            tx.execute(
                "INSERT INTO receipts (id, subject, issued_at, received_at, hash, prev, chain, jws, claims, key_thumbprint, gpc_header, ack)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![
                    new.id, new.subject, new.issued_at, new.received_at, new.hash, new.prev, new.chain, new.jws,
                    new.claims, new.key_thumbprint, new.gpc_header, new.ack
                ],
            )?;
            new.seq = tx.last_insert_rowid();
            tx.commit()?;
            Ok(Appended::New(new))
        })
    }

    /// A subject's receipts in arrival order.
    pub fn subject_receipts(&self, subject: &str) -> Result<Vec<Row>, Rejection> {
        self.with(|c| {
            let mut stmt = c.prepare(&format!("SELECT {COLUMNS} FROM receipts WHERE subject = ?1 ORDER BY seq"))?;
            let rows = stmt.query_map(params![subject], row)?.collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    /// A subject's receipts issued at or before `at`, newest first.
    pub fn receipts_until(&self, subject: &str, at: i64) -> Result<Vec<Row>, Rejection> {
        self.with(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLUMNS} FROM receipts WHERE subject = ?1 AND issued_at <= ?2 ORDER BY issued_at DESC, seq DESC"
            ))?;
            let rows = stmt.query_map(params![subject, at], row)?.collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    /// Whether the database answers.
    pub fn healthy(&self) -> Result<(), Rejection> {
        self.with(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0)).map(|_| ())?))
    }
}
