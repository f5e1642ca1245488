//! `ipcomp` match.
//!
//! ```text
//! struct xt_ipcomp (12): 0 u32 spis[2], 8 u8 invflags (INV_SPI 1), 9 u8 hdrres
//! ```

use super::ah::spi_range;
use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;

/// `-m ipcomp [!] --ipcompspi A[:B] [--compres]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ipcomp {
    pub spis: [u32; 2],
    pub invflags: u8,
    pub hdrres: u8,
}

impl Ipcomp {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Ipcomp> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 12)?;
        Some(Ipcomp {
            spis: [r.u32(0)?, r.u32(4)?],
            invflags: r.u8(8)?,
            hdrres: r.u8(9)?,
        })
    }
}

impl Ext for Ipcomp {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m ipcomp");
        spi_range(out, "--ipcompspi", self.spis, self.invflags & 1 != 0);
        if self.hdrres != 0 {
            out.push_str(" --compres");
        }
    }
}
