//! `u32` match.
//!
//! ```text
//! struct xt_u32 (1984): 0 xt_u32_test tests[11], 1980 u8 ntests, 1981 u8 invert
//! struct xt_u32_test (180): 0 location[11] { u32 number, u8 nextop (AND 0, LEFTSH 1,
//!   RIGHTSH 2, AT 3), pad }, 88 value[11] { u32 min, u32 max }, 176 u8 nnums, 177 u8 nvalues
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// One `&&`-separated test: locations with operators, then value ranges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct U32Test {
    /// (number, nextop) per location element.
    pub location: Vec<(u32, u8)>,
    /// (min, max) per value element.
    pub value: Vec<(u32, u32)>,
}

/// `-m u32 [!] --u32 "0x…&0x…=0x…:0x…&&…"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct U32 {
    pub tests: Vec<U32Test>,
    pub invert: bool,
}

impl U32 {
    pub fn parse(rev: u8, d: &[u8]) -> Option<U32> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 1984)?;
        let ntests = usize::from(r.u8(1980)?);
        if ntests > 11 {
            return None;
        }
        let mut tests = Vec::with_capacity(ntests);
        for t in 0..ntests {
            let b = 180 * t;
            let (nn, nv) = (usize::from(r.u8(b + 176)?), usize::from(r.u8(b + 177)?));
            if nn > 11 || nv > 11 {
                return None;
            }
            let location = (0..nn)
                .map(|i| Some((r.u32(b + 8 * i)?, r.u8(b + 8 * i + 4)?)))
                .collect::<Option<Vec<_>>>()?;
            let value = (0..nv)
                .map(|i| Some((r.u32(b + 88 + 8 * i)?, r.u32(b + 92 + 8 * i)?)))
                .collect::<Option<Vec<_>>>()?;
            tests.push(U32Test { location, value });
        }
        Some(U32 {
            tests,
            invert: r.u8(1981)? != 0,
        })
    }
}

impl Ext for U32 {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m u32");
        if self.invert {
            out.push_str(" !");
        }
        out.push_str(" --u32 \"");
        for (ti, t) in self.tests.iter().enumerate() {
            if ti > 0 {
                out.push_str("&&");
            }
            // iptables prints location[0] even when nnums is 0.
            let first = t.location.first().map_or(0, |l| l.0);
            let _ = write!(out, "0x{first:x}");
            for &(n, op) in t.location.iter().skip(1) {
                out.push_str(match op {
                    0 => "&",
                    1 => "<<",
                    2 => ">>",
                    3 => "@",
                    _ => "",
                });
                let _ = write!(out, "0x{n:x}");
            }
            out.push('=');
            for (i, &(lo, hi)) in t.value.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if lo == hi {
                    let _ = write!(out, "0x{lo:x}");
                } else {
                    let _ = write!(out, "0x{lo:x}:0x{hi:x}");
                }
            }
        }
        out.push('"');
    }
}
