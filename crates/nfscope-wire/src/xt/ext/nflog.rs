//! `NFLOG` target.
//!
//! ```text
//! struct xt_nflog_info (76): 0 u32 len, 4 u16 group, 6 u16 threshold, 8 u16 flags,
//!                            10 u16 pad, 12 char prefix[64]
//! flags: XT_NFLOG_F_COPY_LEN 0x1 (len is --nflog-size, else a non-zero len is --nflog-range)
//! ```

use super::fmt::{save_string, Rd};
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-j NFLOG [--nflog-prefix P] [--nflog-group G] [--nflog-size N | --nflog-range N] …`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Nflog {
    pub len: u32,
    pub group: u16,
    pub threshold: u16,
    pub flags: u16,
    pub prefix: String,
}

impl Nflog {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Nflog> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 76)?;
        Some(Nflog {
            len: r.u32(0)?,
            group: r.u16(4)?,
            threshold: r.u16(6)?,
            flags: r.u16(8)?,
            prefix: r.cstr(12, 64)?,
        })
    }
}

impl Ext for Nflog {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -j NFLOG");
        if !self.prefix.is_empty() {
            out.push_str(" --nflog-prefix");
            save_string(out, &self.prefix);
        }
        if self.group != 0 {
            let _ = write!(out, " --nflog-group {}", self.group);
        }
        if self.flags & 1 != 0 {
            let _ = write!(out, " --nflog-size {}", self.len);
        } else if self.len != 0 {
            let _ = write!(out, " --nflog-range {}", self.len);
        }
        if self.threshold != 0 {
            let _ = write!(out, " --nflog-threshold {}", self.threshold);
        }
    }
}
