//! The standard target (empty name) and targets without payload.
//!
//! ```text
//! struct xt_standard_target: header + 0 int verdict (XT_ALIGN(4) = 8 bytes of data)
//!   verdict < 0: -NF_x - 1 (NF_DROP 0, NF_ACCEPT 1, NF_QUEUE 3), XT_RETURN = -NF_REPEAT - 1 = -5
//!   verdict >= 0: a jump offset into the legacy blob (resolved by the entry walker)
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// The standard target: a verdict or a jump offset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Standard {
    pub verdict: i32,
}

impl Standard {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Standard> {
        if rev != 0 {
            return None;
        }
        Some(Standard {
            verdict: Rd::sized(d, 4)?.i32(0)?,
        })
    }

    /// `ACCEPT`, `DROP`, `QUEUE`, `RETURN`, or `None` for a jump offset / odd value.
    pub fn name(&self) -> Option<&'static str> {
        match self.verdict {
            -1 => Some("DROP"),
            -2 => Some("ACCEPT"),
            -4 => Some("QUEUE"),
            -5 => Some("RETURN"),
            _ => None,
        }
    }
}

impl Ext for Standard {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        match self.name() {
            Some(n) => {
                let _ = write!(out, " -j {n}");
            }
            // Offsets only mean something to the entry walker, which prints the chain name.
            None => {
                let _ = write!(out, " -j [verdict {}]", self.verdict);
            }
        }
    }
}

/// A target that carries no options (`TRACE`, `NOTRACK`, and verdict names used as nft_compat
/// targets): ` -j NAME`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plain {
    pub name: String,
}

impl Plain {
    /// Accepts an empty payload only.
    pub fn parse(name: &str, d: &[u8]) -> Option<Plain> {
        d.is_empty().then(|| Plain {
            name: name.to_string(),
        })
    }
}

impl Ext for Plain {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        let _ = write!(out, " -j {}", self.name);
    }
}
