//! `cargo xtask capture`: the root-free test data under tests/corpus/captures/ (format in its
//! README.md).
//!
//! Each of our corpus rulesets is loaded into a throw-away network namespace (deleted when
//! done, also on failure) by its writer, and the kernel's answers are written as the library
//! reads them: every nf_tables dump reply (tables, chains, sets, objects, flowtables, then the
//! elements of each set and the rules of each chain), each listed legacy table's
//! `*_SO_GET_INFO` / `*_SO_GET_ENTRIES` answers, and the namespace's interface names. Beside
//! each capture, the expected outputs: the live `nfscope dump` of the same namespace in nft
//! text, iptables-save text and JSON, and the lint findings of the live snapshot.
//! `crates/nfscope/tests/captures.rs` renders the captures without root and compares.

use anyhow::{bail, Context, Result};
use nfscope::sock::NfSocket;
use nfscope::wire::attr;
use nfscope::wire::nft::msg;
use nfscope::wire::xt::entry::Family as XtFamily;
use nfscope_tests::Netns;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Only the cases whose name contains this.
    #[arg(long)]
    only: Option<String>,
    /// Do not run `cargo build -p nfscope-cli` first.
    #[arg(long)]
    no_build: bool,
}

/// How a case is loaded: (tool, its arguments, file fed on stdin or given to `-f`).
struct Case {
    name: String,
    loads: Vec<(&'static str, PathBuf)>,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// The writer of a corpus file, by extension (as tests/tests/nft_text.rs loads them).
fn writer(ext: &str) -> Option<&'static str> {
    Some(match ext {
        "nft" => "nft",
        "ipt" => "iptables-nft-restore",
        "ip6t" => "ip6tables-nft-restore",
        "ebt" => "ebtables-nft-restore",
        "arpt" => "arptables-nft-restore",
        _ => return None,
    })
}

fn cases() -> Result<Vec<Case>> {
    let corpus = root().join("tests/corpus");
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus.join("nft"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let ext = f.extension().and_then(|e| e.to_str()).unwrap_or("");
        let Some(w) = writer(ext) else { continue };
        let stem = f.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        out.push(Case {
            name: format!("nft-{stem}"),
            loads: vec![(w, f.clone())],
        });
    }
    let node = corpus.join("iptables/node.rules");
    let ip6 = corpus.join("nft/21-ip6tables-nft.ip6t");
    out.push(Case {
        name: "legacy-ip-node".into(),
        loads: vec![("iptables-legacy-restore", node.clone())],
    });
    out.push(Case {
        name: "legacy-ip6".into(),
        loads: vec![("ip6tables-legacy-restore", ip6)],
    });
    // The same rules in both backends (what lint's first finding is about).
    out.push(Case {
        name: "both-ip-node".into(),
        loads: vec![
            ("iptables-nft-restore", node.clone()),
            ("iptables-legacy-restore", node),
        ],
    });
    Ok(out)
}

pub fn run(args: &Args) -> Result<()> {
    let root = root();
    if !args.no_build {
        eprintln!("building nfscope (cargo build -p nfscope-cli)…");
        let st = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "-p", "nfscope-cli", "--bin", "nfscope"])
            .current_dir(&root)
            .status()
            .context("run cargo build")?;
        anyhow::ensure!(st.success(), "cargo build -p nfscope-cli failed");
    }
    if std::env::var_os("NFSCOPE_BIN").is_none() {
        // SAFETY: single-threaded here (no thread has been started yet).
        unsafe { std::env::set_var("NFSCOPE_BIN", root.join("target/debug/nfscope")) };
    }
    let out = root.join("tests/corpus/captures");
    std::fs::create_dir_all(&out)?;
    let mut n = 0;
    for case in cases()? {
        if args.only.as_deref().is_some_and(|o| !case.name.contains(o)) {
            continue;
        }
        capture_case(&case, &root, &out).with_context(|| case.name.clone())?;
        n += 1;
    }
    eprintln!("{n} captures written to {}", out.display());
    Ok(())
}

