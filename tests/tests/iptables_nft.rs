//! iptnft (how each iptables-nft version reads an nf_tables rule) against the real binaries:
//! every writer of the matrix loads the corpus, every reader's `iptables-nft-save` is the oracle.

use nfscope::iptnft::{self, Reader};
use nfscope::snapshot::{self, Options};
use nfscope_tests::writers::Writer;
use nfscope_tests::Netns;

/// Rules whose every part iptables-nft may encode natively (xt-only extensions are tested with
/// the xt registry).
pub const CORPUS_FILTER: &str = "*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-FIREWALL - [0:0]
:KUBE-FORWARD - [0:0]
:KUBE-SERVICES - [0:0]
-A INPUT -j KUBE-FIREWALL
-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT
-A INPUT -p udp -m udp --dport 53 -j ACCEPT
-A INPUT -p tcp -m tcp --sport 1024 --dport 22 -j ACCEPT
-A INPUT -p tcp -m tcp ! --dport 23 -j DROP
-A INPUT -s 10.0.0.0/8 -d 10.96.0.1/32 -i eth0 -j ACCEPT
-A INPUT -s 10.1.0.0/16 -j ACCEPT
-A OUTPUT -s 10.2.3.0/24 -o eth1 -j DROP
-A INPUT -s 10.4.0.0/14 -j ACCEPT
-A INPUT -p tcp -m tcp --tcp-flags SYN,RST,ACK SYN -j DROP
-A INPUT -p icmp -j ACCEPT
-A INPUT -p gre -j ACCEPT
-A FORWARD -i eth0 -o cni0 -j ACCEPT
-A FORWARD ! -s 1.2.3.4/32 -j ACCEPT
-A FORWARD -i cni+ -j ACCEPT
-A FORWARD ! -i lo -j ACCEPT
-A FORWARD -f -j DROP
-A FORWARD -j KUBE-FORWARD
-A FORWARD -g KUBE-SERVICES
-A KUBE-FIREWALL -m mark --mark 0x8000/0x8000 -j DROP
-A KUBE-FORWARD -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-FORWARD -m mark --mark 0x1 -j ACCEPT
-A KUBE-SERVICES -m limit --limit 5/sec --limit-burst 10 -j ACCEPT
-A KUBE-SERVICES -j RETURN
-A OUTPUT -j ACCEPT
COMMIT
";

/// Tables a ≤1.8.7 reader refuses (a native range, NFLOG as native log).
pub const CORPUS_RANGE: &str = "*filter
:INPUT ACCEPT [0:0]
-A INPUT -p tcp -m tcp --dport 1000:2000 -j ACCEPT
-A INPUT -p udp -m udp --sport 1024:65535 -j ACCEPT
COMMIT
";

fn band(w: &Writer) -> Reader {
    match w.suite {
        "bullseye" => Reader::Upto187,
        "bookworm" => Reader::From188,
        _ => Reader::From1810,
    }
}

/// Lines keyed by table, then by chain in the order of their rules (iptables-save's table and
/// chain order is the save renderer's business; this compares how each rule reads back).
type Reading = Vec<(String, Vec<String>)>;

fn group(lines: impl Iterator<Item = (String, String)>) -> Reading {
    let mut out: Reading = Vec::new();
    for (table, line) in lines {
        let key = if line.starts_with('#') {
            format!("{table} #")
        } else {
            format!("{table} {}", line.split_whitespace().nth(1).unwrap_or(""))
        };
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => v.push(line),
            None => out.push((key, vec![line])),
        }
    }
    out.sort();
    out
}

/// Our reading of every ip table in `ns`, as `-A` lines or the "incompatible" line.
fn ours(ns: &Netns, reader: Reader) -> Reading {
    let (rs, _) = snapshot::take_in_netns(ns.name(), &Options::default()).expect("snapshot");
    let mut out = Vec::new();
    for t in rs
        .tables
        .iter()
        .filter(|t| t.family == nfscope::wire::nft::Family::Ip)
    {
        let mut lines = Vec::new();
        let mut refused = false;
        for c in &t.chains {
            for r in &c.rules {
                let ipt = iptnft::translate(t, c, &r, reader);
                refused |= ipt.refused.is_some();
                lines.push((t.name().to_string(), ipt.line()));
            }
        }
        if refused {
            out.push((
                t.name().to_string(),
                format!("# Table `{}' is incompatible, use 'nft' tool.", t.name()),
            ));
        } else {
            out.extend(lines);
        }
    }
    group(out.into_iter())
}

