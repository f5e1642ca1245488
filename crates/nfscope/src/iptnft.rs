//! How iptables-nft reads an nf_tables rule back, per iptables version band.
//!
//! iptables-nft encodes part of a rule natively (payload + cmp for `-s`/`-d`/`-p`, `meta iifname`
//! for `-i`, and since 1.8.8 `meta mark` for `-m mark`, transport-header payloads for
//! `--sport`/`--dport`/`--tcp-flags`, `range` for port ranges, `log` for NFLOG) and the rest as xt
//! match/target blobs. Each iptables version understands a different subset: an expression it
//! does not know is either **silently ignored** (the rule it prints, and would restore, is
//! broader: the kube-router incident) or makes the whole table **incompatible** (it refuses to
//! print it). [`translate`] replays that for one [`Reader`] band and returns the rule as that
//! version prints it, with what it loses.
//!
//! The bands and their knowledge were measured with the real binaries (see
//! `../shared/research/writers.md` and `tests/tests/iptables_nft.rs`, which checks this module
//! against `iptables-nft-save` of every version of the writer matrix).

use crate::model::{Chain, Table};
use nfscope_wire::nft::expr::{consts, Expr};
use nfscope_wire::nft::{Data, Family, Rule, VerdictCode};
use nfscope_wire::xt::ext::{Names, NoNames};
use serde::Serialize;
use std::fmt::Write;
use std::net::{Ipv4Addr, Ipv6Addr};

mod ebarp;

/// An iptables-nft reader band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Reader {
    /// iptables-nft ≤ 1.8.7 (Debian bullseye, kube-router's images).
    #[serde(rename = "iptables-nft <=1.8.7")]
    Upto187,
    /// iptables-nft 1.8.8 – 1.8.9 (Debian bookworm).
    #[serde(rename = "iptables-nft 1.8.8-1.8.9")]
    From188,
    /// iptables-nft ≥ 1.8.10 (trixie, sid).
    #[serde(rename = "iptables-nft >=1.8.10")]
    From1810,
}

impl Reader {
    pub const ALL: [Reader; 3] = [Reader::Upto187, Reader::From188, Reader::From1810];
    /// The band whose text nfscope prints wherever it shows a rule as iptables-save text
    /// (`dump`, JSON, watch and history records, lint, blame): iptables-nft-save 1.8.9's, which
    /// the tests hold byte for byte against the real one. One band everywhere, so a rule prints
    /// the same in every output.
    pub const TEXT: Reader = Reader::From188;
    pub fn name(self) -> &'static str {
        match self {
            Reader::Upto187 => "iptables-nft <=1.8.7",
            Reader::From188 => "iptables-nft 1.8.8-1.8.9",
            Reader::From1810 => "iptables-nft >=1.8.10",
        }
    }
    /// Understands native `meta mark`, transport ports / tcp flags, `range`, `log`.
    fn native_188(self) -> bool {
        self >= Reader::From188
    }
}

/// One piece of an iptables rule as iptables-save prints it (`-s 10.0.0.0/8`,
/// `-m mark --mark 0x8000/0x8000`, `-j DROP`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Part {
    pub text: String,
    /// Indices of the expressions this part was read from.
    pub exprs: Vec<usize>,
    /// Encoded natively (not as an xt blob).
    pub native: bool,
}

/// A rule as one iptables-nft version reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IptRule {
    pub chain: String,
    /// `-s -d -i -o -p -f` parts in iptables' fixed order.
    pub head: Vec<Part>,
    /// Matches, in rule order.
    pub matches: Vec<Part>,
    /// `-j X` / `-g X`, if any.
    pub target: Option<Part>,
    pub counters: Option<(u64, u64)>,
    /// What this reader silently ignores (present in the kernel, absent from its text).
    pub ignored: Vec<Part>,
    /// Why this reader refuses the whole table (`table 'filter' is incompatible`), if it does.
    pub refused: Option<String>,
}

impl IptRule {
    /// The `-A` line (without counters) as iptables-save prints it.
    pub fn line(&self) -> String {
        let mut s = String::new();
        self.line_into(&mut s, false);
        s
    }
    /// With `-c`: `[pkts:bytes] -A ...`.
    pub fn line_with_counters(&self) -> String {
        let mut s = String::new();
        self.line_into(&mut s, true);
        s
    }
    /// [`IptRule::line`] (with `counters`: [`IptRule::line_with_counters`]) appended to `out`.
    pub fn line_into(&self, out: &mut String, counters: bool) {
        if counters {
            let (p, b) = self.counters.unwrap_or((0, 0));
            let _ = write!(out, "[{p}:{b}] ");
        }
        out.push_str("-A ");
        out.push_str(&self.chain);
        for p in self.parts() {
            out.push(' ');
            out.push_str(&p.text);
        }
    }
    /// Every part, in printing order.
    pub fn parts(&self) -> impl Iterator<Item = &Part> {
        self.head.iter().chain(&self.matches).chain(&self.target)
    }
}

/// How a reader band fares with a rule compared with the newest reader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum Outcome {
    Identical,
    /// Reads it back without these parts (their iptables text).
    Lossy {
        lost: Vec<String>,
    },
    /// Refuses the table.
    Refused {
        reason: String,
    },
}

/// The xt payload as iptables-save prints it (through the xt extension registry):
/// `-m mark --mark 0x8000/0x8000`, `-j DNAT --to-destination 10.0.0.1:80`, ... An extension the
/// registry does not know prints visibly as such, never silently dropped.
pub fn xt_fragment(target: bool, name: &str, rev: u32, family: Family, info: &[u8]) -> String {
    xt_fragment_with(target, name, rev, family, info, &NoNames)
}

