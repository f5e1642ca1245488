//! Who gave each rule that is there now its current form: the rules of a snapshot, each with the
//! last history record that added or replaced it (like `git blame`), and the writer band its
//! encoding shows.
//!
//! Identity: an nf_tables rule is (family, table, chain, handle); a replaced rule (same handle,
//! new content) takes the replacing record. A table removed or added starts its rules' story
//! afresh (handles restart with the table). Legacy x_tables rules have no handles: one is known
//! by its save line in its chain, and takes the last record that added or replaced a rule with
//! that line there (equal lines take the records in order). A rule no record accounts for was
//! there before the history began.

use crate::events::Record;
use crate::history::Stored;
use crate::iptnft::{self, Reader};
use crate::legacy::LegacyRuleset;
use crate::model::Ruleset;
use crate::output::DumpFormat as Format;
use crate::provenance::{self, Writer};
use crate::render::nft::{self as nftr, NftOptions};
use nfscope_wire::nft::Family;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One rule that exists now, and what gave it its current form.
#[derive(Debug, Clone, Serialize)]
pub struct Blamed {
    /// `nftables` or `legacy`.
    pub backend: &'static str,
    pub family: String,
    pub table: String,
    pub chain: String,
    /// The kernel's handle (nf_tables only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handle: Option<u64>,
    /// Position in its chain (0-based).
    pub index: usize,
    /// nft text (nf_tables only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nft: Option<String>,
    /// iptables-save line (ip/ip6 nf_tables rules iptables can read, and legacy rules).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iptables: Option<String>,
    /// The writer band the encoding shows.
    pub writer: Writer,
    /// The record that gave the rule its current form; `None`: it was there before the history
    /// began.
    pub change: Option<Stored>,
}

/// Rule identity in the history.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub(crate) enum Key {
    Nft(String, String, String, u64),
    /// (family, table, chain, save line)
    Legacy(String, String, String, String),
}

/// What the history says of rules, read record by record, oldest first: for each key, the ids
/// of the records that gave its rules their form, oldest first (legacy keys can hold several
/// equal rules). Read from the whole history when nothing better is stored; kept per legacy
/// family in the history's state (`crate::gap`), so blame need not read the history.
#[derive(Default, Clone, Serialize, Deserialize)]
#[serde(from = "Vec<(Key, Vec<u64>)>", into = "Vec<(Key, Vec<u64>)>")]
pub(crate) struct Story {
    by_key: HashMap<Key, Vec<u64>>,
}

impl From<Vec<(Key, Vec<u64>)>> for Story {
    fn from(v: Vec<(Key, Vec<u64>)>) -> Story {
        Story {
            by_key: v.into_iter().collect(),
        }
    }
}

impl From<Story> for Vec<(Key, Vec<u64>)> {
    fn from(s: Story) -> Self {
        let mut v: Vec<_> = s.by_key.into_iter().collect();
        v.sort_by(|a, b| a.0.cmp_text(&b.0));
        v
    }
}

impl Key {
    /// A stable order for storing (the keys' fields in order).
    fn cmp_text(&self, o: &Key) -> std::cmp::Ordering {
        let t = |k: &Key| match k {
            Key::Nft(f, t, c, h) => (0, f.clone(), t.clone(), c.clone(), h.to_string()),
            Key::Legacy(f, t, c, l) => (1, f.clone(), t.clone(), c.clone(), l.clone()),
        };
        t(self).cmp(&t(o))
    }
}

impl Story {
    #[cfg(test)]
    fn read<'a>(
        records: impl IntoIterator<Item = (u64, &'a Record)>,
        wanted: &HashMap<Key, usize>,
    ) -> Story {
        let mut st = Story::default();
        for (id, r) in records {
            st.add(r, id, Some(wanted));
        }
        st
    }

    /// Record `r` (whose id is `id`). With `wanted` (the keys of the rules now), only those
    /// keys are kept.
    pub(crate) fn add(&mut self, r: &Record, id: u64, wanted: Option<&HashMap<Key, usize>>) {
        let by_key = &mut self.by_key;
        match r.kind.as_str() {
            "table_removed" | "table_added" => {
                by_key.retain(|k, _| !in_table(k, &r.backend, &r.family, &r.table));
            }
            "chain_removed" | "chain_added" if r.backend == "legacy" => {
                let chain = r.chain.as_deref().unwrap_or("");
                by_key.retain(|k, _| {
                    !matches!(k, Key::Legacy(f, t, c, _) if *f == r.family && *t == r.table && c == chain)
                });
            }
            "rule_added" | "rule_replaced" => {
                if r.kind == "rule_replaced" {
                    if let Some(old) = key_of(r, false) {
                        drop_one(by_key, &old);
                    }
                }
                let Some(k) = key_of(r, true) else { return };
                if wanted.is_none_or(|w| w.contains_key(&k)) {
                    // Not cut to the count of such rules now: a later removal takes the
                    // oldest, and the newest are the rules' now.
                    by_key.entry(k).or_default().push(id);
                }
            }
            "rule_removed" => {
                if let Some(k) = key_of(r, true) {
                    drop_one(by_key, &k);
                }
            }
            _ => {}
        }
    }

    /// The record id for the `nth` rule (0-based, in chain order) of the `count` rules with key
    /// `k` now. Equal legacy rules take the newest records in order; the ones before the story
    /// began come first.
    fn of(&self, k: &Key, nth: usize, count: usize) -> Option<u64> {
        let v = self.by_key.get(k)?;
        (nth + v.len())
            .checked_sub(count)
            .and_then(|i| v.get(i))
            .copied()
    }
}

