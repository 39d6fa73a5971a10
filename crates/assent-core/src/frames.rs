//! Which embedded frames the visitor can see: a frame the page keeps out of sight (a tracking frame:
//! 1×1, `hidden`, `display:none`) is held without a placeholder, whose buttons would be invisible yet
//! reachable with Tab (and could grant a lasting choice unseen). The loader's `hidden`
//! (`web/loader/rules.js`) is the same rule, pinned by `data/conformance/frames.json`.

/// Whether a frame with these attributes (as written in the page) is kept out of sight.
pub fn hidden(width: Option<&str>, height: Option<&str>, hidden_attr: bool, style: Option<&str>) -> bool {
    // The leading integer (an optional minus sign, then digits), as the loader reads it: `1px` is 1.
    let tiny = |value: Option<&str>| {
        let value = value.unwrap_or_default().trim_start();
        let sign = usize::from(value.starts_with('-'));
        let digits = sign + value[sign..].chars().take_while(char::is_ascii_digit).count();
        value[..digits].parse::<i64>().is_ok_and(|n| n <= 2)
    };
    let style: Vec<u8> = style
        .unwrap_or_default()
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .map(|b| b.to_ascii_lowercase())
        .collect();
    let has = |needle: &[u8]| style.windows(needle.len()).any(|w| w == needle);
    tiny(width) || tiny(height) || hidden_attr || has(b"display:none") || has(b"visibility:hidden")
}
