//! # nfscope-wire
//!
//! Pure decoding of the kernel's netfilter wire formats: netlink framing, nfnetlink headers,
//! nf_tables objects and every expression, x_tables entries and xt payloads, and the kernel's
//! audit records of netfilter changes.
//!
//! Contract: **this crate does no I/O and never panics on input**. Every parser takes bytes
//! and returns either a typed value or an [`Error`] that says what was being decoded, where,
//! and why it failed. Anything well-framed but not understood (a new attribute, an expression
//! this code does not know) is kept as raw bytes ([`attr::RawAttr`], [`nft::expr::Expr::Unknown`])
//! so that nothing is silently lost.
#![forbid(unsafe_code)]

pub mod attr;
pub mod audit;
pub mod civil;
pub mod error;
pub mod nfnl;
pub mod nft;
pub mod nl;
pub mod pack;
pub mod xt;

pub use error::{Error, ErrorKind, Result};
