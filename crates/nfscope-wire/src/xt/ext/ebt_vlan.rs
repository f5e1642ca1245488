//! ebtables `vlan` match (`libebt_vlan.c`).
//!
//! ```text
//! struct ebt_vlan_info (8): 0 u16 id, 2 u8 prio, 4 be16 encap, 6 u8 bitmask (1 ID, 2 PRIO,
//!                           4 ENCAP), 7 u8 invflags
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `--vlan-id [!] N --vlan-prio [!] N --vlan-encap [!] XXXX`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EbtVlan {
    pub id: u16,
    pub prio: u8,
    pub encap: u16,
    pub bitmask: u8,
    pub invflags: u8,
}

impl EbtVlan {
    pub fn parse(rev: u8, d: &[u8]) -> Option<EbtVlan> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 8)?;
        Some(EbtVlan {
            id: r.u16(0)?,
            prio: r.u8(2)?,
            encap: r.be16(4)?,
            bitmask: r.u8(6)?,
            invflags: r.u8(7)?,
        })
    }
}

impl Ext for EbtVlan {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        let bang = |f: u8| if self.invflags & f != 0 { "! " } else { "" };
        if self.bitmask & 1 != 0 {
            let _ = write!(out, " --vlan-id {}{}", bang(1), self.id);
        }
        if self.bitmask & 2 != 0 {
            let _ = write!(out, " --vlan-prio {}{}", bang(2), self.prio);
        }
        if self.bitmask & 4 != 0 {
            let _ = write!(out, " --vlan-encap {}{:04X}", bang(4), self.encap);
        }
    }
}
