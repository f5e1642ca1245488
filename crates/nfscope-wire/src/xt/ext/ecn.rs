//! `ecn` match.
//!
//! ```text
//! struct xt_ecn_info (4): 0 u8 operation, 1 u8 invert, 2 u8 ip_ect, 3 u8 proto.tcp.ect
//!   operation/invert: MATCH_IP 0x01, MATCH_ECE 0x10, MATCH_CWR 0x20
//! ```

use super::fmt::{bang, Rd};
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// `-m ecn [!] --ecn-tcp-ece [!] --ecn-tcp-cwr [!] --ecn-ip-ect N`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ecn {
    pub operation: u8,
    pub invert: u8,
    pub ip_ect: u8,
}

impl Ecn {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Ecn> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 4)?;
        Some(Ecn {
            operation: r.u8(0)?,
            invert: r.u8(1)?,
            ip_ect: r.u8(2)?,
        })
    }
}

impl Ext for Ecn {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m ecn");
        let (op, inv) = (self.operation, self.invert);
        if op & 0x10 != 0 {
            bang(out, inv & 0x10 != 0);
            out.push_str(" --ecn-tcp-ece");
        }
        if op & 0x20 != 0 {
            bang(out, inv & 0x20 != 0);
            out.push_str(" --ecn-tcp-cwr");
        }
        if op & 0x01 != 0 {
            bang(out, inv & 0x01 != 0);
            let _ = write!(out, " --ecn-ip-ect {}", self.ip_ect);
        }
    }
}

/// `-j ECN` (IPv4 `ipt_ECN_info` (3): 0 u8 operation (SET_IP 1, SET_ECE 0x10, SET_CWR 0x20),
/// 1 u8 ip_ect, 2 u8 proto.tcp bit 0 ece, bit 1 cwr).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EcnTarget {
    pub operation: u8,
    pub ip_ect: u8,
    pub ece: bool,
    pub cwr: bool,
}

impl EcnTarget {
    pub fn parse(rev: u8, d: &[u8]) -> Option<EcnTarget> {
        if rev != 0 {
            return None;
        }
        let r = Rd::sized(d, 3)?;
        let tcp = r.u8(2)?;
        Some(EcnTarget {
            operation: r.u8(0)?,
            ip_ect: r.u8(1)?,
            ece: tcp & 1 != 0,
            cwr: tcp & 2 != 0,
        })
    }
}

impl Ext for EcnTarget {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -j ECN");
        let op = self.operation;
        if op == 0x30 && !self.ece && !self.cwr {
            out.push_str(" --ecn-tcp-remove");
            return;
        }
        if op & 0x10 != 0 {
            let _ = write!(out, " --ecn-tcp-ece {}", u8::from(self.ece));
        }
        if op & 0x20 != 0 {
            let _ = write!(out, " --ecn-tcp-cwr {}", u8::from(self.cwr));
        }
        if op & 0x01 != 0 {
            let _ = write!(out, " --ecn-ip-ect {}", self.ip_ect);
        }
    }
}