fn in_table(k: &Key, backend: &str, family: &str, table: &str) -> bool {
    match k {
        Key::Nft(f, t, _, _) => backend != "legacy" && f == family && t == table,
        Key::Legacy(f, t, _, _) => backend == "legacy" && f == family && t == table,
    }
}

/// Forget the oldest record of `k` (a rule with that identity went away).
fn drop_one(by_key: &mut HashMap<Key, Vec<u64>>, k: &Key) {
    if let Some(v) = by_key.get_mut(k) {
        if !v.is_empty() {
            v.remove(0);
        }
        if v.is_empty() {
            by_key.remove(k);
        }
    }
}

/// The identity of a record's rule: `after` (or `rule`) when `now`, else `before`.
fn key_of(r: &Record, now: bool) -> Option<Key> {
    let text = if now {
        r.after.as_ref().or(r.rule.as_ref())?
    } else {
        r.before.as_ref()?
    };
    let chain = r.chain.clone()?;
    if r.backend == "legacy" {
        let line = text.iptables.clone()?;
        Some(Key::Legacy(r.family.clone(), r.table.clone(), chain, line))
    } else {
        Some(Key::Nft(
            r.family.clone(),
            r.table.clone(),
            chain,
            text.handle?,
        ))
    }
}

/// Which rules to blame (`None`: all).
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub family: Option<Family>,
    pub table: Option<String>,
    pub chain: Option<String>,
}

/// `nfscope blame`, in embedded mode and in the daemon alike: the rules of `rs` and `legacy`
/// within `scope`, each with the record of `history` that gave it its current form, in
/// `format`, handed to `emit` one chain at a time. The pieces' concatenation is the whole
/// output (the JSON array's brackets included), so the daemon streams them and a client prints
/// them as they come, byte for byte what embedded mode prints. `Nft`: each rule's nft text
/// (legacy rules, which have none, their save line) followed by what gave it its form;
/// `IptablesSave`: the same with iptables-save lines (rules iptables cannot read as nft text);
/// `Json`: an array of [`Blamed`] (schema in docs/json-schema.md).
///
/// A history nfscoped keeps knows, in its stored state, the record of every rule (gap.rs
/// keeps it with each batch), so blame reads one record per rule, whatever the history's
/// length. A history without that state (or with records from before it) is read whole first.
/// The history is read in one read transaction (the writer goes on meanwhile), and only one
/// chain's rules and records are held at a time.
pub fn run(
    rs: &Ruleset,
    legacy: Option<&LegacyRuleset>,
    opts: &NftOptions,
    history: &crate::history::Reader,
    scope: &Scope,
    format: Format,
    mut emit: impl FnMut(String) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let view = history.view()?;
    let units = units(rs, legacy, scope);
    let source = Source::of(&view, &units, opts)?;
    in_order(
        &units,
        |i| blame_unit(&view, &source, &units[i], opts, format, i == 0),
        &mut emit,
    )?;
    if format == Format::Json {
        emit(if units.is_empty() { "[]\n" } else { "\n]\n" }.to_string())?;
    }
    Ok(())
}

/// [`run`] on a snapshot of its own, taken in `netns` (`None`: this one) with `snap`, and the
/// legacy rules `legacy`: each nf_tables chain is rendered, attributed and blamed while the
/// snapshot reads the next (as `dump` renders), so no rule is kept, and the text is handed to
/// `emit` when the snapshot is complete (a snapshot torn by a change is read again). This needs
/// the history's stored state; without it, and for JSON (whose text is too large to hold until
/// the snapshot ends), a full snapshot is taken and [`run`] called.
pub fn run_live(
    netns: Option<&str>,
    snap: &crate::snapshot::Options,
    legacy: Option<&LegacyRuleset>,
    history: &crate::history::Reader,
    scope: &Scope,
    format: Format,
    mut emit: impl FnMut(String) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let view = history.view()?;
    if format == Format::Json || !Source::stored(&view)? {
        let rs = crate::netns::run_in_opt(netns, || crate::snapshot::take(snap))?.0;
        let opts = crate::output::nft_options_for(netns, &rs)?;
        return run(&rs, legacy, &opts, history, scope, format, emit);
    }
    // Every chain's record ids in one walk of the id index, beside the snapshot's listing (one
    // walk is cheaper than a descent per chain: kube-proxy has thousands of 1–3-rule chains).
    let ids = AllIds::default();
    let (st, opts) = std::thread::scope(|s| {
        s.spawn(|| {
            let all = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                crate::gap::all_record_ids(&view)
            }))
            .unwrap_or_else(|_| Err(anyhow::anyhow!("reading the record ids failed (panic)")));
            ids.set(all);
        });
        crate::netns::run_in_opt(netns, || live_snapshot(&view, &ids, snap, scope, format))
    })?;
    let source = Source::Stored(HashMap::new());
    for (t, outs) in st.ruleset.tables.iter().zip(st.chains) {
        let has_xt =
            outs.iter().flatten().any(|o| o.xt) || t.chains.iter().any(|c| c.rules.use_xt());
        let info = provenance::TableInfo::new(has_xt, provenance::TableInfo::shaped(t));
        for (c, out) in t.chains.iter().zip(outs) {
            let text = match out {
                Some(ChainOut { err: Some(e), .. }) => return Err(e),
                Some(o) => match o.other_text {
                    Some(other) if has_xt => other,
                    _ => o.text,
                },
                // Kept in the model (binding chains).
                None if !c.rules.is_empty()
                    && scope.wants(t.family.name().as_str(), t.name(), c.name()) =>
                {
                    let unit = Unit::Nft {
                        table: t,
                        chain: c,
                        info,
                    };
                    blame_unit(&view, &source, &unit, &opts, format, false)?
                }
                None => continue,
            };
            if !text.is_empty() {
                emit(text)?;
            }
        }
    }
    let no_nft = Ruleset::default();
    let units = units(&no_nft, legacy, scope);
    let source = Source::of(&view, &units, &opts)?;
    in_order(
        &units,
        |i| blame_unit(&view, &source, &units[i], &opts, format, false),
        &mut emit,
    )
}

