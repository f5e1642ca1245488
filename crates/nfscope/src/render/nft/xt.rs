//! x_tables `match` / `target` expressions (written by iptables-nft) in nft text, in one of two
//! styles ([`XtStyle`]):
//!
//! - **nft**: exactly what nft 1.0.6 prints. nft hands the xt payload to libxtables and prints
//!   the extension's `xlate` output (iptables 1.8.9 here); an extension without a translation
//!   (or whose translation fails) prints as `xt match NAME` / `xt target NAME`, and a `comment`
//!   match prints as nothing (nft drops libxtables' comment, leaving an empty statement).
//! - **translate**: what `iptables-translate` (1.8.9) prints for the same match or target: the
//!   same `xlate` functions, but the comment becomes the rule's `comment "…"`, statements are
//!   trimmed, a few known translation bugs are not reproduced (see `DIFFERENCES.md`), and an
//!   extension with no translation prints visibly with its iptables options
//!   (`xt match set [--match-set s1 src]`) where iptables-translate would refuse the whole rule.
//!
//! Payloads are decoded by `nfscope_wire::xt::ext`; this module only spells the translation,
//! following the iptables `libxt_*.c` xlate functions, including libxtables' separator rule (a
//! space is inserted before a chunk starting with a letter, digit or brace when the text so far
//! does not end in whitespace) and the final trim of trailing spaces.

use nfscope_wire::xt::ext::{self, Names, Xt, XtKind};
use serde::Serialize;

/// How xt matches and targets are printed in nft text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum XtStyle {
    /// As `iptables-translate` prints them: nft syntax where a translation exists, the
    /// comment as the rule's comment, and `xt match NAME [iptables options]` where none does.
    #[default]
    Translate,
    /// Exactly as nft 1.0.6 prints them (`xt match NAME` placeholders, comments dropped).
    Nft,
}

impl XtStyle {
    pub const ALL: [XtStyle; 2] = [XtStyle::Translate, XtStyle::Nft];
    pub fn name(self) -> &'static str {
        match self {
            XtStyle::Translate => "translate",
            XtStyle::Nft => "nft",
        }
    }
    pub fn parse(s: &str) -> Option<XtStyle> {
        XtStyle::ALL.into_iter().find(|x| x.name() == s)
    }
}

/// What the translation of one xt expression depends on besides its payload.
pub struct Cx<'a> {
    /// The table's `NFPROTO_*`.
    pub family: u8,
    /// The transport protocol name from the rule's protocol context (nft passes it to the
    /// extension as the entry's protocol, iptables-translate passes `-p`).
    pub l4: Option<&'a str>,
    pub style: XtStyle,
    /// Names for what payloads hold by number (ipset indexes, realms, conntrack labels).
    pub names: &'a dyn Names,
}

impl Cx<'_> {
    fn nft(&self) -> bool {
        self.style == XtStyle::Nft
    }
}

/// libxtables' `struct xt_xlate` rule buffer.
#[derive(Default)]
struct Xl(String);

impl Xl {
    /// `xt_xlate_add`.
    fn add(&mut self, s: &str) {
        let starts = s
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || "{}[]()".contains(c));
        if !self.0.is_empty() && !self.0.ends_with(char::is_whitespace) && starts {
            self.0.push(' ');
        }
        self.0.push_str(s);
    }
    /// `xt_xlate_add_nospc`.
    fn add_nospc(&mut self, s: &str) {
        self.0.push_str(s);
    }
    /// `xt_xlate_get`: trailing whitespace trimmed.
    fn get(self) -> String {
        self.0.trim_end().to_string()
    }
}

/// The text of an xt expression in the given style. `family` is the table's `NFPROTO_*`.
pub fn text(kind: XtKind, name: &str, rev: u32, info: &[u8], cx: &Cx<'_>) -> String {
    let family = cx.family;
    let x = ext::decode(kind, name, rev.min(255) as u8, family, info);
    let t = if family == NFPROTO_BRIDGE {
        match (kind, name) {
            (XtKind::Target, "log") => ebt_log(info),
            (XtKind::Match, "mark_m") => ebt_mark_m(info),
            (XtKind::Match, "pkttype") => ebt_pkttype(info),
            (XtKind::Target, "mark") => ebt_mark(info),
            (XtKind::Match, "vlan") => ebt_vlan(info),
            (XtKind::Match, "ip") => ebt_ip(info, false),
            (XtKind::Match, "ip6") => ebt_ip(info, true),
            (XtKind::Target, "nflog") => ebt_nflog(&x),
            (XtKind::Target, "dnat" | "snat" | "redirect") => ebt_nat(&x),
            _ => None,
        }
    } else {
        None
    };
    let t = t
        .or_else(|| translate(&x, cx))
        .or_else(|| raw_translate(kind, name, cx, info));
    match (t, cx.style) {
        (Some(t), XtStyle::Nft) => t,
        (Some(t), XtStyle::Translate) => tidy(&t),
        (None, XtStyle::Nft) => match kind {
            XtKind::Match => format!("xt match {name}"),
            XtKind::Target => format!("xt target {name}"),
        },
        (None, XtStyle::Translate) => untranslated(kind, name, &x, cx.names),
    }
}

