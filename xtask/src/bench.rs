//! `cargo xtask bench`: nfscope's speed and memory, as ratios against a floor and the peers,
//! measured in one run on one machine.
//!
//! For each scale: a throw-away network namespace gets the kube-proxy ruleset of
//! [`nfscope_tests::kube::Kube::scaled`] loaded with `iptables-nft-restore`; then every row
//! runs `warmup + runs` times, interleaved (row 1, row 2, …, row 1, …) so that load from
//! elsewhere on the machine spreads over all rows alike. Each run is a child process, measured
//! by [`crate::measure::run`] (wall time, peak RSS from `wait4`). The floor is `xtask raw-dump`:
//! the per-chain GETRULE dumps nfscope's snapshot makes, decoding nothing.
//!
//! The namespace is deleted when the run ends, also on error and on Ctrl-C (see
//! [`crate::measure`]); `--keep` leaves it for profiling.

use crate::measure::{self, check_interrupted, median, Sample};
use anyhow::{bail, ensure, Context, Result};
use nfscope_tests::kube::Kube;
use nfscope_tests::Netns;
use serde_json::{json, Value};
use std::io::{IsTerminal, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Scales of the anchor ruleset (1 = 10,000 services × 2 endpoints = 80,011 rules); repeat
    /// or comma-separate, e.g. `--scale 0.1,1,5`.
    #[arg(long, value_delimiter = ',', default_values_t = [0.1, 1.0])]
    scale: Vec<f64>,
    /// Measured runs per row (the median is reported).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Unmeasured runs per row before the measured ones.
    #[arg(long, default_value_t = 1)]
    warmup: usize,
    /// Endpoints per service.
    #[arg(long, default_value_t = 2)]
    endpoints: usize,
    /// Print the results as JSON on stdout (progress still goes to stderr).
    #[arg(long)]
    json: bool,
    /// Rows to leave out (comma-separated keys: raw, stats, dump-nft, dump-json, nft, nft-json,
    /// iptables-save, save-nft, raw-legacy, legacy-snapshot, legacy-stats, save-legacy,
    /// iptables-legacy-save, netns-exec, or `legacy` for all the legacy rows). The floor (raw)
    /// is needed for the ratios.
    #[arg(long, value_delimiter = ',')]
    skip: Vec<String>,
    /// Do not run `cargo build --release -p nfscope-cli` first.
    #[arg(long)]
    no_build: bool,
    /// Keep the namespace with the last scale loaded (its name is printed), e.g. to profile.
    #[arg(long)]
    keep: bool,
}

/// One row of the table: a command run inside the namespace.
struct Row {
    key: &'static str,
    label: &'static str,
    argv: Vec<String>,
    /// Capture stdout (small JSON figures) instead of sending it to /dev/null.
    capture: bool,
}

