//! nfnetlink: `struct nfgenmsg` (linux/netfilter/nfnetlink.h) and message type split.
//!
//! ```text
//! nlmsg_type = (subsystem << 8) | message
//! struct nfgenmsg {
//!     __u8   nfgen_family;  0  NFPROTO_*
//!     __u8   version;       1  NFNETLINK_V0
//!     __be16 res_id;        2  resource id; in nf_tables replies: low 16 bits of the generation
//! };                        4
//! ```

use crate::error::{Error, Result};

pub const NFGENMSG_LEN: usize = 4;
pub const NFNL_SUBSYS_NFTABLES: u8 = 10;
pub const NFNL_MSG_BATCH_BEGIN: u16 = 0x10;
pub const NFNL_MSG_BATCH_END: u16 = 0x11;
/// Multicast group of nf_tables change events.
pub const NFNLGRP_NFTABLES: u32 = 7;

/// The nfgenmsg header and the attribute bytes after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NfMsg<'a> {
    pub subsys: u8,
    pub msg: u8,
    pub family: u8,
    pub version: u8,
    pub res_id: u16,
    pub attrs: &'a [u8],
}

impl<'a> NfMsg<'a> {
    pub fn parse(nlmsg_type: u16, payload: &'a [u8]) -> Result<Self> {
        if payload.len() < NFGENMSG_LEN {
            return Err(Error::truncated(NFGENMSG_LEN, payload.len(), 0).context("nfgenmsg"));
        }
        Ok(NfMsg {
            subsys: (nlmsg_type >> 8) as u8,
            msg: (nlmsg_type & 0xff) as u8,
            family: payload[0],
            version: payload[1],
            res_id: u16::from_be_bytes([payload[2], payload[3]]),
            attrs: &payload[NFGENMSG_LEN..],
        })
    }
}

/// Bytes of an nfgenmsg header.
pub fn nfgenmsg(family: u8, res_id: u16) -> [u8; 4] {
    let r = res_id.to_be_bytes();
    [family, 0, r[0], r[1]]
}
