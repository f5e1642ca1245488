//! nfscoped's metrics with the real Prometheus tools: the scrape is valid text exposition
//! format for any table name (`promtool check metrics`) and counts both backends; a Prometheus
//! server scraping three daemons ("nodes") finds, with one PromQL query, the node where iptables
//! 1.8.7's save/restore turned kubelet's mark rule into an unconditional DROP; the alert rules in
//! deploy/ pass `promtool check rules` and fire there.

use nfscope_tests::daemon::{free_port, http_get, Daemon, TempDir};
use nfscope_tests::writers::{self, Writer};
use nfscope_tests::Netns;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A generous bound on waits for something that should happen: a hang guard, not a speed test.
const PATIENCE: Duration = Duration::from_secs(120);

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// A child process (the Prometheus server) killed (SIGTERM, then SIGKILL) on drop, also when
/// the test fails.
struct Proc {
    child: Child,
    log: PathBuf,
}

impl Proc {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the pid of our own child, which has not been reaped yet.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// nfscoped watching `ns`, with its socket, history and log in `dir` and metrics on `port`,
/// once it serves them.
fn start_daemon(ns: &Netns, dir: &Path, port: u16) -> Daemon {
    let d = Daemon::start(ns, dir, &["--metrics", &format!("127.0.0.1:{port}")]);
    wait_for(&format!("nfscoped on :{port} to serve metrics"), || {
        get(port, "/metrics").map(|_| ()).ok_or_else(|| d.log())
    });
    d
}

/// `GET path` on 127.0.0.1:port: the body of a 200 answer, or None.
fn get(port: u16, path: &str) -> Option<String> {
    let out = http_get(port, path).ok()?;
    let (head, body) = out.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200")
        .then(|| body.to_string())
        .or_else(|| head.starts_with("HTTP/1.0 200").then(|| body.to_string()))
}

/// Retry `f` until it returns Ok or PATIENCE passes (then fail with its last error).
fn wait_for<T>(what: &str, mut f: impl FnMut() -> Result<T, String>) -> T {
    let end = Instant::now() + PATIENCE;
    loop {
        match f() {
            Ok(v) => return v,
            Err(e) if Instant::now() > end => panic!("gave up waiting for {what}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// `promtool ARGS` with `stdin`; its combined output, and whether it succeeded.
fn promtool(args: &[&str], stdin: &str) -> (bool, String) {
    let mut c = Command::new("promtool")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promtool (Debian package prometheus; scripts/test.sh installs it)");
    if let Some(mut i) = c.stdin.take() {
        i.write_all(stdin.as_bytes()).expect("stdin");
    }
    let o = c.wait_with_output().expect("promtool");
    (
        o.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

/// One sample of the scrape: the value of the line `name{labels} value`, labels as written.
fn value(scrape: &str, series: &str) -> Option<f64> {
    scrape
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// A table named with `"`, `\` and a newline (nft's JSON input takes any name the kernel does)
/// and a legacy x_tables rule: the scrape stays valid and counts both backends.
#[test]
fn scrape_is_valid_with_any_table_name_and_counts_legacy_rules() {
    let ns = Netns::new("promesc");
    let name = "we\"ird\\name\nx";
    let doc = serde_json::json!({"nftables": [
        {"add": {"table": {"family": "ip", "name": name}}},
        {"add": {"chain": {"family": "ip", "table": name, "name": "in",
            "type": "filter", "hook": "input", "prio": 0, "policy": "accept"}}},
        {"add": {"rule": {"family": "ip", "table": name, "chain": "in",
            "expr": [{"counter": null}, {"accept": null}]}}},
    ]});
    ns.run_stdin("nft", &["-j", "-f", "-"], &doc.to_string());
    let listed = ns.ok("nft", &["-j", "list", "tables"]);
    assert!(listed.contains(r#""we\"ird\\name\nx""#), "{listed}");
    ns.ok(
        "iptables-legacy",
        &["-A", "INPUT", "-s", "10.9.9.9", "-j", "DROP"],
    );
    ns.ok(
        "iptables-legacy",
        &["-A", "OUTPUT", "-d", "10.9.9.9", "-j", "DROP"],
    );

    let dir = TempDir::new("esc");
    let port = free_port();
    let d = start_daemon(&ns, &dir, port);
    let weird = r#"nfscope_rules{backend="nftables",family="ip",table="we\"ird\\name\nx"}"#;
    let legacy = r#"nfscope_rules{backend="legacy",family="ip",table="filter"}"#;
    let scrape = wait_for("the scrape to count both backends", || {
        let m = get(port, "/metrics").ok_or_else(|| d.log())?;
        match (value(&m, weird), value(&m, legacy)) {
            (Some(_), Some(_)) => Ok(m),
            _ => Err(m),
        }
    });
    let (ok, out) = promtool(&["check", "metrics"], &scrape);
    assert!(ok, "promtool check metrics: {out}\n{scrape}");
    assert_eq!(value(&scrape, weird), Some(1.0), "{scrape}");
    assert_eq!(value(&scrape, legacy), Some(2.0), "{scrape}");
    assert_eq!(
        value(
            &scrape,
            r#"nfscope_rules_by_writer{backend="legacy",family="ip",table="filter",tool="iptables-legacy",band="any"}"#
        ),
        Some(2.0),
        "{scrape}"
    );
    // The legacy rules sit next to nf_tables rules of the same family: lint says so.
    assert_eq!(
        value(
            &scrape,
            r#"nfscope_findings{id="both_backends",severity="critical",family="ip",table=""}"#
        ),
        Some(1.0),
        "{scrape}"
    );
}

/// The PrometheusRule's spec is the plain rules file, and both pass `promtool check rules`.
fn check_rule_files(tmp: &Path) -> PathBuf {
    let plain = repo_file("deploy/nfscope.rules.yml");
    let text = std::fs::read_to_string(&plain).expect("deploy/nfscope.rules.yml");
    let op = std::fs::read_to_string(repo_file("deploy/prometheusrule.yaml"))
        .expect("deploy/prometheusrule.yaml");
    let doc = op
        .split("\n---\n")
        .find(|d| d.contains("kind: PrometheusRule"))
        .expect("a PrometheusRule document");
    let spec: String = doc
        .split_once("\nspec:\n")
        .expect("spec:")
        .1
        .lines()
        .map(|l| format!("{}\n", l.strip_prefix("  ").unwrap_or(l)))
        .collect();
    let body = &text[text.find("groups:").expect("groups:")..];
    assert_eq!(
        spec.trim_end(),
        body.trim_end(),
        "prometheusrule.yaml's spec differs from nfscope.rules.yml"
    );
    let extracted = tmp.join("operator-rules.yml");
    std::fs::write(&extracted, &spec).expect("write");
    for f in [&plain, &extracted] {
        let (ok, out) = promtool(&["check", "rules", &f.to_string_lossy()], "");
        assert!(ok, "promtool check rules {}: {out}", f.display());
        assert!(out.contains("SUCCESS: 5 rules found"), "{out}");
    }
    plain
}

/// Prometheus's HTTP API: the result vector of an instant query.
fn query(port: u16, promql: &str) -> Result<Vec<serde_json::Value>, String> {
    let mut q = String::new();
    for b in promql.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            q.push(b as char);
        } else {
            q.push_str(&format!("%{b:02X}"));
        }
    }
    let body = get(port, &format!("/api/v1/query?query={q}")).ok_or("query failed")?;
    let v: serde_json::Value = serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))?;
    v["data"]["result"]
        .as_array()
        .cloned()
        .ok_or_else(|| body.clone())
}

/// The `node` label of each series of a result, sorted.
fn nodes(r: &[serde_json::Value]) -> Vec<String> {
    let mut n: Vec<String> = r
        .iter()
        .map(|s| s["metric"]["node"].as_str().unwrap_or("?").to_string())
        .collect();
    n.sort();
    n
}

/// Three nodes, kubelet's rule in all three, iptables 1.8.7's save/restore in one: Prometheus
/// names that node, and the deploy/ alert for critical findings is pending or firing there.
#[test]
fn prometheus_names_the_node_where_187_rewrote_kubelets_rule() {
    let tmp = TempDir::new("fleet");
    let rules = check_rule_files(&tmp);
    let v189 = Writer::get("bookworm");
    let v187 = Writer::get("bullseye");
    let names = ["node-a", "node-b", "node-c"];
    let nss: Vec<Netns> = names.iter().map(|n| Netns::new(n)).collect();
    let mut daemons = Vec::new();
    let mut targets = Vec::new();
    for (i, ns) in nss.iter().enumerate() {
        writers::write_kubelet_firewall(ns, &v189);
        let port = free_port();
        daemons.push(start_daemon(ns, &tmp.join(names[i]), port));
        targets.push(format!(
            "      - targets: ['127.0.0.1:{port}']\n        labels: {{node: {}}}\n",
            names[i]
        ));
    }
    let prom_port = free_port();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
rule_files: ['{}']\n\
scrape_configs:\n  - job_name: nfscoped\n    static_configs:\n{}",
        rules.display(),
        targets.concat()
    );
    let cfg = tmp.join("prometheus.yml");
    std::fs::write(&cfg, config).expect("config");
    let (ok, out) = promtool(&["check", "config", &cfg.to_string_lossy()], "");
    assert!(ok, "promtool check config: {out}");
    let log = tmp.join("prometheus.log");
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", cfg.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            tmp.join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("start prometheus (Debian package prometheus; scripts/test.sh installs it)");
    let prom = Proc { child, log };
    wait_for("prometheus to be ready", || {
        get(prom_port, "/-/ready").ok_or_else(|| prom.log())
    });

    // Before: every node is scraped, and lint sees the native mark rule an older iptables
    // would read lossily, but nothing critical.
    let lossy = r#"nfscope_findings{id="lossy_for_older_iptables",family="ip",table="filter"} > 0"#;
    wait_for("all three nodes up and scraped", || {
        let up = query(prom_port, r#"up{job="nfscoped"} == 1"#)?;
        let l = query(prom_port, lossy)?;
        if nodes(&up) == names && nodes(&l) == names {
            Ok(())
        } else {
            Err(format!("up: {up:?}\nlossy: {l:?}"))
        }
    });
    let critical = r#"nfscope_findings{id="unconditional_drop",severity="critical"} > 0"#;
    let before = query(prom_port, critical).expect("query");
    assert!(before.is_empty(), "{before:?}");

    // The incident on node-b: kube-router's iptables 1.8.7 saves and restores.
    writers::save_restore(&nss[1], &v187);

    let found = wait_for("Prometheus to name node-b", || {
        let r = query(prom_port, critical)?;
        if r.is_empty() {
            Err(format!(
                "nothing yet; node-b's daemon log:\n{}",
                daemons[1].log()
            ))
        } else {
            Ok(r)
        }
    });
    assert_eq!(nodes(&found), vec!["node-b".to_string()], "{found:?}");
    assert_eq!(found[0]["metric"]["family"], "ip", "{found:?}");
    assert_eq!(found[0]["metric"]["table"], "filter", "{found:?}");
    // The alert rule of deploy/ sees it too (pending for its `for:`, then firing).
    let alerts = wait_for("the NfscopeCriticalFinding alert", || {
        let r = query(prom_port, r#"ALERTS{alertname="NfscopeCriticalFinding"}"#)?;
        if r.is_empty() {
            Err("no alert yet".into())
        } else {
            Ok(r)
        }
    });
    assert_eq!(nodes(&alerts), vec!["node-b".to_string()], "{alerts:?}");
    drop(prom);
    drop(daemons);
}
