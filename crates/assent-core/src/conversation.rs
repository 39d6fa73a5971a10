//! Per-conversation AI-training choices (`<assent-ai-toggle conversation="…">`) and their stored form.
//!
//! A conversation's choice overrides the site-wide `ai_training` choice for that conversation only.
//! The browser keeps the latest [`MAX_STORED`] choices in `localStorage["assent.conversations"]`,
//! one line each, newest last:
//!
//! ```text
//! 1|<conversation>|ai_training|<on: 1 or 0>|<subject>|<receipt id>|<decided at>|<expires at>
//! ```
//!
//! The purpose is written out so the loader, which names no purpose, can answer from it alone.
//!
//! The core writes it; the loader only reads it. Conversation ids are validated
//! ([`is_conversation_id`]), so no field needs escaping.

use crate::decision::{Method, Timestamp};
use crate::purpose::AI_TRAINING;

/// How many conversations' choices a browser keeps; older ones fall back to the site-wide choice.
pub const MAX_STORED: usize = 100;

/// One conversation's AI-training choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationChoice {
    /// The widget's conversation id (the element's `conversation` attribute).
    pub conversation: String,
    /// Whether this conversation may be used to train the AI.
    pub on: bool,
    /// Pseudonymous subject id (the same as the site-wide decision's).
    pub subject: String,
    /// Id of the receipt that records this choice.
    pub receipt: String,
    /// When it was made.
    pub decided_at: Timestamp,
    /// When it stops counting (then the site-wide choice applies again).
    pub expires_at: Timestamp,
    /// How it was made, for its receipt: `ai_toggle`, or `withdrawal` when a site-wide refusal ended
    /// it. Not part of the stored form (read back as `ai_toggle`).
    pub method: Method,
}

/// A conversation id is 1 to 64 characters of `A-Z a-z 0-9 . _ : -`: safe in storage, receipts
/// (`scope: "conversation:<id>"`) and URLs without escaping.
pub fn is_conversation_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// The receipt scope for a conversation.
pub fn scope(conversation: &str) -> String {
    format!("conversation:{conversation}")
}

impl ConversationChoice {
    /// One stored line.
    pub fn encode(&self) -> String {
        format!(
            "1|{}|{}|{}|{}|{}|{}|{}",
            self.conversation,
            AI_TRAINING,
            if self.on { 1 } else { 0 },
            self.subject,
            self.receipt,
            self.decided_at,
            self.expires_at
        )
    }

    /// Reads one stored line; `None` for anything malformed or of another version.
    pub fn decode(line: &str) -> Option<ConversationChoice> {
        let f: Vec<&str> = line.split('|').collect();
        if f.len() != 8 || f[0] != "1" || !is_conversation_id(f[1]) || f[2] != AI_TRAINING {
            return None;
        }
        let hex = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());
        if !hex(f[4], 32) || !(f[5].starts_with('r') && hex(&f[5][1..], 32)) {
            return None;
        }
        Some(ConversationChoice {
            conversation: f[1].to_string(),
            on: match f[3] {
                "1" => true,
                "0" => false,
                _ => return None,
            },
            subject: f[4].to_string(),
            receipt: f[5].to_string(),
            decided_at: f[6].parse().ok()?,
            expires_at: f[7].parse().ok()?,
            method: Method::AiToggle,
        })
    }
}

/// Reads the stored list, skipping malformed lines (a later line for the same conversation wins).
pub fn decode_all(text: &str) -> Vec<ConversationChoice> {
    let mut out: Vec<ConversationChoice> = Vec::new();
    for choice in text.lines().filter_map(ConversationChoice::decode) {
        out.retain(|c| c.conversation != choice.conversation);
        out.push(choice);
    }
    out
}

/// The stored form of a list, newest last, keeping only the latest [`MAX_STORED`].
pub fn encode_all(choices: &[ConversationChoice]) -> String {
    let skip = choices.len().saturating_sub(MAX_STORED);
    choices[skip..].iter().map(ConversationChoice::encode).collect::<Vec<_>>().join("\n")
}

/// The stored list with `choice` in it, as the latest line: what another tab stored since stays.
pub fn merge(stored: &str, choice: &ConversationChoice) -> String {
    let mut all = decode_all(stored);
    all.retain(|c| c.conversation != choice.conversation);
    all.push(choice.clone());
    encode_all(&all)
}