fn rows(ns: &str, nfscope: &str, xtask: &str) -> Vec<Row> {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let exec = |v: &[&str]| {
        let mut a = s(&["ip", "netns", "exec", ns]);
        a.extend(s(v));
        a
    };
    vec![
        Row {
            key: "raw",
            label: "raw per-chain dump (floor)",
            argv: s(&[xtask, "raw-dump", "--netns", ns]),
            capture: true,
        },
        Row {
            key: "stats",
            label: "nfscope stats",
            argv: s(&[
                nfscope,
                "--netns",
                ns,
                "stats",
                "--backend",
                "nft",
                "--json",
            ]),
            capture: true,
        },
        Row {
            key: "dump-nft",
            label: "nfscope dump --format nft",
            argv: s(&[
                nfscope,
                "--netns",
                ns,
                "dump",
                "--backend",
                "nft",
                "--format",
                "nft",
            ]),
            capture: false,
        },
        Row {
            key: "dump-json",
            label: "nfscope dump --format json",
            argv: s(&[
                nfscope,
                "--netns",
                ns,
                "dump",
                "--backend",
                "nft",
                "--format",
                "json",
            ]),
            capture: false,
        },
        Row {
            key: "iptables-save",
            label: "iptables-nft-save",
            argv: exec(&["iptables-nft-save"]),
            capture: false,
        },
        Row {
            key: "nft",
            label: "nft list ruleset",
            argv: exec(&["nft", "list", "ruleset"]),
            capture: false,
        },
        Row {
            key: "nft-json",
            label: "nft -j list ruleset",
            argv: exec(&["nft", "-j", "list", "ruleset"]),
            capture: false,
        },
        Row {
            key: "save-nft",
            label: "nfscope dump --backend nft --format iptables-save",
            argv: s(&[
                nfscope,
                "--netns",
                ns,
                "dump",
                "--backend",
                "nft",
                "--format",
                "iptables-save",
            ]),
            capture: false,
        },
        Row {
            key: "raw-legacy",
            label: "raw getsockopt read (legacy floor)",
            argv: s(&[xtask, "raw-legacy", "--netns", ns]),
            capture: true,
        },
        Row {
            key: "legacy-snapshot",
            label: "legacy snapshot (library read_all)",
            argv: s(&[xtask, "legacy-snapshot", "--netns", ns]),
            capture: true,
        },
        Row {
            key: "legacy-stats",
            label: "nfscope stats --backend legacy",
            argv: s(&[
                nfscope,
                "--netns",
                ns,
                "stats",
                "--backend",
                "legacy",
                "--json",
            ]),
            capture: true,
        },
        Row {
            key: "save-legacy",
            label: "nfscope dump --backend legacy --format iptables-save",
            argv: s(&[
                nfscope,
                "--netns",
                ns,
                "dump",
                "--backend",
                "legacy",
                "--format",
                "iptables-save",
            ]),
            capture: false,
        },
        Row {
            key: "iptables-legacy-save",
            label: "iptables-legacy-save",
            argv: exec(&["iptables-legacy-save"]),
            capture: false,
        },
        Row {
            key: "netns-exec",
            label: "(ip netns exec true: overhead in peers)",
            argv: exec(&["true"]),
            capture: false,
        },
    ]
}

/// Figures of one row at one scale.
struct RowResult {
    key: &'static str,
    label: &'static str,
    samples: Vec<Sample>,
}

impl RowResult {
    fn median(&self) -> Duration {
        median(&self.samples.iter().map(|s| s.wall).collect::<Vec<_>>())
    }
    fn min(&self) -> Duration {
        self.samples
            .iter()
            .map(|s| s.wall)
            .min()
            .unwrap_or_default()
    }
    fn max(&self) -> Duration {
        self.samples
            .iter()
            .map(|s| s.wall)
            .max()
            .unwrap_or_default()
    }
    fn cpu(&self) -> Duration {
        median(
            &self
                .samples
                .iter()
                .map(|s| s.user + s.sys)
                .collect::<Vec<_>>(),
        )
    }
    /// Peak RSS over all runs, bytes.
    fn peak_rss(&self) -> u64 {
        self.samples
            .iter()
            .map(|s| s.maxrss_kib * 1024)
            .max()
            .unwrap_or(0)
    }
}

/// Everything measured at one scale.
struct ScaleResult {
    scale: f64,
    kube: Kube,
    load: Duration,
    text_bytes: usize,
    rows: Vec<RowResult>,
    /// `nfscope stats --json` output of the last run.
    stats: Value,
    /// `xtask raw-dump` output of the last run.
    raw: Value,
    /// Time `iptables-legacy-restore` took to load the same ruleset into legacy (if loaded).
    legacy_load: Option<Duration>,
    /// `xtask raw-legacy` output of the last run.
    lraw: Value,
}

impl ScaleResult {
    fn row(&self, key: &str) -> Option<&RowResult> {
        self.rows.iter().find(|r| r.key == key)
    }
}