/// (handle, record id) pairs by chain ([`crate::gap::chain_ids_key`]).
type IdsByChain = HashMap<String, Vec<(u64, u64)>>;

/// Every chain's record ids (see [`crate::gap::all_record_ids`]), read beside the snapshot:
/// set once, waited for by the snapshot's workers.
#[derive(Default)]
struct AllIds {
    ids: std::sync::OnceLock<anyhow::Result<IdsByChain>>,
    lock: std::sync::Mutex<()>,
    ready: std::sync::Condvar,
}

impl AllIds {
    fn set(&self, ids: anyhow::Result<IdsByChain>) {
        let _ = self.ids.set(ids);
        let _g = self.lock.lock();
        self.ready.notify_all();
    }

    fn wait(&self) -> &anyhow::Result<IdsByChain> {
        loop {
            if let Some(ids) = self.ids.get() {
                return ids;
            }
            let g = self.lock.lock().unwrap_or_else(|p| p.into_inner());
            // Checked under the lock `set` notifies under: no wake-up is missed.
            let _g = self
                .ready
                .wait_while(g, |_| self.ids.get().is_none())
                .unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// [`run_live`]'s streamed snapshot, in the calling thread's namespace, and the rendering
/// options read there.
fn live_snapshot(
    view: &crate::history::View,
    ids: &AllIds,
    snap: &crate::snapshot::Options,
    scope: &Scope,
    format: Format,
) -> crate::Result<(crate::snapshot::Streamed<ChainOut>, NftOptions)> {
    let stream = Stream {
        view,
        ids,
        opts: NftOptions::local(),
        ipsets: std::sync::OnceLock::new(),
        need: Need::of(format),
        format,
        scope,
    };
    let mut sockets = crate::snapshot::open_sockets(snap)?;
    let st = crate::snapshot::take_streamed(&mut sockets, snap, &stream)?;
    let Stream {
        mut opts, ipsets, ..
    } = stream;
    opts.ipsets = match ipsets.into_inner() {
        Some(names) => names,
        // Rules kept in the model (binding chains') that name ipsets.
        None if st.ruleset.uses_ipsets() => crate::legacy::ipset_names(),
        None => opts.ipsets,
    };
    Ok((st, opts))
}

/// The blame text of one unit (see [`run`]); `first`: the first of the output.
fn blame_unit(
    view: &crate::history::View,
    source: &Source,
    unit: &Unit,
    opts: &NftOptions,
    format: Format,
    first: bool,
) -> anyhow::Result<String> {
    let names = crate::render::iptables::SetNames(&opts.ipsets);
    let mut rules = unit.rules(opts, &names, Need::of(format));
    attach(view, source, &mut rules, format)?;
    Ok(chunk(&rules, format, first))
}

/// Give each of `rules` (of one chain) the record that gave it its form.
fn attach(
    view: &crate::history::View,
    source: &Source,
    rules: &mut [Blamed],
    format: Format,
) -> anyhow::Result<()> {
    let ids = source.chain_ids(view, rules)?;
    attach_ids(view, rules, ids, format)
}

/// Give each of `rules` the record with its id in `ids`.
fn attach_ids(
    view: &crate::history::View,
    rules: &mut [Blamed],
    ids: Vec<Option<u64>>,
    format: Format,
) -> anyhow::Result<()> {
    let wanted: Vec<u64> = ids.iter().flatten().copied().collect();
    // The text formats print who and when, not the record's own texts.
    let mut records = match format {
        Format::Json => view.get(&wanted)?,
        Format::Nft | Format::IptablesSave => view.get_brief(&wanted)?,
    };
    for (b, id) in rules.iter_mut().zip(ids) {
        b.change = id.and_then(|id| records.remove(&id));
    }
    Ok(())
}

/// What [`run_live`]'s snapshot hands each chain to.
struct Stream<'v> {
    view: &'v crate::history::View,
    ids: &'v AllIds,
    opts: NftOptions,
    /// ipset names, read in the snapshot's namespace when a rule first needs them.
    ipsets: std::sync::OnceLock<std::collections::BTreeMap<u16, String>>,
    need: Need,
    format: Format,
    scope: &'v Scope,
}

/// One chain of [`run_live`]'s snapshot, blamed.
struct ChainOut {
    /// The chain's rules while it is read (emptied when it is blamed).
    rules: Vec<Blamed>,
    /// Rules whose writer differs if the table holds an xt expression (not known until every
    /// chain is read): (index, that writer).
    others: Vec<(usize, Writer)>,
    /// A rule holds an xt expression.
    xt: bool,
    /// The chain's blame text, as if its table held no xt expression.
    text: String,
    /// ... and as if it did, when that differs.
    other_text: Option<String>,
    err: Option<anyhow::Error>,
}

struct Sink<'t> {
    tables: &'t [crate::model::Table],
    index: Vec<crate::render::nft::fold::SetIndex<'t>>,
    /// [`provenance::TableInfo::shaped`] of each table.
    shaped: Vec<bool>,
    stream: &'t Stream<'t>,
}

impl crate::snapshot::Prepare<ChainOut> for Stream<'_> {
    fn prepare<'t>(
        &'t self,
        tables: &'t [crate::model::Table],
    ) -> Box<dyn crate::snapshot::ChainRules<ChainOut> + 't> {
        Box::new(Sink {
            tables,
            index: tables
                .iter()
                .map(crate::render::nft::fold::set_index)
                .collect(),
            shaped: tables.iter().map(provenance::TableInfo::shaped).collect(),
            stream: self,
        })
    }
}

