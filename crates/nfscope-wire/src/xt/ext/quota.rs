//! `quota` match.
//!
//! ```text
//! struct xt_quota_info (24, user-visible 16): 0 u32 flags (INVERT 1), 4 u32 pad,
//!                                             8 u64 quota, 16 master pointer (kernel only)
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-m quota [!] --quota BYTES`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Quota {
    pub flags: u32,
    pub quota: u64,
}

impl Quota {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Quota> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized_user(d, 24, 16)?;
        Some(Quota {
            flags: r.u32(0)?,
            quota: r.u64(8)?,
        })
    }
}

impl Ext for Quota {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m quota");
        if self.flags & 1 != 0 {
            out.push_str(" !");
        }
        let _ = write!(out, " --quota {}", self.quota);
    }
}
