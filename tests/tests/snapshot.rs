//! The nf_tables snapshot against the real kernel: completeness (compared with what `nft -j`
//! reports), consistency under concurrent changes, the permission error, and that reading
//! changes nothing.

use nfscope::snapshot::{self, Options};
use nfscope_tests::Netns;
use serde_json::Value;

const RULESET: &str = r#"
table inet filter {
    set allowed { type ipv4_addr; elements = { 10.0.0.1, 10.0.0.2, 10.0.0.3 } }
    set nets { type ipv4_addr; flags interval; elements = { 10.0.0.0/8, 192.168.1.1 } }
    map ports { type inet_service : verdict; elements = { 22 : accept, 80 : drop } }
    counter c1 { packets 0 bytes 0 }
    quota q1 { over 100 mbytes }
    chain input {
        type filter hook input priority 0; policy drop;
        ct state established,related accept
        tcp dport { 22, 80, 443 } counter accept comment "web"
        ip saddr @allowed accept
        ip saddr @nets drop
        tcp dport vmap @ports
        meta mark & 0x8000 == 0x8000 drop
        counter name "c1"
        jump sub
    }
    chain sub {
        udp dport 53 accept
        return
    }
}
table ip nat {
    chain post {
        type nat hook postrouting priority 100; policy accept;
        oifname "eth0" masquerade
    }
}
table netdev ingress_t {
    chain ing {
        type filter hook ingress device "lo" priority 0; policy accept;
        ether type arp accept
    }
}
"#;

fn nft_json(ns: &Netns) -> Vec<Value> {
    let out = ns.ok("nft", &["-j", "list", "ruleset"]);
    let v: Value = serde_json::from_str(&out).expect("nft -j output is JSON");
    v["nftables"].as_array().cloned().unwrap_or_default()
}

#[test]
fn snapshot_has_everything_nft_reports() {
    let ns = Netns::new("snap");
    ns.nft_load(RULESET);
    let (rs, stats) = snapshot::take_in_netns(ns.name(), &Options::default()).expect("snapshot");
    assert_eq!(stats.attempts, 1);
    let items = nft_json(&ns);
    let count = |k: &str| items.iter().filter(|o| o.get(k).is_some()).count();
    assert_eq!(rs.tables.len(), count("table"));
    let chains: usize = rs.tables.iter().map(|t| t.chains.len()).sum();
    assert_eq!(chains, count("chain"));
    assert_eq!(rs.rule_count(), count("rule"));
    let named_sets: usize = rs
        .tables
        .iter()
        .flat_map(|t| &t.sets)
        .filter(|s| !s.is_anonymous())
        .count();
    assert_eq!(named_sets, count("set") + count("map"));
    let objects: usize = rs.tables.iter().map(|t| t.objects.len()).sum();
    assert_eq!(objects, count("counter") + count("quota"));
    // A plain (non-interval) set: same elements.
    let t = rs
        .table(nfscope::wire::nft::Family::Inet, "filter")
        .expect("inet filter");
    let allowed = t.set("allowed").expect("set allowed");
    assert_eq!(allowed.elements.len(), 3);
    let ports = t.set("ports").expect("map ports");
    assert!(ports
        .elements
        .iter()
        .all(|e| e.data.as_ref().and_then(|d| d.verdict()).is_some()));
    // Rule order and handles match nft's.
    let nft_handles: Vec<u64> = items
        .iter()
        .filter_map(|o| o.get("rule"))
        .filter(|r| r["chain"] == "input")
        .filter_map(|r| r["handle"].as_u64())
        .collect();
    let ours: Vec<u64> = t
        .chain("input")
        .expect("input")
        .rules
        .iter()
        .filter_map(|r| r.handle)
        .collect();
    assert_eq!(ours, nft_handles);
    // Every expression decoded (nothing unknown in an nft-written ruleset).
    let counts = nfscope::stats::count(&rs);
    assert_eq!(counts.total.unknown, 0, "{counts:?}");
    assert!(counts.total.expressions > 20);
}

