//! `iprange` match (rev 1; rev 0 `ipt_iprange_info` is gone from the kernel).
//!
//! ```text
//! struct xt_iprange_mtinfo (68): 0 nf_inet_addr src_min, 16 src_max, 32 dst_min, 48 dst_max,
//!                                64 u8 flags (SRC 1, DST 2, SRC_INV 0x10, DST_INV 0x20)
//! ```

use super::fmt::{bang, ip6, Rd};
use super::{Ctx, Ext, NFPROTO_IPV4, NFPROTO_IPV6};
use serde::Serialize;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

/// `-m iprange [!] --src-range A-B [!] --dst-range A-B`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Iprange {
    pub family: u8,
    pub src: [[u8; 16]; 2],
    pub dst: [[u8; 16]; 2],
    pub flags: u8,
}

impl Iprange {
    pub fn parse(rev: u8, family: u8, d: &[u8]) -> Option<Iprange> {
        if rev != 1 || !matches!(family, NFPROTO_IPV4 | NFPROTO_IPV6) {
            return None;
        }
        let r = Rd::sized(d, 68)?;
        Some(Iprange {
            family,
            src: [r.arr(0)?, r.arr(16)?],
            dst: [r.arr(32)?, r.arr(48)?],
            flags: r.u8(64)?,
        })
    }

    fn addr(&self, a: &[u8; 16]) -> String {
        if self.family == NFPROTO_IPV4 {
            Ipv4Addr::new(a[0], a[1], a[2], a[3]).to_string()
        } else {
            ip6(&Ipv6Addr::from(*a))
        }
    }
}

impl Ext for Iprange {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m iprange");
        if self.flags & 1 != 0 {
            bang(out, self.flags & 0x10 != 0);
            let (a, b) = (self.addr(&self.src[0]), self.addr(&self.src[1]));
            let _ = write!(out, " --src-range {a}-{b}");
        }
        if self.flags & 2 != 0 {
            bang(out, self.flags & 0x20 != 0);
            let (a, b) = (self.addr(&self.dst[0]), self.addr(&self.dst[1]));
            let _ = write!(out, " --dst-range {a}-{b}");
        }
    }
}
