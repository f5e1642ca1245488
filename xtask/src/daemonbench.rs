//! `cargo xtask daemon-bench`: nfscoped's figures (issues #6, #12): event latency through the
//! daemon with 1 and 50 Watch subscribers and to a stock Python grpcio client, the daemon's
//! memory through repeated restores of the kube-proxy ruleset, Watch replay speed, GetRuleset
//! streams (alone and concurrent), and SIGTERM with clients attached (docs/daemon.md, Measured). Runs `nfscoped --netns` on a throw-away namespace; rules are committed by this
//! process on its own netlink socket, so latency = record received by a subscriber − batch sent.

use crate::watchbench::{batch, pct};
use anyhow::{bail, Context, Result};
use nfscope::sock::NfSocket;
use nfscope::wire::nl;
use nfscope_proto::v1 as pb;
use nfscope_proto::v1::nfscope_client::NfscopeClient;
use nfscope_tests::kube::Kube;
use nfscope_tests::Netns;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tonic::transport::{Channel, Endpoint};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Single-rule changes timed per subscriber count.
    #[arg(long, default_value_t = 200)]
    changes: usize,
    /// Kube-proxy ruleset scale for GetRuleset (1 = 80,011 rules).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// How many times the kube-proxy ruleset is restored (records through the history).
    #[arg(long, default_value_t = 10)]
    restores: usize,
    /// Concurrent JSON GetRulesetStream calls.
    #[arg(long, default_value_t = 8)]
    concurrent: usize,
    /// How many times the Watch replay from since_id 1 is measured (the machine is shared:
    /// rates vary; the daemon's CPU time per record varies less).
    #[arg(long, default_value_t = 3)]
    replays: usize,
    /// Only the restores and the replay (for profiling the replay: the daemon's pid is printed
    /// before it starts).
    #[arg(long)]
    only_replay: bool,
}

/// Reset the peak RSS the kernel keeps for `pid` (VmHWM).
fn reset_peak(pid: u32) {
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

struct Daemon(Child, PathBuf);
impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

async fn connect(sock: &str) -> Result<NfscopeClient<Channel>> {
    Ok(NfscopeClient::new(channel(sock).await?).max_decoding_message_size(1 << 30))
}

async fn channel(sock: &str) -> Result<Channel> {
    let path = sock.to_string();
    let ch = Endpoint::try_from("http://nfscoped.local")?
        .connect_with_connector(tower::service_fn(move |_: tonic::transport::Uri| {
            let path = path.clone();
            async move {
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(
                    tokio::net::UnixStream::connect(&path).await?,
                ))
            }
        }))
        .await?;
    Ok(ch)
}

/// CPU time the process has used (user + system, in clock ticks).
fn cpu_ticks(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let f: Vec<&str> = s.rsplit_once(')')?.1.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0)
}

/// Wait (at most `max`) until `pid` has been idle for `quiet` seconds in a row: after a large
/// change the daemon recomputes its metrics' writers and lint findings, deferred to take at
/// most a fifth of its watcher thread, so seconds after the last record.
fn wait_idle(pid: u32, quiet: u32, max: Duration) {
    let end = Instant::now() + max;
    let mut idle = 0;
    while idle < quiet && Instant::now() < end {
        let t = cpu_ticks(pid);
        std::thread::sleep(Duration::from_secs(1));
        idle = if cpu_ticks(pid).saturating_sub(t) < 5 {
            idle + 1
        } else {
            0
        };
    }
}

/// The 1-minute load average (the machine is shared: say how loaded it was).
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_default()
}

