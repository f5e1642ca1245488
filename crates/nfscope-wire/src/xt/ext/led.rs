//! `LED` target.
//!
//! ```text
//! struct xt_led_info (40, user-visible 32): 0 char id[27] ("netfilter-" + trigger id),
//!   27 u8 always_blink, 28 u32 delay (ms; -1 = inf), 32 internal_data (kernel only)
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-j LED --led-trigger-id "ID" [--led-delay N|inf] [--led-always-blink]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Led {
    pub id: String,
    pub always_blink: bool,
    pub delay: u32,
}

impl Led {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Led> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized_user(d, 40, 32)?;
        let id = r.cstr(0, 27)?;
        // iptables prints from past the "netfilter-" prefix it always writes.
        let id = id.strip_prefix("netfilter-")?.to_string();
        Some(Led {
            id,
            always_blink: r.u8(27)? != 0,
            delay: r.u32(28)?,
        })
    }
}

impl Ext for Led {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -j LED --led-trigger-id \"");
        for c in self.id.chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
        if self.delay as i32 > 0 {
            let _ = write!(out, " --led-delay {}", self.delay as i32);
        } else if self.delay == u32::MAX {
            out.push_str(" --led-delay inf");
        }
        if self.always_blink {
            out.push_str(" --led-always-blink");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::check;
    use super::super::{XtKind::*, NFPROTO_IPV4};

    /// No xt_LED on this machine's kernel: bytes from the UAPI layout for
    /// `-j LED --led-trigger-id "a\"b" --led-delay 100 --led-always-blink`.
    #[test]
    fn led() {
        let mut d = vec![0u8; 40];
        d[..13].copy_from_slice(b"netfilter-a\"b");
        d[27] = 1;
        d[28..32].copy_from_slice(&100u32.to_ne_bytes());
        let want = r#" -j LED --led-trigger-id "a\"b" --led-delay 100 --led-always-blink"#;
        check(Target, "LED", 0, NFPROTO_IPV4, &d, want);
        d[27] = 0;
        d[28..32].copy_from_slice(&u32::MAX.to_ne_bytes());
        check(
            Target,
            "LED",
            0,
            NFPROTO_IPV4,
            &d,
            r#" -j LED --led-trigger-id "a\"b" --led-delay inf"#,
        );
    }
}
