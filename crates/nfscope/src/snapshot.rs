//! A consistent snapshot of everything nf_tables holds.
//!
//! Sequence: GETGEN → GETTABLE → GETCHAIN → GETSET → GETOBJ → GETFLOWTABLE (whole-ruleset
//! dumps, cheap) → GETSETELEM per set and GETRULE **per chain** → GETGEN. A single
//! whole-ruleset GETRULE dump makes the kernel re-walk the rule list from the start for every
//! 32 KiB reply (quadratic); per chain it is linear. The per-set / per-chain dumps run on
//! [`Options::workers`] sockets in parallel (one thread each, dynamic work queue).
//!
//! Consistency: the generation must be equal before and after, every reply's nfgenmsg
//! `res_id` must carry that generation's low 16 bits, and no reply may have
//! `NLM_F_DUMP_INTR`. A chain or set that vanished in between (ENOENT) also means the ruleset
//! changed. Any of these → start again, at most [`Options::max_attempts`] times; a torn view is
//! never returned.

use crate::error::{Error, Result};
use crate::model::{Chain, Obj, Rules, Ruleset, Set, Table};
use crate::sock::{DumpInfo, IoStats, NfSocket};
use nfscope_wire::nft::{self, msg, Family};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What to read and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// Only this family.
    pub family: Option<Family>,
    /// Only tables of this name.
    pub table: Option<String>,
    /// Only chains of this name (rules of other chains are not dumped).
    pub chain: Option<String>,
    /// Sockets used for the per-chain and per-set dumps.
    pub workers: usize,
    pub max_attempts: u32,
}

impl Default for Options {
    fn default() -> Self {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        Options {
            family: None,
            table: None,
            chain: None,
            workers: cores.clamp(1, 2),
            max_attempts: 10,
        }
    }
}

/// How the snapshot went.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Stats {
    pub bytes: u64,
    pub messages: u64,
    pub requests: u64,
    /// Attempts made (1 when nothing changed while reading).
    pub attempts: u32,
    #[serde(serialize_with = "ser_secs")]
    pub elapsed: Duration,
}

fn ser_secs<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

/// Take a snapshot in the current network namespace.
pub fn take(opts: &Options) -> Result<(Ruleset, Stats)> {
    let mut sockets = open_sockets(opts)?;
    take_with(&mut sockets, opts)
}

/// The sockets a snapshot uses (open them in the namespace to read; they keep reading it).
pub fn open_sockets(opts: &Options) -> Result<Vec<NfSocket>> {
    (0..opts.workers.max(1)).map(|_| NfSocket::open()).collect()
}

/// Take a snapshot with sockets opened earlier (by [`open_sockets`], possibly in another netns).
pub fn take_with(sockets: &mut [NfSocket], opts: &Options) -> Result<(Ruleset, Stats)> {
    let start = Instant::now();
    let before: Vec<IoStats> = sockets.iter().map(|s| s.stats).collect();
    let mut attempts = 0;
    let mut seen = UseCounts::default();
    let result = loop {
        attempts += 1;
        match attempt::<()>(sockets, opts, None, &mut seen)? {
            Some((rs, _)) => break rs,
            None if attempts >= opts.max_attempts => return Err(Error::Inconsistent { attempts }),
            None => continue,
        }
    };
    Ok((result, io_stats(sockets, &before, attempts, start)))
}

/// Take a snapshot inside the named network namespace (`ip netns` name or a path).
pub fn take_in_netns(netns: &str, opts: &Options) -> Result<(Ruleset, Stats)> {
    crate::netns::run_in(netns, || take(opts))?
}

/// Receives each chain's rules while they arrive, in the snapshot's worker threads, instead of
/// the model keeping them ([`take_streamed`]). Indexes are those of the snapshot's tables and
/// their chains.
pub trait ChainRules<T>: Sync {
    /// Whether this chain's rules are wanted at all (a chain not wanted is not dumped).
    fn wants(&self, table: usize, chain: usize) -> bool;
    /// What the chain's output starts as.
    fn start(&self, table: usize, chain: usize) -> T;
    /// One rule: its `NFT_MSG_NEWRULE` attributes, borrowed from the receive buffer. An error
    /// (a rule that does not decode) ends the snapshot with it.
    fn rule(&self, out: &mut T, table: usize, chain: usize, attrs: &[u8]) -> Result<()>;
    /// The chain's rules are all read (called on the same worker, before it reads another
    /// chain; the output is dropped if the attempt turns out torn).
    fn finish(&self, _out: &mut T, _table: usize, _chain: usize) {}
}