impl crate::snapshot::ChainRules<ChainOut> for Sink<'_> {
    fn wants(&self, table: usize, chain: usize) -> bool {
        let t = &self.tables[table];
        self.stream
            .scope
            .wants(t.family.name().as_str(), t.name(), t.chains[chain].name())
    }

    fn start(&self, _table: usize, _chain: usize) -> ChainOut {
        ChainOut {
            rules: Vec::new(),
            others: Vec::new(),
            xt: false,
            text: String::new(),
            other_text: None,
            err: None,
        }
    }

    fn rule(
        &self,
        out: &mut ChainOut,
        table: usize,
        chain: usize,
        attrs: &[u8],
    ) -> crate::Result<()> {
        use crate::render::nft::{datatype, fold};
        let (t, s) = (&self.tables[table], self.stream);
        let c = &t.chains[chain];
        let r = nfscope_wire::nft::Rule::parse_in_chain(attrs)
            .map_err(|e| crate::Error::decode(crate::snapshot::rules_op(t, c), e))?;
        let xt = nfscope_wire::nft::Rule::xt_use(attrs);
        out.xt |= xt.xt;
        let ipsets = || {
            if s.opts.ipsets.is_empty() && xt.ipsets {
                s.ipsets.get_or_init(crate::legacy::ipset_names)
            } else {
                &s.opts.ipsets
            }
        };
        let ip = matches!(t.family, Family::Ip | Family::Ip6);
        let iptables = (ip && s.need.iptables)
            .then(|| {
                let names = crate::render::iptables::SetNames(ipsets());
                iptnft::translate_with(t, c, &r, Reader::TEXT, &names)
            })
            .filter(|l| l.refused.is_none())
            .map(|l| l.line());
        let nft = (s.need.nft || (s.need.iptables && iptables.is_none())).then(|| {
            let mut text = String::new();
            datatype::with_ifnames(&s.opts.ifnames, || {
                fold::rule_text_into(
                    &mut text,
                    t,
                    Some(&self.index[table]),
                    &r,
                    0,
                    s.opts.xt,
                    Some(ipsets()),
                )
            });
            text
        });
        let (writer, other) = provenance::of_rule_either(self.shaped[table], t, c, &r);
        if let Some(w) = other {
            out.others.push((out.rules.len(), w));
        }
        out.rules.push(Blamed {
            backend: "nftables",
            family: t.family.name(),
            table: t.name().to_string(),
            chain: c.name().to_string(),
            handle: r.handle,
            index: out.rules.len(),
            nft,
            iptables,
            writer,
            change: None,
        });
        Ok(())
    }

    fn finish(&self, out: &mut ChainOut, _table: usize, _chain: usize) {
        let mut rules = std::mem::take(&mut out.rules);
        if rules.is_empty() {
            return;
        }
        let format = self.stream.format;
        let all = match self.stream.ids.wait() {
            Ok(all) => all,
            Err(e) => {
                out.err = Some(anyhow::anyhow!("{e:#}"));
                return;
            }
        };
        let b = &rules[0];
        let chain = all.get(&crate::gap::chain_ids_key(&b.family, &b.table, &b.chain));
        let ids = rules
            .iter()
            .map(|b| {
                let (h, chain) = (b.handle?, chain?);
                let i = chain.binary_search_by_key(&h, |(h, _)| *h).ok()?;
                Some(chain[i].1)
            })
            .collect();
        if let Err(e) = attach_ids(self.stream.view, &mut rules, ids, format) {
            out.err = Some(e);
            return;
        }
        out.text = chunk(&rules, format, false);
        if !out.others.is_empty() {
            for (i, w) in std::mem::take(&mut out.others) {
                rules[i].writer = w;
            }
            out.other_text = Some(chunk(&rules, format, false));
        }
    }
}

/// `one(i)` for every unit, on worker threads (one per core, at most 4, started once: a
/// thread's allocator heap is kept for the whole run), handed to `emit` in order. Units go to
/// the workers in batches of about [`BATCH_RULES`] rules (most chains hold one to three: one
/// hand-over each cost more than blaming them), and at most about [`WINDOW_RULES`] rules are
/// in the works at a time, so only that many are held.
fn in_order(
    units: &[Unit],
    one: impl Fn(usize) -> anyhow::Result<String> + Sync,
    mut emit: impl FnMut(String) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    use std::sync::mpsc;
    // Consecutive units, cut where a batch reaches BATCH_RULES rules.
    let mut batches: Vec<std::ops::Range<usize>> = Vec::new();
    let (mut start, mut rules) = (0, 0);
    for (i, u) in units.iter().enumerate() {
        rules += u.len();
        if rules >= BATCH_RULES || i + 1 == units.len() {
            batches.push(start..i + 1);
            (start, rules) = (i + 1, 0);
        }
    }
    let size = |b: &std::ops::Range<usize>| units[b.clone()].iter().map(Unit::len).sum::<usize>();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let (job_tx, job_rx) = mpsc::channel::<usize>();
    let job_rx = std::sync::Mutex::new(job_rx);
    type Done = Vec<anyhow::Result<String>>;
    std::thread::scope(|s| {
        // Dropped when this ends, early or not: the workers then stop.
        let job_tx = job_tx;
        let (res_tx, res_rx) = mpsc::channel::<(usize, Done)>();
        for _ in 0..workers {
            let (res_tx, job_rx, one, batches) = (res_tx.clone(), &job_rx, &one, &batches);
            s.spawn(move || loop {
                let job = match job_rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok(b) = job else { return };
                let mut done = Vec::with_capacity(batches[b].len());
                for i in batches[b].clone() {
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| one(i)))
                        .unwrap_or_else(|_| Err(anyhow::anyhow!("blaming a chain failed (panic)")));
                    let failed = r.is_err();
                    done.push(r);
                    if failed {
                        break;
                    }
                }
                if res_tx.send((b, done)).is_err() {
                    return;
                }
            });
        }
        drop(res_tx);
        let (mut next_job, mut next_emit, mut busy) = (0, 0, 0);
        let mut done = std::collections::BTreeMap::new();
        while next_emit < batches.len() {
            while next_job < batches.len()
                && (busy == 0 || busy + size(&batches[next_job]) <= WINDOW_RULES)
            {
                busy += size(&batches[next_job]);
                job_tx.send(next_job)?;
                next_job += 1;
            }
            let (b, r) = res_rx.recv()?;
            done.insert(b, r);
            while let Some(r) = done.remove(&next_emit) {
                busy -= size(&batches[next_emit]);
                for chain in r {
                    emit(chain?)?;
                }
                next_emit += 1;
            }
        }
        Ok(())
    })
}

