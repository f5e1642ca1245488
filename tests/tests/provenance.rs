//! Provenance against the real writers: every rule of the corpus written by every iptables
//! version of the matrix (and by nft) is attributed; no certain answer may be wrong.

use nfscope::provenance::{self, Candidate, Confidence};
use nfscope::snapshot::{self, Options};
use nfscope_tests::writers::Writer;
use nfscope_tests::Netns;

const CORPUS: &str = "*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:KUBE-FIREWALL - [0:0]
:KUBE-FORWARD - [0:0]
-A INPUT -j KUBE-FIREWALL
-A INPUT -m conntrack --ctstate NEW -m comment --comment \"kubernetes service portals\" -j ACCEPT
-A INPUT -p tcp -m tcp --dport 80 -j ACCEPT
-A INPUT -p udp -m udp --dport 53 -j ACCEPT
-A INPUT -s 10.0.0.0/8 -d 10.96.0.1/32 -i eth0 -j ACCEPT
-A INPUT -p icmp -j ACCEPT
-A INPUT -p tcp -m multiport --dports 80,443 -j ACCEPT
-A FORWARD -i eth0 -o cni0 -j ACCEPT
-A FORWARD -j KUBE-FORWARD
-A KUBE-FIREWALL -m comment --comment \"kubernetes firewall for dropping marked packets\" -m mark --mark 0x8000/0x8000 -j DROP
-A KUBE-FORWARD -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m mark ! --mark 0x4000/0x4000 -j RETURN
-A OUTPUT -p tcp -m tcp --tcp-flags SYN,RST,ACK SYN -j DROP
COMMIT
";

fn truth(w: &Writer) -> Candidate {
    match w.suite {
        "bullseye" => Candidate::IptNft187,
        "bookworm" => Candidate::IptNft189,
        _ => Candidate::IptNft1810,
    }
}

/// The node corpus (raw/mangle/nat/filter, 58 rules) by every writer: no certain answer wrong.
#[test]
fn node_corpus_attribution_per_writer() {
    let corpus = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/corpus/iptables/node.rules"
    ))
    .expect("corpus");
    for w in Writer::all() {
        let ns = Netns::new("provnode");
        ns.run_stdin(&w.tool("iptables-nft-restore"), &[], &corpus);
        let (rs, _) = snapshot::take_in_netns(ns.name(), &Options::default()).expect("snapshot");
        let (mut certain, mut likely, mut ambiguous) = (0, 0, 0);
        for t in &rs.tables {
            for c in &t.chains {
                for r in &c.rules {
                    let v = provenance::of_rule(t, c, &r);
                    assert!(
                        v.candidates.contains(&truth(&w))
                            || (v.confidence != Confidence::Certain && v.tool == "iptables-nft"),
                        "{} {v:?}",
                        w.suite
                    );
                    if v.confidence == Confidence::Certain {
                        assert!(
                            v.candidates.contains(&truth(&w)),
                            "wrong certain answer for {}: {v:?}",
                            w.suite
                        );
                    }
                    match v.confidence {
                        Confidence::Certain => certain += 1,
                        Confidence::Likely => likely += 1,
                        Confidence::Ambiguous => ambiguous += 1,
                    }
                }
            }
        }
        eprintln!(
            "node corpus, {} {}: certain {certain}, likely {likely}, ambiguous {ambiguous}",
            w.suite, w.version
        );
    }
}

#[test]
fn no_certain_answer_is_wrong_for_any_writer() {
    let mut report = Vec::new();
    for w in Writer::all() {
        let ns = Netns::new("prov");
        ns.run_stdin(&w.tool("iptables-nft-restore"), &[], CORPUS);
        let (rs, _) = snapshot::take_in_netns(ns.name(), &Options::default()).expect("snapshot");
        let (mut certain, mut likely, mut ambiguous) = (0, 0, 0);
        for t in &rs.tables {
            for c in &t.chains {
                for r in &c.rules {
                    let v = provenance::of_rule(t, c, &r);
                    assert!(
                        v.candidates.contains(&truth(&w)),
                        "{} rule {:?} in {}: truth {:?} not among {v:?}",
                        w.suite,
                        r.handle,
                        c.name(),
                        truth(&w)
                    );
                    match v.confidence {
                        Confidence::Certain => certain += 1,
                        Confidence::Likely => likely += 1,
                        Confidence::Ambiguous => ambiguous += 1,
                    }
                    if v.confidence != Confidence::Ambiguous {
                        assert_eq!(v.tool, "iptables-nft", "{v:?}");
                    }
                }
            }
        }
        report.push(format!(
            "{} {}: certain {certain}, likely {likely}, ambiguous {ambiguous}",
            w.suite, w.version
        ));
        // Kubelet's rule: written by iptables-nft >=1.8.8 (1.8.9, 1.8.11, sid) or <=1.8.7 (bullseye).
        let t = rs
            .table(nfscope::wire::nft::Family::Ip, "filter")
            .expect("filter");
        let c = t.chain("KUBE-FIREWALL").expect("KUBE-FIREWALL");
        let v = provenance::of_rule(t, c, &c.rules.get(0).expect("rule"));
        assert_eq!(v.confidence, Confidence::Certain, "{v:?}");
        let want = if w.suite == "bullseye" {
            "<=1.8.7"
        } else {
            ">=1.8.8"
        };
        assert_eq!(v.versions, vec![want.to_string()], "{} {v:?}", w.suite);
    }
    eprintln!("{}", report.join("\n"));
}

#[test]
fn nft_written_rules_are_never_attributed_to_iptables_with_certainty() {
    let ns = Netns::new("provnft");
    ns.nft_load(
        "table ip filter {\n chain INPUT { type filter hook input priority 0; policy accept;\n  tcp dport 80 accept\n  meta mark & 0x8000 == 0x8000 counter drop\n  ip saddr 10.0.0.0/8 counter accept comment \"x\"\n  ct state established accept\n }\n}\ntable inet t {\n chain c { type filter hook input priority 0; tcp dport { 22, 80 } accept; }\n}\n",
    );
    let (rs, _) = snapshot::take_in_netns(ns.name(), &Options::default()).expect("snapshot");
    let mut n = 0;
    let mut certain_nft = 0;
    for t in &rs.tables {
        for c in &t.chains {
            for r in &c.rules {
                let v = provenance::of_rule(t, c, &r);
                // nft can write exactly what iptables-nft writes (in a table laid out like
                // iptables'): then "likely iptables-nft" is a fair presumption, but a certain
                // answer must be right.
                if !v.candidates.contains(&Candidate::Nft) {
                    assert_ne!(v.confidence, Confidence::Certain, "{v:?}");
                }
                if v.confidence == Confidence::Certain {
                    assert_eq!(v.tool, "nft", "{v:?}");
                }
                certain_nft += usize::from(v.confidence == Confidence::Certain);
                n += 1;
            }
        }
    }
    assert_eq!(n, 5);
    // No counter, a rule comment, ct, a set lookup: those are certainly nft.
    assert!(certain_nft >= 3, "{certain_nft}");
}