/// Builds the [`ChainRules`] of one attempt once its tables, chains and sets are read.
pub trait Prepare<T> {
    fn prepare<'t>(&'t self, tables: &'t [Table]) -> Box<dyn ChainRules<T> + 't>;
}

/// A snapshot whose rules went to a [`ChainRules`] instead of the model.
pub struct Streamed<T> {
    /// Everything but the streamed chains' rules (binding chains, whose rules are part of the
    /// rules that jump to them, keep theirs).
    pub ruleset: Ruleset,
    /// `[table][chain]`: the output of each chain whose rules were streamed.
    pub chains: Vec<Vec<Option<T>>>,
    pub stats: Stats,
}

/// Take a snapshot, handing every rule to the sink `prepare` builds instead of keeping it: a
/// renderer turns a chain into text while the other socket waits for the kernel, and nothing
/// is packed or decoded twice. Consistency is the same as [`take`]'s: on a change while reading
/// the outputs are dropped and the attempt is made again.
pub fn take_streamed<T: Send>(
    sockets: &mut [NfSocket],
    opts: &Options,
    prepare: &dyn Prepare<T>,
) -> Result<Streamed<T>> {
    let start = Instant::now();
    let before: Vec<IoStats> = sockets.iter().map(|s| s.stats).collect();
    let mut attempts = 0;
    let mut seen = UseCounts::default();
    let (ruleset, chains) = loop {
        attempts += 1;
        match attempt(sockets, opts, Some(prepare), &mut seen)? {
            Some(x) => break x,
            None if attempts >= opts.max_attempts => return Err(Error::Inconsistent { attempts }),
            None => continue,
        }
    };
    let stats = io_stats(sockets, &before, attempts, start);
    Ok(Streamed {
        ruleset,
        chains,
        stats,
    })
}

fn io_stats(sockets: &[NfSocket], before: &[IoStats], attempts: u32, start: Instant) -> Stats {
    let io = sockets
        .iter()
        .zip(before)
        .fold(IoStats::default(), |a, (s, b)| IoStats {
            bytes: a.bytes + s.stats.bytes - b.bytes,
            messages: a.messages + s.stats.messages - b.messages,
            requests: a.requests + s.stats.requests - b.requests,
        });
    Stats {
        bytes: io.bytes,
        messages: io.messages,
        requests: io.requests,
        attempts,
        elapsed: start.elapsed(),
    }
}

/// Tracks whether every dump of one attempt saw the same generation, uninterrupted.
#[derive(Debug)]
struct Consistency {
    gen16: u16,
    torn: bool,
}

impl Consistency {
    fn check(&mut self, d: DumpInfo) {
        if d.interrupted || d.gen_mismatch || d.gen16.is_some_and(|g| g != self.gen16) {
            self.torn = true;
        }
    }
}

fn keep(opts: &Options, family: Family, table: Option<&str>) -> bool {
    opts.family.is_none_or(|f| f == family)
        && opts.table.as_deref().is_none_or(|t| Some(t) == table)
}

/// One attempt; `Ok(None)` when the ruleset changed under us.
/// What one attempt returns: the ruleset and, when streamed, each chain's output.
type Attempt<T> = Option<(Ruleset, Vec<Vec<Option<T>>>)>;

