//! Watching nf_tables in a namespace: transactions with their committer, the view kept equal to
//! a fresh snapshot, and no silent loss when the kernel drops events.

use nfscope::change::Change;
use nfscope::model::Ruleset;
use nfscope::watch::{Event, WatchOptions, Watcher};
use nfscope_tests::writers::Writer;
use nfscope_tests::Netns;
use std::time::Duration;

/// Tables, chains and rules (handle + expressions without counters) in a comparable form.
fn shape(rs: &Ruleset) -> Vec<String> {
    let mut out = Vec::new();
    for t in &rs.tables {
        out.push(format!("table {} {}", t.family, t.name()));
        for c in &t.chains {
            out.push(format!("  chain {}", c.name()));
            for r in &c.rules {
                let exprs: Vec<String> = r
                    .expressions
                    .iter()
                    .flatten()
                    .filter(|e| e.name() != "counter")
                    .map(|e| format!("{e:?}"))
                    .collect();
                out.push(format!("    {:?} {}", r.handle, exprs.join(" ")));
            }
        }
        for s in &t.sets {
            out.push(format!("  set {} {}", s.name(), s.elements.len()));
        }
    }
    out
}

fn next(w: &mut Watcher) -> Event {
    w.next_timeout(Some(nfscope_tests::HUNG_AFTER))
        .expect("watch")
        .expect("hung: no event came")
}

#[test]
fn transactions_are_attributed_and_the_view_stays_exact() {
    let ns = Netns::new("watch");
    let mut w = Watcher::start_in_netns(ns.name(), WatchOptions::default()).expect("start watch");
    for writer in [Writer::get("bullseye"), Writer::get("bookworm")] {
        ns.ok(
            &writer.tool("iptables-nft"),
            &[
                "-A",
                "INPUT",
                "-m",
                "mark",
                "--mark",
                "0x8000/0x8000",
                "-j",
                "DROP",
            ],
        );
        let Event::Transaction(tx) = next(&mut w) else {
            panic!("expected a transaction")
        };
        assert_eq!(tx.process.comm, "iptables-nft", "{tx:?}");
        assert!(tx.process.pid > 0);
        assert!(
            tx.changes.iter().any(|c| matches!(c, Change::NewRule(..))),
            "{:?}",
            tx.changes
        );
    }
    ns.nft_load("table inet t {\n set s { type ipv4_addr; }\n chain c { ip saddr @s drop; }\n}\nadd element inet t s { 10.0.0.1, 10.0.0.2 }\n");
    let Event::Transaction(tx) = next(&mut w) else {
        panic!("expected a transaction")
    };
    assert_eq!(tx.process.comm, "nft");
    ns.ok("nft", &["delete", "table", "ip", "filter"]);
    let Event::Transaction(tx) = next(&mut w) else {
        panic!("expected a transaction")
    };
    assert!(tx.changes.iter().any(|c| matches!(c, Change::DelTable(..))));
    let fresh = w.snapshot().expect("snapshot");
    assert_eq!(shape(w.state()), shape(&fresh));
    assert_eq!(w.state().generation, fresh.generation);
    assert_eq!(w.resyncs, 0);
}

