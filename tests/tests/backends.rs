//! One view of both backends: iptables-legacy and iptables-nft rules side by side, as on
//! CentOS 8 or with calico's FELIX_IPTABLESBACKEND set differently from kube-proxy.

use nfscope_tests::Netns;
use serde_json::Value;

fn strip(s: &str) -> String {
    s.lines()
        .filter(|l| !l.starts_with("# Generated") && !l.starts_with("# Completed"))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn run(ns: &Netns, args: &[&str]) -> String {
    let o = ns.nfscope(args);
    assert!(
        o.status.success(),
        "nfscope {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn both_backends_are_shown_labelled_and_linted() {
    let ns = Netns::new("both");
    ns.run_stdin("iptables-legacy-restore", &[], "*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n:KUBE-MARK-DROP - [0:0]\n-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000\n-A PREROUTING -d 10.96.0.10/32 -p udp -m udp --dport 53 -j DNAT --to-destination 10.244.0.2:53\nCOMMIT\n");
    ns.run_stdin("iptables-nft-restore", &[], "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:KUBE-FIREWALL - [0:0]\n-A INPUT -j KUBE-FIREWALL\n-A KUBE-FIREWALL -m mark --mark 0x8000/0x8000 -j DROP\nCOMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o eth0 -j MASQUERADE\nCOMMIT\n");

    // Each backend alone: exactly what its own save tool prints.
    let nft = run(
        &ns,
        &["dump", "--backend", "nft", "--format", "iptables-save"],
    );
    let nft_real = String::from_utf8_lossy(&ns.run("iptables-nft-save", &[]).stdout).into_owned();
    nfscope_tests::assert_same_lines(
        "--backend nft",
        &nft,
        &strip(&nft_real).replace(
            "# Warning: iptables-legacy tables present, use iptables-legacy-save to see them\n",
            "",
        ),
    );
    let legacy = run(
        &ns,
        &["dump", "--backend", "legacy", "--format", "iptables-save"],
    );
    nfscope_tests::assert_same_lines(
        "--backend legacy",
        &legacy,
        &strip(&ns.ok("iptables-legacy-save", &[])),
    );

    // Both: labelled parts.
    let all = run(&ns, &["dump", "--format", "iptables-save"]);
    assert!(
        all.contains("# nfscope: ip nf_tables backend (iptables-nft)\n"),
        "{all}"
    );
    assert!(
        all.contains("# nfscope: ip legacy x_tables backend (iptables-legacy)\n"),
        "{all}"
    );
    assert!(
        all.contains("-A KUBE-MARK-DROP -j MARK --set-xmark 0x8000/0x8000")
            && all.contains("-A KUBE-FIREWALL -m mark --mark 0x8000/0x8000 -j DROP")
    );

    let v: Value = serde_json::from_str(&run(&ns, &["dump", "--format", "json"])).expect("json");
    assert_eq!(v["findings"][0]["id"], "both_backends");
    assert_eq!(v["findings"][0]["family"], "ip");
    assert!(v["legacy"]["tables"]
        .as_array()
        .is_some_and(|t| !t.is_empty()));
    // Every nf_tables rule of an ip table carries its iptables line, nft text, writer and compat.
    let rule = &v["nftables"]["tables"][0]["chains"]
        .as_array()
        .expect("chains")
        .iter()
        .find(|c| c["name"] == "KUBE-FIREWALL")
        .expect("chain")["rules"][0];
    assert_eq!(
        rule["iptables"],
        "-A KUBE-FIREWALL -m mark --mark 0x8000/0x8000 -j DROP"
    );
    assert_eq!(rule["writer"]["tool"], "iptables-nft");
    // Per chain and per table: rules by writer.
    let filter = v["nftables"]["tables"]
        .as_array()
        .expect("tables")
        .iter()
        .find(|t| t["name"] == "filter")
        .expect("filter");
    assert!(
        filter["writers"].as_object().is_some_and(|w| w
            .values()
            .filter_map(Value::as_u64)
            .sum::<u64>()
            == 2),
        "{:#}",
        filter["writers"]
    );
    assert_eq!(rule["compat"][0]["outcome"], "lossy");
    assert!(
        rule["nft"]
            .as_str()
            .is_some_and(|s| s.contains("0x00008000")),
        "{rule:#}"
    );

    let lint: Value = serde_json::from_str(&run(&ns, &["lint", "--json"])).expect("json");
    let ids: Vec<&str> = lint
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["id"].as_str())
        .collect();
    assert!(ids.contains(&"both_backends"), "{ids:?}");
    assert!(ids.contains(&"kube_chain_missing"), "{ids:?}");
    let messages: Vec<&str> = lint
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["id"] == "kube_chain_missing")
        .filter_map(|f| f["message"].as_str())
        .collect();
    assert!(
        messages.contains(&"KUBE-MARK-DROP exists in legacy but not in nf_tables"),
        "{messages:?}"
    );
    assert!(
        messages.contains(&"KUBE-FIREWALL exists in nf_tables but not in legacy"),
        "{messages:?}"
    );
}

