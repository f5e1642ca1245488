//! `SECMARK` target (rev 0 and 1).
//!
//! ```text
//! struct xt_secmark_target_info (264):    0 u8 mode, 4 u32 secid, 8 char secctx[256]
//! struct xt_secmark_target_info_v1 (264): 0 u8 mode, 1 char secctx[256], 260 u32 secid
//!   mode: SECMARK_MODE_SEL 1 (SELinux)
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-j SECMARK --selctx CONTEXT`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Secmark {
    pub mode: u8,
    pub secctx: String,
}

impl Secmark {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Secmark> {
        let r = Rd::sized(d, 264)?;
        let secctx = match rev {
            0 => r.cstr(8, 256)?,
            1 => r.cstr(1, 256)?,
            _ => return None,
        };
        let mode = r.u8(0)?;
        // iptables refuses to print any other mode.
        (mode == 1).then_some(Secmark { mode, secctx })
    }
}

impl Ext for Secmark {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        let _ = write!(out, " -j SECMARK --selctx {}", self.secctx);
    }
}