/// [`xt_fragment`] with names for what the payload holds by number (ipset indexes: without a
/// name a set prints as `#INDEX`).
pub fn xt_fragment_with(
    target: bool,
    name: &str,
    rev: u32,
    family: Family,
    info: &[u8],
    names: &dyn Names,
) -> String {
    use nfscope_wire::xt::ext::{self, XtKind};
    let kind = if target {
        XtKind::Target
    } else {
        XtKind::Match
    };
    let fam = match family {
        Family::Ip => ext::NFPROTO_IPV4,
        Family::Ip6 => ext::NFPROTO_IPV6,
        Family::Arp => ext::NFPROTO_ARP,
        Family::Bridge => ext::NFPROTO_BRIDGE,
        _ => ext::NFPROTO_UNSPEC,
    };
    let mut s = String::new();
    ext::decode(kind, name, rev.min(255) as u8, fam, info).save_with(names, &mut s);
    s.trim_start().to_string()
}

/// What the last load into register 1 was.
#[derive(Debug, Clone, PartialEq)]
enum Load {
    Meta(u32),
    Payload { base: u32, offset: u32, len: u32 },
}

#[derive(Debug, Default)]
struct L4 {
    sport: Option<(u16, u16, bool)>,
    dport: Option<(u16, u16, bool)>,
    flags: Option<(u8, u8, bool)>,
    exprs: Vec<usize>,
    at: Option<usize>,
}

/// Translate `rule` (in `table`/`chain`) as `reader` reads it (ipsets by index: see
/// [`translate_with`]).
pub fn translate(table: &Table, chain: &Chain, rule: &Rule, reader: Reader) -> IptRule {
    translate_with(table, chain, rule, reader, &NoNames)
}

