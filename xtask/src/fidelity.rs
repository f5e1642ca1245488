//! `cargo xtask fidelity`: nfscope's text against the upstream tools' own, on upstream's own test
//! suites (see docs/fidelity.md).
//!
//! Corpora, each loaded in throw-away network namespaces by the real tools, then listed by the
//! oracle (`nft list ruleset`, `*-save`) and by `nfscope dump` in the same namespace:
//!
//! - `nft-py`: nftables `tests/py/*/*.t`, read as `tests/py/nft-test.py` reads them (`*family;
//!   table;chains`, `:chain;config`, `!set`, `?elements`, `%object`, `rule;ok[;output]`; `fail`
//!   and `-` lines are not loaded). One namespace per file: its tables, chains, sets and objects,
//!   then every rule instance (rule × table × chain) in one `nft -f` batch; if the batch fails to
//!   load or the listing fails, rule by rule (flush, add, list), as nft-test.py does. Each loaded
//!   instance is compared as a line: nft's n-th rule line of the chain against ours.
//!   `nft-py-other` counts the table's other lines (set, map and object definitions).
//! - `nft-shell`: `tests/shell/testcases/**/dumps/*.nft`, each `nft -f` in its own namespace;
//!   a file is identical when the whole listing is.
//! - iptables 1.8.9 `extensions/*.t` (`:CHAINS`, `*table`, `@`/`%` commands,
//!   `RULE;SAVED;RESULT[;VARIANT[;ALT]]`, binary by file prefix), each file once per backend in
//!   its own namespace, every `OK`/`NOMATCH` rule added with `-A` in every chain of its line;
//!   compared line by line (the oracle's lines, comments left out) with `dump --format
//!   iptables-save [-c]` (`ipt-legacy`, `ipt-legacy-c`, `ipt-nft-save`, `ipt-nft-save-c`) and,
//!   on the nf_tables backend, `dump --format nft --xt nft` against `nft list ruleset`
//!   (`ipt-nft-xt`; a crash of nft there is counted, not compared).
//!
//! A difference is a pair (nft's line, ours); its category is the first differing token with the
//! one before it, numbers and strings normalised, so that one cause is one category.

use anyhow::{bail, Context, Result};
use nfscope_tests::Netns;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// A checkout of nftables (its tests/py and tests/shell are read).
    #[arg(long)]
    nftables: Option<PathBuf>,
    /// A checkout of iptables 1.8.9 (its extensions/*.t are read).
    #[arg(long)]
    iptables: Option<PathBuf>,
    /// Only test files whose path (relative to the checkout) contains this.
    #[arg(long)]
    filter: Option<String>,
    /// Namespaces worked on in parallel.
    #[arg(long, default_value_t = 2)]
    jobs: usize,
    /// Print every result that is not identical (and the totals) as JSON on stdout; the
    /// summary then goes to stderr.
    #[arg(long)]
    json: bool,
    /// The nfscope binary to test (default: the one next to this xtask, built first).
    #[arg(long)]
    nfscope: Option<PathBuf>,
    /// Do not run `cargo build -p nfscope-cli` first.
    #[arg(long)]
    no_build: bool,
    /// Examples per category in the summary.
    #[arg(long, default_value_t = 1)]
    examples: usize,
}

/// Outcome of one instance (a rule, a file or a line, per corpus).
#[derive(Clone, Debug, PartialEq)]
enum Status {
    Identical,
    /// nft's (the oracle's) text, then ours; either may be empty (missing line).
    Different(String, String),
    FailedLoad(String),
    NftCrashed(String),
}

#[derive(Clone, Debug)]
struct Record {
    corpus: &'static str,
    /// Test file (relative) and where in it.
    file: String,
    what: String,
    status: Status,
}

struct Ctx {
    nfscope: PathBuf,
}

enum Unit {
    Py(PathBuf, String),
    Shell(PathBuf, String),
    Ipt(PathBuf, String, Backend),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Backend {
    Nft,
    Legacy,
}

pub fn run(a: &Args) -> Result<()> {
    if a.nftables.is_none() && a.iptables.is_none() {
        bail!("give --nftables DIR and/or --iptables DIR (see docs/fidelity.md)");
    }
    let nfscope = match &a.nfscope {
        Some(p) => p.clone(),
        None => {
            let xtask = std::env::current_exe().context("path of xtask")?;
            let dir = xtask.parent().context("xtask has no directory")?;
            if !a.no_build {
                let release = !cfg!(debug_assertions);
                eprintln!("building nfscope (cargo build -p nfscope-cli)…");
                let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
                let mut c = Command::new(cargo);
                c.args(["build", "-p", "nfscope-cli"]);
                if release {
                    c.arg("--release");
                }
                let st = c.status().context("run cargo build")?;
                anyhow::ensure!(st.success(), "cargo build -p nfscope-cli failed");
            }
            dir.join("nfscope")
        }
    };
    anyhow::ensure!(nfscope.exists(), "{} missing", nfscope.display());
    let ctx = Ctx { nfscope };
    let units = collect_units(a)?;
    eprintln!("fidelity: {} test files, {} jobs", units.len(), a.jobs);
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let records: Mutex<Vec<(usize, Vec<Record>)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..a.jobs.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(u) = units.get(i) else { break };
                let (name, r) = match u {
                    Unit::Py(p, rel) => (rel.clone(), run_py(&ctx, p, rel)),
                    Unit::Shell(p, rel) => (rel.clone(), run_shell(&ctx, p, rel)),
                    Unit::Ipt(p, rel, b) => (format!("{rel} ({b:?})"), run_ipt(&ctx, p, rel, *b)),
                };
                let r = r.unwrap_or_else(|e| {
                    vec![Record {
                        corpus: "harness",
                        file: name.clone(),
                        what: String::new(),
                        status: Status::FailedLoad(format!("{e:#}")),
                    }]
                });
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                let bad = r
                    .iter()
                    .filter(|x| matches!(x.status, Status::Different(..)))
                    .count();
                eprintln!(
                    "[{n}/{}] {name}: {} results, {bad} differ",
                    units.len(),
                    r.len()
                );
                if let Ok(mut g) = records.lock() {
                    g.push((i, r));
                }
            });
        }
    });
    let mut all = records.into_inner().unwrap_or_default();
    all.sort_by_key(|x| x.0);
    let records: Vec<Record> = all.into_iter().flat_map(|x| x.1).collect();
    if a.json {
        eprint!("{}", summary(&records, a.examples));
        println!("{}", serde_json::to_string_pretty(&to_json(&records))?);
    } else {
        print!("{}", summary(&records, a.examples));
    }
    Ok(())
}