/// Rules per batch of units handed to a worker (see [`in_order`]).
const BATCH_RULES: usize = 256;
/// Rules in the works at a time (see [`in_order`]).
const WINDOW_RULES: usize = 8192;

/// Where the record ids of rules come from.
enum Source {
    /// The history's stored state (per nf_tables chain; per legacy family, its story, read
    /// once).
    Stored(HashMap<String, Story>),
    /// The whole history, read once.
    Read(Story),
}

impl Source {
    /// Whether the history's stored state knows the record of every rule (see [`run`]).
    fn stored(view: &crate::history::View) -> anyhow::Result<bool> {
        Ok(match crate::gap::indexed_from(view)? {
            Some(from) => !view.any_before(from)?,
            None => false,
        })
    }

    /// Where the records of the rules of `units` come from: the stored state (with the stories
    /// of their legacy families), or else the whole history, read now.
    fn of(
        view: &crate::history::View,
        units: &[Unit],
        opts: &NftOptions,
    ) -> anyhow::Result<Source> {
        if Source::stored(view)? {
            let mut stories = HashMap::new();
            for u in units {
                if let Unit::Legacy { family, .. } = u {
                    if !stories.contains_key(*family) {
                        stories.insert(family.to_string(), crate::gap::legacy_story(view, family)?);
                    }
                }
            }
            return Ok(Source::Stored(stories));
        }
        let names = crate::render::iptables::SetNames(&opts.ipsets);
        let keys = units
            .iter()
            .flat_map(|u| u.rules(opts, &names, Need::KEYS))
            .map(|b| key_now(&b))
            .collect();
        Source::read(view, keys)
    }

    /// Read the whole history for the rules with these keys (one JSON parse per record).
    fn read(view: &crate::history::View, keys: Vec<Key>) -> anyhow::Result<Source> {
        let mut wanted: HashMap<Key, usize> = HashMap::new();
        for k in keys {
            *wanted.entry(k).or_default() += 1;
        }
        let mut story = Story::default();
        view.scan(|s| story.add(&s.record, s.id, Some(&wanted)))?;
        Ok(Source::Read(story))
    }

    /// The record id of each of `rules` (of one chain).
    fn chain_ids(
        &self,
        view: &crate::history::View,
        rules: &[Blamed],
    ) -> anyhow::Result<Vec<Option<u64>>> {
        let mut out = vec![None; rules.len()];
        let mut legacy: Vec<(usize, Key)> = Vec::new();
        // The ids of a chain's rules in one walk (rules of a unit are of one chain), a lone
        // rule's in one lookup.
        let mut walked: Option<Vec<(u64, u64)>> = None;
        for (i, b) in rules.iter().enumerate() {
            match (b.handle, self) {
                (Some(h), Source::Stored(_)) if b.backend == "nftables" && rules.len() > 1 => {
                    let ids = match &mut walked {
                        Some(ids) => ids,
                        None => walked.insert(crate::gap::chain_record_ids(
                            view, &b.family, &b.table, &b.chain,
                        )?),
                    };
                    out[i] = ids
                        .binary_search_by_key(&h, |(h, _)| *h)
                        .ok()
                        .map(|j| ids[j].1);
                }
                (Some(h), Source::Stored(_)) if b.backend == "nftables" => {
                    out[i] = crate::gap::rule_record(view, &b.family, &b.table, &b.chain, h)?;
                }
                _ => legacy.push((i, key_now(b))),
            }
        }
        // Equal keys take their records in order (nf_tables keys are unique: one each).
        let mut count: HashMap<&Key, usize> = HashMap::new();
        for (_, k) in &legacy {
            *count.entry(k).or_default() += 1;
        }
        let mut seen: HashMap<&Key, usize> = HashMap::new();
        for (i, k) in &legacy {
            let nth = seen.entry(k).or_default();
            let story = match self {
                Source::Stored(stories) => stories.get(rules[*i].family.as_str()),
                Source::Read(story) => Some(story),
            };
            out[*i] = story.and_then(|s| s.of(k, *nth, count[k]));
            *nth += 1;
        }
        Ok(out)
    }
}

/// Which texts of a rule to make.
#[derive(Clone, Copy)]
struct Need {
    nft: bool,
    iptables: bool,
}

