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