fn attempt<T: Send>(
    sockets: &mut [NfSocket],
    opts: &Options,
    prepare: Option<&dyn Prepare<T>>,
    seen: &mut UseCounts,
) -> Result<Attempt<T>> {
    let Some(s0) = sockets.first_mut() else {
        return Err(Error::Usage("a snapshot needs at least one socket"));
    };
    let gen = s0.get_gen()?;
    let mut cons = Consistency {
        gen16: gen as u16,
        torn: false,
    };
    let fam = opts.family.map(|f| f.to_u8()).unwrap_or(0);
    // Table filters are applied here, not in the requests: a table-filtered dump with family
    // unspec is ENOENT in the kernel, and these listings are cheap.
    let filter: &[u8] = &[];
    let mut tables: Vec<Table> = Vec::new();
    let d = s0.dump(
        "list tables (NFT_MSG_GETTABLE)",
        msg::GETTABLE,
        fam,
        &[],
        |_, m| {
            let t = nft::Table::parse(m.attrs).map_err(|e| Error::decode("decode table", e))?;
            let family = Family::from_u8(m.family);
            if keep(opts, family, t.name.as_deref()) {
                tables.push(Table {
                    family,
                    attrs: t,
                    chains: vec![],
                    sets: vec![],
                    objects: vec![],
                    flowtables: vec![],
                });
            }
            Ok(())
        },
    )?;
    cons.check(d);
    let find = |tables: &mut Vec<Table>, family: u8, name: Option<&str>| -> Option<usize> {
        let f = Family::from_u8(family);
        tables
            .iter()
            .position(|t| t.family == f && t.attrs.name.as_deref() == name)
    };

    let keys: Vec<(Family, &str)> = tables.iter().map(|t| (t.family, t.name())).collect();
    let (d, chains) = list_chains(s0, fam, &keys)?;
    cons.check(d);
    for (t, chains) in tables.iter_mut().zip(chains) {
        t.chains = chains;
    }
    let d = s0.dump(
        "list sets (NFT_MSG_GETSET)",
        msg::GETSET,
        fam,
        filter,
        |_, m| {
            let s = nft::Set::parse(m.attrs).map_err(|e| Error::decode("decode set", e))?;
            if let Some(i) = find(&mut tables, m.family, s.table.as_deref()) {
                tables[i].sets.push(Set {
                    attrs: s,
                    elements: vec![],
                });
            }
            Ok(())
        },
    )?;
    cons.check(d);
    let d = s0.dump(
        "list objects (NFT_MSG_GETOBJ)",
        msg::GETOBJ,
        fam,
        filter,
        |_, m| {
            let o = nft::Obj::parse(m.attrs).map_err(|e| Error::decode("decode object", e))?;
            if let Some(i) = find(&mut tables, m.family, o.table.as_deref()) {
                let decoded = o.decode_data().ok();
                tables[i].objects.push(Obj { attrs: o, decoded });
            }
            Ok(())
        },
    )?;
    cons.check(d);
    let d = s0.dump(
        "list flowtables (NFT_MSG_GETFLOWTABLE)",
        msg::GETFLOWTABLE,
        fam,
        filter,
        |_, m| {
            let f =
                nft::Flowtable::parse(m.attrs).map_err(|e| Error::decode("decode flowtable", e))?;
            if let Some(i) = find(&mut tables, m.family, f.table.as_deref()) {
                tables[i].flowtables.push(f);
            }
            Ok(())
        },
    )?;
    cons.check(d);

    if !well_formed(&tables, gen, seen) {
        cons.torn = true;
    }
    // Per-set and per-chain jobs. Streamed, the sink renders rules with the sets' elements and
    // the binding chains' rules at hand: those are read in a first round.
    let wanted = |c: &Chain| opts.chain.as_deref().is_none_or(|n| n == c.name());
    let binding = |c: &Chain| c.attrs.flags.unwrap_or(0) & 4 != 0; // NFT_CHAIN_BINDING
    let mut jobs: Vec<Job> = Vec::new();
    for (ti, t) in tables.iter().enumerate() {
        for (si, _) in t.sets.iter().enumerate() {
            jobs.push(Job::SetElems { table: ti, set: si });
        }
        for (ci, c) in t.chains.iter().enumerate() {
            if prepare.is_none() && wanted(c) || prepare.is_some() && binding(c) {
                jobs.push(Job::Rules {
                    table: ti,
                    chain: ci,
                });
            }
        }
    }
    let outcome = run_jobs::<T>(sockets, &tables, &jobs, cons.gen16, None)?;
    if outcome.torn {
        return Ok(None);
    }
    for (job, out) in jobs.iter().zip(outcome.results) {
        match (job, out) {
            (Job::Rules { table, chain }, JobOut::Rules(r)) => {
                tables[*table].chains[*chain].rules = r
            }
            (Job::SetElems { table, set }, JobOut::Elems(e)) => {
                tables[*table].sets[*set].elements = e
            }
            _ => {}
        }
    }
    let mut streamed: Vec<Vec<Option<T>>> = Vec::new();
    if let Some(prepare) = prepare {
        let sink = prepare.prepare(&tables);
        let mut jobs: Vec<Job> = Vec::new();
        for (ti, t) in tables.iter().enumerate() {
            for (ci, c) in t.chains.iter().enumerate() {
                if wanted(c) && !binding(c) && sink.wants(ti, ci) {
                    jobs.push(Job::Sink {
                        table: ti,
                        chain: ci,
                    });
                }
            }
        }
        let outcome = run_jobs(sockets, &tables, &jobs, cons.gen16, Some(&*sink))?;
        if outcome.torn {
            return Ok(None);
        }
        drop(sink);
        streamed = tables
            .iter()
            .map(|t| t.chains.iter().map(|_| None).collect())
            .collect();
        for (job, out) in jobs.iter().zip(outcome.results) {
            if let (Job::Sink { table, chain }, JobOut::Sunk(x)) = (job, out) {
                streamed[*table][*chain] = Some(x);
            }
        }
    }
    if let Some(c) = &opts.chain {
        for (ti, t) in tables.iter_mut().enumerate() {
            if let Some(outs) = streamed.get_mut(ti) {
                let mut keep = t.chains.iter().map(|ch| ch.name() == c);
                outs.retain(|_| keep.next().unwrap_or(false));
            }
            t.chains.retain(|ch| ch.name() == c);
        }
    }
    let gen_after = sockets[0].get_gen()?;
    if cons.torn || gen_after != gen {
        return Ok(None);
    }
    Ok(Some((
        Ruleset {
            generation: gen,
            tables,
        },
        streamed,
    )))
}