/// [`translate`] with names for what xt payloads hold by number: ipset indexes, resolved as
/// iptables-save resolves them (`IP_SET_OP_GET_BYINDEX` in the rule's namespace, e.g.
/// [`crate::legacy::ipset_names`] through [`crate::render::iptables::SetNames`]).
pub fn translate_with(
    table: &Table,
    chain: &Chain,
    rule: &Rule,
    reader: Reader,
    names: &dyn Names,
) -> IptRule {
    let family = table.family;
    match family {
        Family::Bridge => return ebarp::translate_eb(table, chain, rule, names),
        Family::Arp => return ebarp::translate_arp(table, chain, rule, names),
        _ => {}
    }
    let mut out = IptRule {
        chain: chain.name().to_string(),
        head: vec![],
        matches: vec![],
        target: None,
        counters: None,
        ignored: vec![],
        refused: None,
    };
    let mut head: [Option<Part>; 6] = Default::default(); // s d i o p f
    let mut load: Option<(Load, usize)> = None;
    let mut mask: Option<(Vec<u8>, usize)> = None;
    let mut proto: Option<u8> = None;
    let mut l4 = L4::default();
    let exprs = rule.expressions.as_deref().unwrap_or(&[]);
    let ignore = |out: &mut IptRule, text: String, idx: Vec<usize>| {
        out.ignored.push(Part {
            text,
            exprs: idx,
            native: true,
        });
    };
    for (i, e) in exprs.iter().enumerate() {
        if let Some(why) = refuses(e, reader) {
            out.refused.get_or_insert(why);
        }
        match e {
            // `meta nftrace set 1`: what iptables-nft writes for `-j TRACE`
            Expr::Meta(m) if m.sreg.is_some() && m.key == Some(NFT_META_NFTRACE) => {
                out.target = Some(Part {
                    text: "-j TRACE".to_string(),
                    exprs: vec![i],
                    native: true,
                });
            }
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
                mask = None;
            }
            Expr::Bitwise(b) => {
                let zero_xor = b
                    .xor
                    .as_ref()
                    .and_then(Data::value)
                    .is_none_or(|x| x.iter().all(|&v| v == 0));
                if b.op.unwrap_or(0) == 0 && zero_xor {
                    mask = b
                        .mask
                        .as_ref()
                        .and_then(Data::value)
                        .map(|m| (m.to_vec(), i));
                }
            }
            Expr::Cmp(c) => {
                let Some((ld, li)) = load.clone() else {
                    continue;
                };
                let data = c
                    .data
                    .as_ref()
                    .and_then(Data::value)
                    .unwrap_or(&[])
                    .to_vec();
                let neq = c.op == Some(1);
                let mut idx = vec![li];
                if let Some((_, mi)) = &mask {
                    idx.push(*mi);
                }
                idx.push(i);
                let m = mask.as_ref().map(|(m, _)| m.clone());
                match ld {
                    Load::Meta(k) => match k {
                        6 | 7 => {
                            let slot = if k == 6 { 2 } else { 3 };
                            let flag = if k == 6 { "-i" } else { "-o" };
                            head[slot] = Some(Part {
                                text: inv(neq, &format!("{flag} {}", ifname(&data))),
                                exprs: idx,
                                native: true,
                            });
                        }
                        16 => {
                            if let Some(&p) = data.first() {
                                proto = (!neq).then_some(p);
                                head[4] = Some(Part {
                                    text: inv(neq, &format!("-p {}", proto_name(p, reader))),
                                    exprs: idx,
                                    native: true,
                                });
                            }
                        }
                        3 => {
                            let v = ne_u32(&data);
                            let mk = m.as_deref().map(ne_u32).unwrap_or(u32::MAX);
                            let text = if mk == u32::MAX {
                                format!("-m mark{} --mark 0x{v:x}", if neq { " !" } else { "" })
                            } else {
                                format!(
                                    "-m mark{} --mark 0x{v:x}/0x{mk:x}",
                                    if neq { " !" } else { "" }
                                )
                            };
                            if reader.native_188() {
                                out.matches.push(Part {
                                    text,
                                    exprs: idx,
                                    native: true,
                                });
                            } else {
                                ignore(&mut out, text, idx);
                            }
                        }
                        _ => ignore(
                            &mut out,
                            format!("meta {}", consts::meta_key(k).unwrap_or("?")),
                            idx,
                        ),
                    },
                    Load::Payload {
                        base: 1,
                        offset,
                        len,
                    } => {
                        let v6 = matches!(family, Family::Ip6);
                        match (v6, offset) {
                            (false, 12) | (false, 16) | (true, 8) | (true, 24) => {
                                let src = offset == 12 || offset == 8;
                                let text = inv(
                                    neq,
                                    &format!(
                                        "{} {}",
                                        if src { "-s" } else { "-d" },
                                        addr(v6, &data, m.as_deref(), len)
                                    ),
                                );
                                head[if src { 0 } else { 1 }] = Some(Part {
                                    text,
                                    exprs: idx,
                                    native: true,
                                });
                            }
                            (false, 9) | (true, 6) => {
                                if let Some(&p) = data.first() {
                                    proto = (!neq).then_some(p);
                                    head[4] = Some(Part {
                                        text: inv(neq, &format!("-p {}", proto_name(p, reader))),
                                        exprs: idx,
                                        native: true,
                                    });
                                }
                            }
                            (false, 6) => {
                                // frag_off & 0x1fff != 0  →  -f ; == 0 → ! -f
                                head[5] = Some(Part {
                                    text: if neq { "-f".into() } else { "! -f".into() },
                                    exprs: idx,
                                    native: true,
                                });
                            }
                            _ => ignore(&mut out, format!("payload nh+{offset}/{len}"), idx),
                        }
                    }
                    Load::Payload {
                        base: 2,
                        offset,
                        len,
                    } => {
                        if !reader.native_188() {
                            ignore(
                                &mut out,
                                l4_text_single(proto, offset, &data, m.as_deref(), neq),
                                idx,
                            );
                            continue;
                        }
                        l4_add(
                            &mut l4,
                            &mut out,
                            offset,
                            len,
                            &data,
                            m.as_deref(),
                            neq,
                            idx,
                        );
                    }
                    Load::Payload { base, offset, len } => ignore(
                        &mut out,
                        format!("payload base {base} +{offset}/{len}"),
                        idx,
                    ),
                }
                mask = None;
            }
            Expr::Range(r) => {
                let Some((
                    Load::Payload {
                        base: 2,
                        offset,
                        len,
                    },
                    li,
                )) = load.clone()
                else {
                    continue;
                };
                let from = r
                    .from
                    .as_ref()
                    .and_then(Data::value)
                    .map(be_u16)
                    .unwrap_or(0);
                let to = r.to.as_ref().and_then(Data::value).map(be_u16).unwrap_or(0);
                let neq = r.op == Some(1);
                if reader.native_188() && len == 2 {
                    let slot = if offset == 0 {
                        &mut l4.sport
                    } else {
                        &mut l4.dport
                    };
                    *slot = Some((from, to, neq));
                    l4.exprs.extend([li, i]);
                    if l4.at.is_none() {
                        l4.at = Some(out.matches.len());
                        out.matches.push(Part {
                            text: String::new(),
                            exprs: vec![],
                            native: true,
                        });
                    }
                }
            }
            Expr::Counter(c) => out.counters = Some((c.packets.unwrap_or(0), c.bytes.unwrap_or(0))),
            Expr::Immediate(im) if im.dreg == Some(0) => {
                if let Some(v) = im.data.as_ref().and_then(Data::verdict) {
                    let text = match v.code {
                        VerdictCode::Accept => Some("-j ACCEPT".to_string()),
                        VerdictCode::Drop => Some("-j DROP".to_string()),
                        VerdictCode::Return => Some("-j RETURN".to_string()),
                        VerdictCode::Jump => v.chain.as_ref().map(|c| format!("-j {c}")),
                        VerdictCode::Goto => v.chain.as_ref().map(|c| format!("-g {c}")),
                        _ => None,
                    };
                    out.target = text.map(|text| Part {
                        text,
                        exprs: vec![i],
                        native: true,
                    });
                }
            }
            Expr::Match(m) => {
                let info = m.info.as_ref().map(|b| b.0.as_slice()).unwrap_or(&[]);
                let text = xt_fragment_with(
                    false,
                    m.name.as_deref().unwrap_or(""),
                    m.rev.unwrap_or(0),
                    family,
                    info,
                    names,
                );
                out.matches.push(Part {
                    text,
                    exprs: vec![i],
                    native: false,
                });
            }
            Expr::Target(t) => {
                let info = t.info.as_ref().map(|b| b.0.as_slice()).unwrap_or(&[]);
                let mut text = xt_fragment_with(
                    true,
                    t.name.as_deref().unwrap_or(""),
                    t.rev.unwrap_or(0),
                    family,
                    info,
                    names,
                );
                if reader == Reader::Upto187 && text.starts_with("-j NFLOG") {
                    // 1.8.7 prints its NFLOG prefix after two spaces.
                    text = text.replacen("--nflog-prefix ", "--nflog-prefix  ", 1);
                }
                out.target = Some(Part {
                    text,
                    exprs: vec![i],
                    native: false,
                });
            }
            Expr::Limit(l) => {
                if let Some(text) = limit_text(l) {
                    out.matches.push(Part {
                        text,
                        exprs: vec![i],
                        native: true,
                    });
                }
            }
            Expr::Log(l) if reader.native_188() => {
                let mut text = String::from("-j NFLOG");
                if let Some(p) = &l.prefix {
                    let _ = write!(text, " --nflog-prefix {}", save_string(p));
                }
                if let Some(g) = l.group.filter(|g| *g != 0) {
                    let _ = write!(text, " --nflog-group {g}");
                }
                // the attribute's presence is the flag (`--nflog-size 0` is kept)
                if let Some(s) = l.snaplen {
                    let _ = write!(text, " --nflog-size {s}");
                }
                if let Some(q) = l.qthreshold.filter(|q| *q != 0) {
                    let _ = write!(text, " --nflog-threshold {q}");
                }
                out.target = Some(Part {
                    text,
                    exprs: vec![i],
                    native: true,
                });
            }
            _ => {}
        }
    }
    if let Some(at) = l4.at {
        out.matches[at] = Part {
            text: l4_text(proto, &l4),
            exprs: l4.exprs.clone(),
            native: true,
        };
    }
    // A comment stored in the rule's userdata (nft-written) reads as -m comment.
    if let Some(c) = rule.comment() {
        out.matches.push(Part {
            text: format!("-m comment --comment {}", save_string(&c)),
            exprs: vec![],
            native: true,
        });
    }
    out.head = head.into_iter().flatten().collect();
    out
}

