#![doc = include_str!("../README.md")]
//!
//! Invariants: this crate never shells out to `nft` / `iptables` and never changes the
//! firewall; it only reads.
pub use nfscope_wire as wire;

pub mod model;
pub mod render;
pub use model::Ruleset;
pub mod error;
pub mod netns;
pub mod snapshot;
pub mod sock;
pub use error::{Error, Result};
pub mod audit;
#[cfg(feature = "history")]
pub mod blame;
pub mod change;
pub mod diff;
pub mod events;
#[cfg(feature = "history")]
pub mod gap;
#[cfg(feature = "history")]
pub mod history;
pub mod iptnft;
pub mod json;
pub mod legacy;
pub mod lint;
pub mod output;
pub mod process;
pub mod provenance;
pub mod stats;
pub mod system;
pub mod watch;