fn theirs(ns: &Netns, reader: &Writer) -> Reading {
    let out = ns.run(&reader.tool("iptables-nft-save"), &[]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut table = String::new();
    let mut lines = Vec::new();
    for l in text.lines() {
        if let Some(t) = l.strip_prefix('*') {
            table = t.to_string();
        } else if let Some(rest) = l.strip_prefix("# Table `") {
            let t = rest.split('\'').next().unwrap_or("").to_string();
            lines.push((t, l.to_string()));
        } else if l.starts_with("-A ") {
            lines.push((table.clone(), l.to_string()));
        }
    }
    group(lines.into_iter())
}

fn check(corpus: &str, writers: &[&'static str]) {
    let mut failures = Vec::new();
    let mut compared = 0;
    for writer in writers.iter().map(|w| Writer::get(w)) {
        let ns = Netns::new("iptnft");
        ns.run_stdin(&writer.tool("iptables-nft-restore"), &[], corpus);
        for reader in Writer::all() {
            let (a, b) = (ours(&ns, band(&reader)), theirs(&ns, &reader));
            compared += b.iter().map(|(_, v)| v.len()).sum::<usize>();
            if a != b {
                let mut msg = format!(
                    "written by {} {}, read by {} {}:\n",
                    writer.suite, writer.version, reader.suite, reader.version
                );
                let flat = |r: &Reading| r.iter().flat_map(|(_, v)| v.clone()).collect::<Vec<_>>();
                let (fa, fb) = (flat(&a), flat(&b));
                for l in fa.iter().filter(|l| !fb.contains(l)) {
                    msg.push_str(&format!("  ours only: {l}\n"));
                }
                for l in fb.iter().filter(|l| !fa.contains(l)) {
                    msg.push_str(&format!("  real only: {l}\n"));
                }
                failures.push(msg);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} writer×reader pairs differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(compared > 0);
}

const ALL: [&str; 4] = ["bullseye", "bookworm", "trixie", "sid"];
/// Writers that encode these corpora fully natively (1.8.7 uses xt tcp/udp/mark blobs).
const NATIVE: [&str; 3] = ["bookworm", "trixie", "sid"];
/// The nf_tables save tools, by the family they print.
const SAVE_TOOLS: [(nfscope::wire::nft::Family, &str); 2] = [
    (nfscope::wire::nft::Family::Ip, "iptables-nft-save"),
    (nfscope::wire::nft::Family::Ip6, "ip6tables-nft-save"),
];

#[test]
fn native_rules_read_back_as_each_version_reads_them() {
    check(CORPUS_FILTER, &NATIVE);
}

#[test]
fn ranges_are_refused_by_187() {
    check(CORPUS_RANGE, &NATIVE);
}

/// A node's worth of rules (raw, mangle, nat, filter: kube-proxy, kubelet, docker, calico,
/// ufw-like), as every writer writes them and every reader reads them back.
#[test]
fn node_corpus_whole_matrix() {
    let corpus = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/corpus/iptables/node.rules"
    ))
    .expect("corpus");
    check(&corpus, &ALL);
}

#[test]
fn whole_matrix() {
    check(CORPUS_FILTER, &ALL);
    check(CORPUS_RANGE, &ALL);
}

/// Whole `iptables-nft-save` / `ip6tables-nft-save` text, with and without `-c`, against the
/// real 1.8.9 (bookworm) for rules written by each writer (counters from a restore with -c).
#[test]
fn save_text_is_identical_to_iptables_nft_save() {
    let corpus = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/corpus/iptables/node.rules"
    ))
    .expect("corpus");
    let v6 = "*filter\n:INPUT DROP [7:700]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:zz - [0:0]\n:aa - [0:0]\n\
[3:300] -A INPUT -s 2001:db8::/32 -d fe80::1/128 -i eth0 -p tcp -m tcp --dport 22 -j ACCEPT\n\
-A INPUT -p ipv6-icmp -j ACCEPT\n-A INPUT -j aa\n-A aa -m mark --mark 0x1 -j zz\nCOMMIT\n";
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with("# Generated") && !l.starts_with("# Completed"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for writer in ALL.map(Writer::get) {
        let ns = Netns::new("save");
        ns.run_stdin(&writer.tool("iptables-nft-restore"), &["-c"], &corpus);
        ns.run_stdin(&writer.tool("ip6tables-nft-restore"), &["-c"], v6);
        let (rs, _) = snapshot::take_in_netns(ns.name(), &Options::default()).expect("snapshot");
        let reader = Writer::get("bookworm");
        let mut both = [String::new(), String::new()];
        for (fam, tool) in SAVE_TOOLS {
            for counters in [false, true] {
                let args: &[&str] = if counters { &["-c"] } else { &[] };
                let real = ns.ok(&reader.tool(tool), args);
                let ours = iptnft::save(&rs, fam, Reader::From188, counters);
                nfscope_tests::assert_same_lines(
                    &format!("{tool} {args:?} of rules written by {}", writer.suite),
                    &strip(&ours),
                    &strip(&real),
                );
                let all = &mut both[usize::from(counters)];
                all.push_str(&strip(&real));
                all.push('\n');
            }
        }
        // The CLI translates while it reads (a streamed snapshot), with and without -c.
        for (counters, real) in [false, true].into_iter().zip(&both) {
            let mut args = vec!["dump", "--backend", "nft", "--format", "iptables-save"];
            if counters {
                args.push("-c");
            }
            let out = ns.nfscope(&args);
            assert!(out.status.success(), "{args:?}");
            nfscope_tests::assert_same_lines(
                &format!("nfscope {args:?} of rules written by {}", writer.suite),
                &strip(&String::from_utf8_lossy(&out.stdout)),
                real.trim_end(),
            );
        }
    }
}

/// ipset names in iptables-nft-save text: xt `set` matches and `SET` targets hold the set's
/// kernel index; iptables-nft-save asks the kernel for the name (`IP_SET_OP_GET_BYINDEX`, in
/// its own namespace), and so do we (`output::nft_options_for` in the rule's namespace). Our
/// text must equal the real iptables-nft-save byte for byte (without the `# Generated` /
/// `# Completed` lines), with and without counters, through the library, the CLI's
/// `dump --backend nft --format iptables-save` and the JSON's per-rule `iptables` text.
#[test]
fn save_text_names_ipsets_like_iptables_nft_save() {
    let v4 = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
[5:500] -A INPUT -m set --match-set web src -j DROP\n\
-A INPUT -p tcp -m set ! --match-set ports dst,dst -m tcp --dport 80 -j ACCEPT\n\
-A INPUT -m set --match-set web src --return-nomatch ! --update-counters -j ACCEPT\n\
[1:60] -A FORWARD -j SET --add-set web src\n\
-A FORWARD -j SET --del-set ports src,dst\n\
-A OUTPUT -m set --match-set web dst -j SET --add-set ports dst,dst --exist\n\
COMMIT\n*mangle\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n\
-A PREROUTING -m set --match-set web src -j MARK --set-xmark 0x1/0xffffffff\n\
COMMIT\n";
    let v6 = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n\
-A INPUT -m set --match-set six src -j DROP\n\
-A OUTPUT -j SET --add-set six dst\n\
COMMIT\n";
    let strip = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| !l.starts_with("# Generated") && !l.starts_with("# Completed"))
            .map(str::to_string)
            .collect()
    };
    let reader = Writer::get("bookworm");
    for writer in [Writer::get("bullseye"), Writer::get("bookworm")] {
        let ns = Netns::new("ipsetname");
        // index 0 is freed again, so names are not simply in creation order from 0
        for set in [
            &["create", "gone", "hash:ip"][..],
            &["create", "web", "hash:ip", "counters"],
            &["create", "ports", "hash:ip,port"],
            &["create", "six", "hash:ip", "family", "inet6"],
            &["destroy", "gone"],
        ] {
            ns.ok("ipset", set);
        }
        ns.run_stdin(&writer.tool("iptables-nft-restore"), &["-c"], v4);
        ns.run_stdin(&writer.tool("ip6tables-nft-restore"), &["-c"], v6);
        let (rs, _) = snapshot::take_in_netns(ns.name(), &Options::default()).expect("snapshot");
        let opts = nfscope::output::nft_options_for(Some(ns.name()), &rs).expect("options");
        let names = nfscope::render::iptables::SetNames(&opts.ipsets);
        let mut all_real = Vec::new();
        for (fam, tool) in SAVE_TOOLS {
            for counters in [false, true] {
                let args: &[&str] = if counters { &["-c"] } else { &[] };
                let real = ns.ok(&reader.tool(tool), args);
                assert!(real.contains("--match-set "), "{real}");
                let ours = iptnft::save_with(
                    &rs,
                    fam,
                    Reader::From188,
                    &iptnft::SaveOpts {
                        counters,
                        names: &names,
                        ..Default::default()
                    },
                );
                nfscope_tests::assert_same_lines(
                    &format!("{tool} {args:?} of rules written by {}", writer.suite),
                    &strip(&ours).join("\n"),
                    &strip(&real).join("\n"),
                );
                if !counters {
                    all_real.extend(strip(&real));
                }
            }
        }
        // the CLI reads the names in the namespace it is pointed at
        let out = ns.nfscope(&["dump", "--backend", "nft", "--format", "iptables-save"]);
        assert!(out.status.success());
        nfscope_tests::assert_same_lines(
            "nfscope dump --backend nft --format iptables-save",
            &strip(&String::from_utf8_lossy(&out.stdout)).join("\n"),
            &all_real.join("\n"),
        );
        let out = ns.nfscope(&["dump", "--backend", "nft", "--format", "json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let lines: Vec<&str> = v["nftables"]["tables"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|t| t["chains"].as_array().into_iter().flatten())
            .flat_map(|c| c["rules"].as_array().into_iter().flatten())
            .filter_map(|r| r["iptables"].as_str())
            .collect();
        for want in [
            "-A INPUT -m set --match-set web src -j DROP",
            "-A FORWARD -j SET --del-set ports src,dst",
            "-A INPUT -m set --match-set six src -j DROP",
        ] {
            assert!(lines.contains(&want), "{want}: {lines:#?}");
        }
    }
}

/// Targets iptables-nft 1.8.9 writes natively whose meaning lives in an attribute: `-j TRACE`
/// is `meta nftrace set 1`, and `--nflog-size 0` is a log snaplen attribute of 0 (its
/// presence is the flag). Our save text must keep both, as the real `iptables-nft-save` does.
#[test]
fn trace_and_nflog_size_zero_are_kept() {
    let rules = "*raw\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A PREROUTING -j TRACE\n\
-A OUTPUT -p tcp -m tcp --dport 22 -j TRACE\nCOMMIT\n*filter\n:INPUT ACCEPT [0:0]\n\
:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n-A INPUT -j NFLOG --nflog-size 0\n\
-A INPUT -j NFLOG --nflog-group 3 --nflog-size 128\nCOMMIT\n";
    let writer = Writer::get("bookworm");
    let ns = Netns::new("trace");
    ns.run_stdin(&writer.tool("iptables-nft-restore"), &[], rules);
    let real = ns.ok(&writer.tool("iptables-nft-save"), &[]);
    let (rs, _) = snapshot::take_in_netns(ns.name(), &Options::default()).expect("snapshot");
    let ours = iptnft::save(&rs, nfscope::wire::nft::Family::Ip, Reader::From188, false);
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with("# Generated") && !l.starts_with("# Completed"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(
        real.contains("-j TRACE") && real.contains("--nflog-size 0"),
        "{real}"
    );
    nfscope_tests::assert_same_lines("iptables-nft-save", &strip(&ours), &strip(&real));
}

/// iptables-nft-save 1.8.9 prints every built-in chain of a table it prints, those the
/// nf_tables table lacks as `ACCEPT [0:0]` (here: a filter table nft made with INPUT only, a
/// nat table with POSTROUTING only).
#[test]
fn builtin_chains_are_all_printed() {
    let ns = Netns::new("builtin");
    ns.run_stdin(
        "nft",
        &["-f", "-"],
        "table ip filter {\n chain INPUT {\n  type filter hook input priority 0; policy drop;\n  accept\n }\n chain zz {\n }\n}\n\
table ip nat {\n chain POSTROUTING {\n  type nat hook postrouting priority 100;\n }\n}\n\
table ip raw {\n chain OUTPUT {\n  type filter hook output priority -300;\n }\n}\n",
    );
    let real = ns.ok(&Writer::get("bookworm").tool("iptables-nft-save"), &[]);
    let (rs, _) = snapshot::take_in_netns(ns.name(), &Options::default()).expect("snapshot");
    let ours = iptnft::save(&rs, nfscope::wire::nft::Family::Ip, Reader::From188, false);
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with("# Generated") && !l.starts_with("# Completed"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(real.contains(":FORWARD ACCEPT [0:0]"), "{real}");
    nfscope_tests::assert_same_lines("iptables-nft-save", &strip(&ours), &strip(&real));
}