/// Whitespace runs outside double quotes collapsed to one space, ends trimmed (libxtables'
/// chunks leave stray spaces: ` meta hour …`, `tcp dport 22  limit …`).
fn tidy(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut quoted = false;
    for c in s.trim().chars() {
        if c == '"' {
            quoted = !quoted;
        }
        if !quoted && c.is_whitespace() {
            if !out.ends_with(' ') {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// An extension without a translation, in the translate style: `xt match NAME` /
/// `xt target NAME` and, in brackets, its options as iptables-save prints them (what the
/// payload holds, so that nothing is hidden).
fn untranslated(kind: XtKind, name: &str, x: &Xt, names: &dyn Names) -> String {
    let mut save = String::new();
    x.save_with(names, &mut save);
    // ` -m NAME OPTIONS` / ` -j NAME OPTIONS`: keep OPTIONS
    let mut words = save.trim_start().splitn(3, ' ');
    let opts = match (words.next(), words.next(), words.next()) {
        (Some("-m" | "-j"), Some(_), Some(rest)) => rest.trim(),
        _ => "",
    };
    let kw = match kind {
        XtKind::Match => "match",
        XtKind::Target => "target",
    };
    if opts.is_empty() {
        format!("xt {kw} {name}")
    } else if opts.starts_with('[') {
        format!("xt {kw} {name} {opts}")
    } else {
        format!("xt {kw} {name} [{opts}]")
    }
}

/// The comment of an xt `comment` match (the translate style prints it as the rule's comment).
pub fn comment(kind: XtKind, name: &str, rev: u32, family: u8, info: &[u8]) -> Option<String> {
    if kind != XtKind::Match || name != "comment" {
        return None;
    }
    match ext::decode(kind, name, rev.min(255) as u8, family, info) {
        Xt::Comment(c) => Some(c.comment),
        _ => None,
    }
}

/// `NFPROTO_BRIDGE`: ebtables-nft tables.
const NFPROTO_BRIDGE: u8 = 7;

/// ebtables' `log` watcher (`struct ebt_log_info { u8 loglevel; char prefix[30]; u32 bitmask }`),
/// as libebt_log's xlate spells it: the level unless `info`, and always `flags ether`.
fn ebt_log(info: &[u8]) -> Option<String> {
    const P: [&str; 8] = [
        "emerg", "alert", "crit", "error", "warning", "notice", "info", "debug",
    ];
    let level = *info.first()?;
    let raw = info.get(1..31)?;
    let end = raw.iter().position(|&c| c == 0).unwrap_or(raw.len());
    let prefix = String::from_utf8_lossy(&raw[..end]);
    let mut xl = Xl::default();
    xl.add("log");
    if !prefix.is_empty() {
        xl.add(&format!(" prefix \"{prefix}\""));
    }
    if level != 6 {
        xl.add(&format!(" level {}", P.get(level as usize)?));
    }
    xl.add(" flags ether ");
    Some(xl.get())
}

fn ne_u64(b: &[u8], off: usize) -> Option<u64> {
    Some(u64::from_ne_bytes(b.get(off..off + 8)?.try_into().ok()?))
}

/// ebtables' `mark_m` match (`struct ebt_mark_m_info { unsigned long mark, mask; u8 invert;
/// u8 bitmask }`, x86_64 layout).
/// ebtables `--pkttype-type`: `struct ebt_pkttype_info { u8 pkt_type; u8 invert; }` (not
/// the xt `pkttype` layout).
fn ebt_pkttype(info: &[u8]) -> Option<String> {
    // nft's names; ebtables' other classes (outgoing, loopback...) print as numbers
    let t = *info.first()?;
    let name = match t {
        0 => "host".to_string(),
        1 => "broadcast".to_string(),
        2 => "multicast".to_string(),
        3 => "other".to_string(),
        n => n.to_string(),
    };
    let invert = *info.get(1)? != 0;
    Some(format!(
        "meta pkttype {}{name}",
        if invert { "!= " } else { "" }
    ))
}

fn ebt_mark_m(info: &[u8]) -> Option<String> {
    let mark = ne_u64(info, 0)? as u32;
    let mask = ne_u64(info, 8)? as u32;
    let invert = *info.get(16)? != 0;
    let bitmask = *info.get(17)?;
    let mut xl = Xl::default();
    xl.add("meta mark ");
    if bitmask == 2 {
        xl.add(&format!(
            "and 0x{mask:x} {}0 ",
            if invert { "" } else { "!= " }
        ));
    } else if mask != u32::MAX {
        xl.add(&format!(
            "and 0x{mask:x} {}0x{mark:x} ",
            if invert { "!= " } else { "" }
        ));
    } else {
        xl.add(&format!("{}0x{mark:x} ", if invert { "!= " } else { "" }));
    }
    Some(xl.get())
}

/// ebtables' `mark` target (`struct ebt_mark_t_info { unsigned long mark; int target }`): the
/// mark operation in the upper bits of `target`, the verdict in the low 4.
fn ebt_mark(info: &[u8]) -> Option<String> {
    let mark = ne_u64(info, 0)?;
    let target = i32::from_ne_bytes(info.get(8..12)?.try_into().ok()?);
    let mut xl = Xl::default();
    xl.add("meta mark set ");
    match (target as u32) & 0xffff_fff0 {
        0xffff_fff0 => {}
        0xffff_ffe0 => xl.add("meta mark or "),
        0xffff_ffc0 => xl.add("meta mark xor "),
        0xffff_ffd0 => xl.add("meta mark and "),
        _ => return None,
    }
    // EBT_VERDICT_BITS = 0xf: the verdict is the low nibble, sign-extended
    let verdict = match target | !0xf {
        -1 => "accept",
        -2 => "drop",
        -3 => "continue",
        -4 => "return",
        _ => "",
    };
    xl.add(&format!("0x{mark:x} {verdict} "));
    Some(xl.get())
}

/// ebtables' `vlan` match (`struct ebt_vlan_info { u16 id; u8 prio; be16 encap; u8 bitmask;
/// u8 invflags }`).
fn ebt_vlan(info: &[u8]) -> Option<String> {
    let id = u16::from_ne_bytes(info.get(0..2)?.try_into().ok()?);
    let prio = *info.get(2)?;
    let encap = u16::from_be_bytes(info.get(4..6)?.try_into().ok()?);
    let (bits, inv) = (*info.get(6)?, *info.get(7)?);
    let neg = |b: u8| if inv & b != 0 { "!= " } else { "" };
    let mut xl = Xl::default();
    if bits & 1 != 0 {
        xl.add(&format!("vlan id {}{id} ", neg(1)));
    }
    if bits & 2 != 0 {
        xl.add(&format!("vlan pcp {}{prio} ", neg(2)));
    }
    if bits & 4 != 0 {
        xl.add(&format!("vlan type {}0x{encap:04x} ", neg(4)));
    }
    Some(xl.get())
}

/// `xtables_ipmask_to_numeric` / `xtables_ip6mask_to_numeric`: "" for a host mask, `/N` for a
/// prefix, the mask itself otherwise.
fn mask_text(mask: &[u8], v6: bool) -> String {
    let ones: u32 = mask.iter().map(|b| b.count_ones()).sum();
    let bits = mask.len() as u32 * 8;
    let contiguous = mask
        .iter()
        .flat_map(|b| (0..8).rev().map(move |i| b >> i & 1))
        .skip_while(|&x| x == 1)
        .all(|x| x == 0);
    if ones == bits {
        String::new()
    } else if contiguous {
        format!("/{ones}")
    } else if v6 {
        let mut a = [0u8; 16];
        a.copy_from_slice(&mask[..16]);
        format!("/{}", std::net::Ipv6Addr::from(a))
    } else {
        format!("/{}.{}.{}.{}", mask[0], mask[1], mask[2], mask[3])
    }
}

/// ebtables' `ip` / `ip6` matches (`struct ebt_ip_info` / `struct ebt_ip6_info`), as iptables
/// 1.8.9's xlate prints them: addresses, tos / traffic class, protocol, ports.
fn ebt_ip(info: &[u8], v6: bool) -> Option<String> {
    let alen = if v6 { 16 } else { 4 };
    let addr = |i: usize| info.get(i * alen..(i + 1) * alen);
    let base = 4 * alen;
    let tos = *info.get(base)?;
    let proto = *info.get(base + 1)?;
    let bits = *info.get(base + 2)?;
    let inv = *info.get(base + 3)?;
    let port = |o: usize| -> Option<[u16; 2]> {
        Some([
            u16::from_ne_bytes(info.get(o..o + 2)?.try_into().ok()?),
            u16::from_ne_bytes(info.get(o + 2..o + 4)?.try_into().ok()?),
        ])
    };
    let (sport, dport) = (port(base + 4)?, port(base + 8)?);
    let fam = if v6 { "ip6" } else { "ip" };
    let print_addr = |a: &[u8]| {
        if v6 {
            let mut x = [0u8; 16];
            x.copy_from_slice(a);
            std::net::Ipv6Addr::from(x).to_string()
        } else {
            format!("{}.{}.{}.{}", a[0], a[1], a[2], a[3])
        }
    };
    let mut xl = Xl::default();
    // ip6 only: what would name the protocol otherwise
    if v6 && bits & (1 | 2 | 4 | 0x40) == 0 {
        xl.add("ether type ip6 ");
    }
    for (bit, what, a, m) in [(1u8, "saddr", 0, 2), (2u8, "daddr", 1, 3)] {
        if bits & bit != 0 {
            xl.add(&format!("{fam} {what} "));
            if inv & bit != 0 {
                xl.add("!= ");
            }
            xl.add(&format!(
                "{}{} ",
                print_addr(addr(a)?),
                mask_text(addr(m)?, v6)
            ));
        }
    }
    if bits & 4 != 0 {
        // ECN bits dropped
        xl.add(&format!("{fam} dscp "));
        if inv & 4 != 0 {
            xl.add("!= ");
        }
        xl.add(&format!("0x{:02x} ", tos & 0x3f));
    }
    let mut pname = None;
    if bits & 8 != 0 {
        if bits & (0x10 | 0x20 | 0x40) != 0 && inv & 8 == 0 {
            pname = match proto {
                6 => Some("tcp"),
                17 => Some("udp"),
                136 => Some("udplite"),
                132 => Some("sctp"),
                33 => Some("dccp"),
                _ => None,
            };
        } else {
            xl.add(if v6 { "meta l4proto " } else { "ip protocol " });
            if inv & 8 != 0 {
                xl.add("!= ");
            }
            match super::datatype::proto_name(proto) {
                Some(n) => xl.add(&format!("{n} ")),
                None => xl.add(&format!("{proto} ")),
            }
        }
    }
    for (bit, what, raw, p) in [
        (0x10u8, "sport", "@th,0,16 ", sport),
        (0x20u8, "dport", "@th,16,16 ", dport),
    ] {
        if bits & bit == 0 {
            continue;
        }
        match pname {
            Some(n) => xl.add(&format!("{n} {what} ")),
            None => xl.add(raw),
        }
        if inv & bit != 0 {
            xl.add("!= ");
        }
        if p[0] == p[1] {
            xl.add(&format!("{} ", p[0]));
        } else {
            xl.add(&format!("{}-{} ", p[0], p[1]));
        }
    }
    // icmp / icmpv6 type and code (the same bytes as the ports), igmp type
    let (ty, code) = (sport[0].to_ne_bytes(), dport[0].to_ne_bytes());
    let range = |r: [u8; 2]| {
        if r[0] == r[1] {
            format!("{} ", r[0])
        } else {
            format!("{}-{} ", r[0], r[1])
        }
    };
    let neq = |bit: u8| if inv & bit != 0 { "!= " } else { "" };
    if bits & 0x40 != 0 {
        let icmp = if v6 { "icmpv6" } else { "icmp" };
        xl.add(&format!("{icmp} type {}{}", neq(0x40), range(ty)));
        if code != [0, 0xff] {
            xl.add(&format!("{icmp} code {}{}", neq(0x40), range(code)));
        }
    }
    if !v6 && bits & 0x80 != 0 {
        xl.add(&format!("@th,0,8 {}{}", neq(0x80), range(ty)));
    }
    Some(xl.get())
}

/// ebtables' `nflog` watcher, as iptables 1.8.9's xlate prints it.
fn ebt_nflog(x: &Xt) -> Option<String> {
    let Xt::EbtNflog(n) = x else { return None };
    let mut xl = Xl::default();
    xl.add("log ");
    if !n.prefix.is_empty() {
        xl.add(&format!("prefix \"{}\" ", n.prefix));
    }
    xl.add(&format!("group {} ", n.group));
    if n.len != 0 {
        xl.add(&format!("snaplen {} ", n.len));
    }
    // EBT_NFLOG_DEFAULT_THRESHOLD
    if n.threshold != 1 {
        xl.add(&format!("queue-threshold {} ", n.threshold));
    }
    Some(xl.get())
}

/// ebtables' `dnat`, `snat` and `redirect` targets, as iptables 1.8.9's xlate prints them
/// (`snat` only with `NAT_ARP_BIT` set, i.e. without `--snat-arp`).
fn ebt_nat(x: &Xt) -> Option<String> {
    use nfscope_wire::xt::ext::ebt_nat::EbtNatKind;
    use nfscope_wire::xt::ext::fmt::ether_ntoa;
    let Xt::EbtNat(n) = x else { return None };
    let verdict = |v: i32| match v {
        -1 => "accept",
        -2 => "drop",
        -3 => "continue",
        -4 => "return",
        _ => "",
    };
    let mut xl = Xl::default();
    match n.kind {
        EbtNatKind::Dnat => xl.add(&format!(
            "ether daddr set {} {} ",
            ether_ntoa(&n.mac),
            verdict(n.target)
        )),
        EbtNatKind::Snat => {
            if n.target & 0x10 == 0 {
                return None;
            }
            xl.add(&format!(
                "ether saddr set {} {} ",
                ether_ntoa(&n.mac),
                verdict(n.target | !0xf)
            ));
        }
        EbtNatKind::Redirect => {
            xl.add("meta set pkttype host");
            if n.target != -1 {
                xl.add(&format!(" {} ", verdict(n.target)));
            }
        }
        EbtNatKind::Arpreply => return None,
    }
    Some(xl.get())
}

fn ne_u32(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(off..off + 4)?.try_into().ok()?))
}

fn ne_u16(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(off..off + 2)?.try_into().ok()?))
}

