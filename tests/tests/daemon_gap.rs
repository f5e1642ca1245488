//! Changes made while nfscoped was down: on its next start it compares what it stored with the
//! live ruleset (nf_tables and legacy x_tables) and records the difference, with no process and
//! `attribution: none`, under a `gap` marker; a restart with nothing changed records the marker
//! alone. After SIGTERM and after kill -9.

use nfscope_proto::v1 as pb;
use nfscope_tests::daemon::{tmp, Daemon};
use nfscope_tests::Netns;
use serde_json::Value;
use std::time::Duration;

fn is_gap(v: &Value) -> bool {
    v["type"] == "gap"
}

/// The records after the last gap marker (the marker first).
fn last_gap(h: &[Value]) -> &[Value] {
    let i = h.iter().rposition(is_gap).expect("a gap marker");
    &h[i..]
}

fn changes_while_down(kill9: bool) {
    let tag = if kill9 { "gap9" } else { "gapterm" };
    let ns = Netns::new(tag);
    let dir = tmp(tag);
    let mut d = Daemon::start(&ns, &dir, &[]);
    ns.nft_load(
        "table inet app {\n set s {\n type ipv4_addr\n }\n chain c {\n tcp dport 22 accept\n udp dport 53 accept\n }\n}\n",
    );
    ns.ok(
        "iptables-nft",
        &["-A", "INPUT", "-s", "10.0.0.1", "-j", "DROP"],
    );
    ns.ok(
        "iptables-legacy",
        &["-A", "INPUT", "-s", "10.0.0.2", "-j", "DROP"],
    );
    d.until_recorded(1, |v| v["backend"] == "legacy" && v["type"] == "rule_added");
    d.until_recorded(1, |v| {
        v["type"] == "rule_added" && v["table"] == "filter" && v["backend"] == "nftables"
    });
    assert!(
        !d.records().iter().any(is_gap),
        "first start: nothing to compare"
    );
    if kill9 {
        d.kill9();
    } else {
        d.stop();
    }

    // While it is down: nft adds one rule and deletes one, iptables-nft adds one, iptables-legacy
    // replaces its rule by another.
    let handle = ns
        .ok("nft", &["-a", "list", "chain", "inet", "app", "c"])
        .lines()
        .find(|l| l.contains("tcp dport 22"))
        .and_then(|l| l.rsplit(' ').next().map(str::to_string))
        .expect("handle");
    ns.ok(
        "nft",
        &[
            "add", "rule", "inet", "app", "c", "tcp", "dport", "80", "drop",
        ],
    );
    ns.ok(
        "nft",
        &["delete", "rule", "inet", "app", "c", "handle", &handle],
    );
    ns.ok(
        "iptables-nft",
        &["-A", "INPUT", "-s", "10.0.0.3", "-j", "ACCEPT"],
    );
    ns.ok(
        "nft",
        &[
            "add",
            "element",
            "inet",
            "app",
            "s",
            "{ 10.9.9.9, 10.9.9.10 }",
        ],
    );
    ns.ok(
        "iptables-legacy",
        &["-D", "INPUT", "-s", "10.0.0.2", "-j", "DROP"],
    );
    ns.ok(
        "iptables-legacy",
        &["-A", "INPUT", "-s", "10.0.0.4", "-j", "DROP"],
    );

    let mut d = Daemon::start(&ns, &dir, &[]);
    let h = d.until_recorded(1, is_gap);
    let g = last_gap(&h);
    let marker = &g[0];
    assert_eq!(marker["gap"]["clean"], !kill9, "{marker:#}");
    assert!(
        marker["gap"]["down_ms"].as_i64().is_some_and(|ms| ms >= 0),
        "{marker:#}"
    );
    let changes: Vec<&Value> = g[1..].iter().collect();
    assert_eq!(marker["gap"]["changes"], changes.len() as u64, "{g:#?}");
    for c in &changes {
        assert_eq!(c["attribution"], "none", "{c:#}");
        assert!(c.get("process").is_none(), "{c:#}");
        assert_eq!(c["gap"], marker["gap"], "{c:#}");
    }
    let mut got: Vec<(String, String, String)> = changes
        .iter()
        .map(|c| {
            let r = c
                .get("rule")
                .or(c.get("after"))
                .cloned()
                .unwrap_or(Value::Null);
            let text = r["iptables"]
                .as_str()
                .or(r["nft"].as_str())
                .unwrap_or("")
                .to_string();
            (
                c["backend"].as_str().unwrap_or("").to_string(),
                c["type"].as_str().unwrap_or("").to_string(),
                text,
            )
        })
        .collect();
    got.sort();
    let s = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
    let mut want = vec![
        s("nftables", "rule_added", "tcp dport 80 drop"),
        s("nftables", "rule_removed", "tcp dport 22 accept"),
        s(
            "nftables",
            "rule_added",
            "-A INPUT -s 10.0.0.3/32 -j ACCEPT",
        ),
        s("legacy", "rule_replaced", "-A INPUT -s 10.0.0.4/32 -j DROP"),
        s("nftables", "set_changed", ""),
    ];
    want.sort();
    assert_eq!(got, want, "{g:#?}");
    let set = changes
        .iter()
        .find(|c| c["type"] == "set_changed")
        .expect("set");
    assert_eq!(set["set"], "s");
    assert_eq!(set["elements_added"], 2);

    // A Watch replaying from the start sees the marker, typed, before the gap's changes.
    let replayed = replay_gap(&d);
    assert_eq!(
        replayed.0.as_ref().map(|g| g.changes),
        Some(5),
        "{replayed:?}"
    );
    assert_eq!(replayed.0.as_ref().map(|g| g.clean), Some(!kill9));
    assert_eq!(
        replayed.1, 5,
        "the gap's changes follow the marker, typed as gap changes"
    );

    // Text, remote and embedded: the marker says it.
    let text = String::from_utf8_lossy(&d.remote(&["history"]).stdout).into_owned();
    assert!(text.contains("gap: nfscoped was down from "), "{text}");
    assert!(text.contains("5 changes made meanwhile"), "{text}");

    // A restart with nothing changed: the marker alone, with 0 changes.
    d.stop();
    let embedded = ns.nfscope(&["history", "--file", &d.history().to_string_lossy()]);
    let text = String::from_utf8_lossy(&embedded.stdout);
    assert!(text.contains("gap: nfscoped was down from "), "{text}");
    let mut d = Daemon::start(&ns, &dir, &[]);
    let h = d.until_recorded(2, is_gap);
    let g = last_gap(&h);
    assert_eq!(g.len(), 1, "nothing changed: {g:#?}");
    assert_eq!(g[0]["gap"]["changes"], 0);
    assert_eq!(g[0]["gap"]["clean"], true);
    d.stop();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Watch with `since_id` 1 over gRPC: the first gap marker's typed `gap`, and how many records
/// after it carry a `gap` (until the replay is over: the records of the history so far).
fn replay_gap(d: &Daemon) -> (Option<pb::Gap>, usize) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let mut c = d.client().await;
        let mut s = c
            .watch(pb::WatchRequest {
                since_id: 1,
                ..Default::default()
            })
            .await
            .expect("watch")
            .into_inner();
        let (mut marker, mut changes) = (None, 0);
        // The replay ends where no more records come (a hang guard of seconds, not a bound).
        while let Ok(Ok(Some(ev))) = tokio::time::timeout(Duration::from_secs(3), s.message()).await
        {
            if let Some(pb::watch_event::Event::Record(r)) = ev.event {
                match (&marker, r.r#type.as_str()) {
                    (None, "gap") => marker = r.gap,
                    (Some(_), "gap") => break,
                    (Some(_), _) if r.gap.is_some() => changes += 1,
                    _ => {}
                }
            }
        }
        (marker, changes)
    })
}

#[test]
fn changes_made_while_stopped_by_sigterm_are_recorded_under_a_gap_marker() {
    changes_while_down(false);
}

#[test]
fn changes_made_while_killed_are_recorded_under_a_gap_marker() {
    changes_while_down(true);
}
