//! `time` match.
//!
//! ```text
//! struct xt_time_info (24): 0 u32 date_start, 4 u32 date_stop, 8 u32 daytime_start,
//!   12 u32 daytime_stop, 16 u32 monthdays_match (bit n: day n), 20 u8 weekdays_match
//!   (bit n: Mon=1 … Sun=7), 21 u8 flags (LOCAL_TZ 1, CONTIGUOUS 2)
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

const WEEKDAYS: [&str; 8] = ["", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// `-m time [--timestart T --timestop T] [--monthdays …] [--weekdays …] [--datestart D]
/// [--datestop D] [--kerneltz] [--contiguous]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Time {
    pub date_start: u32,
    pub date_stop: u32,
    pub daytime_start: u32,
    pub daytime_stop: u32,
    pub monthdays: u32,
    pub weekdays: u8,
    pub flags: u8,
}

impl Time {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Time> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 24)?;
        Some(Time {
            date_start: r.u32(0)?,
            date_stop: r.u32(4)?,
            daytime_start: r.u32(8)?,
            daytime_stop: r.u32(12)?,
            monthdays: r.u32(16)?,
            weekdays: r.u8(20)?,
            flags: r.u8(21)?,
        })
    }
}

/// `gmtime` of seconds since the epoch, as `YYYY-MM-DDTHH:MM:SS`.
fn iso(t: u32) -> String {
    let days = i64::from(t / 86400);
    let secs = t % 86400;
    let (year, month, day) = crate::civil::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn hms(out: &mut String, opt: &str, t: u32) {
    let _ = write!(
        out,
        " {opt} {:02}:{:02}:{:02}",
        t / 3600,
        t / 60 % 60,
        t % 60
    );
}

impl Ext for Time {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m time");
        if self.daytime_start != 0 || self.daytime_stop != 24 * 60 * 60 - 1 {
            hms(out, "--timestart", self.daytime_start);
            hms(out, "--timestop", self.daytime_stop);
        }
        if self.monthdays != 0xffff_fffe {
            out.push_str(" --monthdays ");
            let mut first = true;
            for i in 1..=31 {
                if self.monthdays & (1 << i) != 0 {
                    if !first {
                        out.push(',');
                    }
                    let _ = write!(out, "{i}");
                    first = false;
                }
            }
        }
        if self.weekdays != 0xfe {
            out.push_str(" --weekdays ");
            let mut first = true;
            for (i, n) in WEEKDAYS.iter().enumerate().skip(1) {
                if self.weekdays & (1 << i) != 0 {
                    if !first {
                        out.push(',');
                    }
                    out.push_str(n);
                    first = false;
                }
            }
        }
        // iptables skips 0 and LONG_MAX, which a u32 never is.
        if self.date_start != 0 {
            let _ = write!(out, " --datestart {}", iso(self.date_start));
        }
        if self.date_stop != 0 {
            let _ = write!(out, " --datestop {}", iso(self.date_stop));
        }
        if self.flags & 1 != 0 {
            out.push_str(" --kerneltz");
        }
        if self.flags & 2 != 0 {
            out.push_str(" --contiguous");
        }
    }
}
