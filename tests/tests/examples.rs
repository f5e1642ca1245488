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

#[test]
fn marks_finds_every_mark_match() {
    let ns = Netns::new("exmarks");
    ns.nft_load(
        "table inet m {\n set s { type mark . ipv4_addr\n elements = { 0x3 . 10.0.0.1 } }\n \
         chain c {\n meta mark 0x1 accept\n meta mark & 0xff == 0x2 drop\n \
         meta mark . ip saddr @s counter\n meta mark { 4, 5 } accept\n \
         meta mark set 0x9\n tcp dport 22 accept\n }\n}\n",
    );
    ns.ok(
        "iptables-nft",
        &["-A", "INPUT", "-m", "mark", "--mark", "0x6"],
    );
    // iptables-nft 1.8.9 writes `-m mark` natively (meta mark), 1.8.7 as an xt `mark` match
    let v187 = Writer::get("bullseye").tool("iptables-nft");
    ns.ok(&v187, &["-A", "INPUT", "-m", "mark", "--mark", "0x8/0xff"]);
    ns.ok(
        "iptables-nft",
        &["-A", "INPUT", "-p", "tcp", "--dport", "23"],
    );
    ns.ok(
        "ebtables-nft",
        &["-A", "INPUT", "--mark", "0x7", "-j", "DROP"],
    );
    let out = Command::new(example("marks"))
        .arg(ns.name())
        .output()
        .expect("run marks");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = [
        "inet m c: meta mark 0x00000001 accept",
        "inet m c: meta mark & 0x000000ff == 0x00000002 drop",
        "inet m c: meta mark . ip saddr @s counter packets 0 bytes 0",
        "inet m c: meta mark { 0x00000004, 0x00000005 } accept",
        "ip filter INPUT: meta mark 0x00000006 counter packets 0 bytes 0",
        "ip filter INPUT: mark and 0xff == 0x8 counter packets 0 bytes 0",
        "bridge filter INPUT: meta mark 0x7 counter packets 0 bytes 0 drop",
    ];
    let got: Vec<&str> = text.lines().collect();
    assert_eq!(got, want, "{text}");
}
