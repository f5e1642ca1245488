//! Prometheus metrics (text exposition format) on an optional listen address.

use nfscope::history::Stored;
use nfscope::provenance;
use nfscope::Ruleset;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Counts by a pair of labels.
type Counts = BTreeMap<(String, String), u64>;

const BUCKETS: [f64; 10] = [
    0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5,
];

#[derive(Default)]
pub struct Metrics {
    pub subscribers: AtomicU64,
    pub kernel_resyncs: AtomicU64,
    pub subscriber_resyncs: AtomicU64,
    changes: Mutex<BTreeMap<String, u64>>,
    alerts: Mutex<BTreeMap<String, u64>>,
    rules: Mutex<Counts>,
    /// When rules were last attributed, and rules by (tool, versions).
    writers: Mutex<(Option<Instant>, Counts)>,
    latency: Mutex<([u64; 10], u64, f64)>,
}

impl Metrics {
    pub fn count_records(&self, recs: &[Stored]) {
        let mut c = self.changes.lock().unwrap_or_else(|p| p.into_inner());
        let mut a = self.alerts.lock().unwrap_or_else(|p| p.into_inner());
        for s in recs {
            *c.entry(s.record.kind.clone()).or_default() += 1;
            if let Some(al) = &s.record.alert {
                *a.entry(format!("{}\",severity=\"{}", al.kind, al.severity))
                    .or_default() += 1;
            }
        }
    }

    /// Rules per family/table (every time) and per writer (at most every 10 s: it decodes all).
    pub fn set_rules(&self, rs: &Ruleset) {
        let mut m = BTreeMap::new();
        for t in &rs.tables {
            *m.entry((t.family.name(), t.name().to_string()))
                .or_default() += t.chains.iter().map(|c| c.rules.len() as u64).sum::<u64>();
        }
        *self.rules.lock().unwrap_or_else(|p| p.into_inner()) = m;
        let mut w = self.writers.lock().unwrap_or_else(|p| p.into_inner());
        if w.0.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
            let mut by = BTreeMap::new();
            for t in &rs.tables {
                let info = provenance::TableInfo::of(t);
                for c in &t.chains {
                    for r in &c.rules {
                        let v = provenance::of_rule_in(&info, t, c, &r);
                        *by.entry((v.tool.clone(), v.versions.join("|")))
                            .or_default() += 1;
                    }
                }
            }
            *w = (Some(Instant::now()), by);
        }
    }

    pub fn observe_latency(&self, d: Duration) {
        let s = d.as_secs_f64();
        let mut l = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        for (i, b) in BUCKETS.iter().enumerate() {
            if s <= *b {
                l.0[i] += 1;
            }
        }
        l.1 += 1;
        l.2 += s;
    }

    pub fn render(&self) -> String {
        let mut o = String::new();
        let _ = writeln!(
            o,
            "# HELP nfscope_rules Rules in the live ruleset.\n# TYPE nfscope_rules gauge"
        );
        for ((f, t), n) in self.rules.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(
                o,
                "nfscope_rules{{backend=\"nftables\",family=\"{f}\",table=\"{t}\"}} {n}"
            );
        }
        let _ = writeln!(o, "# HELP nfscope_rules_by_writer Rules by the writer nfscope attributes them to.\n# TYPE nfscope_rules_by_writer gauge");
        for ((tool, v), n) in self
            .writers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .1
            .iter()
        {
            let _ = writeln!(
                o,
                "nfscope_rules_by_writer{{tool=\"{tool}\",versions=\"{v}\"}} {n}"
            );
        }
        let _ = writeln!(o, "# HELP nfscope_changes_total Change records by type.\n# TYPE nfscope_changes_total counter");
        for (k, n) in self
            .changes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(o, "nfscope_changes_total{{type=\"{k}\"}} {n}");
        }
        let _ = writeln!(
            o,
            "# HELP nfscope_alerts_total Alerts by kind.\n# TYPE nfscope_alerts_total counter"
        );
        for (k, n) in self.alerts.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(o, "nfscope_alerts_total{{kind=\"{k}\"}} {n}");
        }
        let _ = writeln!(o, "# HELP nfscope_resyncs_total Resyncs: kernel dropped events, or a subscriber fell behind.\n# TYPE nfscope_resyncs_total counter");
        let _ = writeln!(
            o,
            "nfscope_resyncs_total{{cause=\"kernel\"}} {}",
            self.kernel_resyncs.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            o,
            "nfscope_resyncs_total{{cause=\"subscriber\"}} {}",
            self.subscriber_resyncs.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            o,
            "# HELP nfscope_subscribers Watch streams open.\n# TYPE nfscope_subscribers gauge"
        );
        let _ = writeln!(
            o,
            "nfscope_subscribers {}",
            self.subscribers.load(Ordering::Relaxed)
        );
        let l = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        let _ = writeln!(o, "# HELP nfscope_event_seconds Time from a transaction's arrival to its fan-out (history write included).\n# TYPE nfscope_event_seconds histogram");
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(o, "nfscope_event_seconds_bucket{{le=\"{b}\"}} {}", l.0[i]);
        }
        let _ = writeln!(o, "nfscope_event_seconds_bucket{{le=\"+Inf\"}} {}", l.1);
        let _ = writeln!(
            o,
            "nfscope_event_seconds_sum {}\nnfscope_event_seconds_count {}",
            l.2, l.1
        );
        o
    }
}

/// Serve `GET /metrics` (any path) on `addr` until the process ends.
pub async fn serve(addr: std::net::SocketAddr, m: std::sync::Arc<Metrics>) -> anyhow::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let l = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "metrics listening");
    loop {
        let (mut s, _) = l.accept().await?;
        let m = m.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 2048];
            let _ = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await;
            let body = m.render();
            let resp = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(resp.as_bytes()).await;
        });
    }
}
