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
//!
//! Legacy x_tables sends no events: its tables' signatures are polled ([`WatchOptions::legacy_poll`])
//! and diffed into [`Event::Legacy`]. When the kernel's audit records are delivered (audit
//! enabled, `CAP_AUDIT_READ`, see [`crate::audit`]), a `NETFILTER_CFG` record of a table register
//! or replace triggers a poll at once, and the change the poll finds in the same family and table
//! is attributed to the record's process. Records carry no network namespace, so a record is a
//! hint, taken only when (a) the watched namespace's table did change, (b) the process, if still
//! alive when its record arrived, was in the watched namespace, (c) the table held, before the
//! change, the number of entries we last saw, and (d) no other process wrote that table since
//! the last poll (two writers: the change is reported without one). A change found by polling
//! before its record arrived waits for it at most [`AUDIT_HOLD`].

use crate::audit::{Assembler, AuditSocket, AuditStats, NetfilterRecord, NsId};
use crate::change::{self, Change};
use crate::diff;
use crate::error::{Error, Result};
use crate::events::{self, Record};
use crate::legacy;
use crate::model::Ruleset;
use crate::process::ProcessInfo;
use crate::snapshot::{self, Options};
use crate::sock::{NfSocket, Readiness};
use nfscope_wire::audit::NfcfgOp;
use nfscope_wire::nfnl::NfMsg;
use nfscope_wire::nft::{self, Family};
use nfscope_wire::nl::{self, Messages};
use serde::Serialize;
use std::collections::{HashMap, HashSet, VecDeque};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant, SystemTime};

/// How long a legacy change found by polling waits for the audit record that names its writer
/// (only while audit records are being delivered).
pub const AUDIT_HOLD: Duration = Duration::from_millis(250);
/// How long after its poll a change whose record's process had already exited (so its namespace
/// is unknown) waits before it is attributed: a second writer's record arriving meanwhile makes
/// it ambiguous instead.
pub const AUDIT_SETTLE: Duration = Duration::from_millis(20);

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
    /// Listen for the kernel's audit records of x_tables changes (in the caller's network
    /// namespace, which must be the initial one): they trigger an immediate poll and name the
    /// writer. Without `CAP_AUDIT_READ`, or with audit disabled, polling alone.
    pub legacy_audit: bool,
    /// Hand a transaction of more than this many changes over in parts of at most this many
    /// records (consecutive [`Event::Transaction`]s of one generation: `part` 0, 1, …, `more`
    /// false on the last), made one part at a time: a restore of 80k rules is then never held
    /// as 160k records. `None`: every transaction whole.
    pub parts: Option<usize>,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            rcvbuf: 64 << 20,
            snapshot: Options::default(),
            legacy_poll: Some(std::time::Duration::from_secs(2)),
            legacy_audit: true,
            parts: None,
        }
    }
}

/// One committed transaction.
#[derive(Debug, Clone, Serialize)]
pub struct Transaction {
    pub generation: u32,
    pub process: ProcessInfo,
    /// The decoded changes (empty when the transaction comes in parts).
    #[serde(skip)]
    pub changes: Vec<Change>,
    /// One record per rule / chain / table / set change, with the semantic diff.
    pub records: Vec<Record>,
    #[serde(skip)]
    pub received: Option<SystemTime>,
    /// Which part of the transaction this is (0: the first, or the whole; see
    /// [`WatchOptions::parts`]).
    #[serde(skip)]
    pub part: usize,
    /// More parts of this transaction follow.
    #[serde(skip)]
    pub more: bool,
}

/// A large transaction whose records are being handed over in parts.
struct InParts {
    records: events::RecordParts,
    max: usize,
    /// Events queued before the transaction, still to be handed over before it.
    ahead: usize,
    generation: u32,
    process: ProcessInfo,
    received: Option<SystemTime>,
    next: usize,
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
    /// Legacy x_tables changed (found by polling; the writer is known when an audit record
    /// named it: `attribution` "audit").
    Legacy(Vec<Record>),
}

/// Whether legacy changes can be attributed, and why not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditState {
    /// The audit listener is open.
    pub listening: bool,
    /// One line for a log: the kernel's audit state, or why there is no listener.
    pub note: String,
}

/// Counters of the legacy side of the watch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LegacyStats {
    /// Polls of the legacy tables, and how many an audit record triggered.
    pub polls: u64,
    pub audit_polls: u64,
    /// Legacy records reported with a writer from an audit record, and without one.
    pub attributed: u64,
    pub unattributed: u64,
    /// Audit records of register/replace set aside: their process was in another namespace
    /// when they arrived; they matched no change here (another namespace, or a change an
    /// earlier poll already reported); or their table's entry count did not match ours.
    pub hints_foreign: u64,
    pub hints_unmatched: u64,
    pub hints_mismatched: u64,
    /// Changes two processes made between two polls (reported without a writer).
    pub ambiguous: u64,
}

