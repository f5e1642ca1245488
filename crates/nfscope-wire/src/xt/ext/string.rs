//! `string` match (rev 0 and 1).
//!
//! ```text
//! struct xt_string_info (160, user-visible 152): 0 u16 from_offset, 2 u16 to_offset,
//!   4 char algo[16], 20 char pattern[128], 148 u8 patlen,
//!   149 u8 invert (rev 0) / flags (rev 1: INVERT 1, IGNORECASE 2), 152 config (kernel only)
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-m string [!] --string "…" | --hex-string "|…|" --algo bm|kmp [--from N] [--to N] [--icase]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StringMatch {
    pub rev: u8,
    pub from_offset: u16,
    pub to_offset: u16,
    pub algo: String,
    pub pattern: Vec<u8>,
    pub invert: bool,
    pub icase: bool,
}

impl StringMatch {
    pub fn parse(rev: u8, d: &[u8]) -> Option<StringMatch> {
        if rev > 1 {
            return None;
        }
        let r = Rd::sized_user(d, 160, 152)?;
        let patlen = usize::from(r.u8(148)?);
        if patlen == 0 || patlen > 128 {
            return None;
        }
        let f = r.u8(149)?;
        Some(StringMatch {
            rev,
            from_offset: r.u16(0)?,
            to_offset: r.u16(2)?,
            algo: r.cstr(4, 16)?,
            pattern: r.bytes(20, patlen)?.to_vec(),
            invert: if rev == 0 { f != 0 } else { f & 1 != 0 },
            icase: rev == 1 && f & 2 != 0,
        })
    }
}

impl Ext for StringMatch {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m string");
        let inv = if self.invert { " !" } else { "" };
        let p = &self.pattern;
        let printable = |c: u8| (0x20..0x7f).contains(&c);
        if !p.iter().all(|&c| printable(c)) || p.last() == Some(&b'\\') {
            let _ = write!(out, "{inv} --hex-string \"|");
            for c in p {
                let _ = write!(out, "{c:02x}");
            }
            out.push_str("|\"");
        } else {
            let _ = write!(out, "{inv} --string \"");
            for &c in p {
                if c == b'"' || c == b'\\' {
                    out.push('\\');
                }
                out.push(char::from(c));
            }
            out.push('"');
        }
        let _ = write!(out, " --algo {}", self.algo);
        if self.from_offset != 0 {
            let _ = write!(out, " --from {}", self.from_offset);
        }
        if self.to_offset != u16::MAX {
            let _ = write!(out, " --to {}", self.to_offset);
        }
        if self.icase {
            out.push_str(" --icase");
        }
    }
}
