//! `AUDIT` target.
//!
//! ```text
//! struct xt_audit_info (1): 0 u8 type (ACCEPT 0, DROP 1, REJECT 2)
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;

/// `-j AUDIT --type accept|drop|reject`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Audit {
    pub audit_type: u8,
}

impl Audit {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Audit> {
        if rev != 0 {
            return None;
        }
        Some(Audit {
            audit_type: Rd::sized(d, 1)?.u8(0)?,
        })
    }
}

impl Ext for Audit {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -j AUDIT");
        match self.audit_type {
            0 => out.push_str(" --type accept"),
            1 => out.push_str(" --type drop"),
            2 => out.push_str(" --type reject"),
            _ => {}
        }
    }
}
