//! `CT` target (rev 0, 1, 2), also written as `NOTRACK` (`XT_CT_NOTRACK_ALIAS`).
//!
//! ```text
//! struct xt_ct_target_info (40, user-visible 32):
//!   0 u16 flags, 2 u16 zone, 4 u32 ct_events, 8 u32 exp_events, 12 char helper[16],
//!   32 struct nf_conn *ct (kernel only)
//! struct xt_ct_target_info_v1 (72, user-visible 64; rev 1 and 2):
//!   0 u16 flags, 2 u16 zone, 4 u32 ct_events, 8 u32 exp_events, 12 char helper[16],
//!   28 char timeout[32], 64 struct nf_conn *ct (kernel only)
//! flags: NOTRACK 1, NOTRACK_ALIAS 2, ZONE_DIR_ORIG 4, ZONE_DIR_REPL 8, ZONE_MARK 16
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

const CT_EVENTS: [(u32, &str); 10] = [
    (0, "new"),
    (1, "related"),
    (2, "destroy"),
    (3, "reply"),
    (4, "assured"),
    (5, "protoinfo"),
    (6, "helper"),
    (7, "mark"),
    (8, "natseqinfo"),
    (9, "secmark"),
];

/// `-j CT [--notrack] [--helper H] [--timeout T] [--ctevents …] [--expevents new] [--zone …]`,
/// or `-j NOTRACK`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ct {
    pub rev: u8,
    pub flags: u16,
    pub zone: u16,
    pub ct_events: u32,
    pub exp_events: u32,
    pub helper: String,
    pub timeout: String,
}

impl Ct {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Ct> {
        let r = match rev {
            0 => Rd::sized_user(d, 40, 32)?,
            1 | 2 => Rd::sized_user(d, 72, 64)?,
            _ => return None,
        };
        Some(Ct {
            rev,
            flags: r.u16(0)?,
            zone: r.u16(2)?,
            ct_events: r.u32(4)?,
            exp_events: r.u32(8)?,
            helper: r.cstr(12, 16)?,
            timeout: if rev == 0 {
                String::new()
            } else {
                r.cstr(28, 32)?
            },
        })
    }
}

fn events(out: &mut String, opt: &str, mask: u32, tbl: &[(u32, &str)]) {
    let _ = write!(out, " {opt} ");
    let mut sep = "";
    for &(ev, name) in tbl {
        if mask & (1 << ev) != 0 {
            let _ = write!(out, "{sep}{name}");
            sep = ",";
        }
    }
}

impl Ext for Ct {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        if self.flags & 2 != 0 {
            out.push_str(" -j NOTRACK");
            return;
        }
        out.push_str(" -j CT");
        if self.flags & 1 != 0 {
            out.push_str(" --notrack");
        }
        if !self.helper.is_empty() {
            let _ = write!(out, " --helper {}", self.helper);
        }
        if !self.timeout.is_empty() {
            let _ = write!(out, " --timeout {}", self.timeout);
        }
        if self.ct_events != 0 {
            events(out, "--ctevents", self.ct_events, &CT_EVENTS);
        }
        if self.exp_events != 0 {
            events(out, "--expevents", self.exp_events, &[(0, "new")]);
        }
        if self.flags & 16 != 0 || self.zone != 0 {
            out.push_str(" --zone");
            match self.flags & 12 {
                4 => out.push_str("-orig"),
                8 => out.push_str("-reply"),
                _ => {}
            }
            if self.flags & 16 != 0 {
                out.push_str(" mark");
            } else {
                let _ = write!(out, " {}", self.zone);
            }
        }
    }
}