fn collect_units(a: &Args) -> Result<Vec<Unit>> {
    let keep = |rel: &str| a.filter.as_deref().is_none_or(|f| rel.contains(f));
    let mut units = Vec::new();
    if let Some(d) = &a.nftables {
        let py = d.join("tests/py");
        let mut files = Vec::new();
        for fam in sorted_dir(&py)? {
            if fam.is_dir() {
                for f in sorted_dir(&fam)? {
                    if f.extension().is_some_and(|e| e == "t") {
                        files.push(f);
                    }
                }
            }
        }
        anyhow::ensure!(!files.is_empty(), "no tests/py/*/*.t under {}", d.display());
        for f in files {
            let rel = rel_of(d, &f);
            if keep(&rel) {
                units.push(Unit::Py(f, rel));
            }
        }
        let mut dumps = Vec::new();
        walk(&d.join("tests/shell/testcases"), &mut dumps)?;
        dumps.retain(|p| {
            p.extension().is_some_and(|e| e == "nft")
                && p.parent()
                    .and_then(|x| x.file_name())
                    .is_some_and(|n| n == "dumps")
        });
        dumps.sort();
        for f in dumps {
            let rel = rel_of(d, &f);
            if keep(&rel) {
                units.push(Unit::Shell(f, rel));
            }
        }
    }
    if let Some(d) = &a.iptables {
        let ext = d.join("extensions");
        let files: Vec<PathBuf> = sorted_dir(&ext)?
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "t"))
            .collect();
        anyhow::ensure!(!files.is_empty(), "no extensions/*.t under {}", d.display());
        for f in files {
            let rel = rel_of(d, &f);
            if keep(&rel) {
                units.push(Unit::Ipt(f.clone(), rel.clone(), Backend::Nft));
                units.push(Unit::Ipt(f, rel, Backend::Legacy));
            }
        }
    }
    Ok(units)
}

