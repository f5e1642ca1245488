//! One writer, many readers. A dedicated thread owns the netlink watch (the kernel's events are
//! never slowed by a client). Each transaction's records go to the history first (durably) and
//! get consecutive ids; the hub then publishes the newest id. Nothing of a record stays in
//! memory: every Watch subscriber is a task with its own cursor (the last history id it
//! considered) that reads the records after it back from the history in chunks, and sends as
//! fast as its client reads; the writer never waits for it. A subscriber more than
//! `--subscriber-window` records behind the end of the transaction it is in (it read too
//! slowly) gets a `resync` marker saying exactly how many records it was not sent, and a fresh
//! snapshot marker, then continues from the newest record: it never slows the others or the
//! reader. A transaction larger than the window is not "behind": a subscriber reading it
//! gets all of it.

use crate::metrics::Metrics;
use crate::proto_conv;
use nfscope::events::Record;
use nfscope::gap;
use nfscope::history::{History, Query, Reader, StateUpdate};
use nfscope::watch::{Event, WatchOptions, Watcher};
use nfscope_proto::v1::{self as pb, watch_event, Snapshot, WatchEvent};
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, watch};
use tonic::Status;

/// Records read from the history per step of a subscriber (the next step is read while one is
/// sent).
const CHUNK: u64 = 512;
/// The newest records are also kept converted, up to this many bytes (subscribers at the head
/// take them from here instead of each reading and converting them again).
const RECENT_BYTES: usize = 8 << 20;
/// A transaction of more changes than this is stored and published in parts of this many
/// records (one write transaction of the history each, with the state update of its records).
const PART: usize = 4096;
/// Kernel resync markers kept for subscribers that have not reached them yet.
const MARKERS: usize = 1024;

/// A chunk of records being read: the first id read, and the events of those selected.
type Chunk = tokio::task::JoinHandle<anyhow::Result<(Option<u64>, Vec<WatchEvent>)>>;

/// A kernel resync marker: sent before the record `before_id`.
struct Marker {
    seq: u64,
    before_id: u64,
    snapshot: Snapshot,
}

/// What was published, without the records themselves (those are in the history).
#[derive(Default)]
struct Feed {
    /// The newest record id published.
    head: u64,
    /// First and last id of each recent transaction (those within the window of `head`).
    batches: VecDeque<(u64, u64)>,
    markers: VecDeque<Marker>,
    marker_seq: u64,
    /// The newest records, converted (consecutive ids), and their total encoded size.
    recent: VecDeque<Arc<pb::Record>>,
    recent_bytes: usize,
}

impl Feed {
    /// How many records after the end of the transaction holding `id` have been published
    /// (for an id of a forgotten transaction: after `id` itself).
    fn lag(&self, id: u64) -> u64 {
        let i = self.batches.partition_point(|&(first, _)| first <= id);
        match i.checked_sub(1).map(|i| self.batches[i]) {
            Some((first, last)) if first <= id && id <= last => self.head - last,
            _ => self.head.saturating_sub(id.saturating_sub(1)),
        }
    }
}

/// Where a new subscriber starts: the newest record id and marker published.
#[derive(Clone, Copy)]
pub struct Position {
    pub head: u64,
    marker_seq: u64,
}

pub struct Hub {
    feed: Mutex<Feed>,
    window: u64,
    /// Bumped at every publication (records or a marker).
    latest: watch::Sender<u64>,
    closed: watch::Sender<bool>,
    pub history: Mutex<History>,
    pub reader: Reader,
    pub metrics: Arc<Metrics>,
    /// Current generation and rule count, as the watcher last saw them.
    pub current: Mutex<(u32, u64)>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn event(e: watch_event::Event) -> Result<WatchEvent, Status> {
    Ok(WatchEvent { event: Some(e) })
}

impl Hub {
    pub fn new(history: History, metrics: Arc<Metrics>, window: usize) -> Arc<Hub> {
        let feed = Feed {
            head: history.next_id().saturating_sub(1),
            ..Feed::default()
        };
        Arc::new(Hub {
            feed: Mutex::new(feed),
            window: window.max(16) as u64,
            latest: watch::channel(0).0,
            closed: watch::channel(false).0,
            reader: history.reader(),
            history: Mutex::new(history),
            metrics,
            current: Mutex::new((0, 0)),
        })
    }

    pub fn snapshot_marker(&self, reason: &str, changes: u64) -> Snapshot {
        let (generation, rules) = *lock(&self.current);
        Snapshot {
            generation,
            rules,
            reason: reason.to_string(),
            changes,
            text: String::new(),
        }
    }

