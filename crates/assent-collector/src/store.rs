//! Append-only receipt storage in SQLite (one file, WAL). A receipt is acknowledged only after its
//! transaction has committed with `synchronous=FULL`. Triggers refuse any UPDATE or DELETE.
//!
//! Writes go through one writer thread with group commit: appends that arrive while a commit is in
//! progress are applied together in the next transaction (each with its own checks, in arrival
//! order), and every caller is answered only after that transaction has committed. Reads use their
//! own connection (WAL lets them run beside the writer).

use std::path::Path;
use std::sync::mpsc;
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
}

/// What the chain check needs of a stored receipt: the writer reads only these columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Receipt id.
    pub id: String,
    /// Subject id.
    pub subject: String,
    /// SHA-256 of the JWS.
    pub hash: String,
    /// The signer's key thumbprint: a subject's chain is the receipts one key signed.
    pub key: String,
}

/// Where a webhook's deliveries stand (`--webhook`): the last receipt whose change it has handled, and
/// the last expiry (the receipt's `exp`, then its `seq`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// The `seq` of the last receipt handled.
    pub after: i64,
    /// `exp` and `seq` of the last expiry handled.
    pub expiry: (i64, i64),
}

/// Decides the chain status of an append (`first`, `linked` or `gap`, or a refusal), given the head of
/// the subject's chain signed with the same key and the receipt `prev` names, if stored.
pub type Decide = Box<dyn FnOnce(Option<&Link>, Option<&Link>) -> Result<String, Rejection> + Send>;

pub(crate) struct Job {
    pub(crate) row: Row,
    pub(crate) decide: Decide,
    pub(crate) reply: tokio::sync::oneshot::Sender<Result<Appended, Rejection>>,
}

/// Where receipts live: SQLite (one embedded file, the default) or PostgreSQL (several collector
/// instances behind a load balancer). Both pass the same test suite.
#[derive(Debug, Clone)]
pub enum Store {
    /// One SQLite file.
    Sqlite(SqliteStore),
    /// A PostgreSQL database.
    Postgres(crate::pg::PgStore),
}

impl Store {
    /// Opens (or creates) a SQLite database file.
    pub fn open(path: &Path) -> Result<Store, Rejection> {
        SqliteStore::open(path).map(Store::Sqlite)
    }

    /// Connects to PostgreSQL (`postgres://…`) and creates the schema if needed.
    pub async fn open_postgres(url: &str) -> Result<Store, Rejection> {
        crate::pg::PgStore::open(url).await.map(Store::Postgres)
    }

    /// The collector's signing secret, created on first use and shared by every instance.
    pub async fn collector_secret(&self) -> Result<[u8; 32], Rejection> {
        match self {
            Store::Sqlite(s) => s.collector_secret(),
            Store::Postgres(p) => p.collector_secret().await,
        }
    }

    /// The signing secret stored in the database, if there is one (never created here).
    pub async fn stored_collector_secret(&self) -> Result<Option<[u8; 32]>, Rejection> {
        let secret = match self {
            Store::Sqlite(s) => s.with(|c| {
                Ok(c.query_row("SELECT secret FROM collector_key WHERE id = 1", [], |r| r.get::<_, Vec<u8>>(0))
                    .optional()?)
            })?,
            Store::Postgres(p) => p.stored_collector_secret().await?,
        };
        secret.map(|s| s.try_into().map_err(|_| Rejection::Storage("collector key is not 32 bytes".into()))).transpose()
    }

    /// Appends a verified receipt; see [`SqliteStore::append`] for the contract.
    pub async fn append(&self, row: Row, decide: Decide) -> Result<Appended, Rejection> {
        match self {
            Store::Sqlite(s) => s.append(row, decide).await,
            Store::Postgres(p) => p.append(row, decide).await,
        }
    }

