//! Legacy arp_tables against the real kernel: rules written by `arptables-legacy` (Debian's
//! arptables 0.0.5), read by nfscope, compared with `arptables-legacy-save` byte for byte; counters
//! with the `-L -v -x` listing and by a round trip through `arptables-legacy-restore`; the CLI's
//! `dump` in every format with both backends; watch records for a changed arp rule.
//!
//! Debian's `arptables-legacy-save` / `-restore` are Perl scripts that run `/usr/sbin/arptables`,
//! which the iptables package's alternative points at arptables-nft (priority 20 against
//! arptables' 10; installing arptables leaves it so). The oracle is that script with its tool path
//! pointed at `arptables-legacy` (what it runs where the alternative points there), written to a
//! temporary file: the alternatives themselves are never changed.

use nfscope::legacy;
use nfscope::render::arptables::legacy_save;
use nfscope::render::iptables::SaveOptions;
use nfscope::wire::xt::entry::Family;
use nfscope_tests::{assert_same_lines, Netns};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Debian's `arptables-legacy-save` or `-restore` script, run through `arptables-legacy`.
fn script(which: &str) -> PathBuf {
    let src = format!("/usr/sbin/arptables-legacy-{which}");
    let text = std::fs::read_to_string(&src).unwrap_or_else(|e| panic!("read {src}: {e}"));
    let patched = text.replace(
        "my $tool = \"/usr/sbin/arptables\";",
        "my $tool = \"/usr/sbin/arptables-legacy\";",
    );
    assert!(
        patched.contains("/usr/sbin/arptables-legacy\""),
        "{src} does not name its tool as expected"
    );
    let path = std::env::temp_dir().join(format!(
        "nfscope-arptables-legacy-{which}-{}",
        std::process::id()
    ));
    std::fs::write(&path, patched).expect("write script");
    path
}

fn oracle(ns: &Netns) -> String {
    let s = script("save");
    ns.ok("perl", &[s.to_str().expect("utf-8 path")])
}

fn ours(ns: &Netns, counters: bool) -> String {
    let rs = legacy::read_all_in_netns(ns.name()).expect("read legacy tables");
    legacy_save(&rs, SaveOptions { counters })
}

fn arpt(ns: &Netns, args: &[&str]) {
    ns.ok("arptables-legacy", args);
}

/// Every field of `arpt_arp`, inversions, masks, wildcards, policies, user chains (sorted
/// byte-wise by arptables), jumps, RETURN, a rule without target, the three targets with
/// options, preset counters (`-c`).
const RULES: &[&str] = &[
    "-N zeta",
    "-N Alpha",
    "-N _under",
    "-N alpha",
    "-P FORWARD DROP",
    "-A INPUT -s 10.0.0.0/8 -d 192.168.1.1 -i eth0 -j ACCEPT",
    "-A INPUT ! -s 10.1.2.3 ! -d 10.0.0.0/255.0.255.0 ! -i eth+ -j DROP",
    "-A INPUT -s 172.16.0.0/12 -d 0.0.0.0/1 -j ACCEPT -c 5 300",
    "-A INPUT ! -l 4/7 --src-mac 00:11:22:33:44:55 -j DROP",
    "-A INPUT --dst-mac ! 01:00:5e:00:00:00/ff:ff:ff:80:00:00 -j DROP",
    "-A INPUT ! --src-mac aa:bb:cc:dd:ee:ff/ff:ff:ff:00:00:00 --dst-mac 02:00:00:00:00:01 -j alpha",
    "-A INPUT -i arpb --opcode Request -j ACCEPT",
    "-A OUTPUT -o veth1234567890a --opcode 1 -j ACCEPT",
    "-A OUTPUT ! -o wg+ --opcode 2/255 ! --h-type 1 -j zeta",
    "-A OUTPUT -o arpa -j ACCEPT",
    "-A OUTPUT ! --opcode 3 --h-type Ethernet --proto-type ipv4 -j RETURN",
    "-A FORWARD --h-type 6/0xff0 --proto-type 0x800 -j Alpha",
    "-A FORWARD ! --proto-type 0x86dd/0xff00 -l 6 -j RETURN",
    "-A FORWARD -i br0 -o br0 -j DROP -c 18446744073709551615 1",
    "-A FORWARD -j ACCEPT -c 99999 100000",
    "-A zeta -j mangle -l 6 --mangle-ip-s 1.2.3.4 --mangle-mac-s 00:01:02:03:04:05 --mangle-ip-d 5.6.7.8 --mangle-mac-d 0a:0b:0c:0d:0e:0f --mangle-target DROP",
    "-A zeta -j mangle --mangle-ip-d 9.9.9.9 --mangle-target CONTINUE",
    "-A zeta -s 10.0.0.1 -j mangle --mangle-ip-s 1.1.1.1 --mangle-target ACCEPT",
    "-A Alpha -j CLASSIFY --set-class 1:10",
    "-A Alpha -j CLASSIFY --set-class ffff:0",
    "-A Alpha -j MARK --set-mark 0x1234",
    "-A Alpha -j MARK --and-mark ff",
    "-A Alpha -j MARK --or-mark 0x10",
    "-A alpha -i lo",
    "-A alpha -j RETURN",
    "-A _under --opcode 9 -j ACCEPT",
    "-A _under --opcode 10 -j ACCEPT",
];

