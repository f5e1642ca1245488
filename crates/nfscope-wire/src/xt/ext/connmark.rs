//! `connmark` match and `CONNMARK` target.
//!
//! ```text
//! struct xt_connmark_mtinfo1 (12): 0 u32 mark, 4 u32 mask, 8 u8 invert
//! struct xt_connmark_tginfo1 (16): 0 u32 ctmark, 4 u32 ctmask, 8 u32 nfmask, 12 u8 mode
//! struct xt_connmark_tginfo2 (16): 0 u32 ctmark, 4 u32 ctmask, 8 u32 nfmask,
//!                                  12 u8 shift_dir, 13 u8 shift_bits, 14 u8 mode
//! ```
//! Modes: 0 `XT_CONNMARK_SET`, 1 `SAVE`, 2 `RESTORE`; shift_dir 0 left, 1 right.

use super::fmt::{bang, mark_mask, Rd};
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-m connmark [!] --mark V[/M]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Connmark {
    pub mark: u32,
    pub mask: u32,
    pub invert: bool,
}

impl Connmark {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Connmark> {
        if rev != 1 {
            return None;
        }
        let r = Rd::sized(d, 12)?;
        Some(Connmark {
            mark: r.u32(0)?,
            mask: r.u32(4)?,
            invert: r.u8(8)? != 0,
        })
    }
}

impl Ext for Connmark {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m connmark");
        bang(out, self.invert);
        out.push_str(" --mark");
        mark_mask(out, self.mark, self.mask);
    }
}

/// `-j CONNMARK` (rev 1 and 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnmarkTarget {
    pub rev: u8,
    pub ctmark: u32,
    pub ctmask: u32,
    pub nfmask: u32,
    pub mode: u8,
    pub shift_dir: u8,
    pub shift_bits: u8,
}

impl ConnmarkTarget {
    pub fn parse(rev: u8, d: &[u8]) -> Option<ConnmarkTarget> {
        let r = Rd::sized(d, 16)?;
        let (mode, shift_dir, shift_bits) = match rev {
            1 => (r.u8(12)?, 0, 0),
            2 => (r.u8(14)?, r.u8(12)?, r.u8(13)?),
            _ => return None,
        };
        if mode > 2 || shift_dir > 1 {
            return None;
        }
        Some(ConnmarkTarget {
            rev,
            ctmark: r.u32(0)?,
            ctmask: r.u32(4)?,
            nfmask: r.u32(8)?,
            mode,
            shift_dir,
            shift_bits,
        })
    }
}

impl Ext for ConnmarkTarget {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -j CONNMARK");
        let (ct, nf) = (self.ctmask, self.nfmask);
        let _ = match self.mode {
            0 => write!(out, " --set-xmark 0x{:x}/0x{ct:x}", self.ctmark),
            1 => write!(out, " --save-mark --nfmask 0x{nf:x} --ctmask 0x{ct:x}"),
            _ => write!(out, " --restore-mark --nfmask 0x{nf:x} --ctmask 0x{ct:x}"),
        };
        if self.rev == 2 && self.shift_bits != 0 {
            let op = if self.shift_dir == 0 {
                "left-shift-mark"
            } else {
                "right-shift-mark"
            };
            let _ = write!(out, " --{op} {}", self.shift_bits);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{check, hex};
    use super::super::{XtKind::*, NFPROTO_IPV4};

    #[test]
    fn connmark() {
        // iptables -A INPUT -m connmark ! --mark 0x10/0xff
        let d = hex("10000000 ff000000 01000000 00000000");
        check(
            Match,
            "connmark",
            1,
            NFPROTO_IPV4,
            &d,
            " -m connmark ! --mark 0x10/0xff",
        );
        // iptables -t mangle -A PREROUTING -j CONNMARK --restore-mark  (rev 2)
        let d = hex("00000000 ffffffff ffffffff 00000200");
        let want = " -j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff";
        check(Target, "CONNMARK", 2, NFPROTO_IPV4, &d, want);
    }
}
