//! What each command prints, in one place: the CLI in embedded mode and the daemon (for remote
//! clients) both render through here, so both print exactly the same.

use crate::iptnft::{self, Reader};
use crate::legacy::LegacyRuleset;
use crate::lint::{self, Finding, LegacyTable};
use crate::render::iptables::{legacy_save, SaveOptions, SetNames};
use crate::render::nft::NftOptions;
use crate::snapshot::Stats;
use crate::Ruleset;
use nfscope_wire::nft::Family;
use nfscope_wire::xt::entry::Family as XtFamily;
use serde_json::json;

/// `dump` formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DumpFormat {
    Nft,
    Json,
    IptablesSave,
}

/// Which backend(s) to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    Nft,
    Legacy,
    #[default]
    All,
}

impl Backend {
    pub fn nft(self) -> bool {
        self != Backend::Legacy
    }
    pub fn legacy(self) -> bool {
        self != Backend::Nft
    }
}

fn pretty<T: serde::Serialize>(v: &T) -> String {
    let mut s =
        serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

/// The legacy side of the model, as lint needs it.
pub fn legacy_tables(l: &LegacyRuleset) -> Vec<LegacyTable> {
    l.tables
        .iter()
        .map(|t| LegacyTable {
            family: nft_family(t.family),
            name: t.name.clone(),
            chains: t
                .chains
                .iter()
                .map(|c| (c.name.clone(), c.rules.len(), c.is_builtin()))
                .collect(),
        })
        .collect()
}

fn nft_family(f: XtFamily) -> Family {
    match f {
        XtFamily::Ipv4 => Family::Ip,
        XtFamily::Ipv6 => Family::Ip6,
        XtFamily::Arp => Family::Arp,
    }
}

/// Families in which both backends hold rules (packets traverse both).
pub fn both_backends(rs: &Ruleset, l: &LegacyRuleset) -> Vec<Family> {
    [Family::Ip, Family::Ip6, Family::Arp]
        .into_iter()
        .filter(|f| {
            let nft = rs
                .tables
                .iter()
                .filter(|t| t.family == *f)
                .any(|t| t.chains.iter().any(|c| !c.rules.is_empty()));
            let leg = l
                .tables
                .iter()
                .filter(|t| nft_family(t.family) == *f)
                .any(|t| t.chains.iter().any(|c| !c.rules.is_empty()));
            nft && leg
        })
        .collect()
}

/// Keep only the legacy tables that pass the family/table filters.
pub fn filter_legacy(l: &mut LegacyRuleset, family: Option<Family>, table: Option<&str>) {
    l.tables.retain(|t| {
        family.is_none_or(|f| nft_family(t.family) == f) && table.is_none_or(|n| t.name == n)
    });
}

/// `nfscope dump`: the nf_tables ruleset and/or the legacy tables, in one format. When both
/// backends hold rules for a family, each part is labelled (and the JSON carries a finding).
pub fn dump(
    rs: &Ruleset,
    legacy: Option<&LegacyRuleset>,
    backend: Backend,
    f: DumpFormat,
    nft: &NftOptions,
) -> String {
    let empty = LegacyRuleset::default();
    let l = if backend.legacy() {
        legacy.unwrap_or(&empty)
    } else {
        &empty
    };
    let both = if backend == Backend::All {
        both_backends(rs, l)
    } else {
        vec![]
    };
    match f {
        DumpFormat::Json => {
            let mut doc = crate::json::document(rs, nft);
            if !backend.nft() {
                doc["nftables"] = serde_json::Value::Null;
            }
            if backend.legacy() {
                doc["legacy"] = serde_json::to_value(l).unwrap_or_default();
            }
            let findings: Vec<_> = both
                .iter()
                .map(|f| json!({"id": "both_backends", "family": f.name(),
                    "message": format!("{f} rules in both nf_tables and legacy x_tables: packets traverse both")}))
                .collect();
            doc["findings"] = serde_json::Value::Array(findings);
            pretty(&doc)
        }
        DumpFormat::Nft => {
            let mut s = String::new();
            if backend.nft() {
                if !both.is_empty() {
                    s.push_str("# nfscope: nf_tables backend\n");
                }
                s.push_str(&crate::render::nft::ruleset(rs, nft));
            }
            if !l.tables.is_empty() {
                s.push_str("# nfscope: legacy x_tables backend (no nft form: shown as iptables-legacy-save prints it)\n");
                for fam in [XtFamily::Ipv4, XtFamily::Ipv6] {
                    s.push_str(&legacy_save(l, fam, SaveOptions::default()));
                }
            }
            s
        }
        DumpFormat::IptablesSave => {
            let mut s = String::new();
            for (fam, xfam) in [(Family::Ip, XtFamily::Ipv4), (Family::Ip6, XtFamily::Ipv6)] {
                let label = both.contains(&fam);
                if backend.nft() {
                    let names = SetNames(&nft.ipsets);
                    let opts = iptnft::SaveOpts {
                        show_writer: nft.show_writer,
                        names: &names,
                        ..Default::default()
                    };
                    let part = iptnft::save_with(rs, fam, Reader::From188, &opts);
                    if label && !part.is_empty() {
                        s.push_str(&format!(
                            "# nfscope: {fam} nf_tables backend (iptables-nft)\n"
                        ));
                    }
                    s.push_str(&part);
                }
                if backend.legacy() {
                    let mut part = legacy_save(l, xfam, SaveOptions::default());
                    if nft.show_writer {
                        part = part
                            .lines()
                            .map(|x| {
                                if x.starts_with("-A ") {
                                    format!("{x} # written by iptables-legacy (certain)\n")
                                } else {
                                    format!("{x}\n")
                                }
                            })
                            .collect();
                    }
                    if label && !part.is_empty() {
                        s.push_str(&format!(
                            "# nfscope: {fam} legacy x_tables backend (iptables-legacy)\n"
                        ));
                    }
                    s.push_str(&part);
                }
            }
            s
        }
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

/// Whether a rule holds an xt `set` match or `SET` target (their payloads name ipsets by
/// index only).
pub fn uses_ipsets(rs: &Ruleset) -> bool {
    use nfscope_wire::nft::Expr;
    rs.tables
        .iter()
        .flat_map(|t| &t.chains)
        .flat_map(|c| &c.rules)
        .flat_map(|r| r.expressions.iter().flatten())
        .any(|e| match e {
            Expr::Match(m) => m.name.as_deref() == Some("set"),
            Expr::Target(t) => t.name.as_deref() == Some("SET"),
            _ => false,
        })
}

/// Rendering options for the namespace `rs` was read in (`None`: this one): interface names
/// as its `nft` would resolve them and, when a rule refers to ipsets, their names by index
/// (`IP_SET_OP_GET_BYINDEX`, as iptables-save asks; ipsets are per namespace), both read in
/// that namespace. The xt style is the default (translate); callers set theirs.
pub fn nft_options_for(netns: Option<&str>, rs: &Ruleset) -> crate::Result<NftOptions> {
    let sets = uses_ipsets(rs);
    let read = move || {
        let mut o = NftOptions::local();
        if sets {
            o.ipsets = crate::legacy::ipset_names();
        }
        o
    };
    match netns {
        Some(ns) => crate::netns::run_in(ns, read),
        None => Ok(read()),
    }
}
