//! ebtables `pkttype` match (`libebt_pkttype.c`).
//!
//! ```text
//! struct ebt_pkttype_info (2): 0 u8 pkt_type, 1 u8 invert
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `--pkttype-type [!] host|broadcast|…`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EbtPkttype {
    pub pkt_type: u8,
    pub invert: bool,
}

/// `PACKET_*` names, as libebt_pkttype prints them.
const CLASSES: [&str; 7] = [
    "host",
    "broadcast",
    "multicast",
    "otherhost",
    "outgoing",
    "loopback",
    "fastroute",
];

impl EbtPkttype {
    pub fn parse(rev: u8, d: &[u8]) -> Option<EbtPkttype> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 2)?;
        Some(EbtPkttype {
            pkt_type: r.u8(0)?,
            invert: r.u8(1)? != 0,
        })
    }
}

impl Ext for EbtPkttype {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" --pkttype-type ");
        if self.invert {
            out.push_str("! ");
        }
        match CLASSES.get(self.pkt_type as usize) {
            Some(n) => out.push_str(n),
            None => {
                let _ = write!(out, "{}", self.pkt_type);
            }
        }
    }
}
