//! `CHECKSUM` target.
//!
//! ```text
//! struct xt_CHECKSUM_info (1): 0 u8 operation (OP_FILL 1)
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;

/// `-j CHECKSUM --checksum-fill`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checksum {
    pub operation: u8,
}

impl Checksum {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Checksum> {
        if rev != 0 {
            return None;
        }
        Some(Checksum {
            operation: Rd::sized(d, 1)?.u8(0)?,
        })
    }
}

impl Ext for Checksum {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -j CHECKSUM");
        if self.operation & 1 != 0 {
            out.push_str(" --checksum-fill");
        }
    }
}
