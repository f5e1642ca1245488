//! `bpf` match (rev 0 and 1).
//!
//! ```text
//! struct xt_bpf_info (528, user-visible 520): 0 u16 bpf_program_num_elem,
//!   4 struct sock_filter bpf_program[64] { u16 code, u8 jt, u8 jf, u32 k },
//!   520 struct bpf_prog *filter (kernel only)
//! struct xt_bpf_info_v1 (528, user-visible 520): 0 u16 mode (BYTECODE 0, FD_PINNED 1,
//!   FD_ELF 2), 2 u16 bpf_program_num_elem, 4 s32 fd,
//!   8 union { sock_filter bpf_program[64]; char path[512] }, 520 filter (kernel only)
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-m bpf --bytecode "N,code jt jf k,…"` or `--object-pinned PATH`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bpf {
    /// (code, jt, jf, k) per instruction.
    pub program: Vec<(u16, u8, u8, u32)>,
    /// Rev 1 `FD_PINNED`: the pinned object's path.
    pub pinned: Option<String>,
}

impl Bpf {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Bpf> {
        let r = Rd::sized_user(d, 528, 520)?;
        let (mode, n, base) = match rev {
            0 => (0, r.u16(0)?, 4),
            1 => (r.u16(0)?, r.u16(2)?, 8),
            _ => return None,
        };
        match mode {
            0 => {
                if n > 64 {
                    return None;
                }
                let program = (0..usize::from(n))
                    .map(|i| {
                        let o = base + 8 * i;
                        Some((r.u16(o)?, r.u8(o + 2)?, r.u8(o + 3)?, r.u32(o + 4)?))
                    })
                    .collect::<Option<Vec<_>>>()?;
                Some(Bpf {
                    program,
                    pinned: None,
                })
            }
            1 => Some(Bpf {
                program: Vec::new(),
                pinned: Some(r.cstr(8, 512)?),
            }),
            // FD_ELF: iptables refuses to print it.
            _ => None,
        }
    }
}

impl Ext for Bpf {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m bpf");
        if let Some(p) = &self.pinned {
            let _ = write!(out, " --object-pinned {p}");
            return;
        }
        let n = self.program.len();
        let _ = write!(out, " --bytecode \"{n},");
        for (i, (code, jt, jf, k)) in self.program.iter().enumerate() {
            let tail = if i + 1 < n { ',' } else { '"' };
            let _ = write!(out, "{code} {jt} {jf} {k}{tail}");
        }
    }
}