fn sorted_dir(d: &Path) -> Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(d)
        .with_context(|| format!("read {}", d.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    v.sort();
    Ok(v)
}

fn walk(d: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for p in sorted_dir(d)? {
        if p.is_dir() {
            walk(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

fn rel_of(base: &Path, p: &Path) -> String {
    p.strip_prefix(base).unwrap_or(p).display().to_string()
}

// ---------------------------------------------------------------- running things

/// Run `prog args` in the namespace, `input` on stdin.
fn exec(ns: &Netns, prog: &str, args: &[&str], input: Option<&str>) -> Result<Output> {
    let mut c = ns.command(prog);
    c.args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().with_context(|| format!("spawn {prog}"))?;
    if let (Some(i), Some(mut w)) = (input, child.stdin.take()) {
        let _ = w.write_all(i.as_bytes());
    }
    child.wait_with_output().context("wait")
}

fn nft(ns: &Netns, script: &str) -> Result<Output> {
    exec(ns, "nft", &["-f", "-"], Some(script))
}

fn sh(ns: &Netns, cmd: &str) -> Result<Output> {
    exec(ns, "sh", &["-c", cmd], None)
}

fn ours(ctx: &Ctx, ns: &Netns, args: &[&str]) -> Result<String> {
    let out = Command::new(&ctx.nfscope)
        .arg("--netns")
        .arg(ns.name())
        .arg("dump")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("run nfscope")?;
    let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        s.push_str(&format!(
            "nfscope failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(s)
}

/// What a listing command gave: text, or a crash (killed by a signal / abort) or error text.
enum Listing {
    Text(String),
    Crashed(String),
}

fn listing(out: Output) -> Listing {
    use std::os::unix::process::ExitStatusExt;
    let err = String::from_utf8_lossy(&out.stderr).trim().to_string();
    if let Some(sig) = out.status.signal() {
        return Listing::Crashed(format!("signal {sig}: {err}"));
    }
    match out.status.code() {
        Some(0) => Listing::Text(String::from_utf8_lossy(&out.stdout).into_owned()),
        // The `ip netns exec` wrapper reports a child's signal as 128+n.
        Some(c) => Listing::Crashed(format!("exit {c}: {err}")),
        None => Listing::Crashed(err),
    }
}

/// The first non-empty line of an error text, without nft's `FILE:LINE:COL-COL: ` position
/// (so that one error is one group whatever the rule's length).
fn first_line(s: &str) -> String {
    let l = s.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let l = match l.find(": Error: ") {
        Some(i) => &l[i + 2..],
        None => l,
    };
    l.chars().take(200).collect()
}

// ---------------------------------------------------------------- nft listing parsing

/// One table of an nft listing: its header, its chains' rule lines, and its other lines.
#[derive(Default, Debug)]
struct Table {
    chains: BTreeMap<String, Vec<String>>,
    other: Vec<String>,
}

/// Split an `nft list ruleset` text into tables (key `family name`), each with the rule lines
/// of every chain (a line directly inside a chain that is not a chain property ending in `;`).
fn parse_listing(text: &str) -> BTreeMap<String, Table> {
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    let mut table: Option<String> = None;
    let mut chain: Option<String> = None;
    let mut depth = 0usize;
    for line in text.lines() {
        let t = line.trim();
        if depth == 0 {
            if let Some(rest) = t.strip_prefix("table ") {
                let key = rest.trim_end_matches('{').trim().to_string();
                tables.entry(key.clone()).or_default();
                table = Some(key);
                depth = 1;
            }
            continue;
        }
        let Some(tk) = table.clone() else { continue };
        let tb = tables.entry(tk).or_default();
        if depth == 1 {
            if t.is_empty() {
                continue;
            }
            if t == "}" {
                depth = 0;
                table = None;
                continue;
            }
            if let Some(rest) = t.strip_prefix("chain ") {
                if t.ends_with('{') {
                    let name = rest.trim_end_matches('{').trim().to_string();
                    tb.chains.entry(name.clone()).or_default();
                    chain = Some(name);
                    depth = 2;
                    continue;
                }
            }
            tb.other.push(t.to_string());
            if t.ends_with('{') {
                depth = 3; // a set, map, flowtable or object block
            }
            continue;
        }
        if depth == 2 {
            if t == "}" {
                depth = 1;
                chain = None;
                continue;
            }
            let c = chain.clone().unwrap_or_default();
            if t.ends_with(';') || t.is_empty() {
                tb.other.push(format!("{c}: {t}"));
            } else {
                tb.chains.entry(c).or_default().push(t.to_string());
            }
            continue;
        }
        // depth 3: inside a set/map/object block; elements may span lines.
        tb.other.push(t.to_string());
        if t == "}" {
            depth = 1;
        }
    }
    tables
}

// ---------------------------------------------------------------- nftables tests/py

struct PyChain {
    name: String,
    config: String,
}

struct PyTable {
    family: String,
    name: String,
    chains: Vec<String>,
}

impl PyTable {
    fn spec(&self) -> String {
        format!("{} {}", self.family, self.name)
    }
}

/// A rule instance: a rule line of the test file in one table and chain.
struct Instance {
    lineno: usize,
    table: String,
    chain: String,
    rule: String,
}

fn run_py(ctx: &Ctx, path: &Path, rel: &str) -> Result<Vec<Record>> {
    let text = std::fs::read_to_string(path)?;
    let ns = Netns::new("fid");
    let mut chains: Vec<PyChain> = Vec::new();
    let mut tables: Vec<PyTable> = Vec::new();
    // Setup commands, run one by one as nft-test.py does (a failing one, e.g. a `fail` set,
    // is left out).
    let mut setup: Vec<String> = Vec::new();
    let mut inst: Vec<Instance> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let lineno = i + 1;
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let body = line.trim_end();
        if let Some(t) = body.strip_prefix('*') {
            let p: Vec<&str> = t.split(';').collect();
            if p.len() < 3 {
                continue;
            }
            let tb = PyTable {
                family: p[0].to_string(),
                name: p[1].to_string(),
                chains: p[2].split(',').map(str::to_string).collect(),
            };
            setup.push(format!("add table {}", tb.spec()));
            for c in &tb.chains {
                if let Some(ch) = chains.iter().find(|x| &x.name == c) {
                    let mut cmd = format!("add chain {} {}", tb.spec(), ch.name);
                    if !ch.config.is_empty() {
                        cmd.push_str(&format!(" {{ {}; }}", ch.config));
                    }
                    setup.push(cmd);
                }
            }
            tables.push(tb);
            continue;
        }
        if let Some(c) = body.strip_prefix(':') {
            let mut p = c.splitn(2, ';');
            chains.push(PyChain {
                name: p.next().unwrap_or("").to_string(),
                config: p.next().unwrap_or("").to_string(),
            });
            continue;
        }
        if let Some(s) = body.strip_prefix('!') {
            let p: Vec<&str> = s.split(';').collect();
            if let Some((decl, map)) = py_set(p[0]) {
                for tb in &tables {
                    let kind = if map { "map" } else { "set" };
                    setup.push(format!("add {kind} {} {decl}", tb.spec()));
                }
            }
            continue;
        }
        if let Some(s) = body.strip_prefix('?') {
            let p: Vec<&str> = s.split(';').collect();
            let e = p[0];
            if let Some(sp) = e.find(' ') {
                let (name, elems) = e.split_at(sp);
                let elems: Vec<&str> = elems.split(',').collect();
                for tb in &tables {
                    setup.push(format!(
                        "add element {} {name} {{ {} }}",
                        tb.spec(),
                        elems.join(", ")
                    ));
                }
            }
            continue;
        }
        if let Some(s) = body.strip_prefix('%') {
            let line1 = &line[1..];
            let objline = match line1.rfind('}') {
                Some(b) => line1[..=b].to_string(),
                None => s.split(';').next().unwrap_or("").to_string(),
            };
            let tokens: Vec<&str> = objline.split(' ').collect();
            if tokens.len() < 3 {
                continue;
            }
            let name = tokens[0];
            let mut ty = tokens[2].to_string();
            let mut rest: Vec<&str> = tokens[3..].to_vec();
            if ty == "ct" && !rest.is_empty() {
                ty = format!("ct {}", rest[0]);
                rest.remove(0);
            }
            for tb in &tables {
                setup.push(format!("add {ty} {} {name} {}", tb.spec(), rest.join(" ")));
            }
            continue;
        }
        // A rule.
        let p: Vec<&str> = line.split(';').collect();
        if p.len() == 1 || p.len() > 3 || p[1].trim_end() != "ok" {
            continue; // fail, or malformed (nft-test.py skips it)
        }
        if line.starts_with('-') {
            continue; // disabled
        }
        for tb in &tables {
            for c in &tb.chains {
                inst.push(Instance {
                    lineno,
                    table: tb.spec(),
                    chain: c.clone(),
                    rule: p[0].to_string(),
                });
            }
        }
    }
    for cmd in &setup {
        let _ = nft(&ns, cmd)?;
    }
    let add = |x: &Instance| format!("add rule {} {} {}", x.table, x.chain, x.rule);
    let mut recs = Vec::new();
    let rec = |x: &Instance, status: Status| Record {
        corpus: "nft-py",
        file: format!("{rel}:{}", x.lineno),
        what: format!("{} {}: {}", x.table, x.chain, x.rule),
        status,
    };
    // Batch first.
    let batch: String = inst.iter().map(|x| add(x) + "\n").collect();
    let batch_ok = !inst.is_empty() && nft(&ns, &batch)?.status.success();
    if batch_ok {
        if let Listing::Text(theirs) = listing(exec(&ns, "nft", &["list", "ruleset"], None)?) {
            let ours_text = ours(ctx, &ns, &["--format", "nft", "--xt", "nft"])?;
            let (tt, ot) = (parse_listing(&theirs), parse_listing(&ours_text));
            // Per chain, nft's lines aligned with ours (a line we leave out or add does not
            // shift the rest); the n-th instance of a chain is nft's n-th line.
            let mut aligned: BTreeMap<(String, String), Vec<(String, String)>> = BTreeMap::new();
            let mut pos: BTreeMap<(String, String), usize> = BTreeMap::new();
            for x in &inst {
                let k = (x.table.clone(), x.chain.clone());
                let pairs = aligned.entry(k.clone()).or_insert_with(|| {
                    let (a, b) = (
                        chain_lines(&tt, &x.table, &x.chain),
                        chain_lines(&ot, &x.table, &x.chain),
                    );
                    line_diff(&a, &b)
                        .into_iter()
                        .map(|(x, y)| (x.to_string(), y.unwrap_or("").to_string()))
                        .collect()
                });
                let n = pos.entry(k).or_insert(0);
                let (a, b) = pairs.get(*n).cloned().unwrap_or_default();
                *n += 1;
                recs.push(rec(
                    x,
                    if a == b {
                        Status::Identical
                    } else {
                        Status::Different(a, b)
                    },
                ));
            }
            recs.extend(other_lines(rel, &tt, &ot));
            return Ok(recs);
        }
    }
    // Rule by rule: flush the table, add the rule, list.
    let mut last: Option<(BTreeMap<String, Table>, BTreeMap<String, Table>)> = None;
    for x in &inst {
        let _ = nft(&ns, &format!("flush table {}", x.table))?;
        let out = nft(&ns, &add(x))?;
        if !out.status.success() {
            recs.push(rec(
                x,
                Status::FailedLoad(first_line(&String::from_utf8_lossy(&out.stderr))),
            ));
            continue;
        }
        match listing(exec(&ns, "nft", &["list", "ruleset"], None)?) {
            Listing::Crashed(e) => recs.push(rec(x, Status::NftCrashed(first_line(&e)))),
            Listing::Text(theirs) => {
                let ours_text = ours(ctx, &ns, &["--format", "nft", "--xt", "nft"])?;
                let (tt, ot) = (parse_listing(&theirs), parse_listing(&ours_text));
                let line_of = |m: &BTreeMap<String, Table>| {
                    m.get(&x.table)
                        .and_then(|t| t.chains.get(&x.chain))
                        .map(|c| c.join("\n"))
                        .unwrap_or_default()
                };
                let (a, b) = (line_of(&tt), line_of(&ot));
                recs.push(rec(
                    x,
                    if a == b {
                        Status::Identical
                    } else {
                        Status::Different(a, b)
                    },
                ));
                last = Some((tt, ot));
            }
        }
    }
    if let Some((tt, ot)) = last {
        recs.extend(other_lines(rel, &tt, &ot));
    }
    Ok(recs)
}

fn chain_lines<'a>(m: &'a BTreeMap<String, Table>, table: &str, chain: &str) -> Vec<&'a str> {
    m.get(table)
        .and_then(|t| t.chains.get(chain))
        .map(|c| c.iter().map(String::as_str).collect())
        .unwrap_or_default()
}

/// The non-rule lines of every table (set, map and object definitions, chain properties).
fn other_lines(
    rel: &str,
    tt: &BTreeMap<String, Table>,
    ot: &BTreeMap<String, Table>,
) -> Vec<Record> {
    let mut v = Vec::new();
    let empty = Table::default();
    for (k, t) in tt {
        let o = ot.get(k).unwrap_or(&empty);
        let a: Vec<&str> = t.other.iter().map(String::as_str).collect();
        let b: Vec<&str> = o.other.iter().map(String::as_str).collect();
        for (x, y) in line_diff(&a, &b) {
            v.push(Record {
                corpus: "nft-py-other",
                file: rel.to_string(),
                what: k.clone(),
                status: match y {
                    Some(y) if x == y => Status::Identical,
                    y => Status::Different(x.to_string(), y.unwrap_or("").to_string()),
                },
            });
        }
    }
    v
}

/// nft-test.py's `set_process`: `name type T [. T]… [: D [. D]…] [timeout X] [flags F]`.
fn py_set(s: &str) -> Option<(String, bool)> {
    let tokens: Vec<&str> = s.split(' ').collect();
    if tokens.len() < 3 {
        return None;
    }
    let name = tokens[0];
    let typeof_ = tokens[1] == "typeof";
    let mut ty = format!("{} {}", tokens[1], tokens[2]);
    let mut data = String::new();
    let mut timeout = String::new();
    let mut flags = String::new();
    let mut i = 3;
    let at = |i: usize| tokens.get(i).copied();
    if typeof_ && at(i) == Some("id") {
        ty.push_str(" id");
        i += 1;
    }
    while at(i) == Some(".") && i + 1 < tokens.len() {
        ty.push_str(&format!(" . {}", tokens[i + 1]));
        i += 2;
    }
    while at(i) == Some(":") && i + 1 < tokens.len() {
        data = tokens[i + 1].to_string();
        i += 2;
    }
    while at(i) == Some(".") && i + 1 < tokens.len() {
        data.push_str(&format!(" . {}", tokens[i + 1]));
        i += 2;
    }
    if typeof_ && at(i) == Some("mark") {
        data.push_str(" mark");
        i += 1;
    }
    if tokens.len() == i + 2 && tokens[i] == "timeout" {
        timeout = format!("timeout {};", tokens[i + 1]);
        i += 2;
    }
    if tokens.len() == i + 2 && tokens[i] == "flags" {
        flags = format!("flags {}; ", tokens[i + 1]);
    }
    if data.is_empty() {
        Some((format!("{name} {{ {ty};{timeout} {flags}}}"), false))
    } else {
        Some((format!("{name} {{ {ty} : {data};{timeout} {flags}}}"), true))
    }
}

// ---------------------------------------------------------------- nftables tests/shell dumps

fn run_shell(ctx: &Ctx, path: &Path, rel: &str) -> Result<Vec<Record>> {
    let ns = Netns::new("fid");
    let p = path.display().to_string();
    let out = exec(&ns, "nft", &["-f", &p], None)?;
    let rec = |status| Record {
        corpus: "nft-shell",
        file: rel.to_string(),
        what: String::new(),
        status,
    };
    if !out.status.success() {
        let e = String::from_utf8_lossy(&out.stderr).replace(&p, "");
        return Ok(vec![rec(Status::FailedLoad(first_line(&e)))]);
    }
    let theirs = match listing(exec(&ns, "nft", &["list", "ruleset"], None)?) {
        Listing::Text(t) => t,
        Listing::Crashed(e) => return Ok(vec![rec(Status::NftCrashed(first_line(&e)))]),
    };
    let mine = ours(ctx, &ns, &["--format", "nft", "--xt", "nft"])?;
    if theirs == mine {
        return Ok(vec![rec(Status::Identical)]);
    }
    let a: Vec<&str> = theirs.lines().collect();
    let b: Vec<&str> = mine.lines().collect();
    let mut v = Vec::new();
    for (x, y) in line_diff(&a, &b) {
        if y == Some(x) {
            continue;
        }
        v.push(rec(Status::Different(
            x.trim().to_string(),
            y.unwrap_or("").trim().to_string(),
        )));
    }
    // Only extra lines of ours: one difference with nothing on nft's side.
    if v.is_empty() {
        let extra = b
            .iter()
            .find(|l| !a.contains(l))
            .copied()
            .unwrap_or("(whitespace)");
        v.push(rec(Status::Different(
            String::new(),
            extra.trim().to_string(),
        )));
    }
    // The file is one instance: the first difference stands for it, the rest are listed as
    // `nft-shell-lines`.
    for r in v.iter_mut().skip(1) {
        r.corpus = "nft-shell-lines";
    }
    Ok(v)
}

// ---------------------------------------------------------------- iptables extensions/*.t

#[derive(Clone, Copy, PartialEq)]
enum Tool {
    Ip,
    Ip6,
    Arp,
    Eb,
}

impl Tool {
    fn of(file: &str) -> Tool {
        if file.contains("libip6t_") {
            Tool::Ip6
        } else if file.contains("libarpt_") {
            Tool::Arp
        } else if file.contains("libebt_") {
            Tool::Eb
        } else {
            Tool::Ip
        }
    }
    fn base(self) -> &'static str {
        match self {
            Tool::Ip => "iptables",
            Tool::Ip6 => "ip6tables",
            Tool::Arp => "arptables",
            Tool::Eb => "ebtables",
        }
    }
    fn bin(self, b: Backend) -> String {
        let suffix = match b {
            Backend::Nft => "nft",
            Backend::Legacy => "legacy",
        };
        format!("{}-{suffix}", self.base())
    }
    fn save(self, b: Backend) -> String {
        format!("{}-save", self.bin(b))
    }
}

fn run_ipt(ctx: &Ctx, path: &Path, rel: &str, backend: Backend) -> Result<Vec<Record>> {
    let tool = Tool::of(rel);
    // As iptables-test.py 1.8.9: arptables and ebtables files only with the nf_tables
    // backend (arptables-legacy is another program, arptables 0.0.x).
    if backend == Backend::Legacy && matches!(tool, Tool::Eb | Tool::Arp) {
        return Ok(Vec::new());
    }
    let which = Command::new("sh")
        .args(["-c", &format!("command -v {}", tool.bin(backend))])
        .output()?;
    if !which.status.success() {
        return Ok(Vec::new());
    }
    let text = std::fs::read_to_string(path)?;
    let ns = Netns::new("fid");
    let bin = tool.bin(backend);
    let mut table = String::new();
    let mut chains: Vec<String> = Vec::new();
    let (mut loaded, mut failed) = (0usize, Vec::new());
    for (i, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let body = line.trim_end();
        if let Some(c) = body.strip_prefix(':') {
            chains = c.split(',').map(str::to_string).collect();
            continue;
        }
        if let Some(c) = body.strip_prefix('@').or_else(|| body.strip_prefix('%')) {
            // External command: the iptables ones run with the backend's binary.
            let mut cmd = c.to_string();
            for t in [Tool::Ip, Tool::Ip6, Tool::Arp, Tool::Eb] {
                if let Some(rest) = cmd.strip_prefix(&format!("{} ", t.base())) {
                    cmd = format!("{} {rest}", t.bin(backend));
                    break;
                }
            }
            let _ = sh(&ns, &cmd)?;
            continue;
        }
        if let Some(t) = body.strip_prefix('*') {
            table = t.to_string();
            continue;
        }
        let item: Vec<&str> = line.split(';').collect();
        if item.len() < 3 {
            continue;
        }
        let mut res = item[2].trim_end().to_string();
        if item.len() > 3 {
            let variant = item[3].trim_end();
            let current = match backend {
                Backend::Nft => "NFT",
                Backend::Legacy => "LEGACY",
            };
            if variant != current {
                res = match item.get(4) {
                    Some(alt) => alt.trim_end().to_string(),
                    None => match res.as_str() {
                        "OK" => "FAIL".into(),
                        _ => "OK".into(),
                    },
                };
            }
        }
        if res == "FAIL" {
            continue;
        }
        for c in &chains {
            let t = if table.is_empty() {
                String::new()
            } else {
                format!("-t {table} ")
            };
            let cmd = format!("{bin} -A {c} {t}{}", item[0]);
            let out = sh(&ns, &cmd)?;
            if out.status.success() {
                loaded += 1;
            } else {
                failed.push((
                    format!("{rel}:{}", i + 1),
                    cmd,
                    first_line(&String::from_utf8_lossy(&out.stderr)),
                ));
            }
        }
    }
    let (pfx_save, pfx_save_c) = match (backend, tool) {
        (Backend::Nft, Tool::Eb) => ("ebt-nft-save", "ebt-nft-save-c"),
        (Backend::Nft, Tool::Arp) => ("arpt-nft-save", "arpt-nft-save-c"),
        (Backend::Nft, _) => ("ipt-nft-save", "ipt-nft-save-c"),
        (Backend::Legacy, _) => ("ipt-legacy", "ipt-legacy-c"),
    };
    let xt = match tool {
        Tool::Eb => "ebt-nft-xt",
        Tool::Arp => "arpt-nft-xt",
        _ => "ipt-nft-xt",
    };
    let mut recs: Vec<Record> = failed
        .into_iter()
        .map(|(file, cmd, e)| Record {
            corpus: pfx_save,
            file,
            what: cmd,
            status: Status::FailedLoad(e),
        })
        .collect();
    if loaded == 0 {
        return Ok(recs);
    }
    let back = match backend {
        Backend::Nft => "nft",
        Backend::Legacy => "legacy",
    };
    let save = tool.save(backend);
    for (corpus, counters) in [(pfx_save, false), (pfx_save_c, true)] {
        let mut sargs: Vec<&str> = Vec::new();
        let mut oargs = vec!["--format", "iptables-save", "--backend", back];
        if counters {
            sargs.push("-c");
            oargs.push("-c");
        }
        let theirs = match listing(exec(&ns, &save, &sargs, None)?) {
            Listing::Text(t) => t,
            Listing::Crashed(e) => {
                recs.push(Record {
                    corpus,
                    file: rel.to_string(),
                    what: save.clone(),
                    status: Status::NftCrashed(first_line(&e)),
                });
                continue;
            }
        };
        let mine = ours(ctx, &ns, &oargs)?;
        recs.extend(compare_lines(
            corpus,
            rel,
            &save_lines(&theirs),
            &save_lines(&mine),
        ));
    }
    if backend == Backend::Nft {
        match listing(exec(&ns, "nft", &["list", "ruleset"], None)?) {
            Listing::Text(theirs) => {
                let mine = ours(
                    ctx,
                    &ns,
                    &["--format", "nft", "--xt", "nft", "--backend", "nft"],
                )?;
                let a: Vec<String> = theirs.lines().map(|l| l.trim().to_string()).collect();
                let b: Vec<String> = mine.lines().map(|l| l.trim().to_string()).collect();
                recs.extend(compare_lines(xt, rel, &a, &b));
            }
            Listing::Crashed(e) => recs.push(Record {
                corpus: xt,
                file: rel.to_string(),
                what: "nft list ruleset".into(),
                status: Status::NftCrashed(first_line(&e)),
            }),
        }
    }
    Ok(recs)
}

/// A save text without its comment lines (`# Generated by …`, `# Completed on …`).
fn save_lines(s: &str) -> Vec<String> {
    s.lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// One record per line of the oracle's text: identical, or different (paired with our line
/// in the same diff hunk, if any); lines only we print are one record each too.
fn compare_lines(corpus: &'static str, rel: &str, a: &[String], b: &[String]) -> Vec<Record> {
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let b: Vec<&str> = b.iter().map(String::as_str).collect();
    let mut v = Vec::new();
    for (x, y) in line_diff(&a, &b) {
        v.push(Record {
            corpus,
            file: rel.to_string(),
            what: String::new(),
            status: match y {
                Some(y) if y == x => Status::Identical,
                y => Status::Different(x.to_string(), y.unwrap_or("").to_string()),
            },
        });
    }
    // Lines only we print.
    let extra = extra_lines(&a, &b);
    for y in extra {
        v.push(Record {
            corpus,
            file: rel.to_string(),
            what: "extra line".into(),
            status: Status::Different(String::new(), y.to_string()),
        });
    }
    v
}

// ---------------------------------------------------------------- diff

/// The longest common subsequence of two line lists, as matched index pairs.
fn lcs(a: &[&str], b: &[&str]) -> Vec<(usize, usize)> {
    let (n, m) = (a.len(), b.len());
    let mut t = vec![0u32; (n + 1) * (m + 1)];
    let w = m + 1;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            t[i * w + j] = if a[i] == b[j] {
                t[(i + 1) * w + j + 1] + 1
            } else {
                t[(i + 1) * w + j].max(t[i * w + j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < n && j < m {
        if a[i] == b[j] {
            out.push((i, j));
            i += 1;
            j += 1;
        } else if t[(i + 1) * w + j] >= t[i * w + j + 1] {
            i += 1;
        } else {
            j += 1;
        }
    }
    out
}

/// For every line of `a` (the oracle), the line of `b` it matches or, when it has none, the
/// line of `b` in the same place of the same hunk (or None).
fn line_diff<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<(&'a str, Option<&'a str>)> {
    let m = lcs(a, b);
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    for &(mi, mj) in m.iter().chain(std::iter::once(&(a.len(), b.len()))) {
        // hunk a[i..mi] against b[j..mj]
        for k in 0..(mi - i) {
            let y = if j + k < mj { Some(b[j + k]) } else { None };
            out.push((a[i + k], y));
        }
        if mi < a.len() {
            out.push((a[mi], Some(b[mj])));
        }
        i = mi + 1;
        j = mj + 1;
    }
    out
}

/// Lines of `b` in hunks longer on b's side than on a's (nothing of a's to pair them with).
fn extra_lines<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<&'a str> {
    let m = lcs(a, b);
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    for &(mi, mj) in m.iter().chain(std::iter::once(&(a.len(), b.len()))) {
        let (na, nb) = (mi - i, mj - j);
        if nb > na {
            out.extend_from_slice(&b[j + na..mj]);
        }
        i = mi + 1;
        j = mj + 1;
    }
    out
}

// ---------------------------------------------------------------- categories and output

fn norm(tok: &str) -> String {
    if tok.starts_with('"') {
        return "\"S\"".into();
    }
    let mut s = String::new();
    let mut prev_digit = false;
    for c in tok.chars() {
        if c.is_ascii_digit() {
            if !prev_digit {
                s.push('N');
            }
            prev_digit = true;
        } else {
            s.push(c);
            prev_digit = false;
        }
    }
    if s.starts_with("0xN") {
        return "N".into();
    }
    s
}

/// The category of a difference: the token before the first differing one, then nft's and
/// ours, normalised.
fn category(nft: &str, ours: &str) -> String {
    if ours.is_empty() {
        let t: Vec<&str> = nft.split_whitespace().take(2).collect();
        return format!(
            "missing line: {}",
            t.iter().map(|x| norm(x)).collect::<Vec<_>>().join(" ")
        );
    }
    if nft.is_empty() {
        let t: Vec<&str> = ours.split_whitespace().take(2).collect();
        return format!(
            "extra line: {}",
            t.iter().map(|x| norm(x)).collect::<Vec<_>>().join(" ")
        );
    }
    let a: Vec<&str> = nft.split_whitespace().collect();
    let b: Vec<&str> = ours.split_whitespace().collect();
    let k = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let before = if k > 0 { norm(a[k - 1]) } else { "^".into() };
    let x = a.get(k).map(|t| norm(t)).unwrap_or_else(|| "<end>".into());
    let y = b.get(k).map(|t| norm(t)).unwrap_or_else(|| "<end>".into());
    format!("{before} {x} → {y}")
}

const CORPORA: [&str; 15] = [
    "nft-py",
    "nft-py-other",
    "nft-shell",
    "nft-shell-lines",
    "ipt-legacy",
    "ipt-legacy-c",
    "ipt-nft-save",
    "ipt-nft-save-c",
    "ipt-nft-xt",
    "ebt-nft-save",
    "ebt-nft-save-c",
    "ebt-nft-xt",
    "arpt-nft-save",
    "arpt-nft-save-c",
    "arpt-nft-xt",
];

#[derive(Default)]
struct Counts {
    identical: usize,
    different: usize,
    failed: usize,
    crashed: usize,
}

fn counts(records: &[Record]) -> BTreeMap<&'static str, Counts> {
    let mut m: BTreeMap<&'static str, Counts> = BTreeMap::new();
    for r in records {
        let c = m.entry(r.corpus).or_default();
        match r.status {
            Status::Identical => c.identical += 1,
            Status::Different(..) => c.different += 1,
            Status::FailedLoad(_) => c.failed += 1,
            Status::NftCrashed(_) => c.crashed += 1,
        }
    }
    // A shell dump file with differences counts once (its first difference).
    m
}

fn summary(records: &[Record], examples: usize) -> String {
    let mut s = String::new();
    let m = counts(records);
    s.push_str(
        "corpus            loadable  identical  different (distinct)  failed-to-load  nft-crashed\n",
    );
    let order = CORPORA
        .iter()
        .copied()
        .chain(m.keys().copied().filter(|k| !CORPORA.contains(k)));
    let mut seen = Vec::new();
    for k in order {
        if seen.contains(&k) {
            continue;
        }
        seen.push(k);
        let Some(c) = m.get(k) else { continue };
        if k.ends_with("-lines") {
            continue; // the further lines of differing files, listed below
        }
        let loadable = c.identical + c.different;
        let pct = if loadable > 0 {
            100.0 * c.identical as f64 / loadable as f64
        } else {
            0.0
        };
        let mut distinct: Vec<&str> = records
            .iter()
            .filter(|r| r.corpus == k)
            .filter_map(|r| match &r.status {
                Status::Different(a, _) => Some(a.as_str()),
                _ => None,
            })
            .collect();
        distinct.sort_unstable();
        distinct.dedup();
        s.push_str(&format!(
            "{k:<16} {loadable:>9} {:>10} ({pct:.1}%) {:>8} ({:>4}) {:>14} {:>12}\n",
            c.identical,
            c.different,
            distinct.len(),
            c.failed,
            c.crashed
        ));
    }
    s.push_str("\ndifferences by category (count, then nft's line / ours):\n");
    for k in seen {
        let mut cats: BTreeMap<String, Vec<&Record>> = BTreeMap::new();
        for r in records.iter().filter(|r| r.corpus == k) {
            if let Status::Different(a, b) = &r.status {
                cats.entry(category(a, b)).or_default().push(r);
            }
        }
        if cats.is_empty() {
            continue;
        }
        let mut cats: Vec<(String, Vec<&Record>)> = cats.into_iter().collect();
        cats.sort_by(|x, y| y.1.len().cmp(&x.1.len()).then(x.0.cmp(&y.0)));
        s.push_str(&format!("\n## {k}: {} categories\n", cats.len()));
        for (cat, rs) in cats {
            s.push_str(&format!("{:>5}  {cat}\n", rs.len()));
            let mut shown: Vec<&str> = Vec::new();
            for r in rs {
                if shown.len() >= examples {
                    break;
                }
                if let Status::Different(a, b) = &r.status {
                    if shown.contains(&a.as_str()) {
                        continue;
                    }
                    shown.push(a);
                    s.push_str(&format!(
                        "       at {}\n       nft:  {a}\n       ours: {b}\n",
                        r.file
                    ));
                }
            }
        }
    }
    let mut fails: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for r in records {
        if let Status::FailedLoad(e) | Status::NftCrashed(e) = &r.status {
            let kind = if matches!(r.status, Status::NftCrashed(_)) {
                "crash"
            } else {
                "load"
            };
            let e2: String = e.chars().take(90).collect();
            let f = fails
                .entry(format!("{} {kind}: {e2}", r.corpus))
                .or_insert((0, r.file.clone()));
            f.0 += 1;
        }
    }
    if !fails.is_empty() {
        s.push_str("\nnot loaded / nft crashed (count, first file):\n");
        let mut f: Vec<_> = fails.into_iter().collect();
        f.sort_by_key(|x| std::cmp::Reverse(x.1 .0));
        for (k, (n, file)) in f.into_iter().take(60) {
            s.push_str(&format!("{n:>5}  {k}  ({file})\n"));
        }
    }
    s
}

fn to_json(records: &[Record]) -> serde_json::Value {
    let m = counts(records);
    let totals: serde_json::Map<String, serde_json::Value> = m
        .iter()
        .map(|(k, c)| {
            (
                k.to_string(),
                json!({
                    "loadable": c.identical + c.different,
                    "identical": c.identical,
                    "different": c.different,
                    "failed_to_load": c.failed,
                    "nft_crashed": c.crashed,
                }),
            )
        })
        .collect();
    let list: Vec<serde_json::Value> = records
        .iter()
        .filter(|r| r.status != Status::Identical)
        .map(|r| {
            let (status, nft, ours) = match &r.status {
                Status::Identical => ("identical", String::new(), String::new()),
                Status::Different(a, b) => ("different", a.clone(), b.clone()),
                Status::FailedLoad(e) => ("failed_to_load", e.clone(), String::new()),
                Status::NftCrashed(e) => ("nft_crashed", e.clone(), String::new()),
            };
            let cat = match &r.status {
                Status::Different(a, b) => category(a, b),
                _ => String::new(),
            };
            json!({
                "corpus": r.corpus, "file": r.file, "what": r.what, "status": status,
                "category": cat, "nft": nft, "ours": ours,
            })
        })
        .collect();
    json!({ "totals": totals, "differences": list })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_pairs_hunks() {
        let a = ["x", "a", "b", "y"];
        let b = ["x", "A", "y", "z"];
        let d = line_diff(&a, &b);
        assert_eq!(
            d,
            vec![
                ("x", Some("x")),
                ("a", Some("A")),
                ("b", None),
                ("y", Some("y"))
            ]
        );
        assert_eq!(extra_lines(&a, &b), vec!["z"]);
    }

    #[test]
    fn categories_normalise() {
        assert_eq!(
            category(
                "icmp mtu 33",
                "icmp type destination-unreachable icmp sequence 33"
            ),
            "icmp mtu → type"
        );
        assert_eq!(category("ct id 12345", "ct id 959447040"), "id N → N");
    }

    #[test]
    fn listing_split() {
        let t = "table ip t {\n\tset s {\n\t\ttype ipv4_addr\n\t}\n\n\tchain c {\n\t\ttype filter hook input priority filter; policy accept;\n\t\ttcp dport 22 accept\n\t\tdrop\n\t}\n}\n";
        let p = parse_listing(t);
        let tb = &p["ip t"];
        assert_eq!(tb.chains["c"], vec!["tcp dport 22 accept", "drop"]);
        assert_eq!(tb.other.len(), 4);
    }
}
