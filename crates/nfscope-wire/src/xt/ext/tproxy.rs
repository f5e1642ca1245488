//! `TPROXY` target (rev 0 IPv4, rev 1 IPv4/IPv6).
//!
//! ```text
//! struct xt_tproxy_target_info (16):    0 u32 mark_mask, 4 u32 mark_value, 8 be32 laddr,
//!                                       12 be16 lport
//! struct xt_tproxy_target_info_v1 (28): 0 u32 mark_mask, 4 u32 mark_value,
//!                                       8 nf_inet_addr laddr, 24 be16 lport
//! ```

use super::fmt::{ip6, Rd};
use super::{Ctx, Ext, NFPROTO_IPV4, NFPROTO_IPV6};
use serde::Serialize;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

/// `-j TPROXY --on-port P --on-ip A --tproxy-mark 0xV/0xM`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tproxy {
    pub family: u8,
    pub mark_mask: u32,
    pub mark_value: u32,
    pub laddr: [u8; 16],
    pub lport: u16,
}

impl Tproxy {
    pub fn parse(rev: u8, family: u8, d: &[u8]) -> Option<Tproxy> {
        let (r, family, port_at) = match (rev, family) {
            (0, NFPROTO_IPV4) => (Rd::sized(d, 16)?, NFPROTO_IPV4, 12),
            (1, NFPROTO_IPV4 | NFPROTO_IPV6) => (Rd::sized(d, 28)?, family, 24),
            _ => return None,
        };
        let mut laddr = [0u8; 16];
        let n = if rev == 0 { 4 } else { 16 };
        laddr[..n].copy_from_slice(r.bytes(8, n)?);
        Some(Tproxy {
            family,
            mark_mask: r.u32(0)?,
            mark_value: r.u32(4)?,
            laddr,
            lport: r.be16(port_at)?,
        })
    }
}

impl Ext for Tproxy {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        let a = &self.laddr;
        let ip = if self.family == NFPROTO_IPV4 {
            Ipv4Addr::new(a[0], a[1], a[2], a[3]).to_string()
        } else {
            ip6(&Ipv6Addr::from(*a))
        };
        let _ = write!(
            out,
            " -j TPROXY --on-port {} --on-ip {ip} --tproxy-mark 0x{:x}/0x{:x}",
            self.lport, self.mark_value, self.mark_mask
        );
    }
}
