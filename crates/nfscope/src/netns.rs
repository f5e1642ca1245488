//! Running work inside another network namespace.
//!
//! A netlink or raw socket belongs to the network namespace of the thread that created it.
//! [`run_in`] spawns a thread, moves it into the named namespace with `setns(CLONE_NEWNET)`
//! (which affects only that thread), runs the closure there and joins. Sockets created inside
//! keep reading that namespace even when handed to other threads.

use crate::error::{Error, Result};
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::PathBuf;

/// Where a namespace name points: `ip netns` names live in /run/netns; a path is used as is
/// (e.g. `/proc/1234/ns/net`).
pub fn path_of(name: &str) -> PathBuf {
    if name.contains('/') {
        PathBuf::from(name)
    } else {
        PathBuf::from("/run/netns").join(name)
    }
}

/// [`run_in`] the named namespace, or here (`None`), for a function that can fail itself.
pub fn run_in_opt<T, F>(name: Option<&str>, f: F) -> Result<T>
where
    T: Send,
    F: FnOnce() -> Result<T> + Send,
{
    match name {
        Some(ns) => run_in(ns, f)?,
        None => f(),
    }
}

/// Run `f` on a thread that has entered the network namespace `name`.
pub fn run_in<T, F>(name: &str, f: F) -> Result<T>
where
    T: Send,
    F: FnOnce() -> T + Send,
{
    let path = path_of(name);
    let file = File::open(&path).map_err(|e| netns_error(name, e))?;
    std::thread::scope(|s| {
        let h = s.spawn(move || -> Result<T> {
            // SAFETY: setns on a valid fd; it changes only this thread's network namespace.
            let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
            if rc != 0 {
                return Err(netns_error(name, std::io::Error::last_os_error()));
            }
            Ok(f())
        });
        match h.join() {
            Ok(r) => r,
            Err(p) => std::panic::resume_unwind(p),
        }
    })
}

/// Entering `name` failed: a refusal (EPERM, EACCES) is a [`Error::Permission`], anything else
/// (no such namespace, not a namespace) an [`Error::Netns`].
fn netns_error(name: &str, error: std::io::Error) -> Error {
    match error.raw_os_error() {
        Some(libc::EPERM) | Some(libc::EACCES) => Error::Permission {
            op: format!("{} {name}", crate::error::NETNS_OP),
        },
        _ => Error::Netns {
            name: name.to_string(),
            error,
        },
    }
}
