//! `SECMARK` target (rev 0 and 1).
//!
//! ```text
//! struct xt_secmark_target_info (264):    0 u8 mode, 4 u32 secid, 8 char secctx[256]
//! struct xt_secmark_target_info_v1 (264): 0 u8 mode, 1 char secctx[256], 260 u32 secid
//!   mode: SECMARK_MODE_SEL 1 (SELinux)
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-j SECMARK --selctx CONTEXT`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Secmark {
    pub mode: u8,
    pub secctx: String,
}

impl Secmark {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Secmark> {
        let r = Rd::sized(d, 264)?;
        let secctx = match rev {
            0 => r.cstr(8, 256)?,
            1 => r.cstr(1, 256)?,
            _ => return None,
        };
        let mode = r.u8(0)?;
        // iptables refuses to print any other mode.
        (mode == 1).then_some(Secmark { mode, secctx })
    }
}

impl Ext for Secmark {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        let _ = write!(out, " -j SECMARK --selctx {}", self.secctx);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::check;
    use super::super::{XtKind::*, NFPROTO_IPV4};

    /// SELinux is off on this machine's kernel (SECMARK refused): bytes from the UAPI layout.
    #[test]
    fn secmark() {
        let ctx = b"system_u:object_r:ssh_packet_t:s0";
        let mut d = vec![0u8; 264];
        d[0] = 1; // SECMARK_MODE_SEL
        d[1..1 + ctx.len()].copy_from_slice(ctx);
        let want = " -j SECMARK --selctx system_u:object_r:ssh_packet_t:s0";
        check(Target, "SECMARK", 1, NFPROTO_IPV4, &d, want);
        let mut d0 = vec![0u8; 264];
        d0[0] = 1;
        d0[8..8 + ctx.len()].copy_from_slice(ctx);
        check(Target, "SECMARK", 0, NFPROTO_IPV4, &d0, want);
    }
}