/// `NFT_MSG_GETCHAIN` for every table: each table's chains (of the tables in `tables`, by
/// family and name), in dump order. The chains are decoded and placed on a second thread
/// while the kernel is still sending: at 30k chains the listing takes 22 ms instead of 40,
/// and nothing else overlaps it.
fn list_chains(
    sock: &mut NfSocket,
    fam: u8,
    tables: &[(Family, &str)],
) -> Result<(DumpInfo, Vec<Vec<Chain>>)> {
    const OP: &str = "list chains (NFT_MSG_GETCHAIN)";
    /// Messages per batch handed to the decoding thread.
    const BATCH: usize = 512;
    struct Batch {
        bytes: Vec<u8>,
        /// (family, end offset in `bytes`)
        ends: Vec<(u8, usize)>,
    }
    let new_batch = || Batch {
        bytes: Vec::with_capacity(BATCH * 160),
        ends: Vec::with_capacity(BATCH),
    };
    std::thread::scope(|sc| {
        let (tx, rx) = std::sync::mpsc::channel::<Batch>();
        let decoder = sc.spawn(move || -> Result<Vec<Vec<Chain>>> {
            let mut out: Vec<Vec<Chain>> = tables.iter().map(|_| Vec::new()).collect();
            for b in rx {
                let mut start = 0;
                for &(family, end) in &b.ends {
                    let c = nft::Chain::parse(&b.bytes[start..end])
                        .map_err(|e| Error::decode("decode chain", e))?;
                    start = end;
                    let f = Family::from_u8(family);
                    let name = c.table.as_deref().unwrap_or("");
                    if let Some(i) = tables.iter().position(|&(tf, tn)| tf == f && tn == name) {
                        out[i].push(Chain {
                            attrs: c,
                            rules: Rules::new(),
                        });
                    }
                }
            }
            Ok(out)
        });
        let mut batch = new_batch();
        let d = sock.dump(OP, msg::GETCHAIN, fam, &[], |_, m| {
            batch.bytes.extend_from_slice(m.attrs);
            batch.ends.push((m.family, batch.bytes.len()));
            if batch.ends.len() == BATCH {
                // A send fails only when the decoder has stopped on an error: it is reported
                // by the join below.
                let _ = tx.send(std::mem::replace(&mut batch, new_batch()));
            }
            Ok(())
        });
        if !batch.ends.is_empty() {
            let _ = tx.send(batch);
        }
        drop(tx);
        let chains = decoder
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        let d = d?;
        Ok((d, chains?))
    })
}