/// Translations of small extensions the wire registry does not decode, read straight from
/// their UAPI structs (x86_64 layout), spelled as iptables 1.8.9's xlate prints them.
fn raw_translate(kind: XtKind, name: &str, cx: &Cx<'_>, d: &[u8]) -> Option<String> {
    let family = cx.family;
    let mut xl = Xl::default();
    match (kind, name) {
        // struct xt_helper_info { int invert; char name[30]; }
        (XtKind::Match, "helper") => {
            let inv = ne_u32(d, 0)? != 0;
            let raw = d.get(4..34)?;
            let end = raw.iter().position(|&c| c == 0).unwrap_or(raw.len());
            let n = String::from_utf8_lossy(&raw[..end]);
            xl.add(&format!(
                "ct helper{} \"{n}\"",
                if inv { " !=" } else { "" }
            ));
        }
        // struct xt_length_info { u16 min, max; u8 invert; }
        (XtKind::Match, "length") => {
            let (min, max, inv) = (ne_u16(d, 0)?, ne_u16(d, 2)?, *d.get(4)? != 0);
            xl.add(&format!("meta length {}", if inv { "!= " } else { "" }));
            if min == max {
                xl.add(&min.to_string());
            } else {
                xl.add(&format!("{min}-{max}"));
            }
        }
        // struct xt_dscp_info { u8 dscp; u8 invert; }
        (XtKind::Match, "dscp") => {
            xl.add(if family == ext::NFPROTO_IPV4 {
                "ip "
            } else {
                "ip6 "
            });
            xl.add(&format!(
                "dscp {}0x{:02x}",
                if *d.get(1)? != 0 { "!= " } else { "" },
                d.first()?
            ));
        }
        // struct xt_DSCP_info { u8 dscp; }
        (XtKind::Target, "DSCP") => {
            let ipf = if family == ext::NFPROTO_IPV4 {
                "ip"
            } else {
                "ip6"
            };
            xl.add(&format!("{ipf} dscp set 0x{:02x}", d.first()?));
        }
        // struct xt_cpu_info { u32 cpu; u32 invert; }
        (XtKind::Match, "cpu") => {
            let (cpu, inv) = (ne_u32(d, 0)?, ne_u32(d, 4)? != 0);
            xl.add(&format!("cpu{} {cpu}", if inv { " !=" } else { "" }));
        }
        // struct xt_quota_info { u32 flags; u32 pad; u64 quota; ... }
        (XtKind::Match, "quota") => {
            let flags = ne_u32(d, 0)?;
            let q = ne_u64(d, 8)?;
            xl.add(&format!(
                "quota {}{q} bytes",
                if flags & 1 != 0 { "over " } else { "" }
            ));
        }
        // struct xt_devgroup_info { u32 flags, src_group, src_mask, dst_group, dst_mask; }
        (XtKind::Match, "devgroup") => {
            let flags = ne_u32(d, 0)?;
            let one = |xl: &mut Xl, what: &str, id: u32, mask: u32, neg: bool| {
                xl.add(&format!("{what} "));
                if mask != u32::MAX {
                    xl.add(&format!(
                        "and 0x{mask:x} {} 0x{id:x}",
                        if neg { "!=" } else { "==" }
                    ));
                } else {
                    xl.add(if neg { "!= " } else { "" });
                    xl.add(&format!("0x{id:x}"));
                }
            };
            let mut neg = false;
            if flags & 1 != 0 {
                neg = flags & 2 != 0;
                one(&mut xl, "iifgroup", ne_u32(d, 4)?, ne_u32(d, 8)?, neg);
            }
            if flags & 4 != 0 {
                neg |= flags & 8 != 0;
                one(&mut xl, "oifgroup", ne_u32(d, 12)?, ne_u32(d, 16)?, neg);
            }
        }
        // struct xt_classify_target_info { u32 priority; }
        (XtKind::Target, "CLASSIFY") => {
            let h = ne_u32(d, 0)?;
            xl.add("meta priority set ");
            match h {
                0xffff_ffff => xl.add("root"),
                0 => xl.add("none"),
                _ => xl.add(&format!("{:x}:{:x}", h >> 16, h & 0xffff)),
            }
        }
        // struct xt_iprange_mtinfo { nf_inet_addr src_min, src_max, dst_min, dst_max; u8 flags; }
        (XtKind::Match, "iprange") => {
            let flags = *d.get(64)?;
            let v4 = family == ext::NFPROTO_IPV4;
            let addr = |o: usize| -> Option<String> {
                let a: [u8; 16] = d.get(o..o + 16)?.try_into().ok()?;
                Some(ip(if v4 { ext::NFPROTO_IPV4 } else { 10 }, &a))
            };
            let fam = if v4 { "ip" } else { "ip6" };
            if flags & 1 != 0 {
                let neg = if flags & 0x10 != 0 { " !=" } else { "" };
                xl.add(&format!("{fam} saddr{neg} {}", addr(0)?));
                xl.add(&format!("-{}", addr(16)?));
            }
            if flags & 2 != 0 {
                let neg = if flags & 0x20 != 0 { " !=" } else { "" };
                xl.add(&format!("{fam} daddr{neg} {}", addr(32)?));
                xl.add(&format!("-{}", addr(48)?));
            }
        }
        (XtKind::Target, "TRACE") => xl.add("meta nftrace set 1"),
        // rev 0: struct ipt_tos_target_info { u8 tos; }; rev 1: struct xt_tos_target_info
        // { u8 tos_value; u8 tos_mask; } (iptables 1.8.9 translates rev 1 as `ip6` even in ip
        // tables, and nft prints that; the translate style says `ip` there)
        (XtKind::Target, "TOS") => {
            let (ipf, tos, mask) = match d.len() {
                1 => ("ip", d[0], 0xff),
                _ if !cx.nft() && family == ext::NFPROTO_IPV4 => ("ip", *d.first()?, *d.get(1)?),
                _ => ("ip6", *d.first()?, *d.get(1)?),
            };
            xl.add(&format!("{ipf} dscp set "));
            if mask & 0x3f == 0x3f {
                xl.add(&format!("0x{:02x}", tos >> 2));
            } else if tos == 0 {
                xl.add(&format!("{ipf} dscp and 0x{:02x}", !mask >> 2));
            } else if tos == mask {
                xl.add(&format!("{ipf} dscp or 0x{:02x}", tos >> 2));
            } else if mask == 0 {
                xl.add(&format!("{ipf} dscp xor 0x{:02x}", tos >> 2));
            } else {
                xl.add(&format!(
                    "{ipf} dscp and 0x{:02x} xor 0x{:02x}",
                    !mask >> 2,
                    tos >> 2
                ));
            }
        }
        // struct xt_ecn_info { u8 operation; u8 invert; u8 ip_ect; u8 tcp_ect; }
        (XtKind::Match, "ecn") => {
            let (op, inv, ect) = (*d.first()?, *d.get(1)? != 0, *d.get(2)?);
            let neg = if inv { "!= " } else { "" };
            if op & 0x10 != 0 {
                xl.add("tcp flags ");
                xl.add(neg);
                xl.add("ecn");
            }
            if op & 0x20 != 0 {
                xl.add("tcp flags ");
                xl.add(neg);
                xl.add("cwr");
            }
            if op & 0x01 != 0 {
                xl.add("ip ecn ");
                xl.add(neg);
                xl.add(["not-ect", "ect1", "ect0", "ce"].get(ect as usize)?);
            }
        }
        _ => return None,
    }
    Some(xl.get())
}

/// `state_xlate_print`; `untracked` is the untracked bit (256 in xt_conntrack, 64 in xt_state).
fn state_list(xl: &mut Xl, mask: u32, inverted: bool, untracked: u32) {
    if inverted {
        xl.add("! ");
    }
    let mut sep = "";
    for (bit, n) in [
        (1, "invalid"),
        (8, "new"),
        (4, "related"),
        (2, "established"),
        (untracked, "untracked"),
    ] {
        if mask & bit != 0 {
            xl.add(&format!("{sep}{n}"));
            sep = ",";
        }
    }
}

fn tcp_flags(xl: &mut Xl, mut flags: u8) {
    let names = [
        (1, "fin"),
        (2, "syn"),
        (4, "rst"),
        (8, "psh"),
        (16, "ack"),
        (32, "urg"),
    ];
    let mut have = false;
    while flags != 0 {
        let Some(&(bit, n)) = names.iter().find(|(b, _)| flags & b != 0) else {
            break;
        };
        xl.add(&format!("{}{n}", if have { "," } else { "" }));
        have = true;
        flags &= !bit;
    }
    if !have {
        xl.add("0x0");
    }
}

fn ports(xl: &mut Xl, proto: &str, what: &str, p: [u16; 2], inv: bool) -> bool {
    if p[0] == 0 && p[1] == u16::MAX && !inv {
        return false;
    }
    let neg = if inv { "!= " } else { "" };
    if p[0] != p[1] {
        xl.add(&format!("{proto} {what} {neg}{}-{}", p[0], p[1]));
    } else {
        xl.add(&format!("{proto} {what} {neg}{}", p[0]));
    }
    true
}

