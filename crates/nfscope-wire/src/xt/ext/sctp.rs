//! `sctp` match.
//!
//! ```text
//! struct xt_sctp_info (292): 0 u16 dpts[2], 4 u16 spts[2], 8 u32 chunkmap[64],
//!   264 u32 chunk_match_type (ANY 1, ALL 2, ONLY 4),
//!   268 xt_sctp_flag_info flag_info[4] { u8 chunktype, u8 flag, u8 flag_mask },
//!   280 int flag_count, 284 u32 flags, 288 u32 invflags (SRC_PORTS 1, DEST_PORTS 2,
//!   CHUNK_TYPES 4)
//! ```

use super::fmt::{bang, port_range, Rd};
use super::{Ctx, Ext};
use serde::Serialize;

/// (chunk type, name, flag letters from bit 7 to bit 0).
const CHUNKS: [(u8, &str, &[u8; 8]); 22] = [
    (0, "DATA", b"----IUBE"),
    (1, "INIT", b"--------"),
    (2, "INIT_ACK", b"--------"),
    (3, "SACK", b"--------"),
    (4, "HEARTBEAT", b"--------"),
    (5, "HEARTBEAT_ACK", b"--------"),
    (6, "ABORT", b"-------T"),
    (7, "SHUTDOWN", b"--------"),
    (8, "SHUTDOWN_ACK", b"--------"),
    (9, "ERROR", b"--------"),
    (10, "COOKIE_ECHO", b"--------"),
    (11, "COOKIE_ACK", b"--------"),
    (12, "ECN_ECNE", b"--------"),
    (13, "ECN_CWR", b"--------"),
    (14, "SHUTDOWN_COMPLETE", b"-------T"),
    (64, "I_DATA", b"----IUBE"),
    (130, "RE_CONFIG", b"--------"),
    (132, "PAD", b"--------"),
    (193, "ASCONF", b"--------"),
    (128, "ASCONF_ACK", b"--------"),
    (192, "FORWARD_TSN", b"--------"),
    (194, "I_FORWARD_TSN", b"--------"),
];

/// `-m sctp [!] --sport … [!] --dport … [!] --chunk-types any|all|only CHUNK[:FLAGS],…`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sctp {
    pub dpts: [u16; 2],
    pub spts: [u16; 2],
    pub chunkmap: Vec<u32>,
    pub chunk_match_type: u32,
    /// (chunktype, flag, flag_mask), `flag_count` of them.
    pub flag_info: Vec<(u8, u8, u8)>,
    pub flags: u32,
    pub invflags: u32,
}

impl Sctp {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Sctp> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 292)?;
        let n = usize::try_from(r.i32(280)?).ok()?;
        if n > 4 {
            return None;
        }
        Some(Sctp {
            dpts: [r.u16(0)?, r.u16(2)?],
            spts: [r.u16(4)?, r.u16(6)?],
            chunkmap: (0..64)
                .map(|i| r.u32(8 + 4 * i))
                .collect::<Option<Vec<_>>>()?,
            chunk_match_type: r.u32(264)?,
            flag_info: (0..n)
                .map(|i| Some((r.u8(268 + 3 * i)?, r.u8(269 + 3 * i)?, r.u8(270 + 3 * i)?)))
                .collect::<Option<Vec<_>>>()?,
            flags: r.u32(284)?,
            invflags: r.u32(288)?,
        })
    }
}

impl Ext for Sctp {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m sctp");
        let (f, inv) = (self.flags, self.invflags);
        if f & 1 != 0 {
            bang(out, inv & 1 != 0);
            port_range(out, "--sport", self.spts);
        }
        if f & 2 != 0 {
            bang(out, inv & 2 != 0);
            port_range(out, "--dport", self.dpts);
        }
        if f & 4 == 0 {
            return;
        }
        bang(out, inv & 4 != 0);
        out.push_str(" --chunk-types");
        out.push_str(match self.chunk_match_type {
            1 => " any",
            2 => " all",
            4 => " only",
            _ => "Never reach here\n",
        });
        if self.chunkmap.iter().all(|&w| w == 0) {
            out.push_str(" NONE");
            return;
        }
        if self.chunkmap.iter().all(|&w| w == u32::MAX) {
            out.push_str(" ALL");
            return;
        }
        let mut first = true;
        for i in 0..256usize {
            if self.chunkmap[i / 32] & (1 << (i % 32)) == 0 {
                continue;
            }
            out.push(if first { ' ' } else { ',' });
            first = false;
            let chunk = CHUNKS.iter().find(|c| usize::from(c.0) == i);
            if let Some((_, name, _)) = chunk {
                out.push_str(name);
            }
            for &(ty, flag, mask) in &self.flag_info {
                if usize::from(ty) != i {
                    continue;
                }
                if mask != 0 {
                    out.push(':');
                }
                let letters = chunk.map_or(b"--------", |c| c.2);
                for bit in (0..8).rev() {
                    if mask & (1 << bit) != 0 {
                        let c = char::from(letters[7 - bit]);
                        out.push(if flag & (1 << bit) != 0 {
                            c
                        } else {
                            c.to_ascii_lowercase()
                        });
                    }
                }
            }
        }
    }
}
