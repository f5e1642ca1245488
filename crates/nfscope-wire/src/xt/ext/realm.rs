//! `realm` match (IPv4).
//!
//! ```text
//! struct xt_realm_info (12): 0 u32 id, 4 u32 mask, 8 u8 invert
//! ```
//! With a full mask iptables-save prints the realm's name from `/etc/iproute2/rt_realms` when
//! it has one: here through [`super::Names::realm`], else the number.

use super::devgroup::val_mask;
use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;

/// `-m realm [!] --realm 0xID[/0xMASK]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Realm {
    pub id: u32,
    pub mask: u32,
    pub invert: bool,
}

impl Realm {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Realm> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 12)?;
        Some(Realm {
            id: r.u32(0)?,
            mask: r.u32(4)?,
            invert: r.u8(8)? != 0,
        })
    }
}

impl Ext for Realm {
    fn save(&self, ctx: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m realm");
        if self.invert {
            out.push_str(" !");
        }
        out.push_str(" --realm");
        val_mask(out, self.id, self.mask, |v| ctx.names.realm(v));
    }
}
