//! `conntrack` match, revisions 1 to 3 (rev 0, `xt_conntrack_info`, left the kernel in 2.6.x).
//!
//! ```text
//! struct xt_conntrack_mtinfo1 (152) / mtinfo2 (156) / mtinfo3 (164):
//!     0 nf_inet_addr origsrc_addr, 16 origsrc_mask, 32 origdst_addr, 48 origdst_mask,
//!    64 replsrc_addr, 80 replsrc_mask, 96 repldst_addr, 112 repldst_mask,
//!   128 u32 expires_min, 132 u32 expires_max, 136 u16 l4proto,
//!   138 u16 origsrc_port, 140 origdst_port, 142 replsrc_port, 144 repldst_port
//!       (rev 1/2: network order; rev 3: host order),
//!   146 u16 match_flags, 148 u16 invert_flags,
//!   rev 1: 150 u8 state_mask, 151 u8 status_mask
//!   rev 2/3: 150 u16 state_mask, 152 u16 status_mask
//!   rev 3: 154 u16 origsrc_port_high, 156 origdst_port_high, 158 replsrc_port_high,
//!          160 repldst_port_high
//! ```
//! state bits: INVALID 1, ESTABLISHED 2, RELATED 4, NEW 8, SNAT 64, DNAT 128, UNTRACKED 256.
//! `XT_CONNTRACK_STATE_ALIAS` (1 << 13) in match_flags: written by `-m state` (iptables-nft), and
//! printed back as `-m state --state …`.

use super::fmt::{bang, flag_names, ip4_mask, ip6, ip6_mask, Rd};
use super::{Ctx, Ext, NFPROTO_IPV4, NFPROTO_IPV6};
use serde::Serialize;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

pub const STATE: u16 = 1 << 0;
pub const PROTO: u16 = 1 << 1;
pub const ORIGSRC: u16 = 1 << 2;
pub const ORIGDST: u16 = 1 << 3;
pub const REPLSRC: u16 = 1 << 4;
pub const REPLDST: u16 = 1 << 5;
pub const STATUS: u16 = 1 << 6;
pub const EXPIRES: u16 = 1 << 7;
pub const ORIGSRC_PORT: u16 = 1 << 8;
pub const ORIGDST_PORT: u16 = 1 << 9;
pub const REPLSRC_PORT: u16 = 1 << 10;
pub const REPLDST_PORT: u16 = 1 << 11;
pub const DIRECTION: u16 = 1 << 12;
pub const STATE_ALIAS: u16 = 1 << 13;

const STATE_NAMES: [(u32, &str); 7] = [
    (1, "INVALID"),
    (8, "NEW"),
    (4, "RELATED"),
    (2, "ESTABLISHED"),
    (256, "UNTRACKED"),
    (64, "SNAT"),
    (128, "DNAT"),
];
const STATUS_NAMES: [(u32, &str); 4] = [
    (1, "EXPECTED"),
    (2, "SEEN_REPLY"),
    (4, "ASSURED"),
    (8, "CONFIRMED"),
];

/// An address and mask (`union nf_inet_addr`), all 16 bytes kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AddrMask {
    pub addr: [u8; 16],
    pub mask: [u8; 16],
}

impl AddrMask {
    fn print(&self, family: u8, out: &mut String) {
        let a4 = |b: &[u8; 16]| Ipv4Addr::new(b[0], b[1], b[2], b[3]);
        match family {
            NFPROTO_IPV4 => {
                let _ = write!(out, " {}{}", a4(&self.addr), ip4_mask(a4(&self.mask)));
            }
            NFPROTO_IPV6 => {
                let a = Ipv6Addr::from(self.addr);
                let _ = write!(out, " {}{}", ip6(&a), ip6_mask(Ipv6Addr::from(self.mask)));
            }
            _ => {}
        }
    }
}

/// `-m conntrack --ctstate … --ctproto … --ctorigsrc …` (normalised to the rev 3 fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conntrack {
    pub rev: u8,
    pub family: u8,
    pub origsrc: AddrMask,
    pub origdst: AddrMask,
    pub replsrc: AddrMask,
    pub repldst: AddrMask,
    pub expires_min: u32,
    pub expires_max: u32,
    pub l4proto: u16,
    /// Host order; for rev 1/2 converted from the network-order fields.
    pub ports: [u16; 4],
    /// Rev 3 upper bounds (0 otherwise).
    pub ports_high: [u16; 4],
    pub match_flags: u16,
    pub invert_flags: u16,
    pub state_mask: u16,
    pub status_mask: u16,
}

