//! Legacy x_tables blobs: the answers to `IPT_SO_GET_INFO` / `IPT_SO_GET_ENTRIES` (and their
//! `IP6T_*` / `ARPT_*` twins), walked into a typed [`Table`] of chains and rules.
//!
//! Contract: [`Info::parse`] and [`Table::parse`] take the bytes the kernel returned and give a
//! value or a typed [`Error`]; every offset and size read from the blob is checked before use,
//! so a lying `next_offset`, `target_offset`, match size or jump offset never panics and never
//! loops (every step advances by at least the fixed entry size). A jump whose offset lands in no
//! user chain stays as [`Target::BadJump`] so the rest of the table still decodes.
//!
//! # Layout (x86_64, native endian; offsets measured with gcc against the UAPI headers)
//!
//! `linux/netfilter_ipv4/ip_tables.h`, `linux/netfilter_ipv6/ip6_tables.h`,
//! `linux/netfilter_arp/arp_tables.h`, `linux/netfilter/x_tables.h`:
//!
//! ```text
//! struct ipt_getinfo / ip6t_getinfo (84)      struct arpt_getinfo (68, 3 hooks)
//!    0 char name[32]                            0 char name[32]
//!   32 u32 valid_hooks                         32 u32 valid_hooks
//!   36 u32 hook_entry[5]                       36 u32 hook_entry[3]
//!   56 u32 underflow[5]                        48 u32 underflow[3]
//!   76 u32 num_entries                         60 u32 num_entries
//!   80 u32 size                                64 u32 size
//!
//! struct ipt_get_entries (and ip6t_, arpt_): 0 name[32], 32 u32 size, 40 entrytable[] (8-aligned)
//!
//! struct ipt_entry (112)            struct ip6t_entry (168)          struct arpt_entry (192)
//!    0 in_addr src, dst, smsk, dmsk    0 in6_addr src,dst,smsk,dmsk      0 in_addr src, tgt, smsk, tmsk
//!   16 char iniface[16]               64 iniface[16]                   16 u8 arhln, 17 arhln_mask
//!   32 char outiface[16]              80 outiface[16]                  18 arpt_devaddr_info src_devaddr
//!   48 u8 iniface_mask[16]            96 iniface_mask[16]                 (addr[16], mask[16])
//!   64 u8 outiface_mask[16]          112 outiface_mask[16]             50 tgt_devaddr
//!   80 u16 proto                     128 u16 proto                     82 u16 arpop, 84 arpop_mask
//!   82 u8 flags                      130 u8 tos                        86 u16 arhrd, 88 arhrd_mask
//!   83 u8 invflags                   131 u8 flags                      90 u16 arpro, 92 arpro_mask
//!   84 u32 nfcache                   132 u8 invflags                   94 iniface[16], 110 outiface[16]
//!   88 u16 target_offset             136 u32 nfcache                  126 iniface_mask, 142 outiface_mask
//!   90 u16 next_offset               140 u16 target_offset            158 u8 flags, 160 u16 invflags
//!   92 u32 comefrom                  142 u16 next_offset              164 u16 target_offset
//!   96 xt_counters {u64 pcnt, bcnt}  144 u32 comefrom                 166 u16 next_offset
//!  112 matches..., target            152 xt_counters                  168 u32 comefrom
//!                                    168 matches..., target           176 xt_counters, 192 target
//!
//! struct xt_entry_match / xt_entry_target (32): 0 u16 size, 2 char name[29], 31 u8 revision, 32 data
//! struct xt_standard_target (40): target header + 32 int verdict
//! struct xt_error_target (64): target header + 32 char errorname[32]
//! ```
//!
//! Addresses (`in_addr`, `in6_addr`) and the ARP `arpop`/`arhrd`/`arpro` fields are in network
//! byte order; everything else is native (little endian on x86_64, which this module assumes).
//!
//! # Table shape (as libiptc writes it and reads it back)
//!
//! A chain starts at a hook entry (`hook_entry[h]` for each bit `h` of `valid_hooks`) or at an
//! `ERROR` target whose data is the user chain's name. The last entry of every chain is its foot:
//! for a base chain the policy (a standard verdict at `underflow[h]`, whose counters are the
//! policy counters), for a user chain an implicit `RETURN`. The table ends with an `ERROR` entry
//! named `ERROR`. A standard target's verdict is `-NF_x - 1` (negative), or an offset into the
//! blob: the next entry (fall through: a rule with no `-j`) or a place inside a user chain (jump).

use crate::error::{Error, Result};
use serde::Serialize;
use std::borrow::Cow;

/// Which x_tables family a blob belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Family {
    /// `ip_tables` (iptables).
    Ipv4,
    /// `ip6_tables` (ip6tables).
    Ipv6,
    /// `arp_tables` (arptables).
    Arp,
}

impl Family {
    /// Size of the fixed entry struct (`ipt_entry`, `ip6t_entry`, `arpt_entry`).
    pub const fn entry_len(self) -> usize {
        match self {
            Family::Ipv4 => 112,
            Family::Ipv6 => 168,
            Family::Arp => 192,
        }
    }
    /// Number of hooks in `*_getinfo` (`NF_INET_NUMHOOKS` or `NF_ARP_NUMHOOKS`).
    pub const fn num_hooks(self) -> usize {
        match self {
            Family::Arp => 3,
            _ => 5,
        }
    }
    /// Size of `*_getinfo`.
    pub const fn info_len(self) -> usize {
        32 + 4 + 8 * self.num_hooks() + 8
    }
    /// The name of a base chain hooked at `hook`, as iptables / arptables call it.
    pub fn hook_name(self, hook: u32) -> Option<&'static str> {
        let names: &[&str] = match self {
            Family::Arp => &["INPUT", "OUTPUT", "FORWARD"],
            _ => &["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
        };
        names.get(hook as usize).copied()
    }
    /// Size of the match part at the start of the entry (`ipt_ip`, `ip6t_ip6`, `arpt_arp`).
    const fn header_len(self) -> usize {
        match self {
            Family::Ipv4 => 84,
            Family::Ipv6 => 136,
            Family::Arp => 164,
        }
    }
    /// Offsets inside the entry struct: (target_offset, next_offset, comefrom, counters).
    const fn tail_offsets(self) -> (usize, usize, usize, usize) {
        match self {
            Family::Ipv4 => (88, 90, 92, 96),
            Family::Ipv6 => (140, 142, 144, 152),
            Family::Arp => (164, 166, 168, 176),
        }
    }
}

/// Length of `xt_entry_match` / `xt_entry_target` headers.
pub const XT_HEADER_LEN: usize = 32;
/// Length of `struct *_get_entries` before the entry table.
pub const GET_ENTRIES_HEADER_LEN: usize = 40;
/// Maximum table name length (`XT_TABLE_MAXNAMELEN`), NUL included.
pub const TABLE_MAXNAMELEN: usize = 32;
/// `XT_RETURN`: the standard verdict that returns from a user chain.
pub const XT_RETURN: i32 = -5;
/// The standard target's name (`XT_STANDARD_TARGET`).
pub const STANDARD_TARGET: &str = "";
/// The error target's name (`XT_ERROR_TARGET`), which heads user chains and ends the table.
pub const ERROR_TARGET: &str = "ERROR";

/// `IPT_F_*` (ip) flags.
pub const IPT_F_FRAG: u8 = 0x01;
pub const IPT_F_GOTO: u8 = 0x02;
/// `IP6T_F_*` (ip6) flags.
pub const IP6T_F_PROTO: u8 = 0x01;
pub const IP6T_F_TOS: u8 = 0x02;
pub const IP6T_F_GOTO: u8 = 0x04;
/// `IPT_INV_*` / `IP6T_INV_*` (same values for both).
pub const INV_VIA_IN: u8 = 0x01;
pub const INV_VIA_OUT: u8 = 0x02;
pub const INV_TOS: u8 = 0x04;
pub const INV_SRCIP: u8 = 0x08;
pub const INV_DSTIP: u8 = 0x10;
pub const INV_FRAG: u8 = 0x20;
pub const INV_PROTO: u8 = 0x40;
/// `ARPT_INV_*`.
pub const ARPT_INV_VIA_IN: u16 = 0x0001;
pub const ARPT_INV_VIA_OUT: u16 = 0x0002;
pub const ARPT_INV_SRCIP: u16 = 0x0004;
pub const ARPT_INV_TGTIP: u16 = 0x0008;
pub const ARPT_INV_SRCDEVADDR: u16 = 0x0010;
pub const ARPT_INV_TGTDEVADDR: u16 = 0x0020;
pub const ARPT_INV_ARPOP: u16 = 0x0040;
pub const ARPT_INV_ARPHRD: u16 = 0x0080;
pub const ARPT_INV_ARPPRO: u16 = 0x0100;
pub const ARPT_INV_ARPHLN: u16 = 0x0200;