fn write_rules(ns: &Netns, rules: &[&str]) {
    for r in rules {
        arpt(ns, &r.split(' ').collect::<Vec<_>>());
    }
}

/// ARP traffic inside the namespace: a veth pair `arpa`/`arpb`, and a datagram to an unknown
/// neighbour on `arpa`'s subnet, so that ARP requests leave `arpa` (OUTPUT) and reach `arpb`
/// (INPUT). Waits until a rule counter moved.
fn arp_traffic(ns: &Netns) {
    ns.ok(
        "ip",
        &[
            "link", "add", "arpa", "type", "veth", "peer", "name", "arpb",
        ],
    );
    ns.ok("ip", &["addr", "add", "10.77.0.1/24", "dev", "arpa"]);
    ns.ok("ip", &["link", "set", "arpa", "up"]);
    ns.ok("ip", &["link", "set", "arpb", "up"]);
    for _ in 0..50 {
        nfscope::netns::run_in(ns.name(), || {
            let s = std::net::UdpSocket::bind("10.77.0.1:0").expect("bind");
            let _ = s.send_to(b"nfscope", "10.77.0.9:9");
        })
        .expect("netns");
        std::thread::sleep(std::time::Duration::from_millis(100));
        let listing = ns.ok("arptables-legacy", &["-L", "OUTPUT", "-n", "-v", "-x"]);
        if listing.contains("-o arpa") && !listing.contains("-o arpa , pcnt=0 ") {
            // No more ARP probes: the counters stay put while they are compared.
            ns.ok("ip", &["link", "del", "arpa"]);
            return;
        }
    }
    panic!("no ARP request counted on arpa");
}

/// Per chain, the rule counters of `arptables-legacy -L -n -v` (`, pcnt=P -- bcnt=B`); `None`
/// for a number arptables abbreviates (`100K`: arptables 0.0.5 ignores `-x`).
type Listed = BTreeMap<String, Vec<(Option<u64>, Option<u64>)>>;
fn listed_counters(ns: &Netns) -> Listed {
    let mut out: Listed = BTreeMap::new();
    let mut chain = String::new();
    for l in ns.ok("arptables-legacy", &["-L", "-n", "-v", "-x"]).lines() {
        if let Some(rest) = l.strip_prefix("Chain ") {
            chain = rest.split(' ').next().unwrap_or("").to_string();
            out.entry(chain.clone()).or_default();
        } else if let Some((_, c)) = l.rsplit_once(", pcnt=") {
            let (p, b) = c.trim_end().split_once(" -- bcnt=").expect("bcnt");
            out.entry(chain.clone())
                .or_default()
                .push((p.parse().ok(), b.parse().ok()));
        }
    }
    out
}

/// The `-L -n -v` listing with the policy counters cut (they have no place in save text).
fn listing_without_policy_counters(ns: &Netns) -> String {
    ns.ok("arptables-legacy", &["-L", "-n", "-v"])
        .lines()
        .map(|l| match l.split_once(" (policy ") {
            Some((head, p)) => format!(
                "{head} (policy {})\n",
                p.split(' ').next().unwrap_or_default()
            ),
            None => format!("{l}\n"),
        })
        .collect()
}

