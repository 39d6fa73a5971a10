//! The `assent` binary on a fixture exported from a real run (`tests/e2e/make-cli-fixture.mjs`):
//! Chromium refused everything, opted in to AI training, then opted out again.

use std::path::PathBuf;
use std::process::{Command, Output};

use assent_core::json::Json;
use assent_core::receipt::{gate, Claims, Evidence};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn assent(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_assent")).args(args).output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The fixture's three receipts as bare JWS lines, in arrival order: refused, AI training granted,
/// AI training withdrawn.
fn fixture_jws() -> Vec<String> {
    let export = std::fs::read_to_string(fixture("export.json")).unwrap();
    export.split("\"jws\": \"").skip(1).map(|s| s.split('"').next().unwrap().to_string()).collect()
}

/// The claims of the fixture's receipt `n`.
fn fixture_claims(n: usize) -> Claims {
    let payload = B64.decode(fixture_jws()[n].split('.').nth(1).unwrap()).unwrap();
    Claims::from_canonical_json(&String::from_utf8(payload).unwrap()).unwrap()
}

/// `claims` signed as a browser signs a receipt, with a test key of its own (from `seed`): the
/// browser's key cannot leave the browser.
fn signed(seed: u8, claims: &Claims) -> String {
    dataset::sign(&ed25519_dalek::SigningKey::from_bytes(&[seed; 32]), claims)
}

#[test]
fn verify_accepts_a_real_export() {
    let out = assent(&["verify", fixture("export.json").to_str().unwrap()]);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "ok: 3 receipts of 1 subjects; every signature verifies and every chain is intact\n(3 acknowledgments not checked: pass --jwks with the collector's /.well-known/jwks.json)\n"
    );
}

