//! `nfacct` match (rev 0 and 1, same layout).
//!
//! ```text
//! struct xt_nfacct_match_info (40, user-visible 32): 0 char name[32],
//!                                                    32 struct nf_acct *nfacct (kernel only)
//! ```

use super::fmt::{save_string, Rd};
use super::{Ctx, Ext};
use serde::Serialize;

/// `-m nfacct --nfacct-name NAME` (iptables prints two spaces before the name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Nfacct {
    pub name: String,
}

impl Nfacct {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Nfacct> {
        if rev > 1 {
            return None;
        }
        Some(Nfacct {
            name: Rd::sized_user(d, 40, 32)?.cstr(0, 32)?,
        })
    }
}

impl Ext for Nfacct {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m nfacct --nfacct-name ");
        save_string(out, &self.name);
    }
}