// ---------------------------------------------------------------------------------------------
// Checked little readers. Every one returns a Truncated error instead of indexing out of range.

fn slice(b: &[u8], off: usize, len: usize) -> Result<&[u8]> {
    off.checked_add(len)
        .and_then(|end| b.get(off..end))
        .ok_or_else(|| Error::truncated(len, b.len().saturating_sub(off), off))
}
fn arr<const N: usize>(b: &[u8], off: usize) -> Result<[u8; N]> {
    let mut a = [0u8; N];
    a.copy_from_slice(slice(b, off, N)?);
    Ok(a)
}
fn u8_at(b: &[u8], off: usize) -> Result<u8> {
    Ok(arr::<1>(b, off)?[0])
}
fn u16_ne(b: &[u8], off: usize) -> Result<u16> {
    Ok(u16::from_ne_bytes(arr(b, off)?))
}
fn u16_be(b: &[u8], off: usize) -> Result<u16> {
    Ok(u16::from_be_bytes(arr(b, off)?))
}
fn u32_ne(b: &[u8], off: usize) -> Result<u32> {
    Ok(u32::from_ne_bytes(arr(b, off)?))
}
fn i32_ne(b: &[u8], off: usize) -> Result<i32> {
    Ok(i32::from_ne_bytes(arr(b, off)?))
}
fn u64_ne(b: &[u8], off: usize) -> Result<u64> {
    Ok(u64::from_ne_bytes(arr(b, off)?))
}

/// A NUL-terminated name in a fixed field; bytes after the first NUL are ignored. Names that are
/// not UTF-8 are kept lossily (the kernel only accepts what userspace sent).
fn c_name(field: &[u8]) -> String {
    c_name_ref(field).into_owned()
}

/// [`c_name`], borrowed from the field when it is UTF-8.
fn c_name_ref(field: &[u8]) -> Cow<'_, str> {
    let end = field.iter().position(|&c| c == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end])
}

// ---------------------------------------------------------------------------------------------

/// `struct ipt_getinfo` (and `ip6t_getinfo`, `arpt_getinfo`): where the base chains are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Info {
    pub name: String,
    /// Bit `h` set: hook `h` has a base chain.
    pub valid_hooks: u32,
    /// Offset of each hook's first entry (meaningful for valid hooks only).
    pub hook_entry: Vec<u32>,
    /// Offset of each hook's policy entry.
    pub underflow: Vec<u32>,
    pub num_entries: u32,
    /// Size of the entry table in bytes.
    pub size: u32,
}

impl Info {
    /// Parse a `*_getinfo` answer.
    pub fn parse(family: Family, b: &[u8]) -> Result<Info> {
        let n = family.num_hooks();
        let len = family.info_len();
        if b.len() < len {
            return Err(Error::truncated(len, b.len(), 0).context("getinfo"));
        }
        let name = c_name(slice(b, 0, TABLE_MAXNAMELEN)?);
        let valid_hooks = u32_ne(b, 32)?;
        let mut hook_entry = Vec::with_capacity(n);
        let mut underflow = Vec::with_capacity(n);
        for h in 0..n {
            hook_entry.push(u32_ne(b, 36 + 4 * h)?);
            underflow.push(u32_ne(b, 36 + 4 * n + 4 * h)?);
        }
        Ok(Info {
            name,
            valid_hooks,
            hook_entry,
            underflow,
            num_entries: u32_ne(b, 36 + 8 * n)?,
            size: u32_ne(b, 40 + 8 * n)?,
        })
    }

    /// The valid hooks, in hook order.
    pub fn hooks(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.hook_entry.len() as u32).filter(|h| self.valid_hooks & (1 << h) != 0)
    }
}

/// Packet and byte counters (`struct xt_counters`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    pub packets: u64,
    pub bytes: u64,
}

/// An interface name with its match mask (`iniface` + `iniface_mask`): `eth+` is stored as
/// name `eth+`, mask `ff ff ff 00…`; an exact name's mask also covers its terminating NUL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Iface {
    pub name: [u8; 16],
    pub mask: [u8; 16],
}

impl Iface {
    fn parse(b: &[u8], name: usize, mask: usize) -> Result<Iface> {
        Ok(Iface {
            name: arr(b, name)?,
            mask: arr(b, mask)?,
        })
    }
    /// No interface condition.
    pub fn is_any(&self) -> bool {
        self.mask[0] == 0
    }
    /// The name as given to `-i`/`-o` (`eth0`, or `eth+` for a wildcard), as iptables'
    /// `save_iface` prints it (bytes that are not UTF-8 are replaced, lossily).
    pub fn display(&self) -> String {
        let mut s = Vec::with_capacity(17);
        for i in 0..16 {
            if self.mask[i] != 0 {
                if self.name[i] != 0 {
                    s.push(self.name[i]);
                }
            } else {
                if i > 0 && self.name[i - 1] != 0 {
                    s.push(b'+');
                }
                break;
            }
        }
        String::from_utf8_lossy(&s).into_owned()
    }
}

/// `struct ipt_ip`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IpHeader {
    #[serde(serialize_with = "ser_v4")]
    pub src: [u8; 4],
    #[serde(serialize_with = "ser_v4")]
    pub dst: [u8; 4],
    #[serde(serialize_with = "ser_v4")]
    pub smsk: [u8; 4],
    #[serde(serialize_with = "ser_v4")]
    pub dmsk: [u8; 4],
    pub iniface: Iface,
    pub outiface: Iface,
    pub proto: u16,
    /// `IPT_F_*`.
    pub flags: u8,
    /// `IPT_INV_*`.
    pub invflags: u8,
}

/// `struct ip6t_ip6`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ip6Header {
    #[serde(serialize_with = "ser_v6")]
    pub src: [u8; 16],
    #[serde(serialize_with = "ser_v6")]
    pub dst: [u8; 16],
    #[serde(serialize_with = "ser_v6")]
    pub smsk: [u8; 16],
    #[serde(serialize_with = "ser_v6")]
    pub dmsk: [u8; 16],
    pub iniface: Iface,
    pub outiface: Iface,
    pub proto: u16,
    pub tos: u8,
    /// `IP6T_F_*`.
    pub flags: u8,
    /// `IP6T_INV_*`.
    pub invflags: u8,
}

/// `struct arpt_devaddr_info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DevAddr {
    #[serde(serialize_with = "ser_hex")]
    pub addr: [u8; 16],
    #[serde(serialize_with = "ser_hex")]
    pub mask: [u8; 16],
}

/// `struct arpt_arp`. `arpop`, `arhrd`, `arpro` and their masks are host-order values here
/// (converted from the wire's network order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArpHeader {
    #[serde(serialize_with = "ser_v4")]
    pub src: [u8; 4],
    #[serde(serialize_with = "ser_v4")]
    pub tgt: [u8; 4],
    #[serde(serialize_with = "ser_v4")]
    pub smsk: [u8; 4],
    #[serde(serialize_with = "ser_v4")]
    pub tmsk: [u8; 4],
    pub arhln: u8,
    pub arhln_mask: u8,
    pub src_devaddr: DevAddr,
    pub tgt_devaddr: DevAddr,
    pub arpop: u16,
    pub arpop_mask: u16,
    pub arhrd: u16,
    pub arhrd_mask: u16,
    pub arpro: u16,
    pub arpro_mask: u16,
    pub iniface: Iface,
    pub outiface: Iface,
    pub flags: u8,
    /// `ARPT_INV_*`.
    pub invflags: u16,
}

/// The family-specific part of an entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Header {
    Ip(IpHeader),
    Ip6(Ip6Header),
    Arp(ArpHeader),
}

impl Header {
    /// The family of the entry this header came from.
    pub fn family(&self) -> Family {
        match self {
            Header::Ip(_) => Family::Ipv4,
            Header::Ip6(_) => Family::Ipv6,
            Header::Arp(_) => Family::Arp,
        }
    }

