//! The subcommands, embedded mode: each builds library options from the arguments, calls the
//! library, and prints.

use crate::{BackendArg, BlameArgs, Cli, Command, FamilyArg, Filter, Format, SeverityArg, XtArg};
use anyhow::Result;
use nfscope::lint::{self, NodeSettings, Severity};
use nfscope::output;
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
    if let Some(url) = &cli.remote {
        return crate::remote::run(cli, url);
    }
    match &cli.command {
        Some(Command::History(a)) => {
            crate::history::embedded(a)?;
            Ok(Status::Ok)
        }
        Some(Command::Watch(a)) => {
            crate::watch::run(cli, a)?;
            Ok(Status::Ok)
        }
        Some(Command::Blame(a)) => {
            blame(cli, a)?;
            Ok(Status::Ok)
        }
        Some(Command::Lint(a)) => {
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
            let all = Filter {
                family: None,
                table: None,
                chain: None,
            };
            let legacy = output::legacy_tables(&read_legacy(cli, &all)?);
            let findings = lint::run(&lint::Input {
                nft: &rs,
                legacy: &legacy,
                node: Some(&node),
            });
            write_stdout(&output::lint(&findings, a.json, cli.colour()))?;
            Ok(lint_status(&findings, a.fail_on))
        }
        Some(Command::Dump(a)) => {
            let backend = backend(a.backend);
            if a.format == Format::IptablesSave && !a.show_writer {
                // Translated while the rules are read, as the nft text is; legacy tables are
                // written a chunk at a time.
                let nft = if backend.nft() {
                    Some(output::iptables_save_text(
                        cli.netns.as_deref(),
                        &snapshot_options(&a.filter),
                        a.counters,
                        backend == output::Backend::All,
                    )?)
                } else {
                    None
                };
                let legacy = if backend.legacy() {
                    Some(read_legacy(cli, &a.filter)?)
                } else {
                    None
                };
                write_streamed(|w| {
                    output::write_iptables_save(
                        w,
                        nft.as_ref(),
                        legacy.as_ref(),
                        backend,
                        a.counters,
                    )
                })?;
                // The process ends here: not freeing 100k allocations one by one saves ~10 ms
                // at 80k rules.
                std::mem::forget((nft, legacy));
                return Ok(Status::Ok);
            }
            if a.format == Format::Nft && backend.nft() && !a.show_writer {
                // Rendered while the rules are read: the text is the same, at about the cost
                // of reading alone.
                let nft = output::nft_text(
                    cli.netns.as_deref(),
                    &snapshot_options(&a.filter),
                    xt_style(a.xt),
                )?;
                let legacy = if backend.legacy() {
                    Some(read_legacy(cli, &a.filter)?)
                } else {
                    None
                };
                for w in &nft.warnings {
                    eprintln!("{w}");
                }
                write_streamed(|w| {
                    output::write_nft_text(w, Some(&nft), legacy.as_ref(), backend)
                })?;
                // The process ends here: not freeing 100k allocations one by one saves ~10 ms
                // at 80k rules.
                std::mem::forget((nft, legacy));
                return Ok(Status::Ok);
            }
            let (rs, legacy) = read_backends(cli, &a.filter, backend)?;
            let mut opts = output::nft_options_for(cli.netns.as_deref(), &rs)?;
            opts.show_writer = a.show_writer;
            opts.xt = xt_style(a.xt);
            if a.format == Format::Nft && backend.nft() {
                // nft writes these to stderr before the ruleset; so do we.
                for w in nfscope::render::nft::warnings(&rs) {
                    eprintln!("{w}");
                }
            }
            if a.format == Format::Json {
                // Streamed to stdout: at 80k rules the text alone is hundreds of MB.
                let out = std::io::stdout().lock();
                return match output::write_json(out, &rs, legacy.as_ref(), backend, &opts) {
                    Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(Status::Ok),
                    r => {
                        r?;
                        Ok(Status::Ok)
                    }
                };
            }
            write_stdout(&output::dump_with(
                &rs,
                legacy.as_ref(),
                backend,
                format(a.format),
                &opts,
                a.counters,
            ))?;
            Ok(Status::Ok)
        }
        Some(Command::Stats(a)) => {
            let b = backend(a.backend);
            let nft = if b.nft() {
                // Counted while read: no rule is kept.
                Some(nfscope::stats::take_counts(
                    cli.netns.as_deref(),
                    &snapshot_options(&a.filter),
                )?)
            } else {
                None
            };
            let legacy = if b.legacy() {
                let start = std::time::Instant::now();
                let l = read_legacy(cli, &a.filter)?;
                Some((l, start.elapsed()))
            } else {
                None
            };
            write_stdout(&output::stats_counts(
                nft.as_ref().map(|(c, st)| (c, st)),
                legacy.as_ref().map(|(l, d)| (l, *d)),
                a.json,
            ))?;
            Ok(Status::Ok)
        }
        // Answered in main before any firewall is read.
        None | Some(Command::Completions { .. } | Command::ManPages { .. }) => Ok(Status::Ok),
    }
}

