//! How ebtables-nft and arptables-nft 1.8.9 read an nf_tables `bridge` / `arp` rule back, and
//! the line `ebtables-nft-save` / `arptables-nft-save` print for it (`iptables/nft-bridge.c`,
//! `iptables/nft-arp.c`). The same register walk as the ip/ip6 reader in the parent module:
//! a load (meta key or payload), an optional mask, a compare; xt blobs through the xt registry;
//! ebtables' `among` from its set lookups ([`Among`]).
//!
//! ebtables order: `-p -s -d -i --logical-in -o --logical-out`, matches (only the first and the
//! last of three or more: ebtables-nft 1.8.9 keeps no others), `-j TARGET` (`CONTINUE` when the
//! rule has none). arptables order: `-j TARGET` first, then `-i -o -s --src-mac -d
//! --dst-mac --h-length --opcode --h-type --proto-type` (numeric), then the target's options.

use super::{refuses, save_string, xt_fragment_with, IptRule, Part};
use crate::model::{Chain, Table};
use nfscope_wire::nft::expr::{Expr, Lookup};
use nfscope_wire::nft::{Data, Family, Rule, VerdictCode};
use nfscope_wire::xt::ext::fmt::{ether_ntoa, mac_and_mask};
use nfscope_wire::xt::ext::Names;
use std::fmt::Write;

/// `NFT_META_BRI_IIFNAME` / `NFT_META_BRI_OIFNAME`.
const META_BRI_IIFNAME: u32 = 17;
const META_BRI_OIFNAME: u32 = 18;
/// nf_tables `NFT_CMP_*` operators.
const CMP_NEQ: u32 = 1;
const CMP_LT: u32 = 2;
const CMP_GTE: u32 = 5;
/// `NFT_META_PROTOCOL`.
const META_PROTOCOL: u32 = 1;
/// `NFT_LOOKUP_F_INV`.
const NFT_LOOKUP_F_INV: u32 = 1;

/// The register walk both readers share: what was loaded, and its mask.
#[derive(Clone)]
enum Load {
    Meta(u32),
    Payload { base: u32, offset: u32, len: u32 },
}

/// One compare, with what it compared.
struct Test {
    load: Load,
    mask: Option<Vec<u8>>,
    data: Vec<u8>,
    op: u32,
    idx: Vec<usize>,
}

/// What the registers hold: each load by its destination register (as a 4-byte register
/// number, [`reg32`]), with the index of its expression.
type Regs = std::collections::BTreeMap<u32, (Load, usize)>;

/// A register number as a 4-byte register (`NFT_REG_1`..`NFT_REG_4` are 16 bytes wide:
/// `NFT_REG32_00` is the first 4 bytes of `NFT_REG_1`).
fn reg32(r: u32) -> u32 {
    if (1..=4).contains(&r) {
        8 + (r - 1) * 4
    } else {
        r
    }
}

/// Walk `exprs`, calling `test` for each load+cmp and `other` for every other expression
/// that is not a load or mask, with what the registers hold.
fn walk(exprs: &[Expr], mut test: impl FnMut(Test), mut other: impl FnMut(usize, &Expr, &Regs)) {
    let mut load: Option<(Load, usize)> = None;
    let mut mask: Option<(Vec<u8>, usize)> = None;
    let mut regs = Regs::new();
    for (i, e) in exprs.iter().enumerate() {
        match e {
            Expr::Meta(m) if m.dreg.is_some() => {
                load = m.key.map(|k| (Load::Meta(k), i));
                mask = None;
            }
            Expr::Payload(p) if p.dreg.is_some() => {
                load = match (p.base, p.offset, p.len) {
                    (Some(base), Some(offset), Some(len)) => {
                        Some((Load::Payload { base, offset, len }, i))
                    }
                    _ => None,
                };
                if let (Some(r), Some(l)) = (p.dreg, &load) {
                    regs.insert(reg32(r), l.clone());
                }
                mask = None;
            }
            Expr::Bitwise(b) if load.is_some() => {
                mask = b
                    .mask
                    .as_ref()
                    .and_then(Data::value)
                    .map(|m| (m.to_vec(), i));
            }
            Expr::Cmp(c) if load.is_some() => {
                let Some((ld, li)) = load.take() else {
                    continue;
                };
                let mut idx = vec![li];
                if let Some((_, mi)) = &mask {
                    idx.push(*mi);
                }
                idx.push(i);
                test(Test {
                    load: ld,
                    mask: mask.take().map(|m| m.0),
                    data: c
                        .data
                        .as_ref()
                        .and_then(Data::value)
                        .unwrap_or(&[])
                        .to_vec(),
                    op: c.op.unwrap_or(0),
                    idx,
                });
            }
            _ => other(i, e, &regs),
        }
    }
}

