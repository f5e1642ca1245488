//! `physdev` match (bridge ports of a bridged packet).
//!
//! ```text
//! struct xt_physdev_info (66): 0 char physindev[16], 16 in_mask[16], 32 physoutdev[16],
//!                              48 out_mask[16], 64 u8 invert, 65 u8 bitmask
//!   bits: OP_IN 1, OP_OUT 2, OP_BRIDGED 4, OP_ISIN 8, OP_ISOUT 16
//! ```
//! The names keep iptables' `+` wildcard as typed.

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-m physdev [!] --physdev-is-in [!] --physdev-in IF …`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Physdev {
    pub physindev: String,
    pub physoutdev: String,
    pub invert: u8,
    pub bitmask: u8,
}

impl Physdev {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Physdev> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 66)?;
        Some(Physdev {
            physindev: r.cstr(0, 16)?,
            physoutdev: r.cstr(32, 16)?,
            invert: r.u8(64)?,
            bitmask: r.u8(65)?,
        })
    }
}

impl Ext for Physdev {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m physdev");
        let inv = |bit: u8| if self.invert & bit != 0 { " !" } else { "" };
        let b = self.bitmask;
        if b & 8 != 0 {
            let _ = write!(out, "{} --physdev-is-in", inv(8));
        }
        if b & 1 != 0 {
            let _ = write!(out, "{} --physdev-in {}", inv(1), self.physindev);
        }
        if b & 16 != 0 {
            let _ = write!(out, "{} --physdev-is-out", inv(16));
        }
        if b & 2 != 0 {
            let _ = write!(out, "{} --physdev-out {}", inv(2), self.physoutdev);
        }
        if b & 4 != 0 {
            let _ = write!(out, "{} --physdev-is-bridged", inv(4));
        }
    }
}
