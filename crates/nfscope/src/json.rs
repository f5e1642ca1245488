//! The JSON document of `nfscope dump --format json` (schema: docs/json-schema.md).
//!
//! The serde form of the model in a versioned envelope, with per-rule annotations: the rule's
//! nft text, its iptables-save line (ip/ip6 tables), who wrote it and how each iptables-nft
//! band reads it back. Fields only grow within a schema version.

use crate::iptnft::{self, Outcome, Reader};
use crate::provenance;
use crate::render::nft::{self as nftr, NftOptions};
use crate::Ruleset;
use nfscope_wire::nft::Family;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Serialize)]
struct CompatEntry {
    reader: &'static str,
    #[serde(flatten)]
    outcome: Outcome,
}

/// Build the whole document as a `Value` (tests and small rulesets; [`Doc`] streams the same
/// text without holding the document).
pub fn document(rs: &Ruleset, opts: &NftOptions) -> Value {
    let names = crate::render::iptables::SetNames(&opts.ipsets);
    let mut v = serde_json::to_value(rs).unwrap_or(Value::Null);
    if let Some(tables) = v.get_mut("tables").and_then(Value::as_array_mut) {
        for (t, tv) in rs.tables.iter().zip(tables.iter_mut()) {
            let info = provenance::TableInfo::of(t);
            let mut table_writers: BTreeMap<String, u64> = BTreeMap::new();
            let Some(chains) = tv.get_mut("chains").and_then(Value::as_array_mut) else {
                continue;
            };
            for (c, cv) in t.chains.iter().zip(chains.iter_mut()) {
                let mut chain_writers: BTreeMap<String, u64> = BTreeMap::new();
                let Some(rules) = cv.get_mut("rules").and_then(Value::as_array_mut) else {
                    continue;
                };
                for (r, rv) in c.rules.iter().zip(rules.iter_mut()) {
                    let (v, w) = rule_value(t, c, &r, &info, opts, &names);
                    *rv = v;
                    *chain_writers.entry(w).or_default() += 1;
                }
                for (k, n) in &chain_writers {
                    *table_writers.entry(k.clone()).or_default() += n;
                }
                if let Some(o) = cv.as_object_mut() {
                    o.insert("writers".into(), json!(chain_writers));
                }
            }
            if let Some(o) = tv.as_object_mut() {
                o.insert("writers".into(), json!(table_writers));
            }
        }
    }
    json!({ "schema_version": SCHEMA_VERSION, "nftables": v })
}

/// The `dump --format json` document, produced while it is serialized: one rule's JSON at a
/// time instead of the whole document as a `Value` (2.4 GB for 80,011 rules). Serializes to
/// exactly what [`document`] plus `legacy` and `findings` serialize to (a test holds the two
/// together).
pub struct Doc<'a> {
    pub rs: &'a Ruleset,
    pub opts: &'a NftOptions,
    /// `false`: `"nftables": null` (`--backend legacy`).
    pub nft: bool,
    pub legacy: Option<&'a crate::legacy::LegacyRuleset>,
    pub findings: Value,
}

impl Serialize for Doc<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("schema_version", &SCHEMA_VERSION)?;
        if self.nft {
            let names = crate::render::iptables::SetNames(&self.opts.ipsets);
            let shell = serde_json::to_value(Ruleset {
                generation: self.rs.generation,
                tables: vec![],
            })
            .unwrap_or(Value::Null);
            let tables = Seq(self.rs.tables.iter().map(|t| TableDoc {
                t,
                opts: self.opts,
                names: &names,
            }));
            m.serialize_entry("nftables", &Replaced(shell, "tables", &tables, None))?;
        } else {
            m.serialize_entry("nftables", &Value::Null)?;
        }
        if let Some(l) = self.legacy {
            m.serialize_entry("legacy", l)?;
        }
        m.serialize_entry("findings", &self.findings)?;
        m.end()
    }
}

/// An object (`.0`) with the entry named `.1` serialized from `.2` instead, and an entry
/// `"writers"` appended when `.3` is given.
struct Replaced<'a, T: Serialize>(
    Value,
    &'a str,
    &'a T,
    Option<&'a std::cell::RefCell<BTreeMap<String, u64>>>,
);