#[test]
fn arp_rules_match_arptables_legacy_save() {
    let ns = Netns::new("arpt");
    write_rules(&ns, RULES);
    arp_traffic(&ns);
    let theirs = oracle(&ns);
    assert!(theirs.starts_with("*filter\n:INPUT ACCEPT\n:OUTPUT ACCEPT\n:FORWARD DROP\n"));
    assert_eq!(
        theirs.lines().filter(|l| l.starts_with("-A ")).count(),
        RULES.iter().filter(|r| r.starts_with("-A ")).count()
    );
    assert_same_lines("arptables-legacy-save", &ours(&ns, false), &theirs);

    // Counters: every rule's, as arptables lists them (where it prints the number itself)...
    let rs = legacy::read_all_in_netns(ns.name()).expect("read");
    let listed = listed_counters(&ns);
    let (mut compared, mut moved) = (0, 0);
    for c in &rs.tables[0].chains {
        let l = &listed[&c.name];
        assert_eq!(l.len(), c.rules.len(), "{}", c.name);
        for (r, (p, b)) in c.rules.iter().zip(l) {
            for (ours, theirs) in [(r.counters.packets, p), (r.counters.bytes, b)] {
                if let Some(t) = theirs {
                    assert_eq!(ours, *t, "chain {} counters {:?}", c.name, r.counters);
                    compared += 1;
                }
            }
            if r.counters.packets != 0 && ![5, u64::MAX].contains(&r.counters.packets) {
                moved += 1;
            }
        }
    }
    assert!(moved >= 2, "traffic moved no rule counter: {listed:?}");
    // All but the two numbers arptables abbreviates (u64::MAX packets, 100000 bytes).
    let rules = RULES.iter().filter(|r| r.starts_with("-A ")).count();
    assert_eq!(compared, 2 * rules - 2, "counters compared");
    // ... and the counters text is the same lines with `-c PKTS BYTES ` after `-A CHAIN `.
    let mut at: BTreeMap<&str, usize> = BTreeMap::new();
    let want: String = theirs
        .lines()
        .map(|l| match l.strip_prefix("-A ") {
            Some(rest) => {
                let (chain, body) = rest.split_once(' ').expect("chain");
                let c = rs.tables[0]
                    .chains
                    .iter()
                    .find(|c| c.name == chain)
                    .expect("chain");
                let i = at.entry(chain).or_default();
                let k = c.rules.get(*i).expect("rule").counters;
                *i += 1;
                format!("-A {chain} -c {} {} {body}\n", k.packets, k.bytes)
            }
            None => format!("{l}\n"),
        })
        .collect();
    assert!(want.contains("-A INPUT -c 5 300 -j ACCEPT -s 172.16.0.0/12 -d 0.0.0.0/1 \n"));
    assert!(want.contains("-c 18446744073709551615 1 -j DROP -i br0 -o br0 \n"));
    assert_same_lines(
        "counters",
        &legacy_save(&rs, SaveOptions { counters: true }),
        &want,
    );

    // A rule without condition or target lists as an empty line, which the script skips: the
    // rule vanishes from its output. We keep it, as "-A CHAIN ".
    arpt(&ns, &["-I", "OUTPUT", "2"]);
    assert_same_lines("empty rule: theirs", &oracle(&ns), &theirs);
    let mine = ours(&ns, false);
    assert_eq!(
        mine.replacen("-A OUTPUT \n", "", 1),
        theirs,
        "empty rule: ours\n{mine}"
    );
}

/// The fields arptables-legacy itself restores from its listing (not `--h-type` above 9 or with
/// a mask, which it lists in decimal and parses as hex; not a `--proto-type` mask, listed
/// without its `0x`), preset counters up to u64::MAX, a rule without condition or target.
const ROUND_TRIP: &[&str] = &[
    "-N zeta",
    "-N Alpha",
    "-N alpha",
    "-P OUTPUT DROP",
    "-A INPUT -s 10.0.0.0/8 -d 192.168.1.1 -i eth0 -j ACCEPT -c 5 300",
    "-A INPUT ! -s 10.1.2.3 ! -d 10.0.0.0/255.0.255.0 ! -i eth+ -j DROP -c 18446744073709551615 1",
    "-A INPUT ! -l 4/7 --src-mac 00:11:22:33:44:55 -j DROP -c 123456789012 99999",
    "-A INPUT --dst-mac ! 01:00:5e:00:00:00/ff:ff:ff:80:00:00 -j alpha",
    "-A INPUT",
    "-A OUTPUT -o veth1234567890a --opcode 1 ! --h-type 1 -j ACCEPT",
    "-A OUTPUT ! -o wg+ --opcode 2/255 --proto-type 0x800 -j zeta",
    "-A FORWARD ! --proto-type 0x86dd -l 6 -j RETURN",
    "-A zeta -j mangle -l 6 --mangle-ip-s 1.2.3.4 --mangle-mac-s 00:01:02:03:04:05 --mangle-ip-d 5.6.7.8 --mangle-mac-d 0a:0b:0c:0d:0e:0f --mangle-target DROP",
    "-A zeta -j mangle --mangle-ip-d 9.9.9.9 --mangle-target CONTINUE",
    "-A Alpha -j CLASSIFY --set-class 1:10",
    "-A Alpha -j MARK --set-mark 0x1234",
    "-A Alpha -j MARK --and-mark ff",
    "-A Alpha -j MARK --or-mark 0x10",
    "-A alpha -i lo",
    "-A alpha -j RETURN",
];

