//! ebtables `log` and `nflog` watchers (`libebt_log.c`, `libebt_nflog.c`): xt targets that
//! ebtables prints among the matches, the rule's verdict staying its own.
//!
//! ```text
//! struct ebt_log_info (36):   0 u8 loglevel, 1 char prefix[30], 32 u32 bitmask
//!                             (1 IP, 2 ARP, 8 IP6)
//! struct ebt_nflog_info (76): 0 u32 len, 4 u16 group, 6 u16 threshold, 8 u16 flags,
//!                             12 char prefix[64]
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `--log-level L [--log-prefix "P"] [--log-ip] [--log-arp] [--log-ip6]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EbtLog {
    pub level: u8,
    pub prefix: String,
    pub bitmask: u32,
}

const LEVELS: [&str; 8] = [
    "emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
];

impl EbtLog {
    pub fn parse(rev: u8, d: &[u8]) -> Option<EbtLog> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 36)?;
        let level = r.u8(0)?;
        if level as usize >= LEVELS.len() {
            return None;
        }
        Some(EbtLog {
            level,
            prefix: r.cstr(1, 30)?,
            bitmask: r.u32(32)?,
        })
    }
}

impl Ext for EbtLog {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        let _ = write!(out, " --log-level {}", LEVELS[self.level as usize % 8]);
        if !self.prefix.is_empty() {
            let _ = write!(out, " --log-prefix \"{}\"", self.prefix);
        }
        for (bit, opt) in [(1, " --log-ip"), (2, " --log-arp"), (8, " --log-ip6")] {
            if self.bitmask & bit != 0 {
                out.push_str(opt);
            }
        }
    }
}

/// `[--nflog-prefix "P"] [--nflog-group G] [--nflog-range N] [--nflog-threshold T]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EbtNflog {
    pub len: u32,
    pub group: u16,
    pub threshold: u16,
    pub prefix: String,
}

impl EbtNflog {
    pub fn parse(rev: u8, d: &[u8]) -> Option<EbtNflog> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 76)?;
        Some(EbtNflog {
            len: r.u32(0)?,
            group: r.u16(4)?,
            threshold: r.u16(6)?,
            prefix: r.cstr(12, 64)?,
        })
    }
}

impl Ext for EbtNflog {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        if !self.prefix.is_empty() {
            let _ = write!(out, " --nflog-prefix \"{}\"", self.prefix);
        }
        if self.group != 0 {
            let _ = write!(out, " --nflog-group {}", self.group);
        }
        if self.len != 0 {
            let _ = write!(out, " --nflog-range {}", self.len);
        }
        if self.threshold != 1 {
            let _ = write!(out, " --nflog-threshold {}", self.threshold);
        }
    }
}
