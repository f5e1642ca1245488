//! arp_tables' `mangle` target (`arpt_mangle`, NFPROTO_ARP only).
//!
//! ```text
//! struct arpt_mangle (48, x86_64; gcc against linux/netfilter_arp/arpt_mangle.h):
//!    0 char src_devaddr[16]      (ARPT_DEV_ADDR_LEN_MAX; 6 bytes used for Ethernet)
//!   16 char tgt_devaddr[16]
//!   32 in_addr src_ip (be)       (u_s)
//!   36 in_addr tgt_ip (be)       (u_t)
//!   40 u8 flags                  ARPT_MANGLE_SDEV 1, TDEV 2, SIP 4, TIP 8
//!   44 int target                NF_DROP 0, NF_ACCEPT 1, XT_CONTINUE -1 (what follows the mangle)
//! ```
//!
//! [`Ext::save`] prints the form of arptables-nft's `libarpt_mangle` (` -j mangle
//! --mangle-ip-s A ...`, addresses numeric); arptables-legacy lists it differently (see
//! `nfscope::render::arptables`), from the same fields.

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;
use std::net::Ipv4Addr;

pub const ARPT_MANGLE_SDEV: u8 = 0x01;
pub const ARPT_MANGLE_TDEV: u8 = 0x02;
pub const ARPT_MANGLE_SIP: u8 = 0x04;
pub const ARPT_MANGLE_TIP: u8 = 0x08;
/// `NF_DROP`, `NF_ACCEPT`: values of [`ArpMangle::target`].
pub const NF_DROP: i32 = 0;
pub const NF_ACCEPT: i32 = 1;

/// `-j mangle [--mangle-ip-s A] [--mangle-mac-s M] [--mangle-ip-d A] [--mangle-mac-d M]
/// [--mangle-target DROP|CONTINUE]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArpMangle {
    /// The first 6 bytes of `src_devaddr` (the only ones arptables writes or prints).
    pub src_mac: [u8; 6],
    pub tgt_mac: [u8; 6],
    pub src_ip: Ipv4Addr,
    pub tgt_ip: Ipv4Addr,
    /// `ARPT_MANGLE_*`.
    pub flags: u8,
    /// The verdict after mangling: `NF_DROP`, `NF_ACCEPT`, or `XT_CONTINUE` (-1).
    pub target: i32,
}

impl ArpMangle {
    pub fn parse(rev: u8, d: &[u8]) -> Option<ArpMangle> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 48)?;
        let flags = r.u8(40)?;
        // The kernel's checkentry refuses other flag bits (ARPT_MANGLE_MASK) and other
        // targets; bytes past the 6-byte MAC are never written by arptables.
        let target = r.i32(44)?;
        if flags & !0x0f != 0 || !matches!(target, NF_DROP | NF_ACCEPT | -1) {
            return None;
        }
        Some(ArpMangle {
            src_mac: r.arr(0)?,
            tgt_mac: r.arr(16)?,
            src_ip: r.ip4(32)?,
            tgt_ip: r.ip4(36)?,
            flags,
            target,
        })
    }
}

/// `aa:bb:cc:dd:ee:ff` (as `print_mac` and `xtables_print_mac`).
pub use super::fmt::mac;

impl Ext for ArpMangle {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -j mangle");
        if self.flags & ARPT_MANGLE_SIP != 0 {
            let _ = write!(out, " --mangle-ip-s {}", self.src_ip);
        }
        if self.flags & ARPT_MANGLE_SDEV != 0 {
            let _ = write!(out, " --mangle-mac-s {}", mac(&self.src_mac));
        }
        if self.flags & ARPT_MANGLE_TIP != 0 {
            let _ = write!(out, " --mangle-ip-d {}", self.tgt_ip);
        }
        if self.flags & ARPT_MANGLE_TDEV != 0 {
            let _ = write!(out, " --mangle-mac-d {}", mac(&self.tgt_mac));
        }
        if self.target != NF_ACCEPT {
            let t = if self.target == NF_DROP {
                "DROP"
            } else {
                "CONTINUE"
            };
            let _ = write!(out, " --mangle-target {t}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{check, hex};
    use super::super::{decode, XtKind::*, NFPROTO_ARP, NFPROTO_IPV4};

    #[test]
    fn mangle() {
        // arptables-legacy -A zeta -j mangle -l 6 --mangle-ip-s 1.2.3.4 --mangle-mac-s
        // 00:01:02:03:04:05 --mangle-ip-d 5.6.7.8 --mangle-target DROP
        let d = hex("000102030405 00000000000000000000
             000000000000 00000000000000000000
             01020304 05060708 0d000000 00000000");
        check(
            Target,
            "mangle",
            0,
            NFPROTO_ARP,
            &d,
            " -j mangle --mangle-ip-s 1.2.3.4 --mangle-mac-s 00:01:02:03:04:05 \
             --mangle-ip-d 5.6.7.8 --mangle-target DROP",
        );
        // Only in arp tables; a flag the kernel refuses is kept raw.
        assert!(decode(Target, "mangle", 0, NFPROTO_IPV4, &d).is_unknown());
        let mut bad = d.clone();
        bad[40] = 0x10;
        assert!(decode(Target, "mangle", 0, NFPROTO_ARP, &bad).is_unknown());
        // CONTINUE, and ACCEPT (the default) prints no --mangle-target.
        let mut c = d.clone();
        c[40] = 0x08;
        c[44..48].copy_from_slice(&(-1i32).to_ne_bytes());
        assert_eq!(
            decode(Target, "mangle", 0, NFPROTO_ARP, &c).to_save(),
            " -j mangle --mangle-ip-d 5.6.7.8 --mangle-target CONTINUE"
        );
        c[44..48].copy_from_slice(&1i32.to_ne_bytes());
        assert_eq!(
            decode(Target, "mangle", 0, NFPROTO_ARP, &c).to_save(),
            " -j mangle --mangle-ip-d 5.6.7.8"
        );
    }
}
