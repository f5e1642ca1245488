//! x_tables: xt match / target payloads (the same structs in legacy `ipt_entry`s and in
//! nf_tables' `match` / `target` expressions) and legacy table blobs.
//!
//! - [`ext`]: one module per extension, a registry keyed by (name, revision, family).
//! - [`entry`]: `ipt_entry` / `ip6t_entry` / `arpt_entry` walking for legacy tables.

pub mod entry;
pub mod ext;