    fn parse(family: Family, b: &[u8]) -> Result<Header> {
        Ok(match family {
            Family::Ipv4 => Header::Ip(IpHeader {
                src: arr(b, 0)?,
                dst: arr(b, 4)?,
                smsk: arr(b, 8)?,
                dmsk: arr(b, 12)?,
                iniface: Iface::parse(b, 16, 48)?,
                outiface: Iface::parse(b, 32, 64)?,
                proto: u16_ne(b, 80)?,
                flags: u8_at(b, 82)?,
                invflags: u8_at(b, 83)?,
            }),
            Family::Ipv6 => Header::Ip6(Ip6Header {
                src: arr(b, 0)?,
                dst: arr(b, 16)?,
                smsk: arr(b, 32)?,
                dmsk: arr(b, 48)?,
                iniface: Iface::parse(b, 64, 96)?,
                outiface: Iface::parse(b, 80, 112)?,
                proto: u16_ne(b, 128)?,
                tos: u8_at(b, 130)?,
                flags: u8_at(b, 131)?,
                invflags: u8_at(b, 132)?,
            }),
            Family::Arp => Header::Arp(ArpHeader {
                src: arr(b, 0)?,
                tgt: arr(b, 4)?,
                smsk: arr(b, 8)?,
                tmsk: arr(b, 12)?,
                arhln: u8_at(b, 16)?,
                arhln_mask: u8_at(b, 17)?,
                src_devaddr: DevAddr {
                    addr: arr(b, 18)?,
                    mask: arr(b, 34)?,
                },
                tgt_devaddr: DevAddr {
                    addr: arr(b, 50)?,
                    mask: arr(b, 66)?,
                },
                arpop: u16_be(b, 82)?,
                arpop_mask: u16_be(b, 84)?,
                arhrd: u16_be(b, 86)?,
                arhrd_mask: u16_be(b, 88)?,
                arpro: u16_be(b, 90)?,
                arpro_mask: u16_be(b, 92)?,
                iniface: Iface::parse(b, 94, 126)?,
                outiface: Iface::parse(b, 110, 142)?,
                flags: u8_at(b, 158)?,
                invflags: u16_ne(b, 160)?,
            }),
        })
    }

    /// Whether the rule's standard jump is a goto (`-g`): `IPT_F_GOTO` / `IP6T_F_GOTO`.
    /// arp_tables has no goto.
    pub fn is_goto(&self) -> bool {
        match self {
            Header::Ip(h) => h.flags & IPT_F_GOTO != 0,
            Header::Ip6(h) => h.flags & IP6T_F_GOTO != 0,
            Header::Arp(_) => false,
        }
    }
}

/// An `xt_entry_match` or `xt_entry_target`: name, revision and the extension's payload
/// (everything after the 32-byte header, alignment padding included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct XtBlob {
    pub name: String,
    pub revision: u8,
    #[serde(serialize_with = "ser_hex")]
    pub data: Vec<u8>,
}

impl XtBlob {
    /// The decoded form, through the xt extension registry ([`super::ext::decode`]): a
    /// match when `kind` is [`XtKind::Match`](super::ext::XtKind::Match), else a target.
    pub fn decode(&self, kind: super::ext::XtKind, family: Family) -> super::ext::Xt {
        self.as_ref().decode(kind, family)
    }

    /// This blob, borrowed.
    pub fn as_ref(&self) -> XtRef<'_> {
        XtRef {
            name: Cow::Borrowed(&self.name),
            revision: self.revision,
            data: &self.data,
        }
    }
}

/// An `xt_entry_match` or `xt_entry_target` where it lies (in the entry table, or in an
/// [`XtBlob`]): what [`XtBlob`] holds, without copying it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XtRef<'a> {
    /// Borrowed unless the name is not UTF-8 (then replaced lossily, as [`XtBlob`] has it).
    pub name: Cow<'a, str>,
    pub revision: u8,
    pub data: &'a [u8],
}

impl<'a> XtRef<'a> {
    /// [`XtBlob::decode`].
    pub fn decode(&self, kind: super::ext::XtKind, family: Family) -> super::ext::Xt {
        let nfproto = match family {
            Family::Ipv4 => super::ext::NFPROTO_IPV4,
            Family::Ipv6 => super::ext::NFPROTO_IPV6,
            Family::Arp => super::ext::NFPROTO_ARP,
        };
        super::ext::decode(kind, &self.name, self.revision, nfproto, self.data)
    }

    /// The owned form.
    pub fn to_blob(&self) -> XtBlob {
        XtBlob {
            name: self.name.clone().into_owned(),
            revision: self.revision,
            data: self.data.to_vec(),
        }
    }

    /// Parse one `xt_entry_match`/`xt_entry_target` at `off` in `b`, which must end at or before
    /// `limit`. Returns the blob and its size.
    fn parse(b: &'a [u8], off: usize, limit: usize) -> Result<(XtRef<'a>, usize)> {
        let size = XtBlob::frame(b, off, limit)?;
        let name = c_name_ref(slice(b, off + 2, 29)?);
        let revision = u8_at(b, off + 31)?;
        let data = slice(b, off + XT_HEADER_LEN, size - XT_HEADER_LEN)?;
        Ok((
            XtRef {
                name,
                revision,
                data,
            },
            size,
        ))
    }

    /// `Some(verdict)` if this is the standard target; an error if it is one with a wrong size.
    fn standard_verdict(&self) -> Option<Result<i32>> {
        if self.name != STANDARD_TARGET {
            return None;
        }
        Some(match self.data.len() {
            8 => i32_ne(self.data, 0),
            _ => Err(Error::invalid(format!(
                "standard target with {} data bytes, expected 8",
                self.data.len()
            ))),
        })
    }
}

impl XtBlob {
    /// The checks of [`XtBlob::parse`] without building the blob: its size, which fits the
    /// header and ends at or before `limit`.
    fn frame(b: &[u8], off: usize, limit: usize) -> Result<usize> {
        let size = u16_ne(b, off)? as usize;
        if size < XT_HEADER_LEN {
            return Err(Error::invalid(format!(
                "size {size} is smaller than the {XT_HEADER_LEN}-byte header"
            )));
        }
        if off + size > limit {
            return Err(Error::invalid(format!(
                "size {size} at +{off} runs past +{limit}"
            )));
        }
        // The name, revision and data are in range once the size is (checked by `parse`).
        slice(b, off, size)?;
        Ok(size)
    }
}

/// A standard verdict (`-NF_DROP - 1`, `-NF_ACCEPT - 1`, …, `XT_RETURN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Verdict {
    Drop,
    Accept,
    Stolen,
    Queue,
    Repeat,
    /// `XT_RETURN` (-5 = -NF_REPEAT - 1: the same number, read as "return" by x_tables).
    Return,
    /// Any other negative value.
    Unknown(i32),
}

impl Verdict {
    /// From a negative standard-target verdict.
    pub fn from_raw(v: i32) -> Verdict {
        match v {
            -1 => Verdict::Drop,
            -2 => Verdict::Accept,
            -3 => Verdict::Stolen,
            -4 => Verdict::Queue,
            XT_RETURN => Verdict::Return,
            n => Verdict::Unknown(n),
        }
    }
    /// The name iptables prints (`ACCEPT`, `DROP`, `QUEUE`, `RETURN`); `None` for the others.
    pub fn name(self) -> Option<&'static str> {
        match self {
            Verdict::Accept => Some("ACCEPT"),
            Verdict::Drop => Some("DROP"),
            Verdict::Queue => Some("QUEUE"),
            Verdict::Return => Some("RETURN"),
            _ => None,
        }
    }
}

/// What a rule does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Target {
    /// Standard target with a verdict.
    Verdict(Verdict),
    /// Standard target jumping into a user chain (`-j CHAIN`, or `-g CHAIN` if
    /// [`Header::is_goto`]).
    Jump { chain: String, offset: u32 },
    /// Standard target whose verdict is the next entry: a rule with no `-j`.
    Fallthrough,
    /// Standard target whose offset lands in no user chain (Unknown node: the raw offset).
    BadJump { offset: u32 },
    /// An extension target (`DNAT`, `MASQUERADE`, `LOG`, …).
    Ext(XtBlob),
}

/// [`Target`], borrowed from where the rule lies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetRef<'a> {
    Verdict(Verdict),
    Jump { chain: &'a str, offset: u32 },
    Fallthrough,
    BadJump { offset: u32 },
    Ext(XtRef<'a>),
}

impl Target {
    /// This target, borrowed.
    pub fn as_ref(&self) -> TargetRef<'_> {
        match self {
            Target::Verdict(v) => TargetRef::Verdict(*v),
            Target::Jump { chain, offset } => TargetRef::Jump {
                chain,
                offset: *offset,
            },
            Target::Fallthrough => TargetRef::Fallthrough,
            Target::BadJump { offset } => TargetRef::BadJump { offset: *offset },
            Target::Ext(x) => TargetRef::Ext(x.as_ref()),
        }
    }
}

