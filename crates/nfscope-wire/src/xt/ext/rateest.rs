//! `rateest` match and `RATEEST` target.
//!
//! ```text
//! struct xt_rateest_match_info (72, user-visible 56): 0 char name1[16], 16 char name2[16],
//!   32 u16 flags (INVERT 1, ABS 2, REL 4, DELTA 8, BPS 16, PPS 32), 34 u16 mode (EQ 1, LT 2,
//!   GT 3), 36 u32 bps1, 40 u32 pps1, 44 u32 bps2, 48 u32 pps2, 56 est1, 64 est2 (kernel only)
//! struct xt_rateest_target_info (32, user-visible 24): 0 char name[16], 16 s8 interval,
//!   17 u8 ewma_log, 24 est pointer (kernel only)
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-m rateest …` (absolute, relative or delta comparisons of rate estimators).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rateest {
    pub name1: String,
    pub name2: String,
    pub flags: u16,
    pub mode: u16,
    pub bps1: u32,
    pub pps1: u32,
    pub bps2: u32,
    pub pps2: u32,
}

impl Rateest {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Rateest> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized_user(d, 72, 56)?;
        let mode = r.u16(34)?;
        // iptables exits on any other mode.
        if !(1..=3).contains(&mode) {
            return None;
        }
        Some(Rateest {
            name1: r.cstr(0, 16)?,
            name2: r.cstr(16, 16)?,
            flags: r.u16(32)?,
            mode,
            bps1: r.u32(36)?,
            pps1: r.u32(40)?,
            bps2: r.u32(44)?,
            pps2: r.u32(48)?,
        })
    }

    fn mode(&self, out: &mut String) {
        if self.flags & 1 != 0 {
            out.push_str(" !");
        }
        out.push_str(match self.mode {
            1 => " --rateest-eq",
            2 => " --rateest-lt",
            _ => " --rateest-gt",
        });
    }

    fn rate(out: &mut String, rate: u32, numeric: bool) {
        let t = f64::from(rate) * 8.0;
        let _ = if numeric {
            write!(out, " {rate}")
        } else if t >= 1000.0 * 1_000_000.0 {
            write!(out, " {:.0}Mbit", t / 1_000_000.0)
        } else if t >= 1000.0 * 1000.0 {
            write!(out, " {:.0}Kbit", t / 1000.0)
        } else {
            write!(out, " {t:.0}bit")
        };
    }

    fn one(&self, out: &mut String, name: &str, r1: u32, r2: u32, numeric: bool) {
        if self.flags & 8 != 0 {
            let _ = write!(out, " --rateest-{name}1");
            Self::rate(out, r1, numeric);
            self.mode(out);
            let _ = write!(out, " --rateest-{name}2");
        } else {
            self.mode(out);
            let _ = write!(out, " --rateest-{name}");
        }
        if self.flags & (2 | 8) != 0 {
            Self::rate(out, r2, numeric);
        }
    }

    fn rates(&self, out: &mut String) {
        if self.flags & 16 != 0 {
            self.one(out, "bps", self.bps1, self.bps2, false);
        }
        if self.flags & 32 != 0 {
            self.one(out, "pps", self.pps1, self.pps2, true);
        }
    }
}

impl Ext for Rateest {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m rateest");
        if self.flags & 8 != 0 {
            out.push_str(" --rateest-delta");
        }
        if self.flags & 4 != 0 {
            let _ = write!(out, " --rateest1 {}", self.name1);
            self.rates(out);
            let _ = write!(out, " --rateest2 {}", self.name2);
        } else {
            let _ = write!(out, " --rateest {}", self.name1);
            self.rates(out);
        }
    }
}

/// `-j RATEEST --rateest-name N --rateest-interval T --rateest-ewmalog T`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RateestTarget {
    pub name: String,
    pub interval: i8,
    pub ewma_log: u8,
}

impl RateestTarget {
    pub fn parse(rev: u8, d: &[u8]) -> Option<RateestTarget> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized_user(d, 32, 24)?;
        let interval = r.u8(16)? as i8;
        let ewma_log = r.u8(17)?;
        // The printed times shift by these; iptables never writes values outside.
        if !(-2..=29).contains(&interval) || ewma_log > 31 {
            return None;
        }
        Some(RateestTarget {
            name: r.cstr(0, 16)?,
            interval,
            ewma_log,
        })
    }
}

fn time(out: &mut String, t: u32) {
    let tmp = f64::from(t);
    let _ = if tmp >= 1_000_000.0 {
        write!(out, " {:.1}s", tmp / 1_000_000.0)
    } else if tmp >= 1000.0 {
        write!(out, " {:.1}ms", tmp / 1000.0)
    } else {
        write!(out, " {t}us")
    };
}

impl Ext for RateestTarget {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        // Unsigned 32-bit arithmetic, as in iptables.
        let shift = (i32::from(self.interval) + 2) as u32;
        let interval = 1_000_000u32.wrapping_shl(shift) / 4;
        let ewma = interval.wrapping_mul(1u32.wrapping_shl(u32::from(self.ewma_log)));
        let _ = write!(
            out,
            " -j RATEEST --rateest-name {} --rateest-interval",
            self.name
        );
        time(out, interval);
        out.push_str(" --rateest-ewmalog");
        time(out, ewma);
    }
}
