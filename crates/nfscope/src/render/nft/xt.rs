//! x_tables `match` / `target` expressions (written by iptables-nft) as nft 1.0.6 prints them.
//!
//! nft hands the xt payload to libxtables and prints the extension's `xlate` output (iptables
//! 1.8.9 here); an extension without a translation prints as `xt match NAME` /
//! `xt target NAME`. Payloads are decoded by `nfscope_wire::xt::ext`; this module only spells
//! the translation, following the iptables `libxt_*.c` xlate functions, including libxtables'
//! separator rule (a space is inserted before a chunk starting with a letter, digit or brace
//! when the text so far does not end in whitespace) and the final trim of trailing spaces.

use nfscope_wire::xt::ext::{self, Xt, XtKind};

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
    /// `xt_xlate_get`: trailing whitespace trimmed.
    fn get(self) -> String {
        self.0.trim_end().to_string()
    }
}

/// The text nft prints for an xt expression. `family` is the table's `NFPROTO_*`; `l4` the
/// transport protocol name from the rule's protocol context (nft passes it to the extension
/// as the entry's protocol).
pub fn text(
    kind: XtKind,
    name: &str,
    rev: u32,
    family: u8,
    info: &[u8],
    l4: Option<&str>,
) -> String {
    if family == NFPROTO_BRIDGE {
        let t = match (kind, name) {
            (XtKind::Target, "log") => ebt_log(info),
            (XtKind::Match, "mark_m") => ebt_mark_m(info),
            (XtKind::Target, "mark") => ebt_mark(info),
            (XtKind::Match, "vlan") => ebt_vlan(info),
            (XtKind::Match, "ip") => ebt_ip(info, false),
            (XtKind::Match, "ip6") => ebt_ip(info, true),
            _ => None,
        };
        if let Some(t) = t {
            return t;
        }
    }
    let x = ext::decode(kind, name, rev as u8, family, info);
    let t = translate(&x, family, l4).or_else(|| raw_translate(kind, name, family, info));
    match t {
        Some(t) => t,
        None => match kind {
            XtKind::Match => format!("xt match {name}"),
            XtKind::Target => format!("xt target {name}"),
        },
    }
}

/// `state_xlate_print`; `untracked` is the untracked bit (256 in xt_conntrack, 64 in xt_state).
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
        if v6 {
            xl.add("ip6 dscp ");
            if inv & 4 != 0 {
                xl.add("!= ");
            }
            xl.add(&format!("0x{:02x} ", tos & 0x3f));
        } else {
            xl.add("@nh,8,8 ");
            if inv & 4 != 0 {
                xl.add("!= ");
            }
            xl.add(&format!("0x{tos:02x} "));
        }
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
    if bits & 0x40 != 0 {
        return None; // icmp: not reproduced
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
fn raw_translate(kind: XtKind, name: &str, family: u8, d: &[u8]) -> Option<String> {
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
        // struct ipt_ttl_info { u8 mode; u8 ttl; }
        (XtKind::Match, "ttl") if family == ext::NFPROTO_IPV4 => {
            let op = match *d.first()? {
                0 => "ip ttl",
                1 => "ip ttl !=",
                2 => "ip ttl lt",
                3 => "ip ttl gt",
                _ => return None,
            };
            xl.add(op);
            xl.add(&format!(" {}", d.get(1)?));
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
        (XtKind::Target, "DSCP") if family == ext::NFPROTO_IPV4 => {
            xl.add(&format!("ip dscp set 0x{:02x}", d.first()?));
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
        // tables, and nft prints that)
        (XtKind::Target, "TOS") => {
            let (ipf, tos, mask) = match d.len() {
                1 => ("ip", d[0], 0xff),
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

fn ip(family: u8, a: &[u8; 16]) -> String {
    if family == ext::NFPROTO_IPV4 {
        std::net::Ipv4Addr::new(a[0], a[1], a[2], a[3]).to_string()
    } else {
        std::net::Ipv6Addr::from(*a).to_string()
    }
}

fn translate(x: &Xt, _family: u8, l4: Option<&str>) -> Option<String> {
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
            if mf & DIRECTION != 0 {
                xl.add(&format!("ct direction {dir}"));
            }
            if mf & PROTO != 0 {
                xl.add(&format!("ct {dir} protocol {}{}", neg(PROTO), c.l4proto));
            }
            if mf & STATE != 0 {
                if c.state_mask & (64 | 128) != 0 {
                    xl.add(&format!(
                        "ct status {}{}",
                        if inv & STATUS != 0 { "!=" } else { "" },
                        if c.state_mask & 64 != 0 {
                            "snat"
                        } else {
                            "dnat"
                        }
                    ));
                } else {
                    xl.add("ct state ");
                    state_list(&mut xl, c.state_mask as u32, inv & STATE != 0, 256);
                }
            }
            if mf & STATUS != 0 {
                xl.add("ct status ");
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
            }
            if mf & EXPIRES != 0 {
                xl.add(&format!("ct expiration {}", neg(EXPIRES)));
                if c.expires_min == c.expires_max {
                    xl.add(&c.expires_min.to_string());
                } else {
                    xl.add(&format!("{}-{}", c.expires_min, c.expires_max));
                }
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
                    xl.add(&format!("{what}{}", neg(bit)));
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
                    xl.add(&format!("{what}{}", neg(*bit)));
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
            done |= ports(&mut xl, "udp", "dport", u.dpts, u.invflags & 2 != 0);
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
                xl.add("ip protocol icmp");
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
        Xt::ConnmarkTarget(c) => match c.mode {
            0 => {
                xl.add("ct mark set ");
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
            1 if c.nfmask == c.ctmask && c.nfmask == u32::MAX => xl.add("ct mark set mark"),
            2 if c.nfmask == c.ctmask && c.nfmask == u32::MAX => xl.add("meta mark set ct mark"),
            _ => return None,
        },
        Xt::Nflog(n) => {
            xl.add("log ");
            if !n.prefix.is_empty() {
                xl.add(&format!("prefix \"{}\" ", n.prefix));
            }
            if n.flags & 1 != 0 {
                xl.add(&format!("snaplen {} ", n.len));
            }
            if n.threshold > 1 {
                xl.add(&format!("queue-threshold {} ", n.threshold));
            }
            xl.add(&format!("group {} ", n.group));
        }
        Xt::Ct(c) if c.rev >= 1 && c.flags & 1 != 0 => xl.add("notrack"),
        _ => return None,
    }
    Some(xl.get())
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
}
