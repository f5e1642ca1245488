//! `frag` match (IPv6 fragment header).
//!
//! ```text
//! struct ip6t_frag (16): 0 u32 ids[2], 8 u32 hdrlen, 12 u8 flags, 13 u8 invflags
//!   flags: IDS 1, LEN 2, RES 4, FST 8, MF 0x10, NMF 0x20; invflags: INV_IDS 1, INV_LEN 2
//! ```

use super::ah::spi_range;
use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-m frag [!] --fragid A[:B] [!] --fraglen N --fragres --fragfirst --fragmore --fraglast`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Frag {
    pub ids: [u32; 2],
    pub hdrlen: u32,
    pub flags: u8,
    pub invflags: u8,
}

impl Frag {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Frag> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 16)?;
        Some(Frag {
            ids: [r.u32(0)?, r.u32(4)?],
            hdrlen: r.u32(8)?,
            flags: r.u8(12)?,
            invflags: r.u8(13)?,
        })
    }
}

impl Ext for Frag {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m frag");
        spi_range(out, "--fragid", self.ids, self.invflags & 1 != 0);
        if self.flags & 2 != 0 {
            let inv = if self.invflags & 2 != 0 { " !" } else { "" };
            let _ = write!(out, "{inv} --fraglen {}", self.hdrlen);
        }
        for (bit, opt) in [
            (4, " --fragres"),
            (8, " --fragfirst"),
            (0x10, " --fragmore"),
            (0x20, " --fraglast"),
        ] {
            if self.flags & bit != 0 {
                out.push_str(opt);
            }
        }
    }
}
