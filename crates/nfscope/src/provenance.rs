//! Who wrote a rule: the tool and version band, from how the rule is encoded.
//!
//! Each iptables-nft version encodes the same rule differently (measured with the real binaries,
//! `../shared/research/writers.md` §3 and `tests/tests/provenance.rs`):
//!
//! | feature | ≤1.8.7 | 1.8.8–1.8.9 | ≥1.8.10 | nft |
//! |---|---|---|---|---|
//! | `-m mark`, `--dport`/`--sport`, `--tcp-flags` | xt `mark` r1, xt `tcp`/`udp` r0 | native | native | native |
//! | `-p PROTO` | `meta l4proto` | `meta l4proto` | payload nh+9 (ip) | either |
//! | `-i`/`-o` with `-s`/`-d` | interface first | interface first | addresses first | any |
//! | `counter` before the verdict | always | always | always | only if asked |
//! | rule userdata (comment) | never | never | never | `comment "…"` |
//! | xt match/target blobs | yes | yes | yes | never |
//!
//! Every feature narrows a candidate set; the answer is certain only when a positive feature
//! singles out one candidate, likely when only absences do, and ambiguous (with the candidates)
//! otherwise. A wrong certain answer is the one thing this module must never give.

use crate::model::{Chain, Table};
use nfscope_wire::nft::expr::Expr;
use nfscope_wire::nft::{Data, Family, Rule};
use serde::Serialize;
use std::borrow::Cow;

/// A candidate writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Candidate {
    #[serde(rename = "iptables-nft <=1.8.7")]
    IptNft187,
    #[serde(rename = "iptables-nft 1.8.8-1.8.9")]
    IptNft189,
    #[serde(rename = "iptables-nft >=1.8.10")]
    IptNft1810,
    #[serde(rename = "nft")]
    Nft,
    #[serde(rename = "ebtables-nft")]
    EbtNft,
    #[serde(rename = "arptables-nft")]
    ArpNft,
}

impl Candidate {
    /// Every candidate, in this order (the order of [`Writer::candidates`]).
    const ALL: [Candidate; 6] = [
        Candidate::IptNft187,
        Candidate::IptNft189,
        Candidate::IptNft1810,
        Candidate::Nft,
        Candidate::EbtNft,
        Candidate::ArpNft,
    ];

    fn bit(self) -> u8 {
        1 << (self as u8)
    }

    /// The candidates of a set of bits, in [`Candidate::ALL`]'s order.
    fn of_mask(mask: u8) -> impl Iterator<Item = Candidate> {
        Candidate::ALL
            .into_iter()
            .filter(move |c| mask & c.bit() != 0)
    }

    fn mask(cands: &[Candidate]) -> u8 {
        cands.iter().fold(0, |m, c| m | c.bit())
    }

    pub fn tool(self) -> &'static str {
        match self {
            Candidate::IptNft187 | Candidate::IptNft189 | Candidate::IptNft1810 => "iptables-nft",
            Candidate::Nft => "nft",
            Candidate::EbtNft => "ebtables-nft",
            Candidate::ArpNft => "arptables-nft",
        }
    }
    pub fn versions(self) -> &'static str {
        match self {
            Candidate::IptNft187 => "<=1.8.7",
            Candidate::IptNft189 => "1.8.8-1.8.9",
            Candidate::IptNft1810 => ">=1.8.10",
            _ => "any",
        }
    }
    pub fn label(self) -> String {
        match self.versions() {
            "any" => self.tool().to_string(),
            v => format!("{} {v}", self.tool()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Certain,
    Likely,
    Ambiguous,
}

/// The verdict on one rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Writer {
    /// The tool when all candidates agree on it (`iptables-nft`), else `ambiguous`.
    pub tool: String,
    /// Version band(s) of the remaining candidates (`<=1.8.7`, ...).
    pub versions: Vec<String>,
    pub confidence: Confidence,
    pub candidates: Vec<Candidate>,
    /// Which feature pointed where.
    pub evidence: Vec<Evidence>,
}

impl Writer {
    /// One line: `iptables-nft >=1.8.8 (certain)`, `nft (likely)`, `ambiguous: nft | iptables-nft
    /// 1.8.8-1.8.9`.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let _ = self.write_summary(&mut s);
        s
    }

    /// [`Writer::summary`], written to `out`.
    pub fn write_summary(&self, out: &mut impl std::fmt::Write) -> std::fmt::Result {
        let conf = match self.confidence {
            Confidence::Certain => "certain",
            Confidence::Likely => "likely",
            Confidence::Ambiguous => "ambiguous",
        };
        let versions = |out: &mut dyn std::fmt::Write| -> std::fmt::Result {
            for (i, v) in self.versions.iter().enumerate() {
                if i > 0 {
                    out.write_str(" | ")?;
                }
                out.write_str(v)?;
            }
            Ok(())
        };
        if self.tool == "ambiguous" {
            write!(out, "{conf}: ")?;
            versions(out)
        } else if self.versions.iter().all(|v| v == "any") {
            write!(out, "{} ({conf})", self.tool)
        } else {
            write!(out, "{} ", self.tool)?;
            versions(out)?;
            write!(out, " ({conf})")
        }
    }
}

