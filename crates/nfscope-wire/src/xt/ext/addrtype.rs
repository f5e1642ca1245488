//! `addrtype` match.
//!
//! ```text
//! struct xt_addrtype_info (12, rev 0):   0 u16 source, 2 u16 dest, 4 u32 invert_source,
//!                                        8 u32 invert_dest
//! struct xt_addrtype_info_v1 (8, rev 1): 0 u16 source, 2 u16 dest, 4 u32 flags
//!   flags: INVERT_SOURCE 1, INVERT_DEST 2, LIMIT_IFACE_IN 4, LIMIT_IFACE_OUT 8
//! ```
//! Type masks: bit n = `1 << RTN_n` (UNSPEC, UNICAST, LOCAL, BROADCAST, ANYCAST, MULTICAST,
//! BLACKHOLE, UNREACHABLE, PROHIBIT, THROW, NAT, XRESOLVE).

use super::fmt::{bang, Rd};
use super::{Ctx, Ext};
use serde::Serialize;

const RTN: [&str; 12] = [
    "UNSPEC",
    "UNICAST",
    "LOCAL",
    "BROADCAST",
    "ANYCAST",
    "MULTICAST",
    "BLACKHOLE",
    "UNREACHABLE",
    "PROHIBIT",
    "THROW",
    "NAT",
    "XRESOLVE",
];

fn types(out: &mut String, mask: u16) {
    let mut sep = "";
    for (i, n) in RTN.iter().enumerate() {
        if mask & (1 << i) != 0 {
            out.push_str(sep);
            out.push_str(n);
            sep = ",";
        }
    }
}

/// `-m addrtype [!] --src-type T[,T] [!] --dst-type T [--limit-iface-in|out]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Addrtype {
    pub source: u16,
    pub dest: u16,
    pub invert_source: bool,
    pub invert_dest: bool,
    pub limit_iface_in: bool,
    pub limit_iface_out: bool,
}

impl Addrtype {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Addrtype> {
        let (r, inv_s, inv_d, flags) = match rev {
            0 => {
                let r = Rd::sized(d, 12)?;
                (r, r.u32(4)? != 0, r.u32(8)? != 0, 0)
            }
            1 => {
                let r = Rd::sized(d, 8)?;
                let f = r.u32(4)?;
                (r, f & 1 != 0, f & 2 != 0, f)
            }
            _ => return None,
        };
        Some(Addrtype {
            source: r.u16(0)?,
            dest: r.u16(2)?,
            invert_source: inv_s,
            invert_dest: inv_d,
            limit_iface_in: flags & 4 != 0,
            limit_iface_out: flags & 8 != 0,
        })
    }
}

impl Ext for Addrtype {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m addrtype");
        if self.source != 0 {
            bang(out, self.invert_source);
            out.push_str(" --src-type ");
            types(out, self.source);
        }
        if self.dest != 0 {
            bang(out, self.invert_dest);
            out.push_str(" --dst-type ");
            types(out, self.dest);
        }
        if self.limit_iface_in {
            out.push_str(" --limit-iface-in");
        }
        if self.limit_iface_out {
            out.push_str(" --limit-iface-out");
        }
    }
}