#[test]
fn filters_limit_what_is_read() {
    let ns = Netns::new("filt");
    ns.nft_load(RULESET);
    let opts = Options {
        table: Some("filter".into()),
        chain: Some("sub".into()),
        ..Options::default()
    };
    let (rs, _) = snapshot::take_in_netns(ns.name(), &opts).expect("snapshot");
    assert_eq!(rs.tables.len(), 1);
    assert_eq!(rs.tables[0].chains.len(), 1);
    assert_eq!(rs.tables[0].chains[0].rules.len(), 2);
    let opts = Options {
        family: Some(nfscope::wire::nft::Family::Ip),
        ..Options::default()
    };
    let (rs, _) = snapshot::take_in_netns(ns.name(), &opts).expect("snapshot");
    assert_eq!(
        rs.tables.iter().map(|t| t.name()).collect::<Vec<_>>(),
        vec!["nat"]
    );
}

/// The text rendered while the rules are read (`output::nft_text`, what `nfscope dump` prints)
/// equals the full snapshot's, with every filter.
#[test]
fn streamed_text_equals_full_text_with_filters() {
    use nfscope::output::{self, Backend, DumpFormat};
    use nfscope::render::nft::XtStyle;
    let ns = Netns::new("strf");
    ns.nft_load(RULESET);
    let filters = [
        Options::default(),
        Options {
            table: Some("filter".into()),
            ..Options::default()
        },
        Options {
            table: Some("filter".into()),
            chain: Some("sub".into()),
            ..Options::default()
        },
        Options {
            chain: Some("post".into()),
            ..Options::default()
        },
        Options {
            family: Some(nfscope::wire::nft::Family::Netdev),
            ..Options::default()
        },
        Options {
            table: Some("absent".into()),
            ..Options::default()
        },
    ];
    for opts in filters {
        let streamed = output::nft_text(Some(ns.name()), &opts, XtStyle::Translate)
            .expect("streamed snapshot");
        let mut text = Vec::new();
        output::write_nft_text(&mut text, Some(&streamed), None, Backend::Nft).expect("write");
        let text = String::from_utf8(text).expect("utf-8");
        let (rs, _) = snapshot::take_in_netns(ns.name(), &opts).expect("snapshot");
        let nft_opts = nfscope::netns::run_in(ns.name(), nfscope::render::nft::NftOptions::local)
            .expect("netns");
        let full = output::dump(&rs, None, Backend::Nft, DumpFormat::Nft, &nft_opts);
        assert_eq!(text, full, "filter {opts:?}");
        let mut families: Vec<_> = rs
            .tables
            .iter()
            .filter(|t| t.chains.iter().any(|c| !c.rules.is_empty()))
            .map(|t| t.family)
            .collect();
        families.dedup();
        assert_eq!(streamed.families, families, "filter {opts:?}");
        // `nfscope stats` counts while reading, too: the same counts.
        let (counts, _) = nfscope::stats::take_counts(Some(ns.name()), &opts).expect("counts");
        let full = nfscope::stats::count(&rs);
        assert_eq!(
            serde_json::to_value(&counts).expect("json"),
            serde_json::to_value(&full).expect("json"),
            "filter {opts:?}"
        );
    }
}

/// A writer that keeps loading ruleset `a`, then `b` (`nft -f`, each a whole replacement) in
/// the namespace for 6 s, or until dropped.
struct Alternating {
    child: std::process::Child,
    dir: std::path::PathBuf,
}