/// One feature of a rule's encoding and what it left of the candidates. Prints (and serialises)
/// as one line: `xt mark r1 (1.8.8+ encode -m mark natively) → iptables-nft <=1.8.7 | …`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    why: Cow<'static, str>,
    left: Left,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Left {
    /// The candidates the feature left.
    Kept(u8),
    /// The feature contradicted earlier evidence and was ignored.
    Ignored,
    /// A fact, not a narrowing.
    Note,
}

impl Evidence {
    /// The feature.
    pub fn why(&self) -> &str {
        &self.why
    }

    /// The candidates the feature left; `None` when it narrowed nothing (a fact, or a feature
    /// that contradicted earlier evidence and was ignored).
    pub fn left(&self) -> Option<Vec<Candidate>> {
        match self.left {
            Left::Kept(m) => Some(Candidate::of_mask(m).collect()),
            Left::Ignored | Left::Note => None,
        }
    }
}

impl std::fmt::Display for Evidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.why)?;
        match self.left {
            Left::Kept(m) => {
                for (i, c) in Candidate::of_mask(m).enumerate() {
                    f.write_str(if i == 0 { " → " } else { " | " })?;
                    f.write_str(c.tool())?;
                    if c.versions() != "any" {
                        write!(f, " {}", c.versions())?;
                    }
                }
                Ok(())
            }
            Left::Ignored => f.write_str(" (contradicts earlier evidence; ignored)"),
            Left::Note => Ok(()),
        }
    }
}

impl Serialize for Evidence {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[derive(Clone)]
struct Narrow {
    /// Bits of [`Candidate::bit`].
    cands: u8,
    evidence: Vec<Evidence>,
    positive: bool,
    /// A candidate was dropped on a presumption (table context), not on the rule's own bytes.
    soft: bool,
}

impl Narrow {
    /// Keep only `keep`; a positive feature can make the answer certain.
    fn keep(&mut self, keep: &[Candidate], why: impl Into<Cow<'static, str>>, positive: bool) {
        let next = self.cands & Candidate::mask(keep);
        if next == 0 {
            // Contradictory features: record it and do not narrow to nothing.
            self.evidence.push(Evidence {
                why: why.into(),
                left: Left::Ignored,
            });
            return;
        }
        if next != self.cands {
            let mut tools = Candidate::of_mask(next).map(Candidate::tool);
            let first = tools.next();
            self.soft |= !positive && tools.all(|t| Some(t) == first);
            self.evidence.push(Evidence {
                why: why.into(),
                left: Left::Kept(next),
            });
            self.positive |= positive;
        }
        self.cands = next;
    }

    fn has(&self, c: Candidate) -> bool {
        self.cands & c.bit() != 0
    }
}

fn is_iptables_table(t: &Table) -> bool {
    matches!(t.family, Family::Ip | Family::Ip6)
        && matches!(t.name(), "filter" | "nat" | "mangle" | "raw" | "security")
}

/// What provenance needs to know about a whole table (computed once per table: per rule it would
/// make attributing a table quadratic).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableInfo {
    has_xt: bool,
    iptables_shaped: bool,
}

