//! nfscoped end to end over its unix socket (and TLS), in namespaces: remote output equals
//! embedded output, the incident through the daemon, history across restarts and kill -9, a
//! slow subscriber that gets a resync while the others see every change, bad requests.

use nfscope_tests::daemon::{free_port, http_get, tmp, Daemon};
use nfscope_tests::writers::Writer;
use nfscope_tests::Netns;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const RULESET: &str = "table inet filter {\n set s { type ipv4_addr; elements = { 10.0.0.1 } }\n chain input { type filter hook input priority 0; policy accept;\n  ip saddr @s counter drop\n  tcp dport { 22, 80 } accept\n }\n}\n";

#[test]
fn remote_output_is_embedded_output() {
    let ns = Netns::new("dsame");
    ns.nft_load(RULESET);
    ns.ok(
        "iptables-nft",
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
    // xt expressions whose text depends on the style and on ipset names (read by the daemon
    // in its namespace)
    ns.ok("ipset", &["create", "web", "hash:ip"]);
    ns.ok(
        "iptables-nft",
        &[
            "-A",
            "INPUT",
            "-m",
            "set",
            "--match-set",
            "web",
            "src",
            "-m",
            "comment",
            "--comment",
            "blocked",
            "-j",
            "SET",
            "--add-set",
            "web",
            "dst",
        ],
    );
    let d = Daemon::start(&ns, &tmp("same"), &[]);
    for args in [
        &["dump"][..],
        &["dump", "--xt", "nft"],
        &["dump", "--format", "json"],
        &["dump", "--format", "json", "--xt", "nft"],
        &["dump", "--format", "iptables-save"],
        &["dump", "--table", "filter"],
        &["lint", "--json"],
    ] {
        let embedded = ns.nfscope(args);
        assert!(embedded.status.success());
        assert_eq!(
            d.ok(args),
            String::from_utf8_lossy(&embedded.stdout),
            "{args:?}"
        );
    }
    let text = d.ok(&["dump"]);
    assert!(
        text.contains("xt match set [--match-set web src] counter packets 0 bytes 0 xt target SET [--add-set web dst] comment \"blocked\""),
        "{text}"
    );
    let text = d.ok(&["dump", "--format", "iptables-save"]);
    assert!(
        text.contains("-A INPUT -m set --match-set web src -m comment --comment blocked -j SET --add-set web dst"),
        "{text}"
    );
    // A client that does not know the xt_style field gets what GetRuleset always returned:
    // nft 1.0.6's text.
    let nft_form = d.ok(&["dump", "--xt", "nft"]);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let old_client = rt.block_on(async {
        use nfscope_proto::v1 as pb;
        let mut c = d.client().await;
        c.get_ruleset(pb::GetRulesetRequest::default())
            .await
            .expect("get_ruleset")
            .into_inner()
            .text
    });
    assert_eq!(old_client, nft_form);
    // stats differ only in timing figures: compare the counts.
    let r: serde_json::Value = serde_json::from_str(&d.ok(&["stats", "--json"])).expect("json");
    let e: serde_json::Value =
        serde_json::from_slice(&ns.nfscope(&["stats", "--json"]).stdout).expect("json");
    assert_eq!(r["counts"], e["counts"]);
}

#[test]
fn bad_requests_get_clear_errors() {
    let ns = Netns::new("dbad");
    let d = Daemon::start(&ns, &tmp("bad"), &["--max-request-bytes", "4096"]);
    let long = "x".repeat(300);
    let o = d.remote(&["dump", "--table", &long]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not a valid nf_tables name"),
        "{o:?}"
    );
    let huge = "y".repeat(10_000);
    let o = d.remote(&["dump", "--chain", &huge]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr).to_lowercase();
    assert!(
        err.contains("too large") || err.contains("message length") || err.contains("exceed"),
        "{err}"
    );
    let o = Command::new(nfscope_tests::nfscope_bin())
        .args(["--remote", "unix:/nonexistent/sock", "dump"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is it running"));
    let o = Command::new(nfscope_tests::nfscope_bin())
        .args(["--remote", "ftp://x", "dump"])
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&o.stderr).contains("unix:PATH or https://"));
}

/// The incident through the daemon, then kill -9 and a restart: the history keeps it all.
#[test]
fn incident_through_the_daemon_and_history_survives_kill9() {
    let ns = Netns::new("dinc");
    let dir = tmp("inc");
    let d = Daemon::start(&ns, &dir, &[]);
    let mut watch = d
        .remote_command(&["watch", "--json", "--duration", "30"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("watch");
    let mut err = BufReader::new(watch.stderr.take().expect("stderr"));
    let mut first = String::new();
    err.read_line(&mut first).expect("read");
    assert!(first.contains("watching"), "{first}");
    let (v189, v187) = (Writer::get("bookworm"), Writer::get("bullseye"));
    nfscope_tests::writers::write_kubelet_firewall(&ns, &v189);
    nfscope_tests::writers::save_restore(&ns, &v187);
    let out = BufReader::new(watch.stdout.take().expect("stdout"));
    let mut found = None;
    for l in out.lines().map_while(Result::ok) {
        let v: serde_json::Value = serde_json::from_str(&l).expect("json line");
        if v["type"] == "rule_replaced" && v["chain"] == "KUBE-FIREWALL" {
            found = Some(v);
            break;
        }
    }
    let _ = watch.kill();
    let _ = watch.wait();
    let v = found.expect("rule_replaced through the daemon");
    assert_eq!(
        v["lost"],
        serde_json::json!(["-m mark --mark 0x8000/0x8000"])
    );
    assert_eq!(v["alert"]["kind"], "match_removed");
    assert_eq!(v["process"]["comm"], "iptables-nft-re");

    let before = d.ok(&["history", "--json"]);
    assert!(before.lines().count() >= 5, "{before}");
    d.kill9();
    let d = Daemon::start(&ns, &dir, &[]);
    let after = d.ok(&["history", "--json"]);
    // Kept whole, then the restart's gap marker: nothing changed while it was down.
    let (kept, marker) = after.rsplit_once('\n').map_or(("", ""), |(k, _)| {
        k.rsplit_once('\n').map_or(("", k), |(k, m)| (k, m))
    });
    assert_eq!(
        format!("{kept}\n"),
        before,
        "history changed across kill -9 and restart"
    );
    let marker: serde_json::Value = serde_json::from_str(marker).expect("marker");
    assert_eq!(marker["type"], "gap", "{after}");
    assert_eq!(marker["gap"]["changes"], 0, "{marker}");
    assert_eq!(marker["gap"]["clean"], false, "{marker}");
    let alerts = d.ok(&["history", "--alerts-only", "--json"]);
    assert_eq!(alerts.lines().count(), 1, "{alerts}");
    drop(d);
    // Embedded mode reads the same file once no daemon holds it.
    let o = Command::new(nfscope_tests::nfscope_bin())
        .args(["history", "--json", "--file"])
        .arg(dir.join("history.redb"))
        .output()
        .expect("run");
    assert_eq!(String::from_utf8_lossy(&o.stdout), after);
    let _ = std::fs::remove_dir_all(&dir);
}

fn openssl(args: &[&str], dir: &Path) {
    let o = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl");
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn tls_with_and_without_client_certificates() {
    let ns = Netns::new("dtls");
    ns.nft_load(RULESET);
    let dir = tmp("tls");
    openssl(
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=nfscope test CA",
        ],
        &dir,
    );
    std::fs::write(
        dir.join("ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .expect("ext");
    for who in ["server", "client"] {
        openssl(
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                &format!("{who}.key"),
                "-out",
                &format!("{who}.csr"),
                "-subj",
                &format!("/CN={who}"),
            ],
            &dir,
        );
        openssl(
            &[
                "x509",
                "-req",
                "-in",
                &format!("{who}.csr"),
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &format!("{who}.pem"),
                "-days",
                "2",
                "-extfile",
                "ext",
            ],
            &dir,
        );
    }
    let p = |f: &str| dir.join(f).to_string_lossy().into_owned();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let url = format!("https://localhost:{port}");
    let embedded = String::from_utf8_lossy(&ns.nfscope(&["dump"]).stdout).into_owned();
    let run = |extra: &[&str]| -> Output {
        Command::new(nfscope_tests::nfscope_bin())
            .args(["--remote", &url, "--tls-ca", &p("ca.pem")])
            .args(extra)
            .arg("dump")
            .output()
            .expect("run")
    };
    {
        let _d = Daemon::start(
            &ns,
            &dir.join("a"),
            &[
                "--tcp",
                &addr,
                "--tls-cert",
                &p("server.pem"),
                "--tls-key",
                &p("server.key"),
                "--tls-no-client-auth",
            ],
        );
        let o = run(&[]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(String::from_utf8_lossy(&o.stdout), embedded);
    }
    {
        let _d = Daemon::start(
            &ns,
            &dir.join("b"),
            &[
                "--tcp",
                &addr,
                "--tls-cert",
                &p("server.pem"),
                "--tls-key",
                &p("server.key"),
                "--tls-client-ca",
                &p("ca.pem"),
            ],
        );
        let o = run(&[]);
        assert!(
            !o.status.success(),
            "a client without certificate must be refused"
        );
        let o = run(&[
            "--tls-cert",
            &p("client.pem"),
            "--tls-key",
            &p("client.key"),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(String::from_utf8_lossy(&o.stdout), embedded);
    }
    // TCP without TLS is refused at start.
    let o = Daemon::command(
        &ns,
        &dir.join("x.sock"),
        &dir.join("h.redb"),
        &["--tcp", &addr],
    )
    .output()
    .expect("run");
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("TLS only"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Two 40k-rule restores (80k rule events) with three subscribers, one of which never reads: the two others see
/// every added rule, in order, while the slow one's pipe is full (so the daemon did not wait for
/// it), and the slow one falls out of the daemon's window and gets a resync marker. No time is
/// asserted; only a hang (nothing for `HUNG_AFTER`) fails it.
#[test]
fn a_slow_subscriber_gets_a_resync_and_blocks_nobody() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let ns = Netns::new("dslow");
    // A subscriber is behind when it is more than the window past the end of the transaction it
    // is in: the slow one, stuck in the first 40k burst, is 40k behind once the second comes.
    let d = Daemon::start(&ns, &tmp("slow"), &["--subscriber-window", "30000"]);
    let watch = |out: Stdio| {
        let mut c = d
            .remote_command(&[
                "watch",
                "--json",
                "--duration",
                &nfscope_tests::HUNG_AFTER.as_secs().to_string(),
            ])
            .stdout(out)
            .stderr(Stdio::piped())
            .spawn()
            .expect("watch");
        let mut err = BufReader::new(c.stderr.take().expect("stderr"));
        let mut first = String::new();
        err.read_line(&mut first).expect("read");
        assert!(first.contains("watching"));
        c
    };
    // The slow one: its stdout is a pipe nobody reads (yet), so it stops reading the stream.
    let mut slow = watch(Stdio::piped());
    // The fast ones: read from the start on their own threads.
    let counts: Vec<Arc<AtomicUsize>> = (0..2).map(|_| Arc::new(AtomicUsize::new(0))).collect();
    let n: usize = 40_000; // two bursts: the 80k of a kube-proxy-sized restore
                           // Each reader checks that its rule_added records are SVC-A's 10.1.x.y then SVC-B's 10.2.x.y,
                           // in the order written; the count is shared so the test can wait for the first burst.
    let readers: Vec<std::thread::JoinHandle<(usize, Vec<String>)>> = counts
        .iter()
        .map(|count| {
            let count = count.clone();
            let mut f = watch(Stdio::piped());
            std::thread::spawn(move || {
                let out = BufReader::new(f.stdout.take().expect("stdout"));
                let mut resyncs = Vec::new();
                for l in out.lines().map_while(Result::ok) {
                    let v: serde_json::Value = serde_json::from_str(&l).expect("json");
                    match v["type"].as_str() {
                        Some("rule_added") if v["chain"] == "INPUT" => break,
                        Some("rule_added") if resyncs.is_empty() => {
                            let i = count.load(Ordering::Relaxed);
                            let (chain, net, k) = if i < n {
                                ("SVC-A", 1, i)
                            } else {
                                ("SVC-B", 2, i - n)
                            };
                            let want = format!(
                                "-A {chain} -d 10.{net}.{}.{}/32 ",
                                (k >> 8) & 255,
                                k & 255
                            );
                            let got = v["rule"]["iptables"].as_str().unwrap_or_default();
                            assert!(
                                got.starts_with(&want),
                                "record {i}: {got:?}, expected {want:?}…"
                            );
                            count.fetch_add(1, Ordering::Relaxed);
                        }
                        Some("rule_added") => {
                            count.fetch_add(1, Ordering::Relaxed);
                        }
                        Some("resync") => resyncs.push(v["reason"].to_string()),
                        _ => {}
                    }
                }
                let _ = f.kill();
                let _ = f.wait();
                (count.load(Ordering::Relaxed), resyncs)
            })
        })
        .collect();
    let burst = |chain: &str, net: u32| {
        let mut text = format!("*filter\n:{chain} - [0:0]\n");
        for i in 0..n {
            text.push_str(&format!(
                "-A {chain} -d 10.{net}.{}.{}/32 -p tcp -m tcp --dport 80 -j ACCEPT\n",
                (i >> 8) & 255,
                i & 255
            ));
        }
        text.push_str("COMMIT\n");
        ns.run_stdin("iptables-nft-restore", &["--noflush"], &text);
    };
    let start = Instant::now();
    burst("SVC-A", 1);
    // Both fast readers take the first burst before the second comes.
    while counts.iter().any(|c| c.load(Ordering::Relaxed) < n) {
        if readers.iter().any(|r| r.is_finished()) {
            break; // a reader failed: its join below says why
        }
        assert!(
            start.elapsed() < nfscope_tests::HUNG_AFTER,
            "hung: fast subscribers never got the first burst"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    burst("SVC-B", 2);
    ns.ok("iptables-nft", &["-A", "INPUT", "-j", "ACCEPT"]);
    for r in readers {
        let (added, resyncs) = r.join().expect("reader");
        // The daemon never let a fast subscriber fall behind. Every added rule arrives as an
        // event, in order; only if the kernel itself dropped events does the daemon's resync
        // (not "fell behind") carry the rest.
        assert!(
            resyncs.iter().all(|r| !r.contains("fell behind")),
            "a fast subscriber fell behind: {resyncs:?}"
        );
        assert!(
            added == 2 * n || !resyncs.is_empty(),
            "fast subscriber saw {added} of {} additions and no resync",
            2 * n
        );
    }
    // Now read what the slow one got: a resync marker.
    let out = BufReader::new(slow.stdout.take().expect("stdout"));
    let mut saw_resync = false;
    for l in out.lines().map_while(Result::ok) {
        let v: serde_json::Value = serde_json::from_str(&l).expect("json");
        if v["type"] == "resync" {
            saw_resync = true;
            assert!(
                v["reason"].as_str().unwrap_or("").contains("fell behind"),
                "{v}"
            );
            break;
        }
    }
    let _ = slow.kill();
    let _ = slow.wait();
    assert!(saw_resync, "the slow subscriber got no resync marker");
}

/// Prometheus metrics: rules per table and writer, changes and alerts by kind, subscribers.
#[test]
fn metrics_count_rules_changes_and_alerts() {
    let ns = Netns::new("dmetrics");
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let d = Daemon::start(&ns, &tmp("metrics"), &["--metrics", &addr]);
    ns.ok(
        "iptables-nft",
        &["-A", "INPUT", "-m", "mark", "--mark", "0x1", "-j", "DROP"],
    );
    ns.ok("iptables-nft", &["-R", "INPUT", "1", "-j", "DROP"]);
    // A failed connection is retried like a scrape without the alert yet, and then fails the
    // status-line assertion with its error.
    let scrape = || http_get(port, "/metrics").unwrap_or_else(|e| format!("connect metrics: {e}"));
    let end = Instant::now() + nfscope_tests::HUNG_AFTER;
    let mut m = scrape();
    while !m.contains("nfscope_alerts_total{kind=\"match_removed\",severity=\"severe\"} 1")
        && Instant::now() < end
    {
        std::thread::sleep(Duration::from_millis(100));
        m = scrape();
    }
    assert!(m.starts_with("HTTP/1.1 200 OK"), "{m}");
    assert!(
        m.contains("nfscope_rules{backend=\"nftables\",family=\"ip\",table=\"filter\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("nfscope_changes_total{type=\"rule_added\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("nfscope_changes_total{type=\"rule_replaced\"} 1"),
        "{m}"
    );
    assert!(
        m.contains("nfscope_alerts_total{kind=\"match_removed\",severity=\"severe\"} 1"),
        "{m}"
    );
    assert!(m.contains("nfscope_subscribers 0"), "{m}");
    assert!(m.contains("nfscope_event_seconds_count 2"), "{m}");
    drop(d);
}

/// Watch can start with the whole ruleset, and replay history from a generation.
#[test]
fn watch_starts_with_the_ruleset_and_replays_from_a_generation() {
    let ns = Netns::new("dgen");
    let d = Daemon::start(&ns, &tmp("gen"), &[]);
    ns.ok(
        "iptables-nft",
        &["-A", "INPUT", "-s", "10.0.0.1", "-j", "DROP"],
    ); // generation 2
    ns.ok(
        "iptables-nft",
        &["-A", "INPUT", "-s", "10.0.0.2", "-j", "DROP"],
    ); // generation 3
    std::thread::sleep(Duration::from_millis(500));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut c = d.client().await;
        use nfscope_proto::v1 as pb;
        let mut s = c
            .watch(pb::WatchRequest {
                since_generation: 2,
                snapshot_format: pb::Format::Nft as i32,
                ..Default::default()
            })
            .await
            .expect("watch")
            .into_inner();
        let first = s.message().await.expect("stream").expect("event");
        let Some(pb::watch_event::Event::Snapshot(snap)) = first.event else {
            panic!("{first:?}")
        };
        assert_eq!(snap.generation, 3);
        assert!(snap.text.contains("ip saddr 10.0.0.2"), "{}", snap.text);
        // Replayed: only generation 3's rule.
        let next = s.message().await.expect("stream").expect("event");
        let Some(pb::watch_event::Event::Record(r)) = next.event else {
            panic!("{next:?}")
        };
        assert_eq!((r.generation, r.r#type.as_str()), (3, "rule_added"));
        assert!(r.rule.expect("rule").iptables.contains("10.0.0.2"));
    });
}

/// How a stream ended: its status code (`OK` when it ended without one).
async fn end_of<T>(mut s: tonic::Streaming<T>) -> String {
    loop {
        match s.message().await {
            Ok(Some(_)) => continue,
            Ok(None) => return "OK".into(),
            Err(e) => return format!("{:?}", e.code()),
        }
    }
}

/// SIGTERM with a tonic client's health Watch open (it never ends by itself): it sees
/// NOT_SERVING, then the stream ends with UNAVAILABLE, not cut (which a tonic client reports
/// as `Unknown`); a Watch stream likewise.
#[test]
fn sigterm_ends_a_health_watch_with_unavailable() {
    let ns = Netns::new("dhterm");
    ns.nft_load("table ip t {\n chain c {\n }\n}\n");
    let dir = tmp("hterm");
    let d = Daemon::start(&ns, &dir, &[]);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (health, watch) = rt.block_on(async {
        let mut c = d.client().await;
        let mut watch = c
            .watch(nfscope_proto::v1::WatchRequest::default())
            .await
            .expect("watch")
            .into_inner();
        watch.message().await.expect("start marker");
        let mut health = tonic_health::pb::health_client::HealthClient::new(d.channel().await)
            .watch(tonic_health::pb::HealthCheckRequest {
                service: String::new(),
            })
            .await
            .expect("health watch")
            .into_inner();
        let first = health.message().await.expect("health").expect("a status");
        assert_eq!(first.status, 1, "SERVING");
        let watch = tokio::spawn(end_of(watch));
        let health = tokio::spawn(async move {
            let mut seen = vec![];
            loop {
                match health.message().await {
                    Ok(Some(m)) => seen.push(m.status.to_string()),
                    Ok(None) => return (seen, "OK".to_string()),
                    Err(e) => return (seen, format!("{:?}", e.code())),
                }
            }
        });
        drop(d);
        (
            health.await.expect("health task"),
            watch.await.expect("watch task"),
        )
    });
    // 2: NOT_SERVING
    assert_eq!(health, (vec!["2".to_string()], "Unavailable".to_string()));
    assert_eq!(watch, "Unavailable");
    let _ = std::fs::remove_dir_all(&dir);
}

/// SIGTERM with a tonic client's Watch that replays many records and that the client does
/// not read: the daemon cannot send the final status (HTTP/2 flow control holds it behind the
/// data not read), so it resets the stream with REFUSED_STREAM, which gRPC clients report
/// as UNAVAILABLE; before, the connection was cut and the client saw `Unknown`. The records
/// sent before still arrive, in order. The daemon exits (how fast: `cargo xtask daemon-bench`).
#[test]
fn sigterm_ends_a_watch_that_does_not_read_with_unavailable() {
    let ns = Netns::new("dstall");
    let dir = tmp("stall");
    let mut d = Daemon::start(&ns, &dir, &[]);
    // About 8 MB of Watch events: more than the client's windows (2 MB a stream with hyper's
    // defaults) and the daemon's queue hold together.
    d.add_recorded_rules(&ns, 10_000);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (records, end) = rt.block_on(async {
        let mut c = d.client().await;
        let mut s = c
            .watch(nfscope_proto::v1::WatchRequest {
                since_id: 1,
                ..Default::default()
            })
            .await
            .expect("watch")
            .into_inner();
        s.message().await.expect("stream").expect("start marker");
        // Not read meanwhile: the daemon sends until the client's windows are full.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let st = d.stop();
        assert!(st.success(), "exit status {st}: {}", d.log());
        let mut ids = vec![];
        let end = loop {
            match s.message().await {
                Ok(Some(ev)) => {
                    if let Some(nfscope_proto::v1::watch_event::Event::Record(r)) = ev.event {
                        ids.push(r.id);
                    }
                }
                Ok(None) => break "OK".to_string(),
                Err(e) => break format!("{:?}", e.code()),
            }
        };
        (ids, end)
    });
    assert_eq!(
        end,
        "Unavailable",
        "after {} records: {}",
        records.len(),
        d.log()
    );
    assert!(!records.is_empty());
    assert!(
        records.iter().zip(1..).all(|(&id, want)| id == want + 1),
        "the records sent before the reset arrive in order from id 2: {:?}",
        &records[..records.len().min(5)]
    );
    let _ = std::fs::remove_dir_all(&dir);
}
