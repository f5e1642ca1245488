//! arptables-legacy-save text for legacy arp_tables.
//!
//! `arptables-legacy-save` (arptables 0.0.5, Debian) is a Perl script around
//! `arptables -t filter -L -n`: it prints `*filter`, `:CHAIN POLICY` for each base chain and
//! `:CHAIN -` for each user chain, then every listed rule line prefixed with `-A CHAIN `, then an
//! empty line. There is no `COMMIT`, no counters and no comment line. A rule line is what
//! arptables' `print_firewall` prints with `FMT_NUMERIC | FMT_NOCOUNTS`, each word followed by a
//! space (so lines end with a space), the target first:
//!
//! ```text
//! -A CHAIN [-j TARGET ][[! ]-i IF ][[! ]-o IF ][[! ]-s A[/M] ][[! ]--src-mac MAC[/MASK] ]
//!     [[! ]-d A[/M] ][[! ]--dst-mac MAC[/MASK] ][[! ]--h-length N[/M] ][[! ]--opcode N[/M] ]
//!     [[! ]--h-type N[/M] ][[! ]--proto-type 0xN[/hex] ][target options]
//! ```
//!
//! Chains come in libarptc's order: base chains in blob (hook) order INPUT, OUTPUT, FORWARD, then
//! user chains sorted by byte-wise name. Targets with options: `mangle` (`arpt_mangle`),
//! `CLASSIFY` (`--set-class %x:%x `) and `MARK` rev 2 (`--set-mark` / `--and-mark` /
//! `--or-mark %x`, printed without a trailing space, as arptables does).
//!
//! Where this text differs from `arptables-legacy-save`, on purpose:
//! - **Any table name**: the script only ever asks for `filter` (the only arp table the kernel
//!   has); every listed table is printed here, under its own `*name`.
//! - **An empty rule** (no condition, no `-j`) lists as an empty line, which the script skips:
//!   the rule vanishes from its output. Here it stays, as `-A CHAIN ` (which
//!   `arptables-legacy-restore` restores).
//! - **Counters** (`SaveOptions::counters`; the script has no `-c`): `-c PKTS BYTES ` right after
//!   `-A CHAIN `, the `--set-counters` option arptables accepts on `-A`, so the text restores
//!   with its counters. Policy counters have no place in this format (they are in the JSON).
//! - **What arptables 0.0.5 cannot write or name** stays visible instead of being summarized:
//!   a match (`-m NAME [raw rev R HEX] `), a target payload it does not know (`[raw rev R HEX] `
//!   after the target, where arptables prints `[N bytes of unknown target data] `), a verdict
//!   with no name (`-j [verdict Unknown(-9)] `), a jump into no chain (`-j [bad jump to +N] `).

use super::iptables::{chain_order, SaveOptions};
use crate::legacy::LegacyRuleset;
use nfscope_wire::xt::entry::{
    ArpHeader, DevAddr, Family, Iface, Rule, Table, Target, XtBlob, ARPT_INV_ARPHLN,
    ARPT_INV_ARPHRD, ARPT_INV_ARPOP, ARPT_INV_ARPPRO, ARPT_INV_SRCDEVADDR, ARPT_INV_SRCIP,
    ARPT_INV_TGTDEVADDR, ARPT_INV_TGTIP, ARPT_INV_VIA_IN, ARPT_INV_VIA_OUT,
};
use nfscope_wire::xt::ext::arpmangle::{self, ArpMangle};
use nfscope_wire::xt::ext::mark::MarkTarget;
use nfscope_wire::xt::ext::{Xt, XtKind};
use std::fmt::Write as _;
use std::net::Ipv4Addr;

/// What `arptables-legacy-save` prints for the arp tables of `rs` (see the module docs for the
/// differences). Empty when there is no arp table.
pub fn legacy_save(rs: &LegacyRuleset, opts: SaveOptions) -> String {
    let mut out = String::new();
    for t in rs.family(Family::Arp) {
        save_table(t, opts, &mut out);
    }
    out
}

