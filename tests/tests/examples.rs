//! The library's examples, run as an embedder would run them, against rules the real writers put
//! in a namespace.

use nfscope_tests::writers::Writer;
use nfscope_tests::Netns;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// target/<profile>/examples/NAME (built by `cargo build --all-targets`).
fn example(name: &str) -> PathBuf {
    let bin = nfscope_tests::nfscope_bin();
    let p = bin
        .parent()
        .expect("target dir")
        .join("examples")
        .join(name);
    assert!(
        p.exists(),
        "{} missing: build it with `cargo build -p nfscope --examples`",
        p.display()
    );
    p
}

#[test]
fn snapshot_writers_names_each_rules_writer() {
    let ns = Netns::new("exsnap");
    ns.nft_load("table inet f {\n chain c {\n tcp dport 22 accept\n }\n}\n");
    nfscope_tests::writers::write_kubelet_firewall(&ns, &Writer::get("bookworm"));
    let out = Command::new(example("snapshot_writers"))
        .arg(ns.name())
        .output()
        .expect("run snapshot_writers");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("inet f c: tcp dport 22 accept  # nft")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("ip filter KUBE-FIREWALL:")
                && l.contains("meta mark & 0x00008000 == 0x00008000")
                && l.ends_with("# iptables-nft >=1.8.8 (certain)")),
        "{text}"
    );
}

#[test]
fn watch_alerts_reports_the_incident() {
    let ns = Netns::new("exwatch");
    let (v189, v187) = (Writer::get("bookworm"), Writer::get("bullseye"));
    nfscope_tests::writers::write_kubelet_firewall(&ns, &v189);
    let mut child = Command::new(example("watch_alerts"))
        .args([ns.name(), "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start watch_alerts");
    let mut err = BufReader::new(child.stderr.take().expect("stderr"));
    let mut first = String::new();
    err.read_line(&mut first).expect("read stderr");
    assert!(first.contains("watching"), "{first}");
    // kube-router's iptables 1.8.7 rewrites kubelet's rule without its mark match.
    let saved = ns.ok(&v187.tool("iptables-nft-save"), &[]);
    ns.run_stdin(&v187.tool("iptables-nft-restore"), &[], &saved);
    let out = child
        .wait_with_output()
        .expect("watch_alerts ends after one alert");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(
            "ip filter KUBE-FIREWALL: lost -m mark --mark 0x8000/0x8000 (by iptables-nft-re"
        ),
        "{text}"
    );
}
