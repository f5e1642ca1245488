//! Turning the kernel's audit on for a test, and back.
//!
//! Audit is host-wide kernel state. [`AuditGuard::enable`] takes a lock shared by every test
//! process (one guard at a time), reads the status, enables audit only when it was disabled, no
//! audit daemon is registered and it is not locked, and restores the previous state when the
//! guard drops (also when the test panics). The prior state is written to a file while audit is
//! on, so that a test process killed in between is undone by the next guard.

use nfscope::wire::audit::{Status, AUDIT_SET};
use nfscope::wire::nl::{self, MessageBuilder, Messages};
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

const LOCK: &str = "/run/lock/nfscope-tests-audit.lock";
/// Holds the `enabled` value to restore while a guard has audit on.
const STATE: &str = "/run/lock/nfscope-tests-audit.state";

/// Audit enabled for as long as this lives.
pub struct AuditGuard {
    _lock: File,
    /// The value to put back (`None`: we changed nothing).
    restore: Option<u32>,
    pub status: Status,
}

impl AuditGuard {
    /// Enable audit (or find it enabled), or say why a test cannot.
    pub fn enable() -> Result<AuditGuard, String> {
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(LOCK)
            .map_err(|e| format!("open {LOCK}: {e}"))?;
        // SAFETY: flock on a valid fd we own.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(format!("flock {LOCK}: {}", std::io::Error::last_os_error()));
        }
        // A test process that died with audit on: put back what it recorded.
        if let Ok(s) = std::fs::read_to_string(STATE) {
            if let Ok(prev) = s.trim().parse::<u32>() {
                eprintln!("nfscope tests: restoring audit enabled={prev} left by a test that did not finish");
                set_enabled(prev)?;
            }
            let _ = std::fs::remove_file(STATE);
        }
        let status =
            nfscope::audit::status().map_err(|e| format!("cannot read the audit status: {e}"))?;
        let mut g = AuditGuard {
            _lock: lock,
            restore: None,
            status,
        };
        match (status.enabled, status.pid) {
            (2, _) => Err("audit is locked (enabled=2): it cannot be changed".into()),
            (1, _) => Ok(g), // already on: use the records as delivered
            (_, pid) if pid != 0 => Err(format!(
                "audit is disabled and an audit daemon (pid {pid}) is registered: not changing its configuration"
            )),
            (prev, _) => {
                std::fs::write(STATE, prev.to_string())
                    .map_err(|e| format!("write {STATE}: {e}"))?;
                g.restore = Some(prev);
                set_enabled(1)?;
                Ok(g)
            }
        }
    }

    /// [`AuditGuard::enable`], or `None` after printing why `test` is skipped.
    pub fn enable_or_skip(test: &str) -> Option<AuditGuard> {
        match AuditGuard::enable() {
            Ok(g) => Some(g),
            Err(why) => {
                eprintln!("SKIPPED {test}: {why}");
                None
            }
        }
    }
}

impl Drop for AuditGuard {
    fn drop(&mut self) {
        if let Some(prev) = self.restore {
            match set_enabled(prev) {
                Ok(()) => {
                    let _ = std::fs::remove_file(STATE);
                }
                Err(e) => eprintln!(
                    "nfscope tests: COULD NOT RESTORE audit enabled={prev}: {e}; run `auditctl -e {prev}`"
                ),
            }
        }
    }
}

/// The lock every [`AuditGuard`] holds, alone: for a test whose legacy writes must not run
/// while another test attributes changes from audit records (records carry no namespace: two
/// fresh tables registered at the same moment by processes already gone are ambiguous).
pub fn exclusive() -> Result<File, String> {
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(LOCK)
        .map_err(|e| format!("open {LOCK}: {e}"))?;
    // SAFETY: flock on a valid fd we own.
    if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(format!("flock {LOCK}: {}", std::io::Error::last_os_error()));
    }
    Ok(lock)
}

/// `AUDIT_SET` of the `enabled` field, acknowledged.
pub fn set_enabled(v: u32) -> Result<(), String> {
    // SAFETY: plain socket(2); the fd is checked and owned below.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_AUDIT,
        )
    };
    if fd < 0 {
        return Err(format!(
            "socket(NETLINK_AUDIT): {}",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: fd is fresh and valid, owned by nothing else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let tv = libc::timeval {
        tv_sec: 2,
        tv_usec: 0,
    };
    // SAFETY: setsockopt with a pointer to a timeval and its size.
    unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            &tv as *const libc::timeval as *const libc::c_void,
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    let mut req = Vec::new();
    let mut m = MessageBuilder::new(&mut req, AUDIT_SET, nl::NLM_F_REQUEST | nl::NLM_F_ACK, 1);
    m.bytes(&Status::set_enabled(v));
    m.finish();
    // SAFETY: send from a buffer we own, with its length; the kernel is the default peer.
    let n = unsafe { libc::send(fd.as_raw_fd(), req.as_ptr().cast(), req.len(), 0) };
    if n < 0 {
        return Err(format!("AUDIT_SET: {}", std::io::Error::last_os_error()));
    }
    let mut buf = vec![0u8; 8192];
    loop {
        // SAFETY: recv into a buffer we own, with its length.
        let n = unsafe { libc::recv(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            return Err(format!(
                "AUDIT_SET: no answer: {}",
                std::io::Error::last_os_error()
            ));
        }
        for m in Messages::new(&buf[..n as usize]) {
            let m = m.map_err(|e| format!("AUDIT_SET answer: {e}"))?;
            if let Some(code) = m.error_code().map_err(|e| e.to_string())? {
                return match code {
                    0 => Ok(()),
                    c => Err(format!(
                        "AUDIT_SET enabled={v}: {}",
                        std::io::Error::from_raw_os_error(-c)
                    )),
                };
            }
        }
    }
}
