//! `hashlimit` match, revisions 1 to 3 (rev 0 is gone from the kernel).
//!
//! ```text
//! struct xt_hashlimit_mtinfo1 (56, user-visible 48): 0 char name[16],
//!   16 cfg1 { 16 u32 mode, 20 u32 avg, 24 u32 burst, 28 u32 size, 32 u32 max,
//!             36 u32 gc_interval, 40 u32 expire, 44 u8 srcmask, 45 u8 dstmask },
//!   48 hinfo pointer (kernel only)
//! struct xt_hashlimit_mtinfo2 (304, user-visible 296): 0 char name[255],
//!   256 cfg2 { 256 u64 avg, 264 u64 burst, 272 u32 mode, 276 size, 280 max,
//!              284 gc_interval, 288 expire, 292 u8 srcmask, 293 u8 dstmask }, 296 hinfo
//! struct xt_hashlimit_mtinfo3 (312, user-visible 304): as mtinfo2 but
//!   cfg3 { …, 292 u32 interval, 296 u8 srcmask, 297 u8 dstmask }, 304 hinfo
//! mode: HASH_DIP 1, HASH_DPT 2, HASH_SIP 4, HASH_SPT 8, INVERT 16, BYTES 32, RATE_MATCH 64
//! ```
//! Rates scale: rev 1 `XT_HASHLIMIT_SCALE` (10000), rev 2/3 `XT_HASHLIMIT_SCALE_v2` (10^6).

use super::fmt::Rd;
use super::limit::rate;
use super::{Ctx, Ext, NFPROTO_IPV6};
use serde::Serialize;
use std::fmt::Write as _;

const GC_INTERVAL: u32 = 1000;
const BYTE_SHIFT: u32 = 4;

/// `-m hashlimit --hashlimit-upto|above RATE --hashlimit-burst B --hashlimit-mode … --hashlimit-name N …`
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hashlimit {
    pub rev: u8,
    pub family: u8,
    pub name: String,
    pub avg: u64,
    pub burst: u64,
    pub mode: u32,
    pub size: u32,
    pub max: u32,
    pub gc_interval: u32,
    pub expire: u32,
    pub interval: u32,
    pub srcmask: u8,
    pub dstmask: u8,
}

impl Hashlimit {
    pub fn parse(rev: u8, family: u8, d: &[u8]) -> Option<Hashlimit> {
        let r = match rev {
            1 => Rd::sized_user(d, 56, 48)?,
            2 => Rd::sized_user(d, 304, 296)?,
            3 => Rd::sized_user(d, 312, 304)?,
            _ => return None,
        };
        let mut h = Hashlimit {
            rev,
            family,
            name: String::new(),
            avg: 0,
            burst: 0,
            mode: 0,
            size: 0,
            max: 0,
            gc_interval: 0,
            expire: 0,
            interval: 0,
            srcmask: 0,
            dstmask: 0,
        };
        if rev == 1 {
            h.name = r.cstr(0, 16)?;
            h.mode = r.u32(16)?;
            h.avg = u64::from(r.u32(20)?);
            h.burst = u64::from(r.u32(24)?);
            h.size = r.u32(28)?;
            h.max = r.u32(32)?;
            h.gc_interval = r.u32(36)?;
            h.expire = r.u32(40)?;
            h.srcmask = r.u8(44)?;
            h.dstmask = r.u8(45)?;
        } else {
            h.name = r.cstr(0, 255)?;
            h.avg = r.u64(256)?;
            h.burst = r.u64(264)?;
            h.mode = r.u32(272)?;
            h.size = r.u32(276)?;
            h.max = r.u32(280)?;
            h.gc_interval = r.u32(284)?;
            h.expire = r.u32(288)?;
            let m = if rev == 3 {
                h.interval = r.u32(292)?;
                296
            } else {
                292
            };
            h.srcmask = r.u8(m)?;
            h.dstmask = r.u8(m + 1)?;
        }
        Some(h)
    }

