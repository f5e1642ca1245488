//! Typed decoding errors with a place.
//!
//! An [`Error`] has a matchable [`ErrorKind`] and a path of contexts, outermost first, so that a
//! message reads like `rule 12 / expr 3 (payload) / NFTA_PAYLOAD_LEN: truncated: need 4 bytes, have 2`.

use std::fmt;

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// Not enough bytes: `need` bytes were required at `offset` but only `have` remained.
    Truncated {
        need: usize,
        have: usize,
        offset: usize,
    },
    /// The bytes are there but wrong (a length field that lies, a bad NUL terminator, ...).
    Invalid(String),
    /// The kernel answered with an error message (negative errno as in `nlmsgerr`).
    Netlink { errno: i32 },
}

/// A decoding error: a kind and where it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    /// Contexts, outermost first.
    pub path: Vec<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn truncated(need: usize, have: usize, offset: usize) -> Self {
        Error {
            kind: ErrorKind::Truncated { need, have, offset },
            path: Vec::new(),
        }
    }
    pub fn invalid(why: impl Into<String>) -> Self {
        Error {
            kind: ErrorKind::Invalid(why.into()),
            path: Vec::new(),
        }
    }
    /// Add an outer context ("rule 12", "expr 3 (payload)").
    pub fn context(mut self, ctx: impl fmt::Display) -> Self {
        self.path.insert(0, ctx.to_string());
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.path {
            write!(f, "{p} / ")?;
        }
        match &self.kind {
            ErrorKind::Truncated { need, have, offset } => {
                write!(f, "truncated: need {need} bytes, have {have} at +{offset}")
            }
            ErrorKind::Invalid(why) => write!(f, "invalid: {why}"),
            ErrorKind::Netlink { errno } => write!(f, "kernel error {errno}"),
        }
    }
}

impl std::error::Error for Error {}

/// Extension to add context to a `Result`.
pub trait Context<T> {
    fn ctx(self, c: impl fmt::Display) -> Result<T>;
    fn with_ctx<C: fmt::Display>(self, f: impl FnOnce() -> C) -> Result<T>;
}

impl<T> Context<T> for Result<T> {
    fn ctx(self, c: impl fmt::Display) -> Result<T> {
        self.map_err(|e| e.context(c))
    }
    fn with_ctx<C: fmt::Display>(self, f: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|e| e.context(f()))
    }
}