/// `NFT_META_NFTRACE`.
const NFT_META_NFTRACE: u32 = 12;

/// Why `reader` refuses a table holding `e`, if it does (its list of known expression names).
fn refuses(e: &Expr, reader: Reader) -> Option<String> {
    let name = e.name();
    let known = match name {
        "match" | "target" | "payload" | "meta" | "cmp" | "bitwise" | "counter" | "immediate"
        | "lookup" => true,
        "limit" => {
            matches!(e, Expr::Limit(l) if l.limit_type.unwrap_or(0) == 0 && l.flags.unwrap_or(0) == 0)
        }
        "range" | "log" => reader.native_188(),
        _ => false,
    };
    (!known).then(|| format!("expression `{name}` is unknown to {}", reader.name()))
}

fn inv(neq: bool, s: &str) -> String {
    if neq {
        format!("! {s}")
    } else {
        s.to_string()
    }
}

fn ne_u32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    for (i, x) in b.iter().take(4).enumerate() {
        a[i] = *x;
    }
    u32::from_ne_bytes(a)
}

fn be_u16(b: &[u8]) -> u16 {
    match b {
        [a, c, ..] => u16::from_be_bytes([*a, *c]),
        [a] => *a as u16,
        [] => 0,
    }
}

/// Interface name from a cmp: a trailing NUL means exact, none means a `+` wildcard prefix.
fn ifname(data: &[u8]) -> String {
    match data.iter().position(|&c| c == 0) {
        Some(n) => String::from_utf8_lossy(&data[..n]).into_owned(),
        None => format!("{}+", String::from_utf8_lossy(data)),
    }
}

/// `a.b.c.d/prefix` (or `/mask` for a non-contiguous one); `len` bytes were compared.
fn addr(v6: bool, data: &[u8], mask: Option<&[u8]>, len: u32) -> String {
    let n = if v6 { 16 } else { 4 };
    let mut a = vec![0u8; n];
    let mut m = vec![0u8; n];
    let k = n.min(data.len());
    a[..k].copy_from_slice(&data[..k]);
    for (i, x) in m.iter_mut().enumerate().take((len as usize).min(n)) {
        *x = mask.and_then(|mk| mk.get(i).copied()).unwrap_or(0xff);
    }
    let ones: u32 = m.iter().map(|b| b.count_ones()).sum();
    let contiguous = m.iter().fold((true, false), |(ok, seen_zero), &b| {
        let ok = ok
            && !(seen_zero && b != 0)
            && (b == 0xff || b == 0 || (b.leading_ones() + b.trailing_zeros() == 8));
        (ok, seen_zero || b != 0xff)
    });
    if v6 {
        let ip = Ipv6Addr::from(<[u8; 16]>::try_from(a.as_slice()).unwrap_or([0; 16]));
        if contiguous.0 {
            format!("{ip}/{ones}")
        } else {
            let mk = Ipv6Addr::from(<[u8; 16]>::try_from(m.as_slice()).unwrap_or([0; 16]));
            format!("{ip}/{mk}")
        }
    } else {
        let ip = Ipv4Addr::new(a[0], a[1], a[2], a[3]);
        if contiguous.0 {
            format!("{ip}/{ones}")
        } else {
            format!("{ip}/{}", Ipv4Addr::new(m[0], m[1], m[2], m[3]))
        }
    }
}

/// Protocol name as iptables prints it: up to 1.8.9 `getprotobynumber` (i.e. /etc/protocols)
/// first; from 1.8.10 only iptables' own short list, numbers otherwise (`-p 47`).
pub fn proto_name(p: u8, reader: Reader) -> String {
    if reader >= Reader::From1810 {
        const OWN: [(u8, &str); 9] = [
            (6, "tcp"),
            (132, "sctp"),
            (17, "udp"),
            (136, "udplite"),
            (1, "icmp"),
            (58, "ipv6-icmp"),
            (50, "esp"),
            (51, "ah"),
            (135, "mh"),
        ];
        return OWN
            .iter()
            .find(|(n, _)| *n == p)
            .map(|(_, s)| s.to_string())
            .unwrap_or_else(|| p.to_string());
    }
    static TABLE: std::sync::OnceLock<Vec<(u8, String)>> = std::sync::OnceLock::new();
    let t = TABLE.get_or_init(|| {
        let mut v = Vec::new();
        if let Ok(s) = std::fs::read_to_string("/etc/protocols") {
            for l in s.lines() {
                let l = l.split('#').next().unwrap_or("");
                let mut it = l.split_whitespace();
                if let (Some(name), Some(num)) = (it.next(), it.next()) {
                    if let Ok(n) = num.parse::<u8>() {
                        if !v.iter().any(|(x, _): &(u8, String)| *x == n) {
                            v.push((n, name.to_string()));
                        }
                    }
                }
            }
        }
        for (n, name) in [
            (6, "tcp"),
            (17, "udp"),
            (1, "icmp"),
            (58, "ipv6-icmp"),
            (50, "esp"),
            (51, "ah"),
            (132, "sctp"),
            (136, "udplite"),
            (135, "mh"),
        ] {
            if !v.iter().any(|(x, _)| *x == n) {
                v.push((n, name.to_string()));
            }
        }
        v
    });
    t.iter()
        .find(|(n, _)| *n == p)
        .map(|(_, s)| s.clone())
        .unwrap_or_else(|| p.to_string())
}