impl Need {
    /// Only what identifies rules (handles, legacy save lines).
    const KEYS: Need = Need {
        nft: false,
        iptables: false,
    };

    fn of(format: Format) -> Need {
        match format {
            Format::Nft => Need {
                nft: true,
                iptables: false,
            },
            // nft text only for rules iptables cannot read.
            Format::IptablesSave => Need {
                nft: false,
                iptables: true,
            },
            Format::Json => Need {
                nft: true,
                iptables: true,
            },
        }
    }
}

/// One chain with rules, within the scope: its rules are made (rendered) when it is blamed.
enum Unit<'a> {
    Nft {
        table: &'a crate::model::Table,
        chain: &'a crate::model::Chain,
        info: provenance::TableInfo,
    },
    Legacy {
        family: &'static str,
        xt: nfscope_wire::xt::entry::Family,
        table: String,
        chain: String,
        lines: Vec<String>,
    },
}

impl Scope {
    /// Whether a chain is within the scope.
    fn wants(&self, family: &str, table: &str, chain: &str) -> bool {
        self.family.is_none_or(|f| family == f.name())
            && self.table.as_deref().is_none_or(|t| table == t)
            && self.chain.as_deref().is_none_or(|c| chain == c)
    }
}

/// The chains of `rs` and `legacy` within `scope` that have rules, in chain order.
fn units<'a>(rs: &'a Ruleset, legacy: Option<&LegacyRuleset>, scope: &Scope) -> Vec<Unit<'a>> {
    let wanted = |family: &str, table: &str, chain: &str| scope.wants(family, table, chain);
    let mut out = Vec::new();
    for t in &rs.tables {
        let family = t.family.name();
        let info = provenance::TableInfo::of(t);
        for c in &t.chains {
            if !c.rules.is_empty() && wanted(&family, t.name(), c.name()) {
                out.push(Unit::Nft {
                    table: t,
                    chain: c,
                    info,
                });
            }
        }
    }
    if let Some(l) = legacy {
        use nfscope_wire::xt::entry::Family as XtFamily;
        for xt in [XtFamily::Ipv4, XtFamily::Ipv6, XtFamily::Arp] {
            let family = match xt {
                XtFamily::Ipv4 => "ip",
                XtFamily::Ipv6 => "ip6",
                XtFamily::Arp => "arp",
            };
            for (table, chain, lines) in crate::events::legacy_chains(l, xt) {
                if !lines.is_empty() && wanted(family, &table, &chain) {
                    out.push(Unit::Legacy {
                        family,
                        xt,
                        table,
                        chain,
                        lines: lines.into_iter().map(|(line, _)| line).collect(),
                    });
                }
            }
        }
    }
    out
}

impl Unit<'_> {
    /// How many rules.
    fn len(&self) -> usize {
        match self {
            Unit::Nft { chain, .. } => chain.rules.len(),
            Unit::Legacy { lines, .. } => lines.len(),
        }
    }

    /// The chain's rules, not yet blamed, with the texts `need` asks for.
    fn rules(
        &self,
        opts: &NftOptions,
        names: &crate::render::iptables::SetNames,
        need: Need,
    ) -> Vec<Blamed> {
        match self {
            Unit::Nft { table, chain, info } => {
                let (t, c) = (*table, *chain);
                let ip = matches!(t.family, Family::Ip | Family::Ip6);
                let family = t.family.name();
                c.rules
                    .iter()
                    .enumerate()
                    .map(|(index, r)| {
                        let iptables = (ip && need.iptables)
                            .then(|| iptnft::translate_with(t, c, &r, Reader::TEXT, names))
                            .filter(|l| l.refused.is_none())
                            .map(|l| l.line());
                        let nft = (need.nft || (need.iptables && iptables.is_none()))
                            .then(|| nftr::rule(t, c, &r, opts));
                        Blamed {
                            backend: "nftables",
                            family: family.clone(),
                            table: t.name().to_string(),
                            chain: c.name().to_string(),
                            handle: r.handle,
                            index,
                            nft,
                            iptables,
                            writer: provenance::of_rule_in(info, t, c, &r),
                            change: None,
                        }
                    })
                    .collect()
            }
            Unit::Legacy {
                family,
                xt,
                table,
                chain,
                lines,
            } => lines
                .iter()
                .enumerate()
                .map(|(index, line)| Blamed {
                    backend: "legacy",
                    family: family.to_string(),
                    table: table.clone(),
                    chain: chain.clone(),
                    handle: None,
                    index,
                    nft: None,
                    iptables: Some(line.clone()),
                    writer: provenance::legacy(*xt),
                    change: None,
                })
                .collect(),
        }
    }
}

fn key_now(b: &Blamed) -> Key {
    match b.handle {
        Some(h) if b.backend == "nftables" => {
            Key::Nft(b.family.clone(), b.table.clone(), b.chain.clone(), h)
        }
        _ => Key::Legacy(
            b.family.clone(),
            b.table.clone(),
            b.chain.clone(),
            b.iptables.clone().unwrap_or_default(),
        ),
    }
}

