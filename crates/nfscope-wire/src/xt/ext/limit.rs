//! `limit` match.
//!
//! ```text
//! struct xt_rateinfo (40, user-visible 8): 0 u32 avg, 4 u32 burst,
//!   8 unsigned long prev, 16 u32 credit, 20 u32 credit_cap, 24 u32 cost,
//!   32 struct xt_limit_priv *master   (all kernel-only; zeroed in legacy dumps)
//! ```
//! `avg` is the period between packets in units of 1/`XT_LIMIT_SCALE` (10000) s.

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

pub const SCALE: u32 = 10000;
/// `XT_LIMIT_BURST`, the burst iptables leaves out.
pub const DEFAULT_BURST: u32 = 5;

/// `print_rate` of libxt_limit (also used by others): ` N/unit` choosing the largest unit that
/// gives an exact integer, ` inf` for a zero period.
pub fn rate(out: &mut String, period: u64, scale: u64) {
    let rates = [
        ("day", scale * 24 * 60 * 60),
        ("hour", scale * 60 * 60),
        ("min", scale * 60),
        ("sec", scale),
    ];
    if period == 0 {
        out.push_str(" inf");
        return;
    }
    let mut i = 1;
    while i < rates.len() {
        let m = rates[i].1;
        if period > m || m / period < m % period {
            break;
        }
        i += 1;
    }
    let (name, mult) = rates[i - 1];
    let _ = write!(out, " {}/{name}", mult / period);
}

/// `-m limit --limit N/unit [--limit-burst B]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Limit {
    pub avg: u32,
    pub burst: u32,
}

impl Limit {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Limit> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized_user(d, 40, 8)?;
        Some(Limit {
            avg: r.u32(0)?,
            burst: r.u32(4)?,
        })
    }
}

impl Ext for Limit {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m limit --limit");
        rate(out, u64::from(self.avg), u64::from(SCALE));
        if self.burst != DEFAULT_BURST {
            let _ = write!(out, " --limit-burst {}", self.burst);
        }
    }
}