/// iptables' quoting of strings in save output (`xtables_save_string`): bare when the string is
/// only `[A-Za-z0-9_-]`, else double quotes with `"`, `\` and `'` escaped.
pub fn save_string(s: &str) -> String {
    let bare = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        return s.to_string();
    }
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' || c == '\'' {
            o.push('\\');
        }
        o.push(c);
    }
    o.push('"');
    o
}

#[allow(clippy::too_many_arguments)]
fn l4_add(
    l4: &mut L4,
    out: &mut IptRule,
    offset: u32,
    len: u32,
    data: &[u8],
    mask: Option<&[u8]>,
    neq: bool,
    idx: Vec<usize>,
) {
    match (offset, len) {
        (0, 2) => l4.sport = Some((be_u16(data), be_u16(data), neq)),
        (0, 4) => {
            // Both ports in one 4-byte compare (`--sport A --dport B`).
            let (a, b) = (be_u16(data), be_u16(data.get(2..).unwrap_or(&[])));
            l4.sport = Some((a, a, neq));
            l4.dport = Some((b, b, neq));
        }
        (2, 2) => l4.dport = Some((be_u16(data), be_u16(data), neq)),
        (13, 1) => {
            let m = mask.and_then(|m| m.first().copied()).unwrap_or(0xff);
            l4.flags = Some((m, data.first().copied().unwrap_or(0), neq));
        }
        _ => {
            out.ignored.push(Part {
                text: format!("payload th+{offset}/{len}"),
                exprs: idx,
                native: true,
            });
            return;
        }
    }
    l4.exprs.extend(idx);
    if l4.at.is_none() {
        l4.at = Some(out.matches.len());
        out.matches.push(Part {
            text: String::new(),
            exprs: vec![],
            native: true,
        });
    }
}

fn port_text(name: &str, p: (u16, u16, bool)) -> String {
    let bang = if p.2 { " !" } else { "" };
    if p.0 == p.1 {
        format!("{bang} --{name} {}", p.0)
    } else {
        format!("{bang} --{name} {}:{}", p.0, p.1)
    }
}

const TCP_FLAGS: [(u8, &str); 6] = [
    (1, "FIN"),
    (2, "SYN"),
    (4, "RST"),
    (8, "PSH"),
    (16, "ACK"),
    (32, "URG"),
];

fn tcp_flags(f: u8) -> String {
    let names: Vec<&str> = TCP_FLAGS
        .iter()
        .filter(|(b, _)| f & b != 0)
        .map(|(_, n)| *n)
        .collect();
    if names.is_empty() {
        "NONE".into()
    } else {
        names.join(",")
    }
}

fn l4_text(proto: Option<u8>, l4: &L4) -> String {
    let name = match proto {
        Some(17) => "udp",
        Some(132) => "sctp",
        Some(33) => "dccp",
        Some(136) => "udplite",
        _ => "tcp",
    };
    let mut s = format!("-m {name}");
    if let Some(p) = l4.sport {
        s.push_str(&port_text("sport", p));
    }
    if let Some(p) = l4.dport {
        s.push_str(&port_text("dport", p));
    }
    if let Some((m, c, neq)) = l4.flags {
        let _ = write!(
            s,
            "{} --tcp-flags {} {}",
            if neq { " !" } else { "" },
            tcp_flags(m),
            tcp_flags(c)
        );
    }
    s
}

/// The text of one native transport-header test on its own (for what an old reader ignores).
fn l4_text_single(
    proto: Option<u8>,
    offset: u32,
    data: &[u8],
    mask: Option<&[u8]>,
    neq: bool,
) -> String {
    let mut l4 = L4::default();
    match offset {
        0 => l4.sport = Some((be_u16(data), be_u16(data), neq)),
        2 => l4.dport = Some((be_u16(data), be_u16(data), neq)),
        13 => {
            l4.flags = Some((
                mask.and_then(|m| m.first().copied()).unwrap_or(0xff),
                data.first().copied().unwrap_or(0),
                neq,
            ))
        }
        _ => return format!("payload th+{offset}"),
    }
    l4_text(proto, &l4)
}

/// `-m limit --limit R/unit [--limit-burst B]` from a native limit (packets).
fn limit_text(l: &nfscope_wire::nft::expr::Limit) -> Option<String> {
    if l.limit_type.unwrap_or(0) != 0 {
        return None;
    }
    let rate = l.rate.unwrap_or(0);
    let unit = l.unit.unwrap_or(1);
    let unit_name = match unit {
        1 => "sec",
        60 => "min",
        3600 => "hour",
        86400 => "day",
        _ => return Some(format!("-m limit --limit {rate}/{unit}s")),
    };
    let mut s = format!("-m limit --limit {rate}/{unit_name}");
    let burst = l.burst.unwrap_or(5);
    if burst != 5 {
        let _ = write!(s, " --limit-burst {burst}");
    }
    Some(s)
}

/// How `reader` fares against the newest reader for this rule.
pub fn outcome(table: &Table, chain: &Chain, rule: &Rule, reader: Reader) -> Outcome {
    let r = translate(table, chain, rule, reader);
    if r.refused.is_some() {
        return outcome_of(&r, &r);
    }
    outcome_of(&r, &translate(table, chain, rule, Reader::From1810))
}

