//! `nfscope stats`: counts per family and table, expressions by kind, unknown ones.

use crate::snapshot::Stats;
use crate::Ruleset;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Debug, Default, Clone, Serialize)]
pub struct TableCounts {
    pub family: String,
    pub table: String,
    pub chains: usize,
    pub base_chains: usize,
    pub rules: usize,
    pub sets: usize,
    pub elements: usize,
    pub objects: usize,
    pub flowtables: usize,
    pub expressions: usize,
    /// Expressions (or attributes) this code did not understand, kept as raw bytes.
    pub unknown: usize,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Counts {
    pub generation: u32,
    pub tables: Vec<TableCounts>,
    pub total: TableCounts,
    /// Expressions by kernel name, over the whole ruleset.
    pub expressions_by_kind: BTreeMap<String, usize>,
}

/// Rules, expressions and unknowns of some chains.
#[derive(Default)]
struct RuleCounts {
    rules: usize,
    expressions: usize,
    unknown: usize,
    by_kind: BTreeMap<String, usize>,
}

fn count_rules(chains: &[crate::model::Chain]) -> RuleCounts {
    let mut c = RuleCounts::default();
    for ch in chains {
        c.rules += ch.rules.len();
        for r in &ch.rules {
            c.unknown += r.unknown.len();
            for e in r.expressions.iter().flatten() {
                c.expressions += 1;
                if e.is_unknown() {
                    c.unknown += 1;
                }
                // One String per kind, not per expression.
                match c.by_kind.get_mut(e.name()) {
                    Some(n) => *n += 1,
                    None => {
                        c.by_kind.insert(e.name().to_string(), 1);
                    }
                }
            }
        }
    }
    c
}

pub fn count(rs: &Ruleset) -> Counts {
    count_with(rs, |_, t| {
        // Counting decodes every rule: large tables count on two threads.
        if t.chains.len() >= 512 {
            let (a, b) = t.chains.split_at(t.chains.len() / 2);
            std::thread::scope(|sc| {
                let other = sc.spawn(|| count_rules(b));
                let first = count_rules(a);
                vec![first, other.join().unwrap_or_else(|_| count_rules(b))]
            })
        } else {
            vec![count_rules(&t.chains)]
        }
    })
}

/// [`count`] of a streamed snapshot: the rules of the chains [`CountSink`] saw were counted
/// while they were read (the others, binding chains, are in the model).
pub fn count_streamed(rs: &Ruleset, chains: &[Vec<Option<ChainCounts>>]) -> Counts {
    count_with(rs, |ti, t| {
        let mut c = count_rules(&t.chains);
        for cc in chains.get(ti).into_iter().flatten().flatten() {
            c.rules += cc.rules;
            c.expressions += cc.expressions;
            c.unknown += cc.unknown;
            for (k, n) in &cc.kinds {
                *c.by_kind.entry(k.to_string()).or_default() += n;
            }
        }
        vec![c]
    })
}

fn count_with(
    rs: &Ruleset,
    rules: impl Fn(usize, &crate::model::Table) -> Vec<RuleCounts>,
) -> Counts {
    let mut c = Counts {
        generation: rs.generation,
        ..Default::default()
    };
    c.total.family = "all".into();
    c.total.table = "all".into();
    for (ti, t) in rs.tables.iter().enumerate() {
        let mut tc = TableCounts {
            family: t.family.name(),
            table: t.name().to_string(),
            chains: t.chains.len(),
            base_chains: t.chains.iter().filter(|ch| ch.is_base()).count(),
            sets: t.sets.len(),
            elements: t.sets.iter().map(|s| s.elements.len()).sum(),
            objects: t.objects.len(),
            flowtables: t.flowtables.len(),
            ..Default::default()
        };
        for p in rules(ti, t) {
            tc.rules += p.rules;
            tc.expressions += p.expressions;
            tc.unknown += p.unknown;
            for (k, n) in p.by_kind {
                *c.expressions_by_kind.entry(k).or_default() += n;
            }
        }
        let tot = &mut c.total;
        tot.chains += tc.chains;
        tot.base_chains += tc.base_chains;
        tot.rules += tc.rules;
        tot.sets += tc.sets;
        tot.elements += tc.elements;
        tot.objects += tc.objects;
        tot.flowtables += tc.flowtables;
        tot.expressions += tc.expressions;
        tot.unknown += tc.unknown;
        c.tables.push(tc);
    }
    c
}

/// Take a snapshot in `netns` (`None`: this one) and count it, decoding each rule while it is
/// read and keeping none: `nfscope stats`.
pub fn take_counts(
    netns: Option<&str>,
    opts: &crate::snapshot::Options,
) -> crate::Result<(Counts, Stats)> {
    let run = || -> crate::Result<(Counts, Stats)> {
        let mut sockets = crate::snapshot::open_sockets(opts)?;
        let st = crate::snapshot::take_streamed(&mut sockets, opts, &CountStream)?;
        Ok((count_streamed(&st.ruleset, &st.chains), st.stats))
    };
    crate::netns::run_in_opt(netns, run)
}

/// One chain's rules counted while the snapshot read them ([`CountSink`]).
#[derive(Debug, Default)]
pub struct ChainCounts {
    pub rules: usize,
    pub expressions: usize,
    pub unknown: usize,
    /// Expressions by kernel name (a chain holds a few kinds: a short list, not a map).
    pub kinds: Vec<(String, usize)>,
}

/// Makes [`CountSink`]s (`nfscope stats` on a streamed snapshot: every rule is decoded and
/// counted, none kept).
pub struct CountStream;

/// Decodes and counts each chain's rules while the snapshot reads them.
pub struct CountSink<'t> {
    tables: &'t [crate::model::Table],
}