    /// A consistent starting point for a new subscriber (taken under the history lock, so no
    /// batch is half published).
    pub fn position(&self) -> Position {
        let _h = lock(&self.history);
        let f = lock(&self.feed);
        Position {
            head: f.head,
            marker_seq: f.marker_seq,
        }
    }

    /// Becomes true when the daemon shuts down.
    pub fn subscribe_closed(&self) -> watch::Receiver<bool> {
        self.closed.subscribe()
    }

    /// End every stream (shutdown).
    pub fn close_all(&self) {
        let _ = self.closed.send(true);
    }

    /// Store and publish one batch of records (a transaction, or a resync after lost events).
    pub fn publish(&self, records: Vec<Record>, resync: Option<&str>, state: &StateUpdate) {
        self.publish_part(records, resync, state, false)
    }

    /// [`Hub::publish`] of a part of a transaction; `continues`: the records follow the
    /// previous part's, in the same transaction (for the window, one batch).
    pub fn publish_part(
        &self,
        records: Vec<Record>,
        resync: Option<&str>,
        state: &StateUpdate,
        continues: bool,
    ) {
        let mut h = lock(&self.history);
        let n = records.len();
        let stored = match h.append_with_state(records, state) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, records = n, "history append failed; these records cannot be sent");
                vec![]
            }
        };
        self.metrics.count_records(&stored);
        let mut f = lock(&self.feed);
        if let Some(why) = resync {
            f.marker_seq += 1;
            let m = Marker {
                seq: f.marker_seq,
                before_id: f.head + 1,
                snapshot: self.snapshot_marker(why, stored.len() as u64),
            };
            f.markers.push_back(m);
            if f.markers.len() > MARKERS {
                f.markers.pop_front();
            }
        }
        // Only the newest records that fit are converted: a large transaction is never held
        // converted whole (80k rules restored are 160k records).
        let mut tail = VecDeque::new();
        let mut tail_bytes = 0;
        for r in stored.iter().rev() {
            if tail_bytes > RECENT_BYTES {
                break;
            }
            let p = proto_conv::record(r);
            tail_bytes += prost::Message::encoded_len(&p);
            tail.push_front(Arc::new(p));
        }
        if tail.len() < stored.len() {
            f.recent.clear();
            f.recent_bytes = 0;
        }
        f.recent_bytes += tail_bytes;
        f.recent.extend(tail);
        while f.recent_bytes > RECENT_BYTES {
            let Some(r) = f.recent.pop_front() else { break };
            f.recent_bytes -= prost::Message::encoded_len(&*r);
        }
        if let (Some(first), Some(last)) = (stored.first(), stored.last()) {
            f.head = last.id;
            match f.batches.back_mut() {
                Some(b) if continues && b.1 + 1 == first.id => b.1 = last.id,
                _ => f.batches.push_back((first.id, last.id)),
            }
            let head = f.head;
            while f
                .batches
                .front()
                .is_some_and(|&(_, last)| last + self.window < head)
            {
                f.batches.pop_front();
            }
        }
        drop(f);
        drop(h);
        self.latest.send_modify(|n| *n += 1);
    }

    /// Serve one Watch subscriber into `tx` until the client goes away or the daemon shuts
    /// down: the records after id `from` (a replay when `from < at.head`), then live ones.
    pub async fn serve(
        self: Arc<Self>,
        from: u64,
        at: Position,
        query: Query,
        tx: mpsc::Sender<Result<WatchEvent, Status>>,
    ) {
        let mut latest = self.latest.subscribe();
        let mut closed = self.closed.subscribe();
        let mut cursor = from;
        let mut marker_seq = at.marker_seq;
        // The chunk read ahead: (after, upto, live) and the read.
        let mut ahead: Option<((u64, u64, bool), Chunk)> = None;
        loop {
            if *closed.borrow() {
                return;
            }
            latest.mark_unchanged();
            let (head, lag, markers, next_marker) = {
                let f = lock(&self.feed);
                let due = |m: &&Marker| m.seq > marker_seq && m.before_id <= cursor + 1;
                let markers: Vec<(u64, Snapshot)> = f
                    .markers
                    .iter()
                    .filter(due)
                    .map(|m| (m.seq, m.snapshot.clone()))
                    .collect();
                let next_marker = f
                    .markers
                    .iter()
                    .filter(|m| m.seq > marker_seq && m.before_id > cursor + 1)
                    .map(|m| m.before_id)
                    .min();
                // A replay (before the start position) is never "behind".
                let lag = if cursor >= at.head && cursor < f.head {
                    f.lag(cursor + 1)
                } else {
                    0
                };
                (f.head, lag, markers, next_marker)
            };
            for (seq, m) in markers {
                marker_seq = seq;
                if tx.send(event(watch_event::Event::Resync(m))).await.is_err() {
                    return;
                }
            }
            if cursor >= head {
                tokio::select! {
                    r = latest.changed() => if r.is_err() { return },
                    _ = closed.changed() => return,
                    _ = tx.closed() => return,
                }
                continue;
            }
            if lag > self.window {
                let why = "this subscriber fell behind";
                if !self.missed(head - cursor, why, &tx).await {
                    return;
                }
                cursor = head;
                continue;
            }
            let mut upto = head.min(cursor + CHUNK);
            if let Some(b) = next_marker {
                upto = upto.min(b - 1);
            }
            let cached: Option<Vec<Arc<pb::Record>>> = {
                let f = lock(&self.feed);
                match f.recent.front() {
                    Some(r) if r.id <= cursor + 1 => {
                        let skip = (cursor + 1 - r.id) as usize;
                        Some(
                            f.recent
                                .iter()
                                .skip(skip)
                                .take_while(|r| r.id <= upto)
                                .cloned()
                                .collect(),
                        )
                    }
                    _ => None,
                }
            };
            if let Some(recs) = cached.filter(|c| c.last().is_some_and(|r| r.id == upto)) {
                let live = cursor >= at.head;
                for r in recs {
                    if !matches(&query, &r, live) {
                        continue;
                    }
                    let ev = event(watch_event::Event::Record((*r).clone()));
                    if tx.send(ev).await.is_err() {
                        return;
                    }
                }
                cursor = upto;
                continue;
            }
            let live = cursor >= at.head;
            let read = match ahead.take() {
                Some((key, read)) if key == (cursor, upto, live) => read,
                _ => self.read(cursor, upto, &query, live),
            };
            // The next full chunk is read meanwhile (while this one is sent), when it is
            // already published and no marker comes before its end.
            let next = upto + CHUNK;
            if next <= head && next_marker.is_none_or(|b| b > next) {
                let fresh = {
                    let f = lock(&self.feed);
                    f.recent.front().is_none_or(|r| r.id > upto + 1)
                };
                if fresh {
                    let live = upto >= at.head;
                    ahead = Some(((upto, next, live), self.read(upto, next, &query, live)));
                }
            }
            let (first, evs) = match read.await {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "history read failed");
                    let _ = tx
                        .send(Err(Status::internal(format!("history read: {e}"))))
                        .await;
                    return;
                }
                Err(e) => {
                    let _ = tx.send(Err(Status::internal(e.to_string()))).await;
                    return;
                }
            };
            // Records pruned from the history (or never stored) before this subscriber read
            // them: said, with their exact count.
            let gone = first.map_or(upto, |f| f - 1) - cursor;
            if gone > 0 && !self.missed(gone, "no longer in the history", &tx).await {
                return;
            }
            for ev in evs {
                if tx.send(Ok(ev)).await.is_err() {
                    return;
                }
            }
            cursor = upto;
        }
    }

    /// Read (on a blocking thread) and convert the records with ids in `after+1 ..= upto`
    /// that `query` selects (`live`: since_generation selects what is replayed, not the live
    /// records); with the first id read.
    fn read(&self, after: u64, upto: u64, query: &Query, live: bool) -> Chunk {
        let reader = self.reader.clone();
        let q = Query {
            after_generation: if live { 0 } else { query.after_generation },
            ..query.clone()
        };
        tokio::task::spawn_blocking(move || {
            let mut first = None;
            let mut evs = Vec::with_capacity((upto - after).min(CHUNK) as usize);
            // Each record's JSON is cut from its stored bytes, not serialized again.
            reader
                .range_with_json(after, upto, CHUNK as usize, |s, json| {
                    first.get_or_insert(s.id);
                    if q.matches(&s) {
                        let r = proto_conv::record_with_json(s, json);
                        evs.push(WatchEvent {
                            event: Some(watch_event::Event::Record(r)),
                        });
                    }
                })
                .map(|_| (first, evs))
        })
    }

    /// Tell a subscriber `n` records were not sent (`resync` with the count, then a fresh
    /// snapshot marker); false when the client is gone.
    async fn missed(
        &self,
        n: u64,
        why: &str,
        tx: &mpsc::Sender<Result<WatchEvent, Status>>,
    ) -> bool {
        self.metrics
            .subscriber_resyncs
            .fetch_add(1, Ordering::Relaxed);
        let r = self.snapshot_marker(&format!("{n} records not sent: {why}"), 0);
        let s = self.snapshot_marker("resync", 0);
        tx.send(event(watch_event::Event::Resync(r))).await.is_ok()
            && tx
                .send(event(watch_event::Event::Snapshot(s)))
                .await
                .is_ok()
    }
}