/// A verdict's `-j` word (`None` for `continue` and others iptables does not write).
fn verdict_word(e: &Expr) -> Option<String> {
    let Expr::Immediate(im) = e else { return None };
    if im.dreg != Some(0) {
        return None;
    }
    let v = im.data.as_ref().and_then(Data::verdict)?;
    match v.code {
        VerdictCode::Accept => Some("ACCEPT".into()),
        VerdictCode::Drop => Some("DROP".into()),
        VerdictCode::Return => Some("RETURN".into()),
        VerdictCode::Jump | VerdictCode::Goto => v.chain.clone(),
        _ => None,
    }
}

fn part(text: String, exprs: Vec<usize>, native: bool) -> Part {
    Part {
        text,
        exprs,
        native,
    }
}

fn new_rule(chain: &Chain) -> IptRule {
    IptRule {
        chain: chain.name().to_string(),
        head: vec![],
        matches: vec![],
        target: None,
        counters: None,
        ignored: vec![],
        refused: None,
    }
}

/// Interface name from a cmp: a trailing NUL means exact, none means a `+` wildcard prefix.
fn ifname(data: &[u8]) -> String {
    super::ifname(data)
}

/// `-s` / `-d` (`ebt_print_mac_and_mask`): the names libxtables gives four address/mask pairs
/// (`xtables_print_well_known_mac_and_mask`), else `aa:bb:cc:dd:ee:ff[/mask]`.
fn ebt_mac_and_mask(mac: &[u8], mask: &[u8]) -> String {
    const ONES: [u8; 6] = [0xff; 6];
    const LOW: [u8; 6] = [1, 0, 0, 0, 0, 0];
    let name = match (mac, mask) {
        ([0, 0, 0, 0, 0, 0], m) if m == LOW => "Unicast",
        (a, m) if a == LOW && m == LOW => "Multicast",
        (a, m) if a == ONES && m == ONES => "Broadcast",
        ([1, 0x80, 0xc2, 0, 0, 0], m) if m == ONES => "BGA",
        _ => return mac_and_mask(mac, mask),
    };
    name.to_string()
}

/// `len` bytes compared out of `width`, with an optional mask: the value and the full mask.
fn widen(t: &Test, width: usize, len: u32) -> (Vec<u8>, Vec<u8>) {
    let mut v = vec![0u8; width];
    let mut m = vec![0u8; width];
    for i in 0..width.min(len as usize) {
        v[i] = t.data.get(i).copied().unwrap_or(0);
        m[i] = t
            .mask
            .as_ref()
            .map_or(0xff, |mk| mk.get(i).copied().unwrap_or(0));
    }
    (v, m)
}

/// An ethertype's name from /etc/ethertypes (as `xtables_getethertypebynumber`), else `0x..`.
fn ethertype(n: u16) -> String {
    static TABLE: std::sync::OnceLock<Vec<(u16, String)>> = std::sync::OnceLock::new();
    let t = TABLE.get_or_init(|| {
        let mut v: Vec<(u16, String)> = Vec::new();
        if let Ok(s) = std::fs::read_to_string("/etc/ethertypes") {
            for l in s.lines() {
                let l = l.split('#').next().unwrap_or("");
                let mut it = l.split_whitespace();
                if let (Some(name), Some(num)) = (it.next(), it.next()) {
                    if let Ok(n) = u16::from_str_radix(num, 16) {
                        if !v.iter().any(|(x, _)| *x == n) {
                            v.push((n, name.to_string()));
                        }
                    }
                }
            }
        }
        v
    });
    t.iter()
        .find(|(x, _)| *x == n)
        .map(|(_, s)| s.clone())
        .unwrap_or_else(|| format!("0x{n:x}"))
}

