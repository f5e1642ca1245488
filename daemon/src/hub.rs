//! One writer, many readers. A dedicated thread owns the netlink watch (the kernel's events are
//! never slowed by a client). Each transaction's records go to the history first (durably),
//! then into an in-memory window of recent entries with a sequence number. Every Watch
//! subscriber is a task with its own cursor into that window: it sends as fast as its client
//! reads, and the writer never waits for it. A subscriber whose cursor falls out of the window
//! (it read too slowly) gets a `resync` marker and a fresh snapshot marker, then continues from
//! the newest entries: it never slows the others or the reader.

use crate::metrics::Metrics;
use crate::proto_conv;
use nfscope::events::Record;
use nfscope::history::{History, Query, Stored};
use nfscope::watch::{Event, WatchOptions, Watcher};
use nfscope_proto::v1::{self as pb, watch_event, Snapshot, WatchEvent};
use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, watch};
use tonic::Status;

/// One entry of the window.
pub enum Entry {
    Record(Box<(Stored, pb::Record)>),
    /// The kernel dropped events; the records that follow are the diff against our last view.
    Resync(Snapshot),
}

pub struct Hub {
    window: Mutex<VecDeque<(u64, Arc<Entry>)>>,
    capacity: usize,
    seq: Mutex<u64>,
    latest: watch::Sender<u64>,
    closed: watch::Sender<bool>,
    pub history: Mutex<History>,
    pub metrics: Arc<Metrics>,
    /// Current generation and rule count, as the watcher last saw them.
    pub current: Mutex<(u32, u64)>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Hub {
    pub fn new(history: History, metrics: Arc<Metrics>, capacity: usize) -> Arc<Hub> {
        Arc::new(Hub {
            window: Mutex::new(VecDeque::new()),
            capacity: capacity.max(16),
            seq: Mutex::new(0),
            latest: watch::channel(0).0,
            closed: watch::channel(false).0,
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

    /// The sequence number of the newest entry.
    pub fn latest(&self) -> u64 {
        *lock(&self.seq)
    }

    /// A consistent starting point for a new subscriber: the newest window entry and the
    /// newest history id (taken under the history lock, so no batch is half published).
    pub fn position(&self) -> (u64, u64) {
        let h = lock(&self.history);
        (self.latest(), h.next_id().saturating_sub(1))
    }

    /// Becomes true when the daemon shuts down.
    pub fn subscribe_closed(&self) -> watch::Receiver<bool> {
        self.closed.subscribe()
    }

    /// End every stream (shutdown).
    pub fn close_all(&self) {
        let _ = self.closed.send(true);
    }

    fn push(&self, entries: Vec<Entry>) {
        let mut w = lock(&self.window);
        let mut seq = lock(&self.seq);
        for e in entries {
            *seq += 1;
            w.push_back((*seq, Arc::new(e)));
        }
        while w.len() > self.capacity {
            w.pop_front();
        }
        let _ = self.latest.send(*seq);
    }

    /// Store and publish one batch of records (a transaction, or a resync after lost events).
    pub fn publish(&self, records: &[Record], resync: Option<&str>) {
        let stored: Vec<Stored> = match lock(&self.history).append(records) {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "history append failed; records published without history ids");
                records
                    .iter()
                    .map(|r| Stored {
                        id: 0,
                        time_unix_ms: nfscope::history::now_ms(),
                        record: r.clone(),
                    })
                    .collect()
            }
        };
        self.metrics.count_records(&stored);
        let mut entries = Vec::with_capacity(stored.len() + 1);
        if let Some(why) = resync {
            entries.push(Entry::Resync(
                self.snapshot_marker(why, stored.len() as u64),
            ));
        }
        entries.extend(stored.into_iter().map(|s| {
            let p = proto_conv::record(&s);
            Entry::Record(Box::new((s, p)))
        }));
        self.push(entries);
    }

    /// Entries after `cursor` (at most `max`), or how many were missed when the cursor fell out
    /// of the window.
    fn read_after(&self, cursor: u64, max: usize) -> Result<Vec<(u64, Arc<Entry>)>, u64> {
        let w = lock(&self.window);
        let Some(&(front, _)) = w.front() else {
            return Ok(vec![]);
        };
        if front > cursor + 1 {
            return Err(front - cursor - 1);
        }
        let start = (cursor + 1 - front) as usize;
        Ok(w.iter()
            .skip(start)
            .take(max)
            .map(|(s, e)| (*s, e.clone()))
            .collect())
    }

    /// Serve one Watch subscriber from `cursor` into `tx` until the client goes away or the
    /// daemon shuts down.
    pub async fn serve(
        self: Arc<Self>,
        mut cursor: u64,
        skip_upto_id: u64,
        query: Query,
        tx: mpsc::Sender<Result<WatchEvent, Status>>,
    ) {
        let mut latest = self.latest.subscribe();
        let mut closed = self.closed.subscribe();
        loop {
            if *closed.borrow() {
                return;
            }
            match self.read_after(cursor, 1024) {
                Err(missed) => {
                    self.metrics
                        .subscriber_resyncs
                        .fetch_add(1, Ordering::Relaxed);
                    let why = format!("this subscriber fell behind; {missed} events not sent");
                    let now = self.latest();
                    let r = WatchEvent {
                        event: Some(watch_event::Event::Resync(self.snapshot_marker(&why, 0))),
                    };
                    let s = WatchEvent {
                        event: Some(watch_event::Event::Snapshot(
                            self.snapshot_marker("resync", 0),
                        )),
                    };
                    if tx.send(Ok(r)).await.is_err() || tx.send(Ok(s)).await.is_err() {
                        return;
                    }
                    cursor = now;
                }
                Ok(batch) if batch.is_empty() => {
                    tokio::select! {
                        r = latest.changed() => if r.is_err() { return },
                        _ = closed.changed() => return,
                        _ = tx.closed() => return,
                    }
                }
                Ok(batch) => {
                    for (seq, e) in batch {
                        cursor = seq;
                        let ev = match &*e {
                            Entry::Record(b) if b.0.id != 0 && b.0.id <= skip_upto_id => continue,
                            Entry::Record(b) if query.matches(&b.0) => {
                                watch_event::Event::Record(b.1.clone())
                            }
                            Entry::Record(..) => continue,
                            Entry::Resync(m) => watch_event::Event::Resync(m.clone()),
                        };
                        if tx.send(Ok(WatchEvent { event: Some(ev) })).await.is_err() {
                            return;
                        }
                    }
                }
            }
        }
    }
}

/// Run the watcher on this (dedicated) thread until the process ends.
pub fn run_watcher(
    hub: Arc<Hub>,
    netns: Option<String>,
    ready: std::sync::mpsc::Sender<Result<(), String>>,
) {
    let opts = WatchOptions::default();
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
    hub.metrics.set_view(&w);
    let audit = w.audit_state();
    tracing::info!(listening = audit.listening, note = %audit.note, "legacy x_tables attribution (audit)");
    let _ = ready.send(Ok(()));
    loop {
        // Wake when the metrics' findings and writers are due for a refresh.
        match w.next_timeout(Some(hub.metrics.refresh_in())) {
            Ok(None) => hub.metrics.refresh(&w),
            Ok(Some(ev)) => {
                let t0 = std::time::Instant::now();
                *lock(&hub.current) = (w.state().generation, w.state().rule_count() as u64);
                match &ev {
                    Event::Transaction(t) => hub.publish(&t.records, None),
                    Event::Resync(r) => {
                        hub.metrics.kernel_resyncs.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(reason = %r.reason, generation = r.generation, "resync");
                        hub.publish(&r.records, Some(&r.reason));
                    }
                    Event::Legacy(records) => hub.publish(records, None),
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
