//! Choices scoped narrower than the whole site, and their stored form:
//! - one chat conversation's AI-training choice (`<assent-ai-toggle conversation="…">`), which
//!   overrides the site-wide `ai_training` choice for that conversation only, either way;
//! - one service allowed always ("Always allow YouTube" on an embed placeholder), which lets that
//!   service's tags and embeds run although its purpose is refused. It only ever widens: once it is
//!   ended, the purpose's site-wide answer applies to the service again.
//!
//! The browser keeps the latest [`MAX_STORED`] choices of each kind in localStorage
//! (`assent.conversations`, `assent.services`), one line each, newest last:
//!
//! ```text
//! 2|<conversation id or service name>|<purpose>|<on: 1 or 0>|<subject>|<receipt id>|<decided at>|<expires at>|<notice version>
//! ```
//!
//! A choice counts only under the notice version it was made under: a new version asks again, in
//! every scope. Version-1 lines (8 fields, no notice version) are still read, and count under any.
//!
//! The purpose is written out so the loader, which names no purpose, can answer from it alone.
//! The core writes it; the loader only reads it. Ids and names are validated ([`is_conversation_id`],
//! [`is_service_name`]), so no field needs escaping.

use crate::decision::{Method, Timestamp};
use crate::purpose::AI_TRAINING;

/// How many choices of each kind a browser keeps; older ones fall back to the site-wide choice.
pub const MAX_STORED: usize = 100;

/// What a scoped choice is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// One chat conversation (its id).
    Conversation(String),
    /// One tracker service (its name in the tracker database or the config).
    Service(String),
}

impl Scope {
    /// The conversation id or the service name.
    pub fn key(&self) -> &str {
        match self {
            Scope::Conversation(k) | Scope::Service(k) => k,
        }
    }

    /// The receipt scope: `conversation:<id>` or `service:<name>`.
    pub fn name(&self) -> String {
        match self {
            Scope::Conversation(id) => format!("conversation:{id}"),
            Scope::Service(name) => format!("service:{name}"),
        }
    }

    /// Inverse of [`Scope::name`], for a valid id or name only.
    pub fn parse(scope: &str) -> Option<Scope> {
        if let Some(id) = scope.strip_prefix("conversation:") {
            return is_conversation_id(id).then(|| Scope::Conversation(id.to_string()));
        }
        scope.strip_prefix("service:").filter(|n| is_service_name(n)).map(|n| Scope::Service(n.to_string()))
    }

    /// Which kind of scope it is.
    pub fn kind(&self) -> Kind {
        match self {
            Scope::Conversation(_) => Kind::Conversation,
            Scope::Service(_) => Kind::Service,
        }
    }
}

/// The kinds of scoped choices, each stored under its own key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Chat conversations' AI-training choices.
    Conversation,
    /// Services allowed always.
    Service,
}

impl Kind {
    /// The localStorage key that holds choices of this kind.
    pub fn storage_key(self) -> &'static str {
        match self {
            Kind::Conversation => CONVERSATIONS_KEY,
            Kind::Service => SERVICES_KEY,
        }
    }
}

/// Where the per-conversation choices live.
pub const CONVERSATIONS_KEY: &str = "assent.conversations";
/// Where the services allowed always live.
pub const SERVICES_KEY: &str = "assent.services";

/// One scoped choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopedChoice {
    /// What it is about.
    pub scope: Scope,
    /// The purpose it answers (`ai_training` for a conversation; the service's purpose).
    pub purpose: String,
    /// Granted (the conversation may train the AI; the service may run) or not.
    pub on: bool,
    /// The notice version it was made under (`None`: a version-1 line, made before this was stored).
    pub notice_version: Option<String>,
    /// Pseudonymous subject id (the same as the site-wide decision's).
    pub subject: String,
    /// Id of the receipt that records this choice.
    pub receipt: String,
    /// When it was made.
    pub decided_at: Timestamp,
    /// When it stops counting (then the site-wide choice applies again).
    pub expires_at: Timestamp,
    /// How it was made, for its receipt: `ai_toggle` or `placeholder`; `preferences_saved` when a
    /// service was ended in the preferences' list; `withdrawal` when a site-wide refusal ended it. Not
    /// part of the stored form (read back as the kind's own method).
    pub method: Method,
}

/// A conversation id is 1 to 64 characters of `A-Z a-z 0-9 . _ : -`: safe in storage, receipts
/// (`scope: "conversation:<id>"`) and URLs without escaping.
pub fn is_conversation_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// A service name is 1 to 64 characters, not blank at either end, without `|`, `;`, `,` or control
/// characters: the separators of the loader's table and of the stored lines.
pub fn is_service_name(name: &str) -> bool {
    (1..=64).contains(&name.chars().count())
        && name.trim() == name
        && !name.chars().any(|c| c.is_control() || matches!(c, '|' | ';' | ','))
}

/// The receipt scope for a conversation.
pub fn conversation_scope(conversation: &str) -> String {
    Scope::Conversation(conversation.to_string()).name()
}

impl ScopedChoice {
    /// One stored line.
    pub fn encode(&self) -> String {
        let mut line = format!(
            "{}|{}|{}|{}|{}|{}|{}|{}",
            if self.notice_version.is_some() { 3 } else { 1 },
            self.scope.key(),
            self.purpose,
            if self.on { 1 } else { 0 },
            self.subject,
            self.receipt,
            self.decided_at,
            self.expires_at
        );
        // Version 3 adds the notice version and the method: a receipt made again on a later page
        // view (the page went away first) must say how the choice was made.
        if let Some(v) = &self.notice_version {
            line.push('|');
            line.push_str(v);
            line.push('|');
            line.push_str(self.method.as_str());
        }
        line
    }

