//! `SYNPROXY` target.
//!
//! ```text
//! struct xt_synproxy_info = nf_synproxy_info (4): 0 u8 options, 1 u8 wscale, 2 u16 mss
//!   options: MSS 1, WSCALE 2, SACK_PERM 4, TIMESTAMP 8, ECN 16
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-j SYNPROXY [--sack-perm] [--timestamp] [--wscale N] [--mss N] [--ecn]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Synproxy {
    pub options: u8,
    pub wscale: u8,
    pub mss: u16,
}

impl Synproxy {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Synproxy> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 4)?;
        Some(Synproxy {
            options: r.u8(0)?,
            wscale: r.u8(1)?,
            mss: r.u16(2)?,
        })
    }
}

impl Ext for Synproxy {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -j SYNPROXY");
        let o = self.options;
        if o & 4 != 0 {
            out.push_str(" --sack-perm");
        }
        if o & 8 != 0 {
            out.push_str(" --timestamp");
        }
        if o & 2 != 0 {
            let _ = write!(out, " --wscale {}", self.wscale);
        }
        if o & 1 != 0 {
            let _ = write!(out, " --mss {}", self.mss);
        }
        if o & 16 != 0 {
            out.push_str(" --ecn");
        }
    }
}
