//! The AIPREF `Content-Usage` vocabulary as the CLI and the collector read it.

use assent_core::aipref::train_ai;

#[test]
fn a_content_usage_value_says_train_ai_yes_no_or_nothing() {
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
}
