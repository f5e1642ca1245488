//! `cgroup` match (rev 0, 1, 2).
//!
//! ```text
//! struct xt_cgroup_info_v0 (8): 0 u32 id, 4 u32 invert
//! struct xt_cgroup_info_v1 (4112, user-visible 4104): 0 u8 has_path, 1 u8 has_classid,
//!   2 u8 invert_path, 3 u8 invert_classid, 4 char path[4096], 4100 u32 classid,
//!   4104 void *priv (kernel only)
//! struct xt_cgroup_info_v2 (528, user-visible 520): 0..4 as v1, 4 union { char path[512];
//!   u32 classid }, 520 priv
//! ```

use super::fmt::{save_string, Rd};
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-m cgroup [!] --path P [!] --cgroup CLASSID`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cgroup {
    pub rev: u8,
    pub path: Option<String>,
    pub invert_path: bool,
    pub classid: Option<u32>,
    pub invert_classid: bool,
}

impl Cgroup {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Cgroup> {
        if rev == 0 {
            let r = Rd::sized(d, 8)?;
            return Some(Cgroup {
                rev,
                path: None,
                invert_path: false,
                classid: Some(r.u32(0)?),
                invert_classid: r.u32(4)? != 0,
            });
        }
        let (r, plen, classid_at) = match rev {
            1 => (Rd::sized_user(d, 4112, 4104)?, 4096, 4100),
            2 => (Rd::sized_user(d, 528, 520)?, 512, 4),
            _ => return None,
        };
        Some(Cgroup {
            rev,
            path: if r.u8(0)? != 0 {
                Some(r.cstr(4, plen)?)
            } else {
                None
            },
            invert_path: r.u8(2)? != 0,
            classid: if r.u8(1)? != 0 {
                Some(r.u32(classid_at)?)
            } else {
                None
            },
            invert_classid: r.u8(3)? != 0,
        })
    }
}

impl Ext for Cgroup {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m cgroup");
        if let Some(p) = &self.path {
            let inv = if self.invert_path { " !" } else { "" };
            let _ = write!(out, "{inv} --path");
            save_string(out, p);
        }
        if let Some(c) = self.classid {
            let inv = if self.invert_classid { " !" } else { "" };
            let _ = write!(out, "{inv} --cgroup {c}");
        }
    }
}
