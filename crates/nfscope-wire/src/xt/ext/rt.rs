//! `rt` match (IPv6 routing header).
//!
//! ```text
//! struct ip6t_rt (280): 0 u32 rt_type, 4 u32 segsleft[2], 12 u32 hdrlen, 16 u8 flags,
//!   17 u8 invflags, 20 in6_addr addrs[16] (4-aligned), 276 u8 addrnr
//!   flags: TYP 1, SGS 2, LEN 4, RES 8, FST 0x10, FST_NSTRICT 0x20; invflags: TYP 1, SGS 2, LEN 4
//! ```

use super::ah::spi_range;
use super::fmt::{ip6, Rd};
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;
use std::net::Ipv6Addr;

/// `-m rt [!] --rt-type T [!] --rt-segsleft A[:B] [!] --rt-len N --rt-0-res --rt-0-addrs A,…`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rt {
    pub rt_type: u32,
    pub segsleft: [u32; 2],
    pub hdrlen: u32,
    pub flags: u8,
    pub invflags: u8,
    pub addrs: Vec<[u8; 16]>,
}

impl Rt {
    pub fn parse(rev: u8, _family: u8, d: &[u8]) -> Option<Rt> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 280)?;
        let n = usize::from(r.u8(276)?);
        if n > 16 {
            return None;
        }
        Some(Rt {
            rt_type: r.u32(0)?,
            segsleft: [r.u32(4)?, r.u32(8)?],
            hdrlen: r.u32(12)?,
            flags: r.u8(16)?,
            invflags: r.u8(17)?,
            addrs: (0..n)
                .map(|i| r.arr(20 + 16 * i))
                .collect::<Option<Vec<_>>>()?,
        })
    }
}

impl Ext for Rt {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m rt");
        let inv = |b: u8| if self.invflags & b != 0 { " !" } else { "" };
        if self.flags & 1 != 0 {
            let _ = write!(out, "{} --rt-type {}", inv(1), self.rt_type);
        }
        spi_range(out, "--rt-segsleft", self.segsleft, self.invflags & 2 != 0);
        if self.flags & 4 != 0 {
            let _ = write!(out, "{} --rt-len {}", inv(4), self.hdrlen);
        }
        if self.flags & 8 != 0 {
            out.push_str(" --rt-0-res");
        }
        if self.flags & 0x10 != 0 {
            out.push_str(" --rt-0-addrs");
        }
        for (i, a) in self.addrs.iter().enumerate() {
            out.push(if i == 0 { ' ' } else { ',' });
            out.push_str(&ip6(&Ipv6Addr::from(*a)));
        }
        if self.flags & 0x20 != 0 {
            out.push_str(" --rt-0-not-strict");
        }
    }
}
