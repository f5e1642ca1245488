//! Watch nf_tables: every change as it happens, grouped per transaction, attributed to the
//! process that committed it, and never silently lost.
//!
//! The event socket subscribes to `NFNLGRP_NFTABLES` *before* the initial snapshot, so nothing
//! falls between the two; events the snapshot already contains (their nfgenmsg `res_id`, the
//! low 16 bits of the generation they belong to, is not newer than the snapshot's) are skipped.
//! The kernel sends a transaction's messages, then `NEWGEN` (generation id, pid and comm of the
//! committer); [`Watcher::next`] returns one [`Event::Transaction`] per `NEWGEN`.
//! When the kernel drops events (`ENOBUFS` on the socket), the watcher takes a fresh snapshot
//! at once, diffs it against its own view, and returns that as [`Event::Resync`].

use crate::change::{self, Change};
use crate::diff;
use crate::error::{Error, Result};
use crate::events::{self, Record};
use crate::legacy;
use crate::model::Ruleset;
use crate::process::ProcessInfo;
use crate::snapshot::{self, Options};
use crate::sock::NfSocket;
use nfscope_wire::nfnl::NfMsg;
use nfscope_wire::nl::{self, Messages};
use serde::Serialize;
use std::collections::VecDeque;
use std::time::SystemTime;

/// Watch settings.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// Receive buffer of the event socket (forced past `rmem_max` with CAP_NET_ADMIN).
    pub rcvbuf: usize,
    /// Snapshot options for the initial view and for resyncs.
    pub snapshot: Options,
    /// Legacy x_tables sends no events: poll its tables' signatures this often (one copy of
    /// each listed table; nothing is created). `None`: do not watch legacy tables.
    pub legacy_poll: Option<std::time::Duration>,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            rcvbuf: 64 << 20,
            snapshot: Options::default(),
            legacy_poll: Some(std::time::Duration::from_secs(2)),
        }
    }
}

/// One committed transaction.
#[derive(Debug, Clone, Serialize)]
pub struct Transaction {
    pub generation: u32,
    pub process: ProcessInfo,
    #[serde(skip)]
    pub changes: Vec<Change>,
    /// One record per rule / chain / table / set change, with the semantic diff.
    pub records: Vec<Record>,
    #[serde(skip)]
    pub received: Option<SystemTime>,
}

/// A resync after lost events: what changed between our last view and a fresh snapshot.
#[derive(Debug, Clone, Serialize)]
pub struct Resync {
    pub generation: u32,
    pub reason: String,
    #[serde(skip)]
    pub changes: Vec<Change>,
    pub records: Vec<Record>,
}

#[derive(Debug, Clone)]
pub enum Event {
    Transaction(Transaction),
    Resync(Resync),
    /// Legacy x_tables changed (seen by polling: no process is known).
    Legacy(Vec<Record>),
}

pub struct Watcher {
    events: NfSocket,
    dump: Vec<NfSocket>,
    opts: WatchOptions,
    state: Ruleset,
    pending: Vec<Change>,
    /// The committer looked up at the transaction's first message (its netlink port id is
    /// usually its pid), while it is surely still alive; confirmed or discarded at NEWGEN.
    early: Option<ProcessInfo>,
    ready: VecDeque<Event>,
    /// Events skipped because the view already had them, and resyncs done.
    pub skipped: u64,
    pub resyncs: u64,
    /// The namespace watched (None: the caller's), for legacy polls.
    netns: Option<String>,
    /// Legacy tables as last polled, with their signatures.
    legacy: Option<(Vec<legacy::Signature>, legacy::LegacyRuleset)>,
    next_poll: std::time::Instant,
}

/// Is 16-bit generation `g` newer than `base`? (serial-number arithmetic)
fn newer(g: u16, base: u32) -> bool {
    (g.wrapping_sub(base as u16) as i16) > 0
}

