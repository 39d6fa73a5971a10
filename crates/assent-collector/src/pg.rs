//! Append-only receipt storage in PostgreSQL, for several collector instances behind a load balancer.
//!
//! It makes the same promises as the SQLite store. A writer task group-commits appends; a refused
//! receipt is refused before anything is written, so it leaves no partial write. Each batch first takes transaction-scoped
//! advisory locks on its subjects, in sorted order. Two instances appending to the same subject are
//! therefore serialised, a chain cannot fork unnoticed, and the instances cannot deadlock.
//! plpgsql triggers refuse UPDATE, DELETE and TRUNCATE.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_postgres::{Client, NoTls};

use crate::error::Rejection;
use crate::store::{resolve, Appended, Decide, Job, Link, Row};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS receipts (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    subject TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    prev TEXT,
    chain TEXT NOT NULL,
    jws TEXT NOT NULL,
    claims TEXT NOT NULL,
    key_thumbprint TEXT NOT NULL,
    gpc_header BOOLEAN NOT NULL
);
CREATE INDEX IF NOT EXISTS receipts_subject_time ON receipts (subject, issued_at, seq);
CREATE OR REPLACE FUNCTION receipts_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'receipts are append-only'; END $$;
CREATE OR REPLACE TRIGGER receipts_no_update BEFORE UPDATE OR DELETE ON receipts
    FOR EACH ROW EXECUTE FUNCTION receipts_append_only();
CREATE OR REPLACE TRIGGER receipts_no_truncate BEFORE TRUNCATE ON receipts
    FOR EACH STATEMENT EXECUTE FUNCTION receipts_append_only();
CREATE TABLE IF NOT EXISTS collector_key (id INTEGER PRIMARY KEY CHECK (id = 1), secret BYTEA NOT NULL);
";

/// A query parameter.
type Param = dyn tokio_postgres::types::ToSql + Sync;

const COLUMNS: &str = "seq, id, subject, issued_at, received_at, hash, prev, chain, jws, claims, key_thumbprint, gpc_header";

impl From<tokio_postgres::Error> for Rejection {
    fn from(e: tokio_postgres::Error) -> Self {
        Rejection::Storage(e.to_string())
    }
}

fn row(r: &tokio_postgres::Row) -> Row {
    Row {
        seq: r.get(0),
        id: r.get(1),
        subject: r.get(2),
        issued_at: r.get(3),
        received_at: r.get(4),
        hash: r.get(5),
        prev: r.get(6),
        chain: r.get(7),
        jws: r.get(8),
        claims: r.get(9),
        key_thumbprint: r.get(10),
        gpc_header: r.get(11),
    }
}

fn link(r: &tokio_postgres::Row) -> Link {
    Link { id: r.get(0), subject: r.get(1), hash: r.get(2) }
}

/// The PostgreSQL store. Cloning shares the connections.
#[derive(Clone)]
pub struct PgStore {
    read: Arc<Client>,
    writer: mpsc::UnboundedSender<Job>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

async fn connect(url: &str) -> Result<Client, Rejection> {
    let (client, connection) = tokio_postgres::connect(url, NoTls)
        .await
        .map_err(|e| Rejection::Storage(format!("cannot connect to PostgreSQL: {e}")))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::error!(error = %e, "PostgreSQL connection lost");
        }
    });
    Ok(client)
}

impl PgStore {
    /// Connects (one connection for reads, one for the writer) and creates the schema if needed.
    pub async fn open(url: &str) -> Result<PgStore, Rejection> {
        let read = connect(url).await?;
        read.batch_execute(SCHEMA).await?;
        let mut write = connect(url).await?;
        // Databases made before acknowledgments were recomputed have an `ack` column; it gets ''.
        let legacy_ack = write.prepare("SELECT ack FROM receipts LIMIT 0").await.is_ok();
        let (writer, mut jobs) = mpsc::unbounded_channel::<Job>();
        tokio::spawn(async move {
            while let Some(first) = jobs.recv().await {
                let mut batch = vec![first];
                while batch.len() < 512 {
                    match jobs.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                commit_batch(&mut write, batch, legacy_ack).await;
            }
        });
        Ok(PgStore { read: Arc::new(read), writer })
    }

    /// The collector's signing secret, shared by every instance (the first one to start makes it).
    pub async fn collector_secret(&self) -> Result<[u8; 32], Rejection> {
        let mut secret = [0u8; 32];
        getrandom::getrandom(&mut secret).map_err(|e| Rejection::Storage(format!("no randomness for the collector key: {e}")))?;
        self.read
            .execute("INSERT INTO collector_key (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING", &[&secret.as_slice()])
            .await?;
        let stored: Vec<u8> = self.read.query_one("SELECT secret FROM collector_key WHERE id = 1", &[]).await?.get(0);
        stored.try_into().map_err(|_| Rejection::Storage("collector key is not 32 bytes".into()))
    }

    /// Appends a verified receipt; answered only after its transaction has committed.
    pub async fn append(&self, row: Row, decide: Decide) -> Result<Appended, Rejection> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.writer.send(Job { row, decide, reply }).map_err(|_| Rejection::Storage("the writer task stopped".into()))?;
        answer.await.map_err(|_| Rejection::Storage("the writer task stopped".into()))?
    }