/// `--ports` (either direction), as `__multiport_xlate_v1` spells it: a concatenation of
/// source and destination port against `{ 0-65535 . P, P . 0-65535, … }`. libxtables 1.8.9
/// prints each end of a range as a port of its own and drops `!`; the translate style prints
/// ranges as ranges and keeps the negation.
fn multiport_either(xl: &mut Xl, m: &ext::multiport::Multiport, proto: &str, nft: bool) {
    xl.add(&format!(" sport . {proto} dport "));
    if m.invert && !nft {
        xl.add("!= ");
    }
    xl.add("{ ");
    let mut i = 0;
    let mut first = true;
    while i < m.ports.len() {
        let mut p = m.ports[i].to_string();
        if !nft && m.rev >= 1 && m.pflags.get(i).copied().unwrap_or(false) {
            i += 1;
            p = format!("{p}-{}", m.ports.get(i).copied().unwrap_or(0));
        }
        if !first {
            xl.add(", ");
        }
        first = false;
        xl.add(&format!("0-65535 . {p}, {p} . 0-65535"));
        i += 1;
    }
    xl.add(" }");
}

fn ip(family: u8, a: &[u8; 16]) -> String {
    if family == ext::NFPROTO_IPV4 {
        std::net::Ipv4Addr::new(a[0], a[1], a[2], a[3]).to_string()
    } else {
        std::net::Ipv6Addr::from(*a).to_string()
    }
}