/// One table: `*name`, chain lines, rule lines, an empty line.
pub fn save_table(table: &Table, opts: SaveOptions, out: &mut String) {
    let _ = writeln!(out, "*{}", table.name);
    let chains = chain_order(table);
    for c in &chains {
        match (c.hook, c.policy) {
            (Some(_), Some(p)) => {
                let _ = writeln!(out, ":{} {}", c.name, p.name().unwrap_or("?"));
            }
            _ => {
                let _ = writeln!(out, ":{} -", c.name);
            }
        }
    }
    for c in &chains {
        for r in &c.rules {
            let _ = write!(out, "-A {} ", c.name);
            if opts.counters {
                let _ = write!(out, "-c {} {} ", r.counters.packets, r.counters.bytes);
            }
            out.push_str(&rule_line(&r));
            out.push('\n');
        }
    }
    out.push('\n');
}

/// The rule as `arptables -L -n` lists it (what follows `-A CHAIN `), trailing space included.
/// A rule whose header is not an arp header gets only its target and matches.
pub fn rule_line(r: &Rule) -> String {
    rule_parts(r).iter().map(|p| p.text.as_str()).collect()
}

/// One printed piece of a rule line: the target, one header condition, a match or the target's
/// options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub kind: PartKind,
    /// The text as printed, with its trailing space (none after `MARK`'s option).
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartKind {
    /// `-j NAME ` (absent for a rule without target).
    Target,
    /// A header condition (`-i`, `-s`, `--opcode`, ...) or a match.
    Condition,
    /// The target's options (`--mangle-ip-s ...`, `--set-class ...`).
    TargetOptions,
}

/// The rule line in its pieces, in print order. [`rule_line`] is their concatenation; the watch
/// compares rules by these (a lost condition is one piece).
pub fn rule_parts(r: &Rule) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut push = |kind, text: String| parts.push(Part { kind, text });
    let target = match &r.target {
        Target::Verdict(v) => Some(match v.name() {
            Some(n) => n.to_string(),
            None => format!("[verdict {v:?}]"),
        }),
        Target::Jump { chain, .. } => Some(chain.clone()),
        Target::Fallthrough => None,
        Target::BadJump { offset } => Some(format!("[bad jump to +{offset}]")),
        Target::Ext(t) => Some(t.name.clone()),
    };
    if let Some(t) = target {
        push(PartKind::Target, format!("-j {t} "));
    }
    if let nfscope_wire::xt::entry::Header::Arp(h) = &r.header {
        for c in header_conditions(h) {
            push(PartKind::Condition, c);
        }
    }
    for m in &r.matches {
        push(
            PartKind::Condition,
            format!("-m {}{} ", m.name, raw_suffix(m)),
        );
    }
    if let Target::Ext(t) = &r.target {
        let opts = target_options(t);
        if !opts.is_empty() {
            push(PartKind::TargetOptions, opts);
        }
    }
    parts
}

fn bang(invflags: u16, flag: u16) -> &'static str {
    if invflags & flag != 0 {
        "! "
    } else {
        ""
    }
}

