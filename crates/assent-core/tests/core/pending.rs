//! The pending list (`assent_core::pending`): decisions kept until their receipts are made.

use assent_core::decision::Decision;
use assent_core::pending::{self, receipt_id};
use assent_core::scoped::{Kind, ScopedChoice};
use assent_core::Record;

const COOKIE: &str = "3|0123456789abcdef0123456789abcdef|2026-11-01|1764000000|1779552000|analytics.necessary|ai_training.marketing|1a2b3c4d|accept_all|DE|optIn|rfedcba9876543210fedcba9876543210|1|page|0|0|";
const LINE: &str = "3|c-1|ai_training|1|aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa|r11111111111111111111111111111111|100|2000000000|2026-11-01|ai_toggle";

fn site(n: u8) -> Record {
    let mut d = Decision::decode(COOKIE).unwrap();
    d.receipt = format!("r{n:032x}");
    Record::Site(d)
}

fn conversation() -> Record {
    Record::Scoped(ScopedChoice::decode(LINE, Kind::Conversation).unwrap())
}

#[test]
fn records_read_back_in_the_order_they_were_kept() {
    let mut stored = String::new();
    for r in [site(1), conversation(), site(2)] {
        stored = pending::push(&stored, &r, pending::MAX).0;
    }
    assert_eq!(pending::read(&stored), vec![site(1), conversation(), site(2)]);
}

#[test]
fn a_record_kept_twice_is_kept_once() {
    let once = pending::push("", &site(1), pending::MAX).0;
    assert_eq!(pending::push(&once, &site(1), pending::MAX), (once.clone(), 0));
}

#[test]
fn a_made_receipt_leaves_the_list_and_the_rest_keep_their_order() {
    let mut stored = String::new();
    for r in [site(1), site(2), site(3)] {
        stored = pending::push(&stored, &r, pending::MAX).0;
    }
    let left = pending::remove(&stored, receipt_id(&site(2)));
    assert_eq!(pending::read(&left), vec![site(1), site(3)]);
    assert_eq!(pending::remove(&pending::remove(&left, receipt_id(&site(1))), receipt_id(&site(3))), "");
}

#[test]
fn a_full_list_keeps_the_newest_and_says_how_many_went() {
    let mut stored = String::new();
    for n in 1..=5 {
        stored = pending::push(&stored, &site(n), 5).0;
    }
    let (kept, dropped) = pending::push(&stored, &site(6), 3);
    assert_eq!(dropped, 3);
    assert_eq!(pending::read(&kept), vec![site(4), site(5), site(6)]);
}

#[test]
fn lines_that_do_not_read_are_skipped() {
    // An edited cookie, a line without a tag, and a tag no kind has.
    let stored = format!("site {COOKIE}\nsite 3|edited\nnonsense\ndevice {LINE}\nconversation {LINE}");
    assert_eq!(pending::read(&stored), vec![Record::Site(Decision::decode(COOKIE).unwrap()), conversation()]);
}
