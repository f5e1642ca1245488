//! `nfscope::render::nft` against the real `nft list ruleset` (nftables 1.0.6).
//!
//! For each `tests/corpus/nft/*.nft`: a fresh network namespace, `nft -f FILE`, a snapshot
//! through nfscope, our text compared line by line with `nft list ruleset` run in the same
//! namespace. A file that `nft -f` refuses (kernel lacks a module) fails the test loudly.
//! Known, documented differences (render/nft/DIFFERENCES.md) are listed in `KNOWN` as exact
//! reference lines with the reason; everything else must be identical.

use nfscope::render::nft::{ruleset, NftOptions, XtStyle};
use nfscope::snapshot::{self, Options};
use nfscope_tests::writers::Writer;
use nfscope_tests::Netns;
use std::collections::HashMap;
use std::path::PathBuf;

/// (corpus file, exact line as nft prints it, reason we print it differently).
const KNOWN: &[(&str, &str, &str)] = &[];

fn corpus() -> Vec<PathBuf> {
    // NFT_CORPUS_DIR: run the same comparison over another directory (e.g. nftables'
    // tests/shell/testcases/*/dumps/*.nft) while exploring.
    let dir = std::env::var_os("NFT_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus/nft"));
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| {
            p.extension().is_some_and(|x| {
                ["nft", "ipt", "ip6t", "ebt", "arpt"]
                    .iter()
                    .any(|e| x == *e)
            })
        })
        .collect();
    v.sort();
    v
}

