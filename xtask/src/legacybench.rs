//! `cargo xtask legacy-bench`: commit → event latency of legacy x_tables changes, with the
//! kernel's audit records triggering the poll vs polling alone (issue #5, item 5).
//!
//! Audit is enabled for the run (`nfscope_tests::audit::AuditGuard`: the previous state is
//! restored at the end) so that the kernel's own time of each change is known in both modes:
//! this process listens to the audit records itself and takes the `NETFILTER_CFG` record of the
//! writer's `xt_replace` (`audit(SECONDS.MILLIS:SERIAL)`, wall clock, millisecond resolution,
//! so figures may read up to 1 ms high). Latency = the watcher returned the event − that time.
//! Each change is one real `iptables-legacy -A` in a throw-away namespace. In polling mode the
//! changes start at random points of the poll interval, as real changes would.

use anyhow::{bail, Context, Result};
use nfscope::audit::{Assembler, AuditSocket, NetfilterRecord};
use nfscope::watch::{Event, WatchOptions, Watcher};
use nfscope_tests::audit::AuditGuard;
use nfscope_tests::Netns;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Changes to time in each mode.
    #[arg(long, default_value_t = 50)]
    changes: usize,
    /// The legacy poll interval (both modes).
    #[arg(long, default_value_t = 2.0)]
    poll: f64,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
}

fn unix_ms(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64() * 1e3)
        .unwrap_or(0.0)
}

struct Mode {
    name: &'static str,
    lat: Vec<f64>,
    attributed: usize,
}

pub fn run(a: &Args) -> Result<()> {
    if a.changes == 0 {
        bail!("--changes must be at least 1");
    }
    let guard = AuditGuard::enable().map_err(|e| anyhow::anyhow!("cannot enable audit: {e}"))?;
    let ns = Netns::new("lbench");
    ns.ok("iptables-legacy", &["-N", "BENCH"]);
    // Our own listener: the kernel's time of every x_tables replace, by writer pid.
    let commits: Arc<Mutex<HashMap<u32, u64>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let listener = {
        let (commits, stop) = (commits.clone(), stop.clone());
        let mut sock = AuditSocket::open().context("audit listener")?;
        std::thread::spawn(move || {
            let mut asm = Assembler::new(false);
            let keep = |recs: Vec<NetfilterRecord>| {
                for r in recs {
                    if r.op.as_str() == "xt_replace" {
                        if let Ok(mut c) = commits.lock() {
                            c.insert(r.pid, r.time_unix_ms);
                        }
                    }
                }
            };
            while !stop.load(Ordering::Relaxed) {
                match sock.recv() {
                    Ok(Some(dg)) => keep(asm.feed(dg, Instant::now())),
                    Ok(None) => std::thread::sleep(Duration::from_micros(200)),
                    Err(_) => return,
                }
                keep(asm.expire(Instant::now()));
            }
        })
    };
    let poll = Duration::from_secs_f64(a.poll.max(0.05));
    let mut modes = Vec::new();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rand = move |max: Duration| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        max.mul_f64((seed % 10_000) as f64 / 10_000.0)
    };
    for (mode, (name, audit)) in [("audit", true), ("polling", false)]
        .into_iter()
        .enumerate()
    {
        let opts = WatchOptions {
            legacy_poll: Some(poll),
            legacy_audit: audit,
            ..WatchOptions::default()
        };
        let mut w = Watcher::start_in_netns(ns.name(), opts).context("start watcher")?;
        if audit && !w.audit_state().listening {
            bail!("no audit listener: {}", w.audit_state().note);
        }
        let (tx, rx) = mpsc::channel::<(SystemTime, Vec<nfscope::events::Record>)>();
        let done = Arc::new(AtomicBool::new(false));
        let d = done.clone();
        let watcher = std::thread::spawn(move || {
            while !d.load(Ordering::Relaxed) {
                match w.next_timeout(Some(Duration::from_millis(200))) {
                    Ok(Some(Event::Legacy(r))) => {
                        if tx.send((SystemTime::now(), r)).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(_) => return,
                }
            }
        });
        eprintln!("legacy-bench: {} changes, {name}...", a.changes);
        let mut m = Mode {
            name,
            lat: Vec::new(),
            attributed: 0,
        };
        for i in 0..a.changes {
            std::thread::sleep(if audit {
                rand(Duration::from_millis(50))
            } else {
                rand(poll)
            });
            let ip = format!("10.{mode}.{}.{}", (i >> 8) & 255, i & 255);
            let child = ns
                .command("iptables-legacy")
                .args(["-A", "BENCH", "-s", &ip, "-j", "ACCEPT"])
                .spawn()
                .context("spawn iptables-legacy")?;
            let pid = child.id();
            let out = child.wait_with_output().context("wait")?;
            if !out.status.success() {
                bail!("iptables-legacy failed");
            }
            let want = format!("-s {ip}/32");
            let end = Instant::now() + poll * 3 + Duration::from_secs(5);
            let (at, rec) = loop {
                let left = end.saturating_duration_since(Instant::now());
                let (at, recs) = rx
                    .recv_timeout(left)
                    .with_context(|| format!("no event for change {i} ({name})"))?;
                if let Some(r) = recs.into_iter().find(|r| {
                    r.rule
                        .as_ref()
                        .and_then(|t| t.iptables.as_deref())
                        .is_some_and(|t| t.contains(&want))
                }) {
                    break (at, r);
                }
            };
            m.attributed += usize::from(rec.process.as_ref().is_some_and(|p| p.pid == pid));
            let commit = (0..200)
                .find_map(|_| {
                    let c = commits.lock().ok()?.get(&pid).copied();
                    if c.is_none() {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    c
                })
                .with_context(|| format!("no audit record of change {i} (pid {pid})"))?;
            m.lat.push(unix_ms(at) - commit as f64);
        }
        done.store(true, Ordering::Relaxed);
        let _ = watcher.join();
        modes.push(m);
    }
    stop.store(true, Ordering::Relaxed);
    let _ = listener.join();
    drop(guard);
    let mut rows = Vec::new();
    for m in &mut modes {
        let n = m.lat.len();
        let (p50, p99, max) = (
            crate::watchbench::pct(&mut m.lat, 0.5),
            crate::watchbench::pct(&mut m.lat, 0.99),
            crate::watchbench::pct(&mut m.lat, 1.0),
        );
        rows.push(serde_json::json!({
            "mode": m.name, "n": n, "p50_ms": p50, "p99_ms": p99, "max_ms": max,
            "attributed": m.attributed,
        }));
        if !a.json {
            println!(
                "legacy changes, {:<7} ({n}, poll every {:.1} s): commit → event p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms; writer attributed {}/{n}",
                m.name,
                poll.as_secs_f64(),
                m.attributed
            );
        }
    }
    if a.json {
        println!("{}", serde_json::json!({ "legacy_latency": rows }));
    }
    Ok(())
}
