//! NAT targets: `SNAT`, `DNAT`, `MASQUERADE`, `REDIRECT`, `NETMAP`, in all their revisions.
//!
//! ```text
//! struct nf_nat_ipv4_multi_range_compat (20): 0 u32 rangesize,
//!     4 struct nf_nat_ipv4_range { 4 u32 flags, 8 be32 min_ip, 12 be32 max_ip,
//!                                  16 be16 min port, 18 be16 max port }
//! struct nf_nat_range (40):  0 u32 flags, 4 nf_inet_addr min_addr, 20 max_addr,
//!                            36 be16 min_proto, 38 be16 max_proto
//! struct nf_nat_range2 (44): nf_nat_range + 40 be16 base_proto
//! ```
//! Which one: rev 0 in IPv4 (SNAT, DNAT, MASQUERADE, REDIRECT, NETMAP) is the compat struct;
//! rev 0 in IPv6 (MASQUERADE, REDIRECT, NETMAP) and rev 1 (SNAT, DNAT) are `nf_nat_range`;
//! rev 2 (DNAT, SNAT) is `nf_nat_range2`.
//! flags: MAP_IPS 1, PROTO_SPECIFIED 2, PROTO_RANDOM 4, PERSISTENT 8, PROTO_RANDOM_FULLY 16,
//! PROTO_OFFSET 32, NETMAP 64.

use super::fmt::{ip6, Rd};
use super::{Ctx, Ext, NFPROTO_IPV4, NFPROTO_IPV6};
use serde::Serialize;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

pub const MAP_IPS: u32 = 1;
pub const PROTO_SPECIFIED: u32 = 2;
pub const PROTO_RANDOM: u32 = 4;
pub const PERSISTENT: u32 = 8;
pub const PROTO_RANDOM_FULLY: u32 = 16;
pub const PROTO_OFFSET: u32 = 32;

/// A NAT target, normalised to `nf_nat_range2`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Nat {
    /// `SNAT`, `DNAT`, `MASQUERADE`, `REDIRECT` or `NETMAP`.
    pub name: String,
    pub rev: u8,
    pub family: u8,
    pub flags: u32,
    pub min_addr: [u8; 16],
    pub max_addr: [u8; 16],
    /// Host order.
    pub min_port: u16,
    pub max_port: u16,
    pub base_port: u16,
}

impl Nat {
    pub fn parse(name: &str, rev: u8, family: u8, d: &[u8]) -> Option<Nat> {
        let v4 = match family {
            NFPROTO_IPV4 => true,
            NFPROTO_IPV6 => false,
            _ => return None,
        };
        let compat = rev == 0 && v4;
        match (name, rev) {
            ("SNAT" | "DNAT", 0) if v4 => {}
            ("SNAT" | "DNAT", 1 | 2) => {}
            ("MASQUERADE" | "REDIRECT" | "NETMAP", 0) => {}
            _ => return None,
        }
        let mut n = Nat {
            name: name.to_string(),
            rev,
            family,
            flags: 0,
            min_addr: [0; 16],
            max_addr: [0; 16],
            min_port: 0,
            max_port: 0,
            base_port: 0,
        };
        if compat {
            let r = Rd::sized(d, 20)?;
            n.flags = r.u32(4)?;
            n.min_addr[..4].copy_from_slice(r.bytes(8, 4)?);
            n.max_addr[..4].copy_from_slice(r.bytes(12, 4)?);
            n.min_port = r.be16(16)?;
            n.max_port = r.be16(18)?;
        } else {
            let r = if rev == 2 {
                Rd::sized(d, 44)?
            } else {
                Rd::sized(d, 40)?
            };
            n.flags = r.u32(0)?;
            n.min_addr = r.arr(4)?;
            n.max_addr = r.arr(20)?;
            n.min_port = r.be16(36)?;
            n.max_port = r.be16(38)?;
            if rev == 2 {
                n.base_port = r.be16(40)?;
            }
        }
        Some(n)
    }

    fn addr(&self, a: &[u8; 16]) -> String {
        if self.family == NFPROTO_IPV4 {
            Ipv4Addr::new(a[0], a[1], a[2], a[3]).to_string()
        } else {
            ip6(&Ipv6Addr::from(*a))
        }
    }

    /// `sprint_range`: `[min-max]:port-port/base`.
    fn range(&self) -> String {
        let v6 = self.family == NFPROTO_IPV6;
        let brackets = v6 && self.flags & PROTO_SPECIFIED != 0;
        let mut s = String::new();
        if self.flags & MAP_IPS != 0 {
            if brackets {
                s.push('[');
            }
            s.push_str(&self.addr(&self.min_addr));
            let differ = if v6 {
                self.min_addr != self.max_addr
            } else {
                self.min_addr[..4] != self.max_addr[..4]
            };
            if differ {
                s.push('-');
                s.push_str(&self.addr(&self.max_addr));
            }
            if brackets {
                s.push(']');
            }
        }
        if self.flags & PROTO_SPECIFIED != 0 {
            let _ = write!(s, ":{}", self.min_port);
            if self.max_port != self.min_port {
                let _ = write!(s, "-{}", self.max_port);
            }
            if self.flags & PROTO_OFFSET != 0 {
                let _ = write!(s, "/{}", self.base_port);
            }
        }
        s
    }

    fn netmap(&self, out: &mut String) {
        out.push_str(" --to ");
        if self.family == NFPROTO_IPV4 {
            let (lo, hi) = (&self.min_addr[..4], &self.max_addr[..4]);
            let m = !(u32::from_be_bytes([lo[0], lo[1], lo[2], lo[3]])
                ^ u32::from_be_bytes([hi[0], hi[1], hi[2], hi[3]]));
            let _ = write!(out, "{}", Ipv4Addr::new(lo[0], lo[1], lo[2], lo[3]));
            if m.leading_ones() + m.trailing_zeros() == 32 {
                let _ = write!(out, "/{}", m.leading_ones());
            } else {
                let _ = write!(out, "/{}", Ipv4Addr::from(m));
            }
        } else {
            let m = !(u128::from_be_bytes(self.min_addr) ^ u128::from_be_bytes(self.max_addr));
            let _ = write!(out, "{}", ip6(&Ipv6Addr::from(self.min_addr)));
            if m.leading_ones() + m.trailing_zeros() == 128 {
                let _ = write!(out, "/{}", m.leading_ones());
            } else {
                let _ = write!(out, "/{}", ip6(&Ipv6Addr::from(m)));
            }
        }
    }
}

impl Ext for Nat {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        let _ = write!(out, " -j {}", self.name);
        if self.name == "NETMAP" {
            self.netmap(out);
            return;
        }
        let (opt, skip_colon) = match self.name.as_str() {
            "SNAT" => ("--to-source ", false),
            "DNAT" => ("--to-destination ", false),
            _ => ("--to-ports ", true),
        };
        let r = self.range();
        if !r.is_empty() {
            let r = if skip_colon {
                r.strip_prefix(':').unwrap_or(&r)
            } else {
                &r
            };
            let _ = write!(out, " {opt}{r}");
        }
        if self.flags & PROTO_RANDOM != 0 {
            out.push_str(" --random");
        }
        if self.flags & PROTO_RANDOM_FULLY != 0 {
            out.push_str(" --random-fully");
        }
        if self.flags & PERSISTENT != 0 {
            out.push_str(" --persistent");
        }
    }
}