/// A burst far larger than a small receive buffer: the kernel drops events, the watcher
/// resyncs, and every added rule is accounted for by an event or a resync.
#[test]
fn a_burst_that_overruns_the_socket_is_accounted_for() {
    let ns = Netns::new("burst");
    let opts = WatchOptions {
        rcvbuf: 64 << 10,
        ..WatchOptions::default()
    };
    let mut w = Watcher::start_in_netns(ns.name(), opts).expect("start watch");
    let n = 20_000;
    let mut text = String::from("*filter\n:INPUT ACCEPT [0:0]\n:KUBE-SERVICES - [0:0]\n");
    for i in 0..n {
        text.push_str(&format!(
            "-A KUBE-SERVICES -d 10.{}.{}.{}/32 -p tcp -m tcp --dport 80 -j ACCEPT\n",
            i >> 16,
            (i >> 8) & 255,
            i & 255
        ));
    }
    text.push_str("COMMIT\n");
    // Pause so the watcher does not read while the restore writes: the buffer must overrun.
    ns.run_stdin("iptables-nft-restore", &[], &text);
    let mut added = 0usize;
    let mut resynced = false;
    while added < n {
        let ev = w
            .next_timeout(Some(nfscope_tests::HUNG_AFTER))
            .expect("watch")
            .unwrap_or_else(|| panic!("hung: {added} of {n} added rules seen, then nothing"));
        let changes = match &ev {
            Event::Transaction(t) => &t.changes,
            Event::Resync(r) => {
                resynced = true;
                &r.changes
            }
            Event::Legacy(_) => continue,
        };
        added += changes
            .iter()
            .filter(|c| matches!(c, Change::NewRule(..)))
            .count();
    }
    assert!(resynced, "a 64 KiB buffer must overrun on {n} rule events");
    assert_eq!(
        added, n,
        "every added rule accounted for by an event or a resync"
    );
    let fresh = w.snapshot().expect("snapshot");
    assert_eq!(shape(w.state()), shape(&fresh));
}

/// Rule order from events alone: appends, inserts at the head and in the middle, in one
/// transaction and in several (the kernel names the preceding rule only for rules that are
/// neither first nor last; NLM_F_APPEND says which end).
#[test]
fn rule_order_from_events_matches_the_kernel() {
    let ns = Netns::new("order");
    let mut w = Watcher::start_in_netns(ns.name(), WatchOptions::default()).expect("start watch");
    ns.run_stdin(
        "iptables-nft-restore",
        &["--noflush"],
        "*filter\n:X - [0:0]\n-A X -s 1.1.1.1 -j ACCEPT\n-A X -s 1.1.1.2 -j ACCEPT\n-A X -s 1.1.1.3 -j ACCEPT\n-I X 1 -s 1.1.1.0 -j ACCEPT\n-I X 3 -s 1.1.1.9 -j ACCEPT\nCOMMIT\n",
    );
    next(&mut w);
    ns.ok(
        "iptables-nft",
        &["-I", "X", "1", "-s", "2.2.2.0", "-j", "DROP"],
    );
    next(&mut w);
    ns.ok("iptables-nft", &["-A", "X", "-s", "2.2.2.9", "-j", "DROP"]);
    next(&mut w);
    ns.ok(
        "iptables-nft",
        &["-I", "X", "4", "-s", "2.2.2.4", "-j", "DROP"],
    );
    next(&mut w);
    ns.ok(
        "nft",
        &[
            "insert", "rule", "ip", "filter", "X", "ip", "saddr", "3.3.3.3", "drop",
        ],
    );
    next(&mut w);
    let fresh = w.snapshot().expect("snapshot");
    assert_eq!(shape(w.state()), shape(&fresh));
}

