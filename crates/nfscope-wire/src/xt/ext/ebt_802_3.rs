//! ebtables `802_3` match (`libebt_802_3.c`).
//!
//! ```text
//! struct ebt_802_3_info (6): 0 u8 sap, 2 be16 type, 4 u8 bitmask (1 SAP, 2 TYPE), 5 u8 invflags
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `--802_3-sap [!] 0xSS --802_3-type [!] 0xTTTT`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ebt8023 {
    pub sap: u8,
    pub typ: u16,
    pub bitmask: u8,
    pub invflags: u8,
}

const SAP: u8 = 1;
const TYPE: u8 = 2;

impl Ebt8023 {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Ebt8023> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 6)?;
        Some(Ebt8023 {
            sap: r.u8(0)?,
            typ: r.be16(2)?,
            bitmask: r.u8(4)?,
            invflags: r.u8(5)?,
        })
    }
}

impl Ext for Ebt8023 {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        let bang = |f: u8| if self.invflags & f != 0 { "! " } else { "" };
        if self.bitmask & SAP != 0 {
            let _ = write!(out, " --802_3-sap {}0x{:02x}", bang(SAP), self.sap);
        }
        if self.bitmask & TYPE != 0 {
            let _ = write!(out, " --802_3-type {}0x{:04x}", bang(TYPE), self.typ);
        }
    }
}
