//! `IDLETIMER` target (rev 0 and 1).
//!
//! ```text
//! struct idletimer_tg_info (40, user-visible 32):    0 u32 timeout, 4 char label[28],
//!                                                    32 timer pointer (kernel only)
//! struct idletimer_tg_info_v1 (48, user-visible 40): 0 u32 timeout, 4 char label[28],
//!   32 u8 send_nl_msg, 33 u8 timer_type (ALARM 1), 40 timer pointer (kernel only)
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-j IDLETIMER --timeout N --label L [--alarm]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Idletimer {
    pub timeout: u32,
    pub label: String,
    pub alarm: bool,
}

impl Idletimer {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Idletimer> {
        let (r, alarm) = match rev {
            0 => (Rd::sized_user(d, 40, 32)?, false),
            1 => {
                let r = Rd::sized_user(d, 48, 40)?;
                (r, r.u8(33)? & 1 != 0)
            }
            _ => return None,
        };
        Some(Idletimer {
            timeout: r.u32(0)?,
            label: r.cstr(4, 28)?,
            alarm,
        })
    }
}

impl Ext for Idletimer {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        let _ = write!(
            out,
            " -j IDLETIMER --timeout {} --label {}",
            self.timeout, self.label
        );
        if self.alarm {
            out.push_str(" --alarm");
        }
    }
}
