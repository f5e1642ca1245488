//! ebtables `ip` match (`libebt_ip.c`).
//!
//! ```text
//! struct ebt_ip_info (28): 0 be32 saddr, 4 be32 daddr, 8 be32 smsk, 12 be32 dmsk, 16 u8 tos,
//!   17 u8 protocol, 18 u8 bitmask, 19 u8 invflags, 20 u16 sport[2] | u8 icmp_type[2] |
//!   u8 igmp_type[2], 24 u16 dport[2] | u8 icmp_code[2]
//! ```
//! bitmask: 0x01 SOURCE, 0x02 DEST, 0x04 TOS, 0x08 PROTO, 0x10 SPORT, 0x20 DPORT, 0x40 ICMP,
//! 0x80 IGMP. ICMP and IGMP types print by name where `libxt_icmp.h` has one
//! ([`super::icmp::ebt_icmp_type`]).

use super::fmt::{ip4_mask, Rd};
use super::icmp::{ebt_icmp_type, ICMP_NAMES, IGMP_NAMES};
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;
use std::net::Ipv4Addr;

/// `--ip-src --ip-dst --ip-tos --ip-proto --ip-sport --ip-dport --ip-icmp-type --ip-igmp-type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EbtIp {
    pub saddr: Ipv4Addr,
    pub daddr: Ipv4Addr,
    pub smsk: Ipv4Addr,
    pub dmsk: Ipv4Addr,
    pub tos: u8,
    pub protocol: u8,
    pub bitmask: u8,
    pub invflags: u8,
    /// Also `icmp_type` / `igmp_type` (their bytes, in order) when ICMP / IGMP is set.
    pub sport: [u16; 2],
    /// Also `icmp_code` when ICMP is set.
    pub dport: [u16; 2],
}

impl EbtIp {
    pub fn parse(rev: u8, d: &[u8]) -> Option<EbtIp> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 28)?;
        let bitmask = r.u8(18)?;
        Some(EbtIp {
            saddr: r.ip4(0)?,
            daddr: r.ip4(4)?,
            smsk: r.ip4(8)?,
            dmsk: r.ip4(12)?,
            tos: r.u8(16)?,
            protocol: r.u8(17)?,
            bitmask,
            invflags: r.u8(19)?,
            sport: [r.u16(20)?, r.u16(22)?],
            dport: [r.u16(24)?, r.u16(26)?],
        })
    }
}

/// A protocol's name from /etc/protocols (`getprotobynumber`), else its number.
pub(super) fn proto(p: u8) -> String {
    if let Ok(s) = std::fs::read_to_string("/etc/protocols") {
        for l in s.lines() {
            let l = l.split('#').next().unwrap_or("");
            let mut it = l.split_whitespace();
            if let (Some(name), Some(num)) = (it.next(), it.next()) {
                if num.parse::<u8>().ok() == Some(p) {
                    return name.to_string();
                }
            }
        }
    }
    p.to_string()
}

impl Ext for EbtIp {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        let bang = |f: u8| if self.invflags & f != 0 { "! " } else { "" };
        let range = |p: [u16; 2]| {
            if p[0] == p[1] {
                p[0].to_string()
            } else {
                format!("{}:{}", p[0], p[1])
            }
        };
        if self.bitmask & 0x01 != 0 {
            let _ = write!(
                out,
                " --ip-src {}{}{}",
                bang(1),
                self.saddr,
                ip4_mask(self.smsk)
            );
        }
        if self.bitmask & 0x02 != 0 {
            let _ = write!(
                out,
                " --ip-dst {}{}{}",
                bang(2),
                self.daddr,
                ip4_mask(self.dmsk)
            );
        }
        if self.bitmask & 0x04 != 0 {
            let _ = write!(out, " --ip-tos {}0x{:02X}", bang(4), self.tos);
        }
        if self.bitmask & 0x08 != 0 {
            let _ = write!(out, " --ip-proto {}{}", bang(8), proto(self.protocol));
        }
        if self.bitmask & 0x10 != 0 {
            let _ = write!(out, " --ip-sport {}{}", bang(0x10), range(self.sport));
        }
        if self.bitmask & 0x20 != 0 {
            let _ = write!(out, " --ip-dport {}{}", bang(0x20), range(self.dport));
        }
        let (ty, code) = (bytes(self.sport), bytes(self.dport));
        if self.bitmask & 0x40 != 0 {
            let _ = write!(out, " --ip-icmp-type {}", bang(0x40));
            ebt_icmp_type(out, ICMP_NAMES, ty, Some(code));
        }
        if self.bitmask & 0x80 != 0 {
            let _ = write!(out, " --ip-igmp-type {}", bang(0x80));
            ebt_icmp_type(out, IGMP_NAMES, ty, None);
        }
    }
}

/// The two bytes of a `u16 [2]` / `u8 [2]` union read as `u16`s: the `u8 [2]` view.
pub(super) fn bytes(v: [u16; 2]) -> [u8; 2] {
    let b = v[0].to_ne_bytes();
    [b[0], b[1]]
}
