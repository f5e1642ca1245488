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
use serde_json::ser::{Formatter, PrettyFormatter};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::sync::{Mutex, PoisonError};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Serialize)]
struct CompatEntry {
    reader: &'static str,
    #[serde(flatten)]
    outcome: Outcome,
}

/// Build the whole document as a `Value` (tests, fuzzing and small rulesets; [`Doc::write`]
/// writes the same document without holding it). A `Value`'s object keys are sorted, so its
/// text is not in the model's field order; write [`Doc`] for that.
pub fn document(rs: &Ruleset, opts: &NftOptions) -> Value {
    let mut text = Vec::new();
    let doc = Doc {
        rs,
        opts,
        nft: true,
        legacy: None,
        findings: Value::Null,
    };
    if doc.write(&mut text).is_err() {
        return Value::Null;
    }
    let mut v: Value = serde_json::from_slice(&text).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.remove("findings");
    }
    v
}

/// The `dump --format json` document, produced while it is written: a chain's JSON at a time,
/// never the whole document in memory (2.4 GB as a `Value` for 80,011 rules). Fields come in
/// the model's order (no `serde_json/preserve_order` needed).
pub struct Doc<'a> {
    pub rs: &'a Ruleset,
    pub opts: &'a NftOptions,
    /// `false`: `"nftables": null` (`--backend legacy`).
    pub nft: bool,
    pub legacy: Option<&'a crate::legacy::LegacyRuleset>,
    pub findings: Value,
}

/// Batches of chains rendered ahead of the one being written, per worker.
const AHEAD: usize = 4;
/// Chains are rendered in batches of at least this many rules (kube-proxy's are mostly of 1–3
/// rules: one hand-over per chain would cost more than the chain).
const BATCH_RULES: usize = 256;
/// A chain of more rules is written as it is made (by the writing thread), not held: kube-proxy's
/// KUBE-SERVICES holds one rule per service, 40 MB of JSON at 10,000 services.
const INLINE_RULES: usize = 4 * BATCH_RULES;

impl Doc<'_> {
    /// Write the document to `w` as `serde_json::to_writer_pretty` prints it (no newline at
    /// the end). A table's chains are made on worker threads (one per core; the rules' texts,
    /// writers and compat dominate the cost) and written in order.
    pub fn write<W: Write>(&self, w: &mut W) -> io::Result<()> {
        w.write_all(b"{\n  \"schema_version\": ")?;
        ser_at(w, 1, &SCHEMA_VERSION)?;
        w.write_all(b",\n  \"nftables\": ")?;
        if self.nft {
            w.write_all(b"{\n    \"generation\": ")?;
            ser_at(w, 2, &self.rs.generation)?;
            w.write_all(b",\n    \"tables\": [")?;
            let names = crate::render::iptables::SetNames(&self.opts.ipsets);
            for (i, t) in self.rs.tables.iter().enumerate() {
                w.write_all(if i == 0 { b"\n" } else { b",\n" })?;
                indent(w, 3)?;
                self.write_table(w, t, &names)?;
            }
            if !self.rs.tables.is_empty() {
                w.write_all(b"\n")?;
                indent(w, 2)?;
            }
            w.write_all(b"]\n  }")?;
        } else {
            w.write_all(b"null")?;
        }
        if let Some(l) = self.legacy {
            w.write_all(b",\n  \"legacy\": ")?;
            ser_at(w, 1, l)?;
        }
        w.write_all(b",\n  \"findings\": ")?;
        ser_at(w, 1, &self.findings)?;
        w.write_all(b"\n}")
    }

    /// One table (an element of `tables`, at depth 3): its serde form with annotated chains
    /// and a `writers` tally.
    fn write_table<W: Write>(
        &self,
        w: &mut W,
        t: &crate::model::Table,
        names: &crate::render::iptables::SetNames<'_>,
    ) -> io::Result<()> {
        // The fields before `chains`, as an object whose closing line is cut off.
        let mut head = Vec::new();
        ser_at(
            &mut head,
            3,
            &TableHead {
                family: t.family,
                attrs: &t.attrs,
            },
        )?;
        let close = b"\n      }";
        if !head.ends_with(close) {
            return Err(io::Error::other("table head: not a JSON object"));
        }
        w.write_all(&head[..head.len() - close.len()])?;
        w.write_all(b",\n        \"chains\": [")?;
        let info = provenance::TableInfo::of(t);
        // Buffers written out, to fill again: fresh ones, grown while filled, cost a third more
        // (page faults and copies).
        let spare = Mutex::new(Vec::<Vec<u8>>::new());
        // A batch's text: each chain as an element of `chains` (depth 5), with its separator.
        // A batch's text, or `None` for a chain too large to hold: the writer makes it.
        let render = |b: &Batch| -> io::Result<(Option<Vec<u8>>, Tallied)> {
            if b.inline {
                return Ok((None, Tallied::new()));
            }
            let spared = spare.lock().unwrap_or_else(PoisonError::into_inner).pop();
            let mut buf = spared.unwrap_or_default();
            let tally = self.write_chains(&mut buf, t, &info, names, b.chains.clone())?;
            Ok((Some(buf), tally))
        };
        let mut writers = Tallied::new();
        let all = batches(&t.chains);
        let mut at = all.iter();
        in_order(&all, render, |(text, tally)| {
            let b = at
                .next()
                .ok_or_else(|| io::Error::other("batch out of order"))?;
            let tally = match text {
                Some(mut text) => {
                    w.write_all(&text)?;
                    text.clear();
                    spare
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(text);
                    tally
                }
                None => self.write_chains(w, t, &info, names, b.chains.clone())?,
            };
            for (k, n) in tally {
                *writers.entry(k).or_default() += n;
            }
            Ok(())
        })?;
        if !t.chains.is_empty() {
            w.write_all(b"\n")?;
            indent(w, 4)?;
        }
        w.write_all(b"]")?;
        // The fields after `chains`, as an object whose opening brace is cut off.
        let mut tail = Vec::new();
        ser_at(
            &mut tail,
            3,
            &TableTail {
                sets: &t.sets,
                objects: &t.objects,
                flowtables: &t.flowtables,
                writers: &writers,
            },
        )?;
        match tail.strip_prefix(b"{") {
            Some(rest) => {
                w.write_all(b",")?;
                w.write_all(rest)
            }
            None => Err(io::Error::other("table tail: not a JSON object")),
        }
    }
}