fn capture_case(case: &Case, root: &Path, out: &Path) -> Result<()> {
    let ns = Netns::new("cap");
    for (tool, file) in &case.loads {
        if *tool == "nft" {
            ns.ok("nft", &["-f", &file.to_string_lossy()]);
        } else {
            let text = std::fs::read_to_string(file)?;
            ns.run_stdin(tool, &[], &text);
        }
    }
    let mut text = String::from("# nfscope capture v1 (tests/corpus/captures/README.md)\n");
    let loads: Vec<String> = case
        .loads
        .iter()
        .map(|(tool, f)| {
            let rel = f.strip_prefix(root).unwrap_or(f);
            format!("# loaded: {tool} {}\n", rel.display())
        })
        .collect();
    text.extend(loads);
    let body = nfscope::netns::run_in(ns.name(), capture_here)??;
    text.push_str(&body);
    std::fs::write(out.join(format!("{}.capture", case.name)), text)?;

    for (format, ext) in [
        ("nft", "nft"),
        ("iptables-save", "save"),
        ("json", "json"),
        ("nft --show-writer", "writers"),
    ] {
        // TZ: rendered times (meta hour, set element expirations) are in the local zone.
        let o = Command::new(nfscope_tests::nfscope_bin())
            .env("TZ", "UTC")
            .args(["--netns", ns.name(), "dump", "--format"])
            .args(format.split(' '))
            .output()?;
        if !o.status.success() {
            bail!(
                "nfscope dump --format {format}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        std::fs::write(out.join(format!("{}.{ext}", case.name)), &o.stdout)?;
    }
    // lint of the live snapshot (no node settings: the capture holds none).
    let (rs, _) = nfscope::snapshot::take_in_netns(ns.name(), &Default::default())?;
    let legacy = nfscope::legacy::read_all_in_netns(ns.name())?;
    let tables = nfscope::output::legacy_tables(&legacy);
    let findings = nfscope::lint::run(&nfscope::lint::Input {
        nft: &rs,
        legacy: &tables,
        node: None,
    });
    std::fs::write(
        out.join(format!("{}.lint", case.name)),
        nfscope::output::lint(&findings, false, false),
    )?;
    eprintln!(
        "{}: {} nf_tables rules, {} legacy tables",
        case.name,
        rs.rule_count(),
        legacy.tables.len()
    );
    Ok(())
}

/// The capture's lines, read in the current network namespace.
fn capture_here() -> nfscope::Result<String> {
    let mut lines = String::new();
    let names = nfscope::render::nft::NftOptions::local().ifnames;
    let mut names: Vec<_> = names.into_iter().collect();
    names.sort();
    for (i, name) in names {
        lines.push_str(&format!("ifname {i} {name}\n"));
    }
    let mut s = NfSocket::open()?;
    lines.push_str(&format!("gen {}\n", s.get_gen()?));
    let mut msgs: Vec<Vec<u8>> = Vec::new();
    let dump = |s: &mut NfSocket, ty: u8, fam: u8, req: &[u8], msgs: &mut Vec<Vec<u8>>| {
        s.dump("capture", ty, fam, req, |m, _| {
            msgs.push(frame(m));
            Ok(())
        })
    };
    for ty in [
        msg::GETTABLE,
        msg::GETCHAIN,
        msg::GETSET,
        msg::GETOBJ,
        msg::GETFLOWTABLE,
    ] {
        dump(&mut s, ty, 0, &[], &mut msgs)?;
    }
    // What to ask next, from what was listed.
    let rs = nfscope::change::decode_dump(&msgs.concat())?;
    for t in &rs.tables {
        for set in &t.sets {
            let req = names_req(t.name(), set.name());
            dump(&mut s, msg::GETSETELEM, t.family.to_u8(), &req, &mut msgs)?;
        }
    }
    for t in &rs.tables {
        for c in &t.chains {
            let req = names_req(t.name(), c.name());
            dump(&mut s, msg::GETRULE, t.family.to_u8(), &req, &mut msgs)?;
        }
    }
    for m in &msgs {
        lines.push_str("nft ");
        lines.push_str(&attr::to_hex(m));
        lines.push('\n');
    }
    for (fam, label) in [
        (XtFamily::Ipv4, "ip"),
        (XtFamily::Ipv6, "ip6"),
        (XtFamily::Arp, "arp"),
    ] {
        for name in nfscope::legacy::table_names(fam)? {
            let (info, entries) = nfscope::legacy::read_raw(fam, &name)?;
            lines.push_str(&format!(
                "legacy {label} {} {}\n",
                attr::to_hex(&info),
                attr::to_hex(&entries)
            ));
        }
    }
    Ok(lines)
}

/// The message as the kernel sent it: its 16-byte header, then the payload; the header's
/// sequence number and port id (ours, different on every run) are written as 0.
fn frame(m: &nfscope::wire::nl::Message<'_>) -> Vec<u8> {
    let len = 16 + m.payload.len();
    let mut v = Vec::with_capacity(len);
    v.extend_from_slice(&(len as u32).to_ne_bytes());
    v.extend_from_slice(&m.ty.to_ne_bytes());
    v.extend_from_slice(&m.flags.to_ne_bytes());
    v.extend_from_slice(&[0; 8]);
    v.extend_from_slice(m.payload);
    v
}

/// `NFTA_*_TABLE` (1) and the set's / chain's name (2), as the snapshot asks.
fn names_req(table: &str, name: &str) -> Vec<u8> {
    let mut req = Vec::new();
    for (i, s) in [table, name].into_iter().enumerate() {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        attr::emit(&mut req, i as u16 + 1, &v);
    }
    req
}