fn translate(x: &Xt, cx: &Cx<'_>) -> Option<String> {
    let l4 = cx.l4;
    let mut xl = Xl::default();
    match x {
        Xt::Comment(_) => {}
        Xt::Statistic(s) => match s.mode {
            0 => xl.add(&format!(
                "meta random & {} {} {}",
                i32::MAX,
                if s.flags & 1 != 0 { ">=" } else { "<" },
                s.value
            )),
            1 => xl.add(&format!(
                "numgen inc mod {} {}{}",
                s.value.wrapping_add(1),
                if s.flags & 1 != 0 { "!= " } else { "" },
                s.packet
            )),
            _ => return None,
        },
        Xt::Mark(m) => {
            xl.add("mark");
            if m.mask != u32::MAX {
                xl.add(&format!(
                    " and 0x{:x} {} 0x{:x}",
                    m.mask,
                    if m.invert { "!=" } else { "==" },
                    m.mark
                ));
            } else {
                xl.add(&format!(
                    " {}0x{:x}",
                    if m.invert { "!= " } else { "" },
                    m.mark
                ));
            }
        }
        // arptables' MARK (revision 2 for NFPROTO_ARP) has no xlate in libxtables 1.8.9
        Xt::MarkTarget(_) if cx.family == ext::NFPROTO_ARP => return None,
        Xt::MarkTarget(t) => {
            xl.add("meta mark set ");
            match t {
                ext::mark::MarkTarget::Xmark { mark, mask } => {
                    let (mark, mask) = (*mark, *mask);
                    if mask == u32::MAX {
                        xl.add(&format!("0x{mark:x} "));
                    } else if mark == 0 {
                        xl.add(&format!("mark and 0x{:x} ", !mask));
                    } else if mark == mask {
                        xl.add(&format!("mark or 0x{mark:x} "));
                    } else if mask == 0 {
                        xl.add(&format!("mark xor 0x{mark:x} "));
                    } else {
                        xl.add(&format!("mark and 0x{:x} xor 0x{mark:x} ", !mask));
                    }
                }
                ext::mark::MarkTarget::Old { mark, mode } => match mode {
                    0 => xl.add(&format!("0x{:x} ", *mark as u32)),
                    1 => xl.add(&format!("mark and 0x{:x} ", *mark as u32)),
                    2 => xl.add(&format!("mark or 0x{:x} ", *mark as u32)),
                    _ => return None,
                },
            }
        }
        Xt::State(s) => {
            xl.add("ct state ");
            state_list(&mut xl, s.statemask, false, 64);
        }
        Xt::Conntrack(c) => {
            // _conntrack3_mt_xlate (the state-alias form prints like `-m state`)
            const STATE: u16 = 1;
            const PROTO: u16 = 2;
            const STATUS: u16 = 64;
            const EXPIRES: u16 = 128;
            const DIRECTION: u16 = 4096;
            const ALIAS: u16 = 8192;
            let (mf, inv) = (c.match_flags, c.invert_flags);
            let neg = |b: u16| if inv & b != 0 { "!= " } else { "" };
            let dir = if inv & DIRECTION != 0 {
                "reply"
            } else {
                "original"
            };
            if mf & ALIAS != 0 && mf & STATE != 0 {
                xl.add("ct state ");
                state_list(&mut xl, c.state_mask as u32, inv & STATE != 0, 256);
                return Some(xl.get());
            }
            // each part after the first starts with an explicit space (libxt_conntrack's
            // `space`), which shows after a part ending in one (`ct status ! ` of no status)
            let mut sp = "";
            if mf & DIRECTION != 0 {
                xl.add(&format!("ct direction {dir}"));
                sp = " ";
            }
            if mf & PROTO != 0 {
                xl.add(&format!(
                    "{sp}ct {dir} protocol {}{}",
                    neg(PROTO),
                    c.l4proto
                ));
                sp = " ";
            }
            if mf & STATE != 0 {
                if c.state_mask & (64 | 128) != 0 {
                    xl.add(&format!(
                        "{sp}ct status {}{}",
                        if inv & STATUS != 0 { "!=" } else { "" },
                        if c.state_mask & 64 != 0 {
                            "snat"
                        } else {
                            "dnat"
                        }
                    ));
                } else {
                    xl.add(&format!("{sp}ct state "));
                    state_list(&mut xl, c.state_mask as u32, inv & STATE != 0, 256);
                }
                sp = " ";
            }
            if mf & STATUS != 0 {
                xl.add(&format!("{sp}ct status "));
                if inv & STATUS != 0 {
                    xl.add("! ");
                }
                let mut sep = "";
                for (bit, n) in [
                    (1, "expected"),
                    (2, "seen-reply"),
                    (4, "assured"),
                    (8, "confirmed"),
                ] {
                    if c.status_mask & bit != 0 {
                        xl.add(&format!("{sep}{n}"));
                        sep = ",";
                    }
                }
                sp = " ";
            }
            if mf & EXPIRES != 0 {
                xl.add(&format!("{sp}ct expiration {}", neg(EXPIRES)));
                if c.expires_min == c.expires_max {
                    xl.add(&c.expires_min.to_string());
                } else {
                    xl.add(&format!("{}-{}", c.expires_min, c.expires_max));
                }
                sp = " ";
            }
            let v4 = c.family == ext::NFPROTO_IPV4;
            let addrs = [
                (4u16, "ct original saddr ", &c.origsrc),
                (8, "ct original daddr ", &c.origdst),
                (16, "ct reply saddr ", &c.replsrc),
                (32, "ct reply daddr ", &c.repldst),
            ];
            for (bit, what, am) in addrs {
                if mf & bit != 0 {
                    xl.add(&format!("{sp}{what}{}", neg(bit)));
                    sp = " ";
                    let (a, m) = if v4 {
                        (&am.addr[..4], &am.mask[..4])
                    } else {
                        (&am.addr[..], &am.mask[..])
                    };
                    let mut full = [0u8; 16];
                    full[..a.len()].copy_from_slice(a);
                    xl.add(&format!("{}{}", ip(c.family, &full), mask_text(m, !v4)));
                }
            }
            let ports = [
                (256u16, "ct original proto-src "),
                (512, "ct original proto-dst "),
                (1024, "ct reply proto-src "),
                (2048, "ct reply proto-dst "),
            ];
            for (i, (bit, what)) in ports.iter().enumerate() {
                if mf & bit != 0 {
                    let lo = c.ports[i];
                    let hi = if c.rev >= 3 { c.ports_high[i] } else { lo };
                    xl.add(&format!("{sp}{what}{}", neg(*bit)));
                    sp = " ";
                    if lo == hi {
                        xl.add(&lo.to_string());
                    } else {
                        xl.add(&format!("{lo}-{hi}"));
                    }
                }
            }
        }
        Xt::Multiport(m) => {
            let proto = l4
                .filter(|p| ["tcp", "udp", "udplite", "sctp", "dccp"].contains(p))
                .unwrap_or("unknown");
            xl.add(proto);
            match m.flags {
                0 => xl.add(" sport "),
                1 => xl.add(" dport "),
                2 => {
                    multiport_either(&mut xl, m, proto, cx.nft());
                    return Some(xl.get());
                }
                _ => return None,
            }
            if m.invert {
                xl.add("!= ");
            }
            let n = m.ports.len();
            let first_range = m.pflags.first().copied().unwrap_or(false);
            let braces = if m.rev >= 1 {
                n > 2 || (n > 1 && !first_range)
            } else {
                n > 1
            };
            if braces {
                xl.add("{ ");
            }
            let mut i = 0;
            while i < n {
                xl.add(&format!("{}{}", if i > 0 { ", " } else { "" }, m.ports[i]));
                if m.rev >= 1 && m.pflags.get(i).copied().unwrap_or(false) {
                    i += 1;
                    xl.add(&format!("-{}", m.ports.get(i).copied().unwrap_or(0)));
                }
                i += 1;
            }
            if braces {
                xl.add("}");
            }
        }
        Xt::Tcp(t) => {
            let mut done = ports(&mut xl, "tcp", "sport", t.spts, t.invflags & 1 != 0);
            done |= ports(&mut xl, "tcp", "dport", t.dpts, t.invflags & 2 != 0);
            if t.option != 0 {
                xl.add(&format!(
                    "tcp option {} {}",
                    t.option,
                    if t.invflags & 8 != 0 {
                        "missing"
                    } else {
                        "exists"
                    }
                ));
                done = true;
            }
            if t.flg_mask != 0 || t.invflags & 4 != 0 {
                xl.add(&format!(
                    "tcp flags {}",
                    if t.invflags & 4 != 0 { "!= " } else { "" }
                ));
                tcp_flags(&mut xl, t.flg_cmp);
                xl.add(" / ");
                tcp_flags(&mut xl, t.flg_mask);
                done = true;
            }
            // iptables 1.8.9 translates a bare `-m tcp` to nothing (1.8.11 adds
            // `meta l4proto tcp`)
            let _ = done;
        }
        Xt::Udp(u) => {
            let mut done = ports(&mut xl, "udp", "sport", u.spts, u.invflags & 1 != 0);
            // libxt_udp 1.8.9 negates the destination port by the *source* port's flag (nft
            // prints that); the translate style uses the right flag
            let dinv = if cx.nft() { 1 } else { 2 };
            done |= ports(&mut xl, "udp", "dport", u.dpts, u.invflags & dinv != 0);
            // iptables 1.8.9 translates a bare `-m udp` to nothing (1.8.11 adds
            // `meta l4proto udp`)
            let _ = done;
        }
        Xt::Reject(r) => {
            let v4 = r.family == ext::NFPROTO_IPV4;
            if v4 {
                const N: [&str; 9] = [
                    "net-unreachable",
                    "host-unreachable",
                    "prot-unreachable",
                    "port-unreachable",
                    "",
                    "net-prohibited",
                    "host-prohibited",
                    "tcp reset",
                    "admin-prohibited",
                ];
                match r.with {
                    3 => xl.add("reject"),
                    7 => xl.add("reject with tcp reset"),
                    w => xl.add(&format!(
                        "reject with icmp type {}",
                        N.get(w as usize).filter(|s| !s.is_empty())?
                    )),
                }
            } else {
                const N: [&str; 9] = [
                    "no-route",
                    "admin-prohibited",
                    "",
                    "addr-unreachable",
                    "port-unreachable",
                    "",
                    "tcp reset",
                    "policy-fail",
                    "reject-route",
                ];
                match r.with {
                    4 => xl.add("reject"),
                    6 => xl.add("reject with tcp reset"),
                    w => xl.add(&format!(
                        "reject with icmpv6 type {}",
                        N.get(w as usize).filter(|s| !s.is_empty())?
                    )),
                }
            }
        }
        Xt::Log(l) => {
            const P: [&str; 8] = [
                "emerg", "alert", "crit", "err", "warn", "notice", "info", "debug",
            ];
            xl.add("log");
            if !l.prefix.is_empty() {
                xl.add(&format!(" prefix \"{}\"", l.prefix));
            }
            let pname = P.get(l.level as usize)?;
            if l.level != 4 {
                xl.add(&format!(" level {pname}"));
            }
            let f = l.logflags;
            if f & 0x2f == 0x2f {
                xl.add(" flags all");
            } else {
                if f & 3 != 0 {
                    xl.add(" flags tcp");
                    let mut delim = " ";
                    if f & 1 != 0 {
                        xl.add(" sequence");
                        delim = ",";
                    }
                    if f & 2 != 0 {
                        xl.add(&format!("{delim}options"));
                    }
                }
                if f & 4 != 0 {
                    xl.add(" flags ip options");
                }
                if f & 8 != 0 {
                    xl.add(" flags skuid");
                }
                if f & 0x20 != 0 {
                    xl.add(" flags ether");
                }
            }
        }
        Xt::Nat(n) => {
            let tgt = match n.name.as_str() {
                "DNAT" => "dnat",
                "SNAT" => "snat",
                "MASQUERADE" => "masquerade",
                "REDIRECT" => "redirect",
                _ => return None,
            };
            const MAP_IPS: u32 = 1;
            const PROTO_SPECIFIED: u32 = 2;
            if n.flags & ext::nat::PROTO_OFFSET != 0 {
                return None;
            }
            let fam = if n.family == ext::NFPROTO_IPV4 {
                ext::NFPROTO_IPV4
            } else {
                n.family
            };
            let brackets = fam != ext::NFPROTO_IPV4 && n.flags & PROTO_SPECIFIED != 0;
            let mut range = String::new();
            if n.flags & MAP_IPS != 0 {
                if brackets {
                    range.push('[');
                }
                range.push_str(&ip(fam, &n.min_addr));
                let len = if fam == ext::NFPROTO_IPV4 { 4 } else { 16 };
                if n.min_addr[..len] != n.max_addr[..len] {
                    range.push('-');
                    range.push_str(&ip(fam, &n.max_addr));
                }
                if brackets {
                    range.push(']');
                }
            }
            if n.flags & PROTO_SPECIFIED != 0 {
                range.push_str(&format!(":{}", n.min_port));
                if n.max_port != n.min_port {
                    range.push_str(&format!("-{}", n.max_port));
                }
            }
            xl.add(tgt);
            if !range.is_empty() {
                xl.add(&format!(" to {range}"));
            }
            let mut sep = " ";
            if n.flags & ext::nat::PROTO_RANDOM != 0 {
                xl.add(&format!("{sep}random"));
                sep = ",";
            }
            if n.flags & ext::nat::PROTO_RANDOM_FULLY != 0 {
                xl.add(&format!("{sep}fully-random"));
                sep = ",";
            }
            if n.flags & ext::nat::PERSISTENT != 0 {
                xl.add(&format!("{sep}persistent"));
            }
        }
        Xt::Icmp(i) if !i.v6 => {
            if i.icmp_type == 0xff {
                // libxt_icmp prints the `-p icmp` this match "eats"; in the translate style
                // the rule's own protocol match already says it
                if cx.nft() || l4 != Some("icmp") {
                    xl.add("ip protocol icmp");
                }
            } else {
                xl.add(&format!("icmp type{} ", if i.invert { " !=" } else { "" }));
                // libiptc's icmp_codes: a whole type (codes 0-255) has a name
                const T: [(u8, &str); 13] = [
                    (0, "echo-reply"),
                    (3, "destination-unreachable"),
                    (4, "source-quench"),
                    (5, "redirect"),
                    (8, "echo-request"),
                    (9, "router-advertisement"),
                    (10, "router-solicitation"),
                    (11, "time-exceeded"),
                    (12, "parameter-problem"),
                    (13, "timestamp-request"),
                    (14, "timestamp-reply"),
                    (17, "address-mask-request"),
                    (18, "address-mask-reply"),
                ];
                if i.code != [0, 0xff] {
                    return None;
                }
                xl.add(T.iter().find(|(t, _)| *t == i.icmp_type)?.1);
            }
        }
        Xt::Addrtype(a) => {
            const N: [&str; 9] = [
                "unspec",
                "unicast",
                "local",
                "broadcast",
                "anycast",
                "multicast",
                "blackhole",
                "unreachable",
                "prohibit",
            ];
            xl.add("fib ");
            let val = if a.source != 0 {
                xl.add("saddr ");
                a.source
            } else {
                xl.add("daddr ");
                a.dest
            };
            if a.limit_iface_in {
                xl.add(". iif ");
            } else if a.limit_iface_out {
                xl.add(". oif ");
            }
            xl.add("type ");
            if a.invert_source || a.invert_dest {
                xl.add("!= ");
            }
            let braces = val.count_ones() > 1;
            if braces {
                xl.add("{ ");
            }
            let mut sep = "";
            for (i, n) in N.iter().enumerate() {
                if val & (1 << i) != 0 {
                    xl.add(&format!("{sep}{n}"));
                    sep = ", ";
                }
            }
            if braces {
                xl.add(" }");
            }
        }
        Xt::Limit(l) => {
            const SCALE: u32 = 10000;
            const R: [(&str, u32); 4] = [
                ("day", SCALE * 24 * 60 * 60),
                ("hour", SCALE * 60 * 60),
                ("minute", SCALE * 60),
                ("second", SCALE),
            ];
            xl.add("limit rate");
            if l.avg == 0 {
                xl.add(" inf");
            } else {
                let mut i = 1;
                while i < R.len() {
                    let m = R[i].1;
                    if l.avg > m || m / l.avg < m % l.avg {
                        break;
                    }
                    i += 1;
                }
                xl.add(&format!(" {}/{}", R[i - 1].1 / l.avg, R[i - 1].0));
            }
            if l.burst != 0 && l.burst != 5 {
                xl.add(&format!(" burst {} packets", l.burst));
            }
        }
        Xt::Pkttype(p) => {
            xl.add(&format!("pkttype{} ", if p.invert { " !=" } else { "" }));
            match p.pkttype {
                0 => xl.add("unicast"),
                1 => xl.add("broadcast"),
                2 => xl.add("multicast"),
                n => xl.add(&n.to_string()),
            }
        }
        Xt::Owner(o) => {
            let neg = if o.invert != 0 { " !=" } else { "" };
            let (what, r) = match o.match_flags {
                1 => ("skuid", o.uid),
                2 => ("skgid", o.gid),
                _ => return None,
            };
            xl.add(&format!("{what}{neg} "));
            if r[0] != r[1] {
                xl.add(&format!("{}-{}", r[0], r[1]));
            } else {
                xl.add(&r[0].to_string());
            }
        }
        Xt::Connmark(c) => {
            xl.add("ct mark");
            if c.mask != u32::MAX {
                xl.add(&format!(
                    " and 0x{:x} {} 0x{:x}",
                    c.mask,
                    if c.invert { "!=" } else { "==" },
                    c.mark
                ));
            } else {
                xl.add(&format!(
                    " {}0x{:x}",
                    if c.invert { "!= " } else { "" },
                    c.mark
                ));
            }
        }
        Xt::ConnmarkTarget(c) => {
            // connmark_tg_xlate (rev 1) / connmark_tg_xlate_v2 (rev 2: masks and shifts)
            let v2 = c.rev >= 2;
            let braces = if v2 && c.shift_bits != 0 { "( " } else { "" };
            let full = c.nfmask == u32::MAX && c.ctmask == u32::MAX;
            match c.mode {
                0 => {
                    xl.add(&format!("ct mark set {braces}"));
                    if c.ctmask == u32::MAX {
                        xl.add(&format!("0x{:x} ", c.ctmark));
                    } else if c.ctmark == 0 {
                        xl.add(&format!("ct mark and 0x{:x}", !c.ctmask));
                    } else if c.ctmark == c.ctmask {
                        xl.add(&format!("ct mark or 0x{:x}", c.ctmark));
                    } else if c.ctmask == 0 {
                        xl.add(&format!("ct mark xor 0x{:x}", c.ctmark));
                    } else {
                        xl.add(&format!(
                            "ct mark xor 0x{:x} and 0x{:x}",
                            c.ctmark, !c.ctmask
                        ));
                    }
                }
                1 | 2 if !v2 => {
                    if !full {
                        return None;
                    }
                    xl.add(if c.mode == 1 {
                        "ct mark set mark"
                    } else {
                        "meta mark set ct mark"
                    });
                }
                1 | 2 => {
                    xl.add(&if c.mode == 1 {
                        format!("ct mark set {braces}mark")
                    } else {
                        format!("meta mark set {braces}ct mark")
                    });
                    if !full {
                        if c.nfmask != c.ctmask {
                            return None;
                        }
                        xl.add(&format!(" and 0x{:x}", c.nfmask));
                    }
                }
                _ => return None,
            }
            if v2 && c.mode <= 2 && c.shift_bits != 0 {
                xl.add(&format!(
                    " ) {} {}",
                    if c.shift_dir != 0 { ">>" } else { "<<" },
                    c.shift_bits
                ));
            }
        }
        Xt::Nflog(n) => {
            xl.add("log ");
            if !n.prefix.is_empty() {
                xl.add(&format!("prefix \"{}\" ", n.prefix));
            }
            if n.flags & 1 != 0 {
                xl.add(&format!("snaplen {} ", n.len));
            }
            if n.threshold != 0 {
                xl.add(&format!("queue-threshold {} ", n.threshold));
            }
            xl.add(&format!("group {} ", n.group));
        }
        Xt::Ct(c) if c.rev >= 1 && c.flags & 1 != 0 => xl.add("notrack"),
        Xt::Icmp(i) => {
            // icmp6_xlate: the ND types by their nft names, other whole types by name
            xl.add(&format!(
                "icmpv6 type{} ",
                if i.invert { " !=" } else { "" }
            ));
            if i.code[0] == i.code[1] {
                return None;
            }
            const ND: [&str; 5] = [
                "nd-router-solicit",
                "nd-router-advert",
                "nd-neighbor-solicit",
                "nd-neighbor-advert",
                "nd-redirect",
            ];
            const T: [(u8, &str); 8] = [
                (1, "destination-unreachable"),
                (2, "packet-too-big"),
                (3, "time-exceeded"),
                (4, "parameter-problem"),
                (128, "echo-request"),
                (129, "echo-reply"),
                (133, "router-solicitation"),
                (134, "router-advertisement"),
            ];
            if (133..=137).contains(&i.icmp_type) {
                xl.add(ND[usize::from(i.icmp_type - 133)]);
            } else if i.code == [0, 0xff] {
                xl.add(T.iter().find(|(t, _)| *t == i.icmp_type)?.1);
            } else {
                return None;
            }
        }
        Xt::Nfqueue(q) => {
            if q.rev >= 1 && q.queues_total > 1 {
                let last = u32::from(q.queues_total) + u32::from(q.queuenum) - 1;
                xl.add(&format!("queue num {}-{last} ", q.queuenum));
            } else {
                xl.add(&format!("queue num {} ", q.queuenum));
            }
            if q.rev >= 2 && q.flags & 1 != 0 {
                xl.add("bypass");
            }
            if q.rev >= 3 && q.flags & 2 != 0 {
                xl.add(&format!(
                    "{}fanout ",
                    if q.flags & 1 != 0 { "," } else { "" }
                ));
            }
        }
        Xt::Audit(_) => xl.add("log level audit"),
        Xt::Tee(t) => {
            xl.add(&format!("dup to {}", ip(t.family, &t.gw)));
            if !t.oif.is_empty() {
                xl.add(&format!(" device {}", t.oif));
            }
        }
        Xt::Synproxy(p) => {
            xl.add("synproxy ");
            if p.options & 4 != 0 {
                xl.add("sack-perm ");
            }
            if p.options & 8 != 0 {
                xl.add("timestamp ");
            }
            if p.options & 2 != 0 {
                xl.add(&format!("wscale {} ", p.wscale));
            }
            if p.options & 1 != 0 {
                xl.add(&format!("mss {} ", p.mss));
            }
            if p.options & 16 != 0 {
                xl.add("ecn ");
            }
        }
        Xt::TcpmssTarget(t) => {
            if t.mss == 0xffff {
                xl.add("tcp option maxseg size set rt mtu");
            } else {
                xl.add(&format!("tcp option maxseg size set {}", t.mss));
            }
        }
        Xt::Tcpmss(t) => {
            xl.add(&format!(
                "tcp option maxseg size {}",
                if t.invert { "!= " } else { "" }
            ));
            range(&mut xl, u64::from(t.mss_min), u64::from(t.mss_max));
        }
        Xt::Mac(m) => {
            xl.add(&format!(
                "ether saddr{} ",
                if m.invert { " !=" } else { "" }
            ));
            let a = m.srcaddr;
            xl.add(&format!(
                "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                a[0], a[1], a[2], a[3], a[4], a[5]
            ));
        }
        Xt::Time(t) => time(&mut xl, t)?,
        Xt::Cgroup(c) => {
            if c.path.is_some() {
                return None;
            }
            if let Some(id) = c.classid {
                xl.add(&format!(
                    "meta cgroup {}{id}",
                    if c.invert_classid { "!= " } else { "" }
                ));
            }
        }
        Xt::Connbytes(c) => {
            xl.add("ct ");
            match c.direction {
                0 => xl.add("original "),
                1 => xl.add("reply "),
                2 => {}
                _ => return None,
            }
            xl.add(match c.what {
                0 => "packets ",
                1 => "bytes ",
                2 => "avgpkt ",
                _ => return None,
            });
            let (invert, from, to) = if c.from > c.to {
                (true, c.to, c.from)
            } else {
                (false, c.from, c.to)
            };
            if from == to {
                xl.add(&from.to_string());
            } else if to == u64::MAX {
                xl.add(&format!("{} {from}", if invert { "lt" } else { "ge" }));
            } else {
                xl.add(&format!("{}{from}-{to}", if invert { "!= " } else { "" }));
            }
        }
        Xt::Policy(p) => {
            // only `--pol none` / `--pol ipsec` without elements (meta secpath)
            const IN: u16 = 1;
            const NONE: u16 = 4;
            const STRICT: u16 = 8;
            let empty = |e: &ext::policy::PolicyElem| {
                e.saddr == [0; 16]
                    && e.smask == [0; 16]
                    && e.daddr == [0; 16]
                    && e.dmask == [0; 16]
                    && e.spi == 0
                    && e.reqid == 0
                    && e.proto == 0
                    && e.mode == 0
                    && e.match_bits == 0
                    && e.invert_bits == 0
            };
            if p.flags & !(IN | NONE | STRICT) != 0
                || p.elems.len() > 1
                || !p.elems.iter().all(empty)
            {
                return None;
            }
            xl.add("meta secpath ");
            xl.add(if p.flags & NONE != 0 {
                "missing"
            } else {
                "exists"
            });
        }
        Xt::Dccp(d) => {
            const SRC: u16 = 1;
            const DST: u16 = 2;
            const TYPE: u16 = 4;
            const OPTION: u16 = 8;
            let neg = |b: u16| if d.invflags & b != 0 { " !=" } else { "" };
            if d.flags & SRC != 0 {
                xl.add(&format!("dccp sport{} {}", neg(SRC), d.spts[0]));
                if d.spts[0] != d.spts[1] {
                    xl.add(&format!("-{}", d.spts[1]));
                }
            }
            if d.flags & DST != 0 {
                xl.add(&format!("dccp dport{} {}", neg(DST), d.dpts[0]));
                if d.dpts[0] != d.dpts[1] {
                    xl.add(&format!("-{}", d.dpts[1]));
                }
            }
            if d.flags & TYPE != 0 && d.typemask != 0 {
                xl.add(&format!("dccp type{} ", neg(TYPE)));
                dccp_types(&mut xl, d.typemask);
            }
            if d.flags & OPTION != 0 {
                return None; // no dccp option in nftables
            }
        }
        Xt::Sctp(c) => sctp(&mut xl, c)?,
        Xt::Ah(a) => {
            let mut any = false;
            if a.spis != [0, u32::MAX] {
                xl.add(&format!(
                    "ah spi{} ",
                    if a.invflags & 1 != 0 { " !=" } else { "" }
                ));
                range(&mut xl, u64::from(a.spis[0]), u64::from(a.spis[1]));
                any = true;
            }
            if a.v6 {
                let space = |any: bool| if any { " " } else { "" };
                if a.hdrlen != 0 || a.invflags & 2 != 0 {
                    xl.add(&format!(
                        "{}ah hdrlength{} {}",
                        space(any),
                        if a.invflags & 2 != 0 { " !=" } else { "" },
                        a.hdrlen
                    ));
                    any = true;
                }
                if a.hdrres != 0 {
                    xl.add(&format!("{}ah reserved {}", space(any), a.hdrres));
                    any = true;
                }
                if !any {
                    xl.add("meta l4proto ah");
                }
            }
        }
        Xt::Esp(e) => {
            if e.spis != [0, u32::MAX] {
                xl.add(&format!(
                    "esp spi{}",
                    if e.invflags & 1 != 0 { " !=" } else { "" }
                ));
                xl.add(" ");
                range(&mut xl, u64::from(e.spis[0]), u64::from(e.spis[1]));
            }
        }
        Xt::Ipcomp(c) => {
            xl.add(&format!(
                "comp cpi {}",
                if c.invflags & 1 != 0 { "!= " } else { "" }
            ));
            range(&mut xl, u64::from(c.spis[0]), u64::from(c.spis[1]));
        }
        Xt::Realm(r) => {
            xl.add("rtclassid");
            let op = if r.invert { "!=" } else { "==" };
            if r.mask != u32::MAX {
                xl.add(&format!(" and 0x{:x} {op} 0x{:x}", r.mask, r.id));
            } else {
                let neg = if r.invert { "!= " } else { "" };
                match cx.names.realm(r.id) {
                    Some(n) => xl.add(&format!(" {neg}{n}")),
                    None => xl.add(&format!(" {neg}0x{:x}", r.id)),
                }
            }
        }
        Xt::Connlabel(c) => {
            let name = cx
                .names
                .connlabel(c.bit)
                .unwrap_or_else(|| c.bit.to_string());
            if c.options & 2 != 0 {
                xl.add(&format!("ct label set {name} "));
            }
            xl.add("ct label ");
            if c.options & 1 != 0 {
                xl.add(&format!("and {name} != "));
            }
            xl.add(&name);
        }
        Xt::Cluster(c) => {
            let jhash = "jhash ct original saddr mod";
            let pkttype = "meta pkttype set host";
            let m = c.node_mask;
            if m & m.wrapping_sub(1) == 0 {
                // one node (or none): its number, counted from the mask as libxt_cluster does
                let node = if m <= 2 { m } else { 32 - m.leading_zeros() };
                xl.add(&format!(
                    "{jhash} {} seed 0x{:08x} eq {node} {pkttype}",
                    c.total_nodes, c.hash_seed
                ));
            } else {
                xl.add(&format!(
                    "{jhash} {} seed 0x{:08x} ",
                    c.total_nodes, c.hash_seed
                ));
                let mut sep = "{ ";
                for node in 0..32 {
                    if m & (1u32 << node) != 0 {
                        xl.add(sep);
                        xl.add(&node.to_string());
                        sep = ", ";
                    }
                }
                xl.add(" }");
                xl.add(&format!(" {pkttype}"));
            }
        }
        Xt::Rpfilter(r) => {
            const LOOSE: u8 = 1;
            const VALID_MARK: u8 = 2;
            const ACCEPT_LOCAL: u8 = 4;
            const INVERT: u8 = 8;
            let invert = r.flags & INVERT != 0;
            if r.flags & ACCEPT_LOCAL != 0 {
                if !invert {
                    return None;
                }
                xl.add("fib saddr type != local ");
            }
            xl.add("fib saddr ");
            if r.flags & VALID_MARK != 0 {
                xl.add(". mark ");
            }
            if r.flags & LOOSE == 0 {
                xl.add(". iif ");
            }
            xl.add(&format!("oif {}0", if invert { "" } else { "!= " }));
        }
        Xt::Hashlimit(h) => hashlimit(&mut xl, h)?,
        Xt::Hl(h) => {
            let op = match h.mode {
                0 => "",
                1 => "!= ",
                2 => "lt ",
                3 => "gt ",
                _ => return None,
            };
            if h.name == "ttl" {
                xl.add(&format!("ip ttl {op}{}", h.value));
            } else {
                xl.add(&format!("ip6 hoplimit {op}{}", h.value));
            }
        }
        Xt::Frag(f) => {
            if f.ids != [0, u32::MAX] {
                xl.add(&format!(
                    "frag id {}",
                    if f.invflags & 1 != 0 { "!= " } else { "" }
                ));
                range(&mut xl, u64::from(f.ids[0]), u64::from(f.ids[1]));
            }
            // IP6T_FRAG_RES 4, FST 8, MF 0x10, NMF 0x20 (LEN 2 is ignored, as the kernel does)
            if f.flags & 0x04 != 0 {
                xl.add("frag reserved 1");
            }
            if f.flags & 0x08 != 0 {
                xl.add("frag frag-off 0");
            }
            if f.flags & 0x10 != 0 {
                xl.add("frag more-fragments 1");
            }
            if f.flags & 0x20 != 0 {
                xl.add("frag more-fragments 0");
            }
        }
        Xt::Opts(o) if o.name == "hbh" => {
            if o.flags & 1 == 0 || o.flags & 2 != 0 {
                return None;
            }
            xl.add(&format!(
                "hbh hdrlength {}{}",
                if o.invflags & 1 != 0 { "!= " } else { "" },
                o.hdrlen
            ));
        }
        Xt::Rt(r) => {
            let neg = |b: u8| if r.invflags & b != 0 { " !=" } else { "" };
            if r.flags & 0x01 != 0 {
                xl.add(&format!("rt type{} {}", neg(0x01), r.rt_type));
            }
            if r.segsleft != [0, u32::MAX] {
                xl.add(&format!("rt seg-left{} ", neg(0x02)));
                range(&mut xl, u64::from(r.segsleft[0]), u64::from(r.segsleft[1]));
            }
            if r.flags & 0x04 != 0 {
                xl.add(&format!("rt hdrlength{} {}", neg(0x04), r.hdrlen));
            }
            if r.flags & (0x08 | 0x10 | 0x20) != 0 {
                return None;
            }
        }
        Xt::Mh(m) => {
            if m.types != [0, 0xff] {
                xl.add(&format!(
                    "mh type {}",
                    if m.invflags & 1 != 0 { "!= " } else { "" }
                ));
                range(&mut xl, u64::from(m.types[0]), u64::from(m.types[1]));
            }
        }
        _ => return None,
    }
    Some(xl.get())
}

