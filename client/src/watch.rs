//! `nfscope watch`: print each change as it is committed. Embedded and remote mode feed the same
//! [`Printer`] (records one by one, resync markers between), so both print exactly the same.

use crate::{Cli, WatchArgs};
use anyhow::Result;
use nfscope::events::{Record, RuleText};
use nfscope::watch::{Event, WatchOptions, Watcher};
use std::io::Write;
use std::time::{Duration, Instant};

pub struct Printer<'a> {
    args: &'a WatchArgs,
    colour: bool,
    out: std::io::StdoutLock<'static>,
    last: Option<(u32, u32)>,
}

impl<'a> Printer<'a> {
    /// `colour`: the CLI's `--color` decision (JSON is never coloured).
    pub fn new(args: &'a WatchArgs, colour: bool) -> Printer<'a> {
        let colour = colour && !args.json;
        Printer {
            args,
            colour,
            out: std::io::stdout().lock(),
            last: None,
        }
    }

    /// The line on stderr that says the watch is running.
    pub fn started(generation: u32, rules: u64) {
        eprintln!(
            "nfscope: watching nf_tables (generation {generation}, {rules} rules); Ctrl-C to stop"
        );
    }

    pub fn resync(&mut self, generation: u32, reason: &str, changes: u64) -> std::io::Result<()> {
        self.last = None;
        if self.args.json {
            #[derive(serde::Serialize)]
            struct Resync<'a> {
                r#type: &'static str,
                generation: u32,
                reason: &'a str,
                changes: u64,
            }
            let line = Resync {
                r#type: "resync",
                generation,
                reason,
                changes,
            };
            writeln!(
                self.out,
                "{}",
                serde_json::to_string(&line).unwrap_or_default()
            )?;
        } else {
            let h = format!("RESYNC at generation {generation}: {reason}");
            writeln!(self.out, "{}", paint(self.colour, "1", &h))?;
        }
        self.out.flush()
    }

    pub fn record(&mut self, r: &Record) -> std::io::Result<()> {
        let a = self.args;
        if a.table.as_ref().is_some_and(|t| &r.table != t)
            || a.chain
                .as_ref()
                .is_some_and(|c| r.chain.as_ref() != Some(c))
            || (a.alerts_only && r.alert.is_none())
        {
            return Ok(());
        }
        if a.json {
            writeln!(self.out, "{}", serde_json::to_string(r).unwrap_or_default())?;
            return self.out.flush();
        }
        if let Some(g) = r.gap.filter(|_| r.kind == "gap") {
            self.last = Some((r.generation, 0));
            writeln!(self.out, "{}", paint(self.colour, "1", &gap_line(&g)))?;
            return self.out.flush();
        }
        let key = (r.generation, r.process.as_ref().map(|p| p.pid).unwrap_or(0));
        if !r.resync && self.last != Some(key) {
            self.last = Some(key);
            let h = if r.gap.is_some() {
                "changed while nfscoped was down (writer not known)".to_string()
            } else if r.backend == "legacy" && r.process.is_some() {
                format!(
                    "legacy x_tables changed by {}{}",
                    who(r),
                    r.audit_event
                        .as_ref()
                        .map(|e| format!(" (audit event {e})"))
                        .unwrap_or_default()
                )
            } else if r.backend == "legacy" {
                "legacy x_tables changed (seen by polling: the writer is not known)".to_string()
            } else {
                format!("generation {} by {}", r.generation, who(r))
            };
            writeln!(self.out, "{}", paint(self.colour, "1", &h))?;
        }
        writeln!(self.out, "{}", human(r, self.colour))?;
        self.out.flush()
    }
}

