//! `statistic` match.
//!
//! ```text
//! struct xt_statistic_info (24, user-visible 16): 0 u16 mode, 2 u16 flags,
//!   4 union { random { u32 probability } ; nth { u32 every, 8 u32 packet, 12 u32 count } },
//!   16 struct xt_statistic_priv *master (kernel only)
//!   mode: RANDOM 0, NTH 1; flags: INVERT 1
//! ```
//! `probability` is a fraction of 2^31.

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-m statistic --mode random [!] --probability P` or `--mode nth [!] --every N --packet P`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Statistic {
    pub mode: u16,
    pub flags: u16,
    /// `probability` (random) or `every` (nth, stored minus one).
    pub value: u32,
    pub packet: u32,
}

impl Statistic {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Statistic> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized_user(d, 24, 16)?;
        let mode = r.u16(0)?;
        if mode > 1 {
            return None;
        }
        Some(Statistic {
            mode,
            flags: r.u16(2)?,
            value: r.u32(4)?,
            packet: r.u32(8)?,
        })
    }
}

impl Ext for Statistic {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        let inv = if self.flags & 1 != 0 { " !" } else { "" };
        if self.mode == 0 {
            let p = f64::from(self.value) / f64::from(0x8000_0000u32);
            let _ = write!(
                out,
                " -m statistic --mode random{inv} --probability {p:.11}"
            );
        } else {
            let every = u64::from(self.value) + 1;
            let _ = write!(out, " -m statistic --mode nth{inv} --every {every}");
            let _ = write!(out, " --packet {}", self.packet);
        }
    }
}