    /// A subject's receipts in arrival order.
    pub async fn subject_receipts(&self, subject: &str) -> Result<Vec<Row>, Rejection> {
        match self {
            Store::Sqlite(s) => s.subject_receipts(subject),
            Store::Postgres(p) => p.subject_receipts(subject).await,
        }
    }

    /// Up to `limit` receipts stored after `seq`, in the order they were stored.
    pub async fn receipts_after(&self, seq: i64, limit: usize) -> Result<Vec<Row>, Rejection> {
        match self {
            Store::Sqlite(s) => s.receipts_after(seq, limit),
            Store::Postgres(p) => p.receipts_after(seq, limit).await,
        }
    }

    /// Up to `limit` subject ids in order, after `after` (from the first without it).
    pub async fn subjects_after(&self, after: Option<&str>, limit: usize) -> Result<Vec<String>, Rejection> {
        match self {
            Store::Sqlite(s) => s.subjects_after(after, limit),
            Store::Postgres(p) => p.subjects_after(after, limit).await,
        }
    }

    /// A webhook's cursor. A URL seen for the first time starts at the latest receipt and at `now`: it
    /// gets the changes from when it was configured.
    pub async fn webhook_cursor(&self, url: &str, now: i64) -> Result<Cursor, Rejection> {
        match self {
            Store::Sqlite(s) => s.webhook_cursor(url, now),
            Store::Postgres(p) => p.webhook_cursor(url, now).await,
        }
    }

    /// Saves a webhook's cursor, after what it names was delivered.
    pub async fn save_webhook_cursor(&self, url: &str, cursor: Cursor) -> Result<(), Rejection> {
        match self {
            Store::Sqlite(s) => s.save_webhook_cursor(url, cursor),
            Store::Postgres(p) => p.save_webhook_cursor(url, cursor).await,
        }
    }

    /// Up to `limit` receipts whose `exp` comes after `after` (`exp`, then `seq`) and no later than
    /// `until`, in that order.
    pub async fn expiring_after(&self, after: (i64, i64), until: i64, limit: usize) -> Result<Vec<Row>, Rejection> {
        match self {
            Store::Sqlite(s) => s.expiring_after(after, until, limit),
            Store::Postgres(p) => p.expiring_after(after, until, limit).await,
        }
    }

    /// Whether the database answers.
    pub async fn healthy(&self) -> Result<(), Rejection> {
        match self {
            Store::Sqlite(s) => s.healthy(),
            Store::Postgres(p) => p.healthy().await,
        }
    }
}

/// The SQLite store. Cloning shares the connections.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    writer: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job").field("id", &self.row.id).finish()
    }
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
    gpc_header INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS receipts_subject_time ON receipts (subject, issued_at, seq);
CREATE INDEX IF NOT EXISTS receipts_subject_key ON receipts (subject, key_thumbprint, seq);
CREATE TRIGGER IF NOT EXISTS receipts_no_update BEFORE UPDATE ON receipts
    BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;
CREATE TRIGGER IF NOT EXISTS receipts_no_delete BEFORE DELETE ON receipts
    BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;
CREATE INDEX IF NOT EXISTS receipts_expiry ON receipts (json_extract(claims, '$.exp'), seq);
CREATE TABLE IF NOT EXISTS webhooks (
    url TEXT PRIMARY KEY,
    after_seq INTEGER NOT NULL,
    expiry_at INTEGER NOT NULL,
    expiry_seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS collector_key (id INTEGER PRIMARY KEY CHECK (id = 1), secret BLOB NOT NULL);
CREATE TRIGGER IF NOT EXISTS collector_key_no_update BEFORE UPDATE ON collector_key
    BEGIN SELECT RAISE(ABORT, 'the collector key is append-only'); END;
CREATE TRIGGER IF NOT EXISTS collector_key_no_delete BEFORE DELETE ON collector_key
    BEGIN SELECT RAISE(ABORT, 'the collector key is append-only'); END;
";

const COLUMNS: &str =
    "seq, id, subject, issued_at, received_at, hash, prev, chain, jws, claims, key_thumbprint, gpc_header";

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
    })
}