/// The output for the rules of one chain (see [`run`]); `first`: the first chain of the output.
fn chunk(rules: &[Blamed], format: Format, first: bool) -> String {
    let mut s = String::new();
    for (i, b) in rules.iter().enumerate() {
        match format {
            Format::Json => {
                s.push_str(if first && i == 0 { "[\n" } else { ",\n" });
                let v = serde_json::to_string_pretty(b).unwrap_or_default();
                for (j, line) in v.lines().enumerate() {
                    if j > 0 {
                        s.push('\n');
                    }
                    s.push_str("  ");
                    s.push_str(line);
                }
            }
            Format::Nft | Format::IptablesSave => {
                if i == 0 {
                    for (j, x) in [b.backend, &b.family, &b.table, &b.chain]
                        .iter()
                        .enumerate()
                    {
                        s.push_str(if j == 0 { "# " } else { " " });
                        s.push_str(x);
                    }
                    s.push('\n');
                }
                let text = match format {
                    Format::IptablesSave => b.iptables.as_ref().or(b.nft.as_ref()),
                    _ => b.nft.as_ref().or(b.iptables.as_ref()),
                };
                s.push_str(text.map_or("", String::as_str));
                s.push_str("\n    ");
                origin(&mut s, b);
                s.push('\n');
            }
        }
    }
    s
}