    /// A subject's receipts in arrival order.
    pub async fn subject_receipts(&self, subject: &str) -> Result<Vec<Row>, Rejection> {
        let rows = self.read.query(&format!("SELECT {COLUMNS} FROM receipts WHERE subject = $1 ORDER BY seq"), &[&subject]).await?;
        Ok(rows.iter().map(row).collect())
    }

    /// A subject's receipts issued at or before `at`, newest first.
    pub async fn receipts_until(&self, subject: &str, at: i64) -> Result<Vec<Row>, Rejection> {
        let rows = self
            .read
            .query(
                &format!("SELECT {COLUMNS} FROM receipts WHERE subject = $1 AND issued_at <= $2 ORDER BY issued_at DESC, seq DESC"),
                &[&subject, &at],
            )
            .await?;
        Ok(rows.iter().map(row).collect())
    }

    /// Whether the database answers.
    pub async fn healthy(&self) -> Result<(), Rejection> {
        self.read.query_one("SELECT 1", &[]).await?;
        Ok(())
    }
}

async fn commit_batch(client: &mut Client, batch: Vec<Job>, legacy_ack: bool) {
    let tx = match client.transaction().await {
        Ok(tx) => tx,
        Err(e) => {
            let e: Rejection = e.into();
            batch.into_iter().for_each(|j| drop(j.reply.send(Err(e.clone()))));
            return;
        }
    };
    let mut subjects: Vec<String> = batch.iter().map(|j| j.row.subject.clone()).collect();
    subjects.sort();
    subjects.dedup();
    let locked = tx
        .execute("SELECT pg_advisory_xact_lock(hashtextextended(s, 0)) FROM unnest($1::text[]) AS s ORDER BY s", &[&subjects])
        .await;
    if let Err(e) = locked {
        let e: Rejection = e.into();
        batch.into_iter().for_each(|j| drop(j.reply.send(Err(e.clone()))));
        return;
    }
    // No savepoints needed: a refusal (duplicate with other content, fork) is decided before any
    // write, and a database error aborts the whole transaction, answering every caller with it.
    let mut stored = Vec::new();
    for job in batch {
        match append_one(&tx, job.row, job.decide, legacy_ack).await {
            Ok(appended) => stored.push((job.reply, appended)),
            Err(e) => drop(job.reply.send(Err(e))),
        }
    }
    match tx.commit().await {
        Ok(()) => stored.into_iter().for_each(|(reply, a)| drop(reply.send(Ok(a)))),
        Err(e) => {
            let e: Rejection = e.into();
            stored.into_iter().for_each(|(reply, _)| drop(reply.send(Err(e.clone()))));
        }
    }
}

async fn append_one(tx: &tokio_postgres::Transaction<'_>, mut new: Row, decide: Decide, legacy_ack: bool) -> Result<Appended, Rejection> {
    // The three lookups go out together (tokio-postgres pipelines them on the one connection).
    let no_prev = String::new();
    let prev_hash = new.prev.as_ref().unwrap_or(&no_prev);
    let id_param: [&Param; 1] = [&new.id];
    let subject_param: [&Param; 1] = [&new.subject];
    let hash_param: [&Param; 1] = [prev_hash];
    let (existing, head, prev_row) = tokio::try_join!(
        tx.query_opt("SELECT id, subject, hash FROM receipts WHERE id = $1", &id_param),
        tx.query_opt("SELECT id, subject, hash FROM receipts WHERE subject = $1 ORDER BY seq DESC LIMIT 1", &subject_param),
        tx.query_opt("SELECT id, subject, hash FROM receipts WHERE hash = $1", &hash_param)
    )?;
    let prev_row = prev_row.map(|r| link(&r)).filter(|_| new.prev.is_some());
    if resolve(&mut new, existing.map(|r| link(&r)), head.map(|r| link(&r)), prev_row, decide)? {
        let stored = tx.query_one(&format!("SELECT {COLUMNS} FROM receipts WHERE id = $1"), &[&new.id]).await?;
        return Ok(Appended::Duplicate(row(&stored)));
    }
    let insert = if legacy_ack {
        "INSERT INTO receipts (id, subject, issued_at, received_at, hash, prev, chain, jws, claims, key_thumbprint, gpc_header, ack)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, '') RETURNING seq"
    } else {
        "INSERT INTO receipts (id, subject, issued_at, received_at, hash, prev, chain, jws, claims, key_thumbprint, gpc_header)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING seq"
    };
    let inserted = tx
        .query_one(
            insert,
            &[
                &new.id, &new.subject, &new.issued_at, &new.received_at, &new.hash, &new.prev, &new.chain, &new.jws, &new.claims,
                &new.key_thumbprint, &new.gpc_header,
            ],
        )
        .await?;
    new.seq = inserted.get(0);
    Ok(Appended::New(new))
}
