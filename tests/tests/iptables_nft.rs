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

/// Our reading of every ip table in `ns`, as `-A` lines or the "incompatible" line.
fn ours(ns: &Netns, reader: Reader) -> Vec<String> {
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
                let ipt = iptnft::translate(t, c, r, reader);
                refused |= ipt.refused.is_some();
                lines.push(ipt.line());
            }
        }
        if refused {
            out.push(format!(
                "# Table `{}' is incompatible, use 'nft' tool.",
                t.name()
            ));
        } else {
            out.extend(lines);
        }
    }
    out
}

fn theirs(ns: &Netns, reader: &Writer) -> Vec<String> {
    let out = ns.run(&reader.tool("iptables-nft-save"), &[]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("-A ") || l.starts_with("# Table"))
        .map(str::to_string)
        .collect()
}

fn check(corpus: &str, writers: &[&'static str]) {
    let mut failures = Vec::new();
    let mut compared = 0;
    for writer in writers.iter().map(|w| Writer::get(w)) {
        let ns = Netns::new("iptnft");
        ns.run_stdin(&writer.tool("iptables-nft-restore"), &[], corpus);
        for reader in Writer::all() {
            let (a, b) = (ours(&ns, band(&reader)), theirs(&ns, &reader));
            compared += b.len();
            if a != b {
                let mut msg = format!(
                    "written by {} {}, read by {} {}:\n",
                    writer.suite, writer.version, reader.suite, reader.version
                );
                for i in 0..a.len().max(b.len()) {
                    if a.get(i) != b.get(i) {
                        msg.push_str(&format!("  ours: {:?}\n  real: {:?}\n", a.get(i), b.get(i)));
                    }
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

#[test]
fn native_rules_read_back_as_each_version_reads_them() {
    check(CORPUS_FILTER, &NATIVE);
}

#[test]
fn ranges_are_refused_by_187() {
    check(CORPUS_RANGE, &NATIVE);
}

#[test]
fn whole_matrix() {
    check(CORPUS_FILTER, &ALL);
    check(CORPUS_RANGE, &ALL);
}
