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
use serde_json::Value;
use std::cell::RefCell;
use std::collections::BTreeMap;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Serialize)]
struct CompatEntry {
    reader: &'static str,
    #[serde(flatten)]
    outcome: Outcome,
}

/// Build the whole document as a `Value` (tests, fuzzing and small rulesets; [`Doc`] writes the
/// same document without holding it). A `Value`'s object keys are sorted, so its text is not in
/// the model's field order; serialize [`Doc`] for that.
pub fn document(rs: &Ruleset, opts: &NftOptions) -> Value {
    serde_json::to_value(Doc {
        rs,
        opts,
        nft: true,
        legacy: None,
        findings: Value::Null,
    })
    .map(|mut v| {
        if let Some(o) = v.as_object_mut() {
            o.remove("findings");
        }
        v
    })
    .unwrap_or(Value::Null)
}

/// The `dump --format json` document, produced while it is serialized: one rule's JSON at a
/// time, never the whole document in memory (2.4 GB as a `Value` for 80,011 rules). Fields come
/// in the model's order (no `serde_json/preserve_order` needed).
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
            let tables = Seq(self.rs.tables.iter().map(|t| TableDoc {
                t,
                opts: self.opts,
                names: &names,
            }));
            m.serialize_entry(
                "nftables",
                &RulesetDoc {
                    generation: self.rs.generation,
                    tables,
                },
            )?;
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

/// [`Ruleset`]'s serde form, its tables annotated.
#[derive(Serialize)]
struct RulesetDoc<I> {
    generation: u32,
    tables: I,
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

/// Rules per writer summary, filled while a table's or chain's rules are serialized and
/// serialized after them.
type Writers = RefCell<BTreeMap<String, u64>>;

/// A [`Writers`] tally as its JSON object, read when it is serialized.
struct Tally<'a>(&'a Writers);

impl Serialize for Tally<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.borrow().serialize(s)
    }
}

struct TableDoc<'a> {
    t: &'a crate::model::Table,
    opts: &'a NftOptions,
    names: &'a crate::render::iptables::SetNames<'a>,
}

/// [`crate::model::Table`]'s serde form with annotated chains and a `writers` tally.
#[derive(Serialize)]
struct TableFields<'a, C> {
    family: Family,
    #[serde(flatten)]
    attrs: &'a nfscope_wire::nft::Table,
    chains: C,
    sets: &'a [crate::model::Set],
    objects: &'a [crate::model::Obj],
    flowtables: &'a [nfscope_wire::nft::Flowtable],
    writers: Tally<'a>,
}

impl Serialize for TableDoc<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = self.t;
        let info = provenance::TableInfo::of(t);
        let table_writers = Writers::default();
        let chains = Seq(t.chains.iter().map(|c| ChainDoc {
            t,
            c,
            info: &info,
            opts: self.opts,
            names: self.names,
            table_writers: &table_writers,
        }));
        TableFields {
            family: t.family,
            attrs: &t.attrs,
            chains,
            sets: &t.sets,
            objects: &t.objects,
            flowtables: &t.flowtables,
            writers: Tally(&table_writers),
        }
        .serialize(s)
    }
}

struct ChainDoc<'a> {
    t: &'a crate::model::Table,
    c: &'a crate::model::Chain,
    info: &'a provenance::TableInfo,
    opts: &'a NftOptions,
    names: &'a crate::render::iptables::SetNames<'a>,
    table_writers: &'a Writers,
}

/// [`crate::model::Chain`]'s serde form with annotated rules and a `writers` tally.
#[derive(Serialize)]
struct ChainFields<'a, R> {
    #[serde(flatten)]
    attrs: &'a nfscope_wire::nft::Chain,
    rules: R,
    writers: Tally<'a>,
}

impl Serialize for ChainDoc<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (t, c) = (self.t, self.c);
        let chain_writers = Writers::default();
        let rules = Seq(c.rules.iter().map(|r| {
            let doc = rule_doc(t, c, r, self.info, self.opts, self.names);
            *chain_writers
                .borrow_mut()
                .entry(doc.writer.summary())
                .or_default() += 1;
            doc
        }));
        let out = ChainFields {
            attrs: &c.attrs,
            rules,
            writers: Tally(&chain_writers),
        }
        .serialize(s);
        let mut tw = self.table_writers.borrow_mut();
        for (k, n) in chain_writers.borrow().iter() {
            *tw.entry(k.clone()).or_default() += n;
        }
        out
    }
}

/// One rule's JSON: its serde form plus `nft`, `iptables`, `compat` and `writer`.
#[derive(Serialize)]
struct RuleDoc {
    #[serde(flatten)]
    rule: nfscope_wire::nft::Rule,
    nft: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    iptables: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    compat: Option<Vec<CompatEntry>>,
    writer: provenance::Writer,
}

fn rule_doc(
    t: &crate::model::Table,
    c: &crate::model::Chain,
    r: nfscope_wire::nft::Rule,
    info: &provenance::TableInfo,
    opts: &NftOptions,
    names: &crate::render::iptables::SetNames<'_>,
) -> RuleDoc {
    let writer = provenance::of_rule_in(info, t, c, &r);
    let nft = nftr::rule(t, c, &r, opts);
    let (iptables, compat) = if matches!(t.family, Family::Ip | Family::Ip6) {
        // Each band reads the rule once (`iptnft::outcome` per band would read it twice, and
        // the newest band three more times).
        let reads = Reader::ALL.map(|rd| iptnft::translate(t, c, &r, rd));
        let read_by = |want: Reader| Reader::ALL.iter().position(|rd| *rd == want);
        let best = read_by(Reader::From1810).and_then(|i| reads.get(i));
        let compat = Reader::ALL
            .iter()
            .zip(&reads)
            .map(|(rd, read)| CompatEntry {
                reader: rd.name(),
                outcome: iptnft::outcome_of(read, best.unwrap_or(read)),
            })
            .collect();
        // Without ipset names the text band's reading is the line itself.
        let text = read_by(Reader::TEXT).and_then(|i| reads.get(i));
        let line = match text {
            Some(l) if names.0.is_empty() => l.refused.is_none().then(|| l.line()),
            _ => {
                let l = iptnft::translate_with(t, c, &r, Reader::TEXT, names);
                l.refused.is_none().then(|| l.line())
            }
        };
        (line, Some(compat))
    } else {
        (None, None)
    };
    RuleDoc {
        rule: r,
        nft,
        iptables,
        compat,
        writer,
    }
}