impl Watcher {
    /// Start watching the current network namespace.
    pub fn start(opts: WatchOptions) -> Result<Watcher> {
        let events = NfSocket::open_events(opts.rcvbuf)?;
        let mut dump = snapshot::open_sockets(&opts.snapshot)?;
        let (state, _) = snapshot::take_with(&mut dump, &opts.snapshot)?;
        let legacy = match opts.legacy_poll {
            Some(_) => Some((legacy::signatures()?, legacy::read_all()?)),
            None => None,
        };
        let next_poll = std::time::Instant::now() + opts.legacy_poll.unwrap_or_default();
        Ok(Watcher {
            netns: None,
            legacy,
            next_poll,
            events,
            dump,
            opts,
            state,
            pending: vec![],
            early: None,
            ready: VecDeque::new(),
            skipped: 0,
            resyncs: 0,
        })
    }

    /// Start watching the named network namespace (sockets are created inside it).
    pub fn start_in_netns(netns: &str, opts: WatchOptions) -> Result<Watcher> {
        let mut w = crate::netns::run_in(netns, || Watcher::start(opts))??;
        w.netns = Some(netns.to_string());
        Ok(w)
    }

    /// Poll legacy x_tables; queue an event when they changed.
    fn poll_legacy(&mut self) -> Result<()> {
        let Some(every) = self.opts.legacy_poll else {
            return Ok(());
        };
        self.next_poll = std::time::Instant::now() + every;
        let sigs = match &self.netns {
            Some(ns) => legacy::signatures_in_netns(ns)?,
            None => legacy::signatures()?,
        };
        if self.legacy.as_ref().is_some_and(|(old, _)| *old == sigs) {
            return Ok(());
        }
        let fresh = match &self.netns {
            Some(ns) => legacy::read_all_in_netns(ns)?,
            None => legacy::read_all()?,
        };
        let old = self.legacy.take().map(|(_, l)| l).unwrap_or_default();
        let records = events::legacy_records(&old, &fresh);
        self.legacy = Some((sigs, fresh));
        if !records.is_empty() {
            self.ready.push_back(Event::Legacy(records));
        }
        Ok(())
    }

    /// The watcher's current view (after every event returned so far).
    pub fn state(&self) -> &Ruleset {
        &self.state
    }

    /// Take a fresh snapshot with the watcher's own sockets (in its namespace).
    pub fn snapshot(&mut self) -> Result<Ruleset> {
        Ok(snapshot::take_with(&mut self.dump, &self.opts.snapshot)?.0)
    }

    /// Block until the next transaction or resync.
    pub fn next_event(&mut self) -> Result<Event> {
        loop {
            if let Some(e) = self.next_timeout(None)? {
                return Ok(e);
            }
        }
    }