/// [`outcome`] from the rule as the reader reads it (`r`) and as the newest reader does
/// (`best`), both by [`translate`]: for callers that have every band's reading at hand.
pub fn outcome_of(r: &IptRule, best: &IptRule) -> Outcome {
    if let Some(reason) = &r.refused {
        return Outcome::Refused {
            reason: reason.clone(),
        };
    }
    let have: Vec<&str> = r.parts().map(|p| p.text.as_str()).collect();
    let lost: Vec<String> = best
        .parts()
        .filter(|p| !have.contains(&p.text.as_str()))
        .map(|p| p.text.clone())
        .collect();
    if lost.is_empty() {
        Outcome::Identical
    } else {
        Outcome::Lossy { lost }
    }
}

/// The tables iptables-nft knows, in the order iptables-nft-save prints them.
const SAVE_TABLES: [&str; 5] = ["mangle", "raw", "filter", "nat", "security"];

/// The tables the `*-nft-save` of `family` prints, in its order (ebtables-nft-save: filter,
/// nat, broute; arptables-nft-save: filter).
fn save_tables_of(family: Family) -> &'static [&'static str] {
    match family {
        Family::Ip | Family::Ip6 => &SAVE_TABLES,
        Family::Bridge => &["filter", "nat", "broute"],
        Family::Arp => &["filter"],
        _ => &[],
    }
}

/// `iptables-nft-save` (or `ip6tables-nft-save` for `Family::Ip6`) text of the nf_tables
/// ruleset, as `reader` prints it; `counters` as with `-c`. Without the `# Generated`/`# Completed`
/// comment lines (like [`crate::render::iptables::legacy_save`]).
pub fn save(rs: &crate::Ruleset, family: Family, reader: Reader, counters: bool) -> String {
    save_with(
        rs,
        family,
        reader,
        &SaveOpts {
            counters,
            ..SaveOpts::default()
        },
    )
}

/// Options of [`save_with`].
pub struct SaveOpts<'a> {
    /// `-c`: `[pkts:bytes]` before each rule.
    pub counters: bool,
    /// `# written by …` after each rule (`dump --show-writer`).
    pub show_writer: bool,
    /// Names for what xt payloads hold by number: ipset indexes (as iptables-nft-save asks
    /// the kernel, in the ruleset's namespace); without them a set prints as `#INDEX`.
    pub names: &'a (dyn Names + Sync),
}

impl Default for SaveOpts<'_> {
    fn default() -> Self {
        SaveOpts {
            counters: false,
            show_writer: false,
            names: &NoNames,
        }
    }
}

/// [`save`] with options.
pub fn save_with(rs: &crate::Ruleset, family: Family, reader: Reader, o: &SaveOpts<'_>) -> String {
    let (counters, show_writer) = (o.counters, o.show_writer);
    let mut out = String::new();
    for (_, t) in save_tables(rs, family) {
        // Rules are translated chain by chain straight into the table's text, nothing held:
        // the whole table is refused (as iptables-nft-save does) as soon as one rule is.
        let chains = save_chain_order(t);
        let info = show_writer.then(|| crate::provenance::TableInfo::of(t));
        let render = |chains: &[&Chain]| -> Option<String> {
            let mut body = String::new();
            for c in chains {
                for rule in &c.rules {
                    if is_policy_rule(t, &rule) {
                        continue;
                    }
                    let r = translate_with(t, c, &rule, reader, o.names);
                    if r.refused.is_some() {
                        return None;
                    }
                    body.push_str(&if counters {
                        r.line_with_counters()
                    } else {
                        r.line()
                    });
                    if let Some(info) = &info {
                        let w = crate::provenance::of_rule_in(info, t, c, &rule);
                        body.push_str(" # written by ");
                        body.push_str(&w.summary());
                    }
                    body.push('\n');
                }
            }
            Some(body)
        };
        // Large tables translate on two threads (chains are independent).
        let body = if chains.len() >= 512 {
            let (a, b) = chains.split_at(chains.len() / 2);
            std::thread::scope(|sc| {
                let other = sc.spawn(|| render(b));
                let first = render(a);
                let second = other.join().unwrap_or_else(|_| render(b));
                first.zip(second).map(|(mut x, y)| {
                    x.push_str(&y);
                    x
                })
            })
        } else {
            render(&chains)
        };
        let policies: Vec<Option<&str>> = chains
            .iter()
            .map(|c| {
                if t.family != Family::Bridge {
                    return None;
                }
                let last = c.rules.len().checked_sub(1)?;
                c.rules.get(last).and_then(|r| ebarp::policy_rule(&r))
            })
            .collect();
        table_pieces(
            t,
            &chains,
            &policies,
            body.as_deref().map(|b| vec![b]),
            &mut |x| out.push_str(x),
        );
    }
    out
}

/// One table's save text from its rules' `-A` lines (`None`: a rule was refused, and so is
/// the table), handed out piece by piece.
/// Whether ebtables-nft-save prints `rule` as its chain's policy rather than as a rule.
fn is_policy_rule(t: &Table, rule: &Rule) -> bool {
    t.family == Family::Bridge && ebarp::policy_rule(rule).is_some()
}

