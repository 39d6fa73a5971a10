//! The config fingerprint stored with a decision.
//!
//! The loader computes the same function over the same bytes to learn, without the wasm, whether the
//! config changed since the core last validated it. Any change at all sends the visit through the core.

/// FNV-1a, 32 bits, over the UTF-8 bytes of the config text exactly as served.
pub fn config_fingerprint(config_text: &str) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in config_text.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Published FNV-1a test vectors; the loader's JS is checked against the same values in the e2e suite.
    #[test]
    fn matches_reference_vectors() {
        assert_eq!(config_fingerprint(""), 0x811c9dc5);
        assert_eq!(config_fingerprint("a"), 0xe40c292c);
        assert_eq!(config_fingerprint("foobar"), 0xbf9cf968);
    }
}