fn link(r: &rusqlite::Row<'_>) -> rusqlite::Result<Link> {
    Ok(Link { id: r.get(0)?, subject: r.get(1)?, hash: r.get(2)?, key: r.get(3)? })
}

/// What appending did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Appended {
    /// Stored now.
    New(Row),
    /// The same receipt was stored before; here is that row.
    Duplicate(Row),
}

impl SqliteStore {
    /// Opens (or creates) the database file and starts the writer thread.
    pub fn open(path: &Path) -> Result<SqliteStore, Rejection> {
        let conn = Connection::open(path)?;
        conn.execute_batch(SCHEMA)?;
        let mut write_conn = Connection::open(path)?;
        // Memory-mapped reads keep the chain lookups off the read syscalls.
        write_conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA mmap_size = 1073741824;")?;
        // Databases made before acknowledgments were recomputed have an `ack` column; it gets ''.
        let legacy_ack = write_conn.prepare("SELECT ack FROM receipts LIMIT 0").is_ok();
        let (writer, jobs) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("assent-store-writer".into())
            .spawn(move || {
                while let Ok(first) = jobs.recv() {
                    let mut batch = vec![first];
                    while batch.len() < 512 {
                        match jobs.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    commit_batch(&mut write_conn, batch, legacy_ack);
                }
            })
            .map_err(|e| Rejection::Storage(format!("cannot start the writer thread: {e}")))?;
        Ok(SqliteStore { conn: Arc::new(Mutex::new(conn)), writer })
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
            getrandom::getrandom(&mut secret)
                .map_err(|e| Rejection::Storage(format!("no randomness for the collector key: {e}")))?;
            c.execute("INSERT INTO collector_key (id, secret) VALUES (1, ?1)", params![secret.to_vec()])?;
            Ok(secret)
        })
    }

    /// Appends a verified receipt. `decide` sees the subject's current chain head and the row `prev`
    /// names (if stored), and returns the chain status, or a refusal. Blocks until the
    /// transaction holding this receipt has committed.
    pub async fn append(&self, row: Row, decide: Decide) -> Result<Appended, Rejection> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.writer
            .send(Job { row, decide, reply })
            .map_err(|_| Rejection::Storage("the writer thread stopped".into()))?;
        answer.await.map_err(|_| Rejection::Storage("the writer thread stopped".into()))?
    }

    /// A subject's receipts in arrival order.
    pub fn subject_receipts(&self, subject: &str) -> Result<Vec<Row>, Rejection> {
        self.with(|c| {
            let mut stmt = c.prepare(&format!("SELECT {COLUMNS} FROM receipts WHERE subject = ?1 ORDER BY seq"))?;
            let rows = stmt.query_map(params![subject], row)?.collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    /// Up to `limit` receipts stored after `seq`, in the order they were stored.
    pub fn receipts_after(&self, seq: i64, limit: usize) -> Result<Vec<Row>, Rejection> {
        self.with(|c| {
            let mut stmt =
                c.prepare(&format!("SELECT {COLUMNS} FROM receipts WHERE seq > ?1 ORDER BY seq LIMIT ?2"))?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = stmt.query_map(params![seq, limit], row)?.collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    /// Up to `limit` subject ids in order, after `after` (from the first without it).
    pub fn subjects_after(&self, after: Option<&str>, limit: usize) -> Result<Vec<String>, Rejection> {
        self.with(|c| {
            let mut stmt =
                c.prepare("SELECT DISTINCT subject FROM receipts WHERE subject > ?1 ORDER BY subject LIMIT ?2")?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = stmt.query_map(params![after.unwrap_or(""), limit], |r| r.get(0))?.collect::<Result<_, _>>()?;
            Ok(rows)
        })
    }

    /// See [`Store::webhook_cursor`].
    pub fn webhook_cursor(&self, url: &str, now: i64) -> Result<Cursor, Rejection> {
        self.with(|c| {
            // IMMEDIATE, as the writer's: this connection writes beside it (see `commit_batch`).
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            tx.execute(
                "INSERT INTO webhooks (url, after_seq, expiry_at, expiry_seq)
                 SELECT ?1, COALESCE(MAX(seq), 0), ?2, 0 FROM receipts WHERE true
                 ON CONFLICT (url) DO NOTHING",
                params![url, now],
            )?;
            let cursor = tx.query_row(
                "SELECT after_seq, expiry_at, expiry_seq FROM webhooks WHERE url = ?1",
                params![url],
                |r| Ok(Cursor { after: r.get(0)?, expiry: (r.get(1)?, r.get(2)?) }),
            )?;
            tx.commit()?;
            Ok(cursor)
        })
    }

    /// See [`Store::save_webhook_cursor`].
    pub fn save_webhook_cursor(&self, url: &str, cursor: Cursor) -> Result<(), Rejection> {
        self.with(|c| {
            c.execute(
                "UPDATE webhooks SET after_seq = ?2, expiry_at = ?3, expiry_seq = ?4 WHERE url = ?1",
                params![url, cursor.after, cursor.expiry.0, cursor.expiry.1],
            )?;
            Ok(())
        })
    }

    /// See [`Store::expiring_after`].
    pub fn expiring_after(&self, after: (i64, i64), until: i64, limit: usize) -> Result<Vec<Row>, Rejection> {
        self.with(|c| {
            let mut stmt = c.prepare(&format!(
                "SELECT {COLUMNS} FROM receipts
                 WHERE json_extract(claims, '$.exp') <= ?3
                   AND (json_extract(claims, '$.exp') > ?1 OR (json_extract(claims, '$.exp') = ?1 AND seq > ?2))
                 ORDER BY json_extract(claims, '$.exp'), seq LIMIT ?4"
            ))?;
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let rows = stmt.query_map(params![after.0, after.1, until, limit], row)?.collect::<Result<Vec<_>, _>>()?;
            Ok(rows)
        })
    }

    /// Whether the database answers.
    pub fn healthy(&self) -> Result<(), Rejection> {
        self.with(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0)).map(|_| ())?))
    }
}

/// Applies a batch of appends in one transaction, each with its own checks, then answers every caller:
/// refused ones at once with their reason, stored ones only after the commit.
fn commit_batch(conn: &mut Connection, batch: Vec<Job>, legacy_ack: bool) {
    // IMMEDIATE: the write lock first, waiting its turn. A deferred transaction that read and then
    // wrote would fail at once (SQLITE_BUSY) had another connection (a webhook's cursor) written since.
    let tx = match conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            let e: Rejection = e.into();
            batch.into_iter().for_each(|j| drop(j.reply.send(Err(e.clone()))));
            return;
        }
    };
    let mut stored = Vec::new();
    for job in batch {
        match append_one(&tx, job.row, job.decide, legacy_ack) {
            Ok(appended) => stored.push((job.reply, appended)),
            Err(e) => drop(job.reply.send(Err(e))),
        }
    }
    match tx.commit() {
        Ok(()) => stored.into_iter().for_each(|(reply, a)| drop(reply.send(Ok(a)))),
        Err(e) => {
            let e: Rejection = e.into();
            stored.into_iter().for_each(|(reply, _)| drop(reply.send(Err(e.clone()))));
        }
    }
}