/// One table's save text from its rules' `-A` lines (`None`: a rule was refused, and so is
/// the table), handed out piece by piece. `policies`: each chain's ebtables policy rule, if any.
fn table_pieces(
    t: &Table,
    chains: &[&Chain],
    policies: &[Option<&str>],
    body: Option<Vec<&str>>,
    emit: &mut dyn FnMut(&str),
) {
    let name = t.name();
    let Some(body) = body else {
        emit(&format!(
            "# Table `{name}' is incompatible, use 'nft' tool.\n"
        ));
        return;
    };
    let mut head = format!("*{name}\n");
    // iptables-nft-save 1.8.9 prints every built-in chain of the table, those nf_tables
    // does not hold as `ACCEPT [0:0]`, in hook order before the others
    let builtins = builtin_chains(t.family, name);
    // ip/ip6 print chain counters; ebtables/arptables-nft-save none
    let iptables = matches!(t.family, Family::Ip | Family::Ip6);
    let mut next = 0;
    let mut missing_upto = |head: &mut String, hook: u32| {
        while let Some(&(b, h)) = builtins.get(next) {
            if h > hook {
                break;
            }
            next += 1;
            if !chains.iter().any(|c| c.is_base() && c.name() == b) {
                let _ = writeln!(head, ":{b} ACCEPT{}", if iptables { " [0:0]" } else { "" });
            }
        }
    };
    for (i, c) in chains.iter().enumerate() {
        let hook = if c.is_base() {
            c.attrs.hook.as_ref().and_then(|h| h.hooknum).unwrap_or(0)
        } else {
            u32::MAX
        };
        missing_upto(&mut head, hook);
        let (pk, by) = c
            .attrs
            .counters
            .as_ref()
            .map(|k| (k.packets.unwrap_or(0), k.bytes.unwrap_or(0)))
            .unwrap_or((0, 0));
        if c.is_base() {
            let policy = if c.attrs.policy == Some(0) {
                "DROP"
            } else {
                "ACCEPT"
            };
            if iptables {
                let _ = writeln!(head, ":{} {policy} [{pk}:{by}]", c.name());
            } else {
                let _ = writeln!(head, ":{} {policy}", c.name());
            }
        } else {
            match t.family {
                Family::Bridge => {
                    let p = policies.get(i).copied().flatten().unwrap_or("ACCEPT");
                    let _ = writeln!(head, ":{} {p}", c.name());
                }
                Family::Arp => {
                    let _ = writeln!(head, ":{} -", c.name());
                }
                _ => {
                    let _ = writeln!(head, ":{} - [0:0]", c.name());
                }
            }
        }
    }
    missing_upto(&mut head, u32::MAX);
    emit(&head);
    for b in body {
        emit(b);
    }
    if iptables {
        emit("COMMIT\n"); // ebtables/arptables-nft-save 1.8.9 print none
    }
}

/// The built-in chains of an iptables, ebtables or arptables table and their hooks
/// (`NF_INET_*`, `NF_BR_*`, `NF_ARP_*`), in hook order.
fn builtin_chains(family: Family, table: &str) -> &'static [(&'static str, u32)] {
    const PRE: (&str, u32) = ("PREROUTING", 0);
    const IN: (&str, u32) = ("INPUT", 1);
    const FWD: (&str, u32) = ("FORWARD", 2);
    const OUT: (&str, u32) = ("OUTPUT", 3);
    const POST: (&str, u32) = ("POSTROUTING", 4);
    match (family, table) {
        (Family::Bridge, "filter") => return &[IN, FWD, OUT],
        (Family::Bridge, "nat") => return &[PRE, OUT, POST],
        (Family::Bridge, "broute") => return &[("BROUTING", 0)],
        (Family::Arp, "filter") => return &[("INPUT", 0), ("OUTPUT", 1)],
        (Family::Ip | Family::Ip6, _) => {}
        _ => return &[],
    }
    match table {
        "filter" | "security" => &[IN, FWD, OUT],
        "nat" => &[PRE, IN, OUT, POST],
        "mangle" => &[PRE, IN, FWD, OUT, POST],
        "raw" => &[PRE, OUT],
        _ => &[],
    }
}

/// Whether iptables-save prints anything for `family` (a table, or its incompatible line).
pub fn prints_tables(rs: &crate::Ruleset, family: Family) -> bool {
    rs.tables
        .iter()
        .any(|t| t.family == family && save_tables_of(family).contains(&t.name()))
}

/// The tables of `family` iptables-save prints, in its order.
fn save_tables(rs: &crate::Ruleset, family: Family) -> Vec<(usize, &Table)> {
    let mut v: Vec<(usize, &Table)> = rs
        .tables
        .iter()
        .enumerate()
        .filter(|(_, t)| t.family == family && save_tables_of(family).contains(&t.name()))
        .collect();
    v.sort_by_key(|(_, t)| save_tables_of(family).iter().position(|x| *x == t.name()));
    v
}

/// One chain's `-A` lines, translated while the snapshot read them ([`SaveSink`]).
#[derive(Debug, Default)]
pub struct SaveChain {
    pub body: String,
    /// A rule iptables cannot express (the table is printed as incompatible).
    pub refused: bool,
    pub rules: usize,
    /// The policy of an ebtables user chain, from its policy rule (not printed as a rule).
    pub policy: Option<&'static str>,
}

/// What [`SaveSink`]s are made from: the reader, counters (`-c`) and the lazily read ipset
/// names (read in the snapshot's namespace the first time a rule needs one).
pub struct SaveStream {
    pub reader: Reader,
    pub counters: bool,
    /// Also read the chains of the other ip, ip6 and arp tables, only to count their rules
    /// (which families hold rules in both backends).
    pub count_others: bool,
    pub ipsets: std::sync::OnceLock<std::collections::BTreeMap<u16, String>>,
}

/// Translates each ip/ip6 chain of the tables iptables-save prints into `-A` lines while the
/// snapshot reads it ([`crate::snapshot::take_streamed`]); other chains are not read.
pub struct SaveSink<'t> {
    tables: &'t [Table],
    stream: &'t SaveStream,
}

/// Whether iptables-save prints this table.
fn saved(t: &Table) -> bool {
    save_tables_of(t.family).contains(&t.name())
}

