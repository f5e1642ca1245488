//! `icmp` (IPv4) and `icmp6` matches.
//!
//! ```text
//! struct ipt_icmp / ip6t_icmp (4): 0 u8 type, 1 u8 code[2] (min, max), 3 u8 invflags (INV 0x01)
//! ```

use super::fmt::{bang, Rd};
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-m icmp [!] --icmp-type T[/C]` or `-m icmp6 [!] --icmpv6-type T[/C]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Icmp {
    pub v6: bool,
    pub icmp_type: u8,
    pub code: [u8; 2],
    pub invert: bool,
}

impl Icmp {
    pub fn parse(name: &str, rev: u8, d: &[u8]) -> Option<Icmp> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 4)?;
        Some(Icmp {
            v6: name == "icmp6",
            icmp_type: r.u8(0)?,
            code: [r.u8(1)?, r.u8(2)?],
            invert: r.u8(3)? & 1 != 0,
        })
    }
}

impl Ext for Icmp {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        if self.v6 {
            out.push_str(" -m icmp6");
            bang(out, self.invert);
            let _ = write!(out, " --icmpv6-type {}", self.icmp_type);
        } else {
            out.push_str(" -m icmp");
            bang(out, self.invert);
            if self.icmp_type == 0xff {
                out.push_str(" --icmp-type any");
                return;
            }
            let _ = write!(out, " --icmp-type {}", self.icmp_type);
        }
        if self.code != [0, 0xff] {
            let _ = write!(out, "/{}", self.code[0]);
        }
    }
}
