//! The one place the tests start, wait for, talk to and stop `nfscoped`: a daemon watching a
//! test's namespace, with its unix socket, history and log in a directory of the test's own.
//! What differs between tests (TCP/TLS, `--metrics`, windows, limits) goes in as extra
//! arguments; a start that must fail uses [`Daemon::command`].

use crate::{Netns, HUNG_AFTER};
use nfscope_proto::v1::nfscope_client::NfscopeClient;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};
use tonic::transport::Channel;

/// The daemon binary next to the `nfscope` binary under test.
pub fn nfscoped_bin() -> PathBuf {
    crate::nfscope_bin().with_file_name("nfscoped")
}

/// A running daemon. Dropping it stops it as [`Daemon::stop`] does (SIGTERM, as systemd
/// sends; it must exit by itself).
pub struct Daemon {
    child: Option<Child>,
    pub dir: PathBuf,
    pub socket: PathBuf,
}

impl Daemon {
    /// `nfscoped --netns NS --socket SOCKET --history HISTORY EXTRA…`, not yet started: for a
    /// start that must fail, or a socket or history file somewhere else. Logs at `info` (the
    /// "ready" line [`Daemon::start`] waits for) and without backtraces, whatever the
    /// environment says.
    pub fn command(ns: &Netns, socket: &Path, history: &Path, extra: &[&str]) -> Command {
        let mut c = Command::new(nfscoped_bin());
        c.args(["--netns", ns.name(), "--socket"])
            .arg(socket)
            .arg("--history")
            .arg(history)
            .args(extra)
            .env("RUST_LOG", "info")
            .env("RUST_BACKTRACE", "0");
        c
    }

