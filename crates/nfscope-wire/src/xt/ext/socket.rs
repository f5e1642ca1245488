//! `socket` match (rev 0 to 3).
//!
//! ```text
//! rev 0: no payload
//! struct xt_socket_mtinfo1/2/3 (1): 0 u8 flags (TRANSPARENT 1, NOWILDCARD 2, RESTORESKMARK 4)
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;

/// `-m socket [--transparent] [--nowildcard] [--restore-skmark]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Socket {
    pub rev: u8,
    pub flags: u8,
}

impl Socket {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Socket> {
        match rev {
            0 => d.is_empty().then_some(Socket { rev, flags: 0 }),
            1..=3 => Some(Socket {
                rev,
                flags: Rd::sized(d, 1)?.u8(0)?,
            }),
            _ => None,
        }
    }
}

impl Ext for Socket {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m socket");
        if self.rev >= 1 && self.flags & 1 != 0 {
            out.push_str(" --transparent");
        }
        if self.rev >= 2 && self.flags & 2 != 0 {
            out.push_str(" --nowildcard");
        }
        if self.rev >= 3 && self.flags & 4 != 0 {
            out.push_str(" --restore-skmark");
        }
    }
}
