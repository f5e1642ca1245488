//! ebtables `mark_m` match (`libebt_mark_m.c`).
//!
//! ```text
//! struct ebt_mark_m_info (24): 0 unsigned long mark, 8 unsigned long mask, 16 u8 invert,
//!                              17 u8 bitmask (1 AND, 2 OR)
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `--mark [!] V[/M]` (or `/M`: any bit of M set).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EbtMarkM {
    pub mark: u64,
    pub mask: u64,
    pub invert: bool,
    pub bitmask: u8,
}

/// `EBT_MARK_OR`: true when any bit of the mask is set.
const EBT_MARK_OR: u8 = 2;

impl EbtMarkM {
    pub fn parse(rev: u8, d: &[u8]) -> Option<EbtMarkM> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 24)?;
        Some(EbtMarkM {
            mark: r.u64(0)?,
            mask: r.u64(8)?,
            invert: r.u8(16)? != 0,
            bitmask: r.u8(17)?,
        })
    }
}

impl Ext for EbtMarkM {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" --mark ");
        if self.invert {
            out.push_str("! ");
        }
        if self.bitmask == EBT_MARK_OR {
            let _ = write!(out, "/0x{:x}", self.mask);
        } else if self.mask != 0xffff_ffff {
            let _ = write!(out, "0x{:x}/0x{:x}", self.mark, self.mask);
        } else {
            let _ = write!(out, "0x{:x}", self.mark);
        }
    }
}
