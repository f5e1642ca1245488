//! `cargo xtask blame-bench`: `nfscope blame` of the kube-proxy ruleset against a history of
//! `--restores` × its rules, beside `nfscope dump` of the same ruleset, in one run (issue 15's
//! target: blame ≤ 2× dump, peak RSS ≤ 200 MB at 80k rules and 800k records).
//!
//! The history is written directly with the library, as the daemon writes it (the state stored
//! whole on the first start, then each batch with its state update; for a restore: one
//! `rule_removed` record per rule of the restore before and one `rule_added` record per rule,
//! with its texts), so building 1.5M records takes a minute or two, not ten daemon-watched
//! restores: every round but the last names handles the kernel no longer has (rules since
//! replaced), the last names the live rules. `--read-whole` writes the records
//! alone (a history without the stored state, which blame reads whole).

use crate::measure;
use anyhow::{ensure, Context, Result};
use nfscope::history::History;
use nfscope_tests::kube::Kube;
use nfscope_tests::Netns;
use std::path::Path;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Kube-proxy ruleset scale (1 = 80,011 rules).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Restores in the history: the first adds every rule, each later one removes the rules of
    /// the one before and adds them again (new handles), as `iptables-nft-restore` does.
    #[arg(long, default_value_t = 10)]
    restores: usize,
    /// Timed runs of each command (the median is printed).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Write the records without the stored state (blame then reads the whole history).
    #[arg(long)]
    read_whole: bool,
    /// After the figures, keep the namespace and the history, print the commands, and wait for
    /// a line on stdin (to profile them).
    #[arg(long)]
    hold: bool,
}

pub fn run(a: &Args) -> Result<()> {
    ensure!(
        a.runs >= 1 && a.restores >= 1,
        "--runs and --restores must be at least 1"
    );
    let xtask = std::env::current_exe().context("path of xtask")?;
    let nfscope = xtask.with_file_name("nfscope");
    ensure!(
        nfscope.exists(),
        "{} missing: build it with `cargo build --release -p nfscope-cli`",
        nfscope.display()
    );
    let ns = Netns::new("blamebench");
    let kube = Kube::scaled(a.scale);
    eprintln!("loading {} rules into {}…", kube.rules(), ns.name());
    ns.run_stdin("iptables-nft-restore", &[], &kube.restore_text());
    let dir = std::env::temp_dir().join(format!("nfscope-blamebench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    let outcome = (|| {
        let path = dir.join("history.redb");
        let records = write_history(ns.name(), &path, a.restores, !a.read_whole)?;
        let nfs = nfscope.to_string_lossy().into_owned();
        let dump: Vec<String> = [&nfs, "--netns", ns.name(), "dump"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut blame = dump.clone();
        blame[3] = "blame".into();
        blame.extend(["--file".into(), path.to_string_lossy().into_owned()]);
        let (d_wall, d_rss) = timed(&dump, a.runs)?;
        let (b_wall, b_rss) = timed(&blame, a.runs)?;
        println!(
            "blame-bench: {} rules, {} records in the history",
            kube.rules(),
            records
        );
        println!(
            "  dump   {:>8.1} ms  peak RSS {:>6.1} MB",
            ms(d_wall),
            d_rss as f64 / 1024.0
        );
        println!(
            "  blame  {:>8.1} ms  peak RSS {:>6.1} MB   {:.2}× dump (target ≤ 2×, ≤ 200 MB)",
            ms(b_wall),
            b_rss as f64 / 1024.0,
            ms(b_wall) / ms(d_wall)
        );
        if a.hold {
            println!(
                "  holding: {}\n           {}",
                dump.join(" "),
                blame.join(" ")
            );
            println!("  press Enter to clean up");
            let mut line = String::new();
            std::io::stdin().read_line(&mut line)?;
        }
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Median wall time and largest peak RSS (KiB) of `runs` runs of `argv`.
fn timed(argv: &[String], runs: usize) -> Result<(Duration, u64)> {
    let mut walls = Vec::new();
    let mut rss = 0;
    for _ in 0..runs {
        let s = measure::run(argv, false)?;
        walls.push(s.wall);
        rss = rss.max(s.maxrss_kib);
    }
    Ok((measure::median(&walls), rss))
}

/// The history: `restores` rounds of one `rule_added` record per live rule (with the stored
/// state when `state`); returns how many.
fn write_history(netns: &str, path: &Path, restores: usize, state: bool) -> Result<u64> {
    let (rs, _) = nfscope::snapshot::take_in_netns(netns, &Default::default())?;
    let opts = nfscope::output::nft_options_for(Some(netns), &rs)?;
    let mut h = History::open(path, Duration::from_secs(365 * 86_400), u64::MAX)?;
    // The rules' texts as blame sees them (nothing recorded yet).
    let mut json = String::new();
    nfscope::blame::run(
        &rs,
        None,
        &opts,
        &h.reader(),
        &Default::default(),
        nfscope::output::DumpFormat::Json,
        |c| {
            json.push_str(&c);
            Ok(())
        },
    )?;
    let rules: Vec<serde_json::Value> = serde_json::from_str(&json)?;
    let empty = nfscope::Ruleset::default();
    if state {
        // The daemon's first start, before the rules were loaded.
        nfscope::gap::on_start(&mut h, &empty, None)?;
    }
    let mut n = 0u64;
    for round in 0..restores {
        // Earlier rounds: handles since replaced (the kernel never reuses them).
        let shift = ((restores - 1 - round) as u64) * 10_000_000;
        let before = shift + 10_000_000;
        for batch in rules.chunks(10_000) {
            let record = |kind: &str, b: &serde_json::Value, shift: u64| {
                serde_json::from_value::<nfscope::events::Record>(serde_json::json!({
                    "type": kind, "generation": round + 1,
                    "backend": "nftables", "family": b["family"], "table": b["table"],
                    "chain": b["chain"], "attribution": "netlink",
                    "process": {"pid": 4242, "comm": "iptables-nft-re", "cmdline":
                        ["/usr/sbin/iptables-nft-restore", "--noflush"], "cgroup": "/",
                        "gone": false},
                    "rule": {"handle": b["handle"].as_u64().unwrap_or(0) + shift,
                        "index": b["index"], "nft": b["nft"], "iptables": b["iptables"]},
                }))
            };
            // A restore replaces the rules of the round before: their removals, then the adds,
            // in one transaction (so the stored state holds the live rules only).
            let mut records = Vec::with_capacity(2 * batch.len());
            if round > 0 {
                for b in batch {
                    records.push(record("rule_removed", b, before)?);
                }
            }
            for b in batch {
                records.push(record("rule_added", b, shift)?);
            }
            let update = if state {
                nfscope::gap::update_for(&records, &empty, None)
            } else {
                Default::default()
            };
            n += h.append_with_state(records, &update)?.len() as u64;
        }
        eprintln!(
            "history: round {} of {restores} written ({n} records)",
            round + 1
        );
    }
    Ok(n)
}
