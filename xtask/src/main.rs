//! Project automation, run as `cargo xtask <command>` (alias in `.cargo/config.toml`).
//!
//! - `bench`: load a kube-proxy-sized ruleset into a throw-away network namespace and time
//!   nfscope against the floor (raw per-chain rule dumps) and the peers (`nft`,
//!   `iptables-nft-save`). See docs/benchmark.md.
//! - `watch-bench`: commit → event latency, burst consistency, memory while watching.
//! - `legacy-bench`: commit → event latency of legacy x_tables changes, audit-triggered vs polled.
//! - `raw-dump`: the floor itself, as a process of its own so its peak RSS is comparable:
//!   per-chain `NFT_MSG_GETRULE` dumps that decode nothing ([`nfscope::snapshot::raw_rule_dump`]).
//! - `raw-legacy`: the legacy floor: the x_tables getsockopt reads, decoding nothing.
//! - `capture`: the root-free test data in tests/corpus/captures/ (see capture.rs).
//! - `dist`: the Debian package (`target/dist/nfscope_VERSION_ARCH.deb`); see dist.rs.
//! - `fidelity`: nfscope's text against nft / iptables-save on upstream's own test suites
//!   (nftables tests/py and tests/shell dumps, iptables extensions/*.t). See docs/fidelity.md.

mod bench;
mod blamebench;
mod capture;
mod daemonbench;
mod dist;
mod fidelity;
mod legacybench;
mod measure;
mod watchbench;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(name = "cargo xtask", about = "nfscope project automation")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Time and measure nfscope against the floor and the peers on a kube-proxy ruleset
    /// (10,000 services × 2 endpoints at scale 1), in a throw-away network namespace.
    Bench(bench::Args),
    /// `nfscope blame` against a large history, beside `nfscope dump` (issue 15's target).
    BlameBench(blamebench::Args),
    /// Watch figures: commit → event latency of single-rule changes (p50/p99), time until the
    /// view is consistent after a kube-proxy-sized restore, memory while watching it.
    WatchBench(watchbench::Args),
    /// nfscoped figures: event latency with 1 and 50 subscribers, GetRuleset time and size,
    /// daemon memory.
    DaemonBench(daemonbench::Args),
    /// Legacy x_tables figures: commit → event latency (p50/p99) with the kernel's audit
    /// records triggering the poll, and with polling alone (enables audit for the run and
    /// restores it).
    LegacyBench(legacybench::Args),
    /// Fidelity: load upstream's own test suites (nftables tests/py/*/*.t and
    /// tests/shell/testcases/**/dumps/*.nft, iptables extensions/*.t) into throw-away namespaces
    /// and compare `nfscope dump` with `nft list ruleset` and the `*-save` tools.
    Fidelity(fidelity::Args),
    /// The root-free test data: each corpus ruleset loaded into a throw-away namespace, the
    /// kernel's answers and the live outputs written to tests/corpus/captures/.
    Capture(capture::Args),
    /// The Debian package: release binaries, man pages, completions, the systemd unit and the
    /// nfscope group, built with dpkg-deb into target/dist/nfscope_VERSION_ARCH.deb.
    Dist(dist::Args),
    /// The floor: per-chain GETRULE dumps inside a namespace, decoding nothing; prints
    /// `{"bytes":…,"messages":…}`.
    RawDump {
        /// Network namespace (name under /run/netns, or a path).
        #[arg(long)]
        netns: Option<String>,
    },
    /// The legacy floor: `*_SO_GET_INFO` + `*_SO_GET_ENTRIES` of every listed ip, ip6 and arp
    /// table inside a namespace, decoding nothing; prints `{"bytes":…,"tables":…}`.
    RawLegacy {
        /// Network namespace (name under /run/netns, or a path).
        #[arg(long)]
        netns: Option<String>,
    },
    /// The legacy snapshot as the library takes it (`nfscope::legacy::read_all`: consistent
    /// reads, every entry checked, chains cut); prints `{"tables":…,"rules":…}`.
    LegacySnapshot {
        /// Network namespace (name under /run/netns, or a path).
        #[arg(long)]
        netns: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = match cli.command {
        Cmd::Bench(a) => bench::run(&a),
        Cmd::BlameBench(a) => blamebench::run(&a),
        Cmd::RawDump { netns } => raw_dump(netns.as_deref()),
        Cmd::RawLegacy { netns } => raw_legacy(netns.as_deref()),
        Cmd::LegacySnapshot { netns } => legacy_snapshot(netns.as_deref()),
        Cmd::WatchBench(a) => watchbench::run(&a),
        Cmd::DaemonBench(a) => daemonbench::run(&a),
        Cmd::LegacyBench(a) => legacybench::run(&a),
        Cmd::Fidelity(a) => fidelity::run(&a),
        Cmd::Dist(a) => dist::run(&a),
        Cmd::Capture(a) => capture::run(&a),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn raw_dump(netns: Option<&str>) -> anyhow::Result<()> {
    let (bytes, messages) = match netns {
        Some(ns) => nfscope::netns::run_in(ns, nfscope::snapshot::raw_rule_dump)??,
        None => nfscope::snapshot::raw_rule_dump()?,
    };
    println!(
        "{}",
        serde_json::json!({ "bytes": bytes, "messages": messages })
    );
    Ok(())
}

fn raw_legacy(netns: Option<&str>) -> anyhow::Result<()> {
    fn read() -> nfscope::Result<(u64, u64)> {
        use nfscope::legacy;
        use nfscope::wire::xt::entry::Family;
        let (mut bytes, mut tables) = (0u64, 0u64);
        for f in [Family::Ipv4, Family::Ipv6, Family::Arp] {
            for name in legacy::table_names(f)? {
                let (info, entries) = legacy::read_raw(f, &name)?;
                bytes += (info.len() + entries.len()) as u64;
                tables += 1;
            }
        }
        Ok((bytes, tables))
    }
    let (bytes, tables) = match netns {
        Some(ns) => nfscope::netns::run_in(ns, read)??,
        None => read()?,
    };
    println!(
        "{}",
        serde_json::json!({ "bytes": bytes, "tables": tables })
    );
    Ok(())
}

fn legacy_snapshot(netns: Option<&str>) -> anyhow::Result<()> {
    let l = match netns {
        Some(ns) => nfscope::legacy::read_all_in_netns(ns)?,
        None => nfscope::legacy::read_all()?,
    };
    let rules: usize = l
        .tables
        .iter()
        .flat_map(|t| &t.chains)
        .map(|c| c.rules.len())
        .sum();
    println!(
        "{}",
        serde_json::json!({ "tables": l.tables.len(), "rules": rules })
    );
    Ok(())
}
