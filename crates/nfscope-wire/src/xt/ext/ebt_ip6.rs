//! ebtables `ip6` match (`libebt_ip6.c`).
//!
//! ```text
//! struct ebt_ip6_info (76): 0 in6 saddr, 16 in6 daddr, 32 in6 smsk, 48 in6 dmsk, 64 u8 tclass,
//!   65 u8 protocol, 66 u8 bitmask, 67 u8 invflags, 68 u16 sport[2] | u8 icmpv6_type[2],
//!   72 u16 dport[2] | u8 icmpv6_code[2]
//! ```
//! bitmask: 0x01 SOURCE, 0x02 DEST, 0x04 TCLASS, 0x08 PROTO, 0x10 SPORT, 0x20 DPORT, 0x40
//! ICMP6. ICMPv6 types print by name where `libxt_icmp.h` has one.

use super::ebt_ip::bytes;
use super::fmt::{ip6, ip6_mask, Rd};
use super::icmp::{ebt_icmp_type, ICMPV6_NAMES};
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;
use std::net::Ipv6Addr;

/// `--ip6-src --ip6-dst --ip6-tclass --ip6-proto --ip6-sport --ip6-dport --ip6-icmp-type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EbtIp6 {
    pub saddr: Ipv6Addr,
    pub daddr: Ipv6Addr,
    pub smsk: Ipv6Addr,
    pub dmsk: Ipv6Addr,
    pub tclass: u8,
    pub protocol: u8,
    pub bitmask: u8,
    pub invflags: u8,
    /// Also `icmpv6_type` (its bytes) when ICMP6 is set.
    pub sport: [u16; 2],
    /// Also `icmpv6_code` when ICMP6 is set.
    pub dport: [u16; 2],
}

impl EbtIp6 {
    pub fn parse(rev: u8, d: &[u8]) -> Option<EbtIp6> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 76)?;
        let bitmask = r.u8(66)?;
        Some(EbtIp6 {
            saddr: r.ip6(0)?,
            daddr: r.ip6(16)?,
            smsk: r.ip6(32)?,
            dmsk: r.ip6(48)?,
            tclass: r.u8(64)?,
            protocol: r.u8(65)?,
            bitmask,
            invflags: r.u8(67)?,
            sport: [r.u16(68)?, r.u16(70)?],
            dport: [r.u16(72)?, r.u16(74)?],
        })
    }
}

impl Ext for EbtIp6 {
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
                " --ip6-src {}{}{}",
                bang(1),
                ip6(&self.saddr),
                ip6_mask(self.smsk)
            );
        }
        if self.bitmask & 0x02 != 0 {
            let _ = write!(
                out,
                " --ip6-dst {}{}{}",
                bang(2),
                ip6(&self.daddr),
                ip6_mask(self.dmsk)
            );
        }
        if self.bitmask & 0x04 != 0 {
            let _ = write!(out, " --ip6-tclass {}0x{:02X}", bang(4), self.tclass);
        }
        if self.bitmask & 0x08 != 0 {
            let _ = write!(
                out,
                " --ip6-proto {}{}",
                bang(8),
                super::ebt_ip::proto(self.protocol)
            );
        }
        if self.bitmask & 0x10 != 0 {
            let _ = write!(out, " --ip6-sport {}{}", bang(0x10), range(self.sport));
        }
        if self.bitmask & 0x20 != 0 {
            let _ = write!(out, " --ip6-dport {}{}", bang(0x20), range(self.dport));
        }
        if self.bitmask & 0x40 != 0 {
            let _ = write!(out, " --ip6-icmp-type {}", bang(0x40));
            let (ty, code) = (bytes(self.sport), bytes(self.dport));
            ebt_icmp_type(out, ICMPV6_NAMES, ty, Some(code));
        }
    }
}