impl TableInfo {
    pub fn of(table: &Table) -> TableInfo {
        TableInfo {
            has_xt: table_has_xt(table),
            iptables_shaped: iptables_shaped(table),
        }
    }

    #[cfg(feature = "history")]
    /// From its parts: whether the table holds an xt expression, and whether its base chains
    /// are laid out as iptables-nft lays them out ([`TableInfo::shaped`]).
    pub(crate) fn new(has_xt: bool, shaped: bool) -> TableInfo {
        TableInfo {
            has_xt,
            iptables_shaped: shaped,
        }
    }

    #[cfg(feature = "history")]
    /// Whether the table's base chains are exactly iptables-nft's builtin chains (known from
    /// the chains alone, before any rule is read).
    pub(crate) fn shaped(table: &Table) -> bool {
        iptables_shaped(table)
    }
}

/// Who wrote `rule` (nf_tables backend). In a loop over a table's rules, use [`of_rule_in`].
pub fn of_rule(table: &Table, chain: &Chain, rule: &Rule) -> Writer {
    of_rule_in(&TableInfo::of(table), table, chain, rule)
}

/// [`of_rule`] with the table's [`TableInfo`] computed once.
pub fn of_rule_in(info: &TableInfo, table: &Table, chain: &Chain, rule: &Rule) -> Writer {
    let mut n = own(table, chain, rule);
    table_step(&mut n, info);
    finish(n)
}

#[cfg(feature = "history")]
/// [`of_rule_in`] before the table's xt fact is known (a streamed snapshot reads a table's
/// rules chain by chain): the writer if the table holds no xt expression, and, when that fact
/// would change it, the writer if it does.
pub(crate) fn of_rule_either(
    shaped: bool,
    table: &Table,
    chain: &Chain,
    rule: &Rule,
) -> (Writer, Option<Writer>) {
    let n = own(table, chain, rule);
    let (without, with) = (TableInfo::new(false, shaped), TableInfo::new(true, shaped));
    if !applies(&n) {
        return (finish(n), None);
    }
    let mut other = n.clone();
    let mut n = n;
    table_step(&mut n, &without);
    table_step(&mut other, &with);
    (finish(n), Some(finish(other)))
}

