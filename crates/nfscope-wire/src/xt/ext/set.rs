//! `set` match (rev 0 to 4) and `SET` target (rev 0 to 3): ipset lookups.
//!
//! ```text
//! struct xt_set_info_v0 (32, rev 0): 0 u16 index, 4 u32 flags[7] (per dimension until a
//!   zero one: IPSET_SRC 1, IPSET_DST 2; flags[0] & IPSET_MATCH_INV 4 inverts the match)
//! struct xt_set_info_match_v0 (32): 0 match_set; struct xt_set_info_target_v0 (64): 0 add_set,
//!   32 del_set
//! struct xt_set_info (4): 0 u16 index (ip_set_id_t), 2 u8 dim, 3 u8 flags
//!   flags: bit 0 IPSET_INV_MATCH, bit i (1..=dim) set: dimension i is "src", else "dst";
//!          bit 7 IPSET_RETURN_NOMATCH (match rev 2)
//! struct xt_set_info_match_v1 (4, rev 1 and 2): 0 match_set
//! struct xt_set_info_match_v3 (48): 0 match_set, 8 {u8 op, 16 u64 value} packets,
//!                                   24 {u8 op, 32 u64 value} bytes, 40 u32 flags
//! struct xt_set_info_match_v4 (48): 0 match_set, 8 {u64 value, 16 u8 op} packets,
//!                                   24 {u64 value, 32 u8 op} bytes, 40 u32 flags
//!   counter op: NONE 0, EQ 1, NE 2, LT 3, GT 4
//!   flags: RETURN_NOMATCH 1<<7, SKIP_COUNTER_UPDATE 1<<3, SKIP_SUBCOUNTER_UPDATE 1<<4
//! struct xt_set_info_target_v1 (8):  0 add_set, 4 del_set
//! struct xt_set_info_target_v2 (16): 0 add_set, 4 del_set, 8 u32 flags, 12 u32 timeout
//! struct xt_set_info_target_v3 (20): 0 add_set, 4 del_set, 8 map_set, 12 u32 flags,
//!                                    16 u32 timeout
//!   flags: EXIST 1, MAP_SKBMARK 1<<8, MAP_SKBPRIO 1<<9, MAP_SKBQUEUE 1<<10
//! ```
//! The blob holds the set's kernel index, not its name: names come from [`super::Names`]
//! (`IP_SET_OP_GET_BYINDEX`); without one the set prints as `#INDEX`.

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `IPSET_INVALID_ID`: no set.
pub const INVALID_ID: u16 = 0xffff;

/// `struct xt_set_info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SetInfo {
    pub index: u16,
    pub dim: u8,
    pub flags: u8,
}

impl SetInfo {
    fn parse(r: &Rd<'_>, off: usize) -> Option<SetInfo> {
        let s = SetInfo {
            index: r.u16(off)?,
            dim: r.u8(off + 2)?,
            flags: r.u8(off + 3)?,
        };
        // IPSET_DIM_MAX is 6; a larger dim would index past the flag bits.
        (s.dim <= 6).then_some(s)
    }

    /// Rev 0's `xt_set_info_v0`, converted to the rev 1 form (same printed text).
    fn parse_v0(r: &Rd<'_>, off: usize) -> Option<SetInfo> {
        let mut s = SetInfo {
            index: r.u16(off)?,
            dim: 0,
            flags: 0,
        };
        let f0 = r.u32(off + 4)?;
        if f0 & 4 != 0 {
            s.flags |= 1;
        }
        for i in 0..6 {
            let f = r.u32(off + 4 + 4 * i)?;
            if f == 0 {
                break;
            }
            s.dim += 1;
            if f & 1 != 0 {
                s.flags |= 1 << (i + 1);
            }
        }
        Some(s)
    }

    fn name(&self, ctx: &Ctx<'_>) -> String {
        ctx.names
            .ipset(self.index)
            .unwrap_or_else(|| format!("#{}", self.index))
    }

    /// ` SETNAME src,dst`.
    fn print(&self, ctx: &Ctx<'_>, out: &mut String) {
        let _ = write!(out, " {}", self.name(ctx));
        for i in 1..=self.dim {
            out.push(if i == 1 { ' ' } else { ',' });
            out.push_str(if self.flags & (1 << i) != 0 {
                "src"
            } else {
                "dst"
            });
        }
    }
}

/// A packets/bytes counter condition of set rev 3/4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counter {
    pub op: u8,
    pub value: u64,
}

impl Counter {
    fn print(&self, name: &str, out: &mut String) {
        let v = self.value;
        let _ = match self.op {
            1 => write!(out, " --{name}-eq {v}"),
            2 => write!(out, " ! --{name}-eq {v}"),
            3 => write!(out, " --{name}-lt {v}"),
            4 => write!(out, " --{name}-gt {v}"),
            _ => Ok(()),
        };
    }
}

/// `-m set [!] --match-set NAME src,dst [--return-nomatch] [! --update-counters] …`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetMatch {
    pub rev: u8,
    pub match_set: SetInfo,
    pub packets: Counter,
    pub bytes: Counter,
    pub flags: u32,
}

