//! ebtables `snat`, `dnat`, `redirect` and `arpreply` targets (`libebt_snat.c`,
//! `libebt_dnat.c`, `libebt_redirect.c`, `libebt_arpreply.c`): one MAC and an ebtables verdict.
//!
//! ```text
//! struct ebt_nat_info (12):      0 u8 mac[6], 8 int target   (snat, dnat)
//! struct ebt_arpreply_info (12): 0 u8 mac[6], 8 int target
//! struct ebt_redirect_info (4):  0 int target
//! ```

use super::ebt_mark::ebt_verdict;
use super::fmt::{mac, Rd};
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;

/// Which of the four targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EbtNatKind {
    Snat,
    Dnat,
    Redirect,
    Arpreply,
}

/// `-j snat --to-src MAC [--snat-arp] --snat-target V`, `-j dnat --to-dst MAC --dnat-target V`,
/// `-j redirect [--redirect-target V]`, `-j arpreply --arpreply-mac MAC [--arpreply-target V]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EbtNat {
    pub kind: EbtNatKind,
    pub mac: [u8; 6],
    pub target: i32,
}

/// `NAT_ARP_BIT` of snat's target.
const NAT_ARP_BIT: i32 = 0x10;
/// `EBT_VERDICT_BITS`.
const VERDICT_BITS: i32 = 0xf;

impl EbtNat {
    pub fn parse(name: &str, rev: u8, d: &[u8]) -> Option<EbtNat> {
        if rev != 0 {
            return None;
        }
        let kind = match name {
            "snat" => EbtNatKind::Snat,
            "dnat" => EbtNatKind::Dnat,
            "redirect" => EbtNatKind::Redirect,
            "arpreply" => EbtNatKind::Arpreply,
            _ => return None,
        };
        if kind == EbtNatKind::Redirect {
            let r = Rd::sized(d, 4)?;
            return Some(EbtNat {
                kind,
                mac: [0; 6],
                target: r.i32(0)?,
            });
        }
        let r = Rd::sized(d, 12)?;
        Some(EbtNat {
            kind,
            mac: r.arr(0)?,
            target: r.i32(8)?,
        })
    }
}

impl Ext for EbtNat {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        match self.kind {
            EbtNatKind::Snat => {
                let _ = write!(out, " -j snat --to-src {}", mac(&self.mac));
                if self.target & NAT_ARP_BIT == 0 {
                    out.push_str(" --snat-arp");
                }
                let _ = write!(
                    out,
                    " --snat-target {}",
                    ebt_verdict(self.target | !VERDICT_BITS)
                );
            }
            EbtNatKind::Dnat => {
                let _ = write!(
                    out,
                    " -j dnat --to-dst {} --dnat-target {}",
                    mac(&self.mac),
                    ebt_verdict(self.target)
                );
            }
            EbtNatKind::Redirect => {
                // ebtables prints a space after the target's name even with no option
                out.push_str(" -j redirect ");
                if self.target != -1 {
                    let _ = write!(out, "--redirect-target {}", ebt_verdict(self.target));
                }
            }
            EbtNatKind::Arpreply => {
                let _ = write!(out, " -j arpreply --arpreply-mac {}", mac(&self.mac));
                if self.target != -2 {
                    let _ = write!(out, " --arpreply-target {}", ebt_verdict(self.target));
                }
            }
        }
    }
}
