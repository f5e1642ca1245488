//! `cargo xtask watch-bench`: how fast and how complete the watch is (issue #5's figures).
//!
//! 1. Latency of single-rule changes: this process commits one rule per nf_tables batch on its own
//!    netlink socket (no process start-up in the figure) while a `Watcher` thread in the same
//!    process receives the transaction; latency = event returned − batch sent (commit included).
//! 2. The kube-proxy burst: `iptables-nft-restore` of the ruleset while watching; time from the
//!    restore's exit until the watcher's view holds every rule, whether a resync was needed, and
//!    the process's memory while watching that many rules.

use anyhow::{bail, Context, Result};
use nfscope::sock::NfSocket;
use nfscope::watch::{Event, WatchOptions, Watcher};
use nfscope::wire::nfnl;
use nfscope::wire::nft::expr::{Counter, Expr, Immediate};
use nfscope::wire::nft::{self, Data, Verdict, VerdictCode};
use nfscope::wire::nl::{self, MessageBuilder};
use nfscope_tests::kube::Kube;
use nfscope_tests::Netns;
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Single-rule changes to time.
    #[arg(long, default_value_t = 300)]
    changes: usize,
    /// Scale of the kube-proxy burst (1 = 10,000 services × 2 endpoints, 80,011 rules).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
}

/// One batch: BEGIN, NEWRULE (counter accept) in `ip lat c`, END.
pub fn batch(seq: u32) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut m = MessageBuilder::new(&mut buf, nfnl::NFNL_MSG_BATCH_BEGIN, nl::NLM_F_REQUEST, seq);
    m.bytes(&nfnl::nfgenmsg(0, nfnl::NFNL_SUBSYS_NFTABLES as u16));
    m.finish();
    let rule = nft::Rule {
        table: Some("lat".into()),
        chain: Some("c".into()),
        expressions: Some(vec![
            Expr::Counter(Counter::default()),
            Expr::Immediate(Immediate {
                dreg: Some(0),
                data: Some(Data::Verdict(Verdict {
                    code: VerdictCode::Accept,
                    chain: None,
                    chain_id: None,
                    unknown: vec![],
                })),
                ..Default::default()
            }),
        ]),
        ..Default::default()
    };
    let mut attrs = Vec::new();
    rule.emit(&mut attrs);
    let ty = ((nfnl::NFNL_SUBSYS_NFTABLES as u16) << 8) | nft::msg::NEWRULE as u16;
    let flags = nl::NLM_F_REQUEST | nl::NLM_F_CREATE | nl::NLM_F_APPEND | nl::NLM_F_ACK;
    let mut m = MessageBuilder::new(&mut buf, ty, flags, seq + 1);
    m.bytes(&nfnl::nfgenmsg(2, 0)).bytes(&attrs);
    m.finish();
    let mut m = MessageBuilder::new(
        &mut buf,
        nfnl::NFNL_MSG_BATCH_END,
        nl::NLM_F_REQUEST,
        seq + 2,
    );
    m.bytes(&nfnl::nfgenmsg(0, nfnl::NFNL_SUBSYS_NFTABLES as u16));
    m.finish();
    buf
}

pub fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn vm(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

pub fn run(a: &Args) -> Result<()> {
    if a.changes == 0 {
        bail!("--changes must be at least 1");
    }
    let ns = Netns::new("wbench");
    ns.nft_load("table ip lat {\n chain c {\n }\n}\n");
    let kube = Kube::scaled(a.scale);
    let (tx, rx) = mpsc::channel::<(Instant, bool, usize)>();
    let mut watcher =
        Watcher::start_in_netns(ns.name(), WatchOptions::default()).context("start watcher")?;
    let base_rules = watcher.state().rule_count();
    {
        std::thread::spawn(move || loop {
            match watcher.next_timeout(Some(Duration::from_secs(120))) {
                Ok(Some(ev)) => {
                    let resync = matches!(ev, Event::Resync(_));
                    let n = watcher.state().rule_count();
                    if tx.send((Instant::now(), resync, n)).is_err() {
                        return;
                    }
                }
                _ => return,
            }
        });
    }
    // 1. Single-rule latency.
    let sock = nfscope::netns::run_in(ns.name(), NfSocket::open)??;
    let mut lat = Vec::with_capacity(a.changes);
    let mut buf = vec![0u8; 65536];
    for i in 0..a.changes {
        let msg = batch(1000 + 3 * i as u32);
        let t0 = Instant::now();
        sock.raw()
            .send(&msg, neli_msg_empty())
            .context("send batch")?;
        // The ACK (or an error) for the NEWRULE.
        let (n, _) = sock
            .raw()
            .recv(&mut buf[..], neli_msg_empty())
            .context("recv ack")?;
        for m in nl::Messages::new(&buf[..n]) {
            let m = m.map_err(|e| anyhow::anyhow!("{e}"))?;
            m.check_error()
                .map_err(|e| anyhow::anyhow!("commit failed: {e}"))?;
        }
        let (t, _, _) = rx
            .recv_timeout(Duration::from_secs(5))
            .context("no event within 5 s")?;
        lat.push(t.duration_since(t0).as_secs_f64() * 1e3);
    }
    let (p50, p99, max) = (pct(&mut lat, 0.5), pct(&mut lat, 0.99), pct(&mut lat, 1.0));
    // 2. The kube-proxy burst.
    let target = base_rules + a.changes + kube.rules();
    let text = kube.restore_text();
    eprintln!(
        "watch-bench: loading {} rules with iptables-nft-restore while watching...",
        kube.rules()
    );
    ns.run_stdin("iptables-nft-restore", &[], &text);
    let restored = Instant::now();
    let mut resyncs = 0;
    let consistent = loop {
        let (t, resync, n) = rx
            .recv_timeout(Duration::from_secs(120))
            .context("the view never reached the loaded rule count")?;
        resyncs += usize::from(resync);
        if n == target {
            break t;
        }
    };
    let after = consistent.saturating_duration_since(restored).as_secs_f64();
    let (rss, hwm) = (vm("VmRSS:") / 1024, vm("VmHWM:") / 1024);
    if a.json {
        println!(
            "{}",
            serde_json::json!({
                "single_rule_latency_ms": {"p50": p50, "p99": p99, "max": max, "n": a.changes},
                "burst": {"rules": kube.rules(), "consistent_after_restore_s": after, "resyncs": resyncs},
                "memory_mb": {"rss": rss, "peak": hwm},
            })
        );
    } else {
        println!("single-rule changes ({}): commit → event p50 {p50:.3} ms, p99 {p99:.3} ms, max {max:.3} ms (target p99 < 10 ms: {})",
            a.changes, if p99 < 10.0 { "PASS" } else { "MISS" });
        println!("burst of {} rules: view consistent {after:.3} s after iptables-nft-restore exited ({resyncs} resync{})",
            kube.rules(), if resyncs == 1 { "" } else { "s" });
        println!(
            "memory while watching {} rules: RSS {rss} MB, peak {hwm} MB",
            target
        );
    }
    Ok(())
}

fn neli_msg_empty() -> neli::consts::socket::Msg {
    neli::consts::socket::Msg::empty()
}