/// `--jwks` checks the collector's countersignature on every exported row against its published key.
#[test]
fn verify_checks_the_collectors_acknowledgments_against_its_jwks() {
    let (export, jwks) = (fixture("export.json"), fixture("jwks.json"));
    let out = assent(&["verify", export.to_str().unwrap(), "--jwks", jwks.to_str().unwrap()]);
    assert!(out.status.success(), "{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "ok: 3 receipts of 1 subjects; every signature verifies and every chain is intact; 3 acknowledgments verify against the JWKS\n"
    );
    let plain = assent(&["verify", export.to_str().unwrap()]);
    assert!(text(&plain.stdout).contains("(3 acknowledgments not checked: pass --jwks"), "{}", text(&plain.stdout));

    let dir = tempfile::tempdir().unwrap();
    let original = std::fs::read_to_string(&export).unwrap();
    let acks: Vec<&str> = original.split("\"ack\": \"").skip(1).map(|s| s.split('"').next().unwrap()).collect();
    let run = |export: &str, jwks: &std::path::Path| {
        let path = dir.path().join("export.json");
        std::fs::write(&path, export).unwrap();
        let out = assent(&["verify", path.to_str().unwrap(), "--jwks", jwks.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
        text(&out.stdout)
    };
    // Another receipt's ack: signed by the collector, but not for this receipt.
    let swapped = original.replacen(acks[0], "SWAP", 1).replacen(acks[1], acks[0], 1).replacen("SWAP", acks[1], 1);
    let stdout = run(&swapped, &jwks);
    assert!(
        stdout.contains(
            "ack signed by the collector, but its receipt is not this receipt's hash, its id is not this receipt's id"
        ),
        "{stdout}"
    );
    assert!(stdout.ends_with("2 of 3 receipts failed\n"), "{stdout}");
    // A row the collector would not countersign (it no longer verified as stored).
    let stdout = run(&original.replacen(&format!("\"{}\"", acks[2]), "null", 1), &jwks);
    assert!(stdout.contains("no ack: the collector did not countersign this row"), "{stdout}");
    // A row whose ack was deleted altogether fails too; it used to pass, with one ack fewer counted.
    let stdout = run(&original.replacen(&format!("\"ack\": \"{}\",", acks[1]), "", 1), &jwks);
    assert!(stdout.contains("no ack:") && stdout.ends_with("1 of 3 receipts failed\n"), "{stdout}");
    // A row whose time of receipt was edited: the ack says otherwise.
    let stdout = run(
        &original.replacen("\"receivedAt\": \"2026-11-23T03:38:02Z\"", "\"receivedAt\": \"2026-11-23T03:38:01Z\"", 1),
        &jwks,
    );
    assert!(
        stdout.contains("receivedAt differs from the row's receivedAt") && stdout.ends_with("1 of 3 receipts failed\n"),
        "{stdout}"
    );
    // The JWKS of another collector.
    let other = dir.path().join("other-jwks.json");
    std::fs::write(
        &other,
        r#"{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"other","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#,
    )
    .unwrap();
    let stdout = run(&original, &other);
    assert!(stdout.contains("is not an Ed25519 key in the JWKS"), "{stdout}");
}

/// With `--jwks`, every receipt needs the collector's acknowledgment: a bare JWS line beside an export fails.
/// It used to pass without one ("3 acknowledgments verify" over 4 receipts), so a receipt the collector never
/// saw could be slipped in.
#[test]
fn verify_with_jwks_fails_a_receipt_that_is_not_an_export_row() {
    let mut claims = fixture_claims(0);
    claims.subject = "1".repeat(32);
    claims.id = format!("r{}", "1".repeat(32));
    let bare = signed(6, &claims);
    let export = std::fs::read_to_string(fixture("export.json")).unwrap().replace('\n', "");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.jsonl");
    std::fs::write(&path, format!("{export}\n{bare}\n")).unwrap();
    let out = assent(&["verify", path.to_str().unwrap(), "--jwks", fixture("jwks.json").to_str().unwrap()]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(&format!("FAIL {}: not a row of a collector export", claims.id))
            && stdout.ends_with("1 of 4 receipts failed\n"),
        "{stdout}"
    );
    // Without --jwks it is a valid receipt of another subject.
    assert!(assent(&["verify", path.to_str().unwrap()]).status.success());
}

/// Guards `verify` against passing a history that is not the subject's: a receipt signed with another
/// key than the subject's first receipt's (anyone who learns a subject id can post one) was reported
/// as verified, while the gate and `filter` treat it as someone else's.
#[test]
fn verify_names_a_receipt_signed_with_another_key_than_the_subjects() {
    let jws = fixture_jws();
    // The third receipt, re-signed with a key of someone else's (same claims, same prev).
    let forged = signed(7, &fixture_claims(2));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("receipts.jsonl");
    std::fs::write(&path, [&jws[0], &jws[1], &forged].map(String::as_str).join("\n")).unwrap();
    let out = assent(&["verify", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("not subject") && stdout.contains("own key") && stdout.contains("it can refuse, never grant"),
        "{stdout}"
    );
    assert!(stdout.ends_with("1 of 3 receipts failed\n"), "{stdout}");
}

#[test]
fn verify_names_each_tampered_or_missing_receipt() {
    let export = std::fs::read_to_string(fixture("export.json")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Flip the refusal in the first receipt's payload: its signature no longer verifies, and the
    // chain after it breaks too (the second receipt names the original's hash).
    let jws: Vec<&str> = export.split("\"jws\": \"").skip(1).map(|s| s.split('"').next().unwrap()).collect();
    let first_payload = jws[0].split('.').nth(1).unwrap();
    let mut tampered_payload = first_payload.to_string();
    let flip = tampered_payload.pop().map(|c| if c == 'A' { 'B' } else { 'A' }).unwrap();
    tampered_payload.push(flip);
    let path = dir.path().join("tampered.jsonl");
    let lines = [jws[0].replacen(first_payload, &tampered_payload, 1), jws[1].to_string(), jws[2].to_string()];
    std::fs::write(&path, lines.join("\n")).unwrap();
    let out = assent(&["verify", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("FAIL ") && stdout.contains("bad signature"), "{stdout}");
    assert!(stdout.contains("chain broken for subject"), "{stdout}");
    assert!(stdout.ends_with("2 of 3 receipts failed\n"), "{stdout}");

    // A receipt missing from the middle: the chain break names the receipt after the gap.
    std::fs::write(&path, [jws[0], jws[2]].join("\n")).unwrap();
    let out = assent(&["verify", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("chain broken"), "{}", text(&out.stdout));
}

#[test]
fn filter_keeps_only_records_made_while_ai_training_was_granted() {
    let out = assent(&[
        "filter",
        "--purpose",
        "ai_training",
        "--receipts",
        fixture("export.json").to_str().unwrap(),
        fixture("transcripts.jsonl").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let kept: Vec<String> = text(&out.stdout)
        .lines()
        .map(|l| l.split("\"text\":\"").nth(1).unwrap().split('"').next().unwrap().to_string())
        .collect();
    assert_eq!(
        kept,
        ["after opting in to AI training", "RFC 3339 time, opted in", "stamped, milliseconds, no subject field"]
    );
    let summary = text(&out.stderr);
    assert!(summary.contains("kept 3 of 10 records for purpose `ai_training`"), "{summary}");
    // A record stamped `do_not_train: true` is dropped whatever the receipts say at the
    // record's time (its time field may be an ingestion time, or the opt-out's receipt may be missing).
    assert!(
        summary.contains("dropped 7: 4 without `ai_training` granted at their time, 1 stamped `do_not_train`, 0 stamped `Content-Usage: train-ai=n`, 1 without a subject, 0 without a readable time, 0 with a conversation id that is not one, 1 not JSON"),
        "{summary}"
    );
}

fn filter(receipts: &str, data: &str, dir: &std::path::Path) -> (String, String) {
    let (r, d) = (dir.join("receipts.jsonl"), dir.join("data.jsonl"));
    std::fs::write(&r, receipts).unwrap();
    std::fs::write(&d, data).unwrap();
    let out = assent(&["filter", "--purpose", "ai_training", "--receipts", r.to_str().unwrap(), d.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    (text(&out.stdout), text(&out.stderr))
}

/// A receipt found in several exports (one per endpoint) is weighed once. Every copy used to be weighed, so
/// a copy of the grant from an export that missed the withdrawal came after it and decided again: a record
/// made after the opt-out was kept for training.
#[test]
fn filter_counts_a_receipt_once_when_exports_overlap() {
    let jws = fixture_jws();
    let dir = tempfile::tempdir().unwrap();
    let after =
        r#"{"subject":"abe19afaace770a2d4ae56c7c8ee4660","timestamp":1795405086,"text":"after opting out again"}"#;
    // Endpoint A's export has all three; endpoint B's missed the withdrawal.
    let (kept, summary) =
        filter(&[&jws[0], &jws[1], &jws[2], &jws[0], &jws[1]].map(String::as_str).join("\n"), after, dir.path());
    assert_eq!(kept, "", "{summary}");
    assert!(summary.contains("counted 2 receipts once that appear again"), "{summary}");
}

/// Overlapping exports are ordered by their chain, not by where a receipt first appears in the file. It used
/// to count where it first appeared: an endpoint added after the grant holds only the withdrawal; listed
/// first, its copy came before the grant, the grant became the latest, and a record made after the opt-out
/// was kept for training.
#[test]
fn filter_orders_overlapping_exports_by_their_chain() {
    let jws = fixture_jws();
    let dir = tempfile::tempdir().unwrap();
    let after =
        r#"{"subject":"abe19afaace770a2d4ae56c7c8ee4660","timestamp":1795405086,"text":"after opting out again"}"#;
    // The new endpoint's export (the withdrawal only), then the old endpoint's (all three).
    let (kept, summary) =
        filter(&[&jws[2], &jws[0], &jws[1], &jws[2]].map(String::as_str).join("\n"), after, dir.path());
    assert_eq!(kept, "", "{summary}");
    assert!(summary.contains("counted 1 receipts once that appear again"), "{summary}");
}

/// The runs of a chain with a gap are ordered by when their first receipts were received: a receipt after a
/// gap (its predecessor is in no export) starts a run. It used to be placed by the file's order: with the
/// new endpoint's export (the re-grant after the gap and the withdrawal) listed first, the old grant came
/// last and decided, and a record made after the opt-out was kept.
#[test]
fn filter_orders_the_runs_of_a_chain_with_a_gap_by_when_they_were_received() {
    let dir = tempfile::tempdir().unwrap();
    let (granted, withdrawn) = (fixture_claims(1), fixture_claims(2));
    let r1 = signed(9, &Claims { prev: None, ..granted.clone() });
    let r3 = signed(
        9,
        &Claims {
            id: format!("r{}", "3".repeat(32)),
            prev: Some("f".repeat(64)),
            issued_at: granted.issued_at + 1,
            ..granted.clone()
        },
    );
    let r4 = signed(9, &Claims { prev: Some(assent_jose::receipt_hash(&r3)), ..withdrawn.clone() });
    let row = |jws: &str, at: &str| format!(r#"{{"jws":"{jws}","receivedAt":"{at}"}}"#);
    let (t1, t3, t4) = ("2026-11-23T03:38:02Z", "2026-11-23T03:38:04Z", "2026-11-23T03:38:06Z");
    let new_endpoint = format!(r#"{{"receipts":[{},{}]}}"#, row(&r3, t3), row(&r4, t4));
    let old_endpoint = format!(r#"{{"receipts":[{},{},{}]}}"#, row(&r1, t1), row(&r3, t3), row(&r4, t4));
    let after = format!(
        r#"{{"subject":"{}","timestamp":{},"text":"after opting out again"}}"#,
        withdrawn.subject,
        withdrawn.issued_at + 60
    );
    let (kept, summary) = filter(&[new_endpoint, old_endpoint].join("\n"), &after, dir.path());
    assert_eq!(kept, "", "{summary}");
}

/// A numeric conversation id is read, so the conversation's own choice judges its messages; an id that is
/// there but unusable drops the record. A numeric id used to be ignored, so the site-wide choice judged a
/// message of a conversation whose own choice refused.
#[test]
fn filter_reads_a_numeric_conversation_id_and_drops_an_unusable_one() {
    // The fixture's site-wide AI-training grant, and conversation 48213's own refusal after it, both
    // signed with one test key.
    let granted = fixture_claims(1);
    assert_eq!(granted.granted("ai_training"), Some(true));
    let mut refused = granted.clone();
    refused.id = format!("r{}", "4".repeat(32));
    refused.scope = Some("conversation:48213".into());
    refused.purposes.retain(|p| p.id == "ai_training");
    refused.purposes[0].granted = false;
    let receipts = [signed(5, &granted), signed(5, &refused)].join("\n");
    let at = granted.issued_at + 1;
    let records = [
        format!(r#"{{"subject":"{}","timestamp":{at},"conversation":48213,"text":"numeric id"}}"#, granted.subject),
        format!(
            r#"{{"subject":"{}","timestamp":{at},"conversation":"7","text":"another conversation"}}"#,
            granted.subject
        ),
        format!(r#"{{"subject":"{}","timestamp":{at},"conversation":{{"id":1}},"text":"object id"}}"#, granted.subject),
        format!(r#"{{"subject":"{}","timestamp":{at},"conversation":"has space","text":"bad id"}}"#, granted.subject),
    ]
    .join("\n");
    let dir = tempfile::tempdir().unwrap();
    let (kept, summary) = filter(&receipts, &records, dir.path());
    assert!(!kept.contains("numeric id"), "conversation 48213 refused: {summary}");
    assert!(kept.contains("another conversation"), "the site-wide grant decides elsewhere: {summary}");
    assert!(
        summary.contains("kept 1 of 4") && summary.contains("2 with a conversation id that is not one"),
        "{summary}"
    );
}

#[test]
fn config_check_names_the_field() {
    let demo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../web/demo/assent.json");
    let out = assent(&["config", "check", demo.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(text(&out.stdout).ends_with("valid (6 purposes, 4 region rules)\n"), "{}", text(&out.stdout));
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("assent.json");
    let text_in = std::fs::read_to_string(&demo).unwrap().replace("\"id\": \"replay\"", "\"id\": \"Replay\"");
    std::fs::write(&bad, text_in).unwrap();
    let out = assent(&["config", "check", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("config: purposes[3].id: `Replay` must be lowercase snake_case"),
        "{}",
        text(&out.stdout)
    );
}

#[path = "support/dataset.rs"]
mod dataset;

/// `--field N` of a JSON line, as text (numbers and strings without quotes).
fn json_field(line: &str, name: &str) -> Option<String> {
    let json = Json::parse(line).ok()?;
    match json.as_object()?.iter().find(|(k, _)| k == name)?.1.clone() {
        Json::String(s) | Json::Number(s) => Some(s),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The interval table, the collector's gate rule and `assent filter` keep exactly the same records of a
/// synthetic set made from real signed receipts: grants, withdrawals, expiries, conversation toggles
/// and a notice change. The interval table is joined the way the SQL and Spark recipes join it: a
/// record in a conversation uses that conversation's rows when it has any, else the site's.
#[test]
fn filter_the_interval_table_and_the_gate_keep_exactly_the_same_records() {
    let dir = tempfile::tempdir().unwrap();
    dataset::write(dir.path(), 400, 20_000, 7);
    let (receipts, records) = (dir.path().join("receipts.jsonl"), dir.path().join("records.jsonl"));
    let (receipts, records) = (receipts.to_str().unwrap(), records.to_str().unwrap());
    let lines: Vec<String> = std::fs::read_to_string(records).unwrap().lines().map(str::to_string).collect();
    let record = |line: &str| {
        let id: u64 = json_field(line, "id").unwrap().parse().unwrap();
        let at: u64 = json_field(line, "timestamp").unwrap().parse().unwrap();
        let scope = json_field(line, "conversation").map(|c| format!("conversation:{c}"));
        (id, json_field(line, "subject").unwrap(), at, scope)
    };
    // What `stamp()` said when the record was sent wins over the receipts: a stamped opt-out drops it.
    let stamped: std::collections::HashSet<u64> =
        lines.iter().filter(|l| l.contains(r#""do_not_train":true"#)).map(|l| record(l).0).collect();
    assert!(stamped.len() > 500, "the set has stamped records: {}", stamped.len());

    // 1. `assent filter`.
    let out = assent(&["filter", "--purpose", "ai_training", "--receipts", receipts, records]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let by_filter: Vec<u64> = text(&out.stdout).lines().map(|l| record(l).0).collect();

    // 2. The gate itself, over each subject's receipts in their chain's order.
    let mut chains: std::collections::HashMap<String, Vec<(Claims, String)>> = Default::default();
    for jws in std::fs::read_to_string(receipts).unwrap().lines() {
        let v = assent_jose::verify(jws).unwrap();
        let claims = Claims::from_canonical_json(&v.payload).unwrap();
        chains.entry(claims.subject.clone()).or_default().push((claims, v.key_thumbprint));
    }
    let by_gate: Vec<u64> = lines
        .iter()
        .map(|l| record(l))
        .filter(|(_, subject, at, scope)| {
            let evidence: Vec<Evidence<'_>> =
                chains[subject].iter().map(|(claims, key)| Evidence { claims, key, received_at: None }).collect();
            gate(&evidence, "ai_training", *at, scope.as_deref()).granted
        })
        .filter(|(id, ..)| !stamped.contains(id))
        .map(|(id, ..)| id)
        .collect();

    // 3. `assent intervals`, joined as the recipes join it.
    let out = assent(&["intervals", "--purpose", "ai_training", "--receipts", receipts]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // (subject, scope) -> its spans: (valid_from, valid_until, granted).
    type Spans = Vec<(u64, Option<u64>, bool)>;
    let mut table: std::collections::HashMap<(String, String), Spans> = Default::default();
    let (mut reasons, mut deciders) = (std::collections::BTreeSet::new(), std::collections::BTreeSet::new());
    for row in text(&out.stdout).lines() {
        let from = json_field(row, "valid_from").unwrap().parse().unwrap();
        let until = json_field(row, "valid_until").map(|t| t.parse().unwrap());
        let granted = json_field(row, "granted").unwrap() == "true";
        let scope = json_field(row, "scope").unwrap();
        reasons.insert(json_field(row, "reason").unwrap());
        deciders.insert((
            scope.starts_with("conversation:"),
            json_field(row, "decided_in").unwrap() == "site",
            granted,
        ));
        table.entry((json_field(row, "subject").unwrap(), scope)).or_default().push((from, until, granted));
    }
    let by_table: Vec<u64> = lines
        .iter()
        .map(|l| record(l))
        .filter(|(_, subject, at, scope)| {
            let own = scope.as_ref().and_then(|s| table.get(&(subject.clone(), s.clone())));
            let rows = own.or_else(|| table.get(&(subject.clone(), "site".into())));
            rows.into_iter()
                .flatten()
                .any(|&(from, until, granted)| granted && from <= *at && until.is_none_or(|u| *at < u))
        })
        .filter(|(id, ..)| !stamped.contains(id))
        .map(|(id, ..)| id)
        .collect();

    // 4. `assent filter --intervals`, judging by the table instead of the receipts.
    let table_file = dir.path().join("intervals.ndjson");
    std::fs::write(&table_file, &out.stdout).unwrap();
    let out = assent(&["filter", "--purpose", "ai_training", "--intervals", table_file.to_str().unwrap(), records]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let by_filter_table: Vec<u64> = text(&out.stdout).lines().map(|l| record(l).0).collect();

    for (what, kept) in [
        ("assent filter", &by_filter),
        ("the interval table", &by_table),
        ("assent filter --intervals", &by_filter_table),
    ] {
        let differ: Vec<&u64> = kept
            .iter()
            .filter(|id| !by_gate.contains(id))
            .chain(by_gate.iter().filter(|id| !kept.contains(id)))
            .take(10)
            .collect();
        assert!(
            kept == &by_gate,
            "{what} keeps {} records, the gate {}; first that differ: {differ:?}",
            kept.len(),
            by_gate.len()
        );
    }
    // The set exercises every rule: some kept and many dropped, for each reason, and conversations
    // both overriding the site-wide choice and falling back to it.
    assert!((1_000..19_000).contains(&by_gate.len()), "kept {}", by_gate.len());
    for reason in ["granted", "refused", "expired"] {
        assert!(reasons.contains(reason), "no span {reason}: {reasons:?}");
    }
    for (conversation, site_decides, granted) in
        [(true, false, true), (true, false, false), (true, true, true), (true, true, false)]
    {
        assert!(
            deciders.contains(&(conversation, site_decides, granted)),
            "no conversation span with decided_in site={site_decides}, granted={granted}"
        );
    }
}

/// The interval table of the real export: refused everything, then AI training granted, then withdrawn.
/// Each row is a span of the gate's answer, with the receipt, notice version and method that decided it.
#[test]
fn intervals_lists_each_span_of_consent_with_the_receipt_that_decided_it() {
    let out =
        assent(&["intervals", "--purpose", "ai_training", "--receipts", fixture("export.json").to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let c: Vec<Claims> = (0..3).map(fixture_claims).collect();
    let row = |n: usize, granted: bool, until: Option<u64>, reason: &str| {
        format!(
            r#"{{"subject":"{}","purpose":"ai_training","scope":"site","granted":{granted},"valid_from":{},"valid_until":{},"receipt":"{}","notice_version":"{}","method":"{}","decided_in":"site","reason":"{reason}"}}"#,
            c[n].subject,
            c[n].issued_at,
            until.map_or("null".to_string(), |t| t.to_string()),
            c[n].id,
            c[n].notice_version,
            c[n].method.as_str(),
        )
    };
    let expected = [
        row(0, false, Some(c[1].issued_at), "refused"),
        row(1, true, Some(c[2].issued_at), "granted"),
        // A refusal stays a refusal after it expires: the last span is open.
        row(2, false, None, "refused"),
    ];
    let lines: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    assert_eq!(lines, expected.iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(text(&out.stderr), "assent intervals: 3 spans for purpose `ai_training` over 1 subjects\n");
}

/// A record stamped `Content-Usage: train-ai=n` (the AIPREF vocabulary `assent.stamp()` writes next to
/// `do_not_train`) is dropped for AI training whatever the receipts say; `train-ai=y` or a value that says
/// nothing of training leaves the receipts to judge.
#[test]
fn filter_drops_records_stamped_content_usage_train_ai_n() {
    let dir = tempfile::tempdir().unwrap();
    let granted = fixture_claims(1);
    let at = granted.issued_at + 1;
    let record = |text: &str, usage: &str| {
        format!(
            r#"{{"subject":"{}","timestamp":{at},"text":"{text}","assent":{{"content_usage":"{usage}"}}}}"#,
            granted.subject
        )
    };
    let data = [
        record("no", "train-ai=n"),
        record("yes", "train-ai=y"),
        record("search only", "search=n"),
        record("both, last wins", "train-ai=y, train-ai=n"),
    ]
    .join("\n");
    let (kept, summary) = filter(&fixture_jws().join("\n"), &data, dir.path());
    let kept: Vec<String> = kept.lines().map(|l| json_field(l, "text").unwrap()).collect();
    assert_eq!(kept, ["yes", "search only"], "{summary}");
    assert!(summary.contains("2 stamped `Content-Usage: train-ai=n`"), "{summary}");
}

/// `--manifest` signs a record of the run: purpose, time, input and output hashes, counts by reason,
/// and each receipt relied on with its subject. `assent verify --manifest` accepts it against the input,
/// the output, the receipts and the signer's JWKS, and names any change to any of them.
#[test]
fn a_signed_manifest_records_the_run_and_verify_names_any_change() {
    use ed25519_dalek::pkcs8::EncodePrivateKey;
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let key = ed25519_dalek::SigningKey::from_bytes(&[5; 32]);
    std::fs::write(path("key.pem"), key.to_pkcs8_pem(Default::default()).unwrap().as_bytes()).unwrap();
    let (export, data) = (fixture("export.json"), fixture("transcripts.jsonl"));
    let (export, data) = (export.to_str().unwrap(), data.to_str().unwrap());
    let out = assent(&[
        "filter",
        "--purpose",
        "ai_training",
        "--receipts",
        export,
        data,
        "--manifest",
        &path("run.json"),
        "--signing-key",
        &path("key.pem"),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    std::fs::write(path("kept.jsonl"), &out.stdout).unwrap();
    let run = std::fs::read_to_string(path("run.json")).unwrap();
    let file = Json::parse(&run).unwrap();
    let manifest = file.as_object().unwrap().iter().find(|(k, _)| k == "manifest").unwrap().1.canonical();
    let granted = fixture_claims(1);
    // Who was in the run, and under which consent: the receipt that granted AI training kept 3 records.
    assert!(
        manifest.contains(&format!(
            r#""reliedOn":[{{"receipt":"{}","records":3,"scope":"site","subject":"{}"}}]"#,
            granted.id, granted.subject
        )),
        "{manifest}"
    );
    assert!(manifest.contains(r#""dropped":{"bad_conversation":0,"content_usage":0,"do_not_train":1,"no_consent":4,"no_subject":1,"no_time":0,"not_json":1}"#), "{manifest}");
    assert!(
        manifest.contains(r#""output":{"hashed":"file","records":3,"#)
            && manifest.contains(r#""input":{"hashed":"file","records":10,"#),
        "{manifest}"
    );
    assert!(
        manifest.contains(r#""purpose":"ai_training""#) && manifest.contains(r#""type":"training-run""#),
        "{manifest}"
    );

    // The signer's published key, as a team would publish it.
    let jwks = format!(r#"{{"keys":[{}]}}"#, assent_jose::public_jwk(key.verifying_key().to_bytes()).canonical());
    std::fs::write(path("jwks.json"), &jwks).unwrap();
    let verify = |run: &str, extra: &[&str]| {
        std::fs::write(path("check.json"), run).unwrap();
        let check = path("check.json");
        let mut args = vec!["verify", "--manifest", check.as_str()];
        args.extend_from_slice(extra);
        let out = assent(&args);
        (out.status.code(), text(&out.stdout))
    };
    let (jwks_path, kept, r) = (path("jwks.json"), path("kept.jsonl"), export);
    let all = ["--jwks", jwks_path.as_str(), "--data", data, "--output", kept.as_str(), r];
    let (code, said) = verify(&run, &all);
    assert_eq!(code, Some(0), "{said}");
    assert!(said.starts_with("ok: training run for `ai_training` at "), "{said}");
    assert!(said.ends_with("kept 3 of 10 records, relying on 1 receipts of 1 subjects; the input matches its hash; the output matches its hash; every receipt relied on verifies\n"), "{said}");

    // A count changed in the readable manifest.
    let (code, said) = verify(&run.replace(r#""records":3,"scope""#, r#""records":2,"scope""#), &all);
    assert_eq!(code, Some(1));
    assert!(said.contains("the readable `manifest` differs from what the signature covers"), "{said}");
    // Other data than the run read, or another key than the team's.
    let other = fixture("export.json");
    let (code, said) = verify(&run, &["--data", other.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(said.contains("is not the run's input.sha256"), "{said}");
    let stranger = format!(r#"{{"keys":[{}]}}"#, assent_jose::public_jwk([9; 32]).canonical());
    std::fs::write(path("stranger.json"), stranger).unwrap();
    let (code, said) = verify(&run, &["--jwks", &path("stranger.json")]);
    assert_eq!(code, Some(1));
    assert!(said.contains("signature: "), "{said}");
    // Receipts that do not hold the one relied on.
    std::fs::write(path("none.jsonl"), &fixture_jws()[0]).unwrap();
    let (code, said) = verify(&run, &[&path("none.jsonl")]);
    assert_eq!(code, Some(1));
    assert!(said.contains(&format!("receipt {} relied on is not among the verified receipts", granted.id)), "{said}");
}

/// `assent signals` writes the site's stance toward AI crawlers from the config: a robots.txt group with
/// the AIPREF `Content-Usage` rule (added once) and `/.well-known/tdmrep.json` (W3C TDMRep); a bad value
/// is named by `config check` too.
#[test]
fn signals_write_robots_txt_and_tdmrep_json_from_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let demo = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/demo/assent.json")).unwrap();
    let with = |usage: &str| demo.replacen('{', &format!(r#"{{"contentUsage": {usage},"#), 1);
    let config = dir.path().join("assent.json");
    std::fs::write(&config, with(r#"{"trainAi": false, "search": true, "tdmPolicy": "https://shop.example/tdm"}"#))
        .unwrap();
    let site = dir.path().join("site");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(site.join("robots.txt"), "User-Agent: *\nDisallow: /cart\n").unwrap();
    for _ in 0..2 {
        let out = assent(&["signals", config.to_str().unwrap(), "--out", site.to_str().unwrap()]);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    assert_eq!(
        std::fs::read_to_string(site.join("robots.txt")).unwrap(),
        "User-Agent: *\nDisallow: /cart\n\nUser-Agent: *\nContent-Usage: train-ai=n, search=y\n"
    );
    assert_eq!(
        std::fs::read_to_string(site.join(".well-known/tdmrep.json")).unwrap(),
        "[{\"location\":\"/*\",\"tdm-policy\":\"https://shop.example/tdm\",\"tdm-reservation\":1}]\n"
    );
    let printed = text(&assent(&["signals", config.to_str().unwrap()]).stdout);
    assert!(printed.contains("Content-Usage: train-ai=n, search=y"), "{printed}");

    std::fs::write(&config, with(r#"{"trainAi": true, "tdmPolicy": "https://shop.example/tdm"}"#)).unwrap();
    let out = assent(&["config", "check", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("contentUsage.tdmPolicy: applies only when rights are reserved"),
        "{}",
        text(&out.stdout)
    );
    std::fs::write(&config, &demo).unwrap();
    let out = assent(&["signals", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no contentUsage: add e.g."), "{}", text(&out.stderr));
}

/// `assent gvl` cuts the IAB's vendor list down to the config's `tcf.vendors` (a TCF site's first visit
/// downloads it before the first layer), keeps the rest of the list as it is, and names the configured
/// vendors the list does not have; `config check` names a bad `tcf` field.
#[test]
fn gvl_keeps_only_the_configured_vendors() {
    let dir = tempfile::tempdir().unwrap();
    let demo = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/demo/assent.json")).unwrap();
    let gvl = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/gvl/vendor-list.json");
    let with = |tcf: &str| demo.replacen('{', &format!(r#"{{"tcf": {tcf},"#), 1);
    let config = dir.path().join("assent.json");
    std::fs::write(&config, with(r#"{"cmpId": 300, "gvl": "/gvl.json", "vendors": [755, 10, 4242]}"#)).unwrap();
    let cut = dir.path().join("gvl.json");
    let out = assent(&["gvl", config.to_str().unwrap(), gvl, "--out", cut.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("kept 2 of 9 vendors"), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("not on this list, so not disclosed: 4242"), "{}", text(&out.stderr));
    let full: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(gvl).unwrap()).unwrap();
    let kept: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&cut).unwrap()).unwrap();
    let mut ids: Vec<&String> = kept["vendors"].as_object().unwrap().keys().collect();
    ids.sort();
    assert_eq!(ids, ["10", "755"]);
    assert_eq!(kept["vendors"]["755"], full["vendors"]["755"]);
    for key in [
        "vendorListVersion",
        "tcfPolicyVersion",
        "purposes",
        "specialPurposes",
        "features",
        "specialFeatures",
        "stacks",
    ] {
        assert_eq!(kept[key], full[key], "{key}");
    }
    // The browser reads the cut list as it reads the full one.
    let core = assent_core::tcf::Gvl::parse(&std::fs::read_to_string(&cut).unwrap()).unwrap();
    assert_eq!(core.vendors.len(), 2);

    std::fs::write(&config, with(r#"{"cmpId": 1, "gvl": "/gvl.json", "vendors": [755]}"#)).unwrap();
    let out = assent(&["config", "check", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("tcf.cmpId: expected a registered CMP id"), "{}", text(&out.stdout));
}