/// Legacy x_tables sends no events: the watcher polls, and reports rules added, removed and a
/// replaced rule that lost a match, as records of backend "legacy".
#[test]
fn legacy_changes_are_seen_and_diffed() {
    let ns = Netns::new("wlegacy");
    ns.run_stdin("iptables-legacy-restore", &[], "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:KUBE-FIREWALL - [0:0]\n-A KUBE-FIREWALL -m comment --comment x -m mark --mark 0x8000/0x8000 -j DROP\nCOMMIT\n");
    let opts = WatchOptions {
        legacy_poll: Some(Duration::from_millis(200)),
        ..WatchOptions::default()
    };
    let mut w = Watcher::start_in_netns(ns.name(), opts).expect("start watch");
    let legacy = |w: &mut Watcher| loop {
        match w
            .next_timeout(Some(nfscope_tests::HUNG_AFTER))
            .expect("watch")
        {
            Some(Event::Legacy(r)) => return r,
            Some(_) => continue,
            None => panic!("hung: no legacy change seen"),
        }
    };
    ns.ok(
        "iptables-legacy",
        &["-A", "INPUT", "-s", "10.0.0.1", "-j", "ACCEPT"],
    );
    let r = legacy(&mut w);
    assert_eq!(r.len(), 1, "{r:#?}");
    assert_eq!(
        (
            r[0].kind.as_str(),
            r[0].backend.as_str(),
            r[0].chain.as_deref()
        ),
        ("rule_added", "legacy", Some("INPUT"))
    );
    assert_eq!(
        r[0].rule
            .as_ref()
            .and_then(|x| x.iptables.clone())
            .as_deref(),
        Some("-A INPUT -s 10.0.0.1/32 -j ACCEPT")
    );
    // The incident, legacy style: the mark match disappears from the DROP rule.
    ns.ok(
        "iptables-legacy",
        &[
            "-R",
            "KUBE-FIREWALL",
            "1",
            "-m",
            "comment",
            "--comment",
            "x",
            "-j",
            "DROP",
        ],
    );
    let r = legacy(&mut w);
    assert_eq!(r.len(), 1, "{r:#?}");
    assert_eq!(r[0].kind, "rule_replaced");
    assert_eq!(r[0].lost, vec!["-m mark --mark 0x8000/0x8000".to_string()]);
    assert_eq!(
        r[0].alert.as_ref().map(|a| a.severity.as_str()),
        Some("severe")
    );
    ns.ok("iptables-legacy", &["-D", "INPUT", "1"]);
    let r = legacy(&mut w);
    assert_eq!(r[0].kind, "rule_removed");
    // A rule equal to one already there is an addition too.
    ns.ok(
        "iptables-legacy",
        &[
            "-A",
            "KUBE-FIREWALL",
            "-m",
            "comment",
            "--comment",
            "x",
            "-j",
            "DROP",
        ],
    );
    let r = legacy(&mut w);
    assert_eq!(r.len(), 1, "{r:#?}");
    assert_eq!(
        (r[0].kind.as_str(), r[0].rule.as_ref().and_then(|x| x.index)),
        ("rule_added", Some(1))
    );
    // Counters moving is not a change.
    assert!(w
        .next_timeout(Some(Duration::from_millis(700)))
        .expect("watch")
        .is_none());
}

/// The library's tokio Stream, and a kube-proxy-sized restore (80,011 rules in one transaction)
/// while watching: every added rule accounted for by an event or a resync, and the view equal
/// to a fresh snapshot.
#[test]
fn kube_proxy_restore_through_the_tokio_stream() {
    use tokio_stream::StreamExt;
    let ns = Netns::new("wkube");
    let kube = nfscope_tests::kube::Kube::scaled(1.0);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut s =
        nfscope::watch::stream(WatchOptions::default(), Some(ns.name()), 64).expect("stream");
    let text = kube.restore_text();
    ns.run_stdin("iptables-nft-restore", &[], &text);
    let mut added = 0usize;
    let mut resynced = false;
    rt.block_on(async {
        while added < kube.rules() && !resynced {
            let ev = tokio::time::timeout(nfscope_tests::HUNG_AFTER, s.next())
                .await
                .expect("hung: no event came")
                .expect("stream open")
                .expect("watch");
            match ev {
                Event::Transaction(t) => {
                    added += t
                        .changes
                        .iter()
                        .filter(|c| matches!(c, Change::NewRule(..)))
                        .count()
                }
                Event::Resync(r) => {
                    resynced = true;
                    added += r
                        .changes
                        .iter()
                        .filter(|c| matches!(c, Change::NewRule(..)))
                        .count();
                }
                Event::Legacy(_) => {}
            }
        }
    });
    assert_eq!(added, kube.rules(), "every added rule accounted for");
    drop(s);
    let mut w = Watcher::start_in_netns(ns.name(), WatchOptions::default()).expect("watcher");
    let fresh = w.snapshot().expect("snapshot");
    assert_eq!(fresh.rule_count(), kube.rules());
}

/// Whether `fd` is readable within `ms` milliseconds.
fn readable(fd: std::os::fd::RawFd, ms: i32) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one pollfd we own.
    let rc = unsafe { libc::poll(&mut p, 1, ms) };
    rc == 1 && p.revents & libc::POLLIN != 0
}

