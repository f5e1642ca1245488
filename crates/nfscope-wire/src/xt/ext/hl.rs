//! `ttl` (IPv4) / `hl` (IPv6) matches and `TTL` / `HL` targets.
//!
//! ```text
//! struct ipt_ttl_info / ip6t_hl_info (2): 0 u8 mode, 1 u8 ttl / hop_limit
//!   match modes: EQ 0, NE 1, LT 2, GT 3; target modes: SET 0, INC 1, DEC 2
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-m ttl --ttl-eq|-lt|-gt N` (`! --ttl-eq`), or `-m hl --hl-…`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hl {
    /// `ttl` or `hl`.
    pub name: String,
    pub mode: u8,
    pub value: u8,
}

impl Hl {
    pub fn parse(name: &str, rev: u8, d: &[u8]) -> Option<Hl> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 2)?;
        let mode = r.u8(0)?;
        // ip6tables indexes a 4-entry table with the mode.
        if name == "hl" && mode > 3 {
            return None;
        }
        Some(Hl {
            name: name.to_string(),
            mode,
            value: r.u8(1)?,
        })
    }
}

impl Ext for Hl {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        let n = &self.name;
        let _ = write!(out, " -m {n}");
        let _ = match self.mode {
            0 => write!(out, " --{n}-eq"),
            1 => write!(out, " ! --{n}-eq"),
            2 => write!(out, " --{n}-lt"),
            3 => write!(out, " --{n}-gt"),
            _ => Ok(()),
        };
        let _ = write!(out, " {}", self.value);
    }
}

/// `-j TTL --ttl-set|-inc|-dec N` or `-j HL --hl-…`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HlTarget {
    /// `TTL` or `HL`.
    pub name: String,
    pub mode: u8,
    pub value: u8,
}

impl HlTarget {
    pub fn parse(name: &str, rev: u8, d: &[u8]) -> Option<HlTarget> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 2)?;
        Some(HlTarget {
            name: name.to_string(),
            mode: r.u8(0)?,
            value: r.u8(1)?,
        })
    }
}

impl Ext for HlTarget {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        let opt = if self.name == "TTL" { "ttl" } else { "hl" };
        let _ = write!(out, " -j {}", self.name);
        let _ = match self.mode {
            0 => write!(out, " --{opt}-set"),
            1 => write!(out, " --{opt}-inc"),
            2 => write!(out, " --{opt}-dec"),
            _ => Ok(()),
        };
        let _ = write!(out, " {}", self.value);
    }
}
