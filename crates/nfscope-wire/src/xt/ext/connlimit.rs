//! `connlimit` match (rev 0 and 1).
//!
//! ```text
//! struct xt_connlimit_info (32, user-visible 24): 0 nf_inet_addr mask (v4: 4 bytes),
//!   16 u32 limit, 20 u32 flags (INVERT 1, DADDR 2), 24 data pointer (kernel only)
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext, NFPROTO_IPV4, NFPROTO_IPV6};
use serde::Serialize;
use std::fmt::Write as _;

/// `-m connlimit --connlimit-upto|above N --connlimit-mask BITS [--connlimit-saddr|daddr]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Connlimit {
    pub rev: u8,
    pub limit: u32,
    pub flags: u32,
    /// Prefix length as iptables counts it (bits up to the last set bit of the mask).
    pub mask_bits: u32,
}

impl Connlimit {
    pub fn parse(rev: u8, family: u8, d: &[u8]) -> Option<Connlimit> {
        if rev > 1 {
            return None;
        }
        let r = Rd::sized_user(d, 32, 24)?;
        // count_bits: total width minus the significant bits of the inverted mask, per word.
        let word_bits = |o: usize| {
            r.be32(o)
                .map(|m| 32 - (!m).checked_ilog2().map_or(0, |b| b + 1))
        };
        let mask_bits = match family {
            NFPROTO_IPV4 => word_bits(0)?,
            NFPROTO_IPV6 => {
                let mut n = 0;
                for i in 0..4 {
                    n += word_bits(4 * i)?;
                }
                n
            }
            _ => return None,
        };
        Some(Connlimit {
            rev,
            limit: r.u32(16)?,
            flags: r.u32(20)?,
            mask_bits,
        })
    }
}

impl Ext for Connlimit {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        let op = if self.flags & 1 != 0 { "upto" } else { "above" };
        let _ = write!(out, " -m connlimit --connlimit-{op} {}", self.limit);
        let _ = write!(out, " --connlimit-mask {}", self.mask_bits);
        if self.rev >= 1 {
            out.push_str(if self.flags & 2 != 0 {
                " --connlimit-daddr"
            } else {
                " --connlimit-saddr"
            });
        }
    }
}
