//! `ah` match (IPv4 `ipt_ah`, IPv6 `ip6t_ah`: same name, different structs).
//!
//! ```text
//! struct ipt_ah (12):  0 u32 spis[2], 8 u8 invflags (INV_SPI 1)
//! struct ip6t_ah (16): 0 u32 spis[2], 8 u32 hdrlen, 12 u8 hdrres, 13 u8 invflags
//!                      (INV_SPI 1, INV_LEN 2)
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext, NFPROTO_IPV4, NFPROTO_IPV6};
use serde::Serialize;
use std::fmt::Write as _;

/// A `u32` range as the SPI/ID savers print it (nothing for 0:0xffffffff).
pub(crate) fn spi_range(out: &mut String, opt: &str, r: [u32; 2], inv: bool) {
    if r == [0, u32::MAX] {
        return;
    }
    let _ = write!(out, "{} {opt} ", if inv { " !" } else { "" });
    if r[0] != r[1] {
        let _ = write!(out, "{}:{}", r[0], r[1]);
    } else {
        let _ = write!(out, "{}", r[0]);
    }
}

/// `-m ah [!] --ahspi A[:B]` (+ IPv6 `[!] --ahlen N --ahres`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ah {
    pub v6: bool,
    pub spis: [u32; 2],
    pub hdrlen: u32,
    pub hdrres: u8,
    pub invflags: u8,
}

impl Ah {
    pub fn parse(rev: u8, family: u8, d: &[u8]) -> Option<Ah> {
        if rev != 0 {
            return None;
        }
        match family {
            NFPROTO_IPV4 => {
                let r = Rd::sized(d, 12)?;
                Some(Ah {
                    v6: false,
                    spis: [r.u32(0)?, r.u32(4)?],
                    hdrlen: 0,
                    hdrres: 0,
                    invflags: r.u8(8)?,
                })
            }
            NFPROTO_IPV6 => {
                let r = Rd::sized(d, 16)?;
                Some(Ah {
                    v6: true,
                    spis: [r.u32(0)?, r.u32(4)?],
                    hdrlen: r.u32(8)?,
                    hdrres: r.u8(12)?,
                    invflags: r.u8(13)?,
                })
            }
            _ => None,
        }
    }
}

impl Ext for Ah {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m ah");
        spi_range(out, "--ahspi", self.spis, self.invflags & 1 != 0);
        if self.v6 {
            let inv = self.invflags & 2 != 0;
            if self.hdrlen != 0 || inv {
                let _ = write!(
                    out,
                    "{} --ahlen {}",
                    if inv { " !" } else { "" },
                    self.hdrlen
                );
            }
            if self.hdrres != 0 {
                out.push_str(" --ahres");
            }
        }
    }
}