pub fn run(a: &Args) -> Result<()> {
    ensure!(a.runs >= 1, "--runs must be at least 1");
    ensure!(!a.scale.is_empty(), "no --scale given");
    measure::catch_interrupts();
    let xtask = std::env::current_exe().context("path of xtask")?;
    let dir = xtask.parent().context("xtask has no directory")?;
    let nfscope = dir.join("nfscope");
    if !a.no_build {
        eprintln!("building nfscope (cargo build --release -p nfscope-cli)…");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let st = Command::new(cargo)
            .args(["build", "--release", "-p", "nfscope-cli"])
            .status()
            .context("run cargo build")?;
        ensure!(st.success(), "cargo build --release -p nfscope-cli failed");
    }
    ensure!(
        nfscope.exists(),
        "{} missing: build it with `cargo build --release -p nfscope-cli`",
        nfscope.display()
    );
    let machine = machine_info();
    eprintln!("{}", machine_line(&machine));

    let mut scales = a.scale.clone();
    scales.sort_by(f64::total_cmp);
    let ns = Netns::new("bench");
    eprintln!("namespace {}", ns.name());
    let mut results = Vec::new();
    let outcome = (|| -> Result<()> {
        for &scale in &scales {
            let r = one_scale(a, &ns, scale, &nfscope, &xtask)?;
            if !a.json {
                print_scale(&r);
            }
            results.push(r);
        }
        Ok(())
    })();
    if a.keep {
        eprintln!(
            "keeping namespace {} (delete it with `ip netns del {}`)",
            ns.name(),
            ns.name()
        );
        std::mem::forget(ns);
    } else {
        drop(ns);
    }
    // Whatever was measured before an error is still reported.
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&to_json(&machine, &results))?
        );
    } else if results.len() > 1 {
        print_growth(&results);
    }
    outcome
}

fn one_scale(
    a: &Args,
    ns: &Netns,
    scale: f64,
    nfscope: &std::path::Path,
    xtask: &std::path::Path,
) -> Result<ScaleResult> {
    let kube = Kube::new((10_000.0 * scale).round().max(1.0) as usize, a.endpoints);
    eprintln!(
        "\nscale {scale}: {} services × {} endpoints = {} rules, {} chains",
        kube.services,
        kube.endpoints,
        thousands(kube.rules() as u64),
        thousands(kube.chains() as u64)
    );
    let text = kube.restore_text();
    let load = load(ns, &text)?;
    // The same ruleset in legacy x_tables too (the nft rows do not see it; the legacy rows
    // do not see the nft one), unless every legacy row is skipped.
    let legacy_rows = [
        "raw-legacy",
        "legacy-snapshot",
        "legacy-stats",
        "save-legacy",
        "iptables-legacy-save",
    ];
    let legacy_load = if legacy_rows
        .iter()
        .all(|k| a.skip.iter().any(|s| s == k || s == "legacy"))
    {
        None
    } else {
        Some(load_legacy(ns, &text)?)
    };
    let all = rows(
        ns.name(),
        &nfscope.to_string_lossy(),
        &xtask.to_string_lossy(),
    );
    let rows: Vec<Row> = all
        .into_iter()
        .filter(|r| {
            !a.skip.iter().any(|s| {
                s == r.key
                    || (s == "legacy"
                        && matches!(
                            r.key,
                            "raw-legacy"
                                | "legacy-snapshot"
                                | "legacy-stats"
                                | "save-legacy"
                                | "iptables-legacy-save"
                        ))
            })
        })
        .collect();
    let mut res: Vec<RowResult> = rows
        .iter()
        .map(|r| RowResult {
            key: r.key,
            label: r.label,
            samples: vec![],
        })
        .collect();
    let (mut stats, mut raw) = (Value::Null, Value::Null);
    let (mut lstats, mut lraw, mut lsnap) = (Value::Null, Value::Null, Value::Null);
    let total = a.warmup + a.runs;
    let tty = std::io::stderr().is_terminal();
    for i in 0..total {
        for (j, (row, out)) in rows.iter().zip(res.iter_mut()).enumerate() {
            check_interrupted()?;
            // On a terminal every command shows; in a log one line per round.
            if tty || j == 0 {
                progress(&format!(
                    "  run {}/{total}{}{}",
                    i + 1,
                    if i < a.warmup { " (warm-up)" } else { "" },
                    if tty {
                        format!(": {}", row.label)
                    } else {
                        String::new()
                    }
                ));
            }
            let s = measure::run(&row.argv, row.capture)?;
            if row.capture {
                let v: Value = serde_json::from_slice(&s.stdout)
                    .with_context(|| format!("{}: output is not JSON", row.label))?;
                match row.key {
                    "stats" => stats = v,
                    "legacy-stats" => lstats = v,
                    "raw-legacy" => lraw = v,
                    "legacy-snapshot" => lsnap = v,
                    _ => raw = v,
                }
            }
            if i >= a.warmup {
                out.samples.push(s);
            }
        }
    }
    progress("");
    // Every reader must have seen exactly what was loaded.
    let loaded = kube.rules() as u64;
    for (what, v, field) in [
        ("nfscope stats counted", &stats, "/counts/total/rules"),
        ("legacy snapshot read", &lsnap, "/rules"),
        (
            "nfscope stats --backend legacy counted",
            &lstats,
            "/legacy/total/rules",
        ),
        ("raw dump read (rule messages)", &raw, "/messages"),
    ] {
        if !v.is_null() {
            let got = v.pointer(field).and_then(Value::as_u64);
            ensure!(
                got == Some(loaded),
                "{what} {got:?} rules, {loaded} were loaded"
            );
        }
    }
    Ok(ScaleResult {
        scale,
        kube,
        load,
        legacy_load,
        text_bytes: text.len(),
        rows: res,
        stats,
        raw,
        lraw,
    })
}

