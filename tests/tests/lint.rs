//! `nfscope lint` findings, each proven on a state built in a namespace with the real tools.
//! (both_backends and kube_chain_missing: tests/backends.rs; unconditional_drop and
//! lossy_for_older_iptables: tests/incident.rs.)

use nfscope_tests::writers::Writer;
use nfscope_tests::Netns;
use serde_json::Value;

fn findings(ns: &Netns) -> Vec<Value> {
    let o = ns.nfscope(&["lint", "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice::<Value>(&o.stdout)
        .expect("json")
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn ids(f: &[Value]) -> Vec<String> {
    f.iter()
        .filter_map(|x| x["id"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn ip_forward_is_read_in_the_namespace() {
    let ns = Netns::new("lfwd");
    ns.ok("sysctl", &["-qw", "net.ipv4.ip_forward=0"]);
    let f = findings(&ns);
    let fwd = f
        .iter()
        .find(|x| x["id"] == "ip_forward_off")
        .unwrap_or_else(|| panic!("{f:#?}"));
    assert_eq!(fwd["message"], "net.ipv4.ip_forward = 0");
    ns.ok("sysctl", &["-qw", "net.ipv4.ip_forward=1"]);
    assert!(!ids(&findings(&ns)).contains(&"ip_forward_off".to_string()));
}

#[test]
fn tables_older_iptables_refuse_or_that_mix_writers() {
    let ns = Netns::new("lmix");
    let (v187, v189) = (Writer::get("bullseye"), Writer::get("bookworm"));
    // nat: a native range (1.8.9) makes <=1.8.7 refuse the table.
    ns.ok(
        &v189.tool("iptables-nft"),
        &[
            "-t",
            "nat",
            "-A",
            "PREROUTING",
            "-p",
            "tcp",
            "--dport",
            "1000:2000",
            "-j",
            "RETURN",
        ],
    );
    // filter: 1.8.7's xt tcp next to 1.8.9's native mark.
    ns.ok(
        &v187.tool("iptables-nft"),
        &["-A", "INPUT", "-p", "tcp", "--dport", "80", "-j", "ACCEPT"],
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
    let f = findings(&ns);
    let refused = f
        .iter()
        .find(|x| x["id"] == "refused_by_older_iptables")
        .unwrap_or_else(|| panic!("{f:#?}"));
    assert_eq!(refused["location"], "ip nat");
    let mixed = f
        .iter()
        .find(|x| x["id"] == "mixed_writers")
        .unwrap_or_else(|| panic!("{f:#?}"));
    assert_eq!(mixed["location"], "ip filter");
    let msg = mixed["message"].as_str().unwrap_or("");
    assert!(msg.contains("<=1.8.7") && msg.contains(">=1.8.8"), "{msg}");
    let xt = f
        .iter()
        .find(|x| x["id"] == "xt_expressions")
        .unwrap_or_else(|| panic!("{f:#?}"));
    assert_eq!(xt["location"], "ip filter");
    // --fail-on: exit status 3 at warning level, 0 when only asked about critical ones.
    assert_eq!(
        ns.nfscope(&["lint", "--fail-on", "warning"]).status.code(),
        Some(3)
    );
    assert_eq!(
        ns.nfscope(&["lint", "--fail-on", "critical"]).status.code(),
        Some(0)
    );
}

#[test]
fn an_empty_legacy_table_created_by_a_read_is_reported() {
    let ns = Netns::new("lempty");
    assert!(!ids(&findings(&ns)).contains(&"empty_legacy_table".to_string()));
    // Merely listing a legacy table creates it.
    ns.ok("iptables-legacy", &["-t", "mangle", "-L", "-n"]);
    let f = findings(&ns);
    let e = f
        .iter()
        .find(|x| x["id"] == "empty_legacy_table")
        .unwrap_or_else(|| panic!("{f:#?}"));
    assert_eq!(e["location"], "legacy ip mangle");
}
