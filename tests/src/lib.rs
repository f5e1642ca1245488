//! Test harness: throw-away network namespaces and the real tools.
//!
//! Every test that writes rules does so inside a [`Netns`] it creates; the namespace is deleted
//! when the guard drops (also when the test panics). The host's firewall is never touched.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// How long a test waits for something that must happen before it calls itself hung. Never a
/// speed bound: tests assert order, counts and content; speed is measured by `cargo xtask`
/// benches. A failure after this long means the awaited thing never came.
pub const HUNG_AFTER: std::time::Duration = std::time::Duration::from_secs(600);

/// A network namespace created for one test (`ip netns add`), deleted on drop.
pub struct Netns {
    name: String,
}

impl Netns {
    /// Create `nfscope-<tag>-<pid>-<n>`. Panics (failing the test) if it cannot.
    pub fn new(tag: &str) -> Netns {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("nfscope-{tag}-{}-{n}", std::process::id());
        let out = Command::new("ip")
            .args(["netns", "add", &name])
            .output()
            .expect("run ip netns add");
        assert!(
            out.status.success(),
            "ip netns add {name} failed (tests need root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Netns { name }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A command that runs inside the namespace (`ip netns exec NAME prog`).
    pub fn command(&self, prog: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, prog]);
        c
    }

    /// Run `prog args` inside; returns the output whatever the exit status.
    pub fn run(&self, prog: &str, args: &[&str]) -> Output {
        self.command(prog)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("run {prog}: {e}"))
    }

    /// Run `prog args` with `input` on stdin; panics with stderr if it fails.
    pub fn run_stdin(&self, prog: &str, args: &[&str], input: &str) -> String {
        let mut child = self
            .command(prog)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {prog}: {e}"));
        if let Some(mut i) = child.stdin.take() {
            i.write_all(input.as_bytes()).expect("write stdin");
        }
        let out = child.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "{prog} {args:?} failed in {}: {}\ninput:\n{input}",
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Run inside and panic with its stderr unless it succeeds; returns stdout.
    pub fn ok(&self, prog: &str, args: &[&str]) -> String {
        let out = self.run(prog, args);
        assert!(
            out.status.success(),
            "{prog} {args:?} failed in {}: {}",
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Load an nft ruleset (`nft -f -`).
    pub fn nft_load(&self, ruleset: &str) {
        self.run_stdin("nft", &["-f", "-"], ruleset);
    }

    /// Run our `nfscope` binary against this namespace (`nfscope --netns NAME args`).
    pub fn nfscope(&self, args: &[&str]) -> Output {
        Command::new(nfscope_bin())
            .arg("--netns")
            .arg(&self.name)
            .args(args)
            .output()
            .expect("run nfscope")
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Path of the `nfscope` binary built in this workspace (next to the test executable's
/// directory), or `$NFSCOPE_BIN`.
pub fn nfscope_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("NFSCOPE_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/deps/<test> → target/<profile>/nfscope
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let bin = dir.join("nfscope");
    assert!(
        bin.exists(),
        "{} not built: run `cargo build --workspace --bins` first",
        bin.display()
    );
    bin
}

/// Line-by-line comparison with a readable diff in the panic message.
pub fn assert_same_lines(what: &str, ours: &str, theirs: &str) {
    if ours == theirs {
        return;
    }
    let a: Vec<&str> = ours.lines().collect();
    let b: Vec<&str> = theirs.lines().collect();
    let mut msg = format!(
        "{what}: output differs (ours {} lines, reference {} lines)\n",
        a.len(),
        b.len()
    );
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (a.get(i).copied(), b.get(i).copied());
        if x != y {
            msg.push_str(&format!(
                "line {}:\n  ours: {:?}\n  ref:  {:?}\n",
                i + 1,
                x,
                y
            ));
        }
    }
    panic!("{msg}");
}
pub mod audit;
pub mod daemon;
pub mod kube;
pub mod writers;
