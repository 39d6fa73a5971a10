//! Signed webhooks against a real receiver on loopback: a withdrawal and an expiry each arrive as an
//! EdDSA JWS that verifies against the collector's JWKS; a receiver that fails gets the event again with
//! backoff; and across a SIGKILL of the collector nothing is lost and nothing answered 2xx is sent again.
//! On SQLite; on PostgreSQL too when `cargo xtask test` provides one.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use assent_core::json::Json;
use support::Db;

const KEY: &str = "webhook-test-key";

/// What the receiver got: each request's event id, body and the status it answered.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(String, String, u16)>>>);

impl Received {
    fn all(&self) -> Vec<(String, String, u16)> {
        self.0.lock().unwrap().clone()
    }

    /// Waits (up to 30 s) until `done` holds for what was received.
    fn wait(&self, what: &str, done: impl Fn(&[(String, String, u16)]) -> bool) {
        let started = Instant::now();
        while !done(&self.all()) {
            assert!(started.elapsed() < Duration::from_secs(30), "timed out waiting for {what}: {:?}", self.all());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A webhook receiver on loopback that answers each POST with the status in `answer`.
fn receiver(answer: Arc<AtomicU16>) -> (u16, Received) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let received = Received::default();
    let log = received.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (mut length, mut id, mut line) = (0usize, String::new(), String::new());
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                if let Some(v) = lower.strip_prefix("assent-event-id:") {
                    id = v.trim().to_string();
                }
                line.clear();
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let status = answer.load(Ordering::SeqCst);
            log.0.lock().unwrap().push((id, String::from_utf8(body).unwrap(), status));
            let _ = write!(stream, "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (port, received)
}

fn start(port: u16, db: &Db, hook: &str) -> Child {
    support::start_collector(port, db, KEY, &["--webhook", hook])
}

fn member(json: &Json, key: &str) -> Json {
    json.as_object().unwrap().iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or(Json::Null)
}

fn text(json: &Json, key: &str) -> String {
    match member(json, key) {
        Json::String(s) => s,
        other => panic!("{key}: {other:?}"),
    }
}

/// Receipt id number `n`.
fn id(n: u32) -> String {
    format!("r{n:032x}")
}

fn post(port: u16, claims: &assent_core::receipt::Claims) -> String {
    let jws = support::signed(claims);
    let (status, body) = support::http(port, KEY, "POST", "/v1/receipts", &jws).unwrap();
    assert_eq!(status, 201, "{body}");
    assent_jose::receipt_hash(&jws)
}

fn webhooks_deliver_each_withdrawal_and_expiry_once(db: Db) {
    let answer = Arc::new(AtomicU16::new(200));
    let (hook_port, received) = receiver(answer.clone());
    let hook = format!("http://127.0.0.1:{hook_port}/hook");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut collector = start(port, &db, &hook);
    let jwks = Json::parse(&support::http(port, KEY, "GET", "/.well-known/jwks.json", "").unwrap().1).unwrap();
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let (one, two, three) = ("1".repeat(32), "2".repeat(32), "3".repeat(32));

    // A withdrawal: one event, for the purpose it ended. The grant before it is not an event.
    let prev = post(port, &support::claims_for(&one, &id(1), now - 100, true, None));
    post(port, &support::claims_for(&one, &id(2), now - 50, false, Some(prev)));
    received.wait("the first withdrawal", |r| r.iter().any(|(_, _, status)| *status == 200));

    // A receiver that fails gets the next one again, with backoff; then the collector is killed.
    answer.store(503, Ordering::SeqCst);
    let prev = post(port, &support::claims_for(&two, &id(3), now - 100, true, None));
    post(port, &support::claims_for(&two, &id(4), now - 40, false, Some(prev)));
    received.wait("two failed tries of the second withdrawal", |r| r.iter().filter(|(_, _, s)| *s == 503).count() >= 2);
    assert!(Command::new("kill").args(["-KILL", &collector.id().to_string()]).status().unwrap().success());
    collector.wait().unwrap();

    // After the restart the receiver answers: the second withdrawal arrives, the first is not sent again.
    answer.store(200, Ordering::SeqCst);
    let mut collector = start(port, &db, &hook);
    received.wait("the second withdrawal after the restart", |r| r.iter().filter(|(_, _, s)| *s == 200).count() >= 2);

    // Consent that runs out: an expiry event once its `exp` has come.
    let mut expiring = support::claims_for(&three, &id(5), now - 10, true, None);
    expiring.expires_at = now + 2;
    post(port, &expiring);
    received.wait("the expiry", |r| r.iter().filter(|(_, _, s)| *s == 200).count() >= 3);

    let delivered: Vec<(String, Json)> = received
        .all()
        .into_iter()
        .filter(|(_, _, status)| *status == 200)
        .map(|(id, body, _)| {
            let payload = assent_jose::verify_with_jwks(&body, &jwks, assent_jose::EVENT_TYPE)
                .unwrap_or_else(|e| panic!("an event that does not verify against the JWKS: {e}"));
            let payload = Json::parse(&payload).unwrap();
            assert_eq!(text(&payload, "id"), id, "the Assent-Event-Id header is the event's id");
            (id, payload)
        })
        .collect();
    let summary: Vec<(String, String, String)> =
        delivered.iter().map(|(_, p)| (text(p, "event"), text(p, "subject"), text(p, "receipt"))).collect();
    assert_eq!(
        summary,
        [
            ("withdrawal".to_string(), one.clone(), id(2)),
            ("withdrawal".to_string(), two.clone(), id(4)),
            ("expiry".to_string(), three.clone(), id(5)),
        ],
        "each change delivered once, in order, none lost or doubled across the SIGKILL"
    );
    for (_, payload) in &delivered {
        assert_eq!(member(payload, "purposes"), Json::Array(vec![Json::String("analytics".into())]));
        assert_eq!(text(payload, "scope"), "site");
    }
    let failed: Vec<String> = received.all().into_iter().filter(|(_, _, s)| *s == 503).map(|(id, _, _)| id).collect();
    let second = &delivered[1].0;
    assert!(failed.iter().all(|id| id == second), "only the second withdrawal was tried while the receiver failed");
    let expiry_at =
        time::OffsetDateTime::parse(&text(&delivered[2].1, "at"), &time::format_description::well_known::Rfc3339)
            .unwrap()
            .unix_timestamp();
    assert_eq!(expiry_at, i64::try_from(now + 2).unwrap(), "the expiry is at the receipt's exp");
    collector.kill().unwrap();
    collector.wait().unwrap();
}

#[test]
fn webhooks_deliver_each_withdrawal_and_expiry_once_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    webhooks_deliver_each_withdrawal_and_expiry_once(Db::Sqlite(dir.path().join("hooks.sqlite")));
}

#[test]
fn webhooks_deliver_each_withdrawal_and_expiry_once_on_postgres() {
    if let Some(db) = support::postgres_database("assent_hooks") {
        webhooks_deliver_each_withdrawal_and_expiry_once(db);
    }
}
