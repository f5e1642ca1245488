//! `helper` match.
//!
//! ```text
//! struct xt_helper_info (36): 0 int invert, 4 char name[30]
//! ```

use super::fmt::{save_string, Rd};
use super::{Ctx, Ext};
use serde::Serialize;

/// `-m helper [!] --helper NAME`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Helper {
    pub invert: bool,
    pub name: String,
}

impl Helper {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Helper> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 36)?;
        Some(Helper {
            invert: r.i32(0)? != 0,
            name: r.cstr(4, 30)?,
        })
    }
}

impl Ext for Helper {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m helper");
        if self.invert {
            out.push_str(" !");
        }
        out.push_str(" --helper");
        save_string(out, &self.name);
    }
}