impl TargetRef<'_> {
    /// The owned form.
    pub fn to_target(&self) -> Target {
        match self {
            TargetRef::Verdict(v) => Target::Verdict(*v),
            TargetRef::Jump { chain, offset } => Target::Jump {
                chain: chain.to_string(),
                offset: *offset,
            },
            TargetRef::Fallthrough => Target::Fallthrough,
            TargetRef::BadJump { offset } => Target::BadJump { offset: *offset },
            TargetRef::Ext(x) => Target::Ext(x.to_blob()),
        }
    }
}

/// A rule decoded where it lies ([`Rules::for_each_view`], [`Rule::view`]): what [`Rule`]
/// holds, its names and payloads borrowed (no allocation).
#[derive(Debug, Clone)]
pub struct RuleView<'a> {
    pub offset: u32,
    pub header: Header,
    pub counters: Counters,
    pub nfcache: u32,
    pub comefrom: u32,
    matches: MatchSrc<'a>,
    pub target: TargetRef<'a>,
}

impl<'a> RuleView<'a> {
    /// The matches, in order.
    pub fn matches(&self) -> Matches<'a> {
        Matches(self.matches)
    }
    /// The owned form.
    pub fn to_rule(&self) -> Rule {
        Rule {
            offset: self.offset,
            header: self.header.clone(),
            counters: self.counters,
            nfcache: self.nfcache,
            comefrom: self.comefrom,
            matches: self.matches().map(|m| m.to_blob()).collect(),
            target: self.target.to_target(),
        }
    }
}

impl Rule {
    /// This rule, borrowed.
    pub fn view(&self) -> RuleView<'_> {
        RuleView {
            offset: self.offset,
            header: self.header.clone(),
            counters: self.counters,
            nfcache: self.nfcache,
            comefrom: self.comefrom,
            matches: MatchSrc::Blobs(&self.matches),
            target: self.target.as_ref(),
        }
    }
}

/// Where a rule's matches lie.
#[derive(Debug, Clone, Copy)]
enum MatchSrc<'a> {
    /// `ent[at..end]` of an entry whose matches were checked.
    Entry {
        ent: &'a [u8],
        at: usize,
        end: usize,
    },
    Blobs(&'a [XtBlob]),
}

/// The matches of a [`RuleView`].
#[derive(Debug, Clone)]
pub struct Matches<'a>(MatchSrc<'a>);

impl<'a> Iterator for Matches<'a> {
    type Item = XtRef<'a>;
    fn next(&mut self) -> Option<XtRef<'a>> {
        match &mut self.0 {
            MatchSrc::Entry { ent, at, end } => {
                if *at >= *end {
                    return None;
                }
                let e: &'a [u8] = ent;
                // Checked when the entry was parsed; a failure ends the list.
                let (x, size) = XtRef::parse(e, *at, *end).ok()?;
                *at += size;
                Some(x)
            }
            MatchSrc::Blobs(b) => {
                let (first, rest) = b.split_first()?;
                *b = rest;
                Some(first.as_ref())
            }
        }
    }
}

/// One rule (entry) of a chain. Its JSON form gives each match and an extension target
/// with its decoded form (`decoded`, from the xt registry) next to the raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Offset of the entry in the entry table.
    pub offset: u32,
    pub header: Header,
    pub counters: Counters,
    /// `nfcache` (ip, ip6 only; 0 for arp) and `comefrom` as the kernel left them.
    pub nfcache: u32,
    pub comefrom: u32,
    pub matches: Vec<XtBlob>,
    pub target: Target,
}

/// A chain: a base chain (with hook and policy) or a user-defined one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chain {
    pub name: String,
    /// Hook number for a base chain.
    pub hook: Option<u32>,
    /// The policy (base chains), from the foot entry at `underflow[hook]`.
    pub policy: Option<Verdict>,
    /// The foot entry's counters: the policy counters of a base chain.
    pub counters: Counters,
    pub rules: Rules,
    /// Offsets of the chain's head entry (its `ERROR` entry or first rule) and of its foot.
    pub head_offset: u32,
    pub foot_offset: u32,
}

impl Chain {
    pub fn is_builtin(&self) -> bool {
        self.hook.is_some()
    }
}

/// A whole legacy table, chains in blob order (for tables written by libiptc: base chains in
/// hook order, then user chains sorted by name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Table {
    pub family: Family,
    pub name: String,
    pub valid_hooks: u32,
    pub chains: Vec<Chain>,
    /// A rule holds an xt `set` match or `SET` target (which name ipsets by index): known
    /// from the check pass, without decoding the rules.
    #[serde(skip)]
    pub names_ipsets: bool,
}

/// What the rules of one table share: the kernel's entry table itself (rules are decoded from
/// it when read, so a table costs its own size in memory, not a decoded copy) and the user
/// chains' offset ranges, to name jump targets.
#[derive(Debug)]
struct Shared {
    family: Family,
    /// The whole `*_get_entries` answer; the entries start after its header.
    blob: Vec<u8>,
    /// Head offset, foot offset and name of each user chain, in blob order (chains are cut in
    /// blob order, so the ranges are sorted and disjoint). Apart, so that the search for a
    /// jump's chain reads 4 bytes per step.
    heads: Vec<u32>,
    feet: Vec<u32>,
    names: Vec<String>,
    /// An all-zero header of the family (for the rule that could not be decoded).
    empty_header: Header,
}

impl Shared {
    fn table(&self) -> &[u8] {
        self.blob.get(GET_ENTRIES_HEADER_LEN..).unwrap_or_default()
    }

    /// The rule at entry offset `off`, decoded in place; `None` if it does not decode (see
    /// [`Shared::rule`]).
    fn view(&self, off: u32) -> Option<RuleView<'_>> {
        let e = parse_entry(self.family, self.table(), off as usize).ok()?;
        let target = self.target(&e).ok()?;
        Some(RuleView {
            offset: e.offset as u32,
            header: e.header,
            counters: e.counters,
            nfcache: e.nfcache,
            comefrom: e.comefrom,
            matches: e.matches,
            target,
        })
    }

    /// Decode the rule at entry offset `off`. [`Table::parse`] decoded every entry with the
    /// same code before keeping the table, so this cannot fail; if it ever did, the rule comes
    /// back with a target that says so (never silently dropped).
    fn rule(&self, off: u32) -> Rule {
        match parse_entry(self.family, self.table(), off as usize) {
            Ok(e) => {
                let target = match self.target(&e) {
                    Ok(t) => t.to_target(),
                    Err(err) => Target::Ext(XtBlob {
                        name: "(undecodable target)".into(),
                        revision: 0,
                        data: err.to_string().into_bytes(),
                    }),
                };
                Rule {
                    offset: e.offset as u32,
                    header: e.header.clone(),
                    counters: e.counters,
                    nfcache: e.nfcache,
                    comefrom: e.comefrom,
                    matches: e.matches().map(|m| m.to_blob()).collect(),
                    target,
                }
            }
            Err(err) => Rule {
                offset: off,
                header: self.empty_header.clone(),
                counters: Counters::default(),
                nfcache: 0,
                comefrom: 0,
                matches: Vec::new(),
                target: Target::Ext(XtBlob {
                    name: "(undecodable entry)".into(),
                    revision: 0,
                    data: err.to_string().into_bytes(),
                }),
            },
        }
    }

    /// A rule's target: a verdict, the next entry (fall through), a jump to the user chain
    /// whose range holds the offset, or an extension.
    fn target<'a>(&'a self, e: &RawEntry<'a>) -> Result<TargetRef<'a>> {
        Ok(match e.target.standard_verdict() {
            None => TargetRef::Ext(e.target.clone()),
            Some(Err(err)) => return Err(err),
            Some(Ok(v)) if v < 0 => TargetRef::Verdict(Verdict::from_raw(v)),
            Some(Ok(v)) => {
                let v = v as u32;
                if v as usize == e.offset + e.next {
                    TargetRef::Fallthrough
                } else {
                    // The last chain whose head is at or before `v`.
                    let i = self.heads.partition_point(|h| *h <= v).checked_sub(1);
                    let hit = i.filter(|&i| self.feet.get(i).is_some_and(|f| v <= *f));
                    match hit.and_then(|i| self.names.get(i)) {
                        Some(n) => TargetRef::Jump {
                            chain: n,
                            offset: v,
                        },
                        None => TargetRef::BadJump { offset: v },
                    }
                }
            }
        })
    }
}

