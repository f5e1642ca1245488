//! `nfscope blame` against the real writers: nft adds two rules, iptables-nft 1.8.9 adds
//! kubelet's KUBE-FIREWALL mark rule, iptables 1.8.7's save/restore rewrites it without the mark.
//! Blame names the 1.8.7 restore (comm, exe, command line) with what it lost, and nft for the
//! nft rules; the history is the source, so the answer survives kill -9 and a restart.

use nfscope_tests::daemon::{tmp, Daemon};
use nfscope_tests::writers::Writer;
use nfscope_tests::Netns;
use serde_json::Value;
use std::io::Write;
use std::path::Path;

/// `nfscope --netns NS blame ARGS --format json --file HISTORY`, parsed.
fn blame(ns: &Netns, history: &Path, args: &[&str]) -> Vec<Value> {
    let out = std::process::Command::new(nfscope_tests::nfscope_bin())
        .args(["--netns", ns.name(), "blame", "--format", "json", "--file"])
        .arg(history)
        .args(args)
        .output()
        .expect("run nfscope blame");
    assert!(
        out.status.success(),
        "blame failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    match serde_json::from_slice(&out.stdout).expect("blame json") {
        Value::Array(v) => v,
        v => panic!("not an array: {v}"),
    }
}

/// `nfscope --remote … blame ARGS` (the daemon's Blame RPC): its stdout.
fn remote_blame(d: &Daemon, args: &[&str]) -> Vec<u8> {
    let out = d.remote(&[&["blame"], args].concat());
    assert!(
        out.status.success(),
        "remote blame failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn array(json: &[u8]) -> Vec<Value> {
    match serde_json::from_slice(json).expect("blame json") {
        Value::Array(v) => v,
        v => panic!("not an array: {v}"),
    }
}

#[test]
fn blame_names_who_gave_each_rule_its_form() {
    let ns = Netns::new("blame");
    let dir = tmp("blame");
    let d = Daemon::start(&ns, &dir, &[]);
    let history = d.history();
    ns.nft_load(
        "table inet app {\n chain c {\n tcp dport 22 accept\n udp dport 53 accept\n }\n}\n",
    );
    let (v189, v187) = (Writer::get("bookworm"), Writer::get("bullseye"));
    nfscope_tests::writers::write_kubelet_firewall(&ns, &v189);
    let saved = ns.ok(&v187.tool("iptables-nft-save"), &[]);
    // The restore commits at COMMIT and then waits for the end of its input: keeping that open
    // until the change is recorded keeps the process alive while the daemon reads its exe and
    // command line from /proc (a process gone by then is recorded without them, `gone`).
    let mut restore = ns
        .command(&v187.tool("iptables-nft-restore"))
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("spawn iptables-nft-restore 1.8.7");
    let mut input = restore.stdin.take().expect("stdin");
    input
        .write_all(saved.as_bytes())
        .expect("write the saved rules");
    input.flush().expect("flush");
    d.until_recorded(1, |v| {
        v["type"] == "rule_replaced" && v["chain"] == "KUBE-FIREWALL"
    });
    drop(input);
    assert!(restore.wait().expect("wait").success(), "restore failed");
    // The daemon answers while it holds the history: the acceptance's remote form.
    let served = remote_blame(&d, &["--format", "json"]);
    let served_text = remote_blame(
        &d,
        &["--chain", "KUBE-FIREWALL", "--format", "iptables-save"],
    );
    // Every rule in both text formats: the daemon blames a full snapshot, embedded blame a
    // streamed one (chain by chain while the snapshot reads); they print the same.
    let served_nft = remote_blame(&d, &["--format", "nft"]);
    let served_save = remote_blame(&d, &["--format", "iptables-save"]);
    d.kill9();

    let check = |rules: &[Value]| {
        let fw: Vec<&Value> = rules
            .iter()
            .filter(|r| r["chain"] == "KUBE-FIREWALL")
            .collect();
        assert_eq!(fw.len(), 1, "{rules:#?}");
        let c = &fw[0]["change"];
        assert_eq!(c["type"], "rule_replaced", "{c:#}");
        assert_eq!(c["process"]["comm"], "iptables-nft-re", "{c:#}");
        let exe = c["process"]["exe"].as_str().unwrap_or_default();
        assert!(
            exe.starts_with(
                &*nfscope_tests::writers::root()
                    .join("bullseye")
                    .to_string_lossy()
            ),
            "exe {exe} is not iptables 1.8.7's"
        );
        assert!(
            c["process"]["cmdline"][0]
                .as_str()
                .is_some_and(|a| a.ends_with("iptables-nft-restore")),
            "{c:#}"
        );
        assert_eq!(
            c["lost"],
            serde_json::json!(["-m mark --mark 0x8000/0x8000"])
        );
        assert_eq!(c["alert"]["kind"], "match_removed");
        assert_eq!(
            fw[0]["iptables"],
            "-A KUBE-FIREWALL -m comment --comment \"kubernetes firewall for dropping marked packets\" -j DROP"
        );
        let app: Vec<&Value> = rules.iter().filter(|r| r["table"] == "app").collect();
        assert_eq!(app.len(), 2, "{rules:#?}");
        for r in app {
            assert_eq!(r["change"]["type"], "rule_added", "{r:#}");
            assert_eq!(r["change"]["process"]["comm"], "nft", "{r:#}");
            assert_eq!(r["writer"]["tool"], "nft", "{r:#}");
        }
    };
    let all = blame(&ns, &history, &[]);
    check(&all);
    // Remote and embedded print the same.
    assert_eq!(array(&served), all);
    let only = blame(&ns, &history, &["--chain", "KUBE-FIREWALL"]);
    assert!(only.iter().all(|r| r["chain"] == "KUBE-FIREWALL") && only.len() == 1);

    // After kill -9 and a restart, and a clean stop: the same answer.
    let mut d = Daemon::start(&ns, &dir, &[]);
    assert_eq!(array(&remote_blame(&d, &["--format", "json"])), all);
    d.stop();
    assert_eq!(blame(&ns, &history, &[]), all);

    // Text: the rule, then who gave it its form.
    let out = ns.nfscope(&[
        "blame",
        "--chain",
        "KUBE-FIREWALL",
        "--format",
        "iptables-save",
        "--file",
        &history.to_string_lossy(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text, String::from_utf8_lossy(&served_text));
    for (format, served) in [("nft", &served_nft), ("iptables-save", &served_save)] {
        let out = ns.nfscope(&[
            "blame",
            "--format",
            format,
            "--file",
            &history.to_string_lossy(),
        ]);
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("rule_added by nft (pid "),
            "{format}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(served),
            "{format}"
        );
    }
    assert!(
        text.contains("rule_replaced by iptables-nft-re (pid "),
        "{text}"
    );
    assert!(
        text.contains("lost: -m mark --mark 0x8000/0x8000; alert match_removed (severe)"),
        "{text}"
    );

    // A change made while the daemon was stopped: that rule is blamed on the gap, the others
    // keep their blame.
    ns.ok(
        "nft",
        &[
            "add", "rule", "inet", "app", "c", "tcp", "dport", "80", "drop",
        ],
    );
    let mut d = Daemon::start(&ns, &dir, &[]);
    d.until_recorded(1, |v| v["type"] == "gap" && v["gap"]["changes"] == 1);
    d.stop();
    let now = blame(&ns, &history, &[]);
    let new: Vec<&Value> = now
        .iter()
        .filter(|r| r["nft"].as_str().is_some_and(|t| t.contains("dport 80")))
        .collect();
    assert_eq!(new.len(), 1, "{now:#?}");
    let c = &new[0]["change"];
    assert_eq!(c["type"], "rule_added", "{c:#}");
    assert_eq!(c["attribution"], "none", "{c:#}");
    assert!(c.get("process").is_none(), "{c:#}");
    assert!(c["gap"]["down_ms"].is_i64(), "{c:#}");
    let rest: Vec<Value> = now.iter().filter(|r| *r != new[0]).cloned().collect();
    assert_eq!(rest, all, "the other rules keep their blame");
    let out = ns.nfscope(&[
        "blame",
        "--table",
        "app",
        "--file",
        &history.to_string_lossy(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("rule_added while nfscoped was down (between "),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Embedded blame reads the ruleset chain by chain and blames each chain as it comes, before
/// it knows whether its table holds an xt expression, which can change a rule's writer (in a
/// table not laid out as iptables-nft lays it out, xt elsewhere in the table makes a rule that
/// fits nft and iptables-nft alike presumably iptables-nft's). It prints what the daemon, which
/// blames a full snapshot, prints.
#[test]
fn streamed_blame_learns_the_tables_xt_fact_after_its_chains() {
    let ns = Netns::new("blamext");
    let dir = tmp("blamext");
    let mut d = Daemon::start(&ns, &dir, &[]);
    let history = d.history();
    let v189 = Writer::get("bookworm");
    let ipt = v189.tool("iptables-nft");
    // A base chain iptables never makes: the table is not iptables-shaped.
    ns.nft_load("table ip filter {\n chain odd {\n type filter hook input priority 10;\n }\n}\n");
    ns.ok(&ipt, &["-A", "INPUT", "-j", "ACCEPT"]);
    ns.ok(
        &ipt,
        &[
            "-A", "OUTPUT", "-m", "recent", "--name", "seen", "--set", "-j", "ACCEPT",
        ],
    );
    d.until_recorded(2, |v| v["type"] == "rule_added" && v["table"] == "filter");
    let served: Vec<(&str, Vec<u8>)> = ["nft", "iptables-save"]
        .into_iter()
        .map(|f| (f, remote_blame(&d, &["--format", f])))
        .collect();
    d.stop();
    for (format, served) in served {
        let out = ns.nfscope(&[
            "blame",
            "--format",
            format,
            "--file",
            &history.to_string_lossy(),
        ]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(text, String::from_utf8_lossy(&served), "{format}");
        // `-A INPUT -j ACCEPT`: its own bytes fit nft and iptables-nft; the table's xt
        // expression (in OUTPUT) tips it.
        let input = text
            .lines()
            .skip_while(|l| !l.contains("INPUT"))
            .nth(2)
            .unwrap_or_default();
        assert!(input.contains("writer iptables-nft"), "{format}: {text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
