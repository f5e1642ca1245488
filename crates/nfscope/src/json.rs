//! The JSON document of `nfscope dump --format json` (schema: docs/json-schema.md).
//!
//! It is the serde form of the model wrapped in a versioned envelope. Fields only grow within a
//! schema version; a change that removes or renames a field bumps `schema_version`.

use crate::Ruleset;
use serde::Serialize;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Serialize)]
pub struct Document<'a> {
    pub schema_version: u32,
    pub nftables: &'a Ruleset,
}

pub fn document(rs: &Ruleset) -> Document<'_> {
    Document {
        schema_version: SCHEMA_VERSION,
        nftables: rs,
    }
}