impl<T: Serialize> Serialize for Replaced<'_, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let Value::Object(obj) = &self.0 else {
            return self.0.serialize(s);
        };
        let mut m = s.serialize_map(Some(obj.len() + usize::from(self.3.is_some())))?;
        for (k, v) in obj {
            if k == self.1 {
                m.serialize_entry(k, self.2)?;
            } else {
                m.serialize_entry(k, v)?;
            }
        }
        if let Some(w) = self.3 {
            m.serialize_entry("writers", &*w.borrow())?;
        }
        m.end()
    }
}

/// A sequence serialized from an iterator (taken once: serde serializes each value once).
struct Seq<I>(I);

impl<I, T> Serialize for Seq<I>
where
    I: Iterator<Item = T> + Clone,
    T: Serialize,
{
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.clone())
    }
}

struct TableDoc<'a> {
    t: &'a crate::model::Table,
    opts: &'a NftOptions,
    names: &'a crate::render::iptables::SetNames<'a>,
}

impl Serialize for TableDoc<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = self.t;
        let shell = serde_json::to_value(crate::model::Table {
            family: t.family,
            attrs: t.attrs.clone(),
            chains: vec![],
            sets: t.sets.clone(),
            objects: t.objects.clone(),
            flowtables: t.flowtables.clone(),
        })
        .unwrap_or(Value::Null);
        let info = provenance::TableInfo::of(t);
        let table_writers = std::cell::RefCell::new(BTreeMap::new());
        let chains = Seq(t.chains.iter().map(|c| ChainDoc {
            t,
            c,
            info: &info,
            opts: self.opts,
            names: self.names,
            table_writers: &table_writers,
        }));
        Replaced(shell, "chains", &chains, Some(&table_writers)).serialize(s)
    }
}

struct ChainDoc<'a> {
    t: &'a crate::model::Table,
    c: &'a crate::model::Chain,
    info: &'a provenance::TableInfo,
    opts: &'a NftOptions,
    names: &'a crate::render::iptables::SetNames<'a>,
    table_writers: &'a std::cell::RefCell<BTreeMap<String, u64>>,
}

impl Serialize for ChainDoc<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (t, c) = (self.t, self.c);
        let shell = serde_json::to_value(crate::model::Chain {
            attrs: c.attrs.clone(),
            rules: crate::model::Rules::new(),
        })
        .unwrap_or(Value::Null);
        let chain_writers = std::cell::RefCell::new(BTreeMap::new());
        let rules = Seq(c.rules.iter().map(|r| {
            let (v, w) = rule_value(t, c, &r, self.info, self.opts, self.names);
            *chain_writers.borrow_mut().entry(w).or_default() += 1;
            v
        }));
        let out = Replaced(shell, "rules", &rules, Some(&chain_writers)).serialize(s);
        for (k, n) in chain_writers.borrow().iter() {
            *self
                .table_writers
                .borrow_mut()
                .entry(k.clone())
                .or_default() += n;
        }
        out
    }
}

/// One rule's JSON (its serde form plus `nft`, `iptables`, `compat`, `writer`) and its
/// writer's summary.
fn rule_value(
    t: &crate::model::Table,
    c: &crate::model::Chain,
    r: &nfscope_wire::nft::Rule,
    info: &provenance::TableInfo,
    opts: &NftOptions,
    names: &crate::render::iptables::SetNames<'_>,
) -> (Value, String) {
    let mut v = serde_json::to_value(r).unwrap_or(Value::Null);
    let w = provenance::of_rule_in(info, t, c, r);
    let summary = w.summary();
    if let Some(obj) = v.as_object_mut() {
        obj.insert("nft".into(), Value::String(nftr::rule(t, c, r, opts)));
        if matches!(t.family, Family::Ip | Family::Ip6) {
            let line = iptnft::translate_with(t, c, r, Reader::From1810, names);
            if line.refused.is_none() {
                obj.insert("iptables".into(), Value::String(line.line()));
            }
            let compat: Vec<CompatEntry> = Reader::ALL
                .iter()
                .map(|rd| CompatEntry {
                    reader: rd.name(),
                    outcome: iptnft::outcome(t, c, r, *rd),
                })
                .collect();
            obj.insert(
                "compat".into(),
                serde_json::to_value(compat).unwrap_or(Value::Null),
            );
        }
        obj.insert(
            "writer".into(),
            serde_json::to_value(w).unwrap_or(Value::Null),
        );
    }
    (v, summary)
}