fn be16(b: &[u8]) -> u16 {
    super::be_u16(b)
}

/// The ebtables-nft 1.8.9 policy rule of a user chain (rule userdata
/// `UDATA_TYPE_EBTABLES_POLICY` = 1, `counter` then an accept or drop verdict): its policy.
/// ebtables-nft-save prints it as the chain's policy, not as a rule.
pub(super) fn policy_rule(rule: &Rule) -> Option<&'static str> {
    use nfscope_wire::nft::udata::RULE_EBTABLES_POLICY;
    if rule.userdata.as_ref()?.u32(RULE_EBTABLES_POLICY)? != 1 {
        return None;
    }
    match rule.expressions.as_deref()? {
        [Expr::Counter(_), im @ Expr::Immediate(_)] => match verdict_word(im)?.as_str() {
            "ACCEPT" => Some("ACCEPT"),
            "DROP" => Some("DROP"),
            _ => None,
        },
        _ => None,
    }
}

/// ebtables' `among` match, which ebtables-nft 1.8.9 writes natively (`add_nft_among`): per
/// direction, a `lookup` of the Ethernet address, or with `MAC=IP` pairs of the concatenation
/// Ethernet address . IPv4 address (two payload loads into consecutive registers), in an
/// anonymous set; with pairs, a `meta protocol ip` compare first, which ebtables-nft reads
/// back as nothing. Read back as one match (`nft_bridge_parse_lookup`), where its first
/// lookup is, printed source first, each list sorted as `nft_among_insert_pair` sorts it.
#[derive(Default)]
struct Among {
    /// Source, destination.
    dirs: [Option<AmongList>; 2],
    /// Its part's index in the matches.
    at: Option<usize>,
    exprs: Vec<usize>,
}

/// One direction of `among`: inverted, keyed by MAC . IPv4 (`MAC=IP` pairs were given), and
/// its (MAC, IPv4 or 0.0.0.0) pairs.
struct AmongList {
    inv: bool,
    ip: bool,
    pairs: Vec<([u8; 6], [u8; 4])>,
}

impl Among {
    /// `lookup` (expression `i`) as ebtables-nft reads it: `false` if it is not an `among`
    /// lookup (a set not found, keys other than its payloads).
    fn add(&mut self, table: &Table, l: &Lookup, i: usize, regs: &Regs) -> bool {
        let Some((dir, list, exprs)) = among_lookup(table, l, i, regs) else {
            return false;
        };
        self.dirs[dir] = Some(list);
        self.exprs.extend(exprs);
        true
    }
    /// Whether a direction is keyed by IP addresses too (then ebtables-nft writes a `meta
    /// protocol ip` first).
    fn has_ip(&self) -> bool {
        self.dirs.iter().flatten().any(|d| d.ip)
    }
    /// `--among-src [!] LIST --among-dst [!] LIST` (`bramong_print`: MACs as `ether_ntoa`
    /// prints them, `=IP` unless 0.0.0.0).
    fn text(&self) -> String {
        let mut s = String::new();
        for (d, opt) in ["--among-src", "--among-dst"].iter().enumerate() {
            let Some(AmongList { inv, pairs, .. }) = &self.dirs[d] else {
                continue;
            };
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(opt);
            s.push_str(if *inv { " ! " } else { " " });
            for (k, (mac, ip)) in pairs.iter().enumerate() {
                if k > 0 {
                    s.push(',');
                }
                s.push_str(&ether_ntoa(mac));
                if *ip != [0; 4] {
                    let _ = write!(s, "={}", std::net::Ipv4Addr::from(*ip));
                }
            }
        }
        s
    }
}

