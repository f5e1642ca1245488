//! `comment` match.
//!
//! ```text
//! struct xt_comment_info (256): 0 char comment[256]   (XT_MAX_COMMENT_LEN)
//! ```

use super::fmt::{save_string, Rd};
use super::{Ctx, Ext};
use serde::Serialize;

/// `-m comment --comment TEXT` (quoted as `xtables_save_string` does).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Comment {
    pub comment: String,
}

impl Comment {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Comment> {
        if rev != 0 {
            return None;
        }
        // iptables forces the last byte to NUL before printing.
        Some(Comment {
            comment: Rd::sized(d, 256)?.cstr(0, 255)?,
        })
    }
}

impl Ext for Comment {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m comment --comment");
        save_string(out, &self.comment);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::check;
    use super::super::{XtKind::*, NFPROTO_IPV4};

    #[test]
    fn comment() {
        // iptables -A INPUT -m comment --comment "kubernetes service portals"
        let mut d = b"kubernetes service portals".to_vec();
        d.resize(256, 0);
        let want = r#" -m comment --comment "kubernetes service portals""#;
        check(Match, "comment", 0, NFPROTO_IPV4, &d, want);
        let mut d = b"KUBE-SVC-1".to_vec();
        d.resize(256, 0);
        check(
            Match,
            "comment",
            0,
            NFPROTO_IPV4,
            &d,
            " -m comment --comment KUBE-SVC-1",
        );
    }
}