/// The use counts that disagreed with a listing, by generation (see [`well_formed`]).
#[derive(Debug, Default)]
struct UseCounts {
    last: Option<(u32, Vec<UseOff>)>,
}

/// A table whose use count disagreed: (table index, its use count, what the listing holds).
type UseOff = (usize, u32, usize);

/// What one generation's listing always satisfies, checked because the kernel's own signals
/// miss a window: a commit bumps the generation before it switches to the new objects and
/// unlinks the old ones, and a dump resumed in between counts an unlinked-to-be (inactive)
/// object when skipping what it sent but not when sending, so it repeats (or skips) objects
/// with no `NLM_F_DUMP_INTR` and the generation unchanged (measured on 6.18: a table and its
/// chains listed twice, about one snapshot in twenty taken while `nft -f` replaces a table in
/// a loop).
///
/// Names are unique per table. A table's use count is its chains, named sets, objects and
/// flowtables (6.18 does not count anonymous sets; a kernel that does is accepted too). A
/// disagreement seen again at the same generation with the same figures is not a tear (the
/// window has passed by then) but a kernel counting otherwise, and is accepted.
fn well_formed(tables: &[Table], gen: u32, seen: &mut UseCounts) -> bool {
    let mut names = std::collections::HashSet::new();
    let mut off = Vec::new();
    for (ti, t) in tables.iter().enumerate() {
        if !names.insert((t.family, t.name())) {
            return false;
        }
        fn unique<'a>(it: impl Iterator<Item = &'a str>) -> bool {
            let mut seen = std::collections::HashSet::new();
            it.into_iter().all(|n| seen.insert(n))
        }
        if !unique(t.chains.iter().map(|c| c.name()))
            || !unique(t.sets.iter().map(|s| s.name()))
            || !unique(t.flowtables.iter().map(|f| f.name.as_deref().unwrap_or("")))
        {
            return false;
        }
        let mut objs = std::collections::HashSet::new();
        if !t
            .objects
            .iter()
            .all(|o| objs.insert((o.attrs.obj_type, o.attrs.name.as_deref())))
        {
            return false;
        }
        let named_sets = t.sets.iter().filter(|s| !s.is_anonymous()).count();
        let held = t.chains.len() + t.objects.len() + t.flowtables.len();
        if let Some(u) = t.attrs.use_count {
            let u = u as usize;
            if u != held + named_sets && u != held + t.sets.len() {
                off.push((ti, u as u32, held + t.sets.len()));
            }
        }
    }
    if off.is_empty() {
        return true;
    }
    let again = seen.last.as_ref() == Some(&(gen, off.clone()));
    seen.last = Some((gen, off));
    again
}

#[derive(Debug, Clone, Copy)]
enum Job {
    Rules {
        table: usize,
        chain: usize,
    },
    SetElems {
        table: usize,
        set: usize,
    },
    /// A chain whose rules go to the [`ChainRules`] sink.
    Sink {
        table: usize,
        chain: usize,
    },
}

enum JobOut<T> {
    Rules(Rules),
    Elems(Vec<nft::SetElem>),
    Sunk(T),
}

struct Outcome<T> {
    results: Vec<JobOut<T>>,
    torn: bool,
}