/// One `among` lookup: direction (0 source, 1 destination), its list (pairs sorted), and the
/// expressions read (loads and lookup); `None` if it is not one (`lookup_analyze_payloads`).
fn among_lookup(
    table: &Table,
    l: &Lookup,
    i: usize,
    regs: &Regs,
) -> Option<(usize, AmongList, Vec<usize>)> {
    if l.dreg.is_some() {
        return None;
    }
    let set = table.set(l.set.as_deref()?)?;
    let sreg = reg32(l.sreg?);
    let (eth, ei) = regs.get(&sreg)?;
    let dir = match eth {
        Load::Payload {
            base: 0,
            offset: 6,
            len: 6,
        } => 0,
        Load::Payload {
            base: 0,
            offset: 0,
            len: 6,
        } => 1,
        _ => return None,
    };
    let mut exprs = vec![*ei];
    let ip = match set.attrs.key_len? {
        6 => false,
        12 => {
            // the IPv4 address in the register after the 6 bytes of the MAC address
            let (ipl, ii) = regs.get(&sreg.checked_add(2)?)?;
            let want = if dir == 1 { 16 } else { 12 };
            if !matches!(ipl, Load::Payload { base: 1, offset, len: 4 } if *offset == want) {
                return None;
            }
            exprs.push(*ii);
            true
        }
        _ => return None,
    };
    exprs.push(i);
    let mut pairs = Vec::with_capacity(set.elements.len());
    for e in &set.elements {
        let k = e.key.as_ref().and_then(Data::value)?;
        let mac: [u8; 6] = k.get(..6)?.try_into().ok()?;
        let addr: [u8; 4] = if ip {
            k.get(8..12)?.try_into().ok()?
        } else {
            [0; 4]
        };
        pairs.push((mac, addr));
    }
    pairs.sort_unstable();
    let inv = l.flags.unwrap_or(0) & NFT_LOOKUP_F_INV != 0;
    Some((dir, AmongList { inv, ip, pairs }, exprs))
}