/// A chain's rules in order, decoded from the kernel's entry table when read: iterating
/// yields owned [`Rule`]s (hold on to one rather than asking twice).
#[derive(Clone)]
pub struct Rules {
    shared: std::sync::Arc<Shared>,
    offsets: Vec<u32>,
}

impl Rules {
    pub fn len(&self) -> usize {
        self.offsets.len()
    }
    pub fn is_empty(&self) -> bool {
        self.offsets.is_empty()
    }
    pub fn get(&self, i: usize) -> Option<Rule> {
        self.offsets.get(i).map(|o| self.shared.rule(*o))
    }
    pub fn iter(&self) -> RulesIter<'_> {
        RulesIter {
            shared: &self.shared,
            offsets: self.offsets.iter(),
        }
    }
    /// The entry offsets of the rules, in order.
    pub fn offsets(&self) -> &[u32] {
        &self.offsets
    }
    /// Each rule in order, decoded in place (what [`Rules::iter`] yields, without allocating
    /// its names and payloads); stops at the first error `f` returns.
    pub fn for_each_view<E>(
        &self,
        mut f: impl FnMut(&RuleView<'_>) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        for &off in &self.offsets {
            match self.shared.view(off) {
                Some(v) => f(&v)?,
                // What `iter` yields for an entry that does not decode.
                None => f(&self.shared.rule(off).view())?,
            }
        }
        Ok(())
    }
}

/// Iterator over a chain's decoded rules.
pub struct RulesIter<'a> {
    shared: &'a Shared,
    offsets: std::slice::Iter<'a, u32>,
}

impl Iterator for RulesIter<'_> {
    type Item = Rule;
    fn next(&mut self) -> Option<Rule> {
        self.offsets.next().map(|o| self.shared.rule(*o))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.offsets.size_hint()
    }
}
impl DoubleEndedIterator for RulesIter<'_> {
    fn next_back(&mut self) -> Option<Rule> {
        self.offsets.next_back().map(|o| self.shared.rule(*o))
    }
}
impl ExactSizeIterator for RulesIter<'_> {}

impl<'a> IntoIterator for &'a Rules {
    type Item = Rule;
    type IntoIter = RulesIter<'a>;
    fn into_iter(self) -> RulesIter<'a> {
        self.iter()
    }
}

impl PartialEq for Rules {
    fn eq(&self, other: &Rules) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}
impl Eq for Rules {}

impl std::fmt::Debug for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for Rules {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for r in self.iter() {
            seq.serialize_element(&r)?;
        }
        seq.end()
    }
}

/// What pass 1 keeps of an entry: enough to cut chains and check them (24 bytes; feet read
/// their counters and conditions from the table when needed).
struct Summary {
    offset: u32,
    /// The target is `ERROR` (a user chain's head, or the table's end); its data, the chain
    /// name, is at `offset + target_offset + 32`.
    error_at: Option<u32>,
    /// The standard target's verdict or jump (`None`: another target; `Err(len)`: a standard
    /// target with `len` data bytes instead of 8).
    verdict: Option<std::result::Result<i32, u16>>,
    /// No match (a policy must have none).
    no_match: bool,
}

/// One entry, checked, its matches and target where they lie.
struct RawEntry<'a> {
    offset: usize,
    next: usize,
    header: Header,
    counters: Counters,
    nfcache: u32,
    comefrom: u32,
    matches: MatchSrc<'a>,
    target: XtRef<'a>,
}

impl<'a> RawEntry<'a> {
    fn matches(&self) -> Matches<'a> {
        Matches(self.matches)
    }
}

/// The offsets of the entry at `off` (`target_offset`, `next_offset`), checked as
/// [`parse_entry`] checks them.
fn entry_frame(family: Family, t: &[u8], off: usize) -> Result<(usize, usize)> {
    let elen = family.entry_len();
    let e = slice(t, off, elen)?;
    let (to, no, _, _) = family.tail_offsets();
    let target_offset = u16_ne(e, to)? as usize;
    let next_offset = u16_ne(e, no)? as usize;
    if next_offset < elen + XT_HEADER_LEN || next_offset % 8 != 0 {
        return Err(Error::invalid(format!(
            "next_offset {next_offset} is impossible"
        )));
    }
    if off + next_offset > t.len() {
        return Err(Error::invalid(format!(
            "next_offset {next_offset} runs past the table end (+{})",
            t.len()
        )));
    }
    if target_offset < elen || target_offset + XT_HEADER_LEN > next_offset {
        return Err(Error::invalid(format!(
            "target_offset {target_offset} outside [{elen}, {}]",
            next_offset - XT_HEADER_LEN
        )));
    }
    Ok((target_offset, next_offset))
}

/// What [`parse_entry`] would check and the chain cutting needs, without building the entry
/// (no allocation but the names of `ERROR` targets). Fails exactly where `parse_entry` fails
/// (a unit test holds the two together on corrupted tables).
fn scan_entry(family: Family, t: &[u8], off: usize, ipsets: &mut bool) -> Result<(Summary, usize)> {
    let (target_offset, next_offset) = entry_frame(family, t, off)?;
    let elen = family.entry_len();
    let ent = &t[off..off + next_offset];
    let mut m = elen;
    let mut n = 0usize;
    while m < target_offset {
        let size = XtBlob::frame(ent, m, target_offset)
            .map_err(|e| e.context(format!("match {n} at +{m}")))?;
        *ipsets |= ent[m + 2..m + 6] == *b"set\0";
        m += size;
        n += 1;
    }
    let size = XtBlob::frame(ent, target_offset, next_offset).map_err(|e| e.context("target"))?;
    let name = &ent[target_offset + 2..target_offset + 31];
    let name = &name[..name.iter().position(|&c| c == 0).unwrap_or(name.len())];
    *ipsets |= name == b"SET";
    let data = &ent[target_offset + XT_HEADER_LEN..target_offset + size];
    let verdict = if name == STANDARD_TARGET.as_bytes() {
        Some(match data.len() {
            8 => Ok(i32_ne(data, 0)?),
            n => Err(n as u16),
        })
    } else {
        None
    };
    let error_at = (name == ERROR_TARGET.as_bytes()).then_some((off + target_offset) as u32);
    Ok((
        Summary {
            offset: off as u32,
            error_at,
            verdict,
            no_match: n == 0,
        },
        next_offset,
    ))
}

/// The chain name in the `ERROR` target at `at` (the target's offset in the table).
fn error_name(t: &[u8], at: usize) -> Result<String> {
    let size = u16_ne(t, at)? as usize;
    Ok(c_name(slice(
        t,
        at + XT_HEADER_LEN,
        size.saturating_sub(XT_HEADER_LEN),
    )?))
}

/// Parse one entry at `off` of the entry table `t`.
fn parse_entry(family: Family, t: &[u8], off: usize) -> Result<RawEntry<'_>> {
    let (target_offset, next_offset) = entry_frame(family, t, off)?;
    let elen = family.entry_len();
    let (to, _, cf, cn) = family.tail_offsets();
    let ent = &t[off..off + next_offset];
    let header = Header::parse(family, ent)?;
    let nfcache = if family == Family::Arp {
        0
    } else {
        u32_ne(ent, to - 4)?
    };
    let comefrom = u32_ne(ent, cf)?;
    let counters = Counters {
        packets: u64_ne(ent, cn)?,
        bytes: u64_ne(ent, cn + 8)?,
    };
    let mut m = elen;
    let mut n = 0usize;
    while m < target_offset {
        let size = XtBlob::frame(ent, m, target_offset)
            .map_err(|e| e.context(format!("match {n} at +{m}")))?;
        m += size;
        n += 1;
    }
    let matches = MatchSrc::Entry {
        ent,
        at: elen,
        end: target_offset,
    };
    // Bytes between the target's end and next_offset (none from libiptc) are not modelled.
    let (target, _) =
        XtRef::parse(ent, target_offset, next_offset).map_err(|e| e.context("target"))?;
    Ok(RawEntry {
        offset: off,
        next: next_offset,
        header,
        counters,
        nfcache,
        comefrom,
        matches,
        target,
    })
}