/// ipset names, read on first use.
struct LazyIpsets<'a>(&'a std::sync::OnceLock<std::collections::BTreeMap<u16, String>>);

impl Names for LazyIpsets<'_> {
    fn ipset(&self, index: u16) -> Option<String> {
        self.0
            .get_or_init(crate::legacy::ipset_names)
            .get(&index)
            .cloned()
    }
}

impl crate::snapshot::Prepare<SaveChain> for SaveStream {
    fn prepare<'t>(
        &'t self,
        tables: &'t [Table],
    ) -> Box<dyn crate::snapshot::ChainRules<SaveChain> + 't> {
        Box::new(SaveSink {
            tables,
            stream: self,
        })
    }
}

impl crate::snapshot::ChainRules<SaveChain> for SaveSink<'_> {
    fn wants(&self, table: usize, _chain: usize) -> bool {
        let t = &self.tables[table];
        saved(t)
            || self.stream.count_others && matches!(t.family, Family::Arp)
            || self.stream.count_others && matches!(t.family, Family::Ip | Family::Ip6)
    }
    fn start(&self, table: usize, _chain: usize) -> SaveChain {
        SaveChain {
            // Room for a few rules (most chains hold two or three); counted-only chains need
            // none.
            body: String::with_capacity(if saved(&self.tables[table]) { 512 } else { 0 }),
            ..SaveChain::default()
        }
    }
    fn rule(
        &self,
        out: &mut SaveChain,
        table: usize,
        chain: usize,
        attrs: &[u8],
    ) -> crate::Result<()> {
        let t = &self.tables[table];
        let c = &t.chains[chain];
        if !saved(t) {
            out.rules += 1; // counted only
            return Ok(());
        }
        let rule = Rule::parse_in_chain(attrs)
            .map_err(|e| crate::Error::decode(crate::snapshot::rules_op(t, c), e))?;
        out.rules += 1;
        if is_policy_rule(t, &rule) {
            out.policy = ebarp::policy_rule(&rule);
            return Ok(());
        }
        if out.refused {
            return Ok(());
        }
        let r = translate_with(
            t,
            c,
            &rule,
            self.stream.reader,
            &LazyIpsets(&self.stream.ipsets),
        );
        if r.refused.is_some() {
            out.refused = true;
            out.body = String::new();
            return Ok(());
        }
        r.line_into(&mut out.body, self.stream.counters);
        out.body.push('\n');
        Ok(())
    }
}

/// Write the iptables-save text of `family` from a streamed snapshot (the same text
/// [`save_with`] gives for a full one, without `show_writer`). Chains the sink did not see
/// (binding chains, kept in the model) are translated here.
pub fn write_save_streamed(
    w: &mut dyn std::io::Write,
    rs: &crate::Ruleset,
    chains: &[Vec<Option<SaveChain>>],
    family: Family,
    stream: &SaveStream,
) -> std::io::Result<()> {
    let mut err = Ok(());
    for (ti, t) in save_tables(rs, family) {
        let order = save_chain_order_idx(t);
        let outs = chains.get(ti);
        let mut here: Vec<Option<SaveChain>> = Vec::new();
        for &ci in &order {
            let c = &t.chains[ci];
            let streamed = outs.and_then(|o| o.get(ci)).is_some_and(Option::is_some);
            if streamed || c.rules.is_empty() {
                continue;
            }
            here.resize_with(t.chains.len(), || None);
            let mut out = SaveChain::default();
            for rule in &c.rules {
                out.rules += 1;
                if is_policy_rule(t, &rule) {
                    out.policy = ebarp::policy_rule(&rule);
                    continue;
                }
                let r = translate_with(t, c, &rule, stream.reader, &LazyIpsets(&stream.ipsets));
                if r.refused.is_some() {
                    out.refused = true;
                    break;
                }
                r.line_into(&mut out.body, stream.counters);
                out.body.push('\n');
            }
            here[ci] = Some(out);
        }
        let out_of = |ci: usize| {
            outs.and_then(|o| o.get(ci))
                .and_then(Option::as_ref)
                .or_else(|| here.get(ci).and_then(Option::as_ref))
        };
        let refused = order
            .iter()
            .any(|&ci| out_of(ci).is_some_and(|o| o.refused));
        let body: Option<Vec<&str>> = (!refused).then(|| {
            order
                .iter()
                .filter_map(|&ci| out_of(ci).map(|o| o.body.as_str()))
                .collect()
        });
        let policies: Vec<Option<&str>> = order
            .iter()
            .map(|&ci| out_of(ci).and_then(|o| o.policy))
            .collect();
        let order: Vec<&Chain> = order.into_iter().map(|i| &t.chains[i]).collect();
        table_pieces(t, &order, &policies, body, &mut |x| {
            if err.is_ok() {
                err = w.write_all(x.as_bytes());
            }
        });
    }
    err
}

/// Base chains by hook number, then user chains by name (as iptables-nft's cache orders them).
fn save_chain_order(t: &Table) -> Vec<&Chain> {
    save_chain_order_idx(t)
        .into_iter()
        .map(|i| &t.chains[i])
        .collect()
}

/// [`save_chain_order`] as indexes into `t.chains`.
fn save_chain_order_idx(t: &Table) -> Vec<usize> {
    let mut base: Vec<usize> = (0..t.chains.len())
        .filter(|&i| t.chains[i].is_base())
        .collect();
    base.sort_by_key(|&i| {
        t.chains[i]
            .attrs
            .hook
            .as_ref()
            .and_then(|h| h.hooknum)
            .unwrap_or(0)
    });
    let mut user: Vec<usize> = (0..t.chains.len())
        .filter(|&i| !t.chains[i].is_base())
        .collect();
    user.sort_by(|&a, &b| t.chains[a].name().cmp(t.chains[b].name()));
    base.extend(user);
    base
}