const BY_ID: &str = "SELECT id, subject, hash, key_thumbprint FROM receipts WHERE id = ?1";
const FULL_BY_ID: &str = "SELECT seq, id, subject, issued_at, received_at, hash, prev, chain, jws, claims, key_thumbprint, gpc_header FROM receipts WHERE id = ?1";
/// The subject's latest receipt signed with the same key: receipts another key posted for the subject
/// (anyone can) must not become the head that the subject's own next receipt is refused against.
const HEAD: &str = "SELECT id, subject, hash, key_thumbprint FROM receipts WHERE subject = ?1 AND key_thumbprint = ?2 ORDER BY seq DESC LIMIT 1";
const BY_HASH: &str = "SELECT id, subject, hash, key_thumbprint FROM receipts WHERE hash = ?1";
const INSERT: &str = "INSERT INTO receipts (id, subject, issued_at, received_at, hash, prev, chain, jws, claims, key_thumbprint, gpc_header)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
const INSERT_LEGACY: &str = "INSERT INTO receipts (id, subject, issued_at, received_at, hash, prev, chain, jws, claims, key_thumbprint, gpc_header, ack)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, '')";

/// What an append must do, given what the store holds for it: the same rule on every backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resolved {
    /// New: `decide` has set its chain status; insert it.
    Insert,
    /// The same bytes were stored before: answer with that row.
    Duplicate,
    /// A stored receipt has this id but other bytes: see [`same_id`] with the stored row.
    SameIdOtherBytes,
}

