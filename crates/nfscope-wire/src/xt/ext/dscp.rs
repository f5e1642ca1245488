//! `dscp` match and `DSCP` target.
//!
//! ```text
//! struct xt_dscp_info (2): 0 u8 dscp, 1 u8 invert
//! struct xt_DSCP_info (1): 0 u8 dscp
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-m dscp [!] --dscp 0xNN`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dscp {
    pub dscp: u8,
    pub invert: bool,
}

impl Dscp {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Dscp> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 2)?;
        Some(Dscp {
            dscp: r.u8(0)?,
            invert: r.u8(1)? != 0,
        })
    }
}

impl Ext for Dscp {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        let inv = if self.invert { " !" } else { "" };
        let _ = write!(out, " -m dscp{inv} --dscp 0x{:02x}", self.dscp);
    }
}

/// `-j DSCP --set-dscp 0xNN`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DscpTarget {
    pub dscp: u8,
}

impl DscpTarget {
    pub fn parse(rev: u8, d: &[u8]) -> Option<DscpTarget> {
        if rev != 0 {
            return None;
        }
        Some(DscpTarget {
            dscp: Rd::sized(d, 1)?.u8(0)?,
        })
    }
}

impl Ext for DscpTarget {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        let _ = write!(out, " -j DSCP --set-dscp 0x{:02x}", self.dscp);
    }
}