struct AuditListener {
    sock: AuditSocket,
    asm: Assembler,
}

/// One changed (family, table) of a polled legacy change, and the audit records that may name
/// its writer.
struct Group {
    family: String,
    table: String,
    /// Entries the table held before the change (as we last saw it; 0 when it did not exist).
    before: u32,
    /// Register / replace records of this table not from another namespace.
    cands: Vec<NetfilterRecord>,
}

enum Decision<'a> {
    /// No record (yet).
    Open,
    /// One process wrote the table since the previous poll; `confirmed`: it was alive in the
    /// watched namespace when its record arrived.
    Writer(&'a NetfilterRecord, bool),
    /// Two processes did.
    Ambiguous,
}

impl Group {
    fn decide(&self, ours: Option<NsId>) -> Decision<'_> {
        let mut c: Vec<&NetfilterRecord> = self.cands.iter().collect();
        c.sort_by_key(|h| (h.time_unix_ms, h.serial));
        // The first change here since our last look found the table as we saw it: an earlier
        // record that did not (another namespace's table, its process already gone) is not ours.
        let first = c
            .iter()
            .position(|h| h.entries == Some(self.before))
            .unwrap_or(c.len());
        let c = &c[first..];
        match c.last() {
            None => Decision::Open,
            Some(_) if c.iter().any(|h| h.pid != c[0].pid) => Decision::Ambiguous,
            Some(last) => {
                Decision::Writer(last, c.iter().any(|h| h.netns.is_some() && h.netns == ours))
            }
        }
    }
}

/// A legacy change found by a poll, waiting for the audit records that name its writer.
struct Held {
    records: Vec<Record>,
    groups: Vec<Group>,
    /// When the poll found it; a writer not confirmed by its namespace is taken only after
    /// [`AUDIT_SETTLE`], so that a late record of another writer can still make it ambiguous.
    polled: Instant,
    until: Instant,
}

impl Held {
    /// Take the records of this change's tables out of `hints`.
    fn attach(&mut self, hints: &mut Vec<NetfilterRecord>) {
        for g in &mut self.groups {
            let (mine, rest): (Vec<_>, Vec<_>) = std::mem::take(hints)
                .into_iter()
                .partition(|h| h.family_name() == Some(g.family.as_str()) && h.table == g.table);
            *hints = rest;
            g.cands.extend(mine);
        }
    }

    /// Every table's writer is known, or known to be unknowable. `in_flight`: (family, table,
    /// pid) of records whose event is still being assembled.
    fn settled(
        &self,
        now: Instant,
        ours: Option<NsId>,
        in_flight: &[(String, String, u32)],
    ) -> bool {
        self.groups.iter().all(|g| match g.decide(ours) {
            Decision::Open => false,
            Decision::Ambiguous => true,
            Decision::Writer(_, true) => true,
            Decision::Writer(h, false) => {
                now >= self.polled + AUDIT_SETTLE
                    && !in_flight
                        .iter()
                        .any(|(f, t, pid)| *f == g.family && *t == g.table && *pid != h.pid)
            }
        })
    }

    /// When [`Held::settled`] may change by itself.
    fn wake(&self, now: Instant) -> Instant {
        let settle = self.polled + AUDIT_SETTLE;
        if now < settle {
            settle
        } else {
            self.until
        }
    }

    fn into_records(self, ours: Option<NsId>, stats: &mut LegacyStats) -> Vec<Record> {
        let mut records = self.records;
        for g in &self.groups {
            let d = g.decide(ours);
            let taken = match &d {
                Decision::Writer(h, _) => g.cands.iter().filter(|c| c.pid == h.pid).count(),
                _ => 0,
            };
            stats.hints_mismatched +=
                (g.cands.len() - taken) as u64 * u64::from(!matches!(d, Decision::Ambiguous));
            stats.ambiguous += u64::from(matches!(d, Decision::Ambiguous));
            for r in records
                .iter_mut()
                .filter(|r| r.family == g.family && r.table == g.table)
            {
                match &d {
                    Decision::Writer(h, _) => {
                        r.process = Some(h.process());
                        r.attribution = "audit".into();
                        r.audit_event = Some(h.id.clone());
                        stats.attributed += 1;
                    }
                    _ => {
                        r.attribution = "none".into();
                        stats.unattributed += 1;
                    }
                }
            }
        }
        records
    }
}

