//! `length` match.
//!
//! ```text
//! struct xt_length_info (6): 0 u16 min, 2 u16 max, 4 u8 invert
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-m length [!] --length MIN[:MAX]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Length {
    pub min: u16,
    pub max: u16,
    pub invert: bool,
}

impl Length {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Length> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 6)?;
        Some(Length {
            min: r.u16(0)?,
            max: r.u16(2)?,
            invert: r.u8(4)? != 0,
        })
    }
}

impl Ext for Length {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        let inv = if self.invert { " !" } else { "" };
        let _ = write!(out, " -m length{inv} --length {}", self.min);
        if self.min != self.max {
            let _ = write!(out, ":{}", self.max);
        }
    }
}
