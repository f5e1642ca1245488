//! Alerts as they happen: watch nf_tables (and legacy x_tables) and print every change that
//! removed a match from a rule, with the process that made it.
//!
//! `watch_alerts [NETNS] [COUNT]`: stop after COUNT alerts (default: never). Prints `watching`
//! on stderr once every later change will be seen.
use nfscope::watch::{Event, WatchOptions, Watcher};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let netns = args.next().filter(|a| a != "-");
    let mut left: Option<u64> = args.next().map(|n| n.parse()).transpose()?;
    let mut watcher = match &netns {
        Some(ns) => Watcher::start_in_netns(ns, WatchOptions::default())?,
        None => Watcher::start(WatchOptions::default())?,
    };
    eprintln!("watching");
    while left != Some(0) {
        let records = match watcher.next_event()? {
            Event::Transaction(t) => t.records,
            Event::Resync(r) => r.records,
            Event::Legacy(records) => records,
        };
        for r in records.iter().filter(|r| r.alert.is_some()) {
            let who = r.process.as_ref().map_or("unknown".to_string(), |p| {
                format!("{} (pid {})", p.comm, p.pid)
            });
            println!(
                "{} {} {}: lost {} (by {who})",
                r.family,
                r.table,
                r.chain.as_deref().unwrap_or("-"),
                r.lost.join(", ")
            );
            left = left.map(|n| n.saturating_sub(1));
        }
    }
    Ok(())
}