    /// Start nfscoped on `ns` with its socket (`nfscoped.sock`), history (`history.redb`) and
    /// log (`log`) in `dir`, and wait until it logs that it is ready (every listener bound).
    /// Fails the test with the log if it exits first, or after [`HUNG_AFTER`] (a hang guard,
    /// not a bound). A socket file left by an earlier daemon stays: replacing it is the
    /// daemon's job.
    pub fn start(ns: &Netns, dir: &Path, extra: &[&str]) -> Daemon {
        std::fs::create_dir_all(dir).expect("dir");
        let socket = dir.join("nfscoped.sock");
        let child = Self::command(ns, &socket, &dir.join("history.redb"), extra)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("log")).expect("log"))
            .spawn()
            .expect("start nfscoped");
        let mut d = Daemon {
            child: Some(child),
            dir: dir.to_path_buf(),
            socket,
        };
        let end = Instant::now() + HUNG_AFTER;
        while !d.log().contains("nfscoped ready") {
            if let Some(Ok(Some(st))) = d.child.as_mut().map(Child::try_wait) {
                d.child = None;
                panic!("nfscoped exited ({st}) before it was ready: {}", d.log());
            }
            assert!(
                Instant::now() < end,
                "hung: nfscoped never came up: {}",
                d.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        d
    }

    /// What it has logged so far (its stderr).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    /// The history database.
    pub fn history(&self) -> PathBuf {
        self.dir.join("history.redb")
    }

    /// `unix:SOCKET`, as `nfscope --remote` takes it.
    pub fn uri(&self) -> String {
        format!("unix:{}", self.socket.display())
    }

    /// `nfscope --remote unix:SOCKET ARGS`, not yet run (for a client left running, e.g.
    /// `watch`).
    pub fn remote_command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(crate::nfscope_bin());
        c.args(["--remote", &self.uri()]).args(args);
        c
    }

    /// `nfscope --remote unix:SOCKET ARGS`, whatever its exit status.
    pub fn remote(&self, args: &[&str]) -> Output {
        self.remote_command(args)
            .output()
            .expect("run nfscope --remote")
    }

    /// `nfscope --remote unix:SOCKET ARGS`: its stdout; fails the test with its stderr if it
    /// fails.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.remote(args);
        assert!(
            o.status.success(),
            "nfscope --remote {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// `nfscope --remote … history --json`: every record, parsed.
    pub fn records(&self) -> Vec<serde_json::Value> {
        self.ok(&["history", "--json"])
            .lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect()
    }

    /// Wait until the history holds `n` records `pred` accepts, and return it all (a hang
    /// guard of [`HUNG_AFTER`], not a bound).
    pub fn until_recorded(
        &self,
        n: usize,
        pred: impl Fn(&serde_json::Value) -> bool,
    ) -> Vec<serde_json::Value> {
        let end = Instant::now() + HUNG_AFTER;
        loop {
            let h = self.records();
            if h.iter().filter(|v| pred(v)).count() >= n {
                return h;
            }
            assert!(
                Instant::now() < end,
                "hung: never recorded; history: {h:#?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Add `n` rules to a new table `ip bulk` in one nft transaction and wait until a Watch
    /// has received their `n` records (they are then in the history: a replay from
    /// `since_id` 1 has at least `n` records to send). A hang guard of [`HUNG_AFTER`].
    pub fn add_recorded_rules(&self, ns: &Netns, n: usize) {
        let mut batch = String::from("add table ip bulk\nadd chain ip bulk c\n");
        for i in 0..n {
            batch.push_str(&format!(
                "add rule ip bulk c ip saddr 10.{}.{}.{} tcp dport {} counter accept\n",
                i >> 16,
                (i >> 8) & 255,
                i & 255,
                1 + i % 65535
            ));
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let mut s = self
                .client()
                .await
                .watch(nfscope_proto::v1::WatchRequest::default())
                .await
                .expect("watch")
                .into_inner();
            s.message().await.expect("stream").expect("start marker");
            ns.run_stdin("nft", &["-f", "-"], &batch);
            let mut seen = 0;
            while seen < n {
                let ev = tokio::time::timeout(HUNG_AFTER, s.message())
                    .await
                    .expect("hung: the rules were never recorded")
                    .expect("stream")
                    .expect("the Watch ended");
                if let Some(nfscope_proto::v1::watch_event::Event::Record(r)) = ev.event {
                    if r.r#type == "rule_added" {
                        seen += 1;
                    }
                }
            }
        });
    }

    /// A tonic channel on the unix socket (tonic's defaults, as stock clients have).
    pub async fn channel(&self) -> Channel {
        let path = self.socket.clone();
        tonic::transport::Endpoint::try_from("http://nfscoped.local")
            .expect("endpoint")
            .connect_with_connector(tower::service_fn(move |_: tonic::transport::Uri| {
                let path = path.clone();
                async move {
                    Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(
                        tokio::net::UnixStream::connect(&path).await?,
                    ))
                }
            }))
            .await
            .expect("connect")
    }

    /// A gRPC client of the Nfscope service on the unix socket.
    pub async fn client(&self) -> NfscopeClient<Channel> {
        NfscopeClient::new(self.channel().await)
    }

    /// SIGTERM, as systemd sends, and wait for it to exit; returns its exit status. Fails the
    /// test with the log if it has not exited after [`HUNG_AFTER`].
    pub fn stop(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("nfscoped running");
        // SAFETY: kill(2) on the pid of our own child, which has not been reaped yet.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let end = Instant::now() + HUNG_AFTER;
        while Instant::now() < end {
            if let Ok(Some(st)) = child.try_wait() {
                return st;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("hung: nfscoped did not exit on SIGTERM: {}", self.log());
    }

    /// SIGKILL: no shutdown at all. Its socket file stays behind, as after a crash.
    pub fn kill9(mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.child.is_none() {
            return;
        }
        if std::thread::panicking() {
            // The test failed already: no second panic (it would abort), just no daemon left.
            if let Some(mut child) = self.child.take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        } else {
            self.stop();
        }
    }
}

/// A fresh directory under the system's temp dir for one test (the name carries the test
/// binary's pid, so test files need not prefix theirs).
pub fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nfscope-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("tmp dir");
    d
}

/// A [`tmp`] directory removed on drop (declare it before the [`Daemon`] using it, so the
/// daemon stops first).
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        TempDir(tmp(name))
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A TCP port free on 127.0.0.1 right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// `GET path` over HTTP/1.0 on 127.0.0.1:port (the daemon's `--metrics`, Prometheus): the
/// whole answer, head and body.
pub fn http_get(port: u16, path: &str) -> std::io::Result<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    Ok(out)
}