/// The candidates a rule's own encoding (and its table's family and name) leaves.
fn own(table: &Table, _chain: &Chain, rule: &Rule) -> Narrow {
    use Candidate::*;
    let mut n = Narrow {
        cands: Candidate::mask(&Candidate::ALL),
        evidence: vec![],
        positive: false,
        soft: false,
    };
    let exprs = rule.expressions.as_deref().unwrap_or(&[]);
    match table.family {
        Family::Bridge => n.keep(&[EbtNft, Nft], "bridge family", false),
        Family::Arp => n.keep(&[ArpNft, Nft], "arp family", false),
        Family::Ip | Family::Ip6 => n.keep(
            &[IptNft187, IptNft189, IptNft1810, Nft],
            "ip/ip6 family",
            false,
        ),
        _ => n.keep(&[Nft], "family iptables tools never use", true),
    }
    if !is_iptables_table(table) && matches!(table.family, Family::Ip | Family::Ip6) {
        n.keep(&[Nft], "table name iptables never uses", true);
    }
    // xt blobs: only the xtables tools write them.
    if exprs
        .iter()
        .any(|e| matches!(e, Expr::Match(_) | Expr::Target(_)))
    {
        n.keep(
            &[IptNft187, IptNft189, IptNft1810, EbtNft, ArpNft],
            "xt match/target expression (nft never writes these)",
            true,
        );
    }
    if rule.userdata.is_some() {
        n.keep(&[Nft], "rule userdata (iptables-nft never sets it)", true);
    }
    // iptables-nft puts a counter after every match of a rule, right before its target: a
    // verdict, or the loads and writes of a native target (`-j TRACE` is `counter meta nftrace
    // set 1`, `-j CONNMARK --restore-mark` `counter meta mark set ct mark`).
    let counter_before_target = exprs
        .iter()
        .rposition(|e| matches!(e, Expr::Counter(_)))
        .is_some_and(|i| {
            !exprs[i + 1..].iter().any(|e| {
                matches!(
                    e,
                    Expr::Cmp(_) | Expr::Range(_) | Expr::Lookup(_) | Expr::Match(_)
                )
            })
        });
    if !counter_before_target {
        n.keep(
            &[Nft, EbtNft],
            "no counter right before the verdict (iptables-nft always adds one)",
            true,
        );
    }
    // Expressions iptables-nft never writes.
    if let Some(e) = exprs.iter().find(|e| !ipt_writes(e)) {
        n.keep(
            &[Nft],
            format!("`{}` expression (iptables-nft never writes it)", e.name()),
            true,
        );
    }
    for e in exprs {
        match e {
            Expr::Match(m) => match (m.name.as_deref(), m.rev) {
                (Some("mark"), Some(1)) => n.keep(
                    &[IptNft187, EbtNft, ArpNft],
                    "xt mark r1 (1.8.8+ encode -m mark natively)",
                    true,
                ),
                (Some("tcp" | "udp"), Some(0))
                    if xt_ports_only(m.info.as_ref().map(|b| b.0.as_slice())) =>
                {
                    n.keep(
                        &[IptNft187],
                        "xt tcp/udp with ports or flags (1.8.8+ encode those natively)",
                        true,
                    )
                }
                _ => {}
            },
            Expr::Meta(m) if m.key == Some(3) && m.dreg.is_some() => n.keep(
                &[IptNft189, IptNft1810, Nft],
                "native meta mark match (iptables-nft <=1.8.7 uses xt mark)",
                true,
            ),
            Expr::Payload(p) if p.base == Some(2) && p.dreg.is_some() => n.keep(
                &[IptNft189, IptNft1810, Nft],
                "native transport header match (iptables-nft <=1.8.7 uses xt tcp/udp)",
                true,
            ),
            Expr::Range(_) | Expr::Log(_) => n.keep(
                &[IptNft189, IptNft1810, Nft],
                "native range/log (unknown to <=1.8.7)",
                true,
            ),
            _ => {}
        }
    }
    // How -p is encoded.
    let proto_meta = loads(
        exprs,
        |e| matches!(e, Expr::Meta(m) if m.key == Some(16) && m.dreg.is_some()),
    );
    let proto_nh9 = table.family == Family::Ip
        && loads(
            exprs,
            |e| matches!(e, Expr::Payload(p) if p.base == Some(1) && p.offset == Some(9) && p.len == Some(1)),
        );
    if proto_meta {
        n.keep(
            &[IptNft187, IptNft189, Nft],
            "-p as meta l4proto (>=1.8.10 loads the ip protocol field)",
            true,
        );
    }
    if proto_nh9 {
        n.keep(
            &[IptNft1810, Nft],
            "-p as ip protocol payload (<=1.8.9 use meta l4proto)",
            true,
        );
    }
    // Interface vs address order.
    let first_if = exprs
        .iter()
        .position(|e| matches!(e, Expr::Meta(m) if matches!(m.key, Some(6) | Some(7))));
    let first_addr = exprs.iter().position(|e| {
        matches!(e, Expr::Payload(p) if p.base == Some(1) && matches!((table.family, p.offset), (Family::Ip, Some(12 | 16)) | (Family::Ip6, Some(8 | 24))))
    });
    if let (Some(i), Some(a)) = (first_if, first_addr) {
        if i < a {
            n.keep(
                &[IptNft187, IptNft189, Nft],
                "interface before address (>=1.8.10 puts addresses first)",
                true,
            );
        } else {
            n.keep(
                &[IptNft1810, Nft],
                "address before interface (<=1.8.9 put the interface first)",
                true,
            );
        }
    }
    // Table context: a table that holds xt blobs, or whose base chains are exactly iptables'
    // builtin chains (names, hooks, priorities), is an iptables-nft table; a rule in it whose
    // own bytes would also fit nft is presumed iptables-nft (likely, never certain).
    n
}

/// Whether the table context decides anything for `n`: it still holds nft and an
/// iptables-nft band.
fn applies(n: &Narrow) -> bool {
    use Candidate::*;
    n.has(Nft) && [IptNft187, IptNft189, IptNft1810].iter().any(|c| n.has(*c))
}