/// `print_fw_details` of arptables 0.0.5, numeric, without `FMT_VIA`.
fn header_conditions(h: &ArpHeader) -> Vec<String> {
    let inv = h.invflags;
    let mut v = Vec::new();
    for (letter, iface, flag) in [
        ('i', &h.iniface, ARPT_INV_VIA_IN),
        ('o', &h.outiface, ARPT_INV_VIA_OUT),
    ] {
        // arptables prints the stored name when its first byte is set, whatever the mask.
        if iface.name[0] != 0 {
            v.push(format!("{}-{letter} {} ", bang(inv, flag), c_name(iface)));
        }
    }
    let addr = |letter: char, a: [u8; 4], m: [u8; 4], flag: u16| {
        (m != [0; 4]).then(|| {
            format!(
                "{}-{letter} {}{} ",
                bang(inv, flag),
                Ipv4Addr::from(a),
                mask_to_dotted(m)
            )
        })
    };
    let mac = |opt: &str, d: &DevAddr, flag: u16| {
        d.mask.iter().any(|&b| b != 0).then(|| {
            let mut s = format!(
                "{}--{opt} {}",
                bang(inv, flag),
                arpmangle::mac(&d.addr[..6])
            );
            if d.mask[..6].iter().any(|&b| b != 0xff) {
                let _ = write!(s, "/{}", arpmangle::mac(&d.mask[..6]));
            }
            s.push(' ');
            s
        })
    };
    v.extend(addr('s', h.src, h.smsk, ARPT_INV_SRCIP));
    v.extend(mac("src-mac", &h.src_devaddr, ARPT_INV_SRCDEVADDR));
    v.extend(addr('d', h.tgt, h.tmsk, ARPT_INV_TGTIP));
    v.extend(mac("dst-mac", &h.tgt_devaddr, ARPT_INV_TGTDEVADDR));
    if h.arhln_mask != 0 {
        let mut s = format!("{}--h-length {}", bang(inv, ARPT_INV_ARPHLN), h.arhln);
        if h.arhln_mask != 255 {
            let _ = write!(s, "/{}", h.arhln_mask);
        }
        s.push(' ');
        v.push(s);
    }
    if h.arpop_mask != 0 {
        let mut s = format!("{}--opcode {}", bang(inv, ARPT_INV_ARPOP), h.arpop);
        if h.arpop_mask != 0xffff {
            let _ = write!(s, "/{}", h.arpop_mask);
        }
        s.push(' ');
        v.push(s);
    }
    if h.arhrd_mask != 0 {
        let mut s = format!("{}--h-type {}", bang(inv, ARPT_INV_ARPHRD), h.arhrd);
        if h.arhrd_mask != 0xffff {
            let _ = write!(s, "/{}", h.arhrd_mask);
        }
        s.push(' ');
        v.push(s);
    }
    if h.arpro_mask != 0 {
        let mut s = format!("{}--proto-type 0x{:x}", bang(inv, ARPT_INV_ARPPRO), h.arpro);
        if h.arpro_mask != 0xffff {
            let _ = write!(s, "/{:x}", h.arpro_mask);
        }
        s.push(' ');
        v.push(s);
    }
    v
}

/// The interface name up to its first NUL, as arptables prints it (`eth+` is stored with its
/// `+`); bytes that are not UTF-8 are replaced.
fn c_name(i: &Iface) -> String {
    let end = i.name.iter().position(|&c| c == 0).unwrap_or(i.name.len());
    String::from_utf8_lossy(&i.name[..end]).into_owned()
}

/// arptables' `mask_to_dotted`: nothing for /32, `/N` for a prefix, else `/a.b.c.d`.
fn mask_to_dotted(m: [u8; 4]) -> String {
    let v = u32::from_be_bytes(m);
    if v == u32::MAX {
        String::new()
    } else if v.leading_ones() + v.trailing_zeros() == 32 {
        format!("/{}", v.leading_ones())
    } else {
        format!("/{}", Ipv4Addr::from(m))
    }
}

/// ` [raw rev R HEX]` for a payload, nothing when there is none.
fn raw_suffix(b: &XtBlob) -> String {
    if b.data.is_empty() {
        return String::new();
    }
    let mut s = format!(" [raw rev {} ", b.revision);
    for x in &b.data {
        let _ = write!(s, "{x:02x}");
    }
    s.push(']');
    s
}

/// What arptables' target `print` functions add after the details.
fn target_options(t: &XtBlob) -> String {
    let x = t.decode(XtKind::Target, Family::Arp);
    if let Some(s) = arp_target_options(&x) {
        return s;
    }
    match x {
        Xt::ArpMangle(m) => mangle_options(&m),
        // A payload-less target (the standard one, or one without options) prints nothing.
        _ if t.data.is_empty() => String::new(),
        Xt::Standard(_) => String::new(),
        _ => format!("{} ", raw_suffix(t).trim_start()),
    }
}

/// The options libxt_CLASSIFY and libxt_MARK print for an arp rule (their `arp` save/print
/// forms, the same in arptables-legacy and arptables-nft-save): `--set-class 1:2 `,
/// `--set-mark 1` / `--and-mark 11` / `--or-mark 11` (hex without `0x`).
pub(crate) fn arp_target_options(x: &Xt) -> Option<String> {
    Some(match x {
        Xt::Classify(c) => format!(
            "--set-class {:x}:{:x} ",
            c.priority >> 16,
            c.priority & 0xffff
        ),
        Xt::MarkTarget(MarkTarget::Xmark { mark, mask }) => {
            if *mark == 0 {
                format!("--and-mark {:x}", !mask)
            } else if mark == mask {
                format!("--or-mark {mark:x}")
            } else {
                format!("--set-mark {mark:x}")
            }
        }
        _ => return None,
    })
}

