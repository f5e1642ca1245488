//! The subcommands, embedded mode: each builds library options from the arguments, calls the
//! library, and prints.

use crate::{Cli, Command, FamilyArg, Filter, Format};
use anyhow::Result;
use nfscope::snapshot::{self, Options, Stats};
use nfscope::wire::nft::Family;
use nfscope::Ruleset;
use std::io::Write;

pub fn run(cli: &Cli) -> Result<()> {
    match &cli.command {
        Command::Dump(a) => {
            let (rs, _) = take(cli, &a.filter)?;
            let out = match a.format {
                Format::Nft => nfscope::render::nft::ruleset(&rs, &Default::default()),
                Format::Json => {
                    let mut s = serde_json::to_string_pretty(&nfscope::json::document(&rs))?;
                    s.push('\n');
                    s
                }
            };
            write_stdout(&out)
        }
        Command::Stats(a) => {
            let (rs, stats) = take(cli, &a.filter)?;
            let counts = nfscope::stats::count(&rs);
            let out = if a.json {
                let mut s = serde_json::to_string_pretty(&serde_json::json!({
                    "snapshot": stats, "counts": counts,
                }))?;
                s.push('\n');
                s
            } else {
                nfscope::stats::render_text(&counts, &stats)
            };
            write_stdout(&out)
        }
    }
}

fn family(f: FamilyArg) -> Family {
    match f {
        FamilyArg::Ip => Family::Ip,
        FamilyArg::Ip6 => Family::Ip6,
        FamilyArg::Inet => Family::Inet,
        FamilyArg::Arp => Family::Arp,
        FamilyArg::Bridge => Family::Bridge,
        FamilyArg::Netdev => Family::Netdev,
    }
}

fn take(cli: &Cli, f: &Filter) -> Result<(Ruleset, Stats)> {
    let opts = Options {
        family: f.family.map(family),
        table: f.table.clone(),
        chain: f.chain.clone(),
        ..Options::default()
    };
    let r = match &cli.netns {
        Some(ns) => snapshot::take_in_netns(ns, &opts),
        None => snapshot::take(&opts),
    };
    Ok(r?)
}

/// Write to stdout; a closed pipe (`nfscope dump | head`) is not an error.
fn write_stdout(s: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}
