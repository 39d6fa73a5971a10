//! Well-known purpose ids and the rule for valid ids.

/// Always on: strictly necessary storage and processing.
pub const NECESSARY: &str = "necessary";
/// Using personal data to train AI models. Never granted by "Accept all"; asked on its own control.
pub const AI_TRAINING: &str = "ai_training";

/// A purpose id is lowercase snake_case: `[a-z][a-z0-9_]*`, at most 40 bytes. This keeps ids safe
/// in the stored cookie and in CSS selectors without escaping.
pub fn is_purpose_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 40
        && bytes[0].is_ascii_lowercase()
        && bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
}