/// A half-built chain while walking.
struct Building {
    name: String,
    hook: Option<u32>,
    head_offset: u32,
    /// Its entries (rules, then the foot) are `raws[start..end]`: chains are contiguous.
    start: usize,
    end: usize,
}

impl Table {
    /// Walk the answer to `*_SO_GET_ENTRIES` (the whole `struct *_get_entries`, header
    /// included) using the base-chain offsets of `info`.
    pub fn parse(family: Family, info: &Info, blob: &[u8]) -> Result<Table> {
        Self::parse_owned(family, info, blob.to_vec())
    }

    /// [`Table::parse`], keeping `blob` (the rules are decoded from it when read).
    pub fn parse_owned(family: Family, info: &Info, blob: Vec<u8>) -> Result<Table> {
        let name = c_name(slice(&blob, 0, TABLE_MAXNAMELEN)?);
        let size = u32_ne(&blob, 32)? as usize;
        let table = blob.get(GET_ENTRIES_HEADER_LEN..).unwrap_or_default();
        if size != info.size as usize {
            return Err(Error::invalid(format!(
                "entries size {size} differs from getinfo size {}",
                info.size
            )));
        }
        if table.len() < size {
            return Err(Error::truncated(size, table.len(), GET_ENTRIES_HEADER_LEN));
        }
        let mut blob = blob;
        blob.truncate(GET_ENTRIES_HEADER_LEN + size);
        Self::parse_entries(family, info, &name, blob)
            .map_err(|e| e.context(format!("table {name}")))
    }

    fn parse_entries(family: Family, info: &Info, name: &str, blob: Vec<u8>) -> Result<Table> {
        let t = &blob[GET_ENTRIES_HEADER_LEN..];
        let n = family.num_hooks();
        if info.hook_entry.len() != n || info.underflow.len() != n {
            return Err(Error::invalid(format!(
                "getinfo has {}/{} hook offsets, the family has {n} hooks",
                info.hook_entry.len(),
                info.underflow.len()
            )));
        }
        // Pass 1: cut the blob into entries. (Capacity bounded by what the blob can hold, not
        // by the claimed count.)
        // Every entry is checked here as `parse_entry` checks it (which decodes it when read),
        // and only a summary is kept.
        let fit = t.len() / (family.entry_len() + XT_HEADER_LEN);
        let mut raws = Vec::with_capacity((info.num_entries as usize).min(fit));
        let mut off = 0usize;
        let mut names_ipsets = false;
        while off < t.len() {
            let (e, next) = scan_entry(family, t, off, &mut names_ipsets)
                .map_err(|e| e.context(format!("entry {} at +{off}", raws.len())))?;
            off += next; // next >= entry_len + 32 > 0: always advances
            raws.push(e);
        }
        if raws.len() != info.num_entries as usize {
            return Err(Error::invalid(format!(
                "{} entries, getinfo says {}",
                raws.len(),
                info.num_entries
            )));
        }
        let hooks: Vec<u32> = info.hooks().collect();
        for &h in &hooks {
            for (what, o) in [
                ("hook_entry", info.hook_entry[h as usize]),
                ("underflow", info.underflow[h as usize]),
            ] {
                if !raws.iter().any(|e| e.offset == o) {
                    return Err(Error::invalid(format!(
                        "{what}[{h}] = {o} is not an entry boundary"
                    )));
                }
            }
        }

        // Pass 2: cut entries into chains, as libiptc does.
        let last = raws.len().saturating_sub(1);
        let mut built: Vec<Building> = Vec::new();
        let mut cur: Option<Building> = None;
        for (i, e) in raws.iter().enumerate() {
            if i == last {
                // The table's final ERROR entry.
                if e.error_at.is_none() {
                    return Err(Error::invalid(
                        "last entry's target is not ERROR".to_string(),
                    ));
                }
                built.extend(cur.take());
                break;
            }
            if let Some(at) = e.error_at {
                let name = error_name(t, at as usize)?;
                built.extend(cur.take());
                cur = Some(Building {
                    name,
                    hook: None,
                    head_offset: e.offset,
                    start: i + 1,
                    end: i + 1,
                });
                continue;
            }
            if let Some(&h) = hooks
                .iter()
                .find(|&&h| info.hook_entry[h as usize] == e.offset)
            {
                built.extend(cur.take());
                cur = Some(Building {
                    name: family.hook_name(h).unwrap_or("?").to_string(),
                    hook: Some(h),
                    head_offset: e.offset,
                    start: i,
                    end: i,
                });
            }
            match cur.as_mut() {
                Some(c) => c.end = i + 1,
                None => {
                    return Err(Error::invalid(format!(
                        "entry at +{} belongs to no chain",
                        e.offset
                    )))
                }
            }
        }

        // Pass 3: feet, policies, then targets (jumps resolved against user-chain ranges).
        let bad_verdict =
            |len: u16| Error::invalid(format!("standard target with {len} data bytes, expected 8"));
        let mut feet = Vec::with_capacity(built.len());
        for b in &built {
            let foot = b
                .end
                .checked_sub(1)
                .filter(|&f| f >= b.start)
                .map(|f| &raws[f]);
            let foot = foot.ok_or_else(|| {
                Error::invalid(format!(
                    "chain {} has no foot (policy/return) entry",
                    b.name
                ))
            })?;
            if let Some(h) = b.hook {
                if foot.offset != info.underflow[h as usize] {
                    return Err(Error::invalid(format!(
                        "chain {}: foot at +{} but underflow[{h}] = {}",
                        b.name, foot.offset, info.underflow[h as usize]
                    )));
                }
                // As the kernel's check_underflow(): a policy has no condition. This also
                // catches getinfo offsets from another version of the table that happen to
                // fall on entry boundaries.
                let unconditional = foot.no_match
                    && t[foot.offset as usize..foot.offset as usize + family.header_len()]
                        .iter()
                        .all(|&b| b == 0);
                if !unconditional {
                    return Err(Error::invalid(format!(
                        "chain {}: policy entry at +{} has conditions",
                        b.name, foot.offset
                    )));
                }
            }
            feet.push(foot);
        }
        // Chains are cut in blob order, so the ranges are sorted and disjoint.
        let user = || built.iter().zip(&feet).filter(|(b, _)| b.hook.is_none());
        let heads: Vec<u32> = user().map(|(b, _)| b.head_offset).collect();
        let feet_at: Vec<u32> = user().map(|(_, f)| f.offset).collect();
        let names: Vec<String> = user().map(|(b, _)| b.name.clone()).collect();
        type Pending = (
            Vec<u32>,
            String,
            Option<u32>,
            Option<Verdict>,
            Counters,
            u32,
            u32,
        );
        let mut pending: Vec<Pending> = Vec::with_capacity(built.len());
        for (b, foot) in built.into_iter().zip(feet) {
            let policy = match foot.verdict {
                Some(Ok(v)) if v < 0 => Some(Verdict::from_raw(v)),
                Some(Err(len)) => {
                    return Err(bad_verdict(len).context(format!("chain {} foot", b.name)))
                }
                _ if b.hook.is_some() => {
                    return Err(Error::invalid(format!(
                        "chain {}: policy entry is not a standard verdict",
                        b.name
                    )))
                }
                _ => None,
            };
            let rules = &raws[b.start..b.end - 1];
            let mut offsets = Vec::with_capacity(rules.len());
            for (n, e) in rules.iter().enumerate() {
                if let Some(Err(len)) = e.verdict {
                    return Err(bad_verdict(len).context(format!(
                        "chain {} rule {}",
                        b.name,
                        n + 1
                    )));
                }
                offsets.push(e.offset);
            }
            let (_, _, _, cn) = family.tail_offsets();
            let at = foot.offset as usize + cn;
            let counters = Counters {
                packets: u64_ne(t, at)?,
                bytes: u64_ne(t, at + 8)?,
            };
            pending.push((
                offsets,
                b.name,
                b.hook,
                policy,
                counters,
                b.head_offset,
                foot.offset,
            ));
        }
        let shared = std::sync::Arc::new(Shared {
            family,
            heads,
            feet: feet_at,
            names,
            empty_header: Header::parse(family, &vec![0u8; family.entry_len()])?,
            blob,
        });
        let mut chains = Vec::with_capacity(pending.len());
        for (offsets, chain, hook, policy, counters, head_offset, foot_offset) in pending {
            let rules = Rules {
                shared: shared.clone(),
                offsets,
            };
            chains.push(Chain {
                name: chain,
                hook,
                policy,
                counters,
                rules,
                head_offset,
                foot_offset,
            });
        }
        Ok(Table {
            family,
            name: name.to_string(),
            valid_hooks: info.valid_hooks,
            chains,
            names_ipsets,
        })
    }
}