    /// Whether it still counts under `notice_version` at `now`: not expired, and made under that
    /// version (a line stored before versions were recorded counts too). The loader's `inForce`
    /// (`web/loader/stored.js`) is the same rule, pinned by `data/conformance/scoped.json`.
    pub fn in_force(&self, notice_version: &str, now: Timestamp) -> bool {
        self.expires_at > now && self.notice_version.as_deref().is_none_or(|v| v == notice_version)
    }

    /// Reads one stored line of `kind`; `None` for anything malformed or of another version.
    pub fn decode(line: &str, kind: Kind) -> Option<ScopedChoice> {
        let f: Vec<&str> = line.split('|').collect();
        let (notice_version, stored_method) = match (f[0], f.len()) {
            ("1", 8) => (None, None),
            ("2", 9) if crate::config::is_label(f[8]) => (Some(f[8].to_string()), None),
            ("3", 10) if crate::config::is_label(f[8]) => (Some(f[8].to_string()), Some(Method::parse(f[9])?)),
            _ => return None,
        };
        // Lines before version 3 name no method: the usual one of their kind.
        let (scope, method) = match kind {
            Kind::Conversation if is_conversation_id(f[1]) && f[2] == AI_TRAINING => {
                (Scope::Conversation(f[1].to_string()), stored_method.unwrap_or(Method::AiToggle))
            }
            Kind::Service if is_service_name(f[1]) && !f[2].is_empty() => {
                (Scope::Service(f[1].to_string()), stored_method.unwrap_or(Method::Placeholder))
            }
            _ => return None,
        };
        let hex = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());
        if !(hex(f[4], 32) && f[5].starts_with('r') && hex(&f[5][1..], 32)) {
            return None;
        }
        Some(ScopedChoice {
            scope,
            purpose: f[2].to_string(),
            on: match f[3] {
                "1" => true,
                "0" => false,
                _ => return None,
            },
            subject: f[4].to_string(),
            receipt: f[5].to_string(),
            decided_at: f[6].parse().ok()?,
            expires_at: f[7].parse().ok()?,
            notice_version,
            method,
        })
    }
}

/// Reads one kind's stored list, skipping malformed lines (a later line for the same key wins).
pub fn decode_all(text: &str, kind: Kind) -> Vec<ScopedChoice> {
    let mut out: Vec<ScopedChoice> = Vec::new();
    for choice in text.lines().filter_map(|l| ScopedChoice::decode(l, kind)) {
        out.retain(|c| c.scope != choice.scope);
        out.push(choice);
    }
    out
}

/// The stored form of one kind's list, newest last, keeping only the latest [`MAX_STORED`] of
/// that kind.
pub fn encode_all(choices: &[ScopedChoice], kind: Kind) -> String {
    let own: Vec<&ScopedChoice> = choices.iter().filter(|c| c.scope.kind() == kind).collect();
    let skip = own.len().saturating_sub(MAX_STORED);
    crate::joined(&own[skip..].iter().map(|c| c.encode()).collect::<Vec<_>>(), "\n")
}

/// The stored list of `choice`'s kind with `choice` in it, as the latest line: what another tab
/// stored since stays.
pub fn merge(stored: &str, choice: &ScopedChoice) -> String {
    let mut all = decode_all(stored, choice.scope.kind());
    all.retain(|c| c.scope != choice.scope);
    all.push(choice.clone());
    encode_all(&all, choice.scope.kind())
}

/// The choices of `kind` whose receipts may not have been made: every one decided from the choice the
/// marker names on (several share a second when one refusal ended them together), but that one.
/// `marker` is the browser's record of the latest receipt made of the kind, `id|decidedAt`. When a
/// later choice for the same scope has replaced the marked one, its time still bounds what came after;
/// a bare id (stored before times were kept) that names no choice leaves every choice. Never more
/// than that: an older receipt signed again would be a second receipt under its id.
pub fn unmade(choices: &[ScopedChoice], kind: Kind, marker: &str) -> Vec<ScopedChoice> {
    let (id, at) = marker.split_once('|').map_or((marker, None), |(id, at)| (id, at.parse::<Timestamp>().ok()));
    let own = || choices.iter().filter(|c| c.scope.kind() == kind);
    let made = own().find(|c| c.receipt == id).map(|c| c.decided_at).or(at);
    own().filter(|c| made.is_none_or(|t| c.decided_at >= t) && c.receipt != id).cloned().collect()
}

/// Keeps the latest [`MAX_STORED`] of each kind in `choices` (oldest first); returns the ones dropped.
pub(crate) fn trim(choices: &mut Vec<ScopedChoice>) -> Vec<ScopedChoice> {
    let mut dropped = Vec::new();
    for kind in [Kind::Conversation, Kind::Service] {
        let mut drop = choices.iter().filter(|c| c.scope.kind() == kind).count().saturating_sub(MAX_STORED);
        choices.retain(|c| {
            let gone = drop > 0 && c.scope.kind() == kind;
            drop -= usize::from(gone);
            if gone {
                dropped.push(c.clone());
            }
            !gone
        });
    }
    dropped
}
