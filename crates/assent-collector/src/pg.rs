//! Append-only receipt storage in PostgreSQL, for several collector instances behind a load balancer.
//!
//! It makes the same promises as the SQLite store. A writer task group-commits appends; a refused
//! receipt is refused before anything is written, so it leaves no partial write. Each batch first takes transaction-scoped
//! advisory locks on its subjects, in sorted order. Two instances appending to the same subject are
//! therefore serialised, a chain cannot fork unnoticed, and the instances cannot deadlock.
//! A batch costs a constant number of round trips, whatever its size (see `apply_batch`), and any
//! database error fails the whole batch: PostgreSQL would roll it back at COMMIT without an error, so
//! no receipt is acknowledged unless it was stored. plpgsql triggers refuse UPDATE, DELETE and TRUNCATE.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_postgres::Client;

use crate::error::Rejection;
use crate::store::{resolve, same_id, Appended, Cursor, Decide, Job, Link, Resolved, Row};
use crate::IntervalRow;

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
CREATE INDEX IF NOT EXISTS receipts_subject_key ON receipts (subject, key_thumbprint, seq);
CREATE INDEX IF NOT EXISTS receipts_expiry ON receipts (((claims::jsonb ->> 'exp')::bigint), seq);
CREATE TABLE IF NOT EXISTS webhooks (
    url TEXT PRIMARY KEY,
    after_seq BIGINT NOT NULL,
    expiry_at BIGINT NOT NULL,
    expiry_seq BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS collector_key (id INTEGER PRIMARY KEY CHECK (id = 1), secret BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS consent_intervals (
    subject TEXT NOT NULL,
    purpose TEXT NOT NULL,
    scope TEXT NOT NULL,
    granted BOOLEAN NOT NULL,
    valid_from BIGINT NOT NULL,
    valid_until BIGINT,
    receipt TEXT,
    notice_version TEXT,
    method TEXT,
    decided_in TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS consent_intervals_join ON consent_intervals (purpose, subject, scope, valid_from);
CREATE TABLE IF NOT EXISTS consent_intervals_cursor (id INTEGER PRIMARY KEY CHECK (id = 1), after_seq BIGINT NOT NULL);
INSERT INTO consent_intervals_cursor (id, after_seq) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;
CREATE OR REPLACE VIEW consent_in_force AS
    SELECT subject, purpose, scope, valid_from, valid_until, receipt, notice_version, method, decided_in
    FROM consent_intervals
    WHERE granted AND valid_from <= extract(epoch FROM now())
      AND (valid_until IS NULL OR valid_until > extract(epoch FROM now()));
CREATE OR REPLACE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '% is append-only', TG_ARGV[0]; END $$;
";

/// The advisory lock that serialises schema set-up across instances (an arbitrary constant).
const SCHEMA_LOCK: i64 = 0x4153_5345_4e54;

/// Triggers that refuse UPDATE, DELETE and TRUNCATE on the receipts and on the collector key (acks
/// are signed again from the stored rows, so a replaced key would change them).
fn append_only_triggers() -> String {
    [("receipts", "the receipt log"), ("collector_key", "the collector key")]
        .iter()
        .map(|(table, what)| {
            format!(
                "CREATE OR REPLACE TRIGGER {table}_no_update BEFORE UPDATE OR DELETE ON {table}
                     FOR EACH ROW EXECUTE FUNCTION append_only('{what}');
                 CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
                     FOR EACH STATEMENT EXECUTE FUNCTION append_only('{what}');"
            )
        })
        .collect()
}

/// A query parameter.
type Param = dyn tokio_postgres::types::ToSql + Sync;

/// The advisory lock an instance holds while it brings `consent_intervals` up to date.
const INTERVALS_LOCK: i64 = 0x4153_5345_4e55;

const COLUMNS: &str =
    "seq, id, subject, issued_at, received_at, hash, prev, chain, jws, claims, key_thumbprint, gpc_header";

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
    Link { id: r.get(0), subject: r.get(1), hash: r.get(2), key: r.get(3) }
}

/// The PostgreSQL store. Cloning shares the connections.
#[derive(Clone)]
pub struct PgStore {
    url: Arc<str>,
    /// The read connection, replaced when the database has closed it (a restart, a failover).
    read: Arc<tokio::sync::Mutex<Arc<Client>>>,
    writer: mpsc::UnboundedSender<Job>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

/// One connection, encrypted as the URL's `sslmode` says (see `tls`).
async fn connect(url: &str) -> Result<Client, Rejection> {
    let (url, tls) = crate::tls::connector(url)?;
    let (client, connection) = tokio_postgres::connect(&url, tls).await.map_err(|e| {
        // tokio-postgres says only "error performing TLS handshake"; the cause is in its sources.
        let mut e: String = std::iter::successors(Some(&e as &dyn std::error::Error), |e| e.source()).map(|e| e.to_string()).collect::<Vec<_>>().join(": ");
        let hint = if e.contains("not valid for name") {
            " (sslmode=verify-full checks that the certificate names the host in the URL: connect by that name, or use verify-ca)"
        } else if e.contains("certificate") {
            " (verify-ca and verify-full trust the CA certificates in the file sslrootcert=<path> names, or the Mozilla roots without it)"
        } else {
            ""
        };
        e.push_str(hint);
        Rejection::Storage(format!("cannot connect to PostgreSQL: {e}"))
    })?;
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
        // Instances started together (replicas, a rolling restart) take turns: concurrent CREATE OR
        // REPLACE of one function or trigger fails with "tuple concurrently updated".
        read.batch_execute(&format!(
            "BEGIN; SELECT pg_advisory_xact_lock({SCHEMA_LOCK}); {SCHEMA} {} COMMIT;",
            append_only_triggers()
        ))
        .await?;
        let mut write = connect(url).await?;
        // Databases made before acknowledgments were recomputed have an `ack` column; it gets ''.
        let legacy_ack = write.prepare("SELECT ack FROM receipts LIMIT 0").await.is_ok();
        let (writer, mut jobs) = mpsc::unbounded_channel::<Job>();
        let url: Arc<str> = url.into();
        let writer_url = url.clone();
        tokio::spawn(async move {
            while let Some(first) = jobs.recv().await {
                let mut batch = vec![first];
                while batch.len() < 512 {
                    match jobs.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                // The database closed the connection (a restart, a failover): connect again, and
                // answer this batch 503 (the browsers' outboxes retry) only if that fails too.
                if write.is_closed() {
                    match connect(&writer_url).await {
                        Ok(fresh) => write = fresh,
                        Err(e) => {
                            batch.into_iter().for_each(|j| drop(j.reply.send(Err(e.clone()))));
                            continue;
                        }
                    }
                }
                commit_batch(&mut write, batch, legacy_ack).await;
            }
        });
        Ok(PgStore { url, read: Arc::new(tokio::sync::Mutex::new(Arc::new(read))), writer })
    }

    /// The read connection, connected again if the database has closed it.
    async fn read(&self) -> Result<Arc<Client>, Rejection> {
        let mut read = self.read.lock().await;
        if read.is_closed() {
            *read = Arc::new(connect(&self.url).await?);
        }
        Ok(read.clone())
    }

    /// The collector's signing secret, shared by every instance (the first one to start makes it).
    pub async fn collector_secret(&self) -> Result<[u8; 32], Rejection> {
        let mut secret = [0u8; 32];
        getrandom::getrandom(&mut secret)
            .map_err(|e| Rejection::Storage(format!("no randomness for the collector key: {e}")))?;
        self.read()
            .await?
            .execute(
                "INSERT INTO collector_key (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
                &[&secret.as_slice()],
            )
            .await?;
        let stored: Vec<u8> =
            self.read().await?.query_one("SELECT secret FROM collector_key WHERE id = 1", &[]).await?.get(0);
        stored.try_into().map_err(|_| Rejection::Storage("collector key is not 32 bytes".into()))
    }

    /// The stored signing secret's bytes, if any.
    pub(crate) async fn stored_collector_secret(&self) -> Result<Option<Vec<u8>>, Rejection> {
        Ok(self.read().await?.query_opt("SELECT secret FROM collector_key WHERE id = 1", &[]).await?.map(|r| r.get(0)))
    }

    /// Appends a verified receipt; answered only after its transaction has committed.
    pub async fn append(&self, row: Row, decide: Decide) -> Result<Appended, Rejection> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.writer
            .send(Job { row, decide, reply })
            .map_err(|_| Rejection::Storage("the writer task stopped".into()))?;
        answer.await.map_err(|_| Rejection::Storage("the writer task stopped".into()))?
    }

    /// A subject's receipts in arrival order.
    pub async fn subject_receipts(&self, subject: &str) -> Result<Vec<Row>, Rejection> {
        let rows = self
            .read()
            .await?
            .query(&format!("SELECT {COLUMNS} FROM receipts WHERE subject = $1 ORDER BY seq"), &[&subject])
            .await?;
        Ok(rows.iter().map(row).collect())
    }

    /// Up to `limit` receipts stored after `seq`, in the order they were stored.
    pub async fn receipts_after(&self, seq: i64, limit: usize) -> Result<Vec<Row>, Rejection> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .read()
            .await?
            .query(&format!("SELECT {COLUMNS} FROM receipts WHERE seq > $1 ORDER BY seq LIMIT $2"), &[&seq, &limit])
            .await?;
        Ok(rows.iter().map(row).collect())
    }

    /// Up to `limit` subject ids in order, after `after` (from the first without it).
    pub async fn subjects_after(&self, after: Option<&str>, limit: usize) -> Result<Vec<String>, Rejection> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .read()
            .await?
            .query(
                "SELECT DISTINCT subject FROM receipts WHERE subject > $1 ORDER BY subject LIMIT $2",
                &[&after.unwrap_or(""), &limit],
            )
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    /// See [`crate::Store::webhook_cursor`].
    pub async fn webhook_cursor(&self, url: &str, now: i64) -> Result<Cursor, Rejection> {
        let read = self.read().await?;
        read.execute(
            "INSERT INTO webhooks (url, after_seq, expiry_at, expiry_seq)
             SELECT $1, COALESCE(MAX(seq), 0), $2, 0 FROM receipts
             ON CONFLICT (url) DO NOTHING",
            &[&url, &now],
        )
        .await?;
        let r = read.query_one("SELECT after_seq, expiry_at, expiry_seq FROM webhooks WHERE url = $1", &[&url]).await?;
        Ok(Cursor { after: r.get(0), expiry: (r.get(1), r.get(2)) })
    }

    /// See [`crate::Store::save_webhook_cursor`].
    pub async fn save_webhook_cursor(&self, url: &str, cursor: Cursor) -> Result<(), Rejection> {
        self.read()
            .await?
            .execute(
                "UPDATE webhooks SET after_seq = $2, expiry_at = $3, expiry_seq = $4 WHERE url = $1",
                &[&url, &cursor.after, &cursor.expiry.0, &cursor.expiry.1],
            )
            .await?;
        Ok(())
    }

    /// See [`crate::Store::expiring_after`].
    pub async fn expiring_after(&self, after: (i64, i64), until: i64, limit: usize) -> Result<Vec<Row>, Rejection> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .read()
            .await?
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM receipts
                     WHERE ((claims::jsonb ->> 'exp')::bigint, seq) > ($1, $2) AND (claims::jsonb ->> 'exp')::bigint <= $3
                     ORDER BY (claims::jsonb ->> 'exp')::bigint, seq LIMIT $4"
                ),
                &[&after.0, &after.1, &until, &limit],
            )
            .await?;
        Ok(rows.iter().map(row).collect())
    }

    /// A connection of the caller's own (for a transaction that must not share one).
    pub(crate) async fn own_connection(&self) -> Result<Client, Rejection> {
        connect(&self.url).await
    }

    /// Brings `consent_intervals` up to date with up to `limit` receipts stored after its cursor, on
    /// `client`: each of their subjects' rows are made again by `rows_of` from all the subject's
    /// receipts, and replace the old ones with the new cursor in one transaction. Returns how many
    /// receipts it took in: 0 when the table is up to date, or when another instance is at it.
    pub(crate) async fn refresh_intervals(
        &self,
        client: &mut Client,
        limit: usize,
        rows_of: &(dyn Fn(&str, &[Row]) -> Vec<IntervalRow> + Sync),
    ) -> Result<usize, Rejection> {
        let tx = client.transaction().await?;
        let locked: bool = tx.query_one("SELECT pg_try_advisory_xact_lock($1)", &[&INTERVALS_LOCK]).await?.get(0);
        if !locked {
            return Ok(0);
        }
        let after: i64 = tx.query_one("SELECT after_seq FROM consent_intervals_cursor WHERE id = 1", &[]).await?.get(0);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let new = tx
            .query("SELECT seq, subject FROM receipts WHERE seq > $1 ORDER BY seq LIMIT $2", &[&after, &limit])
            .await?;
        let Some(last) = new.last().map(|r| r.get::<_, i64>(0)) else { return Ok(0) };
        let mut subjects: Vec<String> = new.iter().map(|r| r.get(1)).collect();
        subjects.sort_unstable();
        subjects.dedup();
        let mut rows = Vec::new();
        for subject in &subjects {
            let history = tx
                .query(&format!("SELECT {COLUMNS} FROM receipts WHERE subject = $1 ORDER BY seq"), &[subject])
                .await?;
            rows.extend(rows_of(subject, &history.iter().map(row).collect::<Vec<_>>()));
        }
        tx.execute("DELETE FROM consent_intervals WHERE subject = ANY($1)", &[&subjects]).await?;
        let text =
            |f: fn(&IntervalRow) -> Option<&str>| rows.iter().map(|r| f(r).map(str::to_string)).collect::<Vec<_>>();
        let (subject, purpose, scope) =
            (text(|r| Some(&r.subject)), text(|r| Some(&r.purpose)), text(|r| Some(&r.scope)));
        let (receipt, notice, method) =
            (text(|r| r.receipt.as_deref()), text(|r| r.notice_version.as_deref()), text(|r| r.method.as_deref()));
        let (decided_in, reason) = (text(|r| Some(&r.decided_in)), text(|r| Some(&r.reason)));
        let granted: Vec<bool> = rows.iter().map(|r| r.granted).collect();
        let from: Vec<i64> = rows.iter().map(|r| r.valid_from).collect();
        let until: Vec<Option<i64>> = rows.iter().map(|r| r.valid_until).collect();
        let params: [&Param; 11] =
            [&subject, &purpose, &scope, &granted, &from, &until, &receipt, &notice, &method, &decided_in, &reason];
        tx.execute(
            "INSERT INTO consent_intervals
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[], $5::bigint[], $6::bigint[],
                                  $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])",
            &params,
        )
        .await?;
        tx.execute("UPDATE consent_intervals_cursor SET after_seq = $1 WHERE id = 1", &[&last]).await?;
        tx.commit().await?;
        Ok(new.len())
    }

    /// Whether the database answers.
    pub async fn healthy(&self) -> Result<(), Rejection> {
        self.read().await?.query_one("SELECT 1", &[]).await?;
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
    match apply_batch(&tx, batch, legacy_ack).await {
        Ok(stored) => match tx.commit().await {
            Ok(()) => stored.into_iter().for_each(|(reply, a)| drop(reply.send(Ok(a)))),
            Err(e) => {
                let e: Rejection = e.into();
                stored.into_iter().for_each(|(reply, _)| drop(reply.send(Err(e.clone()))));
            }
        },
        // A database error aborts the whole transaction: every caller still waiting gets it.
        Err((e, waiting)) => waiting.into_iter().for_each(|reply| drop(reply.send(Err(e.clone())))),
    }
}

