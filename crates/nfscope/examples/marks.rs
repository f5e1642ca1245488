//! `marks [NETNS]`: rules matching the packet mark: meta mark (any form), xt mark, ebt mark_m.
use nfscope::model::{decode, field::MetaKey, stmt::Expr, stmt::StmtKind, Table};
use nfscope::{render::nft, snapshot, wire::nft::expr::Expr as Wire, wire::xt::ext};
fn marks(x: &Expr) -> bool {
    match x {
        Expr::Meta(MetaKey::Mark) => true,
        Expr::Mask { inner, .. } | Expr::Shift { inner, .. } | Expr::Hton(inner) => marks(inner),
        Expr::Concat(v) => v.iter().any(marks),
        _ => false,
    }
}
fn xt_mark(t: &Table, e: &Wire) -> bool {
    let Wire::Match(m) = e else { return false };
    let (name, rev) = (m.name.as_deref().unwrap_or(""), m.rev.unwrap_or(0) as u8);
    let info = m.info.as_ref().map_or(&[][..], |b| &b.0[..]);
    let x = ext::decode(ext::XtKind::Match, name, rev, t.family.to_u8(), info);
    matches!(x, ext::Xt::Mark(_) | ext::Xt::EbtMarkM(_))
}
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ns = std::env::args()
        .nth(1)
        .unwrap_or("/proc/self/ns/net".into());
    let (ruleset, _) = snapshot::take_in_netns(&ns, &Default::default())?;
    for t in &ruleset.tables {
        for c in &t.chains {
            for r in &c.rules {
                let native = decode(t, &r).into_iter().any(|s| match s.kind {
                    StmtKind::Match(m) => marks(&m.left),
                    StmtKind::Lookup(l) => marks(&l.key),
                    _ => false,
                });
                if native || r.expressions.iter().flatten().any(|e| xt_mark(t, e)) {
                    let text = nft::rule(t, c, &r, &Default::default());
                    println!("{} {} {}: {text}", t.family, t.name(), c.name());
                }
            }
        }
    }
    Ok(())
}