/// Replace the ruleset in `ns` with `text` through `iptables-nft-restore`, showing progress.
fn load(ns: &Netns, text: &str) -> Result<Duration> {
    let st = ns
        .command("nft")
        .args(["flush", "ruleset"])
        .status()
        .context("nft flush ruleset")?;
    ensure!(st.success(), "nft flush ruleset failed in {}", ns.name());
    let start = Instant::now();
    let (mut child, mut stdin) = spawn_restore(ns, "iptables-nft-restore")?;
    let written = Arc::new(AtomicUsize::new(0));
    let data = text.as_bytes().to_vec();
    let total = data.len();
    let w = written.clone();
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        for chunk in data.chunks(256 * 1024) {
            stdin.write_all(chunk)?;
            w.fetch_add(chunk.len(), Ordering::Relaxed);
        }
        Ok(()) // stdin closes here: end of input
    });
    let mut last = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().context("wait iptables-nft-restore")? {
            break st;
        }
        if measure::interrupted() {
            let _ = child.kill();
            let _ = child.wait();
            bail!("interrupted while loading");
        }
        if last.elapsed() >= Duration::from_secs(1) {
            last = Instant::now();
            let n = written.load(Ordering::Relaxed);
            let phase = if n < total {
                format!(
                    "sent {:.0}% of {}",
                    100.0 * n as f64 / total as f64,
                    mb(total as u64)
                )
            } else {
                "all sent, parsing and committing".to_string()
            };
            progress(&format!(
                "  loading with iptables-nft-restore: {phase}, {:.0} s",
                start.elapsed().as_secs_f64()
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let elapsed = start.elapsed();
    progress("");
    let wres = writer.join();
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut err);
    }
    ensure!(
        status.success(),
        "iptables-nft-restore failed ({status}): {}",
        err.trim()
    );
    match wres {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(e).context("write to iptables-nft-restore"),
        Err(_) => bail!("stdin writer thread panicked"),
    }
    eprintln!(
        "  loaded {} of restore text with iptables-nft-restore in {:.2} s",
        mb(total as u64),
        elapsed.as_secs_f64()
    );
    Ok(elapsed)
}

