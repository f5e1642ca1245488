//! `REJECT` target (IPv4 `libipt_REJECT`, IPv6 `libip6t_REJECT`).
//!
//! ```text
//! struct ipt_reject_info / ip6t_reject_info (4): 0 u32 with (enum ipt_reject_with /
//! ip6t_reject_with)
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext, NFPROTO_IPV4, NFPROTO_IPV6};
use serde::Serialize;

const V4: [&str; 9] = [
    "icmp-net-unreachable",
    "icmp-host-unreachable",
    "icmp-proto-unreachable",
    "icmp-port-unreachable",
    "echo-reply",
    "icmp-net-prohibited",
    "icmp-host-prohibited",
    "tcp-reset",
    "icmp-admin-prohibited",
];
// Index 5 (IP6T_ICMP6_ECHOREPLY) has no name in iptables (it would print "(null)").
const V6: [&str; 9] = [
    "icmp6-no-route",
    "icmp6-adm-prohibited",
    "icmp6-not-neighbor",
    "icmp6-addr-unreachable",
    "icmp6-port-unreachable",
    "",
    "tcp-reset",
    "icmp6-policy-fail",
    "icmp6-reject-route",
];

/// `-j REJECT --reject-with NAME`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reject {
    pub family: u8,
    pub with: u32,
}

impl Reject {
    pub fn parse(rev: u8, family: u8, d: &[u8]) -> Option<Reject> {
        if rev != 0 {
            return None;
        }
        let with = Rd::sized(d, 4)?.u32(0)?;
        let names = match family {
            NFPROTO_IPV4 => &V4,
            NFPROTO_IPV6 => &V6,
            _ => return None,
        };
        // A value past the table (or the unnamed ip6 echo-reply) stays Unknown.
        names.get(with as usize).filter(|n| !n.is_empty())?;
        Some(Reject { family, with })
    }

    /// The `--reject-with` name.
    pub fn name(&self) -> &'static str {
        let names = if self.family == NFPROTO_IPV6 {
            &V6
        } else {
            &V4
        };
        names.get(self.with as usize).copied().unwrap_or("")
    }
}

impl Ext for Reject {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -j REJECT --reject-with ");
        out.push_str(self.name());
    }
}
