//! `icmp` (IPv4) and `icmp6` matches.
//!
//! ```text
//! struct ipt_icmp / ip6t_icmp (4): 0 u8 type, 1 u8 code[2] (min, max), 3 u8 invflags (INV 0x01)
//! ```

use super::fmt::{bang, Rd};
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-m icmp [!] --icmp-type T[/C]` or `-m icmp6 [!] --icmpv6-type T[/C]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Icmp {
    pub v6: bool,
    pub icmp_type: u8,
    pub code: [u8; 2],
    pub invert: bool,
}

impl Icmp {
    pub fn parse(name: &str, rev: u8, d: &[u8]) -> Option<Icmp> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 4)?;
        Some(Icmp {
            v6: name == "icmp6",
            icmp_type: r.u8(0)?,
            code: [r.u8(1)?, r.u8(2)?],
            invert: r.u8(3)? & 1 != 0,
        })
    }
}

impl Ext for Icmp {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        if self.v6 {
            out.push_str(" -m icmp6");
            bang(out, self.invert);
            let _ = write!(out, " --icmpv6-type {}", self.icmp_type);
        } else {
            out.push_str(" -m icmp");
            bang(out, self.invert);
            if self.icmp_type == 0xff {
                out.push_str(" --icmp-type any");
                return;
            }
            let _ = write!(out, " --icmp-type {}", self.icmp_type);
        }
        if self.code != [0, 0xff] {
            let _ = write!(out, "/{}", self.code[0]);
        }
    }
}

/// One name of `libxt_icmp.h`: a type, with the code range it stands for.
pub type IcmpName = (&'static str, u8, u8, u8);

/// `icmp_codes` of `libxt_icmp.h` (ebtables prints ICMP types with them), aliases after the
/// name they alias: the first entry whose type and code range fit is printed.
pub const ICMP_NAMES: &[IcmpName] = &[
    ("any", 0xff, 0, 0xff),
    ("echo-reply", 0, 0, 0xff),
    ("pong", 0, 0, 0xff),
    ("destination-unreachable", 3, 0, 0xff),
    ("network-unreachable", 3, 0, 0),
    ("host-unreachable", 3, 1, 1),
    ("protocol-unreachable", 3, 2, 2),
    ("port-unreachable", 3, 3, 3),
    ("fragmentation-needed", 3, 4, 4),
    ("source-route-failed", 3, 5, 5),
    ("network-unknown", 3, 6, 6),
    ("host-unknown", 3, 7, 7),
    ("network-prohibited", 3, 9, 9),
    ("host-prohibited", 3, 10, 10),
    ("TOS-network-unreachable", 3, 11, 11),
    ("TOS-host-unreachable", 3, 12, 12),
    ("communication-prohibited", 3, 13, 13),
    ("host-precedence-violation", 3, 14, 14),
    ("precedence-cutoff", 3, 15, 15),
    ("source-quench", 4, 0, 0xff),
    ("redirect", 5, 0, 0xff),
    ("network-redirect", 5, 0, 0),
    ("host-redirect", 5, 1, 1),
    ("TOS-network-redirect", 5, 2, 2),
    ("TOS-host-redirect", 5, 3, 3),
    ("echo-request", 8, 0, 0xff),
    ("ping", 8, 0, 0xff),
    ("router-advertisement", 9, 0, 0xff),
    ("router-solicitation", 10, 0, 0xff),
    ("time-exceeded", 11, 0, 0xff),
    ("ttl-exceeded", 11, 0, 0xff),
    ("ttl-zero-during-transit", 11, 0, 0),
    ("ttl-zero-during-reassembly", 11, 1, 1),
    ("parameter-problem", 12, 0, 0xff),
    ("ip-header-bad", 12, 0, 0),
    ("required-option-missing", 12, 1, 1),
    ("timestamp-request", 13, 0, 0xff),
    ("timestamp-reply", 14, 0, 0xff),
    ("address-mask-request", 17, 0, 0xff),
    ("address-mask-reply", 18, 0, 0xff),
];

/// `icmpv6_codes` of `libxt_icmp.h`.
pub const ICMPV6_NAMES: &[IcmpName] = &[
    ("destination-unreachable", 1, 0, 0xff),
    ("no-route", 1, 0, 0),
    ("communication-prohibited", 1, 1, 1),
    ("beyond-scope", 1, 2, 2),
    ("address-unreachable", 1, 3, 3),
    ("port-unreachable", 1, 4, 4),
    ("failed-policy", 1, 5, 5),
    ("reject-route", 1, 6, 6),
    ("packet-too-big", 2, 0, 0xff),
    ("time-exceeded", 3, 0, 0xff),
    ("ttl-exceeded", 3, 0, 0xff),
    ("ttl-zero-during-transit", 3, 0, 0),
    ("ttl-zero-during-reassembly", 3, 1, 1),
    ("parameter-problem", 4, 0, 0xff),
    ("bad-header", 4, 0, 0),
    ("unknown-header-type", 4, 1, 1),
    ("unknown-option", 4, 2, 2),
    ("echo-request", 128, 0, 0xff),
    ("ping", 128, 0, 0xff),
    ("echo-reply", 129, 0, 0xff),
    ("pong", 129, 0, 0xff),
    ("router-solicitation", 133, 0, 0xff),
    ("router-advertisement", 134, 0, 0xff),
    ("neighbour-solicitation", 135, 0, 0xff),
    ("neighbor-solicitation", 135, 0, 0xff),
    ("neighbour-advertisement", 136, 0, 0xff),
    ("neighbor-advertisement", 136, 0, 0xff),
    ("redirect", 137, 0, 0xff),
];

/// `igmp_types` of `libxt_icmp.h` (no codes).
pub const IGMP_NAMES: &[IcmpName] = &[
    ("membership-query", 0x11, 0, 0),
    ("membership-report-v1", 0x12, 0, 0),
    ("membership-report-v2", 0x16, 0, 0),
    ("leave-group", 0x17, 0, 0),
    ("membership-report-v3", 0x22, 0, 0),
];

/// An ICMP / ICMPv6 / IGMP type (range) as ebtables' `ip` and `ip6` matches print it
/// (`ebt_print_icmp_type`): a range as `LO:HI`, a single type by the first name of that type
/// whose code range is `code` (IGMP has no code: any name of the type), else the number; then,
/// unless named, `/C` or `/CLO:CHI` when there is a code. (ebtables 1.8.9 prints no space after
/// an IGMP type it does not name, so its text runs into the next option: not copied here.)
pub fn ebt_icmp_type(out: &mut String, names: &[IcmpName], ty: [u8; 2], code: Option<[u8; 2]>) {
    if ty[0] == ty[1] {
        let fits = |n: &&IcmpName| n.1 == ty[0] && code.is_none_or(|c| (n.2, n.3) == (c[0], c[1]));
        if let Some(n) = names.iter().find(fits) {
            out.push_str(n.0);
            return;
        }
        let _ = write!(out, "{}", ty[0]);
    } else {
        let _ = write!(out, "{}:{}", ty[0], ty[1]);
    }
    match code {
        Some([lo, hi]) if lo == hi => {
            let _ = write!(out, "/{lo}");
        }
        Some([lo, hi]) => {
            let _ = write!(out, "/{lo}:{hi}");
        }
        None => {}
    }
}
