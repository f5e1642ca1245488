//! `ipv6header` match.
//!
//! ```text
//! struct ip6t_ipv6header_info (3): 0 u8 matchflags, 1 u8 invflags, 2 u8 modeflag
//!   matchflags: HOPOPTS 128, DSTOPTS 64, ROUTING 32, FRAGMENT 16, AH 8, ESP 4, NONE 2, PROTO 1
//! ```
//! Header names are what iptables gets from `getprotobynumber` with Debian's `/etc/protocols`
//! (hop-by-hop is never looked up; 255 is not in the file).

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;

const HEADERS: [(u8, &str); 8] = [
    (128, "hop-by-hop"),
    (64, "ipv6-opts"),
    (32, "ipv6-route"),
    (16, "ipv6-frag"),
    (8, "ah"),
    (4, "esp"),
    (2, "ipv6-nonxt"),
    (1, "protocol"),
];

/// `-m ipv6header [!] --header H,… [--soft]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ipv6header {
    pub matchflags: u8,
    pub invflags: u8,
    pub modeflag: u8,
}

impl Ipv6header {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Ipv6header> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 3)?;
        Some(Ipv6header {
            matchflags: r.u8(0)?,
            invflags: r.u8(1)?,
            modeflag: r.u8(2)?,
        })
    }
}

impl Ext for Ipv6header {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m ipv6header");
        if self.invflags != 0 {
            out.push_str(" !");
        }
        out.push_str(" --header ");
        if self.matchflags == 0 {
            out.push_str("NONE");
        }
        let mut sep = "";
        for (bit, n) in HEADERS {
            if self.matchflags & bit != 0 {
                out.push_str(sep);
                out.push_str(n);
                sep = ",";
            }
        }
        if self.modeflag != 0 {
            out.push_str(" --soft");
        }
    }
}
