//! A rule read into typed statements: nf_tables expressions (registers, loads, compares,
//! lookups) folded into matches on named fields, lookups, verdicts and statements, as
//! nftables' `netlink_delinearize.c` does, with implicit dependencies marked.
//!
//! The register machine still lives in `render::nft::fold` (it also prints the statements the
//! model does not type yet); this is its entry point for embedders.

use super::stmt::Stmt;
use super::Table;
use nfscope_wire::nft::Rule;

/// The statements of `rule` (a rule of `table`, whose sets its lookups name), in order.
///
/// Statements nft does not print (implicit dependencies) are kept, with
/// [`Stmt::implicit`] set.
///
/// ```no_run
/// use nfscope::model::{decode, field::MetaKey, stmt::{Expr, StmtKind}};
/// # fn f(rs: &nfscope::Ruleset) {
/// for t in &rs.tables {
///     for c in &t.chains {
///         for r in &c.rules {
///             let marks = decode(t, &r).iter().any(|s| matches!(&s.kind,
///                 StmtKind::Match(m) if m.left == Expr::Meta(MetaKey::Mark)));
///             println!("{} {}: {marks}", c.attrs.name.as_deref().unwrap_or(""), r.handle.unwrap_or(0));
///         }
///     }
/// }
/// # }
/// ```
pub fn decode(table: &Table, rule: &Rule) -> Vec<Stmt> {
    crate::render::nft::fold::stmts(table, rule)
}
