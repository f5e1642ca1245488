//! The incident behind nfscope, end to end with the real binaries: kubelet (iptables 1.8.9)
//! writes its KUBE-FIREWALL mark rule natively; kube-router's iptables 1.8.7 saves and restores
//! it as a bare DROP; nfscope says who wrote the rule, that 1.8.7 loses the mark match, and
//! afterwards reports the unconditional DROP.

use nfscope::iptnft::{self, Outcome, Reader};
use nfscope::lint::{self, Input, Severity};
use nfscope::provenance::{self, Confidence};
use nfscope::snapshot::{self, Options};
use nfscope_tests::writers::Writer;
use nfscope_tests::Netns;

const MARK_RULE: [&str; 10] = [
    "-A",
    "KUBE-FIREWALL",
    "-m",
    "comment",
    "--comment",
    "kubernetes firewall for dropping marked packets",
    "-m",
    "mark",
    "--mark",
    "0x8000/0x8000",
];

#[test]
fn kubelet_rule_rewritten_by_187_is_caught() {
    let ns = Netns::new("incident");
    let v189 = Writer::get("bookworm");
    let v187 = Writer::get("bullseye");
    ns.ok(&v189.tool("iptables-nft"), &["-N", "KUBE-FIREWALL"]);
    let mut args: Vec<&str> = MARK_RULE.to_vec();
    args.extend(["-j", "DROP"]);
    ns.ok(&v189.tool("iptables-nft"), &args);
    ns.ok(
        &v189.tool("iptables-nft"),
        &["-A", "INPUT", "-j", "KUBE-FIREWALL"],
    );

    let (rs, _) = snapshot::take_in_netns(ns.name(), &Options::default()).expect("snapshot");
    let t = rs
        .table(nfscope::wire::nft::Family::Ip, "filter")
        .expect("filter");
    let c = t.chain("KUBE-FIREWALL").expect("chain");
    let r = &c.rules.get(0).expect("rule");
    let w = provenance::of_rule(t, c, r);
    assert_eq!(
        (w.tool.as_str(), w.confidence),
        ("iptables-nft", Confidence::Certain),
        "{w:?}"
    );
    assert_eq!(w.versions, vec![">=1.8.8".to_string()]);
    assert_eq!(
        iptnft::outcome(t, c, r, Reader::Upto187),
        Outcome::Lossy {
            lost: vec!["-m mark --mark 0x8000/0x8000".into()]
        }
    );
    assert_eq!(
        iptnft::outcome(t, c, r, Reader::From188),
        Outcome::Identical
    );
    let before = lint::run(&Input {
        nft: &rs,
        legacy: &[],
        node: None,
    });
    assert!(
        before.iter().any(|f| f.id == "lossy_for_older_iptables"),
        "{before:#?}"
    );
    assert!(
        !before.iter().any(|f| f.id == "unconditional_drop"),
        "{before:#?}"
    );

    // kube-router's iptables 1.8.7: save | restore. Exit 0, nothing on stderr: the mark is gone.
    let saved = ns.ok(&v187.tool("iptables-nft-save"), &[]);
    assert!(
        !saved.contains("--mark"),
        "1.8.7 cannot read the native mark:\n{saved}"
    );
    ns.run_stdin(&v187.tool("iptables-nft-restore"), &[], &saved);

    let (rs, _) = snapshot::take_in_netns(ns.name(), &Options::default()).expect("snapshot");
    let after = lint::run(&Input {
        nft: &rs,
        legacy: &[],
        node: None,
    });
    let f = after
        .iter()
        .find(|f| f.id == "unconditional_drop")
        .unwrap_or_else(|| panic!("{after:#?}"));
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.location, "ip filter KUBE-FIREWALL");
    // The rule 1.8.7 wrote back: xt comment, counter, drop — and provenance says <=1.8.7 now? No:
    // 1.8.7 writes comment as xt and nothing that tells its band apart; it must not claim certainty
    // about a band it cannot see.
    let t = rs
        .table(nfscope::wire::nft::Family::Ip, "filter")
        .expect("filter");
    let c = t.chain("KUBE-FIREWALL").expect("chain");
    let w = provenance::of_rule(t, c, &c.rules.get(0).expect("rule"));
    assert_eq!(w.tool, "iptables-nft");
    assert_eq!(w.versions, vec!["any".to_string()], "{w:?}");
}

/// `dump --show-writer`: each rule's writer after it, in nft and iptables-save text.
#[test]
fn show_writer_annotates_every_rule() {
    let ns = Netns::new("showw");
    let v189 = Writer::get("bookworm");
    let v187 = Writer::get("bullseye");
    ns.ok(
        &v187.tool("iptables-nft"),
        &[
            "-A", "INPUT", "-p", "tcp", "-m", "tcp", "--dport", "22", "-j", "ACCEPT",
        ],
    );
    ns.ok(
        &v189.tool("iptables-nft"),
        &[
            "-A",
            "INPUT",
            "-m",
            "comment",
            "--comment",
            "x",
            "-m",
            "mark",
            "--mark",
            "0x1",
            "-j",
            "DROP",
        ],
    );
    let o = ns.nfscope(&["dump", "--show-writer", "--format", "iptables-save"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT # written by iptables-nft <=1.8.7 (certain)"), "{text}");
    assert!(text.contains("-A INPUT -m comment --comment x -m mark --mark 0x1 -j DROP # written by iptables-nft >=1.8.8 (certain)"), "{text}");
    let o = ns.nfscope(&["dump", "--show-writer"]);
    let text = String::from_utf8_lossy(&o.stdout);
    let annotated = text
        .lines()
        .filter(|l| l.contains(" # written by iptables-nft"))
        .count();
    assert_eq!(annotated, 2, "{text}");
}
