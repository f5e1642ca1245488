//! `multiport` match.
//!
//! ```text
//! struct xt_multiport (32):    0 u8 flags, 1 u8 count, 2 u16 ports[15]
//! struct xt_multiport_v1 (48): 0 u8 flags, 1 u8 count, 2 u16 ports[15], 32 u8 pflags[15],
//!                              47 u8 invert
//! ```
//! flags: 0 `XT_MULTIPORT_SOURCE`, 1 `DESTINATION`, 2 `EITHER`. In rev 1, `pflags[i]` set means
//! `ports[i]:ports[i+1]` is a range. Ports are in host order.

use super::fmt::{bang, Rd};
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-m multiport [!] --dports 80,443,8000:8080`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Multiport {
    pub rev: u8,
    pub flags: u8,
    /// The ports as stored (`count` of them); ranges are two entries.
    pub ports: Vec<u16>,
    /// Rev 1: which entries start a range.
    pub pflags: Vec<bool>,
    pub invert: bool,
}

impl Multiport {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Multiport> {
        let r = match rev {
            0 => Rd::sized(d, 32)?,
            1 => Rd::sized(d, 48)?,
            _ => return None,
        };
        let flags = r.u8(0)?;
        let count = usize::from(r.u8(1)?);
        if flags > 2 || count > 15 {
            return None;
        }
        let ports = (0..count)
            .map(|i| r.u16(2 + 2 * i))
            .collect::<Option<Vec<_>>>()?;
        let (pflags, invert) = if rev == 1 {
            let p = (0..count)
                .map(|i| r.u8(32 + i).map(|b| b != 0))
                .collect::<Option<Vec<_>>>()?;
            (p, r.u8(47)? != 0)
        } else {
            (Vec::new(), false)
        };
        Some(Multiport {
            rev,
            flags,
            ports,
            pflags,
            invert,
        })
    }
}

impl Ext for Multiport {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m multiport");
        bang(out, self.invert);
        out.push_str([" --sports ", " --dports ", " --ports "][usize::from(self.flags.min(2))]);
        let mut i = 0;
        while i < self.ports.len() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{}", self.ports[i]);
            if self.pflags.get(i).copied().unwrap_or(false) {
                i += 1;
                // iptables reads ports[i+1] even past count; it is in the blob.
                if let Some(p) = self.ports.get(i) {
                    let _ = write!(out, ":{p}");
                }
            }
            i += 1;
        }
    }
}
