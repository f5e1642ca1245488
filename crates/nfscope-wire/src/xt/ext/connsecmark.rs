//! `CONNSECMARK` target.
//!
//! ```text
//! struct xt_connsecmark_target_info (1): 0 u8 mode (SAVE 1, RESTORE 2)
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;

/// `-j CONNSECMARK --save|--restore`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Connsecmark {
    pub mode: u8,
}

impl Connsecmark {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Connsecmark> {
        if rev != 0 {
            return None;
        }
        let mode = Rd::sized(d, 1)?.u8(0)?;
        // iptables refuses to print any other mode.
        matches!(mode, 1 | 2).then_some(Connsecmark { mode })
    }
}

impl Ext for Connsecmark {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(if self.mode == 1 {
            " -j CONNSECMARK --save"
        } else {
            " -j CONNSECMARK --restore"
        });
    }
}