fn kib(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

pub fn run(a: &Args) -> Result<()> {
    let exe = std::env::current_exe()?;
    let daemon = exe.with_file_name("nfscoped");
    if !daemon.exists() {
        bail!(
            "{} not built: cargo build --release -p nfscoped",
            daemon.display()
        );
    }
    let ns = Netns::new("dbench");
    ns.nft_load("table ip lat {\n chain c {\n }\n}\n");
    let dir = std::env::temp_dir().join(format!("nfscope-dbench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let sock = dir.join("d.sock").to_string_lossy().into_owned();
    let child = Command::new(&daemon)
        .args(["--netns", ns.name(), "--socket", &sock, "--history"])
        .arg(dir.join("h.redb"))
        .stderr(Stdio::null())
        .spawn()
        .context("start nfscoped")?;
    let d = Daemon(child, dir);
    let end = Instant::now() + Duration::from_secs(20);
    while !std::path::Path::new(&sock).exists() {
        if Instant::now() > end {
            bail!("nfscoped did not start");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let writer = nfscope::netns::run_in(ns.name(), NfSocket::open)??;
    let mut seq = 5000u32;
    for subs in [1usize, 50] {
        if a.only_replay {
            break;
        }
        let (tx, rx) = std::sync::mpsc::channel::<Instant>();
        rt.block_on(async {
            for _ in 0..subs {
                let mut c = connect(&sock).await?;
                let mut s = c.watch(pb::WatchRequest::default()).await?.into_inner();
                let tx = tx.clone();
                tokio::spawn(async move {
                    while let Ok(Some(ev)) = s.message().await {
                        if let Some(pb::watch_event::Event::Record(r)) = ev.event {
                            if r.r#type == "rule_added" && tx.send(Instant::now()).is_err() {
                                return;
                            }
                        }
                    }
                });
            }
            anyhow::Ok(())
        })?;
        std::thread::sleep(Duration::from_millis(300));
        let mut lat = Vec::new();
        let mut buf = vec![0u8; 65536];
        for _ in 0..a.changes {
            let msg = batch(seq);
            seq += 3;
            let t0 = Instant::now();
            commit(&writer, &msg, &mut buf)?;
            for _ in 0..subs {
                let t = rx
                    .recv_timeout(Duration::from_secs(5))
                    .context("a subscriber got no event within 5 s")?;
                lat.push(t.duration_since(t0).as_secs_f64() * 1e3);
            }
        }
        let (p50, p99) = (pct(&mut lat, 0.5), pct(&mut lat, 0.99));
        println!("event latency through nfscoped, {subs:>2} subscriber(s), {} changes: p50 {p50:.3} ms, p99 {p99:.3} ms", a.changes);
    }
    if !a.only_replay {
        stock_python(&sock, &d.1, &writer, &mut seq, a.changes)?;
    }
    let pid = d.0.id();
    let kube = Kube::scaled(a.scale);
    let text = kube.restore_text();
    // One subscriber reads everything, to know when the daemon is done with a restore.
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    rt.block_on(async {
        let mut c = connect(&sock).await?;
        let mut s = c.watch(pb::WatchRequest::default()).await?.into_inner();
        let seen = seen.clone();
        tokio::spawn(async move {
            while let Ok(Some(ev)) = s.message().await {
                if let Some(pb::watch_event::Event::Record(r)) = ev.event {
                    seen.store(r.id, std::sync::atomic::Ordering::Relaxed);
                }
            }
        });
        anyhow::Ok(())
    })?;
    // Done with a restore: no new record for the reader and the daemon idle (it may spend
    // seconds on a large transaction before its first record is published).
    let settle = || {
        let mut last = (u64::MAX, u64::MAX);
        loop {
            std::thread::sleep(Duration::from_millis(1000));
            let now = (
                seen.load(std::sync::atomic::Ordering::Relaxed),
                cpu_ticks(pid),
            );
            if now.0 == last.0 && now.1.saturating_sub(last.1) < 5 {
                return now.0;
            }
            last = now;
        }
    };
    reset_peak(pid);
    let t0 = Instant::now();
    let mut steady = vec![];
    for i in 0..a.restores {
        eprintln!(
            "daemon-bench: restore {} of {} ({} rules)...",
            i + 1,
            a.restores,
            kube.rules()
        );
        ns.run_stdin("iptables-nft-restore", &[], &text);
        settle();
        steady.push(kib(pid, "VmRSS:") / 1024);
    }
    let records = seen.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "{} restores of {} rules: {records} records through the history in {:.1} s; daemon RSS after each: {steady:?} MB, peak {} MB",
        a.restores,
        kube.rules(),
        t0.elapsed().as_secs_f64(),
        kib(pid, "VmHWM:") / 1024
    );
    // The replay alone: not beside the daemon's deferred metrics refresh.
    wait_idle(pid, 5, Duration::from_secs(60));
    eprintln!(
        "daemon-bench: {} Watch replays from since_id 1 (nfscoped pid {pid})...",
        a.replays
    );
    rt.block_on(async {
        // Watch replay from since_id 1 by a reading client, a few times: the rate, and the
        // daemon's CPU time per record (steadier on a shared machine).
        let mut c = connect(&sock).await?;
        for _ in 0..a.replays {
            let (ticks, mine, load) = (cpu_ticks(pid), cpu_ticks(std::process::id()), loadavg());
            let t0 = Instant::now();
            let mut s = c
                .watch(pb::WatchRequest {
                    since_id: 1,
                    ..Default::default()
                })
                .await?
                .into_inner();
            let mut first = None;
            let mut n = 0u64;
            while let Some(ev) = s.message().await? {
                if let Some(pb::watch_event::Event::Record(r)) = ev.event {
                    first.get_or_insert_with(|| t0.elapsed());
                    n += 1;
                    if r.id >= records {
                        break;
                    }
                }
            }
            let el = t0.elapsed().as_secs_f64();
            drop(s);
            // CPU time in clock ticks (USER_HZ, 100 a second on Linux).
            let cpu = cpu_ticks(pid).saturating_sub(ticks) as f64 * 10.0;
            let client = cpu_ticks(std::process::id()).saturating_sub(mine) as f64 * 10.0;
            println!(
                "Watch replay from since_id 1: {n} records, first after {:.1} ms, {:.0} records/s; CPU a record: daemon {:.2} µs, client {:.2} µs; load average {load}",
                first.unwrap_or_default().as_secs_f64() * 1e3,
                n as f64 / el,
                cpu * 1e3 / n.max(1) as f64,
                client * 1e3 / n.max(1) as f64,
            );
        }
        if a.only_replay {
            return anyhow::Ok(());
        }
        for (name, format) in [("nft", pb::Format::Nft), ("json", pb::Format::Json)] {
            let t0 = Instant::now();
            let mut s = c
                .get_ruleset_stream(pb::GetRulesetRequest {
                    format: format as i32,
                    ..Default::default()
                })
                .await?
                .into_inner();
            let (mut bytes, mut biggest, mut rules) = (0, 0, 0);
            while let Some(ch) = s.message().await? {
                rules = rules.max(ch.rules);
                biggest = biggest.max(ch.text.len());
                bytes += ch.text.len();
            }
            println!(
                "GetRulesetStream {name}: {:.3} s, {:.1} MB in chunks of at most {:.2} MB, {rules} rules",
                t0.elapsed().as_secs_f64(),
                bytes as f64 / 1e6,
                biggest as f64 / 1e6,
            );
        }
        reset_peak(pid);
        let t0 = Instant::now();
        let mut tasks = vec![];
        for _ in 0..a.concurrent {
            let mut c = connect(&sock).await?;
            tasks.push(tokio::spawn(async move {
                let mut s = c
                    .get_ruleset_stream(pb::GetRulesetRequest {
                        format: pb::Format::Json as i32,
                        ..Default::default()
                    })
                    .await?
                    .into_inner();
                let mut biggest = 0;
                while let Some(ch) = s.message().await? {
                    biggest = biggest.max(prost::Message::encoded_len(&ch));
                }
                anyhow::Ok(biggest)
            }));
        }
        let mut biggest = 0;
        for t in tasks {
            biggest = biggest.max(t.await??);
        }
        println!(
            "{} concurrent JSON GetRulesetStream of {} rules: {:.1} s, daemon peak RSS {} MB, largest message {:.2} MB",
            a.concurrent,
            kube.rules(),
            t0.elapsed().as_secs_f64(),
            kib(pid, "VmHWM:") / 1024,
            biggest as f64 / 1e6
        );
        anyhow::Ok(())
    })?;
    println!(
        "nfscoped memory at the end: RSS {} MB",
        kib(pid, "VmRSS:") / 1024
    );
    if a.only_replay {
        return Ok(());
    }

    // Changes while it is down: SIGTERM, flush KUBE-SERVICES (one rule per service), start
    // again on the same history; the new daemon compares before it is ready.
    let mut d = d;
    sigterm(&rt, &sock, &mut d)?;
    ns.ok("iptables-nft", &["-t", "nat", "-F", "KUBE-SERVICES"]);
    let start = |history: &str| -> Result<(Child, f64)> {
        let _ = std::fs::remove_file(&sock);
        let t0 = Instant::now();
        let child = Command::new(&daemon)
            .args(["--netns", ns.name(), "--socket", &sock, "--history"])
            .arg(d.1.join(history))
            .stderr(Stdio::null())
            .spawn()
            .context("start nfscoped")?;
        let end = Instant::now() + Duration::from_secs(600);
        while !std::path::Path::new(&sock).exists() {
            if Instant::now() > end {
                bail!("nfscoped did not start");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok((child, t0.elapsed().as_secs_f64()))
    };
    let (child, took) = start("h.redb")?;
    let gap = rt.block_on(async {
        let mut c = connect(&sock).await?;
        let mut s = c
            .watch(pb::WatchRequest {
                since_id: records,
                ..Default::default()
            })
            .await?
            .into_inner();
        while let Some(ev) = s.message().await? {
            if let Some(pb::watch_event::Event::Record(r)) = ev.event {
                if r.r#type == "gap" {
                    return anyhow::Ok(r.gap.map(|g| g.changes));
                }
            }
        }
        anyhow::Ok(None)
    })?;
    let new_pid = child.id();
    println!(
        "restart after a change while down ({} rules): ready after {took:.1} s with the gap recorded ({gap:?} changes); peak RSS {} MB",
        kube.rules(),
        kib(new_pid, "VmHWM:") / 1024
    );
    let mut child = child;
    // SAFETY: as above.
    unsafe { libc::kill(new_pid as i32, libc::SIGTERM) };
    child.wait()?;
    let (mut child, took) = start("first.redb")?;
    println!(
        "first start with an empty history ({} rules): state stored, ready after {took:.1} s; peak RSS {} MB",
        kube.rules(),
        kib(child.id(), "VmHWM:") / 1024
    );
    // SAFETY: as above.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    child.wait()?;
    Ok(())
}

/// Commit one batch on `writer` and check the kernel's answer.
fn commit(writer: &NfSocket, msg: &[u8], buf: &mut [u8]) -> Result<()> {
    writer.raw().send(msg, neli::consts::socket::Msg::empty())?;
    let (n, _) = writer
        .raw()
        .recv(&mut *buf, neli::consts::socket::Msg::empty())?;
    for m in nl::Messages::new(&buf[..n]) {
        m.map_err(|e| anyhow::anyhow!("{e}"))?
            .check_error()
            .map_err(|e| anyhow::anyhow!("commit: {e}"))?;
    }
    Ok(())
}

/// One-rule changes seen by a stock Python grpcio client (tests/clients/stock_client.py `watch`,
/// the venv scripts/test.sh makes): commit → the line it prints for the record.
fn stock_python(
    sock: &str,
    dir: &std::path::Path,
    writer: &NfSocket,
    seq: &mut u32,
    changes: usize,
) -> Result<()> {
    let python = PathBuf::from(VENV).join("bin/python3");
    if !python.exists() {
        println!(
            "stock Python client: skipped ({} missing: scripts/test.sh makes it)",
            python.display()
        );
        return Ok(());
    }
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("repo")?;
    let stubs = dir.join("stubs");
    std::fs::create_dir_all(&stubs)?;
    let proto = repo.join("proto");
    let o = Command::new(&python)
        .args(["-m", "grpc_tools.protoc", "-I"])
        .arg(&proto)
        .arg(format!("--python_out={}", stubs.display()))
        .arg(format!("--grpc_python_out={}", stubs.display()))
        .arg(proto.join("nfscope/v1/nfscope.proto"))
        .output()?;
    if !o.status.success() {
        bail!("grpc_tools.protoc: {}", String::from_utf8_lossy(&o.stderr));
    }
    let mut child = Command::new(&python)
        .arg(repo.join("tests/clients/stock_client.py"))
        .arg(&stubs)
        .arg(sock)
        .arg("watch")
        .stdout(Stdio::piped())
        .spawn()?;
    let out = child.stdout.take().context("stdout")?;
    let (tx, rx) = std::sync::mpsc::channel::<(Instant, String)>();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for l in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send((Instant::now(), l)).is_err() {
                return;
            }
        }
    });
    let r = (|| {
        // The start marker: the stream is open.
        rx.recv_timeout(Duration::from_secs(20))
            .context("the Python client printed nothing")?;
        let mut buf = vec![0u8; 65536];
        let mut lat = vec![];
        for _ in 0..changes {
            let msg = batch(*seq);
            *seq += 3;
            let t0 = Instant::now();
            commit(writer, &msg, &mut buf)?;
            loop {
                let (t, l) = rx
                    .recv_timeout(Duration::from_secs(5))
                    .context("the Python client got no record within 5 s")?;
                if l == "record" {
                    lat.push(t.duration_since(t0).as_secs_f64() * 1e3);
                    break;
                }
            }
        }
        let max = lat.iter().cloned().fold(0.0, f64::max);
        let (p50, p99) = (pct(&mut lat, 0.5), pct(&mut lat, 0.99));
        println!("one-rule change to a stock Python grpcio client (Watch), {changes} changes: p50 {p50:.3} ms, p99 {p99:.3} ms, max {max:.3} ms");
        anyhow::Ok(())
    })();
    let _ = child.kill();
    let _ = child.wait();
    r
}

/// The venv scripts/test.sh makes (grpcio, grpcio-tools, ...).
const VENV: &str = "/var/cache/nfscope/venv";

/// How a stream ended: the status code of its end (`Ok` when it ended without one).
async fn end_of<T>(mut s: tonic::Streaming<T>) -> String {
    loop {
        match s.message().await {
            Ok(Some(_)) => continue,
            Ok(None) => return "OK".into(),
            Err(e) => return format!("{:?}", e.code()),
        }
    }
}

/// SIGTERM with clients attached: a Watch stream that reads, one that never reads (a replay
/// from the first record queued behind it), a health Watch. Time to exit, and how each ended.
fn sigterm(rt: &tokio::runtime::Runtime, sock: &str, d: &mut Daemon) -> Result<()> {
    let child = &mut d.0;
    rt.block_on(async {
        let mut c = connect(sock).await?;
        let idle = c
            .watch(pb::WatchRequest {
                since_id: 1,
                ..Default::default()
            })
            .await?
            .into_inner();
        let mut c = connect(sock).await?;
        let mut live = c.watch(pb::WatchRequest::default()).await?.into_inner();
        live.message().await?; // the start marker
        let ch = channel(sock).await?;
        let mut health = tonic_health::pb::health_client::HealthClient::new(ch)
            .watch(tonic_health::pb::HealthCheckRequest {
                service: String::new(),
            })
            .await?
            .into_inner();
        health.message().await?; // SERVING
        let live = tokio::spawn(end_of(live));
        let health = tokio::spawn(end_of(health));
        tokio::time::sleep(Duration::from_millis(200)).await;
        let t0 = Instant::now();
        // SAFETY: kill(2) on our own child's pid.
        if unsafe { libc::kill(child.id() as i32, libc::SIGTERM) } != 0 {
            bail!("kill: {}", std::io::Error::last_os_error());
        }
        let status = loop {
            if let Some(st) = child.try_wait()? {
                break st;
            }
            if t0.elapsed() > Duration::from_secs(30) {
                bail!("nfscoped still running 30 s after SIGTERM");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        let exit = t0.elapsed();
        let (live, health) = (live.await?, health.await?);
        let idle = end_of(idle).await;
        println!(
            "SIGTERM with a reading Watch, a Watch not reading and a health Watch attached: exit after {:.0} ms ({status}); reading Watch ended {live}, non-reading Watch (read after exit) {idle}, health Watch {health}",
            exit.as_secs_f64() * 1e3
        );
        anyhow::Ok(())
    })
}
