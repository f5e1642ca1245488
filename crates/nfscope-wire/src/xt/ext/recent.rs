//! `recent` match.
//!
//! ```text
//! struct xt_recent_mtinfo (212, rev 0):    0 u32 seconds, 4 u32 hit_count, 8 u8 check_set,
//!                                          9 u8 invert, 10 char name[200], 210 u8 side
//! struct xt_recent_mtinfo_v1 (228, rev 1): … + 212 nf_inet_addr mask
//!   check_set: CHECK 1, SET 2, UPDATE 4, REMOVE 8, TTL 16, REAP 32; side: 0 source, 1 dest
//! ```

use super::fmt::{ip6, Rd};
use super::{Ctx, Ext, NFPROTO_IPV4, NFPROTO_IPV6};
use serde::Serialize;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

/// `-m recent [!] --set|--rcheck|--update|--remove [--seconds N] [--reap] [--hitcount N]
/// [--rttl] --name N [--mask M] --rsource|--rdest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Recent {
    pub rev: u8,
    pub family: u8,
    pub seconds: u32,
    pub hit_count: u32,
    pub check_set: u8,
    pub invert: bool,
    pub name: String,
    pub side: u8,
    pub mask: [u8; 16],
}

impl Recent {
    pub fn parse(rev: u8, family: u8, d: &[u8]) -> Option<Recent> {
        let r = match rev {
            0 => Rd::sized(d, 212)?,
            1 => Rd::sized(d, 228)?,
            _ => return None,
        };
        Some(Recent {
            rev,
            family,
            seconds: r.u32(0)?,
            hit_count: r.u32(4)?,
            check_set: r.u8(8)?,
            invert: r.u8(9)? != 0,
            name: r.cstr(10, 200)?,
            side: r.u8(210)?,
            mask: if rev == 1 { r.arr(212)? } else { [0; 16] },
        })
    }
}

impl Ext for Recent {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m recent");
        if self.invert {
            out.push_str(" !");
        }
        let c = self.check_set;
        for (bit, opt) in [
            (2, " --set"),
            (1, " --rcheck"),
            (4, " --update"),
            (8, " --remove"),
        ] {
            if c & bit != 0 {
                out.push_str(opt);
            }
        }
        // iptables prints these with %d.
        if self.seconds != 0 {
            let _ = write!(out, " --seconds {}", self.seconds as i32);
        }
        if c & 32 != 0 {
            out.push_str(" --reap");
        }
        if self.hit_count != 0 {
            let _ = write!(out, " --hitcount {}", self.hit_count as i32);
        }
        if c & 16 != 0 {
            out.push_str(" --rttl");
        }
        let _ = write!(out, " --name {}", self.name);
        if self.rev == 1 {
            let m = &self.mask;
            match self.family {
                NFPROTO_IPV4 => {
                    let _ = write!(out, " --mask {}", Ipv4Addr::new(m[0], m[1], m[2], m[3]));
                }
                NFPROTO_IPV6 => {
                    let _ = write!(out, " --mask {}", ip6(&Ipv6Addr::from(*m)));
                }
                _ => {}
            }
        }
        match self.side {
            0 => out.push_str(" --rsource"),
            1 => out.push_str(" --rdest"),
            _ => {}
        }
    }
}