impl crate::snapshot::Prepare<ChainCounts> for CountStream {
    fn prepare<'t>(
        &'t self,
        tables: &'t [crate::model::Table],
    ) -> Box<dyn crate::snapshot::ChainRules<ChainCounts> + 't> {
        Box::new(CountSink { tables })
    }
}

impl crate::snapshot::ChainRules<ChainCounts> for CountSink<'_> {
    fn wants(&self, _table: usize, _chain: usize) -> bool {
        true
    }
    fn start(&self, _table: usize, _chain: usize) -> ChainCounts {
        ChainCounts::default()
    }
    fn rule(
        &self,
        out: &mut ChainCounts,
        table: usize,
        chain: usize,
        attrs: &[u8],
    ) -> crate::Result<()> {
        let r = nfscope_wire::nft::Rule::parse_in_chain(attrs).map_err(|e| {
            let t = &self.tables[table];
            crate::Error::decode(crate::snapshot::rules_op(t, &t.chains[chain]), e)
        })?;
        out.rules += 1;
        out.unknown += r.unknown.len();
        for e in r.expressions.iter().flatten() {
            out.expressions += 1;
            if e.is_unknown() {
                out.unknown += 1;
            }
            match out.kinds.iter_mut().find(|(k, _)| k == e.name()) {
                Some((_, n)) => *n += 1,
                None => out.kinds.push((e.name().to_string(), 1)),
            }
        }
        Ok(())
    }
}

pub fn render_text(c: &Counts, s: &Stats) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "generation {}", c.generation);
    let _ = writeln!(
        o,
        "{:<7} {:<24} {:>7} {:>7} {:>5} {:>8} {:>8} {:>5} {:>9} {:>7}",
        "family",
        "table",
        "chains",
        "rules",
        "sets",
        "elements",
        "objects",
        "flow",
        "exprs",
        "unknown"
    );
    for t in c.tables.iter().chain(std::iter::once(&c.total)) {
        let _ = writeln!(
            o,
            "{:<7} {:<24} {:>7} {:>7} {:>5} {:>8} {:>8} {:>5} {:>9} {:>7}",
            t.family,
            t.table,
            t.chains,
            t.rules,
            t.sets,
            t.elements,
            t.objects,
            t.flowtables,
            t.expressions,
            t.unknown
        );
    }
    if !c.expressions_by_kind.is_empty() {
        let _ = writeln!(o, "expressions by kind:");
        for (k, n) in &c.expressions_by_kind {
            let _ = writeln!(o, "  {k:<14} {n}");
        }
    }
    let _ = writeln!(
        o,
        "read {} bytes in {} messages ({} requests, {} attempt{}) in {:.3} s",
        s.bytes,
        s.messages,
        s.requests,
        s.attempts,
        if s.attempts == 1 { "" } else { "s" },
        s.elapsed.as_secs_f64()
    );
    o
}