/// Start `prog` (a `*-restore`) in `ns` with its stdin piped to us and stderr kept.
fn spawn_restore(
    ns: &Netns,
    prog: &str,
) -> Result<(std::process::Child, std::process::ChildStdin)> {
    let mut child = ns
        .command(prog)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("spawn {prog}"))?;
    let stdin = child
        .stdin
        .take()
        .with_context(|| format!("stdin of {prog}"))?;
    Ok((child, stdin))
}

/// Load `text` into the legacy tables of `ns` with `iptables-legacy-restore`.
fn load_legacy(ns: &Netns, text: &str) -> Result<Duration> {
    progress("  loading with iptables-legacy-restore");
    let start = Instant::now();
    let (child, mut stdin) = spawn_restore(ns, "iptables-legacy-restore")?;
    stdin
        .write_all(text.as_bytes())
        .context("write to iptables-legacy-restore")?;
    drop(stdin); // end of input
    let out = child
        .wait_with_output()
        .context("wait iptables-legacy-restore")?;
    progress("");
    ensure!(
        out.status.success(),
        "iptables-legacy-restore failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    let d = start.elapsed();
    eprintln!(
        "  loaded it into legacy with iptables-legacy-restore in {:.2} s",
        d.as_secs_f64()
    );
    Ok(d)
}

/// A transient status line on stderr (overwritten in place on a terminal; empty clears it).
fn progress(msg: &str) {
    let mut e = std::io::stderr();
    if e.is_terminal() {
        let _ = write!(e, "\r\x1b[2K{msg}");
    } else if !msg.is_empty() {
        let _ = writeln!(e, "{msg}");
    }
    let _ = e.flush();
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 0.1 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{s:.3} s")
    }
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        let left = s.len() - i;
        if i > 0 && left / 3 * 3 == left {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "PASS"
    } else {
        "MISS"
    }
}

/// `a / b` with `digits` decimals, or "n/a" when GNU time's 10 ms CPU resolution gave zero.
fn cpu_ratio(a: f64, b: f64, digits: usize) -> String {
    if a > 0.0 && b > 0.0 {
        format!("{:.*}×", digits, a / b)
    } else {
        "n/a".to_string()
    }
}

/// (target, measured, pass) for one scale; rows that were skipped give no line.
fn targets(r: &ScaleResult) -> Vec<(String, String, bool)> {
    let mut t = Vec::new();
    // Verdicts go by median wall time; the CPU-time ratio is shown beside it because on a
    // busy machine wall time also measures the neighbours.
    let cpu = |x: &RowResult| x.cpu().as_secs_f64();
    if let (Some(f), Some(s)) = (r.row("raw"), r.row("stats")) {
        let ratio = s.median().as_secs_f64() / f.median().as_secs_f64();
        t.push((
            "nfscope stats within 1.2× of the raw per-chain dump".into(),
            format!("{ratio:.2}× (cpu {})", cpu_ratio(cpu(s), cpu(f), 2)),
            ratio <= 1.2,
        ));
    }
    if let (Some(n), Some(d)) = (r.row("nft"), r.row("dump-nft")) {
        let x = n.median().as_secs_f64() / d.median().as_secs_f64();
        t.push((
            "dump --format nft ≥ 10× faster than nft list ruleset".into(),
            format!("{x:.1}× (cpu {})", cpu_ratio(cpu(n), cpu(d), 1)),
            x >= 10.0,
        ));
    }
    if let (Some(f), Some(s)) = (r.row("raw-legacy"), r.row("legacy-snapshot")) {
        let ratio = s.median().as_secs_f64() / f.median().as_secs_f64();
        t.push((
            "legacy snapshot within 1.2× of a raw getsockopt read".into(),
            format!("{ratio:.2}× (cpu {})", cpu_ratio(cpu(s), cpu(f), 2)),
            ratio <= 1.2,
        ));
    }
    for (ours, theirs, what) in [
        (
            "save-legacy",
            "iptables-legacy-save",
            "iptables-save text (legacy) ≤ 0.5× iptables-legacy-save",
        ),
        (
            "save-nft",
            "iptables-save",
            "iptables-save text (nf_tables) ≤ 0.5× iptables-nft-save",
        ),
    ] {
        if let (Some(o), Some(p)) = (r.row(ours), r.row(theirs)) {
            let ratio = o.median().as_secs_f64() / p.median().as_secs_f64();
            t.push((
                what.into(),
                format!("{ratio:.2}× (cpu {})", cpu_ratio(cpu(o), cpu(p), 2)),
                ratio <= 0.5,
            ));
        }
    }
    if let Some(s) = r.row("stats") {
        t.push((
            "peak RSS of a snapshot (nfscope stats) ≤ 60 MB".into(),
            mb(s.peak_rss()),
            s.peak_rss() <= 60_000_000,
        ));
    }
    t
}