/// Zero the packet and byte counters of every entry in a `*_get_entries` answer (header
/// included), so that two reads of an unchanged table compare equal whatever the traffic.
/// Walks `next_offset`s with the same checks as [`Table::parse`] (minus the chain checks).
pub fn zero_counters(family: Family, blob: &mut [u8]) -> Result<()> {
    let size = u32_ne(blob, 32)? as usize;
    let end = GET_ENTRIES_HEADER_LEN
        .checked_add(size)
        .filter(|&e| e <= blob.len())
        .ok_or_else(|| Error::truncated(size, blob.len().saturating_sub(40), 40))?;
    let (_, no, _, cn) = family.tail_offsets();
    let elen = family.entry_len();
    let mut off = GET_ENTRIES_HEADER_LEN;
    while off < end {
        let e = slice(blob, off, elen)?;
        let next = u16_ne(e, no)? as usize;
        if next < elen + XT_HEADER_LEN || off + next > end {
            return Err(Error::invalid(format!(
                "next_offset {next} at +{off} is impossible"
            )));
        }
        blob[off + cn..off + cn + 16].fill(0);
        off += next;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// JSON forms: addresses as text, byte strings as hex, interfaces as iptables writes them, and
// xt payloads with their decoded form.

fn ser_v4<S: serde::Serializer>(a: &[u8; 4], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(&std::net::Ipv4Addr::from(*a))
}
fn ser_v6<S: serde::Serializer>(a: &[u8; 16], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(&std::net::Ipv6Addr::from(*a))
}
fn hex(b: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(b.len() * 2);
    for x in b {
        out.push(char::from(D[usize::from(x >> 4)]));
        out.push(char::from(D[usize::from(x & 15)]));
    }
    out
}
fn ser_hex<S: serde::Serializer, B: AsRef<[u8]>>(
    b: &B,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&hex(b.as_ref()))
}

impl Iface {
    /// Whether name and mask are what iptables writes for `-i NAME`: `eth0` with 0xff over
    /// its five bytes (NUL included), `eth+` with 0xff over the three bytes before the `+`.
    fn is_canonical(&self) -> bool {
        let len = self.name.iter().position(|&c| c == 0).unwrap_or(16);
        let covered = match len.checked_sub(1).map(|i| self.name[i]) {
            None => 0, // no interface: all zero
            Some(b'+') => len - 1,
            Some(_) => (len + 1).min(16),
        };
        self.mask
            .iter()
            .enumerate()
            .all(|(i, &m)| m == if i < covered { 0xff } else { 0 })
            && self.name[len..].iter().all(|&c| c == 0)
    }
}

/// A canonical interface is its `-i`/`-o` text (`""` for any, `eth0`, `veth+`); any other
/// mask keeps both byte strings.
impl Serialize for Iface {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        if self.is_canonical() {
            return s.serialize_str(&self.display());
        }
        let mut st = s.serialize_struct("Iface", 2)?;
        st.serialize_field("name", &hex(&self.name))?;
        st.serialize_field("mask", &hex(&self.mask))?;
        st.end()
    }
}

#[derive(Serialize)]
struct XtJson<'a> {
    name: &'a str,
    revision: u8,
    #[serde(serialize_with = "ser_hex")]
    data: &'a [u8],
    decoded: super::ext::Xt,
}

impl<'a> XtJson<'a> {
    fn new(b: &'a XtBlob, kind: super::ext::XtKind, family: Family) -> Self {
        XtJson {
            name: &b.name,
            revision: b.revision,
            data: &b.data,
            decoded: b.decode(kind, family),
        }
    }
}