impl Doc<'_> {
    /// `t`'s chains in `range`, each as an element of `chains` (depth 5) with its separator;
    /// returns their rules per writer.
    fn write_chains<W: Write>(
        &self,
        w: &mut W,
        t: &crate::model::Table,
        info: &provenance::TableInfo,
        names: &crate::render::iptables::SetNames<'_>,
        range: std::ops::Range<usize>,
    ) -> io::Result<Tallied> {
        let mut all = Tallied::new();
        for (i, c) in t
            .chains
            .iter()
            .enumerate()
            .take(range.end)
            .skip(range.start)
        {
            w.write_all(if i == 0 { b"\n" } else { b",\n" })?;
            indent(w, 5)?;
            let tally = Writers::default();
            let doc = ChainDoc {
                t,
                c,
                info,
                opts: self.opts,
                names,
                tally: &tally,
            };
            ser_at(w, 5, &doc)?;
            for (k, n) in tally.into_inner() {
                *all.entry(k).or_default() += n;
            }
        }
        Ok(all)
    }
}

/// Consecutive chains rendered by one worker.
struct Batch {
    chains: std::ops::Range<usize>,
    /// One chain of more than [`INLINE_RULES`] rules: written as it is made, by the writer.
    inline: bool,
}

/// `chains` cut into consecutive runs of at least [`BATCH_RULES`] rules (the last may hold
/// fewer), a chain of more than [`INLINE_RULES`] alone.
fn batches(chains: &[crate::model::Chain]) -> Vec<Batch> {
    let mut out = Vec::new();
    let (mut start, mut rules) = (0, 0);
    for (i, c) in chains.iter().enumerate() {
        if c.rules.len() > INLINE_RULES {
            if start < i {
                out.push(Batch {
                    chains: start..i,
                    inline: false,
                });
            }
            out.push(Batch {
                chains: i..i + 1,
                inline: true,
            });
            (start, rules) = (i + 1, 0);
            continue;
        }
        rules += c.rules.len();
        if rules >= BATCH_RULES {
            out.push(Batch {
                chains: start..i + 1,
                inline: false,
            });
            (start, rules) = (i + 1, 0);
        }
    }
    if start < chains.len() {
        out.push(Batch {
            chains: start..chains.len(),
            inline: false,
        });
    }
    out
}