/// Wait until `a` or `b` is readable or `timeout` passes (`None`: forever).
fn poll2(a: i32, b: i32, timeout: Option<Duration>) -> Result<(bool, bool)> {
    let ms = match timeout {
        None => -1,
        Some(d) => {
            let ms = d.as_micros().div_ceil(1000);
            i32::try_from(ms).unwrap_or(i32::MAX)
        }
    };
    let mut fds = [
        libc::pollfd {
            fd: a,
            events: libc::POLLIN,
            revents: 0,
        },
        libc::pollfd {
            fd: b,
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    // SAFETY: poll on two valid pollfd structs we own, with their count.
    let rc = unsafe { libc::poll(fds.as_mut_ptr(), 2, ms) };
    if rc < 0 {
        let e = std::io::Error::last_os_error();
        if e.kind() == std::io::ErrorKind::Interrupted {
            return Ok((false, false));
        }
        return Err(Error::io("poll the event sockets", e));
    }
    let ready = |f: &libc::pollfd| f.revents & (libc::POLLIN | libc::POLLERR) != 0;
    Ok((ready(&fds[0]), ready(&fds[1])))
}

pub struct Watcher {
    events: NfSocket,
    dump: Vec<NfSocket>,
    opts: WatchOptions,
    state: Ruleset,
    pending: Vec<events::Pending>,
    /// The view's rule handles by (family, table, chain), made when a transaction's changes
    /// outnumber a part (it will come in parts): its deletions of rules the view holds then
    /// keep nothing of their event ([`events::Pending::Held`]). Until its NEWGEN.
    view_rules: Option<HashMap<(Family, String, String), HashSet<u64>>>,
    /// The committer looked up at the transaction's first message (its netlink port id is
    /// usually its pid), while it is surely still alive; confirmed or discarded at NEWGEN.
    early: Option<ProcessInfo>,
    ready: VecDeque<Event>,
    parts: Option<InParts>,
    /// Events skipped because the view already had them, and resyncs done.
    pub skipped: u64,
    pub resyncs: u64,
    /// The namespace watched (None: the caller's), for legacy polls.
    netns: Option<String>,
    /// Legacy tables as last polled, with their signatures.
    legacy: Option<(Vec<legacy::Signature>, legacy::LegacyRuleset)>,
    next_poll: std::time::Instant,
    /// The audit listener (in the initial namespace), or why there is none.
    audit: Option<AuditListener>,
    audit_note: String,
    /// Audit records have arrived since the start: a polled change waits for its record.
    audit_seen: bool,
    /// Register / replace records not yet matched to a poll.
    hints: Vec<NetfilterRecord>,
    /// An audit record asked for a poll now (not before `poll_after`: polls triggered by
    /// records, e.g. of other namespaces, take at most half of the time).
    poll_now: bool,
    poll_after: Instant,
    held: VecDeque<Held>,
    /// Readable when [`Watcher::next_timeout`] has something to do (see `AsRawFd`).
    readiness: Option<Readiness>,
    /// The watched namespace's identity, to set aside records of processes elsewhere.
    watched_ns: Option<NsId>,
    pub legacy_stats: LegacyStats,
}

/// Is 16-bit generation `g` newer than `base`? (serial-number arithmetic)
fn newer(g: u16, base: u32) -> bool {
    (g.wrapping_sub(base as u16) as i16) > 0
}

impl Watcher {
    /// Start watching the current network namespace.
    pub fn start(opts: WatchOptions) -> Result<Watcher> {
        Opening::new(opts, None)?.finish()
    }

    /// Start watching the named network namespace (sockets are created inside it; the audit
    /// listener in the caller's, which should be the initial one).
    pub fn start_in_netns(netns: &str, opts: WatchOptions) -> Result<Watcher> {
        Opening::new(opts, Some(netns))?.finish()
    }

    fn open_audit(opts: &WatchOptions) -> std::result::Result<AuditListener, String> {
        if opts.legacy_poll.is_none() {
            return Err("legacy x_tables not watched".into());
        }
        if !opts.legacy_audit {
            return Err("audit records not asked for (WatchOptions::legacy_audit)".into());
        }
        let sock = AuditSocket::open().map_err(|e| e.to_string())?;
        Ok(AuditListener {
            sock,
            asm: Assembler::new(true),
        })
    }

    fn set_audit(&mut self, audit: std::result::Result<AuditListener, String>) {
        match audit {
            Ok(a) => {
                self.audit_note = match crate::audit::status() {
                    Ok(s) if s.enabled == 0 => "listening for audit records, but audit is disabled (`auditctl -e 1` enables it): legacy changes are polled, writers unknown".into(),
                    Ok(s) => format!("listening for audit records (audit enabled{}): legacy changes attributed to their writers", if s.pid != 0 { format!(", auditd pid {}", s.pid) } else { String::new() }),
                    Err(e) => format!("listening for audit records (audit state unknown: {e})"),
                };
                self.audit = Some(a);
            }
            Err(why) => {
                self.audit_note =
                    format!("no audit records ({why}): legacy changes are polled, writers unknown")
            }
        }
    }

    /// The descriptor behind `AsRawFd`: the event socket, the audit socket, and a timer armed
    /// for the watcher's own next deadline (legacy poll, audit wait).
    fn make_ready(&mut self) -> Result<()> {
        let mut fds = vec![self.events.raw().as_raw_fd()];
        if let Some(a) = &self.audit {
            fds.push(a.sock.fd());
        }
        let r = Readiness::new(&fds)?;
        r.arm(self.next_wake(Instant::now()))?;
        self.readiness = Some(r);
        Ok(())
    }

    /// How long until the watcher has work of its own (not waiting on input): at once when an
    /// event is ready; else the next legacy poll, the end of an audit event's wait or of a
    /// held change's wait. `None`: only input can bring anything.
    fn next_wake(&self, now: Instant) -> Option<Duration> {
        if !self.ready.is_empty() || self.parts.is_some() {
            return Some(Duration::ZERO);
        }
        let mut wake: Option<Instant> = None;
        let mut upto = |t: Instant| wake = Some(wake.map_or(t, |w| w.min(t)));
        if self.opts.legacy_poll.is_some() {
            upto(self.next_poll);
            if self.poll_now {
                upto(self.poll_after);
            }
        }
        if let Some(t) = self.audit.as_ref().and_then(|a| a.asm.deadline()) {
            upto(t);
        }
        if let Some(h) = self.held.front() {
            upto(h.wake(now));
        }
        wake.map(|t| t.saturating_duration_since(now))
    }

    /// Whether legacy changes can be attributed from audit records, and a note for a log.
    pub fn audit_state(&self) -> AuditState {
        AuditState {
            listening: self.audit.is_some(),
            note: self.audit_note.clone(),
        }
    }

    /// What the audit listener read (`None`: no listener).
    pub fn audit_stats(&self) -> Option<AuditStats> {
        self.audit.as_ref().map(|a| AuditStats {
            overruns: a.sock.stats.overruns,
            ..a.asm.stats
        })
    }

    /// Take the first view with `o`'s sockets, in the calling thread's namespace (the legacy
    /// read opens its own sockets), without the audit listener.
    fn start_here(o: Sockets) -> Result<Watcher> {
        let Sockets {
            events,
            mut dump,
            opts,
        } = o;
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
            view_rules: None,
            early: None,
            ready: VecDeque::new(),
            parts: None,
            skipped: 0,
            resyncs: 0,
            audit: None,
            audit_note: String::new(),
            audit_seen: false,
            hints: Vec::new(),
            poll_now: false,
            poll_after: Instant::now(),
            held: VecDeque::new(),
            readiness: None,
            watched_ns: None,
            legacy_stats: LegacyStats::default(),
        })
    }

    /// Poll legacy x_tables; hold what changed until its audit records name the writer (or
    /// [`AUDIT_HOLD`] passes, or no records are delivered), then queue it as an event.
    fn poll_legacy(&mut self) -> Result<()> {
        let Some(every) = self.opts.legacy_poll else {
            return Ok(());
        };
        self.legacy_stats.polls += 1;
        self.legacy_stats.audit_polls += u64::from(self.poll_now);
        self.poll_now = false;
        let started = Instant::now();
        self.next_poll = started + every;
        // The records that arrived before this poll started: their changes are in it (or in
        // an earlier one), never in a later one.
        let mut hints = std::mem::take(&mut self.hints);
        let sigs = match &self.netns {
            Some(ns) => legacy::signatures_in_netns(ns)?,
            None => legacy::signatures()?,
        };
        if !self.legacy.as_ref().is_some_and(|(old, _)| *old == sigs) {
            let fresh = match &self.netns {
                Some(ns) => legacy::read_all_in_netns(ns)?,
                None => legacy::read_all()?,
            };
            let (old_sigs, old) = self.legacy.take().unwrap_or_default();
            let records = events::legacy_records(&old, &fresh);
            self.legacy = Some((sigs, fresh));
            if !records.is_empty() {
                let mut groups: Vec<Group> = Vec::new();
                for r in &records {
                    if groups
                        .iter()
                        .any(|g| g.family == r.family && g.table == r.table)
                    {
                        continue;
                    }
                    let before = old_sigs
                        .iter()
                        .find(|s| legacy_family(s.family) == r.family && s.table == r.table)
                        .map_or(0, |s| s.num_entries);
                    groups.push(Group {
                        family: r.family.clone(),
                        table: r.table.clone(),
                        before,
                        cands: Vec::new(),
                    });
                }
                let now = Instant::now();
                self.held.push_back(Held {
                    records,
                    groups,
                    polled: now,
                    until: now + AUDIT_HOLD,
                });
            }
        }
        // The records go to the newest change of their table first: a record that arrived
        // before this poll is of a change this poll found, or (late) of one an earlier poll
        // found, never of a later one.
        for h in self.held.iter_mut().rev() {
            h.attach(&mut hints);
        }
        self.legacy_stats.hints_unmatched += hints.len() as u64;
        let now = Instant::now();
        self.poll_after = now + (now - started);
        self.release_held(now);
        Ok(())
    }

    /// Queue, in order, the held changes that are attributed, or waited for long enough.
    fn release_held(&mut self, now: Instant) {
        let live = self.audit.is_some() && self.audit_seen;
        let in_flight = match &self.audit {
            Some(a) if !self.held.is_empty() => a.asm.in_flight(),
            _ => Vec::new(),
        };
        while let Some(h) = self.held.front() {
            if live && now < h.until && !h.settled(now, self.watched_ns, &in_flight) {
                break;
            }
            if let Some(h) = self.held.pop_front() {
                let records = h.into_records(self.watched_ns, &mut self.legacy_stats);
                self.ready.push_back(Event::Legacy(records));
            }
        }
    }

    /// Read every waiting audit datagram; register/replace records of watched families become
    /// hints and ask for a poll.
    fn read_audit(&mut self) -> Result<()> {
        let Some(a) = &mut self.audit else {
            return Ok(());
        };
        let mut done = Vec::new();
        // Bounded, so that a flood of records cannot starve the nf_tables events.
        for _ in 0..4096 {
            match a.sock.recv() {
                Ok(Some(dg)) => {
                    done.extend(a.asm.feed(dg, Instant::now()));
                    self.audit_seen = true;
                }
                Ok(None) => break,
                Err(e) => {
                    // The listener is a help, never a reason to stop watching: poll alone.
                    self.audit = None;
                    self.audit_note = format!(
                        "the audit listener failed ({e}): legacy changes are polled, writers unknown"
                    );
                    break;
                }
            }
        }
        let Some(a) = &mut self.audit else {
            return Ok(());
        };
        done.extend(a.asm.expire(Instant::now()));
        for r in done {
            self.hint(r);
        }
        Ok(())
    }

    fn hint(&mut self, r: NetfilterRecord) {
        if !matches!(r.op, NfcfgOp::XtRegister | NfcfgOp::XtReplace)
            || !matches!(r.family_name(), Some("ip" | "ip6" | "arp"))
        {
            return;
        }
        if matches!((r.netns, self.watched_ns), (Some(a), Some(b)) if a != b) {
            self.legacy_stats.hints_foreign += 1;
            return;
        }
        if self.hints.len() >= 4096 {
            self.hints.remove(0);
            self.legacy_stats.hints_unmatched += 1;
        }
        self.hints.push(r);
        self.poll_now = true;
    }

    /// The watcher's current view (after every event returned so far).
    pub fn state(&self) -> &Ruleset {
        &self.state
    }

    /// The legacy x_tables tables as last polled (`None` when legacy tables are not watched).
    pub fn legacy_state(&self) -> Option<&legacy::LegacyRuleset> {
        self.legacy.as_ref().map(|(_, l)| l)
    }

    /// The network namespace watched (`None`: the caller's).
    pub fn netns(&self) -> Option<&str> {
        self.netns.as_deref()
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
    ///
    /// In a poll loop, wait for the watcher's descriptor (`AsRawFd`) to be readable, then call
    /// this with a zero timeout until it returns `None`.
    pub fn next_timeout(&mut self, timeout: Option<std::time::Duration>) -> Result<Option<Event>> {
        let r = self.next_inner(timeout);
        if let Some(rd) = &self.readiness {
            rd.arm(self.next_wake(Instant::now()))?;
        }
        r
    }

    fn next_inner(&mut self, timeout: Option<std::time::Duration>) -> Result<Option<Event>> {
        let deadline = timeout.map(|t| std::time::Instant::now() + t);
        loop {
            if self.parts.as_ref().is_some_and(|p| p.ahead == 0) {
                if let Some(e) = self.next_part() {
                    return Ok(Some(e));
                }
            }
            if let Some(e) = self.ready.pop_front() {
                if let Some(p) = &mut self.parts {
                    p.ahead = p.ahead.saturating_sub(1);
                }
                return Ok(Some(e));
            }
            let now = std::time::Instant::now();
            if let Some(a) = &mut self.audit {
                let late = a.asm.expire(now);
                for r in late {
                    self.hint(r);
                }
            }
            if self.opts.legacy_poll.is_some()
                && ((self.poll_now && now >= self.poll_after) || now >= self.next_poll)
            {
                self.poll_legacy()?;
                continue;
            }
            self.release_held(now);
            if !self.ready.is_empty() {
                continue;
            }
            // Wake for whichever comes first: the caller's deadline, the next legacy poll, the
            // end of an audit event's wait, or the end of a held change's wait.
            let wait = match (
                deadline.map(|d| d.saturating_duration_since(now)),
                self.next_wake(now),
            ) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            if wait == Some(std::time::Duration::ZERO) {
                // Out of time: take what has already arrived, then give up.
                if deadline.is_some_and(|d| now >= d) && !self.take_arrived()? {
                    return Ok(None);
                }
                continue;
            }
            if let Some(a) = &self.audit {
                let (events, audit) = poll2(self.events.raw().as_raw_fd(), a.sock.fd(), wait)?;
                if audit {
                    self.read_audit()?;
                }
                if !events {
                    if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                        return Ok(None);
                    }
                    continue;
                }
            }
            if !self.recv_events(wait)? && deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(None);
            }
        }
    }

    /// Receive one datagram of events, waiting at most `wait` (`None`: forever); whether one
    /// came (or the kernel's drop of events was handled by a resync).
    fn recv_events(&mut self, wait: Option<Duration>) -> Result<bool> {
        self.events.set_read_timeout(wait)?;
        match self.events.recv_datagram() {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(false),
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                self.resync("the kernel dropped events (ENOBUFS): socket receive buffer overrun")?;
                Ok(true)
            }
            Err(e) => Err(Error::io("receive nf_tables events", e)),
            Ok(buf) => {
                // Copy out of the socket buffer so `self` can be borrowed mutably below.
                let buf = buf.to_vec();
                self.handle_datagram(&buf)?;
                Ok(true)
            }
        }
    }

    /// Without waiting: read the audit records and the events already queued on the sockets;
    /// whether there were any.
    fn take_arrived(&mut self) -> Result<bool> {
        let audit_fd = self.audit.as_ref().map_or(-1, |a| a.sock.fd());
        let (events, audit) = poll2(
            self.events.raw().as_raw_fd(),
            audit_fd,
            Some(Duration::ZERO),
        )?;
        if audit {
            self.read_audit()?;
        }
        // The datagram is already there: a short timeout only guards against a race with
        // another reader (there is none).
        let got = events && self.recv_events(Some(Duration::from_millis(1)))?;
        Ok(got || audit)
    }

    /// The next part of the transaction in parts (`None`, and no more parts, when it is done).
    fn next_part(&mut self) -> Option<Event> {
        let p = self.parts.as_mut()?;
        let records = p.records.next_part(&self.state, p.max);
        let more = !p.records.done();
        let e = Event::Transaction(Transaction {
            generation: p.generation,
            process: p.process.clone(),
            changes: vec![],
            records,
            received: p.received,
            part: p.next,
            more,
        });
        p.next += 1;
        if !more {
            self.parts = None;
        }
        Some(e)
    }

    /// Queue the rest of a transaction in parts (in its place among the events), before the
    /// view changes again.
    fn finish_parts(&mut self) {
        while let Some(at) = self.parts.as_ref().map(|p| p.ahead) {
            match self.next_part() {
                Some(e) => {
                    self.ready.insert(at.min(self.ready.len()), e);
                    if let Some(p) = &mut self.parts {
                        p.ahead += 1;
                    }
                }
                None => self.parts = None,
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
                    self.finish_parts();
                    let pending = std::mem::take(&mut self.pending);
                    self.view_rules = None;
                    let generation = g.id.unwrap_or(self.state.generation);
                    let received = Some(SystemTime::now());
                    if let Some(max) = self.opts.parts.filter(|&m| pending.len() > m) {
                        let before = self.state.clone();
                        self.state
                            .apply_each(pending.iter().map(|p| (p.change(), p.packed())));
                        self.state.generation = generation;
                        let records = events::RecordParts::new(
                            generation,
                            Some(process.clone()),
                            pending,
                            before,
                        );
                        self.parts = Some(InParts {
                            records,
                            max,
                            ahead: self.ready.len(),
                            generation,
                            process,
                            received,
                            next: 0,
                        });
                        continue;
                    }
                    let changes: Vec<Change> = pending
                        .into_iter()
                        .map(events::Pending::into_change)
                        .collect();
                    let deleted = events::deleted_texts(&self.state, &changes);
                    self.state.apply_all(&changes);
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
                        received,
                        part: 0,
                        more: false,
                    }));
                }
                c => {
                    if self.pending.is_empty() && m.pid != 0 {
                        self.early = Some(ProcessInfo::lookup_any(m.pid));
                    }
                    let p = match c {
                        Change::DelRule(f, r) if self.view_holds(f, &r) => {
                            events::Pending::held(f, r)
                        }
                        c => events::Pending::new(c, nf.attrs),
                    };
                    self.pending.push(p);
                }
            }
        }
        Ok(())
    }

    /// Whether the view holds the rule `r` deletes, in a transaction that will come in parts
    /// (the view does not change before its NEWGEN).
    fn view_holds(&mut self, f: Family, r: &nft::Rule) -> bool {
        if self.opts.parts.is_none_or(|max| self.pending.len() < max) {
            return false;
        }
        let Some(h) = r.handle else { return false };
        let held = self.view_rules.get_or_insert_with(|| {
            let mut m: HashMap<(Family, String, String), HashSet<u64>> = HashMap::new();
            for t in &self.state.tables {
                for c in &t.chains {
                    m.entry((t.family, t.name().to_string(), c.name().to_string()))
                        .or_default()
                        .extend(c.rules.handles().flatten());
                }
            }
            m
        });
        let key = (
            f,
            r.table.clone().unwrap_or_default(),
            r.chain.clone().unwrap_or_default(),
        );
        held.get(&key).is_some_and(|hs| hs.contains(&h))
    }

    /// Replace our view by a fresh snapshot and queue the difference as a resync event.
    pub fn resync(&mut self, reason: &str) -> Result<()> {
        self.finish_parts();
        self.pending.clear();
        self.view_rules = None;
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

/// The watch records' name of a legacy family.
fn legacy_family(f: nfscope_wire::xt::entry::Family) -> &'static str {
    use nfscope_wire::xt::entry::Family;
    match f {
        Family::Ipv4 => "ip",
        Family::Ipv6 => "ip6",
        Family::Arp => "arp",
    }
}

