//! ebtables `mark` target (`libebt_mark.c`).
//!
//! ```text
//! struct ebt_mark_t_info (16): 0 unsigned long mark, 8 int target (action in the high
//!                              28 bits, the ebtables verdict in the low 4)
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-j mark --mark-set|or|and|xor 0xV --mark-target ACCEPT|DROP|CONTINUE|RETURN`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EbtMark {
    pub mark: u64,
    pub target: u32,
}

impl EbtMark {
    pub fn parse(rev: u8, d: &[u8]) -> Option<EbtMark> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 16)?;
        let m = EbtMark {
            mark: r.u64(0)?,
            target: r.u32(8)?,
        };
        m.action()?;
        Some(m)
    }
    fn action(&self) -> Option<&'static str> {
        Some(match self.target & !0xf {
            0xffff_fff0 => "--mark-set",
            0xffff_ffe0 => "--mark-or",
            0xffff_ffd0 => "--mark-and",
            0xffff_ffc0 => "--mark-xor",
            _ => return None,
        })
    }
}

/// An ebtables standard verdict (`-1` ACCEPT … `-4` RETURN) by name.
pub fn ebt_verdict(v: i32) -> &'static str {
    match v {
        -1 => "ACCEPT",
        -2 => "DROP",
        -3 => "CONTINUE",
        -4 => "RETURN",
        _ => "?",
    }
}

impl Ext for EbtMark {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        let _ = write!(
            out,
            " -j mark {} 0x{:x} --mark-target {}",
            self.action().unwrap_or("?"),
            self.mark,
            ebt_verdict((self.target | !0xf) as i32)
        );
    }
}