    /// `print_bytes`: ` Nb/s` with k/m units, then ` --hashlimit-burst Nb`; returns the
    /// default expire in ms.
    fn bytes(&self, out: &mut String) -> u32 {
        let units: [(&str, u64); 3] = [("m", 1024 * 1024), ("k", 1024), ("", 1)];
        let cost_to_bytes = |cost: u64| {
            let r = u64::from(u32::MAX)
                .checked_div(cost)
                .unwrap_or(u64::from(u32::MAX));
            r.wrapping_sub(1) << BYTE_SHIFT
        };
        let bytes_to_cost = |b: u64| {
            let r = (b >> BYTE_SHIFT) as u32;
            u64::from(u32::MAX / r.wrapping_add(1).max(1))
        };
        let mut r = cost_to_bytes(self.avg);
        let mut i = 0;
        while i < units.len() - 1 {
            if r >= units[i].1 && bytes_to_cost(r & !(units[i].1 - 1)) == self.avg {
                break;
            }
            i += 1;
        }
        let _ = write!(out, " {}{}b/s", r / units[i].1, units[i].0);
        if self.burst == 0 {
            return 15 * 1000;
        }
        r = r.wrapping_mul(self.burst);
        out.push_str(" --hashlimit-");
        let mut i = 0;
        while i < units.len() - 1 {
            if r >= units[i].1 {
                break;
            }
            i += 1;
        }
        let _ = write!(out, "burst {}{}b", r / units[i].1, units[i].0);
        60 * 1000
    }
}

impl Ext for Hashlimit {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m hashlimit");
        let mode = self.mode;
        out.push_str(if mode & 16 != 0 {
            " --hashlimit-above"
        } else {
            " --hashlimit-upto"
        });
        let quantum = if mode & 32 != 0 {
            self.bytes(out)
        } else {
            let scale: u64 = if self.rev == 1 { 10_000 } else { 1_000_000 };
            rate(out, self.avg, scale);
            let _ = write!(out, " --hashlimit-burst {}", self.burst);
            if self.avg == 0 {
                0
            } else {
                // The unit `rate` chose, in ms: the same choice made again.
                let units = [scale * 86400, scale * 3600, scale * 60, scale];
                let mut i = 1;
                while i < 4 && !(self.avg > units[i] || units[i] / self.avg < units[i] % self.avg) {
                    i += 1;
                }
                (units[i - 1] / scale * 1000) as u32
            }
        };
        if mode & 15 != 0 {
            out.push_str(" --hashlimit-mode ");
            let names = [(4, "srcip"), (8, "srcport"), (1, "dstip"), (2, "dstport")];
            let mut sep = "";
            for (bit, n) in names {
                if mode & bit != 0 {
                    out.push_str(sep);
                    out.push_str(n);
                    sep = ",";
                }
            }
        }
        let _ = write!(out, " --hashlimit-name {}", self.name);
        if self.size != 0 {
            let _ = write!(out, " --hashlimit-htable-size {}", self.size);
        }
        if self.max != 0 {
            let _ = write!(out, " --hashlimit-htable-max {}", self.max);
        }
        if self.gc_interval != GC_INTERVAL {
            let _ = write!(out, " --hashlimit-htable-gcinterval {}", self.gc_interval);
        }
        if self.expire != quantum {
            let _ = write!(out, " --hashlimit-htable-expire {}", self.expire);
        }
        let dmask = if self.family == NFPROTO_IPV6 { 128 } else { 32 };
        if self.srcmask != dmask {
            let _ = write!(out, " --hashlimit-srcmask {}", self.srcmask);
        }
        if self.dstmask != dmask {
            let _ = write!(out, " --hashlimit-dstmask {}", self.dstmask);
        }
        if self.rev == 3 && mode & 64 != 0 {
            out.push_str(" --hashlimit-rate-match");
            if self.interval != 1 {
                let _ = write!(out, " --hashlimit-rate-interval {}", self.interval);
            }
        }
    }
}
