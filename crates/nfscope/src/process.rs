//! Who is a process: executable, command line, cgroup, and the container / pod it maps to.
//! Best effort and immediate (a short-lived `iptables` is gone within milliseconds); a process
//! already gone is reported as such, never guessed.

use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProcessInfo {
    pub pid: u32,
    /// Task name from the event (`NFTA_GEN_PROC_NAME`, at most 15 characters).
    pub comm: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exe: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cmdline: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cgroup: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pod_uid: Option<String>,
    /// The process had exited before we could look at it.
    pub gone: bool,
}

impl ProcessInfo {
    /// Look the process up in `/proc` now.
    pub fn lookup(pid: u32, comm: &str) -> ProcessInfo {
        Self::lookup_in(Path::new("/proc"), pid, comm)
    }

    pub fn lookup_in(proc_root: &Path, pid: u32, comm: &str) -> ProcessInfo {
        let p = Self::lookup_any_in(proc_root, pid);
        // Guard against pid reuse: the task's comm must still be the one the kernel reported.
        if p.gone || p.comm != comm {
            return ProcessInfo {
                pid,
                comm: comm.to_string(),
                gone: true,
                ..Default::default()
            };
        }
        p
    }

    /// Look up a pid without knowing its name yet (taken from /proc/PID/comm).
    pub fn lookup_any(pid: u32) -> ProcessInfo {
        Self::lookup_any_in(Path::new("/proc"), pid)
    }

    fn lookup_any_in(proc_root: &Path, pid: u32) -> ProcessInfo {
        let dir = proc_root.join(pid.to_string());
        let mut p = ProcessInfo {
            pid,
            ..Default::default()
        };
        match std::fs::read_to_string(dir.join("comm")) {
            Ok(c) if pid != 0 => p.comm = c.trim_end().to_string(),
            _ => {
                p.gone = true;
                return p;
            }
        }
        p.exe = std::fs::read_link(dir.join("exe"))
            .ok()
            .map(|x| x.to_string_lossy().into_owned());
        p.cmdline = std::fs::read(dir.join("cmdline")).ok().map(|b| {
            b.split(|&c| c == 0)
                .filter(|s| !s.is_empty())
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect()
        });
        if let Ok(cg) = std::fs::read_to_string(dir.join("cgroup")) {
            // cgroup v2: "0::/path"; v1: several lines, take the first with a path.
            let path = cg
                .lines()
                .filter_map(|l| l.splitn(3, ':').nth(2))
                .find(|s| !s.is_empty())
                .map(str::to_string);
            if let Some(path) = path {
                let (container, pod) = container_of(&path);
                p.container = container;
                p.pod_uid = pod;
                p.cgroup = Some(path);
            }
        }
        p
    }
}

/// Container id and Kubernetes pod UID from a cgroup path (docker, containerd, cri-o formats):
/// `/system.slice/docker-<64hex>.scope`, `/docker/<64hex>`,
/// `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid_with_underscores>.slice/cri-containerd-<64hex>.scope`,
/// `/kubepods/burstable/pod<uid>/<64hex>`, `crio-<64hex>.scope`.
pub fn container_of(path: &str) -> (Option<String>, Option<String>) {
    let mut container = None;
    let mut pod = None;
    for seg in path.split('/') {
        let s = seg.trim_end_matches(".scope").trim_end_matches(".slice");
        if let Some(i) = s.rfind("pod") {
            let rest = &s[i + 3..];
            let uid = rest.replace('_', "-");
            if uid.len() == 36 && uid.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
                pod = Some(uid);
            }
        }
        let id = s.rsplit(['-', ':']).next().unwrap_or(s);
        if id.len() == 64 && id.chars().all(|c| c.is_ascii_hexdigit()) {
            container = Some(id.to_string());
        }
    }
    (container, pod)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_formats() {
        let id = "a".repeat(64);
        assert_eq!(
            container_of(&format!("/system.slice/docker-{id}.scope"))
                .0
                .as_deref(),
            Some(id.as_str())
        );
        assert_eq!(
            container_of(&format!("/docker/{id}")).0.as_deref(),
            Some(id.as_str())
        );
        let (c, p) = container_of(&format!(
            "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0a1b2c3d_4e5f_6789_abcd_ef0123456789.slice/cri-containerd-{id}.scope"
        ));
        assert_eq!(c.as_deref(), Some(id.as_str()));
        assert_eq!(p.as_deref(), Some("0a1b2c3d-4e5f-6789-abcd-ef0123456789"));
        let (c, p) = container_of(&format!(
            "/kubepods/burstable/pod0a1b2c3d-4e5f-6789-abcd-ef0123456789/{id}"
        ));
        assert_eq!(c.as_deref(), Some(id.as_str()));
        assert!(p.is_some());
        assert_eq!(
            container_of(&format!("/machine.slice/crio-{id}.scope"))
                .0
                .as_deref(),
            Some(id.as_str())
        );
        assert_eq!(
            container_of("/user.slice/user-0.slice/session-1.scope"),
            (None, None)
        );
    }

    #[test]
    fn self_and_gone() {
        let me = std::process::id();
        let comm = std::fs::read_to_string(format!("/proc/{me}/comm")).unwrap_or_default();
        let p = ProcessInfo::lookup(me, comm.trim_end());
        assert!(!p.gone);
        assert!(p.exe.is_some());
        let p = ProcessInfo::lookup(me, "not-my-name");
        assert!(p.gone);
    }
}