/// A poll loop drives the watcher through its descriptor: readable exactly when there is
/// something to take, and quiet again once it is taken.
#[test]
fn a_poll_loop_drives_the_watcher_through_its_descriptor() {
    use std::os::fd::AsRawFd;
    let ns = Netns::new("wpoll");
    ns.nft_load("table ip t {\n chain c {\n type filter hook input priority 0;\n }\n}\n");
    let opts = WatchOptions {
        legacy_poll: None,
        ..WatchOptions::default()
    };
    let mut w = Watcher::start_in_netns(ns.name(), opts).expect("start watch");
    let fd = w.as_raw_fd();
    assert!(!readable(fd, 0), "readable before any change");
    ns.ok("nft", &["add", "rule", "ip", "t", "c", "counter", "accept"]);
    // A hang guard, not a bound: the kernel's event is normally there at once.
    assert!(
        readable(fd, 120_000),
        "the change never made the descriptor readable"
    );
    let mut got = Vec::new();
    while let Some(ev) = w.next_timeout(Some(Duration::ZERO)).expect("watch") {
        got.push(ev);
    }
    assert!(
        matches!(got.as_slice(), [Event::Transaction(t)] if t.changes.iter().any(|c| matches!(c, Change::NewRule(..)))),
        "{got:?}"
    );
    assert!(
        !readable(fd, 0),
        "still readable after everything was taken"
    );
}