#[test]
fn reading_all_backends_creates_no_legacy_table() {
    let ns = Netns::new("nocreate");
    for args in [
        &["dump", "--backend", "all"][..],
        &["dump", "--format", "iptables-save"],
        &["lint"],
        &["dump", "--format", "json"],
    ] {
        run(&ns, args);
    }
    assert_eq!(ns.ok("cat", &["/proc/net/ip_tables_names"]), "");
    assert_eq!(ns.ok("cat", &["/proc/net/ip6_tables_names"]), "");
    let nft = ns.run("iptables-nft-save", &[]);
    assert!(!String::from_utf8_lossy(&nft.stderr).contains("legacy tables present"));
}

/// `stats --backend`: the legacy part counts what `iptables-legacy-save` prints, the nft part
/// what nft holds, and `--backend nft` leaves legacy out entirely.
#[test]
fn stats_counts_each_backend() {
    let ns = Netns::new("stats");
    ns.run_stdin("iptables-legacy-restore", &[], "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:KUBE-FW - [0:0]\n-A INPUT -p tcp -m tcp --dport 22 -m conntrack --ctstate NEW -j ACCEPT\n-A INPUT -j KUBE-FW\n-A KUBE-FW -m mark --mark 0x8000/0x8000 -j DROP\n-A OUTPUT -j LOG --log-prefix \"out \"\nCOMMIT\n*nat\n:PREROUTING ACCEPT [0:0]\n:INPUT ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:POSTROUTING ACCEPT [0:0]\n-A POSTROUTING -o eth0 -j MASQUERADE\nCOMMIT\n");
    ns.nft_load("table inet t {\n chain c {\n type filter hook input priority 0;\n tcp dport 80 accept\n }\n}\n");
    let v: Value = serde_json::from_str(&run(&ns, &["stats", "--json"])).expect("json");
    let l = &v["legacy"];
    let saved = ns.ok("iptables-legacy-save", &[]);
    let rules = saved.lines().filter(|x| x.starts_with("-A ")).count() as u64;
    assert_eq!(l["total"]["rules"], rules, "{v}");
    assert_eq!(l["total"]["matches"], 3, "{v}"); // tcp, conntrack, mark
    assert_eq!(l["total"]["targets"], 2, "{v}"); // LOG, MASQUERADE
    assert_eq!(l["total"]["unknown"], 0, "{v}");
    assert_eq!(l["extensions_by_name"]["-m conntrack"], 1, "{v}");
    assert_eq!(v["counts"]["total"]["rules"], 1, "{v}");
    let only_nft: Value =
        serde_json::from_str(&run(&ns, &["stats", "--json", "--backend", "nft"])).expect("json");
    assert!(only_nft.get("legacy").is_none(), "{only_nft}");
    let only_legacy: Value =
        serde_json::from_str(&run(&ns, &["stats", "--json", "--backend", "legacy"])).expect("json");
    assert!(only_legacy.get("counts").is_none(), "{only_legacy}");
    assert_eq!(only_legacy["legacy"]["total"]["rules"], rules);
    let text = run(&ns, &["stats", "--backend", "legacy"]);
    assert!(
        text.contains("legacy (x_tables):") && text.contains("-m mark"),
        "{text}"
    );
}
