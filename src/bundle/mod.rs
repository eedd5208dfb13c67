//! Case bundles (SPEC §6, BUNDLE.md): what the responder saw, exported to one file that
//! replays offline, exactly, and proves it was not changed.

pub mod export;
pub mod format;
pub mod open;
pub mod records;
pub mod redact;
pub mod sign;
pub mod tar_io;