/// Counts of one legacy (x_tables) table.
#[derive(Debug, Default, Clone, Serialize)]
pub struct LegacyTableCounts {
    pub family: String,
    pub table: String,
    pub chains: usize,
    pub builtin_chains: usize,
    pub rules: usize,
    /// xt matches (`-m NAME`).
    pub matches: usize,
    /// Extension targets (`-j NAME` other than verdicts and jumps).
    pub targets: usize,
    /// Matches and targets the xt registry does not decode (unknown name, revision or size),
    /// kept as raw bytes.
    pub unknown: usize,
}

/// `nfscope stats` for the legacy backend.
#[derive(Debug, Default, Clone, Serialize)]
pub struct LegacyCounts {
    pub tables: Vec<LegacyTableCounts>,
    pub total: LegacyTableCounts,
    /// `-m NAME` and `-j NAME` by name, over every table.
    pub extensions_by_name: BTreeMap<String, usize>,
    /// Time to read and decode every listed table.
    #[serde(serialize_with = "secs")]
    pub elapsed: std::time::Duration,
}

fn secs<S: serde::Serializer>(d: &std::time::Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Count a legacy ruleset; every match and target goes through the xt registry.
pub fn count_legacy(
    l: &crate::legacy::LegacyRuleset,
    elapsed: std::time::Duration,
) -> LegacyCounts {
    use nfscope_wire::xt::entry::{Family as XFamily, Target};
    use nfscope_wire::xt::ext::{Xt, XtKind};
    let mut c = LegacyCounts {
        elapsed,
        ..Default::default()
    };
    c.total.family = "all".into();
    c.total.table = "all".into();
    let bump = |m: &mut BTreeMap<String, usize>, k: String| *m.entry(k).or_default() += 1;
    for t in &l.tables {
        let mut tc = LegacyTableCounts {
            family: match t.family {
                XFamily::Ipv4 => "ip",
                XFamily::Ipv6 => "ip6",
                XFamily::Arp => "arp",
            }
            .into(),
            table: t.name.clone(),
            chains: t.chains.len(),
            builtin_chains: t.chains.iter().filter(|ch| ch.is_builtin()).count(),
            ..Default::default()
        };
        for ch in &t.chains {
            tc.rules += ch.rules.len();
            for r in &ch.rules {
                for m in &r.matches {
                    tc.matches += 1;
                    if matches!(m.decode(XtKind::Match, t.family), Xt::Unknown(_)) {
                        tc.unknown += 1;
                    }
                    bump(&mut c.extensions_by_name, format!("-m {}", m.name));
                }
                if let Target::Ext(x) = &r.target {
                    tc.targets += 1;
                    if matches!(x.decode(XtKind::Target, t.family), Xt::Unknown(_)) {
                        tc.unknown += 1;
                    }
                    bump(&mut c.extensions_by_name, format!("-j {}", x.name));
                }
            }
        }
        let tot = &mut c.total;
        tot.chains += tc.chains;
        tot.builtin_chains += tc.builtin_chains;
        tot.rules += tc.rules;
        tot.matches += tc.matches;
        tot.targets += tc.targets;
        tot.unknown += tc.unknown;
        c.tables.push(tc);
    }
    c
}

pub fn render_legacy_text(c: &LegacyCounts) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "legacy (x_tables):");
    let _ = writeln!(
        o,
        "{:<7} {:<24} {:>7} {:>7} {:>8} {:>8} {:>7}",
        "family", "table", "chains", "rules", "matches", "targets", "unknown"
    );
    for t in c.tables.iter().chain(std::iter::once(&c.total)) {
        let _ = writeln!(
            o,
            "{:<7} {:<24} {:>7} {:>7} {:>8} {:>8} {:>7}",
            t.family, t.table, t.chains, t.rules, t.matches, t.targets, t.unknown
        );
    }
    if !c.extensions_by_name.is_empty() {
        let _ = writeln!(o, "matches and targets by name:");
        for (k, n) in &c.extensions_by_name {
            let _ = writeln!(o, "  {k:<20} {n}");
        }
    }
    let _ = writeln!(o, "read and decoded in {:.3} s", c.elapsed.as_secs_f64());
    o
}
