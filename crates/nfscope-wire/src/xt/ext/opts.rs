//! `hbh` and `dst` matches (IPv6 hop-by-hop and destination options headers).
//!
//! ```text
//! struct ip6t_opts (40): 0 u32 hdrlen, 4 u8 flags (LEN 1, OPTS 2, NSTRICT 4), 5 u8 invflags
//!   (INV_LEN 1), 6 u16 opts[16] (type << 8 | length, length 0xff = any), 38 u8 optsnr
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-m hbh|dst [!] --hbh-len N --hbh-opts TYPE[:LEN],…`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Opts {
    /// `hbh` or `dst`.
    pub name: String,
    pub hdrlen: u32,
    pub flags: u8,
    pub invflags: u8,
    pub opts: Vec<u16>,
}

impl Opts {
    pub fn parse(name: &str, rev: u8, d: &[u8]) -> Option<Opts> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 40)?;
        let n = usize::from(r.u8(38)?);
        if n > 16 {
            return None;
        }
        Some(Opts {
            name: name.to_string(),
            hdrlen: r.u32(0)?,
            flags: r.u8(4)?,
            invflags: r.u8(5)?,
            opts: (0..n)
                .map(|i| r.u16(6 + 2 * i))
                .collect::<Option<Vec<_>>>()?,
        })
    }
}

impl Ext for Opts {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        let n = &self.name;
        let _ = write!(out, " -m {n}");
        if self.flags & 1 != 0 {
            let inv = if self.invflags & 1 != 0 { " !" } else { "" };
            let _ = write!(out, "{inv} --{n}-len {}", self.hdrlen);
        }
        if self.flags & 2 != 0 {
            let _ = write!(out, " --{n}-opts");
        }
        for (i, o) in self.opts.iter().enumerate() {
            out.push(if i == 0 { ' ' } else { ',' });
            let _ = write!(out, "{}", o >> 8);
            if o & 0xff != 0xff {
                let _ = write!(out, ":{}", o & 0xff);
            }
        }
    }
}