/// Run the jobs on all sockets, each worker taking the next job from a shared counter.
fn run_jobs<T: Send>(
    sockets: &mut [NfSocket],
    tables: &[Table],
    jobs: &[Job],
    gen16: u16,
    sink: Option<&dyn ChainRules<T>>,
) -> Result<Outcome<T>> {
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<JobOut<T>>>> = jobs.iter().map(|_| Mutex::new(None)).collect();
    let torn = std::sync::atomic::AtomicBool::new(false);
    let worker = |sock: &mut NfSocket| -> Result<()> {
        let mut req = Vec::with_capacity(128);
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(job) = jobs.get(i) else {
                return Ok(());
            };
            if torn.load(Ordering::Relaxed) {
                return Ok(());
            }
            let (out, info) = match run_job(sock, tables, *job, &mut req, sink) {
                Ok(x) => x,
                // The chain or set disappeared between the listing and this dump.
                Err(Error::Kernel { errno, .. }) if errno == libc::ENOENT => {
                    torn.store(true, Ordering::Relaxed);
                    return Ok(());
                }
                Err(e) => return Err(e),
            };
            let mut c = Consistency { gen16, torn: false };
            c.check(info);
            if c.torn {
                torn.store(true, Ordering::Relaxed);
            }
            if let Ok(mut slot) = results[i].lock() {
                *slot = Some(out);
            }
        }
    };
    let errs: Vec<Result<()>> = if sockets.len() <= 1 || jobs.len() < 64 {
        vec![worker(&mut sockets[0])]
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = sockets
                .iter_mut()
                .map(|sock| s.spawn(|| worker(sock)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        })
    };
    for e in errs {
        e?;
    }
    let torn = torn.load(Ordering::Relaxed);
    let mut out = Vec::with_capacity(jobs.len());
    for r in results {
        let v = r.into_inner().ok().flatten();
        match v {
            Some(v) => out.push(v),
            None if torn => {
                return Ok(Outcome {
                    results: vec![],
                    torn: true,
                })
            }
            None => return Err(Error::Inconsistent { attempts: 0 }),
        }
    }
    Ok(Outcome { results: out, torn })
}

/// What a dump is, for error messages (built only when one is reported).
pub(crate) fn rules_op(t: &Table, c: &Chain) -> String {
    format!(
        "list rules of {} {} {} (NFT_MSG_GETRULE)",
        t.family,
        t.name(),
        c.name()
    )
}

fn run_job<T>(
    sock: &mut NfSocket,
    tables: &[Table],
    job: Job,
    req: &mut Vec<u8>,
    sink: Option<&dyn ChainRules<T>>,
) -> Result<(JobOut<T>, DumpInfo)> {
    req.clear();
    match job {
        Job::Rules { table, chain } => {
            let t = &tables[table];
            let c = &t.chains[chain];
            str_attr(req, 1, t.name()); // NFTA_RULE_TABLE
            str_attr(req, 2, c.name()); // NFTA_RULE_CHAIN
            let mut rules = Rules::new();
            let info = sock
                .dump("", msg::GETRULE, t.family.to_u8(), req, |_, m| {
                    // Checked here, decoded when read (model::Rules): the same errors as a full
                    // parse (nft::Rule::check), half the work for a snapshot that is only
                    // counted.
                    let handle =
                        nft::Rule::check(m.attrs).map_err(|e| Error::decode(rules_op(t, c), e))?;
                    rules.push_wire(m.attrs, handle);
                    Ok(())
                })
                .map_err(|e| e.with_op(|| rules_op(t, c)))?;
            // Most chains hold a few rules; growth leaves room for up to twice as many.
            rules.shrink_to_fit();
            Ok((JobOut::Rules(rules), info))
        }
        Job::Sink { table, chain } => {
            let t = &tables[table];
            let c = &t.chains[chain];
            let Some(sink) = sink else {
                return Err(Error::Inconsistent { attempts: 0 });
            };
            str_attr(req, 1, t.name());
            str_attr(req, 2, c.name());
            let mut out = sink.start(table, chain);
            let info = sock
                .dump("", msg::GETRULE, t.family.to_u8(), req, |_, m| {
                    sink.rule(&mut out, table, chain, m.attrs)
                })
                .map_err(|e| e.with_op(|| rules_op(t, c)))?;
            sink.finish(&mut out, table, chain);
            Ok((JobOut::Sunk(out), info))
        }
        Job::SetElems { table, set } => {
            let t = &tables[table];
            let s = &t.sets[set];
            str_attr(req, 1, t.name()); // NFTA_SET_ELEM_LIST_TABLE
            str_attr(req, 2, s.name()); // NFTA_SET_ELEM_LIST_SET
            let mut elems = Vec::new();
            let op = format!(
                "list elements of set {} {} {} (NFT_MSG_GETSETELEM)",
                t.family,
                t.name(),
                s.name()
            );
            let info = sock.dump(&op, msg::GETSETELEM, t.family.to_u8(), req, |_, m| {
                let l =
                    nft::SetElemList::parse(m.attrs).map_err(|e| Error::decode(op.as_str(), e))?;
                if let Some(e) = l.elements {
                    elems.extend(e.0);
                }
                Ok(())
            })?;
            Ok((JobOut::Elems(elems), info))
        }
    }
}