    /// Wait at most `timeout` (`None`: forever) for the next transaction or resync.
    pub fn next_timeout(&mut self, timeout: Option<std::time::Duration>) -> Result<Option<Event>> {
        let deadline = timeout.map(|t| std::time::Instant::now() + t);
        loop {
            if let Some(e) = self.ready.pop_front() {
                return Ok(Some(e));
            }
            let now = std::time::Instant::now();
            if self.opts.legacy_poll.is_some() && now >= self.next_poll {
                self.poll_legacy()?;
                continue;
            }
            // Wake for whichever comes first: the caller's deadline or the next legacy poll.
            let mut wait = deadline.map(|d| d.saturating_duration_since(now));
            if self.opts.legacy_poll.is_some() {
                let to_poll = self.next_poll.saturating_duration_since(now);
                wait = Some(wait.map_or(to_poll, |w| w.min(to_poll)));
            }
            if wait == Some(std::time::Duration::ZERO) {
                if deadline.is_some_and(|d| now >= d) {
                    return Ok(None);
                }
                continue;
            }
            self.events.set_read_timeout(wait)?;
            let res = self.events.recv_datagram();
            match res {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                        return Ok(None);
                    }
                }
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => self
                    .resync("the kernel dropped events (ENOBUFS): socket receive buffer overrun")?,
                Err(e) => return Err(Error::io("receive nf_tables events", e)),
                Ok(buf) => {
                    // Copy out of the socket buffer so `self` can be borrowed mutably below.
                    let buf = buf.to_vec();
                    self.handle_datagram(&buf)?;
                }
            }
        }
    }

    fn handle_datagram(&mut self, buf: &[u8]) -> Result<()> {
        for m in Messages::new(buf) {
            let m = m.map_err(|e| Error::decode("event framing", e))?;
            if m.ty == nl::NLMSG_ERROR || m.ty == nl::NLMSG_DONE || m.ty < 0x10 {
                continue;
            }
            let nf =
                NfMsg::parse(m.ty, m.payload).map_err(|e| Error::decode("event nfgenmsg", e))?;
            if !newer(nf.res_id, self.state.generation) {
                self.skipped += 1; // already in our view (from the snapshot or a resync)
                continue;
            }
            match change::decode_nf(&nf, m.flags)? {
                Change::NewGen(g) => {
                    let process = ProcessInfo::lookup(
                        g.proc_pid.unwrap_or(0),
                        g.proc_name.as_deref().unwrap_or(""),
                    );
                    let changes = std::mem::take(&mut self.pending);
                    let deleted = events::deleted_texts(&self.state, &changes);
                    self.state.apply_all(&changes);
                    let generation = g.id.unwrap_or(self.state.generation);
                    self.state.generation = generation;
                    let records = events::records(
                        generation,
                        Some(&process),
                        &changes,
                        deleted,
                        &self.state,
                        false,
                    );
                    self.ready.push_back(Event::Transaction(Transaction {
                        generation,
                        process,
                        changes,
                        records,
                        received: Some(SystemTime::now()),
                    }));
                }
                c => {
                    if self.pending.is_empty() && m.pid != 0 {
                        self.early = Some(ProcessInfo::lookup_any(m.pid));
                    }
                    self.pending.push(c)
                }
            }
        }
        Ok(())
    }

    /// Replace our view by a fresh snapshot and queue the difference as a resync event.
    pub fn resync(&mut self, reason: &str) -> Result<()> {
        self.pending.clear();
        self.early = None;
        let (fresh, _) = snapshot::take_with(&mut self.dump, &self.opts.snapshot)?;
        let changes = diff::structural(&self.state, &fresh);
        let deleted = events::deleted_texts(&self.state, &changes);
        let records = events::records(fresh.generation, None, &changes, deleted, &fresh, true);
        self.resyncs += 1;
        self.ready.push_back(Event::Resync(Resync {
            generation: fresh.generation,
            reason: reason.into(),
            changes,
            records,
        }));
        self.state = fresh;
        Ok(())
    }
}

/// The watch as a tokio [`Stream`](tokio_stream::Stream) of events. The watcher runs on a
/// dedicated thread (netlink reads are blocking) and hands events over a bounded channel of
/// `buffer` events; it stops when the stream is dropped. Start errors are returned here.
#[cfg(feature = "tokio")]
pub fn stream(
    opts: WatchOptions,
    netns: Option<&str>,
    buffer: usize,
) -> Result<tokio_stream::wrappers::ReceiverStream<Result<Event>>> {
    let mut w = match netns {
        Some(ns) => Watcher::start_in_netns(ns, opts)?,
        None => Watcher::start(opts)?,
    };
    let (tx, rx) = tokio::sync::mpsc::channel(buffer.max(1));
    std::thread::Builder::new()
        .name("nfscope-watch".into())
        .spawn(move || loop {
            // Wake now and then to notice a dropped stream even when nothing changes.
            let ev = match w.next_timeout(Some(std::time::Duration::from_secs(1))) {
                Ok(None) if tx.is_closed() => return,
                Ok(None) => continue,
                Ok(Some(ev)) => Ok(ev),
                Err(e) => Err(e),
            };
            let stop = ev.is_err();
            if tx.blocking_send(ev).is_err() || stop {
                return;
            }
        })
        .map_err(|e| Error::io("spawn the watch thread", e))?;
    Ok(tokio_stream::wrappers::ReceiverStream::new(rx))
}
