//! `LOG` target.
//!
//! ```text
//! struct xt_log_info (32, as iptables defines it; ipt_log_info / ip6t_log_info alike):
//!   0 u8 level, 1 u8 logflags, 2 char prefix[30]
//! logflags: TCPSEQ 0x01, TCPOPT 0x02, IPOPT 0x04, UID 0x08, (NFLOG 0x10), MACDECODE 0x20
//! ```

use super::fmt::{save_string, Rd};
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// syslog `LOG_WARNING`, the level iptables leaves out.
pub const DEFAULT_LEVEL: u8 = 4;

/// `-j LOG [--log-prefix P] [--log-level N] [--log-tcp-sequence] …`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Log {
    pub level: u8,
    pub logflags: u8,
    pub prefix: String,
}

impl Log {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Log> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 32)?;
        Some(Log {
            level: r.u8(0)?,
            logflags: r.u8(1)?,
            prefix: r.cstr(2, 30)?,
        })
    }
}

impl Ext for Log {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -j LOG");
        if !self.prefix.is_empty() {
            out.push_str(" --log-prefix");
            save_string(out, &self.prefix);
        }
        if self.level != DEFAULT_LEVEL {
            let _ = write!(out, " --log-level {}", self.level);
        }
        let flags = [
            (0x01, "--log-tcp-sequence"),
            (0x02, "--log-tcp-options"),
            (0x04, "--log-ip-options"),
            (0x08, "--log-uid"),
            (0x20, "--log-macdecode"),
        ];
        for (bit, opt) in flags {
            if self.logflags & bit != 0 {
                let _ = write!(out, " {opt}");
            }
        }
    }
}