/// `rule` as ebtables-nft 1.8.9 reads it (bridge family).
pub(super) fn translate_eb(
    table: &Table,
    chain: &Chain,
    rule: &Rule,
    names: &dyn Names,
) -> IptRule {
    let mut out = new_rule(chain);
    let exprs = rule.expressions.as_deref().unwrap_or(&[]);
    // -p -s -d -i --logical-in -o --logical-out
    let mut head: [Option<Part>; 7] = Default::default();
    let mut target: Option<Part> = None;
    // both closures add matches, in rule order
    let matches: std::cell::RefCell<Vec<Part>> = Default::default();
    let mut unknown: Option<String> = None;
    let mut other_expr: Option<String> = None;
    let mut among = Among::default();
    // `meta protocol` compares: ebtables-nft reads them as nothing
    let mut proto: Vec<usize> = Vec::new();
    for e in exprs {
        if let Some(why) = refuses(e, super::Reader::TEXT) {
            out.refused.get_or_insert(why);
        }
    }
    walk(
        exprs,
        |t| {
            let neq = t.op == CMP_NEQ;
            match t.load {
                Load::Meta(k @ (6 | 7 | META_BRI_IIFNAME | META_BRI_OIFNAME)) => {
                    let (slot, opt) = match k {
                        6 => (3, "-i"),
                        META_BRI_IIFNAME => (4, "--logical-in"),
                        7 => (5, "-o"),
                        _ => (6, "--logical-out"),
                    };
                    let bang = if neq { " !" } else { "" };
                    head[slot] = Some(part(
                        format!("{opt}{bang} {}", ifname(&t.data)),
                        t.idx,
                        true,
                    ));
                }
                Load::Meta(META_PROTOCOL) => proto.extend(t.idx),
                Load::Meta(3) => {
                    // mark_m, written natively: `meta mark [& M] ==/!= V`
                    let v = super::ne_u32(&t.data);
                    let bang = if neq { "! " } else { "" };
                    let text = match t.mask.as_deref().map(super::ne_u32) {
                        Some(m) if m != u32::MAX => format!("--mark {bang}0x{v:x}/0x{m:x}"),
                        _ => format!("--mark {bang}0x{v:x}"),
                    };
                    matches.borrow_mut().push(part(text, t.idx, true));
                }
                Load::Payload {
                    base: 0,
                    offset: off @ (0 | 6),
                    len,
                } if len <= 6 => {
                    let (v, m) = widen(&t, 6, len);
                    let (slot, opt) = if off == 0 { (2, "-d") } else { (1, "-s") };
                    let bang = if neq { "! " } else { "" };
                    head[slot] = Some(part(
                        format!("{opt} {bang}{}", ebt_mac_and_mask(&v, &m)),
                        t.idx,
                        true,
                    ));
                }
                Load::Payload {
                    base: 0,
                    offset: 12,
                    len: 2,
                } => {
                    let text = match t.op {
                        // 802.3 frames: the type field holds a length below 0x0600
                        CMP_LT => "-p Length".to_string(),
                        CMP_GTE => "-p ! Length".to_string(),
                        _ => format!(
                            "-p {}{}",
                            if neq { "! " } else { "" },
                            ethertype(be16(&t.data))
                        ),
                    };
                    head[0] = Some(part(text, t.idx, true));
                }
                _ => {
                    unknown.get_or_insert_with(|| "a match ebtables-nft cannot read".into());
                }
            }
        },
        |i, e, regs| match e {
            Expr::Counter(c) => out.counters = Some((c.packets.unwrap_or(0), c.bytes.unwrap_or(0))),
            Expr::Immediate(_) => {
                if let Some(w) = verdict_word(e) {
                    target = Some(part(format!("-j {w}"), vec![i], true));
                }
            }
            Expr::Lookup(l) if among.add(table, l, i, regs) => {
                if among.at.is_none() {
                    let mut m = matches.borrow_mut();
                    among.at = Some(m.len());
                    m.push(part(String::new(), vec![], true));
                }
            }
            Expr::Match(m) => {
                let info = m.info.as_ref().map(|b| b.0.as_slice()).unwrap_or(&[]);
                let text = xt_fragment_with(
                    false,
                    m.name.as_deref().unwrap_or(""),
                    m.rev.unwrap_or(0),
                    Family::Bridge,
                    info,
                    names,
                );
                matches.borrow_mut().push(part(text, vec![i], false));
            }
            Expr::Target(x) => {
                let info = x.info.as_ref().map(|b| b.0.as_slice()).unwrap_or(&[]);
                let name = x.name.as_deref().unwrap_or("");
                let text =
                    xt_fragment_with(true, name, x.rev.unwrap_or(0), Family::Bridge, info, names);
                // `log` and `nflog` are watchers: printed among the matches, the verdict
                // stays the rule's own (ebtables' nft_bridge_parse_target)
                if matches!(name, "log" | "nflog") && !text.starts_with("-j ") {
                    matches.borrow_mut().push(part(text, vec![i], false));
                } else {
                    target = Some(part(text, vec![i], false));
                }
            }
            // anything else (a lookup other than `among`'s) is said, not dropped
            _ => {
                other_expr.get_or_insert_with(|| format!("expression `{}` not read", e.name()));
            }
        },
    );
    if let Some(why) = other_expr {
        out.refused.get_or_insert(why);
    }
    if let Some(why) = unknown {
        out.refused.get_or_insert(why);
    }
    let mut matches = matches.into_inner();
    if let Some(at) = among.at {
        let mut exprs = std::mem::take(&mut among.exprs);
        if among.has_ip() {
            exprs.append(&mut proto);
        }
        exprs.sort_unstable();
        if let Some(p) = matches.get_mut(at) {
            *p = part(among.text(), exprs, true);
        }
    }
    if !proto.is_empty() {
        out.ignored.push(part("meta protocol".into(), proto, true));
    }
    // ebtables-nft 1.8.9 links each match or watcher it reads after the first one in as the
    // first one's successor (`parse_watcher` sets `(*match_list)->next`), replacing the one
    // before: of three or more only the first and the last are left
    if matches.len() > 2 {
        let last = matches.len() - 1;
        out.ignored.extend(matches.drain(1..last));
    }
    if let Some(c) = rule.comment() {
        matches.push(part(format!("--comment {}", save_string(&c)), vec![], true));
    }
    out.head = head.into_iter().flatten().collect();
    out.matches = matches;
    out.target = Some(target.unwrap_or_else(|| part("-j CONTINUE".into(), vec![], true)));
    out
}

