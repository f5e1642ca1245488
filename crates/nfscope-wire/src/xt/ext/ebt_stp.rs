//! ebtables `stp` match (`libebt_stp.c`).
//!
//! ```text
//! struct ebt_stp_info (72): 0 u8 type, 4 struct ebt_stp_config_info config (64), 68 u16 bitmask,
//!   70 u16 invflags
//! struct ebt_stp_config_info: 0 u8 flags, 2 u16 root_prio[2], 6 u8 root_addr[6],
//!   12 u8 root_addrmsk[6], 20 u32 root_cost[2], 28 u16 sender_prio[2], 32 u8 sender_addr[6],
//!   38 u8 sender_addrmsk[6], 44 u16 port[2], 48 u16 msg_age[2], 52 u16 max_age[2],
//!   56 u16 hello_time[2], 60 u16 forward_delay[2]
//! ```
//! Ranges are host-endian. bitmask (and invflags) bit i is option i below, in printing order.

use super::fmt::{mac_and_mask, Rd};
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// The options, in bit (and printing) order.
const OPTS: [&str; 12] = [
    "stp-type",
    "stp-flags",
    "stp-root-prio",
    "stp-root-addr",
    "stp-root-cost",
    "stp-sender-prio",
    "stp-sender-addr",
    "stp-port",
    "stp-msg-age",
    "stp-max-age",
    "stp-hello-time",
    "stp-forward-delay",
];

/// `--stp-type --stp-flags --stp-root-prio ... --stp-forward-delay`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EbtStp {
    pub bpdu_type: u8,
    pub flags: u8,
    pub root_prio: [u16; 2],
    pub root_addr: [u8; 6],
    pub root_addrmsk: [u8; 6],
    pub root_cost: [u32; 2],
    pub sender_prio: [u16; 2],
    pub sender_addr: [u8; 6],
    pub sender_addrmsk: [u8; 6],
    pub port: [u16; 2],
    pub msg_age: [u16; 2],
    pub max_age: [u16; 2],
    pub hello_time: [u16; 2],
    pub forward_delay: [u16; 2],
    pub bitmask: u16,
    pub invflags: u16,
}

impl EbtStp {
    pub fn parse(rev: u8, d: &[u8]) -> Option<EbtStp> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 72)?;
        let c = 4;
        let r16 = |o: usize| Some([r.u16(c + o)?, r.u16(c + o + 2)?]);
        Some(EbtStp {
            bpdu_type: r.u8(0)?,
            flags: r.u8(c)?,
            root_prio: r16(2)?,
            root_addr: r.arr(c + 6)?,
            root_addrmsk: r.arr(c + 12)?,
            root_cost: [r.u32(c + 20)?, r.u32(c + 24)?],
            sender_prio: r16(28)?,
            sender_addr: r.arr(c + 32)?,
            sender_addrmsk: r.arr(c + 38)?,
            port: r16(44)?,
            msg_age: r16(48)?,
            max_age: r16(52)?,
            hello_time: r16(56)?,
            forward_delay: r16(60)?,
            bitmask: r.u16(68)?,
            invflags: r.u16(70)?,
        })
    }
}

/// `N` or `LO:HI` (`print_range`).
fn range(out: &mut String, lo: u32, hi: u32) {
    if lo == hi {
        let _ = write!(out, "{lo}");
    } else {
        let _ = write!(out, "{lo}:{hi}");
    }
}

impl Ext for EbtStp {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        let r16 = |out: &mut String, r: [u16; 2]| range(out, r[0].into(), r[1].into());
        for (i, opt) in OPTS.iter().enumerate() {
            let bit = 1u16 << i;
            if self.bitmask & bit == 0 {
                continue;
            }
            let bang = if self.invflags & bit != 0 { "! " } else { "" };
            let _ = write!(out, " --{opt} {bang}");
            match i {
                0 => match self.bpdu_type {
                    0 => out.push_str("config"),
                    0x80 => out.push_str("tcn"),
                    t => {
                        let _ = write!(out, "{t}");
                    }
                },
                1 => match self.flags {
                    0x01 => out.push_str("topology-change"),
                    0x80 => out.push_str("topology-change-ack"),
                    f => {
                        let _ = write!(out, "{f}");
                    }
                },
                2 => r16(out, self.root_prio),
                3 => out.push_str(&mac_and_mask(&self.root_addr, &self.root_addrmsk)),
                4 => range(out, self.root_cost[0], self.root_cost[1]),
                5 => r16(out, self.sender_prio),
                6 => out.push_str(&mac_and_mask(&self.sender_addr, &self.sender_addrmsk)),
                7 => r16(out, self.port),
                8 => r16(out, self.msg_age),
                9 => r16(out, self.max_age),
                10 => r16(out, self.hello_time),
                _ => r16(out, self.forward_delay),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{decode, Xt, XtKind, NFPROTO_BRIDGE};

    fn text(d: &[u8]) -> String {
        let mut s = String::new();
        decode(XtKind::Match, "stp", 0, NFPROTO_BRIDGE, d).save(&mut s);
        s
    }

    #[test]
    fn fields_at_their_offsets() {
        let mut d = [0u8; 72];
        d[0] = 0x80; // tcn
        d[6..8].copy_from_slice(&7u16.to_ne_bytes()); // root prio 7:9
        d[8..10].copy_from_slice(&9u16.to_ne_bytes());
        d[24..28].copy_from_slice(&70000u32.to_ne_bytes()); // root cost 70000
        d[28..32].copy_from_slice(&70000u32.to_ne_bytes());
        d[64..66].copy_from_slice(&15u16.to_ne_bytes()); // forward delay 15:20
        d[66..68].copy_from_slice(&20u16.to_ne_bytes());
        d[68..70].copy_from_slice(&0x0815u16.to_ne_bytes());
        d[70..72].copy_from_slice(&0x0010u16.to_ne_bytes());
        assert_eq!(
            text(&d),
            " --stp-type tcn --stp-root-prio 7:9 --stp-root-cost ! 70000 --stp-forward-delay 15:20"
        );
    }

    #[test]
    fn wrong_size_stays_raw() {
        for n in [0, 71, 73, 80] {
            let d = vec![0xffu8; n];
            let x = decode(XtKind::Match, "stp", 0, NFPROTO_BRIDGE, &d);
            assert!(matches!(x, Xt::Unknown(_)), "{n}");
            let x = decode(XtKind::Match, "arp", 0, NFPROTO_BRIDGE, &d[..n.min(51)]);
            assert!(matches!(x, Xt::Unknown(_)), "{n}");
        }
    }
}
