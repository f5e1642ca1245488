//! `state` match (rev 0; `-m state` written by iptables ≥ 1.8.? over nft_compat may also be a
//! `conntrack` blob with `XT_CONNTRACK_STATE_ALIAS`, see [`super::conntrack`]).
//!
//! ```text
//! struct xt_state_info (4): 0 u32 statemask
//!   INVALID 1<<0, ESTABLISHED 1<<1, RELATED 1<<2, NEW 1<<3, UNTRACKED 1<<6
//! ```

use super::fmt::{flag_names, Rd};
use super::{Ctx, Ext};
use serde::Serialize;

/// The `xt_state` bit names in iptables' printing order.
pub const STATE_NAMES: [(u32, &str); 5] = [
    (1, "INVALID"),
    (8, "NEW"),
    (4, "RELATED"),
    (2, "ESTABLISHED"),
    (64, "UNTRACKED"),
];

/// `-m state --state NEW,ESTABLISHED`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct State {
    pub statemask: u32,
}

impl State {
    pub fn parse(rev: u8, d: &[u8]) -> Option<State> {
        if rev != 0 {
            return None;
        }
        Some(State {
            statemask: Rd::sized(d, 4)?.u32(0)?,
        })
    }
}

impl Ext for State {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m state --state ");
        flag_names(out, self.statemask, &STATE_NAMES);
    }
}