/// A rule prints the same in every output: `dump --format iptables-save`, the JSON's
/// `iptables`, and a watch record (`-p gre`: 1.8.9 names the protocol, 1.8.10 prints `-p 47`).
#[test]
fn a_rule_prints_the_same_in_dump_json_and_watch() {
    let ns = Netns::new("wsame");
    let ipt = Writer::get("bookworm").tool("iptables-nft");
    ns.ok(&ipt, &["-A", "INPUT", "-j", "ACCEPT"]);
    let opts = WatchOptions {
        legacy_poll: None,
        ..WatchOptions::default()
    };
    let mut w = Watcher::start_in_netns(ns.name(), opts).expect("start watch");
    ns.ok(&ipt, &["-A", "INPUT", "-p", "gre", "-j", "ACCEPT"]);
    let Event::Transaction(tx) = next(&mut w) else {
        panic!("not a transaction")
    };
    let watched = tx
        .records
        .iter()
        .find_map(|r| r.rule.as_ref().and_then(|t| t.iptables.clone()))
        .expect("a record with the rule");
    let out = ns.nfscope(&["dump", "--format", "iptables-save"]);
    let save = String::from_utf8_lossy(&out.stdout);
    let dumped = save
        .lines()
        .find(|l| l.contains("gre"))
        .unwrap_or_else(|| panic!("{save}"));
    let out = ns.nfscope(&["dump", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let json = v["nftables"]["tables"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|t| t["chains"].as_array().into_iter().flatten())
        .flat_map(|c| c["rules"].as_array().into_iter().flatten())
        .filter_map(|r| r["iptables"].as_str())
        .find(|l| l.contains("-p"))
        .expect("the rule in the JSON")
        .to_string();
    assert_eq!(dumped, "-A INPUT -p gre -j ACCEPT");
    assert_eq!(watched, dumped);
    assert_eq!(json, dumped);
}

/// Every transaction's records, from a watcher that hands large transactions over in parts:
/// the parts of one transaction concatenated, with their part numbers checked.
fn whole(w: &mut Watcher, max: usize) -> Vec<serde_json::Value> {
    let mut out = vec![];
    let mut part = 0;
    loop {
        let Event::Transaction(t) = next(w) else {
            panic!("expected a transaction")
        };
        assert_eq!(t.part, part, "parts come in order");
        assert!(
            t.records.len() <= max || part == 0 && !t.more,
            "{} records",
            t.records.len()
        );
        out.extend(
            t.records
                .iter()
                .map(|r| serde_json::to_value(r).expect("json")),
        );
        if !t.more {
            return out;
        }
        part += 1;
    }
}

/// A transaction handed over in parts (`WatchOptions::parts`) gives exactly the records, in
/// the same order, that it gives whole: additions, replacements (paired by meaning, label
/// and position), removals of rules whose text comes from the view before (anonymous sets
/// deleted with their rule), chains, tables, sets and their elements.
#[test]
fn a_transaction_in_parts_gives_the_same_records_as_whole() {
    let ns = Netns::new("wparts");
    let max = 7;
    let mut whole_w =
        Watcher::start_in_netns(ns.name(), WatchOptions::default()).expect("start watch");
    let mut parts_w = Watcher::start_in_netns(
        ns.name(),
        WatchOptions {
            parts: Some(max),
            ..WatchOptions::default()
        },
    )
    .expect("start watch");
    let kube = nfscope_tests::kube::Kube::new(12, 2);
    let text = kube.restore_text();
    // A restore changed here and there: some rules replaced, some gone, a new one.
    let mut changed: Vec<String> = text
        .lines()
        .enumerate()
        .filter(|(i, l)| !(i % 17 == 3 && l.starts_with("-A")))
        .map(|(i, l)| {
            if i % 11 == 5 && l.starts_with("-A") {
                l.replace(" -j ", " -m mark --mark 0x4000/0x4000 -j ")
            } else {
                l.to_string()
            }
        })
        .collect();
    let last = changed.iter().rposition(|l| l == "COMMIT").expect("COMMIT");
    changed.insert(last, "-A KUBE-SERVICES -s 10.9.9.9/32 -j RETURN".into());
    let changed = changed.join("\n") + "\n";
    let steps: Vec<Box<dyn Fn()>> = vec![
        Box::new(|| {
            ns.run_stdin("iptables-nft-restore", &[], &text);
        }),
        Box::new(|| {
            ns.run_stdin("iptables-nft-restore", &[], &changed);
        }),
        Box::new(|| {
            ns.run_stdin("iptables-nft-restore", &[], &text);
        }),
        Box::new(|| {
            ns.nft_load("table inet t {\n set s { type ipv4_addr; }\n chain c {\n tcp dport { 22, 80, 443 } accept\n ip saddr @s drop\n tcp dport 8080 counter accept\n udp dport { 53, 5353 } drop\n ip daddr 10.0.0.1 drop\n ip daddr 10.0.0.2 drop\n ip daddr 10.0.0.3 drop\n ip daddr 10.0.0.4 drop\n }\n}\nadd element inet t s { 10.0.0.1, 10.0.0.2 }\n")
        }),
        Box::new(|| {
            ns.nft_load("flush chain inet t c\nadd rule inet t c tcp dport { 22, 443 } accept\nadd rule inet t c ip daddr 10.0.0.3 drop\nadd element inet t s { 10.0.0.3 }\ndelete element inet t s { 10.0.0.1 }\n")
        }),
        Box::new(|| ns.nft_load("delete table inet t\n")),
        Box::new(|| {
            ns.ok("iptables-nft", &["-t", "nat", "-F"]);
        }),
    ];
    for (i, step) in steps.iter().enumerate() {
        step();
        // A step may commit more than one transaction: all of them, up to the kernel's
        // current generation.
        let all = |w: &mut Watcher, max| {
            let generation = w.snapshot().expect("snapshot").generation;
            let mut out = whole(w, max);
            while w.state().generation != generation {
                out.extend(whole(w, max));
            }
            out
        };
        let a = all(&mut whole_w, usize::MAX);
        let b = all(&mut parts_w, max);
        assert!(!a.is_empty(), "step {i}: no records");
        assert_eq!(a.len(), b.len(), "step {i}");
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x, y, "step {i}");
        }
        assert_eq!(shape(whole_w.state()), shape(parts_w.state()), "step {i}");
    }
    let fresh = parts_w.snapshot().expect("snapshot");
    assert_eq!(shape(parts_w.state()), shape(&fresh));
}
