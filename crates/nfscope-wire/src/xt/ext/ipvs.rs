//! `ipvs` match.
//!
//! ```text
//! struct xt_ipvs_mtinfo (40): 0 nf_inet_addr vaddr, 16 vmask, 32 be16 vport, 34 u8 l4proto,
//!   35 u8 fwd_method (MASQ 0, TUNNEL 2, DROUTE 3), 36 be16 vportctl, 38 u8 invert,
//!   39 u8 bitmask (PROPERTY 1, PROTO 2, VADDR 4, VPORT 8, DIR 16, METHOD 32, VPORTCTL 64)
//! ```

use super::fmt::{bang, ip4_mask, ip6, ip6_mask, Rd};
use super::{Ctx, Ext, NFPROTO_IPV4, NFPROTO_IPV6};
use serde::Serialize;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

/// `-m ipvs [!] --ipvs [!] --vproto N [!] --vaddr A[/M] [!] --vport P --vdir D …`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ipvs {
    pub family: u8,
    pub vaddr: [u8; 16],
    pub vmask: [u8; 16],
    pub vport: u16,
    pub l4proto: u8,
    pub fwd_method: u8,
    pub vportctl: u16,
    pub invert: u8,
    pub bitmask: u8,
}

impl Ipvs {
    pub fn parse(rev: u8, family: u8, d: &[u8]) -> Option<Ipvs> {
        if rev != 0 || !matches!(family, NFPROTO_IPV4 | NFPROTO_IPV6) {
            return None;
        }
        let r = Rd::sized(d, 40)?;
        Some(Ipvs {
            family,
            vaddr: r.arr(0)?,
            vmask: r.arr(16)?,
            vport: r.be16(32)?,
            l4proto: r.u8(34)?,
            fwd_method: r.u8(35)?,
            vportctl: r.be16(36)?,
            invert: r.u8(38)?,
            bitmask: r.u8(39)?,
        })
    }
}

impl Ext for Ipvs {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m ipvs");
        let (b, inv) = (self.bitmask, self.invert);
        if b == 1 {
            bang(out, inv & 1 != 0);
            out.push_str(" --ipvs");
        }
        if b & 2 != 0 {
            bang(out, inv & 2 != 0);
            let _ = write!(out, " --vproto {}", self.l4proto);
        }
        if b & 4 != 0 {
            bang(out, inv & 4 != 0);
            out.push_str(" --vaddr");
            let (a, m) = (&self.vaddr, &self.vmask);
            if self.family == NFPROTO_IPV4 {
                let m4 = Ipv4Addr::new(m[0], m[1], m[2], m[3]);
                let _ = write!(
                    out,
                    " {}{}",
                    Ipv4Addr::new(a[0], a[1], a[2], a[3]),
                    ip4_mask(m4)
                );
            } else {
                let _ = write!(
                    out,
                    " {}{}",
                    ip6(&Ipv6Addr::from(*a)),
                    ip6_mask(Ipv6Addr::from(*m))
                );
            }
        }
        if b & 8 != 0 {
            bang(out, inv & 8 != 0);
            let _ = write!(out, " --vport {}", self.vport);
        }
        if b & 16 != 0 {
            out.push_str(if inv & 16 != 0 {
                " --vdir REPLY"
            } else {
                " --vdir ORIGINAL"
            });
        }
        if b & 32 != 0 {
            bang(out, inv & 32 != 0);
            out.push_str(match self.fwd_method {
                3 => " --vmethod GATE",
                2 => " --vmethod IPIP",
                0 => " --vmethod MASQ",
                _ => " --vmethod UNKNOWN",
            });
        }
        if b & 64 != 0 {
            bang(out, inv & 64 != 0);
            let _ = write!(out, " --vportctl {}", self.vportctl);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::check;
    use super::super::{XtKind::*, NFPROTO_IPV4};

    /// This machine's kernel has no xt_ipvs, so no capture: bytes from the UAPI layout for
    /// `-m ipvs --vproto 6 ! --vaddr 10.0.0.0/24 --vport 80 --vdir REPLY --vmethod GATE`, text
    /// as libxt_ipvs's save prints it.
    #[test]
    fn ipvs() {
        let mut d = vec![0u8; 40];
        d[0..4].copy_from_slice(&[10, 0, 0, 0]);
        d[16..20].copy_from_slice(&[255, 255, 255, 0]);
        d[32..34].copy_from_slice(&80u16.to_be_bytes());
        d[34] = 6;
        d[35] = 3; // IP_VS_CONN_F_DROUTE
        d[38] = 4 | 16; // invert vaddr, dir
        d[39] = 2 | 4 | 8 | 16 | 32 | 1;
        let want =
            " -m ipvs --vproto 6 ! --vaddr 10.0.0.0/24 --vport 80 --vdir REPLY --vmethod GATE";
        check(Match, "ipvs", 0, NFPROTO_IPV4, &d, want);
        d[39] = 1;
        d[38] = 1;
        check(Match, "ipvs", 0, NFPROTO_IPV4, &d, " -m ipvs ! --ipvs");
    }
}
