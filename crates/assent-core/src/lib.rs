//! Assent's consent policy, with no I/O.
//!
//! Everything here is deterministic: the caller passes the time (`now`, Unix seconds) and any
//! randomness. Adapters (the wasm client, the collector, the CLI) turn [`session::Effect`]s into
//! real actions. This crate never depends on web-sys; `cargo tree -p assent-core -i web-sys` finds nothing.

pub mod config;
pub mod consent_mode;
pub mod decision;
pub mod error;
pub mod flow;
pub mod frames;
pub mod gpp;
pub mod hash;
pub mod json;
pub mod locale;
pub mod pending;
pub mod purpose;
pub mod receipt;
pub mod region;
pub mod scoped;
pub mod session;
// IAB TCF: the TCF build of the preferences module (feature `tcf`) and the native tools. Left out of the
// other wasm modules for the same reason as the two below: its callers of shared generic code (`str::parse`)
// changed how that inlines before link-time optimisation, and cost the first layer 0.2 KB brotli.
#[cfg(any(feature = "tcf", not(target_arch = "wasm32")))]
pub mod tcf;
pub mod trackers;
// Native tools only (the CLI, the collector). Left out of the wasm build: its callers of the shared
// config readers changed how those inline before link-time optimisation, and cost the browser
// bundle 170 bytes brotli of code it never runs.
#[cfg(not(target_arch = "wasm32"))]
pub mod aipref;
#[cfg(not(target_arch = "wasm32"))]
pub mod timeline;

/// `parts.join(sep)`, written out. The standard library's `join` copies with code specialised per
/// element type, about 0.9 KB of wasm for each of `String` and `&str`; this is a few dozen bytes.
pub fn joined<S: AsRef<str>>(parts: &[S], sep: &str) -> String {
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(part.as_ref());
    }
    out
}

pub use config::Config;
pub use decision::{Decision, Method, RegionSource, Timestamp};
pub use error::{ConfigError, UsageError};
pub use flow::Flow;
pub use scoped::{Scope, ScopedChoice};
pub use session::{Basis, Effect, Event, Record, Session, Source, Ui, Visitor};

// Wire-format versions live with their formats: `decision::STORED_FORM_VERSION` (the cookie) and
// `receipt::RECEIPT_VERSION` (signed receipts), read by the loader, the collector and the CLI.