fn print_scale(r: &ScaleResult) {
    let k = &r.kube;
    println!(
        "\n== scale {}: {} services × {} endpoints = {} rules, {} chains ==",
        r.scale,
        thousands(k.services as u64),
        k.endpoints,
        thousands(k.rules() as u64),
        thousands(k.chains() as u64)
    );
    println!(
        "loaded {} of restore text with iptables-nft-restore in {:.2} s",
        mb(r.text_bytes as u64),
        r.load.as_secs_f64()
    );
    let snap = &r.stats["snapshot"];
    if let (Some(b), Some(m), Some(q)) = (
        snap["bytes"].as_u64(),
        snap["messages"].as_u64(),
        snap["requests"].as_u64(),
    ) {
        println!(
            "nfscope snapshot read {} in {} messages, {} requests, {} attempt(s)",
            mb(b),
            thousands(m),
            thousands(q),
            snap["attempts"]
        );
    }
    if let (Some(b), Some(m)) = (r.raw["bytes"].as_u64(), r.raw["messages"].as_u64()) {
        println!("floor read {} in {} rule messages", mb(b), thousands(m));
    }
    if let Some(d) = r.legacy_load {
        println!(
            "loaded the same ruleset into legacy with iptables-legacy-restore in {:.2} s",
            d.as_secs_f64()
        );
    }
    if let (Some(b), Some(t)) = (r.lraw["bytes"].as_u64(), r.lraw["tables"].as_u64()) {
        println!("legacy floor read {} from {t} tables", mb(b));
    }
    let floor = r.row("raw").map(|x| x.median().as_secs_f64());
    let n = r.rows.first().map(|x| x.samples.len()).unwrap_or(0);
    println!(
        "{:<42} {:>10} {:>10} {:>10} {:>10} {:>10} {:>8} {:>11}",
        format!("command (median of {n})"),
        "median",
        "min",
        "max",
        "cpu",
        "peak RSS",
        "×floor",
        "rules/s"
    );
    for row in &r.rows {
        let m = row.median();
        let ratio = floor
            .map(|f| format!("{:.2}", m.as_secs_f64() / f))
            .unwrap_or_else(|| "-".into());
        let rps = if row.key == "netns-exec" {
            "-".to_string()
        } else {
            thousands((k.rules() as f64 / m.as_secs_f64()) as u64)
        };
        println!(
            "{:<42} {:>10} {:>10} {:>10} {:>10} {:>10} {:>8} {:>11}",
            row.label,
            secs(m),
            secs(row.min()),
            secs(row.max()),
            secs(row.cpu()),
            mb(row.peak_rss()),
            ratio,
            rps
        );
    }
    if r.rows
        .iter()
        .any(|x| x.samples.iter().any(|s| s.rss_inflated))
    {
        println!("note: /usr/bin/time missing: peak RSS includes this process's own (see xtask/src/measure.rs)");
    }
    println!("targets:");
    for (what, got, ok) in targets(r) {
        println!("  {:<58} {:>20}  {}", what, got, verdict(ok));
    }
}