/// Load one file, render it, compare. Returns a description of the differences (empty if none).
fn check(path: &PathBuf) -> String {
    let name = path
        .file_name()
        .expect("file name")
        .to_string_lossy()
        .into_owned();
    let text = std::fs::read_to_string(path).expect("read corpus file");
    let ns = Netns::new("render");
    // `#! cmd args` lines at the top: setup commands run in the namespace first (devices).
    for l in text.lines().take_while(|l| l.starts_with("#!")) {
        let words: Vec<&str> = l[2..].split_whitespace().collect();
        if let Some((prog, args)) = words.split_first() {
            ns.ok(prog, args);
        }
    }
    // `.nft`: `nft -f`; `.ipt` / `.ip6t`: iptables-nft-restore / ip6tables-nft-restore (the
    // rules iptables-nft writes, with xt match/target expressions).
    let loader = match path.extension().and_then(|x| x.to_str()) {
        Some("ipt") => "iptables-nft-restore",
        Some("ip6t") => "ip6tables-nft-restore",
        Some("ebt") => "ebtables-nft-restore",
        Some("arpt") => "arptables-nft-restore",
        _ => "nft",
    };
    // `# writer: SUITE` in an iptables file: load it with that iptables version of the
    // writer matrix (e.g. bullseye's 1.8.7, which writes `-p tcp --dport` as xt tcp).
    let writer = text
        .lines()
        .find_map(|l| l.strip_prefix("# writer: "))
        .map(|suite| match suite.trim() {
            "bullseye" => Writer::get("bullseye"),
            "trixie" => Writer::get("trixie"),
            "sid" => Writer::get("sid"),
            other => panic!("{name}: unknown writer suite {other}"),
        });
    if loader == "nft" {
        let out = ns.run("nft", &["-f", path.to_str().expect("utf-8 path")]);
        assert!(
            out.status.success(),
            "{name}: nft -f failed (kernel lacks something? do not commit files that do not load):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    } else {
        // restore tools read stdin; `run_stdin` fails the test with their stderr
        let prog = writer
            .map(|w| w.tool(loader))
            .unwrap_or_else(|| loader.to_string());
        ns.run_stdin(&prog, &[], &text);
    }
    let listed = ns.run("nft", &["list", "ruleset"]);
    assert!(listed.status.success(), "{name}: nft list ruleset failed");
    let reference = String::from_utf8_lossy(&listed.stdout).into_owned();
    let (rs, _) = snapshot::take_in_netns(ns.name(), &Options::default()).expect("snapshot");
    // nft's stderr: the iptables-nft warnings
    let their_warnings: Vec<String> = String::from_utf8_lossy(&listed.stderr)
        .lines()
        .map(str::to_string)
        .collect();
    let our_warnings = nfscope::render::nft::warnings(&rs);
    if their_warnings != our_warnings {
        return format!(
            "{name}: warnings differ:\n  ours: {our_warnings:?}\n  nft:  {their_warnings:?}\n"
        );
    }
    let ours = ruleset(
        &rs,
        &NftOptions {
            ifnames: ifnames(&ns),
            // nft's own form of iptables-nft's xt expressions (what `nft list` prints)
            xt: XtStyle::Nft,
            ..Default::default()
        },
    );
    // Element `expires` values depend on the instant of each listing: compared without them.
    let ours = strip_expires(&ours);
    // The same text when rendered while the rules are read (what `nfscope dump` does).
    let streamed = nfscope::output::nft_text(Some(ns.name()), &Options::default(), XtStyle::Nft)
        .expect("streamed snapshot");
    if streamed.warnings != our_warnings {
        return format!(
            "{name}: streamed warnings differ:\n  streamed: {:?}\n  full:     {our_warnings:?}\n",
            streamed.warnings
        );
    }
    let (counts, _) =
        nfscope::stats::take_counts(Some(ns.name()), &Options::default()).expect("counts");
    let full = nfscope::stats::count(&rs);
    if serde_json::to_string(&counts).ok() != serde_json::to_string(&full).ok() {
        return format!("{name}: counts taken while reading differ:\n{counts:?}\n{full:?}\n");
    }
    let mut text = Vec::new();
    nfscope::output::write_nft_text(
        &mut text,
        Some(&streamed),
        None,
        nfscope::output::Backend::Nft,
    )
    .expect("write");
    let text = strip_expires(&String::from_utf8(text).expect("utf-8"));
    if text != ours {
        return format!(
            "{name}: streamed text differs from the full snapshot's:\n{}",
            diff(&text, &ours)
        );
    }
    let reference = strip_expires(&reference);
    // Lines nft prints that we may print differently (documented), replaced in both texts
    // by a marker before comparing.
    let known: Vec<&str> = KNOWN
        .iter()
        .filter(|(f, _, _)| *f == name)
        .map(|(_, l, _)| *l)
        .collect();
    let reference_cmp: Vec<String> = reference
        .lines()
        .map(|l| {
            if known.contains(&l) {
                "<known difference>".to_string()
            } else {
                l.to_string()
            }
        })
        .collect();
    let ours_lines: Vec<&str> = ours.lines().collect();
    let ours_cmp: Vec<String> = ours_lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            if reference_cmp
                .get(i)
                .is_some_and(|r| r == "<known difference>")
            {
                "<known difference>".to_string()
            } else {
                l.to_string()
            }
        })
        .collect();
    if ours_cmp == reference_cmp {
        return String::new();
    }
    format!("{name}:\n{}", diff(&ours, &reference))
}

/// Interface index → name inside the namespace (`ip -o link`), as nft resolves them.
fn ifnames(ns: &Netns) -> HashMap<u32, String> {
    let out = ns.ok("ip", &["-o", "link", "show"]);
    let mut m = HashMap::new();
    for l in out.lines() {
        let mut it = l.split(": ");
        let (Some(i), Some(n)) = (it.next(), it.next()) else {
            continue;
        };
        let n = n.split('@').next().unwrap_or(n);
        if let Ok(i) = i.trim().parse() {
            m.insert(i, n.to_string());
        }
    }
    m
}

