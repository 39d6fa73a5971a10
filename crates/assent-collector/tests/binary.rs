//! The `assent-collector` binary as an operator runs it. Guards: with `--log-format json` every log
//! line is one JSON object (a log pipeline parses them), and SIGTERM (what `docker stop`, systemd and
//! Kubernetes send) stops it cleanly with exit status 0 instead of killing it mid-request.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use assent_core::json::Json;

/// The string member `key` of a JSON log line.
fn field(line: &Json, key: &str) -> Option<String> {
    line.as_object()?.iter().find(|(k, _)| k == key).and_then(|(_, v)| match v {
        Json::String(s) => Some(s.clone()),
        _ => None,
    })
}

type Lines = std::io::Lines<BufReader<std::process::ChildStdout>>;

/// Starts the collector on a free port with `args` and a database in `dir`; its log lines follow.
fn serve(dir: &std::path::Path, args: &[&std::ffi::OsStr]) -> (std::process::Child, u16, Lines) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_assent-collector"))
        .args(["--listen", &format!("127.0.0.1:{port}"), "--db"])
        .arg(dir.join(format!("{port}.sqlite")))
        .args(args)
        // (RUST_LOG=warn would hide the ready line; the others would change the format or add keys.)
        .env_remove("RUST_LOG")
        .env_remove("DATABASE_URL")
        .env_remove("ASSENT_LOG_FORMAT")
        .env_remove("ASSENT_SIGNING_KEY_FILE")
        .env_remove("ASSENT_RETIRED_KEY_FILES")
        .env_remove("ASSENT_PUBLISH_DATABASE_KEY")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    (child, port, lines)
}

/// One HTTP/1.1 request to the collector over real TCP; the whole answer.
fn http(port: u16, request: &[u8]) -> String {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(request).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn json_logs_and_a_clean_stop_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, port, mut lines) = serve(dir.path(), &["--log-format".as_ref(), "json".as_ref()]);
    let mut next = || {
        let text = lines.next().expect("a log line").unwrap();
        Json::parse(&text).unwrap_or_else(|e| panic!("not one JSON object per line ({e}): {text}"))
    };
    let ready = next();
    assert_eq!(field(&ready, "message").as_deref(), Some("assent-collector ready"));
    assert_eq!(field(&ready, "level").as_deref(), Some("INFO"));
    assert_eq!(
        field(&ready, "listen"),
        Some(format!("127.0.0.1:{port}")),
        "the event's fields are members of the object"
    );

    // A refused receipt is logged with its reason, as JSON too.
    let answer = http(port, b"POST /v1/receipts HTTP/1.1\r\nhost: x\r\ncontent-type: text/plain\r\ncontent-length: 9\r\nconnection: close\r\n\r\nnot.a.jws");
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    let refused = next();
    assert_eq!(field(&refused, "message").as_deref(), Some("receipt refused"));
    assert!(field(&refused, "reason").is_some_and(|r| r.contains("base64")), "{}", refused.canonical());

    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "still running 10 s after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "SIGTERM is a clean stop: {status}");
    assert_eq!(field(&next(), "message").as_deref(), Some("stopping: finishing the requests in flight"));
    assert_eq!(field(&next(), "message").as_deref(), Some("assent-collector stopped"));
}

/// The JWKS of a collector started with `args`, over real HTTP; then stops it.
fn jwks_of(dir: &std::path::Path, args: &[&std::ffi::OsStr]) -> String {
    let (mut child, port, mut lines) = serve(dir, args);
    assert!(lines.next().unwrap().unwrap().contains("assent-collector ready"));
    let answer = http(port, b"GET /.well-known/jwks.json HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    child.kill().unwrap();
    child.wait().unwrap();
    answer
}

/// `--signing-key` reads a PKCS#8 PEM Ed25519 key (RFC 8410's example) and publishes its public half;
/// `--retired-key` keeps an earlier key published; a file that is not a key stops the collector with a
/// message that says how to make one.
#[test]
fn signing_and_retired_key_files_are_read_and_published() {
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("collector.pem");
    std::fs::write(&pem, "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n").unwrap();
    // RFC 8410, 10.3: the public key of that private key.
    let rfc_x = "\"x\":\"Gb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE\"";
    let answer = jwks_of(dir.path(), &["--signing-key".as_ref(), pem.as_os_str()]);
    assert!(answer.contains(rfc_x), "{answer}");
    assert_eq!(answer.matches("\"kid\"").count(), 1, "a new database holds no key of its own: {answer}");

    // After a rotation: the earlier key's public half (as SPKI PEM) stays published beside the key
    // that signs now (here the database's).
    let public = dir.path().join("old.pub.pem");
    std::fs::write(&public, "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n").unwrap();
    let answer = jwks_of(dir.path(), &["--retired-key".as_ref(), public.as_os_str()]);
    assert_eq!(answer.matches("\"kid\"").count(), 2, "the database's key, then the retired one: {answer}");
    assert!(answer.contains(rfc_x), "{answer}");

    std::fs::write(&pem, "not a key").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_assent-collector"))
        .args(["--listen", "127.0.0.1:0", "--signing-key"])
        .arg(&pem)
        .arg("--db")
        .arg(dir.path().join("other.sqlite"))
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("not an Ed25519 private key in PKCS#8 PEM")
            && stderr.contains("openssl genpkey -algorithm ed25519"),
        "{stderr}"
    );
}
