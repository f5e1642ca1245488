//! An `nfscoped` watching a test's namespace, on a unix socket and a history file in a
//! directory of the test's own.

use crate::Netns;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The daemon binary next to the `nfscope` binary under test.
pub fn nfscoped_bin() -> PathBuf {
    crate::nfscope_bin().with_file_name("nfscoped")
}

/// A running daemon; killed when dropped.
pub struct Daemon {
    child: Child,
    pub dir: PathBuf,
    pub socket: String,
}

impl Daemon {
    /// Start nfscoped on `ns` with its socket, history and log in `dir`, and wait (a hang
    /// guard of minutes, not a bound) until its socket exists.
    pub fn start(ns: &Netns, dir: &Path, extra: &[&str]) -> Daemon {
        std::fs::create_dir_all(dir).expect("dir");
        let socket = dir.join("nfscoped.sock").to_string_lossy().into_owned();
        let child = Command::new(nfscoped_bin())
            .args(["--netns", ns.name(), "--socket", &socket, "--history"])
            .arg(dir.join("history.redb"))
            .args(extra)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("log")).expect("log"))
            .spawn()
            .expect("start nfscoped");
        let end = Instant::now() + Duration::from_secs(300);
        while !Path::new(&socket).exists() {
            assert!(
                Instant::now() < end,
                "nfscoped never came up: {}",
                std::fs::read_to_string(dir.join("log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Daemon {
            child,
            dir: dir.to_path_buf(),
            socket,
        }
    }

    /// `nfscope --remote unix:SOCKET ARGS`.
    pub fn remote(&self, args: &[&str]) -> Output {
        Command::new(crate::nfscope_bin())
            .args(["--remote", &format!("unix:{}", self.socket)])
            .args(args)
            .output()
            .expect("run nfscope --remote")
    }

    /// The history database.
    pub fn history(&self) -> PathBuf {
        self.dir.join("history.redb")
    }

    /// SIGTERM, and wait for it to exit.
    pub fn stop(mut self) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let _ = self.child.wait();
    }

    /// SIGKILL: no shutdown at all. Its socket file stays behind; it is removed here so the
    /// next [`Daemon::start`] waits for the new daemon's.
    pub fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.socket);
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh directory under the system's temp dir for one test.
pub fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nfscope-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("tmp dir");
    d
}