/// The table context (see [`TableInfo`]).
fn table_step(n: &mut Narrow, info: &TableInfo) {
    use Candidate::*;
    let ipt_cands = [IptNft187, IptNft189, IptNft1810];
    if applies(n) {
        if info.has_xt {
            n.keep(
                &ipt_cands,
                "table holds xt expressions: an iptables-nft table",
                false,
            );
        } else if info.iptables_shaped {
            n.keep(
                &ipt_cands,
                "table laid out as iptables-nft lays it out (builtin chains, hooks, priorities)",
                false,
            );
        }
    }
}

/// Base chains exactly as iptables-nft creates them for this table (name, hook, priority).
fn iptables_shaped(t: &Table) -> bool {
    let prio = match t.name() {
        "filter" => 0,
        "nat" => {
            return t.chains.iter().filter(|c| c.is_base()).all(|c| {
                builtin(
                    c,
                    &[
                        (0, "PREROUTING", -100),
                        (1, "INPUT", 100),
                        (3, "OUTPUT", -100),
                        (4, "POSTROUTING", 100),
                    ],
                )
            })
        }
        "mangle" => -150,
        "raw" => -300,
        "security" => 50,
        _ => return false,
    };
    let names = [
        (0, "PREROUTING", prio),
        (1, "INPUT", prio),
        (2, "FORWARD", prio),
        (3, "OUTPUT", prio),
        (4, "POSTROUTING", prio),
    ];
    let base: Vec<&Chain> = t.chains.iter().filter(|c| c.is_base()).collect();
    !base.is_empty() && base.iter().all(|c| builtin(c, &names))
}

fn builtin(c: &Chain, names: &[(u32, &str, i32)]) -> bool {
    let Some(h) = &c.attrs.hook else { return false };
    names.iter().any(|(hook, name, prio)| {
        h.hooknum == Some(*hook) && c.name() == *name && h.priority == Some(*prio)
    })
}

fn table_has_xt(t: &Table) -> bool {
    t.chains.iter().any(|c| c.rules.use_xt())
}

/// Merge iptables-nft bands into one range label (`>=1.8.8`, `<=1.8.9`, `any`).
fn merge_bands(c: &[Candidate]) -> Option<String> {
    use Candidate::*;
    let has = |x| c.contains(&x);
    Some(
        match (has(IptNft187), has(IptNft189), has(IptNft1810)) {
            (true, false, false) => "<=1.8.7",
            (false, true, false) => "1.8.8-1.8.9",
            (false, false, true) => ">=1.8.10",
            (true, true, false) => "<=1.8.9",
            (false, true, true) => ">=1.8.8",
            (true, true, true) => "any",
            _ => return None,
        }
        .to_string(),
    )
}

fn finish(n: Narrow) -> Writer {
    let cands: Vec<Candidate> = Candidate::of_mask(n.cands).collect();
    let tools: Vec<&str> = {
        let mut t: Vec<&str> = cands.iter().map(|c| c.tool()).collect();
        t.dedup();
        t
    };
    let single_tool = tools.len() == 1;
    let confidence = match (single_tool, n.positive, n.soft) {
        (true, true, false) => Confidence::Certain,
        (true, _, _) => Confidence::Likely,
        _ => Confidence::Ambiguous,
    };
    // One tool: its version bands (`any` for tools without bands), never the tool's name again.
    let versions = if single_tool && cands[0].tool() == "iptables-nft" {
        merge_bands(&cands).into_iter().collect()
    } else if single_tool {
        let mut v: Vec<String> = cands.iter().map(|c| c.versions().to_string()).collect();
        v.dedup();
        v
    } else {
        cands.iter().map(|c| c.label()).collect()
    };
    Writer {
        tool: if single_tool {
            tools[0].to_string()
        } else {
            "ambiguous".into()
        },
        versions,
        confidence,
        candidates: cands,
        evidence: n.evidence,
    }
}

/// Who wrote a legacy x_tables rule of `family`: iptables-legacy (ip6tables-legacy is the same
/// tool) or arptables-legacy, any version (the blobs are identical).
pub fn legacy(family: nfscope_wire::xt::entry::Family) -> Writer {
    let tool = match family {
        nfscope_wire::xt::entry::Family::Arp => "arptables-legacy",
        _ => "iptables-legacy",
    };
    Writer {
        tool: tool.into(),
        versions: vec!["any".into()],
        confidence: Confidence::Certain,
        candidates: vec![],
        evidence: vec![Evidence {
            why: "legacy x_tables backend".into(),
            left: Left::Note,
        }],
    }
}

