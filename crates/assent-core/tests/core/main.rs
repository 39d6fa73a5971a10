//! The core's integration tests, in one binary with shared fixtures (`common`): data-driven tables of
//! (config, region, stored cookie, event) → decision, config errors, receipts and the gate, regions,
//! services, conversations, trackers and locales.

mod aipref;
mod common;
mod config;
mod conformance;
mod conversation;
mod locale;
mod pending;
mod properties;
mod receipt;
mod regions;
mod services;
mod session;
mod trackers;