/// The sockets of a watcher being started: the event socket is subscribed (nothing committed
/// from now on is missed) before the first snapshot is taken.
struct Sockets {
    events: NfSocket,
    dump: Vec<NfSocket>,
    opts: WatchOptions,
}

/// A watcher subscribed but without its first view yet ([`Opening::finish`] takes it, which is
/// the slow part and may run on another thread).
struct Opening {
    sockets: Sockets,
    netns: Option<String>,
    audit: std::result::Result<AuditListener, String>,
}

impl Opening {
    /// Subscribe in `netns` (`None`: here) and open the audit listener here.
    fn new(opts: WatchOptions, netns: Option<&str>) -> Result<Opening> {
        let audit = Watcher::open_audit(&opts);
        let open = move || -> Result<Sockets> {
            let events = NfSocket::open_events(opts.rcvbuf)?;
            let dump = snapshot::open_sockets(&opts.snapshot)?;
            Ok(Sockets { events, dump, opts })
        };
        Ok(Opening {
            sockets: crate::netns::run_in_opt(netns, open)?,
            netns: netns.map(str::to_string),
            audit,
        })
    }

    /// Take the first view and make the watcher.
    fn finish(self) -> Result<Watcher> {
        let ns = self.netns.as_deref();
        let sockets = self.sockets;
        let mut w = crate::netns::run_in_opt(ns, move || Watcher::start_here(sockets))?;
        w.watched_ns = match ns {
            Some(n) => crate::audit::ns_id(&crate::netns::path_of(n)),
            None => crate::audit::ns_id(std::path::Path::new("/proc/thread-self/ns/net")),
        };
        w.netns = self.netns;
        w.set_audit(self.audit);
        w.make_ready()?;
        Ok(w)
    }
}