/// Growth of one row across the scales.
struct Growth {
    key: &'static str,
    label: &'static str,
    /// Median wall time and median CPU time at each scale.
    wall: Vec<f64>,
    cpu: Vec<f64>,
    /// Exponent b in time ∝ rules^b between neighbouring scales (1 = linear; below 1 at small
    /// scales, where fixed start-up costs still weigh), from wall and from CPU time.
    wall_b: Vec<f64>,
    cpu_b: Vec<f64>,
}

fn growth(results: &[ScaleResult]) -> Vec<Growth> {
    let Some(first) = results.first() else {
        return vec![];
    };
    let exps = |t: &[f64]| -> Vec<f64> {
        results
            .windows(2)
            .zip(t.windows(2))
            .map(|(r, t)| {
                let rules = r[1].kube.rules() as f64 / r[0].kube.rules() as f64;
                (t[1] / t[0]).ln() / rules.ln()
            })
            .collect()
    };
    first
        .rows
        .iter()
        .map(|row| {
            let (mut wall, mut cpu) = (vec![], vec![]);
            for r in results {
                if let Some(x) = r.row(row.key) {
                    wall.push(x.median().as_secs_f64());
                    cpu.push(x.cpu().as_secs_f64());
                }
            }
            Growth {
                key: row.key,
                label: row.label,
                wall_b: exps(&wall),
                cpu_b: exps(&cpu),
                wall,
                cpu,
            }
        })
        .collect()
}

fn print_growth(results: &[ScaleResult]) {
    let scales: Vec<String> = results
        .iter()
        .map(|r| format!("×{} ({} rules)", r.scale, thousands(r.kube.rules() as u64)))
        .collect();
    println!("\n== growth across scales: {} ==", scales.join(" → "));
    println!(
        "median wall time per scale; exponent b in time ∝ rules^b between neighbouring scales \
         (1.00 = linear), from wall and from CPU time"
    );
    let f = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.2}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let gs = growth(results);
    for g in &gs {
        if g.key == "netns-exec" {
            continue;
        }
        let t: Vec<String> = g
            .wall
            .iter()
            .map(|&s| secs(Duration::from_secs_f64(s)))
            .collect();
        println!(
            "  {:<42} {:<36} b = {} (cpu: {})",
            g.label,
            t.join(" → "),
            f(&g.wall_b),
            f(&g.cpu_b)
        );
    }
    if let Some(g) = gs.iter().find(|g| g.key == "stats") {
        if let (Some(&b), Some(&c)) = (g.wall_b.last(), g.cpu_b.last()) {
            println!(
                "target: nfscope stats linear in rules (b ≤ 1.15 between the two largest scales): \
                 b = {b:.2} (cpu {c:.2})  {}",
                verdict(b <= 1.15)
            );
        }
    }
}

