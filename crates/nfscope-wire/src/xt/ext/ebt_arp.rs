//! ebtables `arp` match (`libebt_arp.c`).
//!
//! ```text
//! struct ebt_arp_info (52): 0 be16 htype, 2 be16 ptype, 4 be16 opcode, 8 be32 saddr,
//!   12 be32 smsk, 16 be32 daddr, 20 be32 dmsk, 24 u8 smaddr[6], 30 u8 smmsk[6],
//!   36 u8 dmaddr[6], 42 u8 dmmsk[6], 48 u8 bitmask, 49 u8 invflags
//! ```
//! bitmask (and invflags): 0x01 OPCODE, 0x02 HTYPE, 0x04 PTYPE, 0x08 SRC_IP, 0x10 DST_IP,
//! 0x20 SRC_MAC, 0x40 DST_MAC, 0x80 GRAT.
//!
//! Printed as ebtables does: the opcode by name for 1 to 9, the hardware type in decimal, the
//! protocol type in hex, addresses with their masks (`xtables_ipmask_to_numeric`,
//! `xtables_print_mac_and_mask`); the `!` after the option, except for `--arp-gratuitous`.

use super::fmt::{ip4_mask, mac_and_mask, Rd};
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;
use std::net::Ipv4Addr;

/// The names ebtables gives ARP opcodes 1 to 9.
const OPCODES: [&str; 9] = [
    "Request",
    "Reply",
    "Request_Reverse",
    "Reply_Reverse",
    "DRARP_Request",
    "DRARP_Reply",
    "DRARP_Error",
    "InARP_Request",
    "ARP_NAK",
];

/// `--arp-op --arp-htype --arp-ptype --arp-ip-src --arp-ip-dst --arp-mac-src --arp-mac-dst
/// --arp-gratuitous`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EbtArp {
    pub htype: u16,
    pub ptype: u16,
    pub opcode: u16,
    pub saddr: Ipv4Addr,
    pub smsk: Ipv4Addr,
    pub daddr: Ipv4Addr,
    pub dmsk: Ipv4Addr,
    pub smaddr: [u8; 6],
    pub smmsk: [u8; 6],
    pub dmaddr: [u8; 6],
    pub dmmsk: [u8; 6],
    pub bitmask: u8,
    pub invflags: u8,
}

impl EbtArp {
    pub fn parse(rev: u8, d: &[u8]) -> Option<EbtArp> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 52)?;
        Some(EbtArp {
            htype: r.be16(0)?,
            ptype: r.be16(2)?,
            opcode: r.be16(4)?,
            saddr: r.ip4(8)?,
            smsk: r.ip4(12)?,
            daddr: r.ip4(16)?,
            dmsk: r.ip4(20)?,
            smaddr: r.arr(24)?,
            smmsk: r.arr(30)?,
            dmaddr: r.arr(36)?,
            dmmsk: r.arr(42)?,
            bitmask: r.u8(48)?,
            invflags: r.u8(49)?,
        })
    }
}

impl Ext for EbtArp {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        let has = |f: u8| self.bitmask & f != 0;
        let bang = |f: u8| if self.invflags & f != 0 { "! " } else { "" };
        if has(0x01) {
            let _ = write!(out, " --arp-op {}", bang(0x01));
            match OPCODES.get(usize::from(self.opcode).wrapping_sub(1)) {
                Some(name) => out.push_str(name),
                None => {
                    let _ = write!(out, "{}", self.opcode);
                }
            }
        }
        if has(0x02) {
            let _ = write!(out, " --arp-htype {}{}", bang(0x02), self.htype);
        }
        if has(0x04) {
            let _ = write!(out, " --arp-ptype {}0x{:x}", bang(0x04), self.ptype);
        }
        if has(0x08) {
            let _ = write!(
                out,
                " --arp-ip-src {}{}{}",
                bang(0x08),
                self.saddr,
                ip4_mask(self.smsk)
            );
        }
        if has(0x10) {
            let _ = write!(
                out,
                " --arp-ip-dst {}{}{}",
                bang(0x10),
                self.daddr,
                ip4_mask(self.dmsk)
            );
        }
        if has(0x20) {
            let _ = write!(
                out,
                " --arp-mac-src {}{}",
                bang(0x20),
                mac_and_mask(&self.smaddr, &self.smmsk)
            );
        }
        if has(0x40) {
            let _ = write!(
                out,
                " --arp-mac-dst {}{}",
                bang(0x40),
                mac_and_mask(&self.dmaddr, &self.dmmsk)
            );
        }
        if has(0x80) {
            let _ = write!(out, " {}--arp-gratuitous", bang(0x80));
        }
    }
}
