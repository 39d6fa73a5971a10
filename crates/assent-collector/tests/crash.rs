//! Crash safety: receipts posted by concurrent clients while the collector is killed with SIGKILL
//! mid-stream. After a restart on the same database, every receipt it acknowledged is stored and
//! exported with its countersignature and is in the changes feed once, and one it never acknowledged is accepted once when the client
//! sends it again. On SQLite; on PostgreSQL too when `cargo xtask test` provides one.

mod support;

use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use assent_core::json::Json;
use support::Db;

const KEY: &str = "crash-test-key";
const CLIENTS: usize = 6;
/// Acknowledgments to wait for before the kill: the clients are then mid-stream.
const ACKED_BEFORE_KILL: usize = 60;

/// Starts the collector on `port` with the database `db`.
fn start(port: u16, db: &Db) -> Child {
    support::start_collector(port, db, KEY, &["--rate-limit", "1000000"])
}

/// A free port on loopback.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn subject(client: usize) -> String {
    format!("{:032x}", 0xc0ffee00 + client)
}

/// What a client sent: each receipt in chain order, and whether the collector acknowledged it.
struct Sent {
    jws: String,
    id: String,
    acked: bool,
}

fn crash_and_recover(db: Db) {
    let port = free_port();
    let mut collector = start(port, &db);
    let acked = Arc::new(Mutex::new(0usize));
    let dead = Arc::new(AtomicBool::new(false));
    let now = 1_790_000_000u64;
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (acked, dead) = (acked.clone(), dead.clone());
            std::thread::spawn(move || {
                let mut sent: Vec<Sent> = Vec::new();
                let mut prev = None;
                for n in 0..10_000u32 {
                    let id = format!("r{:08x}{:024x}", c, n);
                    let jws = support::signed(&support::claims_for(
                        &subject(c),
                        &id,
                        now + u64::from(n),
                        n % 2 == 0,
                        prev.clone(),
                    ));
                    let answer = support::http(port, KEY, "POST", "/v1/receipts", &jws);
                    let ok = answer.as_ref().is_some_and(|(status, body)| *status < 300 && body.contains("\"ack\""));
                    sent.push(Sent { jws: jws.clone(), id, acked: ok });
                    if !ok {
                        // The collector died mid-request: this one's fate is unknown to the client.
                        assert!(dead.load(Ordering::SeqCst) || answer.is_none(), "refused while alive: {answer:?}");
                        break;
                    }
                    *acked.lock().unwrap() += 1;
                    prev = Some(assent_jose::receipt_hash(&jws));
                }
                sent
            })
        })
        .collect();
    let started = Instant::now();
    while *acked.lock().unwrap() < ACKED_BEFORE_KILL {
        assert!(started.elapsed() < Duration::from_secs(60), "too few acknowledgments");
        std::thread::sleep(Duration::from_millis(5));
    }
    dead.store(true, Ordering::SeqCst);
    assert!(Command::new("kill").args(["-KILL", &collector.id().to_string()]).status().unwrap().success());
    collector.wait().unwrap();
    let sent: Vec<Vec<Sent>> = clients.into_iter().map(|t| t.join().unwrap()).collect();

    let mut collector = start(port, &db);
    for (c, sent) in sent.iter().enumerate() {
        let (status, body) =
            support::http(port, KEY, "GET", &format!("/v1/subjects/{}/receipts", subject(c)), "").unwrap();
        assert_eq!(status, 200, "{body}");
        let export = Json::parse(&body).unwrap();
        let rows = match export.as_object().unwrap().iter().find(|(k, _)| k == "receipts").map(|(_, v)| v) {
            Some(Json::Array(rows)) => rows.clone(),
            other => panic!("{other:?}"),
        };
        let stored: Vec<(String, bool)> = rows
            .iter()
            .map(|r| {
                let o = r.as_object().unwrap();
                let get = |k: &str| o.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
                let id = match get("id") {
                    Some(Json::String(id)) => id,
                    other => panic!("{other:?}"),
                };
                (id, matches!(get("ack"), Some(Json::String(_))))
            })
            .collect();
        for s in sent.iter().filter(|s| s.acked) {
            assert!(
                stored.iter().any(|(id, countersigned)| id == &s.id && *countersigned),
                "client {c}: acknowledged {} is not exported with its countersignature after SIGKILL",
                s.id
            );
        }
        // The last one, whose answer never came, is accepted when sent again, and stored once.
        if let Some(last) = sent.last().filter(|s| !s.acked) {
            for _ in 0..2 {
                let (status, body) = support::http(port, KEY, "POST", "/v1/receipts", &last.jws).unwrap();
                assert!(status == 200 || status == 201, "client {c}: {status} {body}");
            }
            let (_, body) =
                support::http(port, KEY, "GET", &format!("/v1/subjects/{}/receipts", subject(c)), "").unwrap();
            assert_eq!(body.matches(&last.id).count(), 1, "client {c}: {} stored once", last.id);
        }
    }
    // The changes feed, read from the start after the restart: every stored receipt once, in the order
    // stored, every acknowledged one among them. A consumer that keeps its cursor loses nothing.
    let (mut after, mut feed) = ("0".to_string(), Vec::new());
    loop {
        let (status, body) =
            support::http(port, KEY, "GET", &format!("/v1/changes?after={after}&limit=5000"), "").unwrap();
        assert_eq!(status, 200, "{body}");
        let page = Json::parse(&body).unwrap();
        let get =
            |json: &Json, k: &str| json.as_object().unwrap().iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        let Some(Json::Array(changes)) = get(&page, "changes") else { panic!("{body}") };
        if changes.is_empty() {
            break;
        }
        for change in &changes {
            let (Some(Json::String(cursor)), Some(Json::String(id))) = (get(change, "cursor"), get(change, "receipt"))
            else {
                panic!("{change:?}")
            };
            feed.push((cursor.parse::<u64>().unwrap(), id));
        }
        let Some(Json::String(next)) = get(&page, "next") else { panic!("{body}") };
        after = next;
    }
    assert!(feed.windows(2).all(|w| w[0].0 < w[1].0), "the feed is in the order stored");
    let ids: std::collections::HashSet<&str> = feed.iter().map(|(_, id)| id.as_str()).collect();
    assert_eq!(ids.len(), feed.len(), "no receipt twice in the feed");
    for s in sent.iter().flatten().filter(|s| s.acked) {
        assert!(ids.contains(s.id.as_str()), "acknowledged {} is missing from the changes feed after SIGKILL", s.id);
    }
    collector.kill().unwrap();
    collector.wait().unwrap();
}

#[test]
fn acknowledged_receipts_survive_sigkill_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    crash_and_recover(Db::Sqlite(dir.path().join("crash.sqlite")));
}

#[test]
fn acknowledged_receipts_survive_sigkill_on_postgres() {
    if let Some(db) = support::postgres_database("assent_crash") {
        crash_and_recover(db);
    }
}
