//! nft text, as `nft list ruleset` (nftables 1.0.6) prints it.
//! (Placeholder API from the lead so the CLI compiles; the renderer replaces this file.)

/// Rendering options.
#[derive(Debug, Clone, Default)]
pub struct NftOptions {}

/// The whole ruleset as `nft list ruleset` prints it.
pub fn ruleset(rs: &crate::Ruleset, _opts: &NftOptions) -> String {
    let mut s = String::new();
    for t in &rs.tables {
        s.push_str(&format!("table {} {} {{\n}}\n", t.family, t.name()));
    }
    s
}

/// One rule's statements as nft prints them (placeholder: expression names).
pub fn rule(
    _t: &crate::model::Table,
    _c: &crate::model::Chain,
    r: &nfscope_wire::nft::Rule,
    _opts: &NftOptions,
) -> String {
    r.expressions.iter().flatten().map(|e| e.name()).collect::<Vec<_>>().join(" ")
}
