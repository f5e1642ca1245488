//! `pkttype` match.
//!
//! ```text
//! struct xt_pkttype_info (8): 0 int pkttype (PACKET_HOST 0, BROADCAST 1, MULTICAST 2,
//!                             OTHERHOST 3), 4 int invert
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-m pkttype [!] --pkt-type unicast|broadcast|multicast|otherhost`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pkttype {
    pub pkttype: i32,
    pub invert: bool,
}

impl Pkttype {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Pkttype> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 8)?;
        Some(Pkttype {
            pkttype: r.i32(0)?,
            invert: r.i32(4)? != 0,
        })
    }
}

impl Ext for Pkttype {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m pkttype");
        if self.invert {
            out.push_str(" !");
        }
        out.push_str(" --pkt-type ");
        match self.pkttype {
            0 => out.push_str("unicast"),
            1 => out.push_str("broadcast"),
            2 => out.push_str("multicast"),
            3 => out.push_str("otherhost"),
            n => {
                let _ = write!(out, "{n}");
            }
        }
    }
}
