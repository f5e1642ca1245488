//! `mac` match.
//!
//! ```text
//! struct xt_mac_info (12): 0 u8 srcaddr[6], 8 int invert
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-m mac [!] --mac-source aa:bb:cc:dd:ee:ff`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mac {
    pub srcaddr: [u8; 6],
    pub invert: bool,
}

impl Mac {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Mac> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 12)?;
        Some(Mac {
            srcaddr: r.arr(0)?,
            invert: r.i32(8)? != 0,
        })
    }
}

impl Ext for Mac {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m mac");
        if self.invert {
            out.push_str(" !");
        }
        let m = self.srcaddr;
        let _ = write!(
            out,
            " --mac-source {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        );
    }
}