/// One line: the change that gave `b` its form (or that it predates the history) and its
/// writer, appended to `s` (written in place: it is made once per rule).
fn origin(s: &mut String, b: &Blamed) {
    use std::fmt::Write;
    let writer = |s: &mut String| {
        s.push_str("writer ");
        let _ = b.writer.write_summary(s);
    };
    let Some(st) = &b.change else {
        s.push_str("before the history began; ");
        writer(s);
        return;
    };
    let r = &st.record;
    let tail = |s: &mut String| {
        if !r.lost.is_empty() {
            let _ = write!(s, "; lost: {}", r.lost.join(", "));
        }
        if let Some(a) = &r.alert {
            let _ = write!(s, "; alert {} ({})", a.kind, a.severity);
        }
        s.push_str("; ");
        writer(s);
    };
    if let Some(g) = &r.gap {
        let _ = write!(
            s,
            "{} while nfscoped was down (between {} and {}, {}): writer process not known [attribution none]",
            r.kind,
            crate::history::fmt_time(g.stopped_unix_ms),
            crate::history::fmt_time(g.started_unix_ms),
            crate::events::Gap::human_duration(g.down_ms),
        );
        tail(s);
        return;
    }
    let _ = write!(
        s,
        "{} {} by ",
        crate::history::fmt_time(st.time_unix_ms),
        r.kind
    );
    match &r.process {
        Some(p) => {
            let _ = write!(s, "{} (pid {}", p.comm, p.pid);
            if let Some(exe) = &p.exe {
                let _ = write!(s, ", {exe}");
            }
            if let Some(cmd) = p.cmdline.as_ref().filter(|c| !c.is_empty()) {
                s.push_str(", \"");
                for (i, a) in cmd.iter().enumerate() {
                    if i > 0 {
                        s.push(' ');
                    }
                    s.push_str(a);
                }
                s.push('"');
            }
            if let Some(c) = &p.container {
                let _ = write!(s, ", container {c}");
            }
            if let Some(pod) = &p.pod_uid {
                let _ = write!(s, ", pod {pod}");
            }
            s.push(')');
        }
        None => s.push_str("an unknown process"),
    }
    let attribution = if r.attribution.is_empty() {
        "none"
    } else {
        r.attribution.as_str()
    };
    let _ = write!(s, " [attribution {attribution}]");
    if r.resync {
        s.push_str(" (resync)");
    }
    tail(s);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Alert, RuleText};

    fn rec(id: u64, kind: &str, handle: Option<u64>, line: &str, legacy: bool) -> Stored {
        let text = RuleText {
            handle,
            index: None,
            nft: String::new(),
            iptables: Some(line.to_string()),
            parts: vec![],
            target: None,
            comment: None,
        };
        let mut r: Record = serde_json::from_value(serde_json::json!({
            "type": kind, "generation": id, "backend": if legacy { "legacy" } else { "nftables" },
            "family": "ip", "table": "filter", "chain": "INPUT",
        }))
        .expect("record");
        match kind {
            "rule_replaced" => r.after = Some(text),
            _ => r.rule = Some(text),
        }
        Stored {
            id,
            time_unix_ms: id as i64,
            record: r,
        }
    }

    #[test]
    fn the_last_change_of_each_identity_wins_and_removals_forget() {
        let k = Key::Nft("ip".into(), "filter".into(), "INPUT".into(), 5);
        let wanted = HashMap::from([(k.clone(), 1)]);
        let mut replaced = rec(3, "rule_replaced", Some(5), "-A INPUT -j DROP", false);
        replaced.record.alert = Some(Alert {
            kind: "match_removed".into(),
            severity: "severe".into(),
        });
        let recs = [
            rec(
                1,
                "rule_added",
                Some(5),
                "-A INPUT -m mark --mark 0x1 -j DROP",
                false,
            ),
            rec(2, "rule_added", Some(6), "-A INPUT -j ACCEPT", false),
            replaced,
        ];
        let s = Story::read(recs.iter().map(|s| (s.id, &s.record)), &wanted);
        assert_eq!(s.of(&k, 0, 1), Some(3));
        let recs = [
            rec(1, "rule_added", Some(5), "x", false),
            rec(2, "rule_removed", Some(5), "x", false),
        ];
        let s = Story::read(recs.iter().map(|s| (s.id, &s.record)), &wanted);
        assert_eq!(
            s.of(&k, 0, 1),
            None,
            "a removed rule's record is not the new one's"
        );
    }

    #[test]
    fn equal_legacy_rules_take_their_records_in_order() {
        let line = "-A INPUT -j ACCEPT";
        let k = Key::Legacy("ip".into(), "filter".into(), "INPUT".into(), line.into());
        // Three equal rules now; the history saw two of them added.
        let wanted = HashMap::from([(k.clone(), 3)]);
        let recs = [
            rec(7, "rule_added", None, line, true),
            rec(9, "rule_added", None, line, true),
        ];
        let s = Story::read(recs.iter().map(|s| (s.id, &s.record)), &wanted);
        assert_eq!(
            s.of(&k, 0, 3),
            None,
            "the first was there before the history"
        );
        assert_eq!(s.of(&k, 1, 3), Some(7));
        assert_eq!(s.of(&k, 2, 3), Some(9));
        // Kept in the stored state with no `wanted`: the newest records are the rules' now.
        let mut unbounded = Story::default();
        for r in &recs {
            unbounded.add(&r.record, r.id, None);
        }
        let back: Story =
            serde_json::from_slice(&serde_json::to_vec(&unbounded).expect("json")).expect("story");
        assert_eq!(
            back.of(&k, 0, 1),
            Some(9),
            "one such rule now: the newest record"
        );
    }

    #[test]
    fn the_stored_state_and_the_whole_history_agree() {
        use crate::history::History;
        let dir = std::env::temp_dir().join(format!("nfscope-blame-ut-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("h.redb");
        let mut h = History::open(&path, std::time::Duration::MAX, u64::MAX).expect("open history");
        let empty = Ruleset::default();
        crate::gap::on_start(&mut h, &empty, None).expect("first start");
        let (l, m) = ("-A INPUT -j ACCEPT", "-A INPUT -j DROP");
        let mut replaced = rec(0, "rule_replaced", Some(5), "-A INPUT -j DROP", false);
        replaced.record.before = replaced.record.after.clone();
        let batches = [
            vec![
                rec(0, "rule_added", Some(5), "x", false),
                rec(0, "rule_added", Some(6), "y", false),
                rec(0, "rule_added", None, l, true),
                rec(0, "rule_added", None, l, true),
            ],
            vec![replaced, rec(0, "rule_removed", None, l, true)],
            vec![
                rec(0, "rule_removed", Some(6), "y", false),
                rec(0, "rule_added", None, m, true),
            ],
        ];
        for b in batches {
            let b = b.into_iter().map(|s| s.record).collect::<Vec<_>>();
            let update = crate::gap::update_for(&b, &empty, None);
            h.append_with_state(b, &update).expect("append");
        }
        let w = provenance::legacy(nfscope_wire::xt::entry::Family::Ipv4);
        let mk = |backend: &'static str, handle: Option<u64>, line: &str| Blamed {
            backend,
            family: "ip".into(),
            table: "filter".into(),
            chain: "INPUT".into(),
            handle,
            index: 0,
            nft: None,
            iptables: Some(line.into()),
            writer: w.clone(),
            change: None,
        };
        let rules = vec![
            mk("nftables", Some(5), "-A INPUT -j DROP"),
            mk("nftables", Some(7), "z"),
            mk("legacy", None, l),
            mk("legacy", None, m),
            mk("legacy", None, "-A INPUT -j LOG"),
        ];
        let view = h.reader().view().expect("view");
        assert_eq!(crate::gap::indexed_from(&view).expect("state"), Some(1));
        let stored = Source::Stored(HashMap::from([(
            "ip".to_string(),
            crate::gap::legacy_story(&view, "ip").expect("story"),
        )]))
        .chain_ids(&view, &rules)
        .expect("stored");
        let read = Source::read(&view, rules.iter().map(key_now).collect())
            .and_then(|s| s.chain_ids(&view, &rules))
            .expect("read");
        // Ids: batch 1 is 1..=4, batch 2 is 5..=6, batch 3 is 7..=8.
        assert_eq!(stored, vec![Some(5), None, Some(4), Some(8), None]);
        assert_eq!(
            stored, read,
            "the stored state says what reading the history says"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// What [`run`] emits for `rules`, chain by chain.
    fn chunks(rules: &[Blamed], format: Format) -> Vec<String> {
        let chain_of = |b: &Blamed| {
            (
                b.backend,
                b.family.clone(),
                b.table.clone(),
                b.chain.clone(),
            )
        };
        let mut out: Vec<String> = Vec::new();
        let mut start = 0;
        while start < rules.len() {
            let here = chain_of(&rules[start]);
            let n = rules[start..]
                .iter()
                .take_while(|b| chain_of(b) == here)
                .count();
            out.push(chunk(&rules[start..start + n], format, start == 0));
            start += n;
        }
        if format == Format::Json {
            match out.last_mut() {
                Some(last) => last.push_str("\n]\n"),
                None => out.push("[]\n".to_string()),
            }
        }
        out
    }

    #[test]
    fn json_chunks_make_the_pretty_array() {
        let w = provenance::legacy(nfscope_wire::xt::entry::Family::Ipv4);
        let mk = |chain: &str, i: usize| Blamed {
            backend: "legacy",
            family: "ip".into(),
            table: "filter".into(),
            chain: chain.into(),
            handle: None,
            index: i,
            nft: None,
            iptables: Some(format!("-A {chain} -j ACCEPT")),
            writer: w.clone(),
            change: None,
        };
        let rules = vec![mk("INPUT", 0), mk("INPUT", 1), mk("FORWARD", 0)];
        let parts = chunks(&rules, Format::Json);
        assert_eq!(parts.len(), 2, "one piece per chain");
        let want = serde_json::to_string_pretty(&rules).expect("json") + "\n";
        assert_eq!(parts.concat(), want);
        assert_eq!(chunks(&[], Format::Json).concat(), "[]\n");
        let text = chunks(&rules, Format::IptablesSave).concat();
        assert!(text.starts_with("# legacy ip filter INPUT\n-A INPUT -j ACCEPT\n    before the history began; writer iptables-legacy (certain)\n"), "{text}");
    }
}
