//! `cargo xtask bench feed`: how long a withdrawal takes to reach the example consumer
//! (examples/withdrawal-consumer/consumer.py) on loopback, from the moment its receipt is posted to the
//! collector binary until the consumer has quarantined the subject's rows and recorded the action in
//! its SQLite file. The consumer waits in a long poll of `GET /v1/changes`, as it does in production.
//!
//! Each round posts a real grant of AI training for a new subject, gives the subject a row in the
//! consumer's `messages`, then posts the withdrawal and times it. Median, 90th percentile and maximum
//! of `ROUNDS` rounds.

#[path = "../tests/support/mod.rs"]
mod support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use assent_core::receipt::Claims;

const ROUNDS: usize = 40;
const KEY: &str = "bench-key";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Site-wide claims for subject number `round` with AI training granted or withdrawn.
fn ai_training(round: usize, n: u8, iat: u64, granted: bool, prev: Option<String>) -> Claims {
    let subject = format!("{:032x}", round + 1);
    let mut c = support::claims_for(&subject, &format!("r{:030x}{n:02x}", round + 1), iat, true, prev);
    c.purposes.iter_mut().filter(|p| p.id == "ai_training").for_each(|p| p.granted = granted);
    c.method = if granted { assent_core::Method::PreferencesSaved } else { assent_core::Method::Withdrawal };
    c
}

/// Kills the collector and the consumer however `main` ends, so that a failed run leaves nothing behind.
struct Children(Vec<Child>);

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn post(port: u16, jws: &str) {
    let answer = support::http(port, KEY, "POST", "/v1/receipts", jws);
    assert!(answer.as_ref().is_some_and(|(status, _)| *status == 201), "the collector answered {answer:?}");
}

fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let started = Instant::now();
    while !ready() {
        assert!(started.elapsed() < Duration::from_secs(20), "{what} within 20 s");
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let binary = std::env::current_exe().unwrap().parent().and_then(|p| p.parent()).unwrap().join("assent-collector");
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut children = Children(Vec::new());
    let collector: Child = Command::new(&binary)
        .args(["--listen", &format!("127.0.0.1:{port}"), "--api-key", KEY])
        .arg("--db")
        .arg(dir.path().join("receipts.sqlite"))
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the collector binary (cargo xtask bench feed builds it)");
    children.0.push(collector);
    wait_until("the collector listens", || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    let data = dir.path().join("data.sqlite");
    let consumer = Command::new("python3")
        .arg(root.join("examples/withdrawal-consumer/consumer.py"))
        .args(["--collector", &format!("http://127.0.0.1:{port}"), "--api-key", KEY, "--db"])
        .arg(&data)
        .stdout(Stdio::null())
        .spawn()
        .expect("python3");
    children.0.push(consumer);
    let db = || rusqlite::Connection::open(&data).unwrap();
    wait_until("the consumer made its tables", || {
        data.exists() && db().query_row("SELECT count(*) FROM feed", [], |r| r.get::<_, i64>(0)).is_ok()
    });
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let mut times = Vec::new();
    for round in 0..ROUNDS {
        let subject = format!("{:032x}", round + 1);
        let grant = support::signed(&ai_training(round, 1, now - 10, true, None));
        let withdrawal =
            support::signed(&ai_training(round, 2, now - 5, false, Some(assent_jose::receipt_hash(&grant))));
        post(port, &grant);
        db().execute(
            "INSERT INTO messages (subject, conversation, timestamp, text) VALUES (?1, NULL, ?2, 'a message')",
            rusqlite::params![subject, now as i64],
        )
        .unwrap();
        // The consumer has read the grant (it ends nothing) and waits in a long poll again.
        let cursor = ((round + 1) * 2 - 1).to_string();
        wait_until("the consumer reads the grant", || {
            db().query_row("SELECT cursor FROM feed", [], |r| r.get::<_, String>(0)).is_ok_and(|c| c == cursor)
        });
        std::thread::sleep(Duration::from_millis(50));
        let started = Instant::now();
        post(port, &withdrawal);
        let acted = || {
            db().query_row("SELECT count(*) FROM actions WHERE subject = ?1", [&subject], |r| r.get::<_, i64>(0))
                .is_ok_and(|n| n == 1)
        };
        wait_until("the consumer quarantines the rows", acted);
        times.push(started.elapsed());
    }
    drop(children);
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "withdrawal posted → rows quarantined by the example consumer, loopback, {ROUNDS} rounds: p50 {:.1} ms, p90 {:.1} ms, max {:.1} ms",
        ms(times[ROUNDS / 2]),
        ms(times[ROUNDS * 9 / 10]),
        ms(times[ROUNDS - 1])
    );
}