/// Our counters text, restored by arptables-legacy-restore into another namespace, gives the
/// same rules and counters (read back by us exactly, listed by arptables identically).
#[test]
fn counters_text_restores_with_arptables_legacy_restore() {
    let ns = Netns::new("arpt");
    write_rules(&ns, ROUND_TRIP);
    let text = ours(&ns, true);
    assert!(text.contains("\n-A INPUT -c 0 0 \n"), "{text}");
    assert!(text.contains("-c 18446744073709551615 1 -j DROP"), "{text}");
    let copy = Netns::new("arpt");
    let restore = script("restore");
    let out = copy.run_stdin("perl", &[restore.to_str().expect("utf-8 path")], &text);
    assert!(!out.contains("ERROR"), "restore: {out}");
    assert_same_lines("our text after restore", &ours(&copy, true), &text);
    assert_same_lines(
        "arptables listing after restore",
        &listing_without_policy_counters(&copy),
        &listing_without_policy_counters(&ns),
    );
}

/// The arp part of `nfscope dump`, with an nf_tables arp table (arptables-nft) next to the
/// legacy one: `--backend legacy` is the save text alone, `--backend all` labels it, the nft
/// format keeps the nft arp table as `nft list ruleset` prints it and appends the legacy text,
/// JSON carries the arp tables with decoded targets and the both-backends finding.
#[test]
fn dump_shows_arp_legacy_tables_in_every_format() {
    let ns = Netns::new("arpt");
    arpt(
        &ns,
        &[
            "-A", "INPUT", "-s", "10.0.0.1", "--opcode", "1", "-j", "DROP",
        ],
    );
    arpt(
        &ns,
        &["-A", "OUTPUT", "-j", "mangle", "--mangle-ip-s", "10.0.0.9"],
    );
    let theirs = oracle(&ns);
    let run = |args: &[&str]| {
        let o = ns.nfscope(args);
        assert!(
            o.status.success(),
            "nfscope {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let legacy = run(&["dump", "--backend", "legacy", "--format", "iptables-save"]);
    assert_same_lines("--backend legacy", &legacy, &theirs);
    // Alone, the legacy part is not labelled.
    let all = run(&["dump", "--format", "iptables-save"]);
    assert_same_lines("--backend all, legacy only", &all, &theirs);
    let written = run(&[
        "dump",
        "--backend",
        "legacy",
        "--format",
        "iptables-save",
        "--show-writer",
    ]);
    assert!(
        written.contains(
            "-A INPUT -j DROP -s 10.0.0.1 --opcode 1  # written by arptables-legacy (certain)\n"
        ),
        "{written}"
    );

    // Now arp rules in nf_tables too.
    ns.run_stdin(
        "arptables-nft-restore",
        &[],
        "*filter\n:INPUT ACCEPT\n:OUTPUT ACCEPT\n:FORWARD ACCEPT\n-A INPUT -j ACCEPT -d 10.0.0.0/8\nCOMMIT\n",
    );
    let all = run(&["dump", "--format", "iptables-save"]);
    // each backend's text, labelled: arptables-nft-save's, then arptables-legacy-save's
    let nft_save: String = ns
        .ok("arptables-nft-save", &[])
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_same_lines(
        "--backend all, both",
        &all,
        &format!(
            "# nfscope: arp nf_tables backend (arptables-nft)\n{nft_save}# nfscope: arp legacy x_tables backend (arptables-legacy)\n{theirs}"
        ),
    );
    let nft_text = run(&["dump", "--backend", "nft"]);
    assert_same_lines(
        "nft text of the arp nf_tables table",
        &nft_text,
        &ns.ok("nft", &["list", "ruleset"]),
    );
    let text = run(&["dump"]);
    assert_eq!(
        text,
        format!(
            "# nfscope: nf_tables backend\n{nft_text}# nfscope: legacy x_tables backend (no nft form: shown as iptables-legacy-save / arptables-legacy-save print it)\n{theirs}"
        )
    );

    let v: Value = serde_json::from_str(&run(&["dump", "--format", "json"])).expect("json");
    assert!(
        v["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["id"] == "both_backends" && f["family"] == "arp"),
        "{}",
        v["findings"]
    );
    let t = &v["legacy"]["tables"][0];
    assert_eq!(
        (t["family"].as_str(), t["name"].as_str()),
        (Some("Arp"), Some("filter"))
    );
    let input = &t["chains"][0];
    assert_eq!(input["name"], "INPUT");
    let h = &input["rules"][0]["header"]["Arp"];
    assert_eq!(
        (h["src"].as_str(), h["smsk"].as_str()),
        (Some("10.0.0.1"), Some("255.255.255.255"))
    );
    assert_eq!(
        (h["arpop"].as_u64(), h["arpop_mask"].as_u64()),
        (Some(1), Some(0xffff))
    );
    let mangle = &t["chains"][1]["rules"][0]["target"]["Ext"];
    assert_eq!(mangle["name"], "mangle");
    assert_eq!(mangle["decoded"]["ArpMangle"]["src_ip"], "10.0.0.9");
}

/// A changed arp rule seen by the legacy poll: replaced, what it lost, and the alert.
#[test]
fn watch_records_for_a_changed_arp_rule() {
    let ns = Netns::new("arpt");
    arpt(&ns, &["-N", "guard"]);
    arpt(
        &ns,
        &["-A", "INPUT", "-i", "eth0", "--opcode", "1", "-j", "ACCEPT"],
    );
    let before = legacy::read_all_in_netns(ns.name()).expect("read");
    arpt(&ns, &["-R", "INPUT", "1", "-i", "eth0", "-j", "ACCEPT"]);
    arpt(
        &ns,
        &["-A", "guard", "-j", "mangle", "--mangle-ip-s", "1.2.3.4"],
    );
    arpt(&ns, &["-N", "extra"]);
    let after = legacy::read_all_in_netns(ns.name()).expect("read");
    let recs = nfscope::events::legacy_records(&before, &after);
    let kinds: Vec<(&str, &str, Option<&str>)> = recs
        .iter()
        .map(|r| (r.kind.as_str(), r.family.as_str(), r.chain.as_deref()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("rule_replaced", "arp", Some("INPUT")),
            ("chain_added", "arp", Some("extra")),
            ("rule_added", "arp", Some("guard")),
        ],
        "{recs:#?}"
    );
    let added = recs[2].rule.as_ref().expect("rule");
    assert_eq!(
        added.iptables.as_deref(),
        Some("-A guard -j mangle --mangle-ip-s 1.2.3.4 ")
    );
    let r = &recs[0];
    assert_eq!(r.backend, "legacy");
    assert_eq!(r.lost, ["--opcode 1"]);
    assert!(r.gained.is_empty());
    let alert = r.alert.as_ref().expect("alert");
    assert_eq!(
        (alert.kind.as_str(), alert.severity.as_str()),
        ("match_removed", "severe")
    );
    assert_eq!(
        r.after.as_ref().and_then(|t| t.iptables.as_deref()),
        Some("-A INPUT -j ACCEPT -i eth0 ")
    );
    // Reading the arp table again with no change gives no record.
    let again = legacy::read_all_in_netns(ns.name()).expect("read");
    assert!(nfscope::events::legacy_records(&after, &again).is_empty());
    assert_eq!(again.family(Family::Arp).count(), 1);
}

/// A real arp table blob damaged at every byte (three ways) never panics the walker, the
/// arptables renderer, the watch's rule parts or the JSON form.
#[test]
fn damaged_real_arp_blobs_never_panic_decode_or_render() {
    use nfscope::render::arptables::{rule_parts, save_table};
    use nfscope::wire::xt::entry::{Info, Table};
    let ns = Netns::new("arpt");
    write_rules(&ns, ROUND_TRIP);
    let (i, blob) = nfscope::netns::run_in(ns.name(), || legacy::read_raw(Family::Arp, "filter"))
        .expect("netns")
        .expect("read_raw");
    let info = Info::parse(Family::Arp, &i).expect("info");
    let t = Table::parse(Family::Arp, &info, &blob).expect("intact table");
    assert_eq!(t.chains.iter().map(|c| c.rules.len()).sum::<usize>(), 16);
    let (mut ok, mut err) = (0usize, 0usize);
    let mut b = blob.clone();
    for at in 40..blob.len() {
        for v in [0x00, 0xff, blob[at] ^ 0x80] {
            b[at] = v;
            match Table::parse(Family::Arp, &info, &b) {
                Ok(t) => {
                    let mut s = String::new();
                    save_table(&t, SaveOptions { counters: true }, &mut s);
                    for r in t.chains.iter().flat_map(|c| c.rules.iter()) {
                        let _ = rule_parts(&r);
                    }
                    serde_json::to_string(&t).expect("json");
                    ok += 1;
                }
                Err(_) => err += 1,
            }
        }
        b[at] = blob[at];
    }
    eprintln!("{ok} damaged arp variants parsed and rendered, {err} refused");
    assert!(err > 0 && ok > 0);
}
