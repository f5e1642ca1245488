//! `nfscope history`: past changes, from the daemon or its database file.

use crate::watch::human;
use crate::HistoryArgs;
use anyhow::{bail, Context, Result};
use nfscope::history::{now_ms, History, Query, Stored};
use std::io::Write;

/// `90s`, `30m`, `6h`, `2d` ago, or unix seconds → unix milliseconds (0 for none).
pub fn when(s: &Option<String>) -> Result<i64> {
    let Some(s) = s else { return Ok(0) };
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num
        .parse()
        .with_context(|| format!("bad time {s:?}: use 90s, 30m, 6h, 2d or unix seconds"))?;
    let mult = match unit {
        "" => return Ok(n * 1000),
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => bail!("bad time {s:?}: use 90s, 30m, 6h, 2d or unix seconds"),
    };
    Ok(now_ms() - n * mult)
}

pub fn query(a: &HistoryArgs) -> Result<Query> {
    Ok(Query {
        since_unix_ms: when(&a.since)?,
        until_unix_ms: when(&a.until)?,
        table: a.table.clone().unwrap_or_default(),
        chain: a.chain.clone().unwrap_or_default(),
        alerts_only: a.alerts_only,
        limit: a.limit as usize,
        ..Query::default()
    })
}

pub fn embedded(a: &HistoryArgs) -> Result<()> {
    let h = History::open_existing(&a.file)?;
    let (recs, truncated) = h.query(&query(a)?)?;
    print(&recs, truncated, a.json)
}

/// Print records the same way in both modes.
pub fn print(recs: &[Stored], truncated: bool, json: bool) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let mut last = None;
    let res = (|| -> std::io::Result<()> {
        for s in recs {
            if json {
                writeln!(out, "{}", serde_json::to_string(s).unwrap_or_default())?;
                continue;
            }
            if let Some(g) = s.record.gap.filter(|_| s.record.kind == "gap") {
                last = Some((s.record.generation, s.time_unix_ms));
                writeln!(out, "{}", crate::watch::gap_line(&g))?;
                continue;
            }
            let key = (s.record.generation, s.time_unix_ms);
            if last != Some(key) {
                last = Some(key);
                let r = &s.record;
                let who = match &r.process {
                    Some(p) if r.attribution == "audit" => {
                        format!("{} (pid {}, from audit records)", p.comm, p.pid)
                    }
                    Some(p) => format!("{} (pid {})", p.comm, p.pid),
                    None if r.gap.is_some() => {
                        "an unknown writer, while nfscoped was down (found at its start)".into()
                    }
                    None if r.backend == "legacy" => "an unknown writer (seen by polling)".into(),
                    None => "resync".into(),
                };
                let what = if r.backend == "legacy" {
                    "legacy x_tables".to_string()
                } else {
                    format!("generation {}", r.generation)
                };
                writeln!(
                    out,
                    "{} {what} by {who}",
                    nfscope::history::fmt_time(s.time_unix_ms)
                )?;
            }
            writeln!(out, "{}", human(&s.record, false))?;
        }
        if truncated {
            writeln!(
                out,
                "(more records: raise --limit or narrow --since/--until)"
            )?;
        }
        out.flush()
    })();
    match res {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}