impl SetMatch {
    pub fn parse(rev: u8, d: &[u8]) -> Option<SetMatch> {
        let none = Counter { op: 0, value: 0 };
        let r = match rev {
            0 => Rd::sized(d, 32)?,
            1 | 2 => Rd::sized(d, 4)?,
            3 | 4 => Rd::sized(d, 48)?,
            _ => return None,
        };
        let match_set = if rev == 0 {
            SetInfo::parse_v0(&r, 0)?
        } else {
            SetInfo::parse(&r, 0)?
        };
        let (packets, bytes, flags) = match rev {
            3 => (
                Counter {
                    op: r.u8(8)?,
                    value: r.u64(16)?,
                },
                Counter {
                    op: r.u8(24)?,
                    value: r.u64(32)?,
                },
                r.u32(40)?,
            ),
            4 => (
                Counter {
                    op: r.u8(16)?,
                    value: r.u64(8)?,
                },
                Counter {
                    op: r.u8(32)?,
                    value: r.u64(24)?,
                },
                r.u32(40)?,
            ),
            _ => (none, none, 0),
        };
        Some(SetMatch {
            rev,
            match_set,
            packets,
            bytes,
            flags,
        })
    }
}

impl Ext for SetMatch {
    fn save(&self, ctx: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m set");
        if self.match_set.flags & 1 != 0 {
            out.push_str(" !");
        }
        out.push_str(" --match-set");
        self.match_set.print(ctx, out);
        match self.rev {
            2 if self.match_set.flags & 0x80 != 0 => out.push_str(" --return-nomatch"),
            3 | 4 => {
                if self.flags & (1 << 7) != 0 {
                    out.push_str(" --return-nomatch");
                }
                if self.flags & (1 << 3) != 0 {
                    out.push_str(" ! --update-counters");
                }
                if self.flags & (1 << 4) != 0 {
                    out.push_str(" ! --update-subcounters");
                }
                self.packets.print("packets", out);
                self.bytes.print("bytes", out);
            }
            _ => {}
        }
    }
}

/// `-j SET [--add-set NAME dirs [--exist] [--timeout N]] [--del-set NAME dirs] [--map-set …]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetTarget {
    pub rev: u8,
    pub add_set: SetInfo,
    pub del_set: SetInfo,
    pub map_set: Option<SetInfo>,
    pub flags: u32,
    pub timeout: u32,
}

impl SetTarget {
    pub fn parse(rev: u8, d: &[u8]) -> Option<SetTarget> {
        let r = match rev {
            0 => Rd::sized(d, 64)?,
            1 => Rd::sized(d, 8)?,
            2 => Rd::sized(d, 16)?,
            3 => Rd::sized(d, 20)?,
            _ => return None,
        };
        if rev == 0 {
            return Some(SetTarget {
                rev,
                add_set: SetInfo::parse_v0(&r, 0)?,
                del_set: SetInfo::parse_v0(&r, 32)?,
                map_set: None,
                flags: 0,
                timeout: u32::MAX,
            });
        }
        let (map_set, flags, timeout) = match rev {
            2 => (None, r.u32(8)?, r.u32(12)?),
            3 => (Some(SetInfo::parse(&r, 8)?), r.u32(12)?, r.u32(16)?),
            _ => (None, 0, u32::MAX),
        };
        Some(SetTarget {
            rev,
            add_set: SetInfo::parse(&r, 0)?,
            del_set: SetInfo::parse(&r, 4)?,
            map_set,
            flags,
            timeout,
        })
    }
}

fn target_set(ctx: &Ctx<'_>, opt: &str, s: &SetInfo, out: &mut String) {
    if s.index == INVALID_ID {
        return;
    }
    let _ = write!(out, " {opt}");
    s.print(ctx, out);
}

impl Ext for SetTarget {
    fn save(&self, ctx: &Ctx<'_>, out: &mut String) {
        out.push_str(" -j SET");
        target_set(ctx, "--add-set", &self.add_set, out);
        if self.rev >= 2 {
            if self.flags & 1 != 0 {
                out.push_str(" --exist");
            }
            if self.timeout != u32::MAX {
                let _ = write!(out, " --timeout {}", self.timeout);
            }
        }
        target_set(ctx, "--del-set", &self.del_set, out);
        if let Some(m) = &self.map_set {
            target_set(ctx, "--map-set", m, out);
            for (bit, opt) in [(8, " --map-mark"), (9, " --map-prio"), (10, " --map-queue")] {
                if self.flags & (1 << bit) != 0 {
                    out.push_str(opt);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::check;
    use super::super::{XtKind::*, NFPROTO_IPV4};

    /// Rev 0 (`xt_set_info_v0`) is what iptables < 1.4.? wrote; 1.8.9 writes rev 4, so these
    /// bytes are built from the UAPI layout, not captured.
    #[test]
    fn set_rev0() {
        let mut m = vec![0u8; 32];
        m[0..2].copy_from_slice(&2u16.to_ne_bytes());
        m[4..8].copy_from_slice(&(1u32 | 4).to_ne_bytes()); // IPSET_SRC | IPSET_MATCH_INV
        m[8..12].copy_from_slice(&2u32.to_ne_bytes()); // IPSET_DST
        check(
            Match,
            "set",
            0,
            NFPROTO_IPV4,
            &m,
            " -m set ! --match-set #2 src,dst",
        );
        let mut t = vec![0u8; 64];
        t[0..2].copy_from_slice(&7u16.to_ne_bytes());
        t[4..8].copy_from_slice(&1u32.to_ne_bytes());
        t[32..34].copy_from_slice(&0xffffu16.to_ne_bytes()); // IPSET_INVALID_ID: no del-set
        check(
            Target,
            "SET",
            0,
            NFPROTO_IPV4,
            &t,
            " -j SET --add-set #7 src",
        );
    }
}
