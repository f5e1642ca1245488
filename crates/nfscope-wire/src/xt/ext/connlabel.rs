//! `connlabel` match.
//!
//! ```text
//! struct xt_connlabel_mtinfo (4): 0 u16 bit, 2 u16 options (OP_INVERT 1, OP_SET 2)
//! ```
//! iptables-save prints the label's name from `connlabel.conf` when it has one: here through
//! [`super::Names::connlabel`], else the bit number (as iptables does without a name).

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-m connlabel [!] --label "N" [--set]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Connlabel {
    pub bit: u16,
    pub options: u16,
}

impl Connlabel {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Connlabel> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 4)?;
        Some(Connlabel {
            bit: r.u16(0)?,
            options: r.u16(2)?,
        })
    }
}

impl Ext for Connlabel {
    fn save(&self, ctx: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m connlabel");
        if self.options & 1 != 0 {
            out.push_str(" !");
        }
        match ctx.names.connlabel(self.bit) {
            Some(n) => {
                let _ = write!(out, " --label \"{n}\"");
            }
            None => {
                let _ = write!(out, " --label \"{}\"", self.bit);
            }
        }
        if self.options & 2 != 0 {
            out.push_str(" --set");
        }
    }
}
