//! One writer, many readers. A dedicated thread owns the netlink watch (the kernel's events are
//! never slowed by a client); each transaction's records go to the history first (durably),
//! then to every subscriber's bounded queue with `try_send`. A subscriber whose queue is full is
//! marked lagging and its events dropped; when it has room again it gets a `resync` marker and a
//! fresh snapshot marker, then live events: it never slows the others or the reader.

use crate::metrics::Metrics;
use crate::proto_conv;
use nfscope::events::Record;
use nfscope::history::{History, Query, Stored};
use nfscope::watch::{Event, WatchOptions, Watcher};
use nfscope_proto::v1::{watch_event, Snapshot, WatchEvent};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;
use tonic::Status;

pub type Tx = mpsc::Sender<Result<WatchEvent, Status>>;

struct Subscriber {
    id: u64,
    tx: Tx,
    query: Query,
    /// Events dropped since it fell behind (0: in step).
    dropped: u64,
}

pub struct Hub {
    subs: Mutex<Vec<Subscriber>>,
    next_sub: Mutex<u64>,
    pub history: Mutex<History>,
    pub metrics: Arc<Metrics>,
    /// Current generation and rule count, as the watcher last saw them.
    pub current: Mutex<(u32, u64)>,
}

impl Hub {
    pub fn new(history: History, metrics: Arc<Metrics>) -> Arc<Hub> {
        Arc::new(Hub {
            subs: Mutex::new(vec![]),
            next_sub: Mutex::new(1),
            history: Mutex::new(history),
            metrics,
            current: Mutex::new((0, 0)),
        })
    }

    /// Register a subscriber; returns its id and the last history id it will not receive live.
    pub fn subscribe(&self, tx: Tx, query: Query) -> (u64, u64) {
        let mut subs = self.subs.lock().unwrap_or_else(|p| p.into_inner());
        let id = {
            let mut n = self.next_sub.lock().unwrap_or_else(|p| p.into_inner());
            *n += 1;
            *n
        };
        // Taken under the subscribers lock: every later record goes live to this subscriber.
        let last = self.history.lock().map(|h| h.next_id() - 1).unwrap_or(0);
        subs.push(Subscriber {
            id,
            tx,
            query,
            dropped: 0,
        });
        self.metrics
            .subscribers
            .store(subs.len() as u64, Ordering::Relaxed);
        (id, last)
    }

    pub fn unsubscribe(&self, id: u64) {
        let mut subs = self.subs.lock().unwrap_or_else(|p| p.into_inner());
        subs.retain(|s| s.id != id);
        self.metrics
            .subscribers
            .store(subs.len() as u64, Ordering::Relaxed);
    }

    /// End every stream (shutdown).
    pub fn close_all(&self) {
        let mut subs = self.subs.lock().unwrap_or_else(|p| p.into_inner());
        subs.clear();
        self.metrics.subscribers.store(0, Ordering::Relaxed);
    }

    fn snapshot_marker(&self, reason: &str, changes: u64) -> Snapshot {
        let (generation, rules) = *self.current.lock().unwrap_or_else(|p| p.into_inner());
        Snapshot {
            generation,
            rules,
            reason: reason.to_string(),
            changes,
        }
    }

    /// Store and fan out one batch of records (a transaction or a resync).
    pub fn publish(&self, records: &[Record], resync: Option<&str>) {
        let stored: Vec<Stored> = match self.history.lock().map(|mut h| h.append(records)) {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "history append failed; records sent without history ids");
                records
                    .iter()
                    .map(|r| Stored {
                        id: 0,
                        time_unix_ms: nfscope::history::now_ms(),
                        record: r.clone(),
                    })
                    .collect()
            }
            Err(_) => return,
        };
        self.metrics.count_records(&stored);
        let mut subs = self.subs.lock().unwrap_or_else(|p| p.into_inner());
        let resync_marker = resync.map(|why| self.snapshot_marker(why, stored.len() as u64));
        subs.retain_mut(|s| {
            if s.tx.is_closed() {
                return false;
            }
            if let Some(m) = &resync_marker {
                if s.tx
                    .try_send(Ok(WatchEvent {
                        event: Some(watch_event::Event::Resync(m.clone())),
                    }))
                    .is_err()
                {
                    s.dropped += 1;
                }
            }
            for st in &stored {
                if !s.query.matches(st) {
                    continue;
                }
                if s.dropped > 0 {
                    // Behind: catch up with a resync + snapshot marker once there is room for them
                    // and the event, else keep dropping.
                    if s.tx.capacity() < 3 {
                        s.dropped += 1;
                        continue;
                    }
                    let why = format!("this subscriber fell behind; {} events not sent", s.dropped);
                    self.metrics
                        .subscriber_resyncs
                        .fetch_add(1, Ordering::Relaxed);
                    let _ = s.tx.try_send(Ok(WatchEvent {
                        event: Some(watch_event::Event::Resync(self.snapshot_marker(&why, 0))),
                    }));
                    let _ = s.tx.try_send(Ok(WatchEvent {
                        event: Some(watch_event::Event::Snapshot(
                            self.snapshot_marker("resync", 0),
                        )),
                    }));
                    s.dropped = 0;
                }
                let ev = WatchEvent {
                    event: Some(watch_event::Event::Record(proto_conv::record(st))),
                };
                match s.tx.try_send(Ok(ev)) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(_)) => s.dropped += 1,
                    Err(mpsc::error::TrySendError::Closed(_)) => return false,
                }
            }
            true
        });
        self.metrics
            .subscribers
            .store(subs.len() as u64, Ordering::Relaxed);
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
    *hub.current.lock().unwrap_or_else(|p| p.into_inner()) =
        (w.state().generation, w.state().rule_count() as u64);
    hub.metrics.set_rules(w.state());
    let _ = ready.send(Ok(()));
    loop {
        match w.next() {
            Ok(ev) => {
                let t0 = std::time::Instant::now();
                *hub.current.lock().unwrap_or_else(|p| p.into_inner()) =
                    (w.state().generation, w.state().rule_count() as u64);
                match &ev {
                    Event::Transaction(t) => hub.publish(&t.records, None),
                    Event::Resync(r) => {
                        hub.metrics.kernel_resyncs.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(reason = %r.reason, generation = r.generation, "resync");
                        hub.publish(&r.records, Some(&r.reason));
                    }
                }
                hub.metrics.set_rules(w.state());
                hub.metrics.observe_latency(t0.elapsed());
            }
            Err(e) => {
                tracing::error!(error = %e, "watch failed; restarting it");
                std::thread::sleep(std::time::Duration::from_secs(1));
                if let Err(e) = w.resync("watch error; resynchronised") {
                    tracing::error!(error = %e, "resync failed");
                }
            }
        }
    }
}
