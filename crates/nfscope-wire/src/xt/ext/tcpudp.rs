//! `tcp` and `udp` matches (the `-p tcp` / `-p udp` implicit matches).
//!
//! ```text
//! struct xt_tcp (12): 0 u16 spts[2], 4 u16 dpts[2], 8 u8 option, 9 u8 flg_mask,
//!                     10 u8 flg_cmp, 11 u8 invflags (XT_TCP_INV_SRCPT 1, DSTPT 2, FLAGS 4, OPTION 8)
//! struct xt_udp (10): 0 u16 spts[2], 4 u16 dpts[2], 8 u8 invflags (XT_UDP_INV_SRCPT 1, DSTPT 2)
//! ```
//! Ports are in host order.

use super::fmt::{bang, port_range, Rd};
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

const TCP_FLAGS: [(u8, &str); 6] = [
    (0x01, "FIN"),
    (0x02, "SYN"),
    (0x04, "RST"),
    (0x08, "PSH"),
    (0x10, "ACK"),
    (0x20, "URG"),
];

/// A port range as `tcp_save` prints it (nothing for 0:65535 uninverted).
fn ports(out: &mut String, opt: &str, r: [u16; 2], inv: bool) {
    if r == [0, 0xffff] {
        return;
    }
    bang(out, inv);
    port_range(out, opt, r);
}

/// `print_tcpf`: names joined by `,`, `NONE` for no flags.
fn tcp_flags(out: &mut String, f: u8) {
    if f == 0 {
        out.push_str("NONE");
        return;
    }
    let mut first = true;
    for (bit, n) in TCP_FLAGS {
        if f & bit != 0 {
            if !first {
                out.push(',');
            }
            out.push_str(n);
            first = false;
        }
    }
}

/// `-m tcp [!] --sport A[:B] [!] --dport A[:B] [!] --tcp-option N [!] --tcp-flags MASK CMP`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tcp {
    pub spts: [u16; 2],
    pub dpts: [u16; 2],
    pub option: u8,
    pub flg_mask: u8,
    pub flg_cmp: u8,
    pub invflags: u8,
}

impl Tcp {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Tcp> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 12)?;
        let t = Tcp {
            spts: [r.u16(0)?, r.u16(2)?],
            dpts: [r.u16(4)?, r.u16(6)?],
            option: r.u8(8)?,
            flg_mask: r.u8(9)?,
            flg_cmp: r.u8(10)?,
            invflags: r.u8(11)?,
        };
        // Flags beyond URG have no name (iptables would read past its table).
        if (t.flg_mask | t.flg_cmp) & 0xc0 != 0 || t.invflags & !0x0f != 0 {
            return None;
        }
        Some(t)
    }
}

impl Ext for Tcp {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m tcp");
        ports(out, "--sport", self.spts, self.invflags & 1 != 0);
        ports(out, "--dport", self.dpts, self.invflags & 2 != 0);
        let inv_opt = self.invflags & 8 != 0;
        if self.option != 0 || inv_opt {
            bang(out, inv_opt);
            let _ = write!(out, " --tcp-option {}", self.option);
        }
        let inv_flags = self.invflags & 4 != 0;
        if self.flg_mask != 0 || inv_flags {
            bang(out, inv_flags);
            out.push_str(" --tcp-flags ");
            tcp_flags(out, self.flg_mask);
            out.push(' ');
            tcp_flags(out, self.flg_cmp);
        }
    }
}

/// `-m udp [!] --sport A[:B] [!] --dport A[:B]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Udp {
    pub spts: [u16; 2],
    pub dpts: [u16; 2],
    pub invflags: u8,
}

impl Udp {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Udp> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 10)?;
        let invflags = r.u8(8)?;
        if invflags & !3 != 0 {
            return None;
        }
        Some(Udp {
            spts: [r.u16(0)?, r.u16(2)?],
            dpts: [r.u16(4)?, r.u16(6)?],
            invflags,
        })
    }
}

impl Ext for Udp {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m udp");
        ports(out, "--sport", self.spts, self.invflags & 1 != 0);
        ports(out, "--dport", self.dpts, self.invflags & 2 != 0);
    }
}