impl Alternating {
    fn start(ns: &Netns, a: &str, b: &str) -> Alternating {
        let dir =
            std::env::temp_dir().join(format!("nfscope-{}-{}", ns.name(), std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp dir");
        let (fa, fb) = (dir.join("a.nft"), dir.join("b.nft"));
        std::fs::write(&fa, a).expect("write");
        std::fs::write(&fb, b).expect("write");
        // bash: dash has no $SECONDS (the loop would not run, and the test could not fail)
        let script = format!(
            "end=$((SECONDS+6)); while [ $SECONDS -lt $end ]; do nft -f {} && nft -f {}; done",
            fa.display(),
            fb.display()
        );
        let child = ns
            .command("bash")
            .args(["-c", &script])
            .spawn()
            .expect("writer");
        Alternating { child, dir }
    }
}

impl Drop for Alternating {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Text rendered while reading is dropped and read again when the ruleset changes meanwhile:
/// like the model, it always shows one generation.
#[test]
fn streamed_text_is_never_torn() {
    let ns = Netns::new("tornt");
    // Enough chains (the writer replaces all of them at once) that both sockets share them.
    let gen = |n: usize| {
        let mut s = String::from("flush ruleset\ntable ip t {\n");
        for c in 0..100 {
            s.push_str(&format!(" chain c{c} {{\n"));
            for i in 0..n {
                s.push_str(&format!(
                    "  ip saddr 10.{c}.{}.{} accept\n",
                    i / 250,
                    i % 250
                ));
            }
            s.push_str(" }\n");
        }
        s.push_str("}\n");
        s
    };
    ns.nft_load(&gen(20));
    let writer = Alternating::start(&ns, &gen(20), &gen(40));
    let (mut snapshots, mut retried) = (0, 0);
    let start = std::time::Instant::now();
    // At least 4 s of the writer and at least 6 snapshots, however slow the machine.
    while start.elapsed().as_secs() < 4 || snapshots < 6 {
        let opts = Options {
            max_attempts: 50,
            ..Options::default()
        };
        let st = nfscope::output::nft_text(
            Some(ns.name()),
            &opts,
            nfscope::render::nft::XtStyle::Translate,
        )
        .expect("streamed snapshot");
        let counts: Vec<usize> = st
            .chains
            .iter()
            .flatten()
            .flatten()
            .map(|c| c.rules)
            .collect();
        assert_eq!(
            counts.len(),
            100,
            "{:?} attempts {}",
            st.ruleset
                .tables
                .iter()
                .map(|t| (t.name().to_string(), t.chains.len()))
                .collect::<Vec<_>>(),
            st.stats.attempts
        );
        assert!(
            counts.iter().all(|n| *n == counts[0]) && (counts[0] == 20 || counts[0] == 40),
            "torn streamed snapshot: rules per chain {counts:?}"
        );
        snapshots += 1;
        if st.stats.attempts > 1 {
            retried += 1;
        }
    }
    drop(writer);
    eprintln!("{snapshots} streamed snapshots, {retried} needed a retry");
}

/// A writer keeps replacing two chains atomically with N rules each (N alternating); a
/// consistent snapshot always sees equal counts. A torn one would not.
#[test]
fn snapshot_is_never_torn() {
    let ns = Netns::new("torn");
    let gen = |n: usize| {
        let mut s = String::from("flush ruleset\ntable ip t {\n chain a {\n");
        for i in 0..n {
            s.push_str(&format!("  ip saddr 10.0.{}.{} accept\n", i / 250, i % 250));
        }
        s.push_str(" }\n chain b {\n");
        for i in 0..n {
            s.push_str(&format!("  ip daddr 10.1.{}.{} drop\n", i / 250, i % 250));
        }
        s.push_str(" }\n}\n");
        s
    };
    ns.nft_load(&gen(300));
    let writer = Alternating::start(&ns, &gen(300), &gen(600));
    let mut snapshots = 0;
    let mut retried = 0;
    let start = std::time::Instant::now();
    // At least 4 s of the writer and at least 6 snapshots, however slow the machine.
    while start.elapsed().as_secs() < 4 || snapshots < 6 {
        let opts = Options {
            max_attempts: 50,
            ..Options::default()
        };
        let (rs, st) = snapshot::take_in_netns(ns.name(), &opts).expect("snapshot");
        let t = rs
            .table(nfscope::wire::nft::Family::Ip, "t")
            .expect("table t");
        let a = t.chain("a").expect("a").rules.len();
        let b = t.chain("b").expect("b").rules.len();
        assert_eq!(a, b, "torn snapshot: chain a has {a} rules, b has {b}");
        assert!(a == 300 || a == 600, "{a}");
        snapshots += 1;
        if st.attempts > 1 {
            retried += 1;
        }
    }
    drop(writer);
    eprintln!("{snapshots} snapshots, {retried} needed a retry");
}

#[test]
fn reading_changes_nothing() {
    let ns = Netns::new("ro");
    // Empty namespace: reading creates nothing, and the generation does not move.
    let (rs, _) = snapshot::take_in_netns(ns.name(), &Options::default()).expect("snapshot");
    assert!(rs.tables.is_empty());
    let (rs2, _) = snapshot::take_in_netns(ns.name(), &Options::default()).expect("snapshot");
    assert_eq!(rs.generation, rs2.generation);
    assert_eq!(ns.ok("nft", &["list", "ruleset"]), "");
    assert_eq!(ns.ok("cat", &["/proc/net/ip_tables_names"]), "");
}

/// `nfscope ARGS` as user nobody, with no capabilities.
fn unprivileged(args: &[&str]) -> std::process::Output {
    std::process::Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
        ])
        .arg(nfscope_tests::nfscope_bin())
        .args(args)
        .output()
        .expect("run setpriv")
}

#[test]
fn unprivileged_user_gets_a_clear_error() {
    let ns = Netns::new("perm");
    let out = unprivileged(&["dump"]);
    drop(ns);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("root or CAP_NET_ADMIN"), "stderr: {err}");
}

