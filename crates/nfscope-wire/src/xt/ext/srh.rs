//! `srh` match (IPv6 segment routing header), rev 0 and 1.
//!
//! ```text
//! struct ip6t_srh (10, rev 0):   0 u8 next_hdr, 1 u8 hdr_len, 2 u8 segs_left, 3 u8 last_entry,
//!                                4 u16 tag, 6 u16 mt_flags, 8 u16 mt_invflags
//! struct ip6t_srh1 (108, rev 1): 0..6 as rev 0, 8 in6_addr psid_addr, 24 nsid_addr,
//!   40 lsid_addr, 56 psid_msk, 72 nsid_msk, 88 lsid_msk, 104 u16 mt_flags, 106 u16 mt_invflags
//!   flags: NEXTHDR 1, LEN_EQ 2, LEN_GT 4, LEN_LT 8, SEGS_EQ 0x10, SEGS_GT 0x20, SEGS_LT 0x40,
//!   LAST_EQ 0x80, LAST_GT 0x100, LAST_LT 0x200, TAG 0x400, PSID 0x800, NSID 0x1000, LSID 0x2000
//! ```

use super::fmt::{ip6, Rd};
use super::{Ctx, Ext};
use serde::Serialize;
use std::fmt::Write as _;
use std::net::Ipv6Addr;

/// `-m srh [!] --srh-next-hdr N [!] --srh-hdr-len-eq N … [!] --srh-psid A/N …`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Srh {
    pub next_hdr: u8,
    pub hdr_len: u8,
    pub segs_left: u8,
    pub last_entry: u8,
    pub tag: u16,
    /// Rev 1: (address, mask) of the previous, next and last SID.
    pub sids: Option<[([u8; 16], [u8; 16]); 3]>,
    pub mt_flags: u16,
    pub mt_invflags: u16,
}

impl Srh {
    pub fn parse(rev: u8, d: &[u8]) -> Option<Srh> {
        let (r, flags_at, sids) = match rev {
            0 => (Rd::sized(d, 10)?, 6, None),
            1 => {
                let r = Rd::sized(d, 108)?;
                let s = |i: usize| Some((r.arr(8 + 16 * i)?, r.arr(56 + 16 * i)?));
                (r, 104, Some([s(0)?, s(1)?, s(2)?]))
            }
            _ => return None,
        };
        Some(Srh {
            next_hdr: r.u8(0)?,
            hdr_len: r.u8(1)?,
            segs_left: r.u8(2)?,
            last_entry: r.u8(3)?,
            tag: r.u16(4)?,
            sids,
            mt_flags: r.u16(flags_at)?,
            mt_invflags: r.u16(flags_at + 2)?,
        })
    }
}

impl Ext for Srh {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        out.push_str(" -m srh");
        let (f, inv) = (self.mt_flags, self.mt_invflags);
        let bang = |b: u16| if inv & b != 0 { " !" } else { "" };
        let items: [(u16, &str, u32); 11] = [
            (0x1, "next-hdr", self.next_hdr.into()),
            (0x2, "hdr-len-eq", self.hdr_len.into()),
            (0x4, "hdr-len-gt", self.hdr_len.into()),
            (0x8, "hdr-len-lt", self.hdr_len.into()),
            (0x10, "segs-left-eq", self.segs_left.into()),
            (0x20, "segs-left-gt", self.segs_left.into()),
            (0x40, "segs-left-lt", self.segs_left.into()),
            (0x80, "last-entry-eq", self.last_entry.into()),
            (0x100, "last-entry-gt", self.last_entry.into()),
            (0x200, "last-entry-lt", self.last_entry.into()),
            (0x400, "tag", self.tag.into()),
        ];
        for (bit, opt, v) in items {
            if f & bit != 0 {
                let _ = write!(out, "{} --srh-{opt} {v}", bang(bit));
            }
        }
        if let Some(sids) = &self.sids {
            for (i, opt) in ["psid", "nsid", "lsid"].iter().enumerate() {
                let bit = 0x800 << i;
                if f & bit != 0 {
                    let (a, m) = &sids[i];
                    let m = u128::from_be_bytes(*m);
                    // xtables_ip6mask_to_cidr printed with %u: -1 shows as 4294967295.
                    let cidr = if m.leading_ones() + m.trailing_zeros() == 128 {
                        m.leading_ones()
                    } else {
                        u32::MAX
                    };
                    let _ = write!(
                        out,
                        "{} --srh-{opt} {}/{cidr}",
                        bang(bit),
                        ip6(&Ipv6Addr::from(*a))
                    );
                }
            }
        }
    }
}