/// `f(make(item))` for each item in order, `make` running on worker threads (one per core, at
/// most [`AHEAD`] items ahead of `f` each).
fn in_order<T: Sync, R: Send>(
    items: &[T],
    make: impl Fn(&T) -> io::Result<R> + Sync,
    mut f: impl FnMut(R) -> io::Result<()>,
) -> io::Result<()> {
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(items.len());
    if workers < 2 {
        for x in items {
            f(make(x)?)?;
        }
        return Ok(());
    }
    use std::sync::mpsc;
    // The next item to take, and which worker took each item, in order.
    let (order_tx, order) = mpsc::channel::<usize>();
    let next = Mutex::new((0usize, order_tx));
    let take = |k: usize| -> Option<usize> {
        let mut g = next.lock().unwrap_or_else(PoisonError::into_inner);
        let i = g.0;
        if i >= items.len() || g.1.send(k).is_err() {
            return None;
        }
        g.0 += 1;
        Some(i)
    };
    std::thread::scope(|sc| {
        let mut outs = Vec::with_capacity(workers);
        for k in 0..workers {
            let (tx, rx) = mpsc::sync_channel::<io::Result<R>>(AHEAD);
            outs.push(rx);
            let (take, make) = (&take, &make);
            sc.spawn(move || {
                while let Some(i) = take(k) {
                    let Some(x) = items.get(i) else { break };
                    if tx.send(make(x)).is_err() {
                        break;
                    }
                }
            });
        }
        let mut written = || -> io::Result<()> {
            for _ in 0..items.len() {
                let k = order.recv().map_err(io::Error::other)?;
                let out = outs
                    .get(k)
                    .ok_or_else(|| io::Error::other("no such worker"))?;
                f(out.recv().map_err(io::Error::other)??)?;
            }
            Ok(())
        };
        let r = written();
        if r.is_err() {
            // Stop the workers: nothing more is taken, and what they hold is not received.
            next.lock().unwrap_or_else(PoisonError::into_inner).0 = items.len();
            drop(outs);
        }
        r
    })
}

/// `value` as serde_json's pretty printer writes it at nesting `depth` (its lines indented as
/// they are inside the document).
fn ser_at<W: Write, T: Serialize + ?Sized>(w: &mut W, depth: usize, value: &T) -> io::Result<()> {
    let mut f = PrettyFormatter::new();
    for _ in 0..depth {
        f.begin_array(&mut io::sink())?;
    }
    value
        .serialize(&mut serde_json::Serializer::with_formatter(w, f))
        .map_err(io::Error::from)
}

/// serde_json's pretty indentation: two spaces per level.
fn indent<W: Write>(w: &mut W, depth: usize) -> io::Result<()> {
    for _ in 0..depth {
        w.write_all(b"  ")?;
    }
    Ok(())
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

/// Rules per writer summary, filled while a chain's rules are serialized and serialized after
/// them.
type Writers = RefCell<Tallied>;
type Tallied = BTreeMap<String, u64>;

/// A [`Writers`] tally as its JSON object, read when it is serialized.
struct Tally<'a>(&'a Writers);

impl Serialize for Tally<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.borrow().serialize(s)
    }
}

/// [`crate::model::Table`]'s serde form before its chains.
#[derive(Serialize)]
struct TableHead<'a> {
    family: Family,
    #[serde(flatten)]
    attrs: &'a nfscope_wire::nft::Table,
}

/// [`crate::model::Table`]'s serde form after its chains, with the `writers` tally.
#[derive(Serialize)]
struct TableTail<'a> {
    sets: &'a [crate::model::Set],
    objects: &'a [crate::model::Obj],
    flowtables: &'a [nfscope_wire::nft::Flowtable],
    writers: &'a Tallied,
}