fn mangle_options(m: &ArpMangle) -> String {
    let mut s = String::new();
    if m.flags & arpmangle::ARPT_MANGLE_SIP != 0 {
        let _ = write!(s, "--mangle-ip-s {} ", m.src_ip);
    }
    if m.flags & arpmangle::ARPT_MANGLE_SDEV != 0 {
        let _ = write!(s, "--mangle-mac-s {} ", arpmangle::mac(&m.src_mac));
    }
    if m.flags & arpmangle::ARPT_MANGLE_TIP != 0 {
        let _ = write!(s, "--mangle-ip-d {} ", m.tgt_ip);
    }
    if m.flags & arpmangle::ARPT_MANGLE_TDEV != 0 {
        let _ = write!(s, "--mangle-mac-d {} ", arpmangle::mac(&m.tgt_mac));
    }
    if m.target != arpmangle::NF_ACCEPT {
        let t = if m.target == arpmangle::NF_DROP {
            "DROP"
        } else {
            "CONTINUE"
        };
        let _ = write!(s, "--mangle-target {t} ");
    }
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use nfscope_wire::xt::entry::{Counters, Header, Verdict};

    fn header() -> ArpHeader {
        let iface = Iface {
            name: [0; 16],
            mask: [0; 16],
        };
        let dev = DevAddr {
            addr: [0; 16],
            mask: [0; 16],
        };
        ArpHeader {
            src: [0; 4],
            tgt: [0; 4],
            smsk: [0; 4],
            tmsk: [0; 4],
            arhln: 0,
            arhln_mask: 0,
            src_devaddr: dev,
            tgt_devaddr: dev,
            arpop: 0,
            arpop_mask: 0,
            arhrd: 0,
            arhrd_mask: 0,
            arpro: 0,
            arpro_mask: 0,
            iniface: iface,
            outiface: iface,
            flags: 0,
            invflags: 0,
        }
    }

    fn rule(h: ArpHeader, matches: Vec<XtBlob>, target: Target) -> Rule {
        Rule {
            offset: 0,
            header: Header::Arp(h),
            counters: Counters::default(),
            nfcache: 0,
            comefrom: 0,
            matches,
            target,
        }
    }

    #[test]
    fn masks() {
        assert_eq!(mask_to_dotted([255; 4]), "");
        assert_eq!(mask_to_dotted([255, 255, 0, 0]), "/16");
        assert_eq!(mask_to_dotted([0, 0, 0, 0]), "/0");
        assert_eq!(mask_to_dotted([255, 0, 255, 0]), "/255.0.255.0");
    }

    #[test]
    fn what_arptables_cannot_write_stays_visible() {
        let blob = |name: &str, data: Vec<u8>| XtBlob {
            name: name.into(),
            revision: 1,
            data,
        };
        let r = rule(
            header(),
            vec![blob("mark", vec![1, 2])],
            Target::Ext(blob("NFQUEUE", vec![0xab, 0xcd])),
        );
        assert_eq!(
            rule_line(&r),
            "-j NFQUEUE -m mark [raw rev 1 0102] [raw rev 1 abcd] "
        );
        let r = rule(header(), vec![], Target::Verdict(Verdict::Unknown(-9)));
        assert_eq!(rule_line(&r), "-j [verdict Unknown(-9)] ");
        let r = rule(header(), vec![], Target::BadJump { offset: 8 });
        assert_eq!(rule_line(&r), "-j [bad jump to +8] ");
        // An empty rule is an empty line (kept by save_table as "-A CHAIN ").
        let r = rule(header(), vec![], Target::Fallthrough);
        assert_eq!(rule_line(&r), "");
    }

    #[test]
    fn interface_printed_as_stored() {
        let mut h = header();
        h.iniface.name[..4].copy_from_slice(b"eth+");
        h.iniface.mask[..3].fill(0xff);
        h.outiface.name[..3].copy_from_slice(b"lo0");
        h.invflags = ARPT_INV_VIA_OUT;
        let r = rule(h, vec![], Target::Verdict(Verdict::Accept));
        assert_eq!(rule_line(&r), "-j ACCEPT -i eth+ ! -o lo0 ");
    }
}