/// `N` or `N-M`.
fn range(xl: &mut Xl, lo: u64, hi: u64) {
    if lo == hi {
        xl.add(&lo.to_string());
    } else {
        xl.add(&format!("{lo}-{hi}"));
    }
}

/// `dccp_type_xlate`: type names in bit order, `{ … }` for more than one; the types above
/// SYNCACK (10-15) as one range.
fn dccp_types(xl: &mut Xl, mask: u16) {
    const N: [&str; 11] = [
        "request", "response", "data", "ack", "dataack", "closereq", "close", "reset", "sync",
        "syncack", "10-15",
    ];
    let mut types = mask;
    if types & 0xf800 != 0 {
        types &= !0xf800;
        types |= 1 << 10;
    }
    let set = types.count_ones() > 1;
    if set {
        xl.add("{");
    }
    let mut first = true;
    for (i, n) in N.iter().enumerate() {
        if types & (1 << i) != 0 {
            if !first {
                xl.add(", ");
            }
            first = false;
            xl.add(n);
        }
    }
    if set {
        xl.add("}");
    }
}

/// `sctp_xlate`: ports, and chunk types for `--chunk-types all|only` (not `any`).
fn sctp(xl: &mut Xl, c: &ext::sctp::Sctp) -> Option<()> {
    const SRC: u32 = 1;
    const DST: u32 = 2;
    const CHUNKS: u32 = 4;
    const MATCH_ANY: u32 = 1;
    const MATCH_ONLY: u32 = 4;
    /// `sctp_chunk_names`, in its order: (type, nft name).
    const NAMES: [(u8, &str); 22] = [
        (0, "data"),
        (1, "init"),
        (2, "init-ack"),
        (3, "sack"),
        (4, "heartbeat"),
        (5, "heartbeat-ack"),
        (6, "abort"),
        (7, "shutdown"),
        (8, "shutdown-ack"),
        (9, "error"),
        (10, "cookie-echo"),
        (11, "cookie-ack"),
        (12, "ecne"),
        (13, "cwr"),
        (14, "shutdown-complete"),
        (64, "i-data"),
        (130, "re-config"),
        (132, "pad"),
        (193, "asconf"),
        (128, "asconf-ack"),
        (192, "forward-tsn"),
        (194, "i-forward-tsn"),
    ];
    if c.flags == 0 {
        return None;
    }
    let neg = |b: u32| if c.invflags & b != 0 { " !=" } else { "" };
    for (bit, what, p) in [(SRC, "sport", c.spts), (DST, "dport", c.dpts)] {
        if c.flags & bit != 0 {
            xl.add(&format!("sctp {what}{} ", neg(bit)));
            range(xl, u64::from(p[0]), u64::from(p[1]));
        }
    }
    if c.flags & CHUNKS != 0 {
        if c.chunk_match_type == MATCH_ANY {
            return None;
        }
        let inv = c.invflags & CHUNKS != 0;
        for (ty, name) in NAMES {
            let set = c
                .chunkmap
                .get(usize::from(ty / 32))
                .is_some_and(|w| w & (1 << (ty % 32)) != 0);
            if !set {
                if c.chunk_match_type == MATCH_ONLY {
                    xl.add(&format!(
                        "sctp chunk {name} {}",
                        if inv { "exists" } else { "missing" }
                    ));
                }
                continue;
            }
            match c.flag_info.iter().find(|f| f.0 == ty) {
                None => xl.add(&format!(
                    "sctp chunk {name} {}",
                    if inv { "missing" } else { "exists" }
                )),
                Some(&(_, flag, mask)) => xl.add(&format!(
                    "sctp chunk {name} flags & 0x{mask:x} {} 0x{flag:x}",
                    if inv { "!=" } else { "==" }
                )),
            }
        }
    }
    Some(())
}

