//! The `assent` CLI's commands as a library: the binary (`src/main.rs`) and the Python package
//! (`crates/assent-py`) run the same code.

pub mod book;
pub mod filter;
pub mod gvl;
pub mod intervals;
pub mod manifest;
pub mod record;
pub mod signals;
pub mod source;
pub mod verify;