/// For poll loops (`poll`, `epoll`, mio, tokio's `AsyncFd`): the descriptor is readable when
/// [`Watcher::next_timeout`] has something to do: an nf_tables event or audit record arrived, or
/// the watcher's own deadline (the next legacy poll) passed. It stays readable until
/// `next_timeout(Some(Duration::ZERO))` has taken what there is.
impl AsRawFd for Watcher {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        match &self.readiness {
            Some(r) => r.as_raw_fd(),
            None => self.events.raw().as_raw_fd(),
        }
    }
}

/// The watch as a tokio [`Stream`](tokio_stream::Stream) of events. This only subscribes (every
/// change committed after it returns is seen); the first snapshot is taken, and the watcher runs,
/// on a dedicated thread, so the runtime is never blocked. Events come over a bounded channel of
/// `buffer` events; the watcher stops when the stream is dropped. A failure to subscribe is
/// returned here; a failure of the first snapshot is the stream's first (and last) item.
#[cfg(feature = "tokio")]
pub fn stream(
    opts: WatchOptions,
    netns: Option<&str>,
    buffer: usize,
) -> Result<tokio_stream::wrappers::ReceiverStream<Result<Event>>> {
    // Subscribed here, so nothing committed after this returns is missed; the first snapshot
    // is taken on the watch thread.
    let opening = Opening::new(opts, netns)?;
    let (tx, rx) = tokio::sync::mpsc::channel(buffer.max(1));
    std::thread::Builder::new()
        .name("nfscope-watch".into())
        .spawn(move || match opening.finish() {
            Ok(w) => forward(w, &tx),
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
            }
        })
        .map_err(|e| Error::io("spawn the watch thread", e))?;
    Ok(tokio_stream::wrappers::ReceiverStream::new(rx))
}