/// `time_xlate`: dates (UTC), daytimes and weekdays; month days have no nft form.
fn time(xl: &mut Xl, t: &ext::time::Time) -> Option<()> {
    let date = |secs: u32| {
        let days = i64::from(secs / 86400);
        let (y, m, d) = nfscope_wire::civil::civil_from_days(days);
        let r = secs % 86400;
        format!(
            "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
            r / 3600,
            r / 60 % 60,
            r % 60
        )
    };
    let hms = |secs: u32| format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    if t.date_start != 0 || t.date_stop != i32::MAX as u32 {
        xl.add("meta time ");
        xl.add(&format!(
            "\"{}\"-\"{}\"",
            date(t.date_start),
            date(t.date_stop)
        ));
    }
    if t.daytime_start != 0 || t.daytime_stop != 86399 {
        xl.add(&format!(
            " meta hour \"{}\"-\"{}\"",
            hms(t.daytime_start),
            hms(t.daytime_stop)
        ));
    }
    if t.monthdays != 0xffff_fffe {
        return None;
    }
    if t.weekdays != 0xfe {
        let set = t.weekdays.count_ones() > 1;
        xl.add(" meta day ");
        if set {
            xl.add("{");
        }
        let mut sep = "";
        for i in 1..=7u8 {
            if t.weekdays & (1 << i) != 0 {
                xl.add(&format!("{sep}{}", i % 7));
                sep = ", ";
            }
        }
        if set {
            xl.add("}");
        }
    }
    Some(())
}