fn str_attr(buf: &mut Vec<u8>, ty: u16, s: &str) {
    let start = buf.len();
    let len = 4 + s.len() + 1;
    buf.extend_from_slice(&(len as u16).to_ne_bytes());
    buf.extend_from_slice(&ty.to_ne_bytes());
    buf.extend_from_slice(s.as_bytes());
    buf.push(0);
    buf.resize(start + nfscope_wire::nl::align(len), 0);
}

/// The floor for benchmarks: the same per-chain rule dumps on one socket, decoding nothing but
/// the chain list. Returns (bytes of rule messages, rule messages).
pub fn raw_rule_dump() -> Result<(u64, u64)> {
    let mut s = NfSocket::open()?;
    let mut chains: Vec<(u8, String, String)> = Vec::new();
    s.dump("list chains", msg::GETCHAIN, 0, &[], |_, m| {
        let c = nft::Chain::parse(m.attrs).map_err(|e| Error::decode("decode chain", e))?;
        chains.push((
            m.family,
            c.table.unwrap_or_default(),
            c.name.unwrap_or_default(),
        ));
        Ok(())
    })?;
    let (mut bytes, mut n) = (0u64, 0u64);
    let mut req = Vec::new();
    for (fam, t, c) in &chains {
        req.clear();
        str_attr(&mut req, 1, t);
        str_attr(&mut req, 2, c);
        s.dump("list rules", msg::GETRULE, *fam, &req, |m, _| {
            bytes += m.payload.len() as u64 + 16;
            n += 1;
            Ok(())
        })?;
    }
    Ok((bytes, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_sockets_is_an_error_not_a_panic() {
        let e = take_with(&mut [], &Options::default()).expect_err("no sockets");
        assert!(matches!(e, Error::Usage(_)), "{e}");
    }

    fn table(name: &str, use_count: u32, chains: &[&str]) -> Table {
        Table {
            family: Family::Ip,
            attrs: nft::Table {
                name: Some(name.into()),
                use_count: Some(use_count),
                ..Default::default()
            },
            chains: chains
                .iter()
                .map(|c| Chain {
                    attrs: nft::Chain {
                        name: Some(c.to_string()),
                        ..Default::default()
                    },
                    rules: Rules::new(),
                })
                .collect(),
            sets: vec![],
            objects: vec![],
            flowtables: vec![],
        }
    }

    #[test]
    fn repeated_objects_are_torn() {
        let mut seen = UseCounts::default();
        assert!(well_formed(&[table("t", 2, &["a", "b"])], 7, &mut seen));
        // the same table twice (what a dump resumed across a commit sent)
        let t = table("t", 2, &["a", "b"]);
        assert!(!well_formed(&[t.clone(), t], 7, &mut seen));
        // a chain twice
        assert!(!well_formed(
            &[table("t", 4, &["a", "b", "a", "b"])],
            7,
            &mut seen
        ));
    }

    #[test]
    fn a_use_count_that_disagrees_is_torn_unless_it_stays() {
        let mut seen = UseCounts::default();
        // a chain missing from the listing
        assert!(!well_formed(&[table("t", 3, &["a", "b"])], 7, &mut seen));
        // the same figures at another generation: still torn
        assert!(!well_formed(&[table("t", 3, &["a", "b"])], 8, &mut seen));
        // again at the same generation: a kernel that counts otherwise
        assert!(well_formed(&[table("t", 3, &["a", "b"])], 8, &mut seen));
    }
}
