//! The library's error type: what failed, and what the user can do about it.

use std::io;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The kernel refused for lack of privilege.
    #[error(
        "{op}: permission denied: reading the firewall needs root or CAP_NET_ADMIN{} (try sudo)",
        if op.starts_with(NETNS_OP) { ", entering a network namespace CAP_SYS_ADMIN" } else { "" }
    )]
    Permission { op: String },
    // The underlying errors are part of the message and are not also given as `source()`:
    // error reporters that print the chain (anyhow's `{:#}`) would print them twice.
    /// A socket call failed.
    #[error("{op}: {error}")]
    Io { op: String, error: io::Error },
    /// The kernel answered a request with an error.
    #[error("{op}: kernel error: {}", io::Error::from_raw_os_error(*errno))]
    Kernel { op: String, errno: i32 },
    /// The kernel's answer did not decode.
    #[error("{op}: malformed answer: {error}")]
    Decode {
        op: String,
        error: nfscope_wire::Error,
    },
    /// The ruleset kept changing while we read it.
    #[error("the ruleset changed during every one of {attempts} snapshot attempts; try again")]
    Inconsistent { attempts: u32 },
    /// Entering a network namespace failed.
    #[error("network namespace {name}: {error}")]
    Netns { name: String, error: io::Error },
    /// The caller gave the library something it cannot work with (e.g. no socket).
    #[error("{0}")]
    Usage(&'static str),
}

/// How [`Error::Permission`]'s `op` starts when entering a network namespace was refused.
pub(crate) const NETNS_OP: &str = "entering network namespace";

impl Error {
    /// An `io::Error` from a socket call, mapped to [`Error::Permission`] when it is EPERM/EACCES.
    pub fn io(op: impl Into<String>, source: io::Error) -> Error {
        let op = op.into();
        match source.raw_os_error() {
            Some(libc::EPERM) | Some(libc::EACCES) => Error::Permission { op },
            _ => Error::Io { op, error: source },
        }
    }
    /// A negative errno from the kernel.
    pub fn kernel(op: impl Into<String>, errno: i32) -> Error {
        let op = op.into();
        match errno {
            libc::EPERM | libc::EACCES => Error::Permission { op },
            _ => Error::Kernel { op, errno },
        }
    }
    /// Name the operation of an error raised without one (an `op` left empty so that the
    /// common, successful path builds no string).
    pub fn with_op(mut self, op: impl FnOnce() -> String) -> Error {
        let slot = match &mut self {
            Error::Permission { op } | Error::Io { op, .. } => op,
            Error::Kernel { op, .. } | Error::Decode { op, .. } => op,
            Error::Inconsistent { .. } | Error::Netns { .. } | Error::Usage(_) => return self,
        };
        if slot.is_empty() {
            *slot = op();
        }
        self
    }
    pub fn decode(op: impl Into<String>, source: nfscope_wire::Error) -> Error {
        match source.kind {
            nfscope_wire::ErrorKind::Netlink { errno } => Error::kernel(op, errno),
            _ => Error::Decode {
                op: op.into(),
                error: source,
            },
        }
    }
    pub fn is_permission(&self) -> bool {
        matches!(self, Error::Permission { .. })
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