fn loads(exprs: &[Expr], f: impl Fn(&Expr) -> bool) -> bool {
    exprs.iter().any(f)
}

/// Expressions iptables-nft (any version) writes.
fn ipt_writes(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Match(_)
            | Expr::Target(_)
            | Expr::Payload(_)
            | Expr::Meta(_)
            | Expr::Cmp(_)
            | Expr::Bitwise(_)
            | Expr::Counter(_)
            | Expr::Immediate(_)
            | Expr::Range(_)
            | Expr::Limit(_)
            | Expr::Log(_)
            | Expr::Lookup(_)
    ) && !matches!(e, Expr::Immediate(i) if i.dreg != Some(0) && !matches!(i.data, Some(Data::Value(_))))
}

/// Does this `struct xt_tcp` / `xt_udp` hold something iptables-nft 1.8.8+ would have encoded
/// natively (ports other than the full range, or tcp flags) and nothing it keeps as xt (tcp
/// options)? Then only a <=1.8.7 writer produces it. An empty `-m tcp` (full port ranges, no
/// flags) is kept as xt by every version, so it says nothing.
/// Layout: spts[2] u16, dpts[2] u16 (native endian), option u8, flg_mask u8, flg_cmp u8,
/// invflags u8 (xt_udp: ports, invflags u8).
fn xt_ports_only(info: Option<&[u8]>) -> bool {
    let Some(b) = info else { return false };
    if b.len() < 8 {
        return false;
    }
    let u = |i: usize| u16::from_ne_bytes([b[i], b[i + 1]]);
    let full = |lo: u16, hi: u16| lo == 0 && hi == u16::MAX;
    let ports = !full(u(0), u(2)) || !full(u(4), u(6));
    let option = b.get(8).copied().unwrap_or(0) != 0;
    let flags = b.get(9).copied().unwrap_or(0) != 0;
    !option && (ports || flags)
}

/// Tools of different iptables-nft bands writing one table: the rules' candidate bands have no
/// band in common. Returns the distinct band sets (empty when one band can explain every rule).
pub fn mixed_writers(table: &Table) -> Vec<String> {
    use Candidate::*;
    let ipt = [IptNft187, IptNft189, IptNft1810];
    let mut common: Vec<Candidate> = ipt.to_vec();
    let mut sets: Vec<Vec<Candidate>> = Vec::new();
    let info = TableInfo::of(table);
    for c in &table.chains {
        for r in &c.rules {
            let w = of_rule_in(&info, table, c, &r);
            if w.tool != "iptables-nft" || w.confidence != Confidence::Certain {
                continue;
            }
            let bands: Vec<Candidate> = w
                .candidates
                .iter()
                .copied()
                .filter(|c| ipt.contains(c))
                .collect();
            common.retain(|c| bands.contains(c));
            if !sets.contains(&bands) {
                sets.push(bands);
            }
        }
    }
    if !common.is_empty() {
        return vec![];
    }
    sets.iter()
        .filter_map(|s| merge_bands(s).map(|b| format!("iptables-nft {b}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn labels() {
        assert_eq!(Candidate::IptNft187.label(), "iptables-nft <=1.8.7");
        assert_eq!(Candidate::Nft.label(), "nft");
    }

    #[test]
    fn a_single_tool_without_bands_is_named_once() {
        let n = Narrow {
            cands: Candidate::Nft.bit(),
            evidence: vec![],
            positive: true,
            soft: false,
        };
        let w = finish(n);
        assert_eq!(w.versions, ["any"]);
        assert_eq!(w.summary(), "nft (certain)");
    }

    #[test]
    fn legacy_writers_follow_the_family() {
        use nfscope_wire::xt::entry::Family as X;
        assert_eq!(legacy(X::Arp).summary(), "arptables-legacy (certain)");
        assert_eq!(legacy(X::Ipv6).summary(), "iptables-legacy (certain)");
    }
}
