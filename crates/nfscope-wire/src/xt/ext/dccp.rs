//! `dccp` match.
//!
//! ```text
//! struct xt_dccp_info (16): 0 u16 dpts[2], 4 u16 spts[2], 8 u16 flags, 10 u16 invflags,
//!   12 u16 typemask, 14 u8 option
//!   flags/invflags: SRC_PORTS 1, DEST_PORTS 2, TYPE 4, OPTION 8
//! ```

use super::fmt::{bang, port_range, Rd};
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

const TYPES: [&str; 11] = [
    "REQUEST", "RESPONSE", "DATA", "ACK", "DATAACK", "CLOSEREQ", "CLOSE", "RESET", "SYNC",
    "SYNCACK", "INVALID",
];

/// `-m dccp [!] --sport … [!] --dport … [!] --dccp-types T,… [!] --dccp-option N`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dccp {
    pub dpts: [u16; 2],
    pub spts: [u16; 2],
    pub flags: u16,
    pub invflags: u16,
    pub typemask: u16,
    pub option: u8,
}

impl Dccp {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Dccp> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 16)?;
        let typemask = r.u16(12)?;
        // `INVALID` sets every bit from 10 up and ends the list; bits past 10 without it have
        // no name (iptables would read past its table).
        if typemask >> 11 != 0 && typemask & 0x400 == 0 {
            return None;
        }
        Some(Dccp {
            dpts: [r.u16(0)?, r.u16(2)?],
            spts: [r.u16(4)?, r.u16(6)?],
            flags: r.u16(8)?,
            invflags: r.u16(10)?,
            typemask,
            option: r.u8(14)?,
        })
    }
}

impl Ext for Dccp {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m dccp");
        let (f, inv) = (self.flags, self.invflags);
        if f & 1 != 0 {
            bang(out, inv & 1 != 0);
            port_range(out, "--sport", self.spts);
        }
        if f & 2 != 0 {
            bang(out, inv & 2 != 0);
            port_range(out, "--dport", self.dpts);
        }
        if f & 4 != 0 {
            bang(out, inv & 4 != 0);
            out.push_str(" --dccp-types ");
            let mut sep = "";
            for (i, n) in TYPES.iter().enumerate() {
                if self.typemask & (1 << i) != 0 {
                    out.push_str(sep);
                    out.push_str(n);
                    sep = ",";
                    if i == 10 {
                        break;
                    }
                }
            }
        }
        if f & 8 != 0 {
            bang(out, inv & 8 != 0);
            let _ = write!(out, " --dccp-option {}", self.option);
        }
    }
}