impl Conntrack {
    pub fn parse(rev: u8, family: u8, d: &[u8]) -> Option<Conntrack> {
        let r = match rev {
            1 => Rd::sized(d, 152)?,
            2 => Rd::sized(d, 156)?,
            3 => Rd::sized(d, 164)?,
            _ => return None,
        };
        let am = |o: usize| {
            Some(AddrMask {
                addr: r.arr(o)?,
                mask: r.arr(o + 16)?,
            })
        };
        let port = |o: usize| if rev == 3 { r.u16(o) } else { r.be16(o) };
        let (state_mask, status_mask) = if rev == 1 {
            (u16::from(r.u8(150)?), u16::from(r.u8(151)?))
        } else {
            (r.u16(150)?, r.u16(152)?)
        };
        let ports_high = if rev == 3 {
            [r.u16(154)?, r.u16(156)?, r.u16(158)?, r.u16(160)?]
        } else {
            [0; 4]
        };
        Some(Conntrack {
            rev,
            family,
            origsrc: am(0)?,
            origdst: am(32)?,
            replsrc: am(64)?,
            repldst: am(96)?,
            expires_min: r.u32(128)?,
            expires_max: r.u32(132)?,
            l4proto: r.u16(136)?,
            ports: [port(138)?, port(140)?, port(142)?, port(144)?],
            ports_high,
            match_flags: r.u16(146)?,
            invert_flags: r.u16(148)?,
            state_mask,
            status_mask,
        })
    }

    /// Written as `-m state` (iptables-nft turns `-m state` into conntrack with this flag).
    pub fn is_state_alias(&self) -> bool {
        self.match_flags & STATE_ALIAS != 0
    }
}

impl Ext for Conntrack {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        let (mf, inv) = (self.match_flags, self.invert_flags);
        let alias = self.is_state_alias();
        out.push_str(if alias { " -m state" } else { " -m conntrack" });
        if mf & STATE != 0 {
            bang(out, inv & STATE != 0);
            out.push_str(if alias { " --state" } else { " --ctstate" });
            let mask = u32::from(self.state_mask);
            if STATE_NAMES.iter().any(|&(b, _)| mask & b != 0) {
                out.push(' ');
                flag_names(out, mask, &STATE_NAMES);
            }
        }
        if mf & PROTO != 0 {
            bang(out, inv & PROTO != 0);
            let _ = write!(out, " --ctproto {}", self.l4proto);
        }
        let addrs = [
            (ORIGSRC, "ctorigsrc", &self.origsrc),
            (ORIGDST, "ctorigdst", &self.origdst),
            (REPLSRC, "ctreplsrc", &self.replsrc),
            (REPLDST, "ctrepldst", &self.repldst),
        ];
        for (bit, opt, a) in addrs {
            if mf & bit != 0 {
                bang(out, inv & bit != 0);
                let _ = write!(out, " --{opt}");
                a.print(self.family, out);
            }
        }
        let ports = [
            "ctorigsrcport",
            "ctorigdstport",
            "ctreplsrcport",
            "ctrepldstport",
        ];
        for (i, opt) in ports.iter().enumerate() {
            let bit = ORIGSRC_PORT << i;
            if mf & bit != 0 {
                bang(out, inv & bit != 0);
                let (lo, hi) = (self.ports[i], self.ports_high[i]);
                if hi == 0 || lo == hi {
                    let _ = write!(out, " --{opt} {lo}");
                } else {
                    let _ = write!(out, " --{opt} {lo}:{hi}");
                }
            }
        }
        if mf & STATUS != 0 {
            bang(out, inv & STATUS != 0);
            out.push_str(" --ctstatus");
            let mask = u32::from(self.status_mask);
            if STATUS_NAMES.iter().any(|&(b, _)| mask & b != 0) {
                out.push(' ');
                flag_names(out, mask, &STATUS_NAMES);
            }
            if mask == 0 {
                out.push_str(" NONE");
            }
        }
        if mf & EXPIRES != 0 {
            bang(out, inv & EXPIRES != 0);
            if self.expires_min == self.expires_max {
                let _ = write!(out, " --ctexpire {}", self.expires_min);
            } else {
                let _ = write!(out, " --ctexpire {}:{}", self.expires_min, self.expires_max);
            }
        }
        if mf & DIRECTION != 0 {
            let dir = if inv & DIRECTION != 0 {
                "REPLY"
            } else {
                "ORIGINAL"
            };
            let _ = write!(out, " --ctdir {dir}");
        }
    }
}