type Reply = tokio::sync::oneshot::Sender<Result<Appended, Rejection>>;

/// The key of a chain head: a subject's chain is the receipts one key signed.
fn chain(subject: &str, key: &str) -> String {
    format!("{subject} {key}")
}

/// The batch in a constant number of round trips, whatever its size: the subjects' advisory locks, the
/// three lookups for every receipt at once, one multi-row insert, and (only if there are duplicates)
/// one read of their stored rows. The chain rule runs in arrival order over what the database held
/// plus what this batch has already appended, exactly as the one-by-one SQLite writer sees it.
/// Refusals are answered at once; the rest are returned to be answered after the commit.
async fn apply_batch(
    tx: &tokio_postgres::Transaction<'_>,
    batch: Vec<Job>,
    legacy_ack: bool,
) -> Result<Vec<(Reply, Appended)>, (Rejection, Vec<Reply>)> {
    // Owned: tokio-postgres parameters are `'static` trait objects here.
    let mut subjects: Vec<String> = batch.iter().map(|j| j.row.subject.clone()).collect();
    subjects.sort_unstable();
    subjects.dedup();
    let ids: Vec<String> = batch.iter().map(|j| j.row.id.clone()).collect();
    let prevs: Vec<String> = batch.iter().filter_map(|j| j.row.prev.clone()).collect();
    let (ids_param, subjects_param, prevs_param): ([&Param; 1], [&Param; 1], [&Param; 1]) =
        ([&ids], [&subjects], [&prevs]);
    let looked_up = async {
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(s, 0)) FROM unnest($1::text[]) AS s ORDER BY s",
            &subjects_param,
        )
        .await?;
        tokio::try_join!(
            tx.query("SELECT id, subject, hash, key_thumbprint FROM receipts WHERE id = ANY($1)", &ids_param),
            // Each chain's head: a subject's chain is the receipts one key signed (see store::HEAD).
            tx.query(
                "SELECT DISTINCT ON (subject, key_thumbprint) id, subject, hash, key_thumbprint FROM receipts
                 WHERE subject = ANY($1) ORDER BY subject, key_thumbprint, seq DESC",
                &subjects_param
            ),
            tx.query("SELECT id, subject, hash, key_thumbprint FROM receipts WHERE hash = ANY($1)", &prevs_param),
        )
    }
    .await;
    let (by_id, heads, by_hash) = match looked_up {
        Ok(found) => found,
        Err(e) => return Err((e.into(), batch.into_iter().map(|j| j.reply).collect())),
    };
    let index = |rows: Vec<tokio_postgres::Row>, key: fn(&Link) -> String| -> HashMap<String, Link> {
        rows.iter().map(link).map(|l| (key(&l), l)).collect()
    };
    let mut by_id = index(by_id, |l| l.id.clone());
    let mut heads = index(heads, |l| chain(&l.subject, &l.key));
    let mut by_hash = index(by_hash, |l| l.hash.clone());

    let mut new_rows: Vec<(Reply, Row)> = Vec::new();
    // Answered from the stored row: the id, and the new receipt when its bytes differ (see `same_id`).
    let mut duplicates: Vec<(Reply, String, Option<Row>)> = Vec::new();
    for job in batch {
        let mut new = job.row;
        let existing = by_id.get(&new.id).cloned();
        let head = heads.get(&chain(&new.subject, &new.key_thumbprint)).cloned();
        let prev_row = match &new.prev {
            Some(prev) if head.as_ref().is_some_and(|h| &h.hash == prev) => head.clone(),
            Some(prev) => by_hash.get(prev).cloned(),
            None => None,
        };
        match resolve(&mut new, existing, head, prev_row, job.decide) {
            Ok(Resolved::Duplicate) => duplicates.push((job.reply, new.id, None)),
            Ok(Resolved::SameIdOtherBytes) => duplicates.push((job.reply, new.id.clone(), Some(new))),
            Ok(Resolved::Insert) => {
                let l = Link {
                    id: new.id.clone(),
                    subject: new.subject.clone(),
                    hash: new.hash.clone(),
                    key: new.key_thumbprint.clone(),
                };
                by_id.insert(l.id.clone(), l.clone());
                by_hash.insert(l.hash.clone(), l.clone());
                heads.insert(chain(&l.subject, &l.key), l);
                new_rows.push((job.reply, new));
            }
            Err(refused) => drop(job.reply.send(Err(refused))),
        }
    }

    let written = async {
        let new_rows = &new_rows;
        let duplicates = &duplicates;
        let mut seqs: HashMap<String, i64> = HashMap::new();
        if !new_rows.is_empty() {
            let column = |f: fn(&Row) -> &String| new_rows.iter().map(|(_, r)| f(r).clone()).collect::<Vec<String>>();
            let (id, subject, hash, chain, jws, claims, thumbprint) = (
                column(|r| &r.id),
                column(|r| &r.subject),
                column(|r| &r.hash),
                column(|r| &r.chain),
                column(|r| &r.jws),
                column(|r| &r.claims),
                column(|r| &r.key_thumbprint),
            );
            let issued: Vec<i64> = new_rows.iter().map(|(_, r)| r.issued_at).collect();
            let received: Vec<i64> = new_rows.iter().map(|(_, r)| r.received_at).collect();
            let prev: Vec<Option<String>> = new_rows.iter().map(|(_, r)| r.prev.clone()).collect();
            let gpc: Vec<bool> = new_rows.iter().map(|(_, r)| r.gpc_header).collect();
            // WITH ORDINALITY keeps arrival order, so `seq` follows it as in the SQLite store.
            let sql = format!(
                "INSERT INTO receipts (id, subject, issued_at, received_at, hash, prev, chain, jws, claims, key_thumbprint, gpc_header{})
                 SELECT id, subject, issued_at, received_at, hash, prev, chain, jws, claims, key_thumbprint, gpc_header{}
                 FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[],
                             $9::text[], $10::text[], $11::boolean[])
                      WITH ORDINALITY AS t(id, subject, issued_at, received_at, hash, prev, chain, jws, claims, key_thumbprint, gpc_header, n)
                 ORDER BY n
                 RETURNING id, seq",
                if legacy_ack { ", ack" } else { "" },
                if legacy_ack { ", ''" } else { "" },
            );
            let params: [&Param; 11] = [&id, &subject, &issued, &received, &hash, &prev, &chain, &jws, &claims, &thumbprint, &gpc];
            for r in tx.query(&sql, &params).await? {
                seqs.insert(r.get(0), r.get(1));
            }
        }
        let mut stored: HashMap<String, Row> = HashMap::new();
        if !duplicates.is_empty() {
            let ids: Vec<String> = duplicates.iter().map(|(_, id, _)| id.clone()).collect();
            let ids_param: [&Param; 1] = [&ids];
            for r in tx.query(&format!("SELECT {COLUMNS} FROM receipts WHERE id = ANY($1)"), &ids_param).await? {
                let r = row(&r);
                stored.insert(r.id.clone(), r);
            }
        }
        Ok::<_, tokio_postgres::Error>((seqs, stored))
    }
    .await;
    let (seqs, stored) = match written {
        Ok(w) => w,
        Err(e) => {
            let waiting =
                new_rows.into_iter().map(|(reply, _)| reply).chain(duplicates.into_iter().map(|(reply, _, _)| reply));
            return Err((e.into(), waiting.collect()));
        }
    };
    let mut answers = Vec::new();
    for (reply, mut new) in new_rows {
        new.seq = seqs.get(&new.id).copied().unwrap_or_default();
        answers.push((reply, Appended::New(new)));
    }
    for (reply, id, other_bytes) in duplicates {
        match (stored.get(&id), other_bytes) {
            (Some(first), None) => answers.push((reply, Appended::Duplicate(first.clone()))),
            (Some(first), Some(new)) => match same_id(first.clone(), &new) {
                Ok(duplicate) => answers.push((reply, duplicate)),
                Err(conflict) => drop(reply.send(Err(conflict))),
            },
            (None, _) => drop(reply.send(Err(Rejection::Storage(format!("receipt {id} vanished during the batch"))))),
        }
    }
    Ok(answers)
}