/// Hand `w`'s events to `tx` until the receiver is dropped or the watcher fails.
#[cfg(feature = "tokio")]
fn forward(mut w: Watcher, tx: &tokio::sync::mpsc::Sender<Result<Event>>) {
    loop {
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(serial: u64, pid: u32, entries: u32, netns: Option<NsId>) -> NetfilterRecord {
        NetfilterRecord {
            serial,
            time_unix_ms: 1000,
            id: format!("1.000:{serial}"),
            table: "filter".into(),
            family: 2,
            entries: Some(entries),
            op: NfcfgOp::XtReplace,
            pid,
            comm: "iptables-legacy".into(),
            ppid: None,
            uid: None,
            auid: None,
            exe: Some("/usr/sbin/xtables-legacy-multi".into()),
            cmdline: None,
            live: None,
            netns,
        }
    }

    fn group(before: u32, cands: Vec<NetfilterRecord>) -> Group {
        Group {
            family: "ip".into(),
            table: "filter".into(),
            before,
            cands,
        }
    }

    fn writer(d: Decision<'_>) -> Option<(u32, bool)> {
        match d {
            Decision::Writer(h, c) => Some((h.pid, c)),
            _ => None,
        }
    }

    #[test]
    fn who_wrote_a_polled_change() {
        let ours = Some((1, 100));
        // One record, entry count as we saw it: that writer (not confirmed: gone on arrival).
        assert_eq!(
            writer(group(5, vec![rec(7, 42, 5, None)]).decide(ours)),
            Some((42, false))
        );
        // Confirmed by its namespace.
        assert_eq!(
            writer(group(5, vec![rec(7, 42, 5, ours)]).decide(ours)),
            Some((42, true))
        );
        // Register then replace by one process (a table's first use): the last record.
        let g = group(0, vec![rec(8, 42, 4, None), rec(7, 42, 0, None)]);
        assert_eq!(writer(g.decide(ours)).map(|w| w.0), Some(42));
        // A record of another table instance (count differs) first, then ours: ours.
        let g = group(5, vec![rec(6, 13, 9, None), rec(7, 42, 5, None)]);
        assert_eq!(writer(g.decide(ours)).map(|w| w.0), Some(42));
        // Only a record whose count does not match: nobody (yet).
        assert!(matches!(
            group(5, vec![rec(6, 13, 9, None)]).decide(ours),
            Decision::Open
        ));
        // Two writers since the last poll: ambiguous, whatever their order.
        let g = group(5, vec![rec(7, 42, 5, None), rec(8, 43, 6, None)]);
        assert!(matches!(g.decide(ours), Decision::Ambiguous));
        assert!(matches!(group(5, vec![]).decide(ours), Decision::Open));
    }

    #[test]
    fn a_held_change_waits_for_an_unconfirmed_writer_then_settles() {
        let t = Instant::now();
        let mut h = Held {
            records: vec![],
            groups: vec![group(5, vec![])],
            polled: t,
            until: t + AUDIT_HOLD,
        };
        assert!(!h.settled(t, None, &[]));
        let mut hints = vec![rec(7, 42, 5, None)];
        h.attach(&mut hints);
        assert!(hints.is_empty());
        assert!(!h.settled(t, None, &[]), "settles only after AUDIT_SETTLE");
        assert_eq!(h.wake(t), t + AUDIT_SETTLE);
        assert!(h.settled(t + AUDIT_SETTLE, None, &[]));
        // Another writer's record of the same table still being assembled: wait for it.
        let other = [("ip".to_string(), "filter".to_string(), 43)];
        assert!(!h.settled(t + AUDIT_SETTLE, None, &other));
        // A confirmed writer settles at once.
        let mut h2 = Held {
            records: vec![],
            groups: vec![group(5, vec![rec(7, 42, 5, Some((1, 1)))])],
            polled: t,
            until: t + AUDIT_HOLD,
        };
        assert!(h2.settled(t, Some((1, 1)), &[]));
        // Records of other tables are left for others.
        let mut hints = vec![NetfilterRecord {
            table: "nat".into(),
            ..rec(9, 42, 5, None)
        }];
        h2.attach(&mut hints);
        assert_eq!(hints.len(), 1);
    }
}
