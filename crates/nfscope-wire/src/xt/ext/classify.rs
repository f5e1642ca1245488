//! `CLASSIFY` target.
//!
//! ```text
//! struct xt_classify_target_info (4): 0 u32 priority (tc handle MAJ:MIN)
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-j CLASSIFY --set-class MMMM:NNNN` (hex, 4 digits each).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Classify {
    pub priority: u32,
}

impl Classify {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Classify> {
        if rev != 0 {
            return None;
        }
        Some(Classify {
            priority: Rd::sized(d, 4)?.u32(0)?,
        })
    }
}

impl Ext for Classify {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        let (maj, min) = (self.priority >> 16, self.priority & 0xffff);
        let _ = write!(out, " -j CLASSIFY --set-class {maj:04x}:{min:04x}");
    }
}
