//! `tos` match and `TOS` target.
//!
//! ```text
//! struct ipt_tos_info (2, match rev 0):        0 u8 tos, 1 u8 invert
//! struct xt_tos_match_info (3, match rev 1):   0 u8 tos_mask, 1 u8 tos_value, 2 u8 invert
//! struct ipt_tos_target_info (1, TOS rev 0):   0 u8 tos
//! struct xt_tos_target_info (2, TOS rev 1):    0 u8 tos_value, 1 u8 tos_mask
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-m tos [!] --tos 0xVV[/0xMM]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tos {
    pub rev: u8,
    pub value: u8,
    pub mask: u8,
    pub invert: bool,
}

impl Tos {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Tos> {
        match rev {
            0 => {
                let r = Rd::sized(d, 2)?;
                Some(Tos {
                    rev,
                    value: r.u8(0)?,
                    mask: 0xff,
                    invert: r.u8(1)? != 0,
                })
            }
            1 => {
                let r = Rd::sized(d, 3)?;
                Some(Tos {
                    rev,
                    mask: r.u8(0)?,
                    value: r.u8(1)?,
                    invert: r.u8(2)? != 0,
                })
            }
            _ => None,
        }
    }
}

impl Ext for Tos {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m tos");
        if self.invert {
            out.push_str(" !");
        }
        if self.rev == 0 {
            let _ = write!(out, " --tos 0x{:02x}", self.value);
        } else {
            let _ = write!(out, " --tos 0x{:02x}/0x{:02x}", self.value, self.mask);
        }
    }
}

/// `-j TOS --set-tos 0xVV[/0xMM]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TosTarget {
    pub rev: u8,
    pub value: u8,
    pub mask: u8,
}

impl TosTarget {
    pub fn parse(rev: u8, d: &[u8]) -> Option<TosTarget> {
        match rev {
            0 => Some(TosTarget {
                rev,
                value: Rd::sized(d, 1)?.u8(0)?,
                mask: 0xff,
            }),
            1 => {
                let r = Rd::sized(d, 2)?;
                Some(TosTarget {
                    rev,
                    value: r.u8(0)?,
                    mask: r.u8(1)?,
                })
            }
            _ => None,
        }
    }
}

impl Ext for TosTarget {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        if self.rev == 0 {
            let _ = write!(out, " -j TOS --set-tos 0x{:02x}", self.value);
        } else {
            let _ = write!(
                out,
                " -j TOS --set-tos 0x{:02x}/0x{:02x}",
                self.value, self.mask
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::check;
    use super::super::{XtKind::*, NFPROTO_IPV4};

    /// Rev 0 (`ipt_tos_info`, `ipt_tos_target_info`) is gone from this kernel: UAPI bytes.
    #[test]
    fn tos_rev0() {
        check(
            Match,
            "tos",
            0,
            NFPROTO_IPV4,
            &[0x10, 1],
            " -m tos ! --tos 0x10",
        );
        check(
            Target,
            "TOS",
            0,
            NFPROTO_IPV4,
            &[0x08],
            " -j TOS --set-tos 0x08",
        );
    }
}
