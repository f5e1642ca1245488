//! The subcommands, embedded mode: each builds library options from the arguments, calls the
//! library, and prints.

use crate::{Cli, Command, FamilyArg, Filter, Format, SeverityArg};
use anyhow::Result;
use nfscope::lint::{self, NodeSettings, Severity};
use nfscope::snapshot::{self, Options, Stats};
use nfscope::wire::nft::Family;
use nfscope::Ruleset;
use std::io::Write;

/// How a successful command ends.
pub enum Status {
    Ok,
    /// `lint --fail-on`: findings at or above the threshold.
    Findings,
}

pub fn run(cli: &Cli) -> Result<Status> {
    match &cli.command {
        Command::Watch(a) => {
            crate::watch::run(cli, a)?;
            Ok(Status::Ok)
        }
        Command::Lint(a) => {
            let (rs, _) = take(
                cli,
                &Filter {
                    family: None,
                    table: None,
                    chain: None,
                },
            )?;
            let node = match &cli.netns {
                Some(ns) => nfscope::netns::run_in(ns, NodeSettings::read)?,
                None => NodeSettings::read(),
            };
            let findings = lint::run(&lint::Input {
                nft: &rs,
                legacy: &[],
                node: Some(&node),
            });
            let out = if a.json {
                let mut s = serde_json::to_string_pretty(&findings)?;
                s.push('\n');
                s
            } else {
                lint::render_text(&findings)
            };
            write_stdout(&out)?;
            let threshold = a.fail_on.map(|s| match s {
                SeverityArg::Info => Severity::Info,
                SeverityArg::Warning => Severity::Warning,
                SeverityArg::Critical => Severity::Critical,
            });
            Ok(match threshold {
                Some(t) if findings.iter().any(|f| f.severity >= t) => Status::Findings,
                _ => Status::Ok,
            })
        }
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
            write_stdout(&out)?;
            Ok(Status::Ok)
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
            write_stdout(&out)?;
            Ok(Status::Ok)
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
pub fn write_stdout(s: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}
