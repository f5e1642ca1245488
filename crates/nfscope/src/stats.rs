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

pub fn count(rs: &Ruleset) -> Counts {
    let mut c = Counts {
        generation: rs.generation,
        ..Default::default()
    };
    c.total.family = "all".into();
    c.total.table = "all".into();
    for t in &rs.tables {
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
        for ch in &t.chains {
            tc.rules += ch.rules.len();
            for r in &ch.rules {
                tc.unknown += r.unknown.len();
                for e in r.expressions.iter().flatten() {
                    tc.expressions += 1;
                    if e.is_unknown() {
                        tc.unknown += 1;
                    }
                    *c.expressions_by_kind
                        .entry(e.name().to_string())
                        .or_default() += 1;
                }
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
