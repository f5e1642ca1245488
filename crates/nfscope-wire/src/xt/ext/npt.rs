//! `SNPT` / `DNPT` targets (IPv6 network prefix translation).
//!
//! ```text
//! struct ip6t_npt_tginfo (36, user-visible 34): 0 nf_inet_addr src_pfx, 16 dst_pfx,
//!   32 u8 src_pfx_len, 33 u8 dst_pfx_len, 34 __sum16 adjustment (kernel only)
//! ```

use super::fmt::{ip6, Rd};
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;
use std::net::Ipv6Addr;

/// `-j SNPT|DNPT --src-pfx P/N --dst-pfx P/N`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Npt {
    /// `SNPT` or `DNPT`.
    pub name: String,
    pub src_pfx: [u8; 16],
    pub dst_pfx: [u8; 16],
    pub src_pfx_len: u8,
    pub dst_pfx_len: u8,
}

impl Npt {
    pub fn parse(name: &str, rev: u8, d: &[u8]) -> Option<Npt> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized_user(d, 36, 34)?;
        Some(Npt {
            name: name.to_string(),
            src_pfx: r.arr(0)?,
            dst_pfx: r.arr(16)?,
            src_pfx_len: r.u8(32)?,
            dst_pfx_len: r.u8(33)?,
        })
    }
}

impl Ext for Npt {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        let _ = write!(out, " -j {}", self.name);
        for (opt, pfx, len) in [
            ("--src-pfx", &self.src_pfx, self.src_pfx_len),
            ("--dst-pfx", &self.dst_pfx, self.dst_pfx_len),
        ] {
            if *pfx != [0; 16] || len != 0 {
                let _ = write!(out, " {opt} {}/{len}", ip6(&Ipv6Addr::from(*pfx)));
            }
        }
    }
}
