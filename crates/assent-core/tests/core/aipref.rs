//! The AIPREF `Content-Usage` vocabulary as the CLI and the collector read it.

use assent_core::aipref::{content_usage, train_ai};

#[test]
fn content_usage_says_train_ai_yes_or_no_and_reads_back() {
    let table: [(&str, Option<bool>); 12] = [
        ("train-ai=n", Some(false)),
        ("train-ai=y", Some(true)),
        ("search=y, train-ai=n", Some(false)),
        ("train-ai=y;note=1,  search=n", Some(true)),
        ("train-ai=n, train-ai=y", Some(true)), // a dictionary's last member wins
        ("search=n", None),
        ("train-ai", None), // a bare key is `?1`, not a vocabulary value
        ("train-ai=maybe", None),
        ("", None),
        ("Train-AI=n", None), // not a structured-field key: the whole field is ignored
        ("train-ai=n, ???", None),
        ("bots=n,train-ai=n", Some(false)),
    ];
    for (value, expected) in table {
        assert_eq!(train_ai(value), expected, "{value:?}");
    }
    assert_eq!(train_ai(content_usage(false)), Some(false));
    assert_eq!(train_ai(content_usage(true)), Some(true));
}