/// A user who may not enter the namespace is told it is a permission problem, not a missing
/// namespace.
#[test]
fn unprivileged_user_entering_a_namespace_gets_a_permission_error() {
    let ns = Netns::new("permns");
    let out = unprivileged(&["--netns", ns.name(), "dump"]);
    drop(ns);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("permission denied"), "stderr: {err}");
    assert!(err.contains("CAP_SYS_ADMIN"), "stderr: {err}");
}

/// An error's cause is printed once, not once per layer that reports it.
#[test]
fn an_error_names_its_cause_once() {
    let out = std::process::Command::new(nfscope_tests::nfscope_bin())
        .args(["--netns", "/nonexistent/nfscope-test-ns", "dump"])
        .output()
        .expect("run nfscope");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.matches("No such file or directory").count(),
        1,
        "stderr: {err}"
    );
}

#[test]
fn cli_dump_json_and_stats() {
    let ns = Netns::new("cli");
    ns.nft_load(RULESET);
    let out = ns.nfscope(&["dump", "--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["nftables"]["tables"].as_array().map(|a| a.len()), Some(3));
    let out = ns.nfscope(&["stats", "--json"]);
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["counts"]["total"]["rules"], 12);
    assert_eq!(v["counts"]["total"]["unknown"], 0);
    // A netns that does not exist: a clear error, exit 1.
    let out = std::process::Command::new(nfscope_tests::nfscope_bin())
        .args(["--netns", "nfscope-no-such-ns", "dump"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nfscope-no-such-ns"));
}

/// `dump --format json` keeps the model's field order (the schema's order) on its own: no
/// `serde_json/preserve_order` in the build, so a `Value` would sort the keys. Corpus rulesets with
/// sets, maps, objects, flowtables and many families, and iptables-nft rules.
#[test]
fn json_fields_come_in_the_models_order() {
    let corpus = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus/nft");
    for f in ["03-sets-maps.nft", "06-objects.nft", "kube"] {
        let ns = Netns::new("json");
        if f == "kube" {
            ns.run_stdin(
                "iptables-nft-restore",
                &[],
                &nfscope_tests::kube::Kube::new(20, 2).restore_text(),
            );
        } else {
            let text = std::fs::read_to_string(corpus.join(f)).expect("corpus file");
            ns.run_stdin("nft", &["-f", "-"], &text);
        }
        let out = ns.nfscope(&["dump", "--format", "json"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{f}: {text}");
        // Parsed, the document holds what the library's `Value` form holds.
        let (rs, _) = snapshot::take_in_netns(ns.name(), &Options::default()).expect("snapshot");
        let parsed: Value = serde_json::from_str(&text).expect("json");
        let want = nfscope::json::document(&rs, &nfscope::render::nft::NftOptions::local());
        assert_eq!(
            parsed["nftables"]["tables"].as_array().map(Vec::len),
            want["nftables"]["tables"].as_array().map(Vec::len),
            "{f}"
        );
        // In the text, keys come in the model's order.
        let order = |keys: &[&str]| {
            let at: Vec<usize> = keys
                .iter()
                .map(|k| {
                    text.find(&format!("\"{k}\":"))
                        .unwrap_or_else(|| panic!("{f}: no {k}"))
                })
                .collect();
            assert!(
                at.windows(2).all(|w| w[0] < w[1]),
                "{f}: {keys:?} at {at:?}"
            );
        };
        assert!(
            text.trim_start().starts_with("{\n  \"schema_version\""),
            "{f}"
        );
        order(&["schema_version", "nftables", "findings"]);
        order(&[
            "generation",
            "tables",
            "family",
            "chains",
            "sets",
            "objects",
            "flowtables",
        ]);
        order(&["handle", "nft", "writer", "writers"]);
    }
}
