//! `tcpmss` match and `TCPMSS` target.
//!
//! ```text
//! struct xt_tcpmss_match_info (6): 0 u16 mss_min, 2 u16 mss_max, 4 u8 invert
//! struct xt_tcpmss_info (2):       0 u16 mss (XT_TCPMSS_CLAMP_PMTU = 0xffff)
//! ```

use super::fmt::{bang, Rd};
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-m tcpmss [!] --mss MIN[:MAX]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TcpmssMatch {
    pub mss_min: u16,
    pub mss_max: u16,
    pub invert: bool,
}

impl TcpmssMatch {
    pub fn parse(rev: u8, d: &[u8]) -> Option<TcpmssMatch> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 6)?;
        Some(TcpmssMatch {
            mss_min: r.u16(0)?,
            mss_max: r.u16(2)?,
            invert: r.u8(4)? != 0,
        })
    }
}

impl Ext for TcpmssMatch {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m tcpmss");
        bang(out, self.invert);
        if self.mss_min == self.mss_max {
            let _ = write!(out, " --mss {}", self.mss_min);
        } else {
            let _ = write!(out, " --mss {}:{}", self.mss_min, self.mss_max);
        }
    }
}

/// `-j TCPMSS --set-mss N` or `--clamp-mss-to-pmtu`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TcpmssTarget {
    pub mss: u16,
}

impl TcpmssTarget {
    pub fn parse(rev: u8, d: &[u8]) -> Option<TcpmssTarget> {
        if rev != 0 {
            return None;
        }
        Some(TcpmssTarget {
            mss: Rd::sized(d, 2)?.u16(0)?,
        })
    }
}

impl Ext for TcpmssTarget {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        if self.mss == 0xffff {
            out.push_str(" -j TCPMSS --clamp-mss-to-pmtu");
        } else {
            let _ = write!(out, " -j TCPMSS --set-mss {}", self.mss);
        }
    }
}
