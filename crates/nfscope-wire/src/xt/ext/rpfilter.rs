//! `rpfilter` match.
//!
//! ```text
//! struct xt_rpfilter_info (1): 0 u8 flags (LOOSE 1, VALID_MARK 2, ACCEPT_LOCAL 4, INVERT 8)
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;

/// `-m rpfilter [--loose] [--validmark] [--accept-local] [--invert]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rpfilter {
    pub flags: u8,
}

impl Rpfilter {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Rpfilter> {
        if rev != 0 {
            return None;
        }
        Some(Rpfilter {
            flags: Rd::sized(d, 1)?.u8(0)?,
        })
    }
}

impl Ext for Rpfilter {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m rpfilter");
        for (bit, opt) in [
            (1, " --loose"),
            (2, " --validmark"),
            (4, " --accept-local"),
            (8, " --invert"),
        ] {
            if self.flags & bit != 0 {
                out.push_str(opt);
            }
        }
    }
}