pub fn family(f: FamilyArg) -> Family {
    match f {
        FamilyArg::Ip => Family::Ip,
        FamilyArg::Ip6 => Family::Ip6,
        FamilyArg::Inet => Family::Inet,
        FamilyArg::Arp => Family::Arp,
        FamilyArg::Bridge => Family::Bridge,
        FamilyArg::Netdev => Family::Netdev,
    }
}

fn snapshot_options(f: &Filter) -> Options {
    Options {
        family: f.family.map(family),
        table: f.table.clone(),
        chain: f.chain.clone(),
        ..Options::default()
    }
}

fn take(cli: &Cli, f: &Filter) -> Result<(Ruleset, Stats)> {
    let opts = snapshot_options(f);
    let r = match &cli.netns {
        Some(ns) => snapshot::take_in_netns(ns, &opts),
        None => snapshot::take(&opts),
    };
    Ok(r?)
}

/// Write to stdout through `write` (buffered); a closed pipe is not an error.
fn write_streamed(
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    match write(&mut out).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}

/// Write to stdout; a closed pipe (`nfscope dump | head`) is not an error.
pub fn write_stdout(s: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(s.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}

/// `--fail-on`: findings at or above the threshold make the exit status 3.
pub fn lint_status(findings: &[lint::Finding], fail_on: Option<SeverityArg>) -> Status {
    let threshold = fail_on.map(|s| match s {
        SeverityArg::Info => Severity::Info,
        SeverityArg::Warning => Severity::Warning,
        SeverityArg::Critical => Severity::Critical,
    });
    match threshold {
        Some(t) if findings.iter().any(|f| f.severity >= t) => Status::Findings,
        _ => Status::Ok,
    }
}

pub fn format(f: Format) -> output::DumpFormat {
    match f {
        Format::Nft => output::DumpFormat::Nft,
        Format::Json => output::DumpFormat::Json,
        Format::IptablesSave => output::DumpFormat::IptablesSave,
    }
}

pub fn xt_style(x: XtArg) -> nfscope::render::nft::XtStyle {
    match x {
        XtArg::Translate => nfscope::render::nft::XtStyle::Translate,
        XtArg::Nft => nfscope::render::nft::XtStyle::Nft,
    }
}

pub fn backend(b: BackendArg) -> output::Backend {
    match b {
        BackendArg::Nft => output::Backend::Nft,
        BackendArg::Legacy => output::Backend::Legacy,
        BackendArg::All => output::Backend::All,
    }
}

/// The legacy x_tables tables (only those the kernel lists: reading never creates one).
fn read_legacy(cli: &Cli, f: &Filter) -> Result<nfscope::legacy::LegacyRuleset> {
    let mut l = match &cli.netns {
        Some(ns) => nfscope::legacy::read_all_in_netns(ns)?,
        None => nfscope::legacy::read_all()?,
    };
    output::filter_legacy(&mut l, f.family.map(family), f.table.as_deref());
    Ok(l)
}

/// A full snapshot of the backends asked for (only those are read).
fn read_backends(
    cli: &Cli,
    f: &Filter,
    backend: output::Backend,
) -> Result<(Ruleset, Option<nfscope::legacy::LegacyRuleset>)> {
    let rs = if backend.nft() {
        take(cli, f)?.0
    } else {
        Ruleset::default()
    };
    let legacy = if backend.legacy() {
        Some(read_legacy(cli, f)?)
    } else {
        None
    };
    Ok((rs, legacy))
}

/// `nfscope blame`, embedded: the live rules, the history database, and what the library makes
/// of the two.
fn blame(cli: &Cli, a: &BlameArgs) -> Result<()> {
    use nfscope::blame;
    let history = nfscope::history::History::open_existing(&a.file)?;
    let backend = backend(a.backend);
    let legacy = if backend.legacy() {
        Some(read_legacy(cli, &a.filter)?)
    } else {
        None
    };
    let scope = blame::Scope {
        family: a.filter.family.map(family),
        table: a.filter.table.clone(),
        chain: a.filter.chain.clone(),
    };
    // Printed chain by chain as blame makes them; a closed pipe ends it quietly.
    let mut failed = None;
    write_streamed(|w| {
        let emit = |c: String| Ok(w.write_all(c.as_bytes())?);
        let r = if backend.nft() {
            blame::run_live(
                cli.netns.as_deref(),
                &snapshot_options(&a.filter),
                legacy.as_ref(),
                &history.reader(),
                &scope,
                format(a.format),
                emit,
            )
        } else {
            blame::run(
                &Ruleset::default(),
                legacy.as_ref(),
                &nfscope::render::nft::NftOptions::default(),
                &history.reader(),
                &scope,
                format(a.format),
                emit,
            )
        };
        match r.map_err(|e| e.downcast::<std::io::Error>()) {
            Ok(()) => Ok(()),
            Err(Ok(io)) => Err(io),
            Err(Err(e)) => {
                failed = Some(e);
                Ok(())
            }
        }
    })?;
    failed.map_or(Ok(()), Err)
}
