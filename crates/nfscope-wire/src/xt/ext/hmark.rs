//! `HMARK` target.
//!
//! ```text
//! struct xt_hmark_info (60): 0 nf_inet_addr src_mask, 16 dst_mask,
//!   32 hmark_ports port_mask { u16 src, u16 dst | u32 spi }, 36 port_set, 40 u32 flags,
//!   44 u16 proto_mask, 48 u32 hashrnd, 52 u32 hmodulus, 56 u32 hoffset
//!   flags: bit n = 1 << XT_HMARK_n (SADDR_MASK 0, DADDR_MASK 1, SPI 2, SPI_MASK 3, SPORT 4,
//!   DPORT 5, SPORT_MASK 6, DPORT_MASK 7, PROTO_MASK 8, RND 9, MODULUS 10, OFFSET 11, CT 12)
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext, NFPROTO_IPV4, NFPROTO_IPV6};
use serde::Serialize;
use std::fmt::Write as _;

/// `-j HMARK [--hmark-src-prefix N] … --hmark-mod N [--hmark-offset N] [--hmark-tuple ct]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hmark {
    pub family: u8,
    pub src_mask: [u8; 16],
    pub dst_mask: [u8; 16],
    pub port_mask: u32,
    pub port_set: u32,
    pub flags: u32,
    pub proto_mask: u16,
    pub hashrnd: u32,
    pub hmodulus: u32,
    pub hoffset: u32,
}

impl Hmark {
    pub fn parse(rev: u8, family: u8, d: &[u8]) -> Option<Hmark> {
        if rev != 0 || !matches!(family, NFPROTO_IPV4 | NFPROTO_IPV6) {
            return None;
        }
        let r = Rd::sized(d, 60)?;
        Some(Hmark {
            family,
            src_mask: r.arr(0)?,
            dst_mask: r.arr(16)?,
            port_mask: r.u32(32)?,
            port_set: r.u32(36)?,
            flags: r.u32(40)?,
            proto_mask: r.u16(44)?,
            hashrnd: r.u32(48)?,
            hmodulus: r.u32(52)?,
            hoffset: r.u32(56)?,
        })
    }

    /// `xtables_ip(6)mask_to_cidr`: the prefix length, or -1 if not contiguous.
    fn cidr(&self, m: &[u8; 16]) -> i32 {
        if self.family == NFPROTO_IPV4 {
            let v = u32::from_be_bytes([m[0], m[1], m[2], m[3]]);
            if v.leading_ones() + v.trailing_zeros() == 32 {
                return v.leading_ones() as i32;
            }
        } else {
            let v = u128::from_be_bytes(*m);
            if v.leading_ones() + v.trailing_zeros() == 128 {
                return v.leading_ones() as i32;
            }
        }
        -1
    }
}

impl Ext for Hmark {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -j HMARK");
        let f = |n: u32| self.flags & (1 << n) != 0;
        if f(0) {
            let _ = write!(out, " --hmark-src-prefix {}", self.cidr(&self.src_mask));
        }
        if f(1) {
            let _ = write!(out, " --hmark-dst-prefix {}", self.cidr(&self.dst_mask));
        }
        let lo16 = |v: u32| ((v & 0xffff) as u16).swap_bytes();
        let hi16 = |v: u32| ((v >> 16) as u16).swap_bytes();
        if f(6) {
            let _ = write!(out, " --hmark-sport-mask 0x{:04x}", lo16(self.port_mask));
        }
        if f(7) {
            let _ = write!(out, " --hmark-dport-mask 0x{:04x}", hi16(self.port_mask));
        }
        if f(3) {
            let _ = write!(
                out,
                " --hmark-spi-mask 0x{:08x}",
                self.port_mask.swap_bytes()
            );
        }
        if f(4) {
            let _ = write!(out, " --hmark-sport 0x{:04x}", lo16(self.port_set));
        }
        if f(5) {
            let _ = write!(out, " --hmark-dport 0x{:04x}", hi16(self.port_set));
        }
        if f(2) {
            let _ = write!(out, " --hmark-spi 0x{:08x}", self.port_set.swap_bytes());
        }
        if f(8) {
            let _ = write!(out, " --hmark-proto-mask 0x{:02x}", self.proto_mask);
        }
        if f(9) {
            let _ = write!(out, " --hmark-rnd 0x{:08x}", self.hashrnd);
        }
        if f(10) {
            let _ = write!(out, " --hmark-mod {}", self.hmodulus);
        }
        if f(11) {
            let _ = write!(out, " --hmark-offset {}", self.hoffset);
        }
        if f(12) {
            out.push_str(" --hmark-tuple ct");
        }
    }
}
