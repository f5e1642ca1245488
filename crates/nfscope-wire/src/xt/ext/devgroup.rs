//! `devgroup` match.
//!
//! ```text
//! struct xt_devgroup_info (20): 0 u32 flags, 4 u32 src_group, 8 u32 src_mask,
//!                               12 u32 dst_group, 16 u32 dst_mask
//!   flags: MATCH_SRC 1, INVERT_SRC 2, MATCH_DST 4, INVERT_DST 8
//! ```
//! With a full mask iptables-save prints the group's name from `/etc/iproute2/group` when it
//! has one: here through [`super::Names::devgroup`], else the number (`0x…`).

use super::fmt::{bang, Rd};
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `xtables_print_val_mask`: ` 0xV/0xM`, or with a full mask the name if there is one, else
/// ` 0xV`.
pub(crate) fn val_mask(out: &mut String, v: u32, m: u32, name: impl FnOnce(u32) -> Option<String>) {
    if m != u32::MAX {
        let _ = write!(out, " 0x{v:x}/0x{m:x}");
    } else if let Some(n) = name(v) {
        let _ = write!(out, " {n}");
    } else {
        let _ = write!(out, " 0x{v:x}");
    }
}

/// `-m devgroup [!] --src-group G[/M] [!] --dst-group G[/M]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Devgroup {
    pub flags: u32,
    pub src_group: u32,
    pub src_mask: u32,
    pub dst_group: u32,
    pub dst_mask: u32,
}

impl Devgroup {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Devgroup> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 20)?;
        Some(Devgroup {
            flags: r.u32(0)?,
            src_group: r.u32(4)?,
            src_mask: r.u32(8)?,
            dst_group: r.u32(12)?,
            dst_mask: r.u32(16)?,
        })
    }
}

impl Ext for Devgroup {
    fn save(&self, ctx: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m devgroup");
        if self.flags & 1 != 0 {
            bang(out, self.flags & 2 != 0);
            out.push_str(" --src-group");
            val_mask(out, self.src_group, self.src_mask, |v| {
                ctx.names.devgroup(v)
            });
        }
        if self.flags & 4 != 0 {
            bang(out, self.flags & 8 != 0);
            out.push_str(" --dst-group");
            val_mask(out, self.dst_group, self.dst_mask, |v| {
                ctx.names.devgroup(v)
            });
        }
    }
}
