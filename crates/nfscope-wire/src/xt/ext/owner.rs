//! `owner` match (rev 1; rev 0 `ipt_owner_info` left the kernel in 2.6.x).
//!
//! ```text
//! struct xt_owner_match_info (20): 0 u32 uid_min, 4 u32 uid_max, 8 u32 gid_min,
//!                                  12 u32 gid_max, 16 u8 match, 17 u8 invert
//!   match/invert bits: UID 1, GID 2, SOCKET 4, SUPPL_GROUPS 8
//! ```
//! iptables-save prints ids numerically.

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-m owner [!] --socket-exists [!] --uid-owner U[-U] [!] --gid-owner G[-G] [!] --suppl-groups`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Owner {
    pub uid: [u32; 2],
    pub gid: [u32; 2],
    pub match_flags: u8,
    pub invert: u8,
}

impl Owner {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Owner> {
        if rev != 1 {
            return None;
        }
        let r = Rd::sized(d, 20)?;
        Some(Owner {
            uid: [r.u32(0)?, r.u32(4)?],
            gid: [r.u32(8)?, r.u32(12)?],
            match_flags: r.u8(16)?,
            invert: r.u8(17)?,
        })
    }
}

impl Ext for Owner {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m owner");
        let items = [
            (4, "--socket-exists", None),
            (1, "--uid-owner", Some(self.uid)),
            (2, "--gid-owner", Some(self.gid)),
            (8, "--suppl-groups", None),
        ];
        for (bit, label, range) in items {
            if self.match_flags & bit == 0 {
                continue;
            }
            if self.invert & bit != 0 {
                out.push_str(" !");
            }
            let _ = write!(out, " {label}");
            if let Some([lo, hi]) = range {
                if lo != hi {
                    let _ = write!(out, " {lo}-{hi}");
                } else {
                    let _ = write!(out, " {lo}");
                }
            }
        }
    }
}
