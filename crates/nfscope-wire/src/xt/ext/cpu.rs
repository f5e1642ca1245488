//! `cpu` match.
//!
//! ```text
//! struct xt_cpu_info (8): 0 u32 cpu, 4 u32 invert
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-m cpu [!] --cpu N`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cpu {
    pub cpu: u32,
    pub invert: bool,
}

impl Cpu {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Cpu> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 8)?;
        Some(Cpu {
            cpu: r.u32(0)?,
            invert: r.u32(4)? != 0,
        })
    }
}

impl Ext for Cpu {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        let inv = if self.invert { " !" } else { "" };
        let _ = write!(out, " -m cpu{inv} --cpu {}", self.cpu);
    }
}