pub(crate) fn resolve(
    new: &mut Row,
    existing: Option<Link>,
    head: Option<Link>,
    prev_row: Option<Link>,
    decide: Decide,
) -> Result<Resolved, Rejection> {
    if let Some(existing) = existing {
        return Ok(if existing.hash == new.hash { Resolved::Duplicate } else { Resolved::SameIdOtherBytes });
    }
    new.chain = decide(head.as_ref(), prev_row.as_ref())?;
    Ok(Resolved::Insert)
}

/// A stored receipt with the new one's id but other bytes. The same signed header and payload is the
/// same receipt: an ES256 signature has a second valid form, (r, n−s), so anyone who saw a receipt
/// could post that twin first, and the browser's own copy must then count as a duplicate, not be
/// refused as a conflict (its evidence would be lost). Anything else is a conflict.
pub(crate) fn same_id(stored: Row, new: &Row) -> Result<Appended, Rejection> {
    let signed = |jws: &str| jws.rsplit_once('.').map_or(jws, |(input, _)| input).to_string();
    if signed(&stored.jws) == signed(&new.jws) {
        return Ok(Appended::Duplicate(stored));
    }
    Err(Rejection::Conflict(format!("receipt id {} was already stored with different content", new.id)))
}

fn append_one(
    tx: &rusqlite::Transaction<'_>,
    mut new: Row,
    decide: Decide,
    legacy_ack: bool,
) -> Result<Appended, Rejection> {
    let existing = tx.prepare_cached(BY_ID)?.query_row(params![new.id], link).optional()?;
    let (head, prev_row) = if existing.is_some() {
        (None, None)
    } else {
        let head = tx.prepare_cached(HEAD)?.query_row(params![new.subject, new.key_thumbprint], link).optional()?;
        let prev_row = match &new.prev {
            Some(prev) if head.as_ref().is_some_and(|h| &h.hash == prev) => head.clone(),
            Some(prev) => tx.prepare_cached(BY_HASH)?.query_row(params![prev], link).optional()?,
            None => None,
        };
        (head, prev_row)
    };
    match resolve(&mut new, existing, head, prev_row, decide)? {
        Resolved::Insert => {}
        Resolved::Duplicate => {
            return Ok(Appended::Duplicate(tx.prepare_cached(FULL_BY_ID)?.query_row(params![new.id], row)?))
        }
        Resolved::SameIdOtherBytes => {
            return same_id(tx.prepare_cached(FULL_BY_ID)?.query_row(params![new.id], row)?, &new)
        }
    }
    tx.prepare_cached(if legacy_ack { INSERT_LEGACY } else { INSERT })?.execute(params![
        new.id,
        new.subject,
        new.issued_at,
        new.received_at,
        new.hash,
        new.prev,
        new.chain,
        new.jws,
        new.claims,
        new.key_thumbprint,
        new.gpc_header
    ])?;
    new.seq = tx.last_insert_rowid();
    Ok(Appended::New(new))
}
