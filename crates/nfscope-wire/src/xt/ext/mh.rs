//! `mh` match (IPv6 mobility header).
//!
//! ```text
//! struct ip6t_mh (3): 0 u8 types[2], 2 u8 invflags (INV_TYPE 1)
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-m mh [!] --mh-type A[:B]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mh {
    pub types: [u8; 2],
    pub invflags: u8,
}

impl Mh {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Mh> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 3)?;
        Some(Mh {
            types: [r.u8(0)?, r.u8(1)?],
            invflags: r.u8(2)?,
        })
    }
}

impl Ext for Mh {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m mh");
        if self.types == [0, 0xff] {
            return;
        }
        if self.invflags & 1 != 0 {
            out.push_str(" !");
        }
        if self.types[0] != self.types[1] {
            let _ = write!(out, " --mh-type {}:{}", self.types[0], self.types[1]);
        } else {
            let _ = write!(out, " --mh-type {}", self.types[0]);
        }
    }
}
