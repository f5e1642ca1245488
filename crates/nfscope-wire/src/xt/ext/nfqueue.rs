//! `NFQUEUE` target (rev 0 to 3).
//!
//! ```text
//! struct xt_NFQ_info (2):    0 u16 queuenum
//! struct xt_NFQ_info_v1 (4): 0 u16 queuenum, 2 u16 queues_total
//! struct xt_NFQ_info_v2 (6): … 4 u16 bypass
//! struct xt_NFQ_info_v3 (6): … 4 u16 flags (BYPASS 1, CPU_FANOUT 2)
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-j NFQUEUE --queue-num N | --queue-balance A:B [--queue-bypass] [--queue-cpu-fanout]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Nfqueue {
    pub rev: u8,
    pub queuenum: u16,
    pub queues_total: u16,
    pub flags: u16,
}

impl Nfqueue {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Nfqueue> {
        let r = match rev {
            0 => Rd::sized(d, 2)?,
            1 => Rd::sized(d, 4)?,
            2 | 3 => Rd::sized(d, 6)?,
            _ => return None,
        };
        Some(Nfqueue {
            rev,
            queuenum: r.u16(0)?,
            queues_total: if rev >= 1 { r.u16(2)? } else { 1 },
            flags: if rev >= 2 { r.u16(4)? } else { 0 },
        })
    }
}

impl Ext for Nfqueue {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -j NFQUEUE");
        if self.rev >= 1 && self.queues_total > 1 {
            let last = u32::from(self.queues_total) + u32::from(self.queuenum) - 1;
            let _ = write!(out, " --queue-balance {}:{last}", self.queuenum);
        } else {
            let _ = write!(out, " --queue-num {}", self.queuenum);
        }
        if self.rev >= 2 && self.flags & 1 != 0 {
            out.push_str(" --queue-bypass");
        }
        if self.rev == 3 && self.flags & 2 != 0 {
            out.push_str(" --queue-cpu-fanout");
        }
    }
}
