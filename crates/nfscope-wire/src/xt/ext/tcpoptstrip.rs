//! `TCPOPTSTRIP` target.
//!
//! ```text
//! struct xt_tcpoptstrip_target_info (32): 0 u32 strip_bmap[8] (bit n of word n/32: option n)
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-j TCPOPTSTRIP --strip-options N,N,…` (numeric, as iptables-save prints it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tcpoptstrip {
    pub options: Vec<u8>,
}

impl Tcpoptstrip {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Tcpoptstrip> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 32)?;
        let mut options = Vec::new();
        for i in 0..=255u8 {
            let w = r.u32(usize::from(i >> 5) * 4)?;
            if w & (1 << (i & 31)) != 0 {
                options.push(i);
            }
        }
        Some(Tcpoptstrip { options })
    }
}

impl Ext for Tcpoptstrip {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -j TCPOPTSTRIP");
        if self.options.is_empty() {
            return;
        }
        out.push_str(" --strip-options ");
        for (i, o) in self.options.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{o}");
        }
    }
}
