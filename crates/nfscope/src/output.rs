//! What each command prints, in one place: the CLI in embedded mode and the daemon (for remote
//! clients) both render through here, so both print exactly the same.

use crate::lint::{self, Finding};
use crate::snapshot::Stats;
use crate::Ruleset;

/// `dump` formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DumpFormat {
    Nft,
    Json,
}

fn pretty<T: serde::Serialize>(v: &T) -> String {
    let mut s =
        serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

pub fn dump(rs: &Ruleset, f: DumpFormat) -> String {
    match f {
        DumpFormat::Nft => crate::render::nft::ruleset(rs, &Default::default()),
        DumpFormat::Json => pretty(&crate::json::document(rs)),
    }
}

pub fn stats(rs: &Ruleset, st: &Stats, json: bool) -> String {
    let counts = crate::stats::count(rs);
    if json {
        pretty(&serde_json::json!({ "snapshot": st, "counts": counts }))
    } else {
        crate::stats::render_text(&counts, st)
    }
}

pub fn lint(findings: &[Finding], json: bool) -> String {
    if json {
        pretty(&findings)
    } else {
        lint::render_text(findings)
    }
}
