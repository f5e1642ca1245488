//! `mark` match and `MARK` target.
//!
//! ```text
//! struct xt_mark_mtinfo1 (12):  0 u32 mark, 4 u32 mask, 8 u8 invert
//! struct xt_mark_tginfo2 (8):   0 u32 mark, 4 u32 mask          (MARK rev 2)
//! struct xt_mark_target_info (8):     0 unsigned long mark        (MARK rev 0, old kernels)
//! struct xt_mark_target_info_v1 (16): 0 unsigned long mark, 8 u8 mode (MARK rev 1)
//! ```

use super::fmt::{bang, mark_mask, Rd};
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-m mark [!] --mark V[/M]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mark {
    pub mark: u32,
    pub mask: u32,
    pub invert: bool,
}

impl Mark {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Mark> {
        let r = match rev {
            1 => Rd::sized(d, 12)?,
            _ => return None,
        };
        Some(Mark {
            mark: r.u32(0)?,
            mask: r.u32(4)?,
            invert: r.u8(8)? != 0,
        })
    }
}

impl Ext for Mark {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m mark");
        bang(out, self.invert);
        out.push_str(" --mark");
        mark_mask(out, self.mark, self.mask);
    }
}

/// `-j MARK`: rev 2 is `--set-xmark V/M` (what every `--set-mark`/`--and-mark`/... becomes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum MarkTarget {
    /// Rev 2: `mark = (mark & ~mask) ^ value`.
    Xmark { mark: u32, mask: u32 },
    /// Rev 0 (`--set-mark`) and 1 (`mode`: 0 set, 1 and, 2 or).
    Old { mark: u64, mode: u8 },
}

impl MarkTarget {
    pub fn parse(rev: u8, d: &[u8]) -> Option<MarkTarget> {
        Some(match rev {
            2 => {
                let r = Rd::sized(d, 8)?;
                MarkTarget::Xmark {
                    mark: r.u32(0)?,
                    mask: r.u32(4)?,
                }
            }
            0 => MarkTarget::Old {
                mark: Rd::sized(d, 8)?.u64(0)?,
                mode: 0,
            },
            1 => {
                let r = Rd::sized(d, 16)?;
                let mode = r.u8(8)?;
                if mode > 2 {
                    return None;
                }
                MarkTarget::Old {
                    mark: r.u64(0)?,
                    mode,
                }
            }
            _ => return None,
        })
    }
}

impl Ext for MarkTarget {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -j MARK");
        match *self {
            MarkTarget::Xmark { mark, mask } => {
                let _ = write!(out, " --set-xmark 0x{mark:x}/0x{mask:x}");
            }
            MarkTarget::Old { mark, mode } => {
                let op = ["--set-mark", "--and-mark", "--or-mark"][usize::from(mode.min(2))];
                let _ = write!(out, " {op} 0x{mark:x}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{check, hex};
    use super::super::{XtKind::*, NFPROTO_IPV4};

    #[test]
    fn mark_match() {
        // iptables -A INPUT -m mark --mark 0x8000/0x8000
        let d = hex("00800000 00800000 00000000 00000000");
        check(
            Match,
            "mark",
            1,
            NFPROTO_IPV4,
            &d,
            " -m mark --mark 0x8000/0x8000",
        );
        // iptables -A INPUT -m mark ! --mark 0x1
        let d = hex("01000000 ffffffff 01000000 00000000");
        check(Match, "mark", 1, NFPROTO_IPV4, &d, " -m mark ! --mark 0x1");
    }

    #[test]
    fn mark_target() {
        // iptables -t nat -A KUBE-MARK-MASQ -j MARK --or-mark 0x4000
        let d = hex("00400000 00400000");
        check(
            Target,
            "MARK",
            2,
            NFPROTO_IPV4,
            &d,
            " -j MARK --set-xmark 0x4000/0x4000",
        );
    }
}
