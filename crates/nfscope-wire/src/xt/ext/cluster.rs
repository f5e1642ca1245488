//! `cluster` match.
//!
//! ```text
//! struct xt_cluster_match_info (16): 0 u32 total_nodes, 4 u32 node_mask, 8 u32 hash_seed,
//!                                    12 u32 flags (F_INV 1)
//! ```

use super::fmt::Rd;
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-m cluster [!] --cluster-local-nodemask 0x… --cluster-total-nodes N --cluster-hash-seed 0x…`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cluster {
    pub total_nodes: u32,
    pub node_mask: u32,
    pub hash_seed: u32,
    pub flags: u32,
}

impl Cluster {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Cluster> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 16)?;
        Some(Cluster {
            total_nodes: r.u32(0)?,
            node_mask: r.u32(4)?,
            hash_seed: r.u32(8)?,
            flags: r.u32(12)?,
        })
    }
}

impl Ext for Cluster {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        let inv = if self.flags & 1 != 0 { " !" } else { "" };
        let _ = write!(
            out,
            " -m cluster{inv} --cluster-local-nodemask 0x{:08x} --cluster-total-nodes {} \
             --cluster-hash-seed 0x{:08x}",
            self.node_mask, self.total_nodes, self.hash_seed
        );
    }
}