/// Remove the value of every ` expires TIME` (it differs between two listings).
fn strip_expires(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(" expires ") {
        out.push_str(&rest[..i + " expires ".len()]);
        out.push_str("<t>");
        rest = &rest[i + " expires ".len()..];
        let end = rest.find([',', ' ', '\n', '}']).unwrap_or(rest.len());
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// `diff -u` of the two texts (for the failure message).
fn diff(ours: &str, reference: &str) -> String {
    let dir = std::env::temp_dir();
    let a = dir.join(format!("nfscope-ours-{}.nft", std::process::id()));
    let b = dir.join(format!("nfscope-nft-{}.nft", std::process::id()));
    std::fs::write(&a, ours).expect("write temp");
    std::fs::write(&b, reference).expect("write temp");
    let out = std::process::Command::new("diff")
        .args(["-u", "--label", "nfscope", "--label", "nft list ruleset"])
        .arg(&a)
        .arg(&b)
        .output()
        .expect("run diff");
    let _ = std::fs::remove_file(&a);
    let _ = std::fs::remove_file(&b);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `NftOptions::local()` inside a namespace sees its interfaces (what nft resolves there).
#[test]
fn local_interface_names() {
    let ns = Netns::new("render");
    ns.ok(
        "ip",
        &["link", "add", "v0", "type", "veth", "peer", "name", "v1"],
    );
    let names = nfscope::netns::run_in(ns.name(), nfscope::render::nft::interface_names)
        .expect("enter netns");
    assert_eq!(names, ifnames(&ns));
    assert!(names.values().any(|n| n == "v1"), "{names:?}");
}

#[test]
fn corpus_matches_nft_list_ruleset() {
    let files = corpus();
    assert!(files.len() >= 5, "corpus too small: {}", files.len());
    let only = std::env::var("NFT_CORPUS").ok();
    let mut failures = String::new();
    let mut n = 0;
    for f in &files {
        if let Some(o) = &only {
            if !f.to_string_lossy().contains(o.as_str()) {
                continue;
            }
        }
        n += 1;
        failures.push_str(&check(f));
    }
    assert!(n > 0, "no corpus file selected");
    assert!(
        failures.is_empty(),
        "nft text differs from `nft list ruleset`:\n{failures}"
    );
}

/// A kube-proxy (iptables mode) ruleset of 200 services × 3 endpoints, written by the system's
/// iptables-nft-restore and by 1.8.7's: our text equals `nft list ruleset`'s.
#[test]
fn kube_proxy_ruleset_matches_nft() {
    let text = nfscope_tests::kube::Kube::new(200, 3).restore_text();
    for writer in [None, Some("bullseye")] {
        let ns = Netns::new("render");
        let prog = match writer {
            Some(s) => Writer::get(s).tool("iptables-nft-restore"),
            None => "iptables-nft-restore".to_string(),
        };
        ns.run_stdin(&prog, &[], &text);
        let reference = ns.ok("nft", &["list", "ruleset"]);
        let (rs, _) = snapshot::take_in_netns(ns.name(), &Options::default()).expect("snapshot");
        assert!(
            rs.rule_count() > 1000,
            "ruleset not loaded: {} rules",
            rs.rule_count()
        );
        let ours = ruleset(
            &rs,
            &NftOptions {
                ifnames: ifnames(&ns),
                xt: XtStyle::Nft,
                ..Default::default()
            },
        );
        assert!(
            ours == reference,
            "writer {writer:?}:\n{}",
            diff(&ours, &reference)
        );
        // Counting (two threads over 812 chains) sees every rule and expression once.
        let counts = nfscope::stats::count(&rs);
        let exprs: usize = rs
            .tables
            .iter()
            .flat_map(|t| &t.chains)
            .flat_map(|c| c.rules.iter())
            .map(|r| r.expressions.as_ref().map_or(0, Vec::len))
            .sum();
        assert_eq!(counts.total.rules, rs.rule_count());
        assert_eq!(counts.total.expressions, exprs);
        assert_eq!(counts.expressions_by_kind.values().sum::<usize>(), exprs);
        // The iptables-save text of the same 812 chains (translated on two threads) equals
        // the system's iptables-nft-save.
        let save = nfscope::iptnft::save(
            &rs,
            nfscope::wire::nft::Family::Ip,
            nfscope::iptnft::Reader::From1810,
            false,
        );
        let real: String = ns
            .ok("iptables-nft-save", &[])
            .lines()
            .filter(|l| !l.starts_with("# Generated") && !l.starts_with("# Completed"))
            .map(|l| format!("{l}\n"))
            .collect();
        nfscope_tests::assert_same_lines(
            &format!("iptables-save, writer {writer:?}"),
            &save,
            &real,
        );
    }
}
