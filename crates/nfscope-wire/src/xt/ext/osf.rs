//! `osf` match (passive OS fingerprinting).
//!
//! ```text
//! struct xt_osf_info = nf_osf_info (48): 0 char genre[32], 32 u32 len, 36 u32 flags
//!   (GENRE 1, TTL 2, LOG 4, INVERT 8), 40 u32 loglevel, 44 u32 ttl
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-m osf [!] --genre G [--ttl N] [--log N]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Osf {
    pub genre: String,
    pub flags: u32,
    pub loglevel: u32,
    pub ttl: u32,
}

impl Osf {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Osf> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 48)?;
        Some(Osf {
            genre: r.cstr(0, 32)?,
            flags: r.u32(36)?,
            loglevel: r.u32(40)?,
            ttl: r.u32(44)?,
        })
    }
}

impl Ext for Osf {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m osf");
        if self.flags & 8 != 0 {
            out.push_str(" !");
        }
        let _ = write!(out, " --genre {}", self.genre);
        if self.flags & 2 != 0 {
            let _ = write!(out, " --ttl {}", self.ttl);
        }
        if self.flags & 4 != 0 {
            let _ = write!(out, " --log {}", self.loglevel);
        }
    }
}
