//! `connbytes` match.
//!
//! ```text
//! struct xt_connbytes_info (24): 0 u64 count.from, 8 u64 count.to, 16 u8 what
//!   (PKTS 0, BYTES 1, AVGPKT 2), 17 u8 direction (ORIGINAL 0, REPLY 1, BOTH 2)
//! ```
//! Inversion is stored as from > to.

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-m connbytes [!] --connbytes FROM[:TO] --connbytes-mode M --connbytes-dir D`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Connbytes {
    pub from: u64,
    pub to: u64,
    pub what: u8,
    pub direction: u8,
}

impl Connbytes {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Connbytes> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 24)?;
        Some(Connbytes {
            from: r.u64(0)?,
            to: r.u64(8)?,
            what: r.u8(16)?,
            direction: r.u8(17)?,
        })
    }
}

impl Ext for Connbytes {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m connbytes");
        let (from, to) = if self.from > self.to {
            out.push_str(" !");
            (self.to, self.from)
        } else {
            (self.from, self.to)
        };
        let _ = write!(out, " --connbytes {from}");
        if to != 0 && to < u64::MAX {
            let _ = write!(out, ":{to}");
        }
        let mode = ["packets", "bytes", "avgpkt"]
            .get(usize::from(self.what))
            .unwrap_or(&"unknown");
        let dir = ["original", "reply", "both"]
            .get(usize::from(self.direction))
            .unwrap_or(&"unknown");
        let _ = write!(out, " --connbytes-mode {mode} --connbytes-dir {dir}");
    }
}
