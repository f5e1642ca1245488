//! The writer matrix: iptables versions side by side, installed by `scripts/writers.sh`
//! (bullseye 1.8.7, trixie 1.8.11, sid) next to the system's 1.8.9 (bookworm).

use std::path::PathBuf;
use std::process::Command;

/// One installed iptables version.
#[derive(Debug, Clone)]
pub struct Writer {
    /// Debian suite it came from (`bookworm` = the system's own).
    pub suite: &'static str,
    /// Debian package version, e.g. `1.8.7-1`.
    pub version: String,
    /// Directory with `iptables-nft`, `iptables-nft-save`, ... (wrappers or the system's).
    pub bin: PathBuf,
}

pub fn root() -> PathBuf {
    std::env::var_os("NFSCOPE_WRITERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/nfscope/writers"))
}

impl Writer {
    /// The writer of `suite`; fails the test with the fix if it is not installed.
    pub fn get(suite: &'static str) -> Writer {
        if suite == "bookworm" {
            let out = Command::new("dpkg-query")
                .args(["-W", "-f", "${Version}", "iptables"])
                .output();
            let version = out
                .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
                .unwrap_or_default();
            return Writer {
                suite,
                version,
                bin: PathBuf::from("/usr/sbin"),
            };
        }
        let dir = root().join(suite);
        let version = std::fs::read_to_string(dir.join("VERSION")).unwrap_or_else(|_| {
            panic!(
                "iptables from Debian {suite} is not installed in {}: run scripts/writers.sh (scripts/test.sh does)",
                dir.display()
            )
        });
        Writer {
            suite,
            version: version.trim().to_string(),
            bin: dir.join("bin"),
        }
    }

    /// All writers of the matrix, oldest first.
    pub fn all() -> Vec<Writer> {
        ["bullseye", "bookworm", "trixie", "sid"]
            .into_iter()
            .map(Writer::get)
            .collect()
    }

    /// Path of one of its tools (`iptables-nft-restore`, ...).
    pub fn tool(&self, name: &str) -> String {
        self.bin.join(name).to_string_lossy().into_owned()
    }
}

/// The incident's first half: `w` writes kubelet's KUBE-FIREWALL chain, its mark rule and the
/// jump from INPUT, as kubelet does.
pub fn write_kubelet_firewall(ns: &crate::Netns, w: &Writer) {
    let ipt = w.tool("iptables-nft");
    ns.ok(&ipt, &["-N", "KUBE-FIREWALL"]);
    ns.ok(
        &ipt,
        &[
            "-A",
            "KUBE-FIREWALL",
            "-m",
            "comment",
            "--comment",
            "kubernetes firewall for dropping marked packets",
            "-m",
            "mark",
            "--mark",
            "0x8000/0x8000",
            "-j",
            "DROP",
        ],
    );
    ns.ok(&ipt, &["-A", "INPUT", "-j", "KUBE-FIREWALL"]);
}

/// The incident's second half: `w` (kube-router's iptables) saves and restores the ruleset.
pub fn save_restore(ns: &crate::Netns, w: &Writer) {
    let saved = ns.ok(&w.tool("iptables-nft-save"), &[]);
    ns.run_stdin(&w.tool("iptables-nft-restore"), &[], &saved);
}
