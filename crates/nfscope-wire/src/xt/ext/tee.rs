//! `TEE` target.
//!
//! ```text
//! struct xt_tee_tginfo (40, user-visible 32): 0 nf_inet_addr gw, 16 char oif[16],
//!                                             32 priv pointer (kernel only)
//! ```

use super::fmt::{ip6, Rd};
use super::{Ctx, Ext, NFPROTO_IPV4, NFPROTO_IPV6};
use serde::Serialize;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

/// `-j TEE --gateway ADDR [--oif IF]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tee {
    pub family: u8,
    pub gw: [u8; 16],
    pub oif: String,
}

impl Tee {
    pub fn parse(rev: u8, family: u8, d: &[u8]) -> Option<Tee> {
        if rev != 1 || !matches!(family, NFPROTO_IPV4 | NFPROTO_IPV6) {
            return None;
        }
        let r = Rd::sized_user(d, 40, 32)?;
        Some(Tee {
            family,
            gw: r.arr(0)?,
            oif: r.cstr(16, 16)?,
        })
    }
}

impl Ext for Tee {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        let g = &self.gw;
        let gw = if self.family == NFPROTO_IPV4 {
            Ipv4Addr::new(g[0], g[1], g[2], g[3]).to_string()
        } else {
            ip6(&Ipv6Addr::from(*g))
        };
        let _ = write!(out, " -j TEE --gateway {gw}");
        if !self.oif.is_empty() {
            let _ = write!(out, " --oif {}", self.oif);
        }
    }
}
