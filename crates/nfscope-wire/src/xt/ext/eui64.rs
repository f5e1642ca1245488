//! `eui64` match (IPv6 source address is the EUI-64 of the source MAC); no options.
//!
//! ```text
//! payload (4): int (unused)
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;

/// `-m eui64`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Eui64;

impl Eui64 {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Eui64> {
        (rev == 0 && Rd::sized(d, 4).is_some()).then_some(Eui64)
    }
}

impl Ext for Eui64 {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m eui64");
    }
}