struct ChainDoc<'a> {
    t: &'a crate::model::Table,
    c: &'a crate::model::Chain,
    info: &'a provenance::TableInfo,
    opts: &'a NftOptions,
    names: &'a crate::render::iptables::SetNames<'a>,
    /// The chain's rules per writer, filled while they are serialized.
    tally: &'a Writers,
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
        let rules = Seq(c.rules.iter().map(|r| {
            let doc = rule_doc(t, c, r, self.info, self.opts, self.names);
            *self
                .tally
                .borrow_mut()
                .entry(doc.writer.summary())
                .or_default() += 1;
            doc
        }));
        ChainFields {
            attrs: &c.attrs,
            rules,
            writers: Tally(self.tally),
        }
        .serialize(s)
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{Chain, Rules, Table};
    use nfscope_wire::nft;

    /// The document as serde's own nested pretty printing writes it (what `Doc` was before it
    /// wrote its outer levels by hand and its chains on worker threads).
    fn nested(rs: &Ruleset, opts: &NftOptions) -> String {
        #[derive(Serialize)]
        struct TableFields<'a> {
            family: Family,
            #[serde(flatten)]
            attrs: &'a nft::Table,
            chains: Vec<ChainDoc<'a>>,
            sets: &'a [crate::model::Set],
            objects: &'a [crate::model::Obj],
            flowtables: &'a [nft::Flowtable],
            writers: Tallied,
        }
        let names = crate::render::iptables::SetNames(&opts.ipsets);
        let infos: Vec<_> = rs.tables.iter().map(provenance::TableInfo::of).collect();
        let tallies: Vec<Vec<Writers>> = rs
            .tables
            .iter()
            .map(|t| t.chains.iter().map(|_| Writers::default()).collect())
            .collect();
        let tables: Vec<TableFields<'_>> = rs
            .tables
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let chains: Vec<ChainDoc<'_>> = t
                    .chains
                    .iter()
                    .zip(&tallies[i])
                    .map(|(c, tally)| ChainDoc {
                        t,
                        c,
                        info: &infos[i],
                        opts,
                        names: &names,
                        tally,
                    })
                    .collect();
                // The table's tally: its chains', known once they are serialized.
                let mut writers = Tallied::new();
                for c in &chains {
                    serde_json::to_vec(c).unwrap();
                }
                for tally in &tallies[i] {
                    for (k, n) in tally.borrow().iter() {
                        *writers.entry(k.clone()).or_default() += n;
                    }
                    tally.borrow_mut().clear();
                }
                TableFields {
                    family: t.family,
                    attrs: &t.attrs,
                    chains,
                    sets: &t.sets,
                    objects: &t.objects,
                    flowtables: &t.flowtables,
                    writers,
                }
            })
            .collect();
        #[derive(Serialize)]
        struct Nftables<'a> {
            generation: u32,
            tables: Vec<TableFields<'a>>,
        }
        #[derive(Serialize)]
        struct Whole<'a> {
            schema_version: u32,
            nftables: Nftables<'a>,
            findings: Value,
        }
        serde_json::to_string_pretty(&Whole {
            schema_version: SCHEMA_VERSION,
            nftables: Nftables {
                generation: rs.generation,
                tables,
            },
            findings: Value::Null,
        })
        .unwrap()
    }

    fn table(name: &str, chains: &[usize]) -> Table {
        let chains = chains
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let chain = format!("c{i}");
                let mut rules = Rules::new();
                for h in 0..n {
                    rules.push(&nft::Rule {
                        table: Some(name.into()),
                        chain: Some(chain.clone()),
                        handle: Some(h as u64 + 1),
                        expressions: Some(vec![]),
                        ..Default::default()
                    });
                }
                Chain {
                    attrs: nft::Chain {
                        table: Some(name.into()),
                        name: Some(chain),
                        handle: Some(i as u64 + 1),
                        ..Default::default()
                    },
                    rules,
                }
            })
            .collect();
        Table {
            family: Family::Ip,
            attrs: nft::Table {
                name: Some(name.into()),
                ..Default::default()
            },
            chains,
            sets: vec![],
            objects: vec![],
            flowtables: vec![],
        }
    }

    #[test]
    fn written_as_serde_prints_it_nested() {
        let opts = NftOptions::default();
        // No table; a table without chains; chains without rules; batches of chains on the
        // workers (600 chains of 1 rule: 3 batches) and a chain written inline (1,100 rules).
        let mut big = vec![1; 600];
        big.insert(300, INLINE_RULES + 76);
        for tables in [
            vec![],
            vec![table("filter", &[])],
            vec![table("filter", &[0, 0]), table("nat", &big)],
        ] {
            let rs = Ruleset {
                generation: 7,
                tables,
            };
            let doc = Doc {
                rs: &rs,
                opts: &opts,
                nft: true,
                legacy: None,
                findings: Value::Null,
            };
            let mut text = Vec::new();
            doc.write(&mut text).unwrap();
            let text = String::from_utf8(text).unwrap();
            let want = nested(&rs, &opts);
            assert!(
                text == want,
                "differs at byte {:?}",
                text.bytes().zip(want.bytes()).position(|(a, b)| a != b)
            );
        }
    }
}
