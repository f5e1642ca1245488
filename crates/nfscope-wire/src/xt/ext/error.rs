//! `ERROR` target: heads a user-defined chain (its name) or ends a legacy table (`ERROR`).
//!
//! ```text
//! struct xt_error_target: header + 0 char errorname[32] (XT_FUNCTION_MAXNAMELEN)
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// The chain (or error) name carried by an `ERROR` target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorTarget {
    pub name: String,
}

impl ErrorTarget {
    pub fn parse(rev: u8, d: &[u8]) -> Option<ErrorTarget> {
        if rev != 0 {
            return None;
        }
        Some(ErrorTarget {
            name: Rd::sized(d, 32)?.cstr(0, 32)?,
        })
    }
}

impl Ext for ErrorTarget {
    /// Not a rule target iptables-save would print; shown as ` -j ERROR NAME` so it is visible.
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        let _ = write!(out, " -j ERROR {}", self.name);
    }
}