/// `q.matches` for a converted record (`live`: since_generation does not apply).
fn matches(q: &Query, r: &pb::Record, live: bool) -> bool {
    r.id > q.after_id
        && (live || q.after_generation == 0 || r.generation > q.after_generation)
        && (q.family.is_empty() || r.family == q.family)
        && (q.table.is_empty() || r.table == q.table)
        && (q.chain.is_empty() || r.chain == q.chain)
        && (!q.alerts_only || r.alert.is_some())
}

/// Run the watcher on this (dedicated) thread until the process ends.
pub fn run_watcher(
    hub: Arc<Hub>,
    netns: Option<String>,
    ready: std::sync::mpsc::Sender<Result<(), String>>,
) {
    // A large transaction is stored and published in parts: never held whole.
    let opts = WatchOptions {
        parts: Some(PART),
        ..WatchOptions::default()
    };
    let started = match &netns {
        Some(ns) => Watcher::start_in_netns(ns, opts),
        None => Watcher::start(opts),
    };
    let mut w = match started {
        Ok(w) => w,
        Err(e) => {
            let _ = ready.send(Err(e.to_string()));
            return;
        }
    };
    *lock(&hub.current) = (w.state().generation, w.state().rule_count() as u64);
    // Changes made while the daemon was down: recorded before any client can connect.
    let gap = {
        let mut h = lock(&hub.history);
        gap::on_start(&mut h, w.state(), w.legacy_state())
    };
    match gap {
        Ok(Some((records, state))) => {
            tracing::info!(
                changes = records.len() - 1,
                "changes while nfscoped was down recorded under a gap marker"
            );
            hub.publish(records, None, &state);
        }
        Ok(None) => tracing::info!("no stored state to compare with: stored now"),
        Err(e) => tracing::error!(error = %e, "comparing with the stored state failed"),
    }
    hub.metrics.set_view(&w);
    let audit = w.audit_state();
    tracing::info!(listening = audit.listening, note = %audit.note, "legacy x_tables attribution (audit)");
    let _ = ready.send(Ok(()));
    // Noted in the history about once a minute: after kill -9, the next start's gap marker
    // says when the daemon was last alive.
    let mut alive = std::time::Instant::now();
    loop {
        if alive.elapsed() >= std::time::Duration::from_secs(30) {
            alive = std::time::Instant::now();
            if let Err(e) = gap::mark_alive(&mut lock(&hub.history)) {
                tracing::warn!(error = %e, "could not note the daemon alive in the history");
            }
        }
        // Wake when the metrics' findings and writers are due for a refresh.
        match w.next_timeout(Some(hub.metrics.refresh_in())) {
            Ok(None) => hub.metrics.refresh(&w),
            Ok(Some(ev)) => {
                let t0 = std::time::Instant::now();
                *lock(&hub.current) = (w.state().generation, w.state().rule_count() as u64);
                let state = |records| gap::update_for(records, w.state(), w.legacy_state());
                match ev {
                    Event::Transaction(mut t) => {
                        // The decoded netlink changes are not needed: free them before the
                        // records are stored.
                        let records = std::mem::take(&mut t.records);
                        let continues = t.part > 0;
                        drop(t);
                        let st = state(&records);
                        hub.publish_part(records, None, &st, continues)
                    }
                    Event::Resync(r) => {
                        hub.metrics.kernel_resyncs.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(reason = %r.reason, generation = r.generation, "resync");
                        let st = state(&r.records);
                        hub.publish(r.records, Some(&r.reason), &st);
                    }
                    Event::Legacy(records) => {
                        let st = state(&records);
                        hub.publish(records, None, &st)
                    }
                }
                hub.metrics.observe_latency(t0.elapsed());
                hub.metrics.set_view(&w);
            }
            Err(e) => {
                tracing::error!(error = %e, "watch failed; resynchronising");
                std::thread::sleep(std::time::Duration::from_secs(1));
                if let Err(e) = w.resync("watch error; resynchronised") {
                    tracing::error!(error = %e, "resync failed");
                }
            }
        }
    }
}