/// `rule` as arptables-nft 1.8.9 reads it (arp family).
pub(super) fn translate_arp(
    table: &Table,
    chain: &Chain,
    rule: &Rule,
    names: &dyn Names,
) -> IptRule {
    let _ = table;
    let mut out = new_rule(chain);
    let exprs = rule.expressions.as_deref().unwrap_or(&[]);
    for e in exprs {
        if let Some(why) = refuses(e, super::Reader::TEXT) {
            out.refused.get_or_insert(why);
        }
    }
    #[derive(Default)]
    struct Arp {
        iface: [Option<(String, bool)>; 2],
        src: Option<(Vec<u8>, Vec<u8>, bool)>,
        tgt: Option<(Vec<u8>, Vec<u8>, bool)>,
        src_mac: Option<(Vec<u8>, Vec<u8>, bool)>,
        tgt_mac: Option<(Vec<u8>, Vec<u8>, bool)>,
        hrd: (u16, u16, bool),
        pro: (u16, u16, bool),
        hln: (u8, u8, bool),
        op: (u16, u16, bool),
    }
    let mut a = Arp::default();
    let mut jump: Option<String> = None;
    let mut args = String::new();
    let mut extra: Vec<Part> = Vec::new();
    let mut unknown = false;
    let mut other = false;
    let mut ignored: Vec<Part> = Vec::new();
    walk(
        exprs,
        |t| {
            let neq = t.op == CMP_NEQ;
            match t.load {
                Load::Meta(k @ (6 | 7)) => {
                    a.iface[(k - 6) as usize] = Some((ifname(&t.data), neq));
                }
                Load::Payload {
                    base: 1,
                    offset,
                    len,
                } => {
                    let hln = a.hln.0 as u32;
                    match offset {
                        0 => a.hrd = (be16(&t.data), 0xffff, neq),
                        2 => a.pro = (be16(&t.data), 0xffff, neq),
                        4 => a.hln = (t.data.first().copied().unwrap_or(0), 0xff, neq),
                        5 => {
                            if t.data.first() != Some(&4) || neq {
                                unknown = true;
                            }
                        }
                        6 => a.op = (be16(&t.data), 0xffff, neq),
                        // a hardware address compare of other than 6 bytes (a prefix mask
                        // written short) is skipped by arptables-nft 1.8.9: kept as ignored
                        o if t.data.len() != 6 && (o == 8 || o == 8 + hln + 4) => {
                            ignored.push(part(
                                format!("arp hardware address +{offset}/{len}"),
                                t.idx,
                                true,
                            ));
                        }
                        8 => {
                            let (v, m) = widen(&t, len as usize, len);
                            a.src_mac = Some((v, m, neq));
                        }
                        o if o == 8 + hln => {
                            let (v, m) = widen(&t, 4, len);
                            a.src = Some((v, m, neq));
                        }
                        o if o == 8 + hln + 4 => {
                            let (v, m) = widen(&t, len as usize, len);
                            a.tgt_mac = Some((v, m, neq));
                        }
                        o if o == 8 + 2 * hln + 4 => {
                            let (v, m) = widen(&t, 4, len);
                            a.tgt = Some((v, m, neq));
                        }
                        _ => unknown = true,
                    }
                }
                _ => unknown = true,
            }
        },
        |i, e, _| match e {
            Expr::Counter(c) => out.counters = Some((c.packets.unwrap_or(0), c.bytes.unwrap_or(0))),
            Expr::Immediate(_) => {
                if let Some(w) = verdict_word(e) {
                    jump = Some(w);
                }
            }
            Expr::Target(x) => {
                let info = x.info.as_ref().map(|b| b.0.as_slice()).unwrap_or(&[]);
                let name = x.name.as_deref().unwrap_or("");
                let text =
                    xt_fragment_with(true, name, x.rev.unwrap_or(0), Family::Arp, info, names);
                // `-j NAME` first, its options after the rule's fields (CLASSIFY and MARK
                // have an arp form of their own)
                let rest = text.strip_prefix("-j ").unwrap_or(&text);
                let (w, opts) = rest.split_once(' ').unwrap_or((rest, ""));
                jump = Some(w.to_string());
                let fam = nfscope_wire::xt::ext::NFPROTO_ARP;
                let kind = nfscope_wire::xt::ext::XtKind::Target;
                let x = nfscope_wire::xt::ext::decode(
                    kind,
                    name,
                    x.rev.unwrap_or(0).min(255) as u8,
                    fam,
                    info,
                );
                args = crate::render::arptables::arp_target_options(&x)
                    .map(|s| s.trim_end().to_string())
                    .unwrap_or_else(|| opts.to_string());
            }
            Expr::Match(m) => {
                let info = m.info.as_ref().map(|b| b.0.as_slice()).unwrap_or(&[]);
                let text = xt_fragment_with(
                    false,
                    m.name.as_deref().unwrap_or(""),
                    m.rev.unwrap_or(0),
                    Family::Arp,
                    info,
                    names,
                );
                extra.push(part(text, vec![i], false));
            }
            _ => other = true,
        },
    );
    if unknown || other {
        out.refused
            .get_or_insert_with(|| "a match arptables-nft cannot read".into());
    }
    let mut s: Vec<String> = Vec::new();
    if let Some(j) = &jump {
        s.push(format!("-j {j}"));
    }
    let bang = |b: bool| if b { "! " } else { "" };
    for (i, opt) in ["-i", "-o"].iter().enumerate() {
        if let Some((n, neq)) = &a.iface[i] {
            s.push(format!("{}{opt} {n}", bang(*neq)));
        }
    }
    let ip = |(v, m, neq): &(Vec<u8>, Vec<u8>, bool), opt: &str| -> Option<String> {
        if m.iter().all(|&x| x == 0) {
            return None;
        }
        let addr = std::net::Ipv4Addr::new(v[0], v[1], v[2], v[3]);
        let ones: u32 = m.iter().map(|b| b.count_ones()).sum();
        let mk = u32::from_be_bytes([m[0], m[1], m[2], m[3]]);
        let text = if mk == u32::MAX {
            addr.to_string()
        } else if mk.leading_ones() == ones {
            format!("{addr}/{ones}")
        } else {
            format!("{addr}/{}", std::net::Ipv4Addr::from(mk))
        };
        Some(format!("{}{opt} {text}", bang(*neq)))
    };
    let mac = |(v, m, neq): &(Vec<u8>, Vec<u8>, bool), opt: &str| -> Option<String> {
        if m.iter().all(|&x| x == 0) {
            return None;
        }
        Some(format!("{}{opt} {}", bang(*neq), mac_and_mask(v, m)))
    };
    s.extend(a.src.as_ref().and_then(|x| ip(x, "-s")));
    s.extend(a.src_mac.as_ref().and_then(|x| mac(x, "--src-mac")));
    s.extend(a.tgt.as_ref().and_then(|x| ip(x, "-d")));
    s.extend(a.tgt_mac.as_ref().and_then(|x| mac(x, "--dst-mac")));
    if a.hln.1 != 0xff || a.hln.0 != 6 {
        let mut t = format!("{}--h-length {}", bang(a.hln.2), a.hln.0);
        if a.hln.1 != 0xff {
            let _ = write!(t, "/{}", a.hln.1);
        }
        s.push(t);
    }
    if a.op.1 != 0 {
        s.push(format!("{}--opcode {}", bang(a.op.2), a.op.0));
    }
    if a.hrd.1 != 0xffff || a.hrd.0 != 1 {
        let mut t = format!("{}--h-type {}", bang(a.hrd.2), a.hrd.0);
        if a.hrd.1 != 0xffff {
            let _ = write!(t, "/{}", a.hrd.1);
        }
        s.push(t);
    }
    if a.pro.1 != 0 {
        s.push(format!("{}--proto-type 0x{:x}", bang(a.pro.2), a.pro.0));
    }
    if !args.is_empty() {
        s.push(args);
    }
    out.matches = s.into_iter().map(|t| part(t, vec![], true)).collect();
    out.matches.extend(extra);
    out.ignored = ignored;
    out
}
