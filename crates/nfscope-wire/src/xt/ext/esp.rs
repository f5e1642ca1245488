//! `esp` match.
//!
//! ```text
//! struct xt_esp (12): 0 u32 spis[2], 8 u8 invflags (XT_ESP_INV_SPI 1)
//! ```

use super::ah::spi_range;
use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;

/// `-m esp [!] --espspi A[:B]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Esp {
    pub spis: [u32; 2],
    pub invflags: u8,
}

impl Esp {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Esp> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 12)?;
        Some(Esp {
            spis: [r.u32(0)?, r.u32(4)?],
            invflags: r.u8(8)?,
        })
    }
}

impl Ext for Esp {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m esp");
        spi_range(out, "--espspi", self.spis, self.invflags & 1 != 0);
    }
}
