//! The incident through `nfscope watch --json`: kubelet's rule written by iptables 1.8.9, then
//! kube-router's iptables 1.8.7 save | restore. nfscope reports the replaced rule,
//! the lost mark match, the alert, and who did it. A 1.8.7 → 1.8.9 round trip re-encodes without
//! changing meaning and raises no alert.

use nfscope_tests::writers::Writer;
use nfscope_tests::Netns;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

struct Watch {
    child: Child,
    lines: Receiver<Value>,
}

impl Watch {
    fn start(ns: &Netns) -> Watch {
        let mut child = Command::new(nfscope_tests::nfscope_bin())
            .args([
                "--netns",
                ns.name(),
                "watch",
                "--json",
                "--duration",
                &nfscope_tests::HUNG_AFTER.as_secs().to_string(),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start nfscope watch");
        // Ready once it says so on stderr.
        let mut err = BufReader::new(child.stderr.take().expect("stderr"));
        let mut first = String::new();
        err.read_line(&mut first).expect("read stderr");
        assert!(
            first.contains("watching"),
            "nfscope watch did not start: {first}"
        );
        let out = BufReader::new(child.stdout.take().expect("stdout"));
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for l in out.lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<Value>(&l) {
                    if tx.send(v).is_err() {
                        break;
                    }
                }
            }
        });
        Watch { child, lines: rx }
    }

    /// Records until `pred` matches one (or the deadline passes).
    fn until(
        &self,
        within: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> (Vec<Value>, Option<Value>) {
        let end = Instant::now() + within;
        let mut seen = Vec::new();
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(v) if pred(&v) => return (seen, Some(v)),
                Ok(v) => seen.push(v),
                Err(_) => break,
            }
        }
        (seen, None)
    }

    /// Everything before the chain_added record of `marker` (a chain the test adds after what
    /// it watches: the records of one change come in commit order, so nothing of it is later).
    fn until_marker(&self, marker: &str) -> Vec<Value> {
        let (seen, m) = self.until(nfscope_tests::HUNG_AFTER, |v| {
            v["type"] == "chain_added" && v["chain"] == marker
        });
        assert!(m.is_some(), "hung: no marker chain {marker}; got {seen:#?}");
        seen
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn kubelet_rule(ns: &Netns, w: &Writer) {
    nfscope_tests::writers::write_kubelet_firewall(ns, w);
}

fn round_trip(ns: &Netns, w: &Writer) {
    let saved = ns.ok(&w.tool("iptables-nft-save"), &[]);
    ns.run_stdin(&w.tool("iptables-nft-restore"), &[], &saved);
}

#[test]
fn the_incident_is_reported_with_its_author() {
    let ns = Netns::new("wincident");
    let (v189, v187) = (Writer::get("bookworm"), Writer::get("bullseye"));
    let watch = Watch::start(&ns);
    kubelet_rule(&ns, &v189);
    let (_, added) = watch.until(nfscope_tests::HUNG_AFTER, |v| {
        v["type"] == "rule_added" && v["chain"] == "INPUT"
    });
    assert!(added.is_some(), "the kubelet writes were not seen");
    assert_eq!(
        added.as_ref().map(|v| v["process"]["comm"].clone()),
        Some(Value::from("iptables-nft"))
    );

    round_trip(&ns, &v187);
    let (others, replaced) = watch.until(nfscope_tests::HUNG_AFTER, |v| {
        v["type"] == "rule_replaced" && v["chain"] == "KUBE-FIREWALL"
    });
    let r = replaced
        .unwrap_or_else(|| panic!("hung: no rule_replaced in KUBE-FIREWALL; got {others:#?}"));
    assert_eq!(
        r["lost"],
        serde_json::json!(["-m mark --mark 0x8000/0x8000"]),
        "{r:#}"
    );
    assert_eq!(r["alert"]["kind"], "match_removed");
    assert_eq!(r["alert"]["severity"], "severe");
    assert_eq!(r["process"]["comm"], "iptables-nft-re");
    let exe = r["process"]["exe"].as_str().unwrap_or_default().to_string();
    assert!(
        exe.starts_with(
            &nfscope_tests::writers::root()
                .join("bullseye")
                .to_string_lossy()
                .to_string()
        ),
        "exe {exe:?} is not the 1.8.7 executable; process {:#}",
        r["process"]
    );
    assert_eq!(
        r["after"]["iptables"],
        "-A KUBE-FIREWALL -m comment --comment \"kubernetes firewall for dropping marked packets\" -j DROP"
    );
}

#[test]
fn a_reencoding_round_trip_raises_no_alert() {
    let ns = Netns::new("wreenc");
    let (v189, v187) = (Writer::get("bookworm"), Writer::get("bullseye"));
    kubelet_rule(&ns, &v187);
    let watch = Watch::start(&ns);
    round_trip(&ns, &v189);
    ns.ok("iptables-nft", &["-N", "NFSCOPE-END"]);
    let records = watch.until_marker("NFSCOPE-END");
    let replaced: Vec<&Value> = records
        .iter()
        .filter(|v| v["type"] == "rule_replaced")
        .collect();
    assert_eq!(replaced.len(), 2, "{records:#?}");
    assert!(
        replaced
            .iter()
            .all(|v| v["reencoded"] == true && v.get("alert").is_none()),
        "{records:#?}"
    );
    assert!(
        !records.iter().any(|v| v.get("alert").is_some()),
        "{records:#?}"
    );
}
