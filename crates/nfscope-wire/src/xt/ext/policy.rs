//! `policy` match (IPsec policy).
//!
//! ```text
//! struct xt_policy_info (308): 0 xt_policy_elem pol[4], 304 u16 flags, 306 u16 len
//! struct xt_policy_elem (76): 0 saddr, 16 smask, 32 daddr, 48 dmask (xt_policy_addr: in_addr
//!   or in6_addr), 64 be32 spi, 68 u32 reqid, 72 u8 proto, 73 u8 mode (TRANSPORT 0, TUNNEL 1),
//!   74 xt_policy_spec match, 75 invert (bits: saddr 1, daddr 2, proto 4, mode 8, spi 16,
//!   reqid 32)
//!   flags: MATCH_IN 1, MATCH_OUT 2, MATCH_NONE 4, MATCH_STRICT 8
//! ```
//! iptables prints the protocol through `getprotobynumber`: esp, ah, ipcomp here.

use super::fmt::{bang, ip4_mask, ip6, ip6_mask, Rd};
use super::{Ctx, Ext, NFPROTO_IPV4, NFPROTO_IPV6};
use serde::Serialize;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

/// One `--next`-separated element.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyElem {
    pub saddr: [u8; 16],
    pub smask: [u8; 16],
    pub daddr: [u8; 16],
    pub dmask: [u8; 16],
    /// As iptables prints it (the network-order field read natively).
    pub spi: u32,
    pub reqid: u32,
    pub proto: u8,
    pub mode: u8,
    pub match_bits: u8,
    pub invert_bits: u8,
}

/// `-m policy --dir in|out --pol none|ipsec [--strict] [--reqid N] [--spi 0x…] [--proto P]
/// [--mode M] [--tunnel-dst A] [--tunnel-src A] [--next …]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Policy {
    pub family: u8,
    pub flags: u16,
    pub elems: Vec<PolicyElem>,
}

impl Policy {
    pub fn parse(rev: u8, family: u8, d: &[u8]) -> Option<Policy> {
        if rev != 0 || !matches!(family, NFPROTO_IPV4 | NFPROTO_IPV6) {
            return None;
        }
        let r = Rd::sized(d, 308)?;
        let len = usize::from(r.u16(306)?);
        if len > 4 {
            return None;
        }
        let elems = (0..len)
            .map(|i| {
                let b = 76 * i;
                Some(PolicyElem {
                    saddr: r.arr(b)?,
                    smask: r.arr(b + 16)?,
                    daddr: r.arr(b + 32)?,
                    dmask: r.arr(b + 48)?,
                    spi: r.u32(b + 64)?,
                    reqid: r.u32(b + 68)?,
                    proto: r.u8(b + 72)?,
                    mode: r.u8(b + 73)?,
                    match_bits: r.u8(b + 74)?,
                    invert_bits: r.u8(b + 75)?,
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(Policy {
            family,
            flags: r.u16(304)?,
            elems,
        })
    }

    fn addr(&self, a: &[u8; 16], m: &[u8; 16]) -> String {
        if self.family == NFPROTO_IPV4 {
            let m4 = Ipv4Addr::new(m[0], m[1], m[2], m[3]);
            format!("{}{}", Ipv4Addr::new(a[0], a[1], a[2], a[3]), ip4_mask(m4))
        } else {
            format!(
                "{}{}",
                ip6(&Ipv6Addr::from(*a)),
                ip6_mask(Ipv6Addr::from(*m))
            )
        }
    }
}

impl Ext for Policy {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m policy");
        let f = self.flags;
        out.push_str(if f & 1 != 0 {
            " --dir in"
        } else {
            " --dir out"
        });
        out.push_str(if f & 4 != 0 {
            " --pol none"
        } else {
            " --pol ipsec"
        });
        if f & 8 != 0 {
            out.push_str(" --strict");
        }
        for (i, e) in self.elems.iter().enumerate() {
            let (m, inv) = (e.match_bits, e.invert_bits);
            if m & 32 != 0 {
                bang(out, inv & 32 != 0);
                let _ = write!(out, " --reqid {}", e.reqid);
            }
            if m & 16 != 0 {
                bang(out, inv & 16 != 0);
                let _ = write!(out, " --spi 0x{:x}", e.spi);
            }
            if m & 4 != 0 {
                bang(out, inv & 4 != 0);
                let _ = match e.proto {
                    50 => write!(out, " --proto esp"),
                    51 => write!(out, " --proto ah"),
                    108 => write!(out, " --proto ipcomp"),
                    p => write!(out, " --proto {p}"),
                };
            }
            if m & 8 != 0 {
                bang(out, inv & 8 != 0);
                out.push_str(match e.mode {
                    0 => " --mode transport",
                    1 => " --mode tunnel",
                    _ => " --mode ???",
                });
            }
            if m & 2 != 0 {
                bang(out, inv & 2 != 0);
                let _ = write!(out, " --tunnel-dst {}", self.addr(&e.daddr, &e.dmask));
            }
            if m & 1 != 0 {
                bang(out, inv & 1 != 0);
                let _ = write!(out, " --tunnel-src {}", self.addr(&e.saddr, &e.smask));
            }
            if i + 1 < self.elems.len() {
                out.push_str(" --next");
            }
        }
    }
}