#[derive(Serialize)]
enum TargetJson<'a> {
    Verdict(Verdict),
    Jump { chain: &'a str, offset: u32 },
    Fallthrough,
    BadJump { offset: u32 },
    Ext(XtJson<'a>),
}

impl Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use super::ext::XtKind;
        use serde::ser::SerializeStruct;
        let family = self.header.family();
        let matches: Vec<XtJson<'_>> = self
            .matches
            .iter()
            .map(|m| XtJson::new(m, XtKind::Match, family))
            .collect();
        let target = match &self.target {
            Target::Verdict(v) => TargetJson::Verdict(*v),
            Target::Jump { chain, offset } => TargetJson::Jump {
                chain,
                offset: *offset,
            },
            Target::Fallthrough => TargetJson::Fallthrough,
            Target::BadJump { offset } => TargetJson::BadJump { offset: *offset },
            Target::Ext(t) => TargetJson::Ext(XtJson::new(t, XtKind::Target, family)),
        };
        let mut st = s.serialize_struct("Rule", 7)?;
        st.serialize_field("offset", &self.offset)?;
        st.serialize_field("header", &self.header)?;
        st.serialize_field("counters", &self.counters)?;
        st.serialize_field("nfcache", &self.nfcache)?;
        st.serialize_field("comefrom", &self.comefrom)?;
        st.serialize_field("matches", &matches)?;
        st.serialize_field("target", &target)?;
        st.end()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Captured in a fresh netns (tests/tests/legacy.rs, `legacy::read_raw`) after
    //   iptables-legacy-restore <<EOF
    //   *filter
    //   :INPUT ACCEPT [0:0]
    //   :FORWARD DROP [0:0]
    //   :OUTPUT ACCEPT [0:0]
    //   :sub - [0:0]
    //   -A INPUT -s 10.0.0.0/8 -i eth+ -p tcp -m tcp --dport 22 -j sub
    //   -A sub -j RETURN
    //   COMMIT
    //   EOF
    // INFO: ipt_getinfo: "filter", valid_hooks 0x0e, hook_entry [-1, 0, 0x160, 0x1f8, -1],
    // underflow [-1, 0xc8, 0x160, 0x1f8, -1], num_entries 8, size 0x520.
    const INFO: &[&str] = &[
        "66696c74657200000000000000000000000000000000000000000000000000000e000000ffffffff0000000060010000",
        "f8010000ffffffffffffffffc800000060010000f8010000ffffffff0800000020050000",
    ];
    // ENTRIES: ipt_get_entries "filter", size 0x520, then 8 entries: INPUT rule (112 + tcp
    // match 48 + standard target 40 = 200), INPUT/FORWARD/OUTPUT policies (152 each), ERROR
    // "sub" (176), sub's RETURN rule (152), sub's foot (152), final ERROR (176).
    const ENTRIES: &[&str] = &[
        "66696c746572000000000000000000000000000000000000000000000000000020050000000000000a00000000000000",
        "ff000000000000006574682b00000000000000000000000000000000000000000000000000000000ffffff0000000000",
        "0000000000000000000000000000000000000000000000000600000000000000a000c800020000000000000000000000",
        "000000000000000030007463700000000000000000000000000000000000000000000000000000000000ffff16001600",
        "000000000000000028000000000000000000000000000000000000000000000000000000000000004003000000000000",
        "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        "000000000000000000000000000000000000000000000000000000000000000000000000000000007000980002000000",
        "000000000000000000000000000000002800000000000000000000000000000000000000000000000000000000000000",
        "feffffff0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        "700098000400000000000000000000000000000000000000280000000000000000000000000000000000000000000000",
        "0000000000000000ffffffff000000000000000000000000000000000000000000000000000000000000000000000000",
        "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        "000000000000000070009800080000000000000000000000000000000000000028000000000000000000000000000000",
        "00000000000000000000000000000000feffffff00000000000000000000000000000000000000000000000000000000",
        "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        "000000000000000000000000000000007000b000000000000000000000000000000000000000000040004552524f5200",
        "000000000000000000000000000000000000000000000000737562000000000000000000000000000000000000000000",
        "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        "700098000200000000000000000000000000000000000000280000000000000000000000000000000000000000000000",
        "0000000000000000fbffffff000000000000000000000000000000000000000000000000000000000000000000000000",
        "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        "000000000000000070009800000000000000000000000000000000000000000028000000000000000000000000000000",
        "00000000000000000000000000000000fbffffff00000000000000000000000000000000000000000000000000000000",
        "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        "000000000000000000000000000000007000b000000000000000000000000000000000000000000040004552524f5200",
        "0000000000000000000000000000000000000000000000004552524f5200000000000000000000000000000000000000",
        "0000000000000000",
    ];

    fn unhex(parts: &[&str]) -> Vec<u8> {
        let s: String = parts.concat();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }
    fn golden() -> (Info, Vec<u8>) {
        (
            Info::parse(Family::Ipv4, &unhex(INFO)).unwrap(),
            unhex(ENTRIES),
        )
    }

    #[test]
    fn golden_table() {
        let (info, blob) = golden();
        assert_eq!(info.name, "filter");
        assert_eq!(info.valid_hooks, 0x0e);
        assert_eq!(info.num_entries, 8);
        assert_eq!(info.size, 0x520);
        assert_eq!(info.hooks().collect::<Vec<_>>(), vec![1, 2, 3]);
        let t = Table::parse(Family::Ipv4, &info, &blob).unwrap();
        let names: Vec<&str> = t.chains.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["INPUT", "FORWARD", "OUTPUT", "sub"]);
        let input = &t.chains[0];
        assert_eq!((input.hook, input.policy), (Some(1), Some(Verdict::Accept)));
        assert_eq!(t.chains[1].policy, Some(Verdict::Drop));
        assert_eq!(t.chains[3].hook, None);
        assert_eq!(input.rules.len(), 1);
        let r = &input.rules.get(0).unwrap();
        let Header::Ip(h) = &r.header else {
            panic!("not ip")
        };
        assert_eq!((h.src, h.smsk), ([10, 0, 0, 0], [255, 0, 0, 0]));
        assert_eq!(h.iniface.display(), "eth+");
        assert!(h.outiface.is_any());
        assert_eq!(h.proto, 6);
        assert_eq!(r.matches.len(), 1);
        assert_eq!(
            (r.matches[0].name.as_str(), r.matches[0].revision),
            ("tcp", 0)
        );
        assert_eq!(r.matches[0].data.len(), 16);
        let tcp = r.matches[0].decode(super::super::ext::XtKind::Match, Family::Ipv4);
        assert_eq!(tcp.to_save(), " -m tcp --dport 22");
        assert!(matches!(&r.target, Target::Jump { chain, .. } if chain == "sub"));
        assert_eq!(t.chains[3].rules.len(), 1);
        assert_eq!(
            t.chains[3].rules.get(0).unwrap().target,
            Target::Verdict(Verdict::Return)
        );
    }

    #[test]
    fn every_truncated_prefix_is_an_error() {
        let (info, blob) = golden();
        for n in 0..blob.len() {
            assert!(
                Table::parse(Family::Ipv4, &info, &blob[..n]).is_err(),
                "prefix {n}"
            );
        }
        let raw = unhex(INFO);
        for n in 0..raw.len() {
            assert!(
                Info::parse(Family::Ipv4, &raw[..n]).is_err(),
                "info prefix {n}"
            );
        }
    }

    fn put16(b: &mut [u8], off: usize, v: u16) {
        b[off..off + 2].copy_from_slice(&v.to_ne_bytes());
    }

    /// Offsets in the golden blob: the first entry starts at 40.
    const E0: usize = GET_ENTRIES_HEADER_LEN;

    #[test]
    fn lying_offsets_are_typed_errors() {
        let (info, blob) = golden();
        for (what, off, v) in [
            ("next_offset 0", E0 + 90, 0u16),
            ("next_offset unaligned", E0 + 90, 201),
            ("next_offset past end", E0 + 90, 0xfff8),
            ("target_offset inside header", E0 + 88, 8),
            ("target_offset past next", E0 + 88, 190),
            ("match size 0", E0 + 112, 0),
            ("match size past target", E0 + 112, 200),
        ] {
            let mut b = blob.clone();
            put16(&mut b, off, v);
            let e = Table::parse(Family::Ipv4, &info, &b);
            assert!(e.is_err(), "{what}: {e:?}");
        }
        // A wrong hook entry, a wrong entry count.
        let mut i2 = info.clone();
        i2.hook_entry[2] = 8;
        assert!(Table::parse(Family::Ipv4, &i2, &blob).is_err());
        let mut i3 = info.clone();
        i3.num_entries = 9;
        assert!(Table::parse(Family::Ipv4, &i3, &blob).is_err());
    }

    #[test]
    fn jump_into_nowhere_is_an_unknown_node() {
        let (info, mut blob) = golden();
        // The INPUT rule's standard target verdict: entry + target_offset 160 + 32.
        let v = E0 + 160 + 32;
        b_put32(&mut blob, v, 8); // inside the INPUT rule itself: no user chain there
        let t = Table::parse(Family::Ipv4, &info, &blob).unwrap();
        assert_eq!(
            t.chains[0].rules.get(0).unwrap().target,
            Target::BadJump { offset: 8 }
        );
        b_put32(&mut blob, v, 200); // the next entry: fall through (no -j)
        let t = Table::parse(Family::Ipv4, &info, &blob).unwrap();
        assert_eq!(
            t.chains[0].rules.get(0).unwrap().target,
            Target::Fallthrough
        );
    }

    fn b_put32(b: &mut [u8], off: usize, v: u32) {
        b[off..off + 4].copy_from_slice(&v.to_ne_bytes());
    }

    #[test]
    fn zero_counters_clears_only_counters() {
        let (info, blob) = golden();
        let mut b = blob.clone();
        // Give the first entry counters (packets at entry + 96, bytes at + 104).
        b[E0 + 96] = 7;
        b[E0 + 104] = 9;
        let t = Table::parse(Family::Ipv4, &info, &b).unwrap();
        assert_eq!(
            t.chains[0].rules.get(0).unwrap().counters,
            Counters {
                packets: 7,
                bytes: 9
            }
        );
        zero_counters(Family::Ipv4, &mut b).unwrap();
        assert_eq!(b, blob);
        for n in 0..blob.len() {
            let mut p = blob[..n].to_vec();
            assert!(zero_counters(Family::Ipv4, &mut p).is_err(), "prefix {n}");
        }
    }

    proptest! {
        /// Arbitrary corruption never panics and always terminates.
        #[test]
        fn corruption_never_panics(edits in proptest::collection::vec((0usize..0x560, any::<u8>()), 1..8)) {
            let (info, mut blob) = golden();
            for (at, v) in edits {
                if let Some(x) = blob.get_mut(at) {
                    *x = v;
                }
            }
            // Every rule of a table that parsed decodes, and nothing else fails where the
            // scan (pass 1) succeeded: scan and parse_entry agree at every entry boundary.
            if let Ok(t) = Table::parse(Family::Ipv4, &info, &blob) {
                for c in &t.chains {
                    for r in &c.rules {
                        prop_assert!(!matches!(&r.target, Target::Ext(x) if x.name.starts_with("(undecodable")));
                    }
                }
            }
            let body = &blob[GET_ENTRIES_HEADER_LEN..];
            let mut off = 0;
            while off < body.len() {
                let mut ipsets = false;
                let scanned = scan_entry(Family::Ipv4, body, off, &mut ipsets);
                let parsed = parse_entry(Family::Ipv4, body, off);
                prop_assert_eq!(scanned.is_ok(), parsed.is_ok(), "entry at +{}", off);
                match (scanned, parsed) {
                    (Ok((s, next)), Ok(p)) => {
                        prop_assert_eq!(next, p.next);
                        prop_assert_eq!(
                            ipsets,
                            p.matches().any(|m| m.name == "set") || p.target.name == "SET"
                        );
                        prop_assert_eq!(
                            s.error_at.map(|a| error_name(body, a as usize).unwrap()),
                            (p.target.name == ERROR_TARGET).then(|| c_name(p.target.data))
                        );
                        off += next;
                    }
                    _ => break,
                }
            }
        }

        /// Arbitrary bytes, with an info that claims they are a table, never panic.
        #[test]
        fn garbage_never_panics(body in proptest::collection::vec(any::<u8>(), 0..2048), n in 0u32..20) {
            let mut blob = vec![0u8; GET_ENTRIES_HEADER_LEN];
            blob[32..36].copy_from_slice(&(body.len() as u32).to_ne_bytes());
            blob.extend_from_slice(&body);
            let info = Info {
                name: String::new(),
                valid_hooks: 0x1f,
                hook_entry: vec![0; 5],
                underflow: vec![0; 5],
                num_entries: n,
                size: body.len() as u32,
            };
            let _ = Table::parse(Family::Ipv4, &info, &blob);
            let _ = Table::parse(Family::Ipv6, &info, &blob);
            let _ = Table::parse(Family::Arp, &info, &blob);
        }
    }
}