fn machine_info() -> Value {
    let read = |p: &str| {
        std::fs::read_to_string(p)
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    let out = |prog: &str, args: &[&str]| {
        Command::new(prog)
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap_or("")
        .trim()
        .to_string();
    json!({
        "date": out("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        "kernel": read("/proc/sys/kernel/osrelease"),
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "cpu": cpu,
        "loadavg": read("/proc/loadavg"),
        "nft": out("nft", &["--version"]),
        "iptables": out("iptables-nft", &["--version"]),
    })
}

fn machine_line(m: &Value) -> String {
    format!(
        "{} · kernel {} · {} CPUs ({}) · loadavg {} · {} · {}",
        m["date"].as_str().unwrap_or(""),
        m["kernel"].as_str().unwrap_or(""),
        m["cpus"],
        m["cpu"].as_str().unwrap_or(""),
        m["loadavg"].as_str().unwrap_or(""),
        m["nft"].as_str().unwrap_or(""),
        m["iptables"].as_str().unwrap_or("")
    )
}

fn to_json(machine: &Value, results: &[ScaleResult]) -> Value {
    let scales: Vec<Value> = results
        .iter()
        .map(|r| {
            let floor = r.row("raw").map(|x| x.median().as_secs_f64());
            let rows: Vec<Value> = r
                .rows
                .iter()
                .map(|row| {
                    let m = row.median().as_secs_f64();
                    json!({
                        "key": row.key,
                        "label": row.label,
                        "median_s": m,
                        "min_s": row.min().as_secs_f64(),
                        "max_s": row.max().as_secs_f64(),
                        "cpu_median_s": row.cpu().as_secs_f64(),
                        "peak_rss_bytes": row.peak_rss(),
                        "ratio_to_floor": floor.map(|f| m / f),
                        "rules_per_s": r.kube.rules() as f64 / m,
                        "runs_s": row.samples.iter().map(|s| s.wall.as_secs_f64()).collect::<Vec<_>>(),
                    })
                })
                .collect();
            json!({
                "scale": r.scale,
                "services": r.kube.services,
                "endpoints": r.kube.endpoints,
                "rules": r.kube.rules(),
                "chains": r.kube.chains(),
                "restore_text_bytes": r.text_bytes,
                "load_s": r.load.as_secs_f64(),
                "snapshot": r.stats["snapshot"],
                "floor": r.raw,
                "rows": rows,
                "targets": targets(r).into_iter().map(|(t, m, ok)| json!({
                    "target": t, "measured": m, "pass": ok })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let growth: Vec<Value> = growth(results)
        .into_iter()
        .map(|g| {
            json!({ "key": g.key, "median_s": g.wall, "cpu_median_s": g.cpu,
                    "exponents": g.wall_b, "cpu_exponents": g.cpu_b })
        })
        .collect();
    json!({ "machine": machine, "scales": scales, "growth": growth })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scale(services: usize, secs: f64) -> ScaleResult {
        let d = Duration::from_secs_f64(secs);
        ScaleResult {
            scale: services as f64 / 10_000.0,
            kube: Kube::new(services, 2),
            load: Duration::ZERO,
            legacy_load: None,
            lraw: Value::Null,
            text_bytes: 0,
            rows: vec![RowResult {
                key: "stats",
                label: "nfscope stats",
                samples: vec![Sample {
                    wall: d,
                    maxrss_kib: 0,
                    user: d / 2,
                    sys: d / 2,
                    stdout: vec![],
                    rss_inflated: false,
                }],
            }],
            stats: Value::Null,
            raw: Value::Null,
        }
    }

    #[test]
    fn growth_exponents() {
        // Time proportional to rules → b = 1; proportional to rules² → b = 2.
        let k = |s| Kube::new(s, 2).rules() as f64;
        let lin = [
            scale(1_000, k(1_000) * 1e-5),
            scale(10_000, k(10_000) * 1e-5),
        ];
        let g = growth(&lin);
        assert!((g[0].wall_b[0] - 1.0).abs() < 1e-9 && (g[0].cpu_b[0] - 1.0).abs() < 1e-9);
        let quad = [
            scale(1_000, k(1_000).powi(2) * 1e-9),
            scale(10_000, k(10_000).powi(2) * 1e-9),
        ];
        assert!((growth(&quad)[0].wall_b[0] - 2.0).abs() < 1e-6);
    }

    #[test]
    fn cpu_ratio_below_resolution() {
        assert_eq!(cpu_ratio(1.12, 0.56, 2), "2.00×");
        assert_eq!(cpu_ratio(0.01, 0.0, 1), "n/a");
        assert_eq!(cpu_ratio(0.0, 0.0, 1), "n/a");
    }

    #[test]
    fn thousands_groups() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(80_011), "80,011");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
