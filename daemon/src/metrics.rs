//! Prometheus metrics (text exposition format 0.0.4) on an optional listen address.
//!
//! Counters (changes, alerts, resyncs) are counted as records are published. The gauges of the
//! live view (rules per table, rules by writer, lint findings) are computed on the watcher thread
//! from its view, never per scrape: rule counts after every event; writers and findings (which
//! decode every rule) after a change too, but at most a fifth of the time (a refresh that took
//! 100 ms waits 400 ms after the previous one; `refresh_in` tells the watcher when), and once a
//! minute without changes (node settings such as sysctls send no events).

use nfscope::history::Stored;
use nfscope::lint::{self, NodeSettings, Severity};
use nfscope::output;
use nfscope::provenance;
use nfscope::watch::Watcher;
use nfscope::wire::xt::entry::Family as XtFamily;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

const BUCKETS: [f64; 10] = [
    0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5,
];

/// A refresh of writers and findings waits this many times its own duration after the previous.
const REFRESH_RATIO: u32 = 4;
/// Findings are recomputed at least this often (node settings change without events).
const REFRESH_PERIOD: Duration = Duration::from_secs(60);

/// (backend, family, table)
type TableKey = (&'static str, String, String);

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Default)]
struct View {
    /// (backend, family, table, tool, band) → rules.
    by_writer: BTreeMap<(&'static str, String, String, String, String), u64>,
    /// (id, severity, family, table) → findings.
    findings: BTreeMap<(String, &'static str, String, String), u64>,
    /// When writers and findings were last computed, and how long that took.
    at: Option<Instant>,
    cost: Duration,
    /// The ruleset changed since `at`.
    dirty: bool,
}

#[derive(Default)]
pub struct Metrics {
    pub subscribers: AtomicU64,
    pub kernel_resyncs: AtomicU64,
    pub subscriber_resyncs: AtomicU64,
    changes: Mutex<BTreeMap<String, u64>>,
    /// (kind, severity) → alerts.
    alerts: Mutex<BTreeMap<(String, String), u64>>,
    rules: Mutex<BTreeMap<TableKey, u64>>,
    view: Mutex<View>,
    latency: Mutex<([u64; 10], u64, f64)>,
}

impl Metrics {
    pub fn count_records(&self, recs: &[Stored]) {
        let mut c = lock(&self.changes);
        let mut a = lock(&self.alerts);
        for s in recs {
            *c.entry(s.record.kind.clone()).or_default() += 1;
            if let Some(al) = &s.record.alert {
                *a.entry((al.kind.clone(), al.severity.clone())).or_default() += 1;
            }
        }
    }

    /// The watcher's view changed (or is new): count its rules (both backends), and recompute
    /// writers and findings now if the budget allows, else when [`Metrics::refresh_in`] says.
    pub fn set_view(&self, w: &Watcher) {
        let mut m = BTreeMap::new();
        for t in &w.state().tables {
            *m.entry(("nftables", t.family.name(), t.name().to_string()))
                .or_default() += t.chains.iter().map(|c| c.rules.len() as u64).sum::<u64>();
        }
        for t in w
            .legacy_state()
            .map(output::legacy_tables)
            .unwrap_or_default()
        {
            *m.entry(("legacy", t.family.name(), t.name)).or_default() +=
                t.chains.iter().map(|c| c.1 as u64).sum::<u64>();
        }
        *lock(&self.rules) = m;
        lock(&self.view).dirty = true;
        if self.refresh_in().is_zero() {
            self.refresh(w);
        }
    }

    /// How long until writers and findings are due for a refresh.
    pub fn refresh_in(&self) -> Duration {
        let v = lock(&self.view);
        let Some(at) = v.at else {
            return Duration::ZERO;
        };
        let wait = if v.dirty {
            v.cost * REFRESH_RATIO
        } else {
            REFRESH_PERIOD
        };
        wait.saturating_sub(at.elapsed())
    }

    /// Recompute rules by writer and the lint findings of the watcher's view (and the node
    /// settings of its namespace).
    pub fn refresh(&self, w: &Watcher) {
        let t0 = Instant::now();
        let rs = w.state();
        let mut by_writer = BTreeMap::new();
        for t in &rs.tables {
            let info = provenance::TableInfo::of(t);
            for c in &t.chains {
                for r in &c.rules {
                    let v = provenance::of_rule_in(&info, t, c, &r);
                    *by_writer
                        .entry((
                            "nftables",
                            t.family.name(),
                            t.name().to_string(),
                            v.tool,
                            v.versions.join("|"),
                        ))
                        .or_default() += 1;
                }
            }
        }
        let legacy = w
            .legacy_state()
            .map(output::legacy_tables)
            .unwrap_or_default();
        for t in &legacy {
            let n: u64 = t.chains.iter().map(|c| c.1 as u64).sum();
            if n > 0 {
                let lw = provenance::legacy(match t.family.name().as_str() {
                    "arp" => XtFamily::Arp,
                    "ip6" => XtFamily::Ipv6,
                    _ => XtFamily::Ipv4,
                });
                *by_writer
                    .entry((
                        "legacy",
                        t.family.name(),
                        t.name.clone(),
                        lw.tool.clone(),
                        lw.versions.join("|"),
                    ))
                    .or_default() += n;
            }
        }
        let node = match w.netns() {
            Some(ns) => nfscope::netns::run_in(ns, NodeSettings::read).unwrap_or_default(),
            None => NodeSettings::read(),
        };
        let mut findings = BTreeMap::new();
        for f in lint::run(&lint::Input {
            nft: rs,
            legacy: &legacy,
            node: Some(&node),
        }) {
            let sev = match f.severity {
                Severity::Info => "info",
                Severity::Warning => "warning",
                Severity::Critical => "critical",
            };
            *findings
                .entry((
                    f.id,
                    sev,
                    f.family.map(|f| f.name()).unwrap_or_default(),
                    f.table.unwrap_or_default(),
                ))
                .or_default() += 1;
        }
        let mut v = lock(&self.view);
        v.by_writer = by_writer;
        v.findings = findings;
        v.at = Some(Instant::now());
        v.cost = t0.elapsed();
        v.dirty = false;
    }

    pub fn observe_latency(&self, d: Duration) {
        let s = d.as_secs_f64();
        let mut l = lock(&self.latency);
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
        family(
            &mut o,
            "nfscope_rules",
            "gauge",
            "Rules in the live ruleset, by backend (nftables, legacy x_tables), family and table.",
        );
        for ((b, f, t), n) in lock(&self.rules).iter() {
            sample(
                &mut o,
                "nfscope_rules",
                &[("backend", b), ("family", f), ("table", t)],
                *n,
            );
        }
        {
            let v = lock(&self.view);
            family(&mut o, "nfscope_rules_by_writer", "gauge", "Rules by the writer nfscope attributes them to (tool, version band), by backend, family and table.");
            for ((b, f, t, tool, band), n) in &v.by_writer {
                sample(
                    &mut o,
                    "nfscope_rules_by_writer",
                    &[
                        ("backend", b),
                        ("family", f),
                        ("table", t),
                        ("tool", tool),
                        ("band", band),
                    ],
                    *n,
                );
            }
            family(
                &mut o,
                "nfscope_findings",
                "gauge",
                "Current lint findings (nfscope lint) by id, severity, family and table.",
            );
            for ((id, sev, f, t), n) in &v.findings {
                sample(
                    &mut o,
                    "nfscope_findings",
                    &[("id", id), ("severity", sev), ("family", f), ("table", t)],
                    *n,
                );
            }
            family(
                &mut o,
                "nfscope_view_refresh_seconds",
                "gauge",
                "How long the last computation of rules by writer and findings took.",
            );
            let _ = writeln!(o, "nfscope_view_refresh_seconds {}", v.cost.as_secs_f64());
        }
        family(
            &mut o,
            "nfscope_changes_total",
            "counter",
            "Change records by type.",
        );
        for (k, n) in lock(&self.changes).iter() {
            sample(&mut o, "nfscope_changes_total", &[("type", k)], *n);
        }
        family(
            &mut o,
            "nfscope_alerts_total",
            "counter",
            "Alerts by kind and severity.",
        );
        for ((k, s), n) in lock(&self.alerts).iter() {
            sample(
                &mut o,
                "nfscope_alerts_total",
                &[("kind", k), ("severity", s)],
                *n,
            );
        }
        family(
            &mut o,
            "nfscope_resyncs_total",
            "counter",
            "Resyncs: kernel dropped events, or a subscriber fell behind.",
        );
        for (cause, n) in [
            ("kernel", &self.kernel_resyncs),
            ("subscriber", &self.subscriber_resyncs),
        ] {
            sample(
                &mut o,
                "nfscope_resyncs_total",
                &[("cause", cause)],
                n.load(Ordering::Relaxed),
            );
        }
        family(
            &mut o,
            "nfscope_subscribers",
            "gauge",
            "Watch streams open.",
        );
        sample(
            &mut o,
            "nfscope_subscribers",
            &[],
            self.subscribers.load(Ordering::Relaxed),
        );
        let l = lock(&self.latency);
        family(
            &mut o,
            "nfscope_event_seconds",
            "histogram",
            "Time from a transaction's arrival to its fan-out (history write included).",
        );
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

/// `# HELP` and `# TYPE` of a metric family.
fn family(o: &mut String, name: &str, ty: &str, help: &str) {
    let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {ty}");
}

/// One sample: `name{label="value",...} n`, label values escaped.
fn sample(o: &mut String, name: &str, labels: &[(&str, &str)], n: u64) {
    o.push_str(name);
    if !labels.is_empty() {
        o.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                o.push(',');
            }
            o.push_str(k);
            o.push_str("=\"");
            escape_label(o, v);
            o.push('"');
        }
        o.push('}');
    }
    let _ = writeln!(o, " {n}");
}

/// A label value as the text exposition format wants it: `\`, `"` and newline escaped (any
/// other byte, UTF-8 included, as is).
fn escape_label(o: &mut String, v: &str) {
    for ch in v.chars() {
        match ch {
            '\\' => o.push_str("\\\\"),
            '"' => o.push_str("\\\""),
            '\n' => o.push_str("\\n"),
            c => o.push(c),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        let mut o = String::new();
        sample(&mut o, "m", &[("table", "a\"b\\c\nd"), ("family", "ip")], 3);
        assert_eq!(o, "m{table=\"a\\\"b\\\\c\\nd\",family=\"ip\"} 3\n");
    }
}