/// `hashlimit_mt_xlate` (revisions 1-3): `meter NAME { KEY [timeout Ns] limit rate [over] R }`.
/// Without a key (`--hashlimit-mode`) there is no translation.
fn hashlimit(xl: &mut Xl, h: &ext::hashlimit::Hashlimit) -> Option<()> {
    const DIP: u32 = 1;
    const DPT: u32 = 2;
    const SIP: u32 = 4;
    const SPT: u32 = 8;
    const INVERT: u32 = 16;
    const BYTES: u32 = 32;
    let v4 = h.family == ext::NFPROTO_IPV4;
    xl.add(&format!("meter {} {{", h.name));
    let mut mode = h.mode & !INVERT & !BYTES;
    let mut prev = false;
    let mut bit = 1u32;
    while mode != 0 && bit != 0 {
        if mode & bit != 0 {
            xl.add(if prev { " . " } else { " " });
            prev = true;
            let key = match (bit, v4) {
                (DIP, true) => "ip daddr",
                (DIP, false) => "ip6 daddr",
                (DPT, _) => "tcp dport",
                (SIP, true) => "ip saddr",
                (SIP, false) => "ip6 saddr",
                (SPT, _) => "tcp sport",
                _ => return None,
            };
            xl.add(key);
            let bits = if bit == DIP {
                Some(h.dstmask)
            } else if bit == SIP {
                Some(h.srcmask)
            } else {
                None
            };
            if let Some(n) = bits.filter(|&n| u32::from(n) != if v4 { 32 } else { 128 }) {
                hashlimit_subnet(xl, u32::from(n), v4);
            }
            mode &= !bit;
        }
        bit <<= 1;
    }
    if !prev {
        return None;
    }
    if h.expire != 1000 {
        xl.add(&format!(" timeout {}s", h.expire / 1000));
    }
    xl.add(" limit rate");
    if h.mode & INVERT != 0 {
        xl.add(" over");
    }
    if h.mode & BYTES != 0 {
        const UNITS: [(&str, u64); 3] = [("m", 1024 * 1024), ("k", 1024), ("", 1)];
        let cost_to_bytes = |cost: u64| {
            let r = u64::from(u32::MAX)
                .checked_div(cost)
                .unwrap_or(u64::from(u32::MAX));
            r.wrapping_sub(1) << 4
        };
        let bytes_to_cost = |bytes: u64| {
            let r = (bytes >> 4) as u32;
            u64::from(u32::MAX) / (u64::from(r) + 1)
        };
        let r = cost_to_bytes(h.avg);
        let mut i = 0;
        while i < UNITS.len() - 1 {
            let t = UNITS[i].1;
            if r >= t && bytes_to_cost(r & !(t - 1)) == h.avg {
                break;
            }
            i += 1;
        }
        xl.add(&format!(" {} {}bytes/second", r / UNITS[i].1, UNITS[i].0));
        let r = r.wrapping_mul(h.burst);
        let mut i = 0;
        while i < UNITS.len() - 1 && r < UNITS[i].1 {
            i += 1;
        }
        if h.burst > 0 {
            xl.add(&format!(" burst {} {}bytes", r / UNITS[i].1, UNITS[i].0));
        }
    } else {
        let scale: u64 = if h.rev == 1 { 10_000 } else { 1_000_000 };
        let rates = [
            ("day", scale * 24 * 60 * 60),
            ("hour", scale * 60 * 60),
            ("minute", scale * 60),
            ("second", scale),
        ];
        if h.avg == 0 {
            return None;
        }
        let mut i = 1;
        while i < rates.len() {
            let m = rates[i].1;
            if h.avg > m || m / h.avg < m % h.avg {
                break;
            }
            i += 1;
        }
        xl.add(&format!(" {}/{} ", rates[i - 1].1 / h.avg, rates[i - 1].0));
        if h.burst != 5 {
            xl.add(&format!("burst {} packets", h.burst));
        }
    }
    xl.add("}");
    Some(())
}

/// `hashlimit_print_subnet_xlate`: ` and 255.255.255.0` / ` and ffff:ffff:…:0000`.
fn hashlimit_subnet(xl: &mut Xl, mut n: u32, v4: bool) {
    let (blocks, bits) = if v4 { (4, 8) } else { (8, 16) };
    xl.add(" and ");
    for b in 0..blocks {
        let mut acm = 0u32;
        for _ in 0..bits {
            acm <<= 1;
            if n > 0 {
                acm += 1;
                n -= 1;
            }
        }
        if v4 {
            xl.add_nospc(&acm.to_string());
        } else {
            xl.add_nospc(&format!("{acm:04x}"));
        }
        if b + 1 < blocks {
            xl.add(if v4 { "." } else { ":" });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separator_rule() {
        let mut xl = Xl::default();
        xl.add("udp");
        xl.add(" dport ");
        xl.add("{ ");
        xl.add("53");
        xl.add(", 123");
        xl.add("}");
        assert_eq!(xl.get(), "udp dport { 53, 123 }");
    }

    fn cx(family: u8, style: XtStyle) -> Cx<'static> {
        Cx {
            family,
            l4: Some("tcp"),
            style,
            names: &ext::NoNames,
        }
    }

    /// Every extension, revision, family and style over random and zeroed payloads of every
    /// size up to the largest struct: no panic, and never an empty placeholder.
    #[test]
    fn odd_payloads_do_not_panic() {
        const M: &[&str] = &[
            "addrtype",
            "ah",
            "cgroup",
            "cluster",
            "comment",
            "connbytes",
            "connlabel",
            "connlimit",
            "connmark",
            "conntrack",
            "cpu",
            "dccp",
            "devgroup",
            "dscp",
            "ecn",
            "esp",
            "frag",
            "hashlimit",
            "hbh",
            "dst",
            "helper",
            "hl",
            "ttl",
            "icmp",
            "icmp6",
            "iprange",
            "length",
            "limit",
            "mac",
            "mark",
            "mh",
            "multiport",
            "owner",
            "pkttype",
            "policy",
            "quota",
            "realm",
            "recent",
            "rpfilter",
            "rt",
            "sctp",
            "set",
            "state",
            "statistic",
            "tcp",
            "tcpmss",
            "time",
            "udp",
            "ipcomp",
            "mark_m",
            "vlan",
            "ip",
            "ip6",
        ];
        const T: &[&str] = &[
            "AUDIT",
            "CLASSIFY",
            "CONNMARK",
            "CT",
            "DNAT",
            "SNAT",
            "MASQUERADE",
            "REDIRECT",
            "DSCP",
            "TOS",
            "LOG",
            "MARK",
            "NFLOG",
            "NFQUEUE",
            "REJECT",
            "SET",
            "SYNPROXY",
            "TCPMSS",
            "TEE",
            "TRACE",
            "log",
            "mark",
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let sizes: Vec<usize> = (0..=72)
            .chain([76, 80, 96, 160, 292, 296, 304, 308, 312, 528])
            .collect();
        for (kind, names) in [(XtKind::Match, M), (XtKind::Target, T)] {
            for name in names {
                for &len in &sizes {
                    for fill in 0..3 {
                        let d: Vec<u8> = (0..len)
                            .map(|_| match fill {
                                0 => 0,
                                1 => 0xff,
                                _ => rnd() as u8,
                            })
                            .collect();
                        for rev in 0..4 {
                            for family in [2, 10, 7] {
                                for style in XtStyle::ALL {
                                    let t = text(kind, name, rev, &d, &cx(family, style));
                                    assert!(!t.is_empty() || kind == XtKind::Match, "{name}");
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn translate_style_shows_what_has_no_translation() {
        // struct xt_set_info_match_v1 { { u16 index; u8 dim; u8 flags } match_set; u32 flags }
        let set = [3u8, 0, 1, 2, 0, 0, 0, 0];
        let nft = text(XtKind::Match, "set", 1, &set, &cx(2, XtStyle::Nft));
        assert_eq!(nft, "xt match set");
        let t = text(XtKind::Match, "set", 1, &set, &cx(2, XtStyle::Translate));
        assert_eq!(t, "xt match set [--match-set #3 src]");
        // an unknown payload: its bytes
        let t = text(
            XtKind::Target,
            "FOO",
            0,
            &[1, 2],
            &cx(2, XtStyle::Translate),
        );
        assert_eq!(t, "xt target FOO [raw rev 0 0102]");
    }
}
