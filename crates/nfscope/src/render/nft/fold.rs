//! One rule as nft text: the rule read into typed statements (`model::decode`'s
//! register machine), printed by `render::nft::print`, with its comment.

use super::xt::XtStyle;
use super::NftOptions;
use crate::model::{Chain, Table};
use nfscope_wire::nft::{Rule, Verdict, VerdictCode};
use std::collections::{BTreeMap, HashMap};

/// The verdict as nft prints it.
pub fn verdict(v: &Verdict) -> String {
    let chain = v.chain.as_deref().unwrap_or("");
    match v.code {
        VerdictCode::Accept => "accept".into(),
        VerdictCode::Drop => "drop".into(),
        VerdictCode::Continue => "continue".into(),
        VerdictCode::Return => "return".into(),
        VerdictCode::Jump => format!("jump {chain}"),
        VerdictCode::Goto => format!("goto {chain}"),
        VerdictCode::Queue(n) => format!("queue to {n}"),
        VerdictCode::Stolen => "stolen".into(),
        VerdictCode::Repeat => "repeat".into(),
        VerdictCode::Stop => "stop".into(),
        VerdictCode::Break => "break".into(),
        VerdictCode::Other(n) => format!("verdict {n}"),
    }
}

/// A table's sets by name.
pub type SetIndex<'a> = HashMap<&'a str, &'a crate::model::Set>;

/// Index a table's sets by name (for rendering many rules of one table).
pub fn set_index(t: &Table) -> SetIndex<'_> {
    t.sets.iter().map(|s| (s.name(), s)).collect()
}

/// One rule's statements (plus comment) as nft prints them after the indentation.
pub fn rule_text(t: &Table, c: &Chain, r: &Rule, opts: &NftOptions) -> String {
    rule_text_indexed(t, None, c, r, opts)
}

/// [`rule_text`] with a prebuilt set index.
pub fn rule_text_indexed(
    t: &Table,
    sets: Option<&SetIndex<'_>>,
    _c: &Chain,
    r: &Rule,
    opts: &NftOptions,
) -> String {
    let mut s = String::new();
    rule_text_into(&mut s, t, sets, r, 0, opts.xt, Some(&opts.ipsets));
    s
}

/// One rule's text at nesting `depth` (inside binding chains), appended to `out` (a chain's
/// text, while streaming).
pub(crate) fn rule_text_into(
    out: &mut String,
    t: &Table,
    sets: Option<&SetIndex<'_>>,
    r: &Rule,
    depth: usize,
    xt: XtStyle,
    ipsets: Option<&BTreeMap<u16, String>>,
) {
    let mut f = crate::model::decode::Folder::new(t);
    f.sets = sets;
    f.depth = depth;
    f.xt = xt;
    f.ipsets = ipsets;
    for e in r.expressions.iter().flatten() {
        f.expr(e);
    }
    // nft prints the rule's own comment (userdata); the translate style adds those of xt
    // `comment` matches, joined when there are several (nft has room for one)
    let mut comments = std::mem::take(&mut f.comments);
    let any = f.finish_into(out);
    comments.extend(r.comment());
    if !comments.is_empty() {
        if any {
            out.push(' ');
        }
        out.push_str("comment \"");
        for (i, c) in comments.iter().enumerate() {
            if i > 0 {
                out.push_str("; ");
            }
            out.push_str(c);
        }
        out.push('"');
    }
}
