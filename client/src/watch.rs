//! `nfscope watch`: print each transaction as it is committed.

use crate::{Cli, WatchArgs};
use anyhow::Result;
use nfscope::events::{Record, RuleText};
use nfscope::watch::{Event, WatchOptions, Watcher};
use std::io::Write;
use std::time::{Duration, Instant};

pub fn run(cli: &Cli, a: &WatchArgs) -> Result<()> {
    let opts = WatchOptions::default();
    let mut w = match &cli.netns {
        Some(ns) => Watcher::start_in_netns(ns, opts)?,
        None => Watcher::start(opts)?,
    };
    eprintln!(
        "nfscope: watching nf_tables (generation {}, {} rules); Ctrl-C to stop",
        w.state().generation,
        w.state().rule_count()
    );
    let colour = !a.json && unsafe_isatty();
    let deadline = a
        .duration
        .map(|s| Instant::now() + Duration::from_secs_f64(s.max(0.0)));
    let mut out = std::io::stdout().lock();
    loop {
        let timeout = match deadline {
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
        let (header, records) = match &ev {
            Event::Transaction(t) => {
                let p = &t.process;
                let who = if p.gone {
                    format!(
                        "{} (pid {}, exited before it could be inspected)",
                        p.comm, p.pid
                    )
                } else {
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
                };
                (format!("generation {} by {who}", t.generation), &t.records)
            }
            Event::Resync(r) => {
                if a.json {
                    let line = serde_json::json!({
                        "type": "resync", "generation": r.generation, "reason": r.reason,
                        "changes": r.records.len(),
                    });
                    writeln!(out, "{line}")?;
                }
                (
                    format!("RESYNC at generation {}: {}", r.generation, r.reason),
                    &r.records,
                )
            }
        };
        let shown: Vec<&Record> = records
            .iter()
            .filter(|r| a.table.as_ref().is_none_or(|t| &r.table == t))
            .filter(|r| a.chain.as_ref().is_none_or(|c| r.chain.as_ref() == Some(c)))
            .filter(|r| !a.alerts_only || r.alert.is_some())
            .collect();
        if shown.is_empty() && !matches!(ev, Event::Resync(_)) {
            continue;
        }
        let res = if a.json {
            shown
                .iter()
                .try_for_each(|r| writeln!(out, "{}", serde_json::to_string(r).unwrap_or_default()))
        } else {
            writeln!(out, "{}", paint(colour, "1", &header)).and_then(|_| {
                shown
                    .iter()
                    .try_for_each(|r| writeln!(out, "{}", human(r, colour)))
            })
        };
        match res.and_then(|_| out.flush()) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
            r => r?,
        }
    }
}

fn unsafe_isatty() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal()
}

fn paint(on: bool, code: &str, s: &str) -> String {
    if on {
        format!("\x1b[{code}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

fn text(r: &RuleText) -> String {
    r.iptables.clone().unwrap_or_else(|| r.nft.clone())
}

fn human(r: &Record, colour: bool) -> String {
    let place = format!(
        "{} {}{}",
        r.family,
        r.table,
        r.chain
            .as_ref()
            .map(|c| format!(" {c}"))
            .unwrap_or_default()
    );
    let mut s = match r.kind {
        "rule_added" => paint(
            colour,
            "32",
            &format!(
                "  + {place}: {}",
                r.rule.as_ref().map(text).unwrap_or_default()
            ),
        ),
        "rule_removed" => paint(
            colour,
            "31",
            &format!(
                "  - {place}: {}",
                r.rule.as_ref().map(text).unwrap_or_default()
            ),
        ),
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