/// Ignore a closed stdout (`nfscope watch | head`).
pub fn ok_or_pipe(r: std::io::Result<()>) -> Result<bool> {
    match r {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub fn deadline(a: &WatchArgs) -> Option<Instant> {
    a.duration
        .map(|s| Instant::now() + Duration::from_secs_f64(s.max(0.0)))
}

pub fn run(cli: &Cli, a: &WatchArgs) -> Result<()> {
    let opts = WatchOptions::default();
    let mut w = match &cli.netns {
        Some(ns) => Watcher::start_in_netns(ns, opts)?,
        None => Watcher::start(opts)?,
    };
    Printer::started(w.state().generation, w.state().rule_count() as u64);
    // Not eprintln!: a reader that stopped reading stderr must not end the watch.
    let _ = writeln!(
        std::io::stderr(),
        "nfscope: legacy x_tables: {}",
        w.audit_state().note
    );
    let mut p = Printer::new(a, cli.colour());
    let end = deadline(a);
    loop {
        let timeout = match end {
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    return Ok(());
                }
                Some((d - now).min(Duration::from_millis(500)))
            }
            None => None,
        };
        let Some(ev) = w.next_timeout(timeout)? else {
            continue;
        };
        let res = match &ev {
            Event::Transaction(t) => t.records.iter().try_for_each(|r| p.record(r)),
            Event::Resync(r) => p
                .resync(r.generation, &r.reason, r.records.len() as u64)
                .and_then(|_| r.records.iter().try_for_each(|x| p.record(x))),
            Event::Legacy(records) => records.iter().try_for_each(|r| p.record(r)),
        };
        if !ok_or_pipe(res)? {
            return Ok(());
        }
    }
}

/// The header line of a `gap` marker.
pub fn gap_line(g: &nfscope::events::Gap) -> String {
    format!(
        "gap: nfscoped was down from {}{} to {} ({}); {} change{} made meanwhile, writers not known",
        nfscope::history::fmt_time(g.stopped_unix_ms),
        if g.clean { "" } else { " (or later: it did not stop cleanly)" },
        nfscope::history::fmt_time(g.started_unix_ms),
        nfscope::events::Gap::human_duration(g.down_ms),
        g.changes,
        if g.changes == 1 { "" } else { "s" },
    )
}

fn who(r: &Record) -> String {
    let Some(p) = &r.process else {
        return "an unknown process".into();
    };
    if p.gone {
        return match &p.exe {
            Some(e) => format!(
                "{} (pid {}, {e}, exited before it could be inspected)",
                p.comm, p.pid
            ),
            None => format!(
                "{} (pid {}, exited before it could be inspected)",
                p.comm, p.pid
            ),
        };
    }
    let mut s = format!("{} (pid {}", p.comm, p.pid);
    if let Some(e) = &p.exe {
        s.push_str(&format!(", {e}"));
    }
    if let Some(c) = &p.container {
        s.push_str(&format!(", container {}", &c[..12.min(c.len())]));
    }
    if let Some(u) = &p.pod_uid {
        s.push_str(&format!(", pod {u}"));
    }
    s.push(')');
    s
}

use nfscope::output::paint;

fn text(r: &RuleText) -> String {
    r.iptables.clone().unwrap_or_else(|| r.nft.clone())
}

/// One record as a human reads it.
pub fn human(r: &Record, colour: bool) -> String {
    let place = format!(
        "{} {}{}",
        r.family,
        r.table,
        r.chain
            .as_ref()
            .map(|c| format!(" {c}"))
            .unwrap_or_default()
    );
    let rule = || r.rule.as_ref().map(text).unwrap_or_default();
    let mut s = match r.kind.as_str() {
        "rule_added" => paint(colour, "32", &format!("  + {place}: {}", rule())),
        "rule_removed" => paint(colour, "31", &format!("  - {place}: {}", rule())),
        "rule_replaced" => {
            let mut s = format!("  ~ {place}: replaced");
            if r.reencoded {
                s.push_str(" (same meaning, re-encoded)");
            }
            if !r.lost.is_empty() {
                s.push_str(&format!("; lost {}", r.lost.join(", ")));
            }
            if !r.gained.is_empty() {
                s.push_str(&format!("; gained {}", r.gained.join(", ")));
            }
            if let Some(b) = &r.before {
                s.push_str(&format!("\n      before: {}", text(b)));
            }
            if let Some(a) = &r.after {
                s.push_str(&format!("\n      after:  {}", text(a)));
            }
            s
        }
        "set_changed" => format!(
            "  * {place} set {}: +{} -{} elements",
            r.set.as_deref().unwrap_or(""),
            r.elements_added.unwrap_or(0),
            r.elements_removed.unwrap_or(0)
        ),
        k => format!(
            "  * {place}: {}{}",
            k.replace('_', " "),
            r.set.as_ref().map(|s| format!(" {s}")).unwrap_or_default()
        ),
    };
    if let Some(al) = &r.alert {
        s.push_str(&paint(
            colour,
            "1;31",
            &format!("\n    ALERT {} ({})", al.kind, al.severity),
        ));
    }
    s
}
