//! A rule read into typed statements: nf_tables expressions (registers, loads, compares,
//! lookups) folded into matches on named fields, lookups, verdicts and statements, as
//! nftables' `netlink_delinearize.c` does, with implicit dependencies marked.
//!
//! The register machine (`Folder`, crate-internal) replays the expressions: loads fill
//! registers, `cmp` / `range` / `lookup` consume them into statements; payload loads are named
//! through the protocol context (`model::proto`), merged loads split back into fields, masks
//! narrowed to the field they select, and implicit dependencies (`meta l4proto tcp` before
//! `tcp dport`, `meta nfproto ipv4` before `ip saddr` in inet tables) marked. Statements the
//! model does not type yet are pushed as their nft text, which is why this still calls into
//! `render::nft` (set elements, nat, log, xt, ...); bound chains (`jump { ... }`) too.

use super::proto::{self, Proto, LL, NH, TH};
use crate::model::field::{
    CtDir, CtKey, ExthdrOp, FibResult, Load, MetaKey, RtKey, SocketKey, XfrmKey,
};
use crate::model::stmt::{
    Expr as X, Header, Lookup, Match, Nat, NatKind, NatPorts, ObjTarget, Op, QueueTo, Reject, Stmt,
    StmtKind, Ty, Value,
};
use crate::model::Table;
use crate::render::iptables::SetNames;
use crate::render::nft::datatype::{self, print_value, Dt, Order};
use crate::render::nft::fold::SetIndex;
use crate::render::nft::print::{Lhs, Printer};
use crate::render::nft::set::{self, ElemType};
use crate::render::nft::xt::XtStyle;
use nfscope_wire::nft::expr::{consts, Expr};
use nfscope_wire::nft::{set_flags, Data, Family, Rule, Verdict, VerdictCode};
use std::collections::{BTreeMap, HashMap};

/// Folding state for one rule.
pub(crate) struct Folder<'a> {
    table: &'a Table,
    /// Sets of the table by name (a rule-per-anonymous-set ruleset would otherwise make
    /// rendering quadratic).
    pub(crate) sets: Option<&'a SetIndex<'a>>,
    family: Family,
    regs: HashMap<u32, X>,
    stmts: Vec<Stmt>,
    /// Protocol context per base (ll, nh, th).
    ctx: [Option<&'static Proto>; 3],
    /// Statement index of the dependency that set the protocol of each base.
    deps: [Option<usize>; 3],
    /// Network protocol learned from `meta nfproto` (2 / 10) for nat/reject printing.
    nfproto: Option<u8>,
    /// The ICMP / ICMPv6 type matched so far and its statement: it decides the names of the
    /// fields after the checksum, and is an implicit dependency of the type-specific ones.
    icmp_type: Option<(u8, usize)>,
    /// Stacked link-layer headers (bit offset where each starts): ether, then vlan...
    ll_stack: Vec<(u32, &'static Proto)>,
    /// The last `>=` relational (statement index, lhs text, value), to merge with a
    /// following `<=` into a range as nft does.
    last_gte: Option<(usize, String, Vec<u8>)>,
    /// Nesting of bound chains (`jump { ... }`) this rule is printed inside.
    pub(crate) depth: usize,
    /// How xt matches and targets print (nft's own form unless set).
    pub(crate) xt: XtStyle,
    /// ipset names by index, for xt `set` / `SET` options in the translate style.
    pub(crate) ipsets: Option<&'a BTreeMap<u16, String>>,
    /// Comments of xt `comment` matches in the translate style (printed as the rule's comment).
    pub(crate) comments: Vec<String>,
}

/// Normalise a register number to 32-bit register units (`NFT_REG_1` = 32-bit reg 8).
fn reg32(r: u32) -> u32 {
    if (1..=4).contains(&r) {
        8 + (r - 1) * 4
    } else {
        r
    }
}

fn data_bytes(d: &Option<Data>) -> Vec<u8> {
    d.as_ref()
        .and_then(|d| d.value())
        .map(|v| v.to_vec())
        .unwrap_or_default()
}

/// Bits of `v` (big-endian bytes) as an integer, for values up to 128 bits.
fn be_int(v: &[u8]) -> u128 {
    datatype::to_u128(v, Order::Big)
}

fn int_be_bytes(v: u128, bits: u32) -> Vec<u8> {
    let n = bits.div_ceil(8) as usize;
    let full = v.to_be_bytes();
    full[16 - n.min(16)..].to_vec()
}

impl<'a> Folder<'a> {
    fn set(&self, name: &str) -> Option<&'a crate::model::Set> {
        match self.sets {
            Some(ix) => ix.get(name).copied(),
            None => self.table.set(name),
        }
    }

    pub fn new(table: &'a Table) -> Folder<'a> {
        let family = table.family;
        let mut ctx: [Option<&'static Proto>; 3] = [None, None, None];
        match family {
            Family::Ip => ctx[1] = Some(&proto::IP),
            Family::Ip6 => ctx[1] = Some(&proto::IP6),
            Family::Arp => ctx[1] = Some(&proto::ARP),
            Family::Bridge | Family::Netdev => ctx[0] = Some(&proto::ETHER),
            _ => {}
        }
        let nfproto = match family {
            Family::Ip => Some(2),
            Family::Ip6 => Some(10),
            _ => None,
        };
        let ll_stack = if ctx[0].is_some() {
            vec![(0, &proto::ETHER)]
        } else {
            vec![]
        };
        Folder {
            table,
            sets: None,
            family,
            regs: HashMap::new(),
            stmts: Vec::new(),
            ctx,
            deps: [None; 3],
            nfproto,
            icmp_type: None,
            ll_stack,
            last_gte: None,
            depth: 0,
            xt: XtStyle::Nft,
            ipsets: None,
            comments: Vec::new(),
        }
    }

    /// A statement the model does not type yet, as its text.
    fn push(&mut self, text: String) -> usize {
        self.push_kind(StmtKind::Text(text))
    }

    fn push_kind(&mut self, kind: StmtKind) -> usize {
        self.stmts.push(Stmt {
            kind,
            implicit: false,
        });
        self.stmts.len() - 1
    }

    /// The printer of this rule's statements.
    fn printer(&self) -> Printer<'a> {
        Printer {
            table: self.table,
            sets: self.sets,
        }
    }

    /// Statement `i` as it prints.
    fn stmt_text(&self, i: usize) -> String {
        self.stmts
            .get(i)
            .map(|s| self.printer().stmt(s))
            .unwrap_or_default()
    }

    fn kill_dep(&mut self, base: usize) {
        if let Some(i) = self.deps.get_mut(base).and_then(|d| d.take()) {
            if let Some(s) = self.stmts.get_mut(i) {
                s.implicit = true;
            }
        }
    }

    /// Byte size of what a register holds.
    fn size_of(&self, x: &X) -> u32 {
        match x {
            X::Payload { len, .. } | X::Raw { len, .. } => len.div_ceil(8),
            X::Header(h) => h.ty().2.div_ceil(8),
            X::Meta(k) => k.info().2,
            X::Ct { key, .. } => key.info(self.nfproto).2,
            X::Load { ty, .. } => ty.bytes,
            X::Mask { inner, .. } | X::Shift { inner, .. } | X::Hton(inner) => self.size_of(inner),
            X::Imm(v) => v.len() as u32,
            X::Concat(v) => v.iter().map(|x| self.size_of(x).div_ceil(4) * 4).sum(),
            X::Map { .. } => 4,
        }
    }

    fn reg(&self, r: Option<u32>) -> X {
        let r = reg32(r.unwrap_or(0));
        self.regs.get(&r).cloned().unwrap_or(X::Load {
            load: Load::Reg(r),
            ty: Ty {
                dt: Dt::Integer,
                order: Order::Host,
                bytes: 4,
            },
        })
    }

    /// A key of `len` bytes starting at register `r` (a concatenation if it spans several
    /// loaded registers).
    fn key(&self, r: Option<u32>, len: Option<u32>, parts: usize) -> X {
        let start = reg32(r.unwrap_or(0));
        let first = self.reg(r);
        let total = len.unwrap_or(0);
        if parts <= 1 && self.size_of(&first).div_ceil(4) * 4 >= total {
            return first;
        }
        let mut v = Vec::new();
        let mut reg = start;
        let mut used = 0;
        // at most 16 components (NFT_REG32_COUNT): also bounds the walk on odd input
        while (used < total || (parts > 1 && v.len() < parts)) && v.len() < 16 {
            let Some(x) = self.regs.get(&reg).cloned() else {
                break;
            };
            let n = self.size_of(&x).div_ceil(4).max(1);
            used += n * 4;
            reg = reg.saturating_add(n);
            v.push(x);
            if parts > 1 && v.len() == parts {
                break;
            }
        }
        if v.len() <= 1 {
            first
        } else {
            X::Concat(v)
        }
    }

    /// Name a payload range through the protocol context: the fields it covers.
    /// Returns (lhs, offset of this field inside the load in bits) for each piece.
    fn payload_fields(&self, base: u32, off: u32, len: u32) -> Vec<(X, u32, u32, Option<u32>)> {
        // (lhs, bit offset in the load, bit length, prefix length if prefix of a field)
        let mut out = Vec::new();
        let mut proto = self
            .ctx
            .get(base as usize)
            .copied()
            .flatten()
            .or_else(|| proto::ext(base));
        let mut skip = 0;
        if base == LL {
            if let Some(&(start, p)) = self.ll_stack.iter().rev().find(|(st, _)| *st <= off) {
                proto = Some(p);
                skip = start;
            }
        }
        let off = off - skip;
        if let Some(p) = proto {
            let mut cur = off;
            let end = off.saturating_add(len);
            let mut ok = true;
            let mut pieces = Vec::new();
            while cur < end {
                let Some(f) = p.field_for(cur, end - cur, self.icmp_type.map(|t| t.0)) else {
                    ok = false;
                    break;
                };
                if cur.saturating_add(f.len) <= end {
                    pieces.push((f, cur - off, f.len, None));
                    cur += f.len;
                } else {
                    pieces.push((f, cur - off, end - cur, Some(end - cur)));
                    cur = end;
                }
            }
            if ok && !pieces.is_empty() {
                for (f, o, l, pre) in pieces {
                    out.push((X::Header(Header { proto: p, field: f }), o, l, pre));
                }
                return out;
            }
        } else if base == TH && len == 16 && (off == 0 || off == 16) {
            let f = proto::TH_GENERIC.field_at(off);
            if let Some(f) = f {
                let h = Header {
                    proto: &proto::TH_GENERIC,
                    field: f,
                };
                out.push((X::Header(h), 0, 16, None));
                return out;
            }
        }
        out.push((X::Raw { base, off, len }, 0, len, None));
        out
    }

    /// Describe an expression for printing (no splitting), in the current context.
    pub fn lhs(&self, x: &X) -> Lhs {
        self.printer().lhs(&self.resolve(x))
    }

    /// The expression with what the current context decides made explicit: payloads named
    /// as header fields, masked payloads narrowed to the field they select, `ct` addresses
    /// given their family. The result prints the same in any context.
    fn resolve(&self, x: &X) -> X {
        match x {
            X::Payload { base, off, len } => {
                let mut f = self.payload_fields(*base, *off, *len);
                if f.len() == 1 && f[0].3.is_none() {
                    f.swap_remove(0).0
                } else {
                    x.clone()
                }
            }
            X::Ct {
                key: key @ (CtKey::Saddr | CtKey::Daddr),
                dir: dir @ Some(_),
            } => {
                let key = match (key, self.nfproto) {
                    (CtKey::Saddr, Some(2)) => CtKey::Src4,
                    (CtKey::Daddr, Some(2)) => CtKey::Dst4,
                    (CtKey::Saddr, Some(10)) => CtKey::Src6,
                    (CtKey::Daddr, Some(10)) => CtKey::Dst6,
                    (k, _) => *k,
                };
                X::Ct { key, dir: *dir }
            }
            X::Mask { .. } | X::Shift { .. } if self.narrow_field(x).is_some() => {
                match self.narrow_field(x) {
                    Some(f) => self.resolve(&f),
                    None => x.clone(),
                }
            }
            X::Mask { inner, mask, xor } => X::Mask {
                inner: Box::new(self.resolve(inner)),
                mask: mask.clone(),
                xor: xor.clone(),
            },
            X::Shift { inner, left, n } => X::Shift {
                inner: Box::new(self.resolve(inner)),
                left: *left,
                n: *n,
            },
            X::Hton(inner) => X::Hton(Box::new(self.resolve(inner))),
            X::Concat(v) => X::Concat(v.iter().map(|x| self.resolve(x)).collect()),
            X::Map { key, set } => X::Map {
                key: Box::new(self.resolve(key)),
                set: set.clone(),
            },
            X::Load {
                load:
                    Load::Hash {
                        key: Some(k),
                        modulus,
                        seed,
                        offset,
                    },
                ty,
            } => X::Load {
                load: Load::Hash {
                    key: Some(Box::new(self.resolve(k))),
                    modulus: *modulus,
                    seed: *seed,
                    offset: *offset,
                },
                ty: *ty,
            },
            _ => x.clone(),
        }
    }

    /// A relational statement `left op right` (cmp).
    fn relational(&mut self, left: X, op: u32, right: Vec<u8>) {
        let opstr = consts::cmp_op(op).unwrap_or("==");
        // Flag tests on bitmask types keep their mask: `tcp flags syn`, `ct state new`.
        let flag_test = match &left {
            X::Mask { inner, .. } => datatype::is_bitmask(self.lhs(inner).dt),
            _ => false,
        };
        // Narrow masked payloads: `payload & contiguous-mask == v` → field / prefix.
        let narrowed = narrow_mask(&left, &right).filter(|(x, _)| {
            !flag_test
                && match x {
                    X::Payload { base, off, len } => {
                        let f = self.payload_fields(*base, *off, *len);
                        f.len() == 1 && !at_raw(&f[0].0)
                    }
                    _ => false,
                }
        });
        let (left, right) = match narrowed {
            Some((x, v)) => (x, v),
            None => (left, right),
        };
        if let X::Payload { base, off, len } = &left {
            if op <= 1 {
                return self.payload_match(*base, *off, *len, op, right);
            }
        }
        let l = self.lhs(&left);
        match &left {
            X::Mask { inner, .. } | X::Shift { inner, .. } => {
                let inner = (**inner).clone();
                self.kill_for(&inner);
            }
            _ => {
                let lc = left.clone();
                self.kill_for(&lc);
            }
        }
        if opstr == "<=" {
            if let Some((i, lt, from)) = self.last_gte.take() {
                if lt == l.text && i + 1 == self.stmts.len() {
                    self.stmts[i].kind = StmtKind::Match(Match {
                        left: self.resolve(&left),
                        op: Op::Eq,
                        right: Value::Range { from, to: right },
                    });
                    self.drop_implied_icmp_type(&l);
                    if let X::Payload { base, .. } = left {
                        if !l.text.starts_with('@') && !l.text.starts_with("th ") {
                            self.kill_dep(base as usize);
                        }
                    }
                    return;
                }
            }
        }
        let gte = (opstr == ">=").then(|| right.clone());
        let idx = self.push_kind(StmtKind::Match(Match {
            left: self.resolve(&left),
            op: Op::from_raw(op),
            right: Value::Bytes(right.clone()),
        }));
        if let Some(v) = gte {
            self.last_gte = Some((idx, l.text.clone(), v));
        }
        if op == 0 {
            self.after_meta_match(&left, &right, idx);
        }
    }

    /// `payload == v` / `!=`: one match per header field the load covers (a merged load is
    /// split back into its fields), a prefix where it ends inside one.
    fn payload_match(&mut self, base: u32, off: u32, len: u32, op: u32, right: Vec<u8>) {
        let pieces = self.payload_fields(base, off, len);
        let total = len;
        let vint = if right.len() <= 16 {
            Some(be_int(&right))
        } else {
            None
        };
        let single = pieces.len() == 1;
        for (px, o, bits, prefix) in pieces {
            let l = self.printer().lhs(&px);
            let vbytes = if single {
                right.clone()
            } else if let Some(vi) = vint {
                let shift = total - o - bits;
                let mask = if bits >= 128 {
                    u128::MAX
                } else {
                    (1u128 << bits) - 1
                };
                int_be_bytes((vi >> shift) & mask, bits)
            } else {
                let s = (o / 8) as usize;
                right
                    .get(s..s + (bits / 8) as usize)
                    .unwrap_or(&[])
                    .to_vec()
            };
            let value = match prefix {
                Some(plen) => {
                    // value is the top `plen` bits of the field
                    let field_bits = l.bits;
                    let vi = be_int(&vbytes) << (field_bits - plen);
                    Value::Prefix {
                        bytes: int_be_bytes(vi, field_bits),
                        len: plen,
                    }
                }
                None => Value::Bytes(vbytes.clone()),
            };
            let idx = self.push_kind(StmtKind::Match(Match {
                left: px,
                op: Op::from_raw(op),
                right: value,
            }));
            self.after_payload_match(base, &l, &vbytes, op == 0 && prefix.is_none(), idx);
            self.drop_implied_icmp_type(&l);
        }
    }

    /// A match on a type-specific ICMP field (`icmp mtu`) implies the `icmp type` matched
    /// before it: nft does not print that dependency.
    fn drop_implied_icmp_type(&mut self, l: &Lhs) {
        let Some((_, i)) = self.icmp_type else { return };
        let (p, name) = if let Some(n) = l.text.strip_prefix("icmp ") {
            (&proto::ICMP, n)
        } else if let Some(n) = l.text.strip_prefix("icmpv6 ") {
            (&proto::ICMP6, n)
        } else {
            return;
        };
        if p.fields
            .iter()
            .any(|f| f.name == name && f.dep.implies_type())
        {
            if let Some(s) = self.stmts.get_mut(i) {
                s.implicit = true;
            }
        }
    }

    /// Protocol context and dependency bookkeeping after `payload field == value`.
    fn after_payload_match(&mut self, base: u32, l: &Lhs, v: &[u8], is_eq: bool, idx: usize) {
        if base > TH {
            return; // inner / tunnel headers carry no protocol context here
        }
        let b = base as usize;
        // a field of a known protocol makes an earlier dependency for this base redundant
        if !l.text.starts_with('@') && !l.text.starts_with("th ") {
            let keep = matches!(self.family, Family::Inet | Family::Bridge | Family::Netdev)
                && b == TH as usize
                && self.deps[b].is_some_and(|i| {
                    let t = self.stmt_text(i);
                    t.starts_with("ip protocol") || t.starts_with("ip6 nexthdr")
                });
            let is_key = self.ctx[b]
                .and_then(|p| p.key_field())
                .is_some_and(|f| l.text.ends_with(&format!(" {}", f.name)));
            // a protocol key after an `ether type` / `vlan type` match keeps it (stacked headers)
            let stacked_key = is_key
                && self.deps[b].is_some_and(|i| {
                    let t = self.stmt_text(i);
                    t.starts_with("ether type") || t.starts_with("vlan type")
                });
            if !keep && !stacked_key {
                self.kill_dep(b);
            }
        }
        if !is_eq {
            return;
        }
        if b == TH as usize && (l.text == "icmp type" || l.text == "icmpv6 type") {
            if let Some(&t) = v.first() {
                self.icmp_type = Some((t, idx));
            }
        }
        let p = if b == LL as usize {
            match self.ll_stack.last() {
                Some(&(_, top)) => top,
                None => return,
            }
        } else {
            match self.ctx[b] {
                Some(p) => p,
                None => return,
            }
        };
        let Some(kf) = p.key_field() else { return };
        if l.text != format!("{} {}", p.name, kf.name) {
            return;
        }
        let val = be_int(v) as u32;
        if b == LL as usize {
            // the key field of the innermost stacked header decides what follows
            if let Some(&(start, top)) = self.ll_stack.last() {
                if let Some(up) = top.upper(val) {
                    if up.base == LL {
                        let len = if top.name == "ether" { 112 } else { 32 };
                        self.ll_stack.push((start + len, up));
                        self.deps[LL as usize] = Some(idx);
                        return;
                    }
                }
            }
        }
        if let Some(up) = p.upper(val) {
            let ub = up.base as usize;
            if ub < 3 {
                self.ctx[ub] = Some(up);
                self.deps[ub] = Some(idx);
                if up.name == "ip" {
                    self.nfproto = Some(2);
                } else if up.name == "ip6" {
                    self.nfproto = Some(10);
                }
            }
        }
    }

    /// Protocol context updates from `meta l4proto` / `meta nfproto` / `meta protocol`.
    fn after_meta_match(&mut self, left: &X, v: &[u8], idx: usize) {
        let X::Meta(k) = left else { return };
        match k.raw() {
            8 if datatype::to_u128(v, Order::Host) == 1 => {
                self.deps[LL as usize] = Some(idx);
                if self.ll_stack.is_empty() {
                    self.ctx[LL as usize] = Some(&proto::ETHER);
                    self.ll_stack.push((0, &proto::ETHER));
                }
            }
            16 => {
                if let Some(p) = v.first().and_then(|&p| proto::l4(p as u32)) {
                    self.ctx[TH as usize] = Some(p);
                    self.deps[TH as usize] = Some(idx);
                    // `meta l4proto icmp` implies ipv4: the nfproto dependency goes
                    if (p.name == "icmp" && self.nfproto == Some(2))
                        || (p.name == "icmpv6" && self.nfproto == Some(10))
                    {
                        self.kill_dep(NH as usize);
                    }
                }
            }
            15 | 1 => {
                let np = if *k == MetaKey::NfProto {
                    v.first().copied().unwrap_or(0)
                } else {
                    match be_int(v) {
                        0x0800 => 2,
                        0x86dd => 10,
                        0x0806 => 3,
                        _ => 0,
                    }
                };
                let p = match np {
                    2 => Some(&proto::IP),
                    10 => Some(&proto::IP6),
                    3 => Some(&proto::ARP),
                    _ => None,
                };
                if let Some(p) = p {
                    self.ctx[NH as usize] = Some(p);
                    self.deps[NH as usize] = Some(idx);
                    if np != 3 {
                        self.nfproto = Some(np);
                    }
                }
            }
            _ => {}
        }
    }

    fn range(&mut self, left: X, op: u32, from: Vec<u8>, to: Vec<u8>) {
        let (left, from, to) = match self.narrow_unshifted(&left) {
            Some((f, tz, bits)) => {
                let sh = |v: &[u8]| int_be_bytes(be_int(v) >> tz, bits);
                let (a, b) = (sh(&from), sh(&to));
                (f, a, b)
            }
            None => (left, from, to),
        };
        let l = self.lhs(&left);
        self.drop_implied_icmp_type(&l);
        self.push_kind(StmtKind::Match(Match {
            left: self.resolve(&left),
            op: if op == 1 { Op::Ne } else { Op::Eq },
            right: Value::Range { from, to },
        }));
        if let X::Payload { base, .. } = left {
            if !l.text.starts_with('@') && !l.text.starts_with("th ") {
                self.kill_dep(base as usize);
            }
        }
    }

    fn lookup(&mut self, e: &nfscope_wire::nft::expr::Lookup) {
        let name = e.set.clone().unwrap_or_default();
        let parts = self.set(&name).map(set::key_parts).unwrap_or(1);
        let key_len = self.set(&name).and_then(|s| s.attrs.key_len);
        let key = self.key(e.sreg, key_len, parts);
        if let Some(d) = e.dreg {
            if d != 0 {
                self.regs.insert(
                    reg32(d),
                    X::Map {
                        key: Box::new(key),
                        set: name,
                    },
                );
                return;
            }
            // verdict map
            let (key, m) = self.looked_up(&name, key);
            self.push_kind(StmtKind::Lookup(Lookup {
                key: self.resolve(&key),
                set: name,
                vmap: true,
                inverted: false,
                set_text: m,
                masked_flags: false,
            }));
            self.kill_for(&key);
            return;
        }
        let (key, m) = self.looked_up(&name, key);
        let l = self.lhs(&key);
        self.drop_implied_icmp_type(&l);
        let inv = e.flags.unwrap_or(0) & consts::LOOKUP_F_INV != 0;
        // a masked flag type looked up prints its `==` (`tcp flags & (fin | syn) == { … }`)
        let masked_flags = match &key {
            X::Mask { inner, .. } => datatype::is_bitmask(self.lhs(inner).dt),
            _ => false,
        };
        self.push_kind(StmtKind::Lookup(Lookup {
            key: self.resolve(&key),
            set: name,
            vmap: false,
            inverted: inv,
            set_text: m,
            masked_flags,
        }));
        self.kill_for(&key);
    }

    /// A payload field used in a lookup kills the dependency of its base.
    /// A masked (and shifted down) payload that is exactly one named field: `vlan id`
    /// (`@ll,112,16 & 0xfff`), `ip version` (`@nh,0,8 & 0xf0 >> 4`), `frag frag-off`.
    fn narrow_field(&self, x: &X) -> Option<X> {
        let (mask_x, shift) = match x {
            X::Shift {
                inner,
                left: false,
                n,
            } => (&**inner, Some(*n)),
            X::Mask { .. } => (x, None),
            _ => return None,
        };
        let X::Mask { mask, .. } = mask_x else {
            return None;
        };
        let zero = vec![0u8; mask.len()];
        let (f, _) = narrow_mask(mask_x, &zero)?;
        let tz = be_int(mask).trailing_zeros();
        // unshifted: only when the field ends at the mask's low bit (no shift needed)
        if shift.map_or(tz != 0, |n| n != tz) {
            return None;
        }
        match &f {
            X::Payload { base, off, len } => {
                let p = self.payload_fields(*base, *off, *len);
                (p.len() == 1 && p[0].3.is_none() && !at_raw(&p[0].0)).then_some(f)
            }
            _ => None,
        }
    }

    /// A masked payload whose mask is exactly one named (non-flag) field that does not end at
    /// the mask's low bit (`frag @16,16 & 0xfff8`, `@nh,8,8 & 0xfc`): the field, the shift
    /// that brings a compared value down to it and its width in bits. nft names the field
    /// and shifts the constants (`binop_adjust`).
    fn narrow_unshifted(&self, x: &X) -> Option<(X, u32, u32)> {
        let X::Mask { mask, .. } = x else {
            return None;
        };
        if mask.len() > 16 {
            return None;
        }
        let tz = be_int(mask).trailing_zeros();
        if tz == 0 || tz >= 128 {
            return None;
        }
        let zero = vec![0u8; mask.len()];
        let (f, _) = narrow_mask(x, &zero)?;
        let X::Payload { base, off, len } = &f else {
            return None;
        };
        let p = self.payload_fields(*base, *off, *len);
        let named = p.len() == 1
            && p[0].3.is_none()
            && !at_raw(&p[0].0)
            && !datatype::is_bitmask(self.printer().lhs(&p[0].0).dt);
        let bits = *len;
        named.then_some((f, tz, bits))
    }

    /// The key of a lookup in set `name` and the set's text: narrowed to the field when
    /// [`Self::narrowed_set`] applies, else as it is.
    fn looked_up(&self, name: &str, key: X) -> (X, String) {
        match self.narrowed_set(name, &key) {
            Some((f, m)) => (f, m),
            None => {
                let l = self.lhs(&key);
                let (m, _) = self.printer().set_text(name, &l);
                (key, m)
            }
        }
    }

    /// An anonymous set looked up with a key [`Self::narrow_unshifted`] narrows: the field,
    /// and the elements shifted down to it, printed as its type.
    fn narrowed_set(&self, name: &str, key: &X) -> Option<(X, String)> {
        let s = self.set(name)?;
        if !s.is_anonymous() {
            return None;
        }
        let (f, tz, bits) = self.narrow_unshifted(key)?;
        let sh = |d: &Data| match d {
            Data::Value(v) => Data::Value(int_be_bytes(be_int(v) >> tz, bits)),
            d => d.clone(),
        };
        let mut s2 = s.clone();
        for e in &mut s2.elements {
            e.key = e.key.as_ref().map(sh);
            e.key_end = e.key_end.as_ref().map(sh);
        }
        let l = self.lhs(&f);
        let data = set::data_type(&s2);
        let m = set::inline_elements(&s2, &l.elem_types(), data.as_ref());
        Some((f, m))
    }

    fn kill_for(&mut self, key: &X) {
        if let Some(f) = self.narrow_field(key) {
            return self.kill_for(&f);
        }
        match key {
            X::Map { key, .. }
            | X::Mask { inner: key, .. }
            | X::Hton(key)
            | X::Shift { inner: key, .. } => {
                let k = (**key).clone();
                self.kill_for(&k);
            }
            X::Payload { base, off, len } => {
                let f = self.payload_fields(*base, *off, *len);
                if f.len() == 1 && !at_raw(&f[0].0) && !is_th(&f[0].0) {
                    self.kill_dep(*base as usize);
                }
            }
            X::Concat(v) => {
                for x in v {
                    self.kill_for(x);
                }
            }
            _ => {}
        }
    }

    fn load(&mut self, dreg: Option<u32>, x: X) {
        self.regs.insert(reg32(dreg.unwrap_or(0)), x);
    }

    /// Load a named expression of type (`dt`, `order`, `bytes`).
    fn load_named(&mut self, dreg: Option<u32>, load: Load, dt: Dt, order: Order, bytes: u32) {
        let ty = Ty { dt, order, bytes };
        self.load(dreg, X::Load { load, ty });
    }

    /// Value stored by a set-statement (`meta mark set ...`), printed as type `l`.
    fn source(&mut self, sreg: Option<u32>, l: &Lhs) -> String {
        match self.reg(sreg) {
            X::Imm(v) => print_value(l.dt, &v, l.order),
            x => {
                self.kill_for(&x);
                self.lhs(&x).text
            }
        }
    }

    /// The value a write stores from register `sreg`: its constant, or the (resolved)
    /// expression, whose dependencies it kills.
    fn written(&mut self, sreg: Option<u32>) -> X {
        match self.reg(sreg) {
            X::Imm(v) => X::Imm(v),
            x => {
                self.kill_for(&x);
                self.resolve(&x)
            }
        }
    }

    /// A payload write whose source is `same payload & mask ^ xor`: the field the mask
    /// leaves out, and its new value.
    fn rmw_field(&self, dst: &X, sreg: u32) -> Option<(X, Vec<u8>)> {
        let X::Payload { base, off, len } = *dst else {
            return None;
        };
        let X::Mask { inner, mask, xor } = self.reg(Some(sreg)) else {
            return None;
        };
        let X::Payload {
            base: b2,
            off: o2,
            len: l2,
        } = *inner
        else {
            return None;
        };
        if (b2, o2, l2) != (base, off, len) || mask.len() > 16 || mask.len() * 8 != len as usize {
            return None;
        }
        let all = if len >= 128 {
            u128::MAX
        } else {
            (1u128 << len) - 1
        };
        let m = !be_int(&mask) & all;
        if m == 0 {
            return None;
        }
        let tz = m.trailing_zeros();
        let ones = (m >> tz).trailing_ones();
        if (m >> tz).checked_shr(ones).unwrap_or(0) != 0 {
            return None;
        }
        let lead = len - tz - ones;
        let vmask = if ones >= 128 {
            u128::MAX
        } else {
            (1u128 << ones) - 1
        };
        let v = (be_int(&xor) >> tz) & vmask;
        let field = X::Payload {
            base,
            off: off + lead,
            len: ones,
        };
        let f = self.payload_fields(base, off + lead, ones);
        if f.len() != 1 || at_raw(&f[0].0) || f[0].3.is_some() {
            return None;
        }
        Some((field, int_be_bytes(v, ones)))
    }

    /// `jump { ... }` / `goto { ... }` for a verdict to a bound (anonymous) chain: its rules
    /// printed inline, one tab deeper, as nft does (`NFT_CHAIN_BINDING`). Bounded nesting.
    fn bound_chain(&self, v: &Verdict) -> Option<String> {
        let kw = match v.code {
            VerdictCode::Jump => "jump",
            VerdictCode::Goto => "goto",
            _ => return None,
        };
        let name = v.chain.as_deref()?;
        // Bound (anonymous) chains are named `__chain<N>` by nft; checking the name first keeps
        // the per-rule chain lookup off the path of every ordinary jump (30k chains in a
        // kube-proxy table made rendering quadratic).
        if !name.starts_with("__chain") {
            return None;
        }
        let c = self.table.chain(name)?;
        if c.attrs.flags.unwrap_or(0) & 4 == 0 || self.depth >= 16 {
            return None;
        }
        let indent = "\t".repeat(3 + self.depth);
        let mut s = format!("{kw} {{\n");
        for r in &c.rules {
            s.push_str(&indent);
            crate::render::nft::fold::rule_text_into(
                &mut s,
                self.table,
                self.sets,
                &r,
                self.depth + 1,
                self.xt,
                self.ipsets,
            );
            s.push('\n');
        }
        s.push_str(&"\t".repeat(2 + self.depth));
        s.push('}');
        Some(s)
    }

    /// An xt match or target, as nft prints it (translated where libxtables translates).
    fn xt(
        &mut self,
        kind: nfscope_wire::xt::ext::XtKind,
        name: &Option<String>,
        rev: Option<u32>,
        info: &Option<nfscope_wire::nft::Bytes>,
    ) {
        let l4 = self.ctx[TH as usize].map(|p| p.name);
        let info = info.as_ref().map(|b| b.0.as_slice()).unwrap_or(&[]);
        let family = self.family.to_u8();
        let name = name.as_deref().unwrap_or("");
        let rev = rev.unwrap_or(0);
        if self.xt == XtStyle::Translate {
            if let Some(c) = crate::render::nft::xt::comment(kind, name, rev, family, info) {
                self.comments.push(c);
                return;
            }
        }
        let empty = BTreeMap::new();
        let names = SetNames(self.ipsets.unwrap_or(&empty));
        let cx = crate::render::nft::xt::Cx {
            family,
            l4,
            style: self.xt,
            names: &names,
        };
        let text = crate::render::nft::xt::text(kind, name, rev, info, &cx);
        // nft prints an empty translation as an empty statement (a double space); the
        // translate style leaves it out
        if !text.is_empty() || self.xt == XtStyle::Nft {
            self.push(text);
        }
    }

    /// Fold one expression.
    pub fn expr(&mut self, e: &Expr) {
        let before = self.stmts.len();
        self.expr_inner(e);
        // rule_maybe_reset_payload_deps: a statement that is not a match (counter, verdict,
        // xt, nat, set...) ends the window in which a later match can remove a dependency
        let is_match = matches!(e, Expr::Cmp(_) | Expr::Range(_) | Expr::Lookup(_));
        if self.stmts.len() > before && !is_match {
            self.deps = [None; 3];
        }
    }

    fn expr_inner(&mut self, e: &Expr) {
        match e {
            Expr::Immediate(i) => match (&i.data, i.dreg.unwrap_or(0)) {
                (Some(Data::Verdict(v)), 0) => match self.bound_chain(v) {
                    Some(text) => {
                        self.push(text);
                    }
                    None => {
                        self.push_kind(StmtKind::Verdict(v.clone()));
                    }
                },
                (d, r) => self.load(Some(r), X::Imm(data_bytes(d))),
            },
            Expr::Payload(p) => {
                if let Some(s) = p.sreg {
                    // payload write
                    let x = X::Payload {
                        base: p.base.unwrap_or(0),
                        off: p.offset.unwrap_or(0).saturating_mul(8),
                        len: p.len.unwrap_or(0).saturating_mul(8),
                    };
                    // read-modify-write of a sub-field: `payload & mask ^ xor` stored back
                    if let Some((field, v)) = self.rmw_field(&x, s) {
                        self.kill_for(&field);
                        self.push_kind(StmtKind::Write {
                            field: self.resolve(&field),
                            value: X::Imm(v),
                        });
                        return;
                    }
                    let value = self.written(Some(s));
                    self.kill_for(&x);
                    self.push_kind(StmtKind::Write {
                        field: self.resolve(&x),
                        value,
                    });
                } else {
                    self.load(
                        p.dreg,
                        X::Payload {
                            base: p.base.unwrap_or(0),
                            off: p.offset.unwrap_or(0).saturating_mul(8),
                            len: p.len.unwrap_or(0).saturating_mul(8),
                        },
                    );
                }
            }
            Expr::Meta(m) => {
                let key = MetaKey::from_raw(m.key.unwrap_or(0));
                if let Some(s) = m.sreg {
                    let value = self.written(Some(s));
                    self.push_kind(StmtKind::Write {
                        field: X::Meta(key),
                        value,
                    });
                } else {
                    self.load(m.dreg, X::Meta(key));
                }
            }
            Expr::Ct(c) => {
                let key = CtKey::from_raw(c.key.unwrap_or(0));
                let dir = c.direction.map(CtDir::from_raw);
                if let Some(s) = c.sreg {
                    let value = self.written(Some(s));
                    self.push_kind(StmtKind::Write {
                        field: self.resolve(&X::Ct { key, dir }),
                        value,
                    });
                } else {
                    self.load(c.dreg, X::Ct { key, dir });
                }
            }
            Expr::Bitwise(b) => {
                let inner = self.reg(b.sreg);
                let op = b.op.unwrap_or(0);
                let x = match op {
                    1 | 2 => X::Shift {
                        inner: Box::new(inner),
                        left: op == 1,
                        n: datatype::to_u128(&data_bytes(&b.data), Order::Host) as u32,
                    },
                    _ => X::Mask {
                        inner: Box::new(inner),
                        mask: data_bytes(&b.mask),
                        xor: data_bytes(&b.xor),
                    },
                };
                self.load(b.dreg, x);
            }
            Expr::Byteorder(b) => {
                let x = self.reg(b.sreg);
                let x = if b.op == Some(1) {
                    X::Hton(Box::new(x))
                } else {
                    x
                };
                self.load(b.dreg, x);
            }
            Expr::Cmp(c) => {
                let left = self.reg(c.sreg);
                self.relational(left, c.op.unwrap_or(0), data_bytes(&c.data));
            }
            Expr::Range(r) => {
                let left = self.reg(r.sreg);
                self.range(
                    left,
                    r.op.unwrap_or(0),
                    data_bytes(&r.from),
                    data_bytes(&r.to),
                );
            }
            Expr::Lookup(l) => self.lookup(l),
            Expr::Counter(c) => {
                self.push_kind(StmtKind::Counter {
                    packets: c.packets.unwrap_or(0),
                    bytes: c.bytes.unwrap_or(0),
                });
            }
            Expr::Log(l) => {
                self.push_kind(StmtKind::Log(l.clone()));
            }
            Expr::Limit(l) => {
                self.push_kind(StmtKind::Limit(l.clone()));
            }
            Expr::Quota(q) => {
                self.push_kind(StmtKind::Quota(q.clone()));
            }
            Expr::Connlimit(c) => {
                self.push_kind(StmtKind::Connlimit(c.clone()));
            }
            Expr::Reject(r) => self.reject(r),
            Expr::Nat(n) => self.nat(n),
            Expr::Masq(m) => {
                let p = self.nat_ports(m.reg_proto_min, m.reg_proto_max, m.flags);
                self.push_kind(StmtKind::Masquerade(p));
            }
            Expr::Redir(r) => {
                let p = self.nat_ports(r.reg_proto_min, r.reg_proto_max, r.flags);
                self.push_kind(StmtKind::Redirect(p));
            }
            Expr::Queue(q) => {
                let to = if q.sreg_qnum.is_some() {
                    QueueTo::Expr(self.written(q.sreg_qnum))
                } else {
                    QueueTo::Range {
                        first: q.num.unwrap_or(0),
                        count: q.total.unwrap_or(1),
                    }
                };
                self.push_kind(StmtKind::Queue {
                    flags: q.flags.unwrap_or(0),
                    to,
                });
            }
            Expr::Notrack(_) => {
                self.push_kind(StmtKind::Notrack);
            }
            Expr::Objref(o) => {
                let t = o.imm_type.unwrap_or_else(|| {
                    o.set_name
                        .as_deref()
                        .and_then(|n| self.set(n))
                        .and_then(|s| s.attrs.obj_type)
                        .unwrap_or(0)
                });
                let target = if let Some(n) = &o.imm_name {
                    ObjTarget::Name(n.clone())
                } else {
                    let set = o.set_name.clone().unwrap_or_default();
                    let st = self.set(&set);
                    let key = self.key(
                        o.set_sreg,
                        st.and_then(|s| s.attrs.key_len),
                        st.map(set::key_parts).unwrap_or(1),
                    );
                    self.kill_for(&key);
                    ObjTarget::Map {
                        key: self.resolve(&key),
                        set,
                    }
                };
                self.push_kind(StmtKind::Objref { ty: t, target });
            }
            Expr::Dynset(d) => self.dynset(d),
            Expr::FlowOffload(f) => {
                let table = f.table_name.clone().unwrap_or_default();
                self.push_kind(StmtKind::FlowAdd { flowtable: table });
            }
            Expr::Synproxy(s) => {
                self.push(crate::render::nft::stmt::synproxy(
                    s.mss,
                    s.wscale,
                    s.flags.unwrap_or(0),
                ));
            }
            Expr::Match(m) => {
                self.xt(
                    nfscope_wire::xt::ext::XtKind::Match,
                    &m.name,
                    m.rev,
                    &m.info,
                );
            }
            Expr::Target(t) => {
                self.xt(
                    nfscope_wire::xt::ext::XtKind::Target,
                    &t.name,
                    t.rev,
                    &t.info,
                );
            }
            Expr::Last(l) => {
                let used_ms = match (l.set, l.msecs) {
                    (Some(1), Some(ms)) => Some(ms),
                    _ => None,
                };
                self.push_kind(StmtKind::Last { used_ms });
            }
            Expr::Fib(f) => {
                let flags = f.flags.unwrap_or(0);
                let res = f.result.unwrap_or(0);
                let (dt, bytes) = match res {
                    1 => (Dt::Ifindex, 4),
                    2 => (Dt::String, 16),
                    _ => (Dt::Integer, 4),
                };
                let (dt, bytes) = if flags & consts::FIB_F_PRESENT != 0 {
                    (Dt::Boolean, 1)
                } else {
                    (dt, bytes)
                };
                let dt = if res == 3 && dt != Dt::Boolean {
                    Dt::FibAddr
                } else {
                    dt
                };
                let load = Load::Fib {
                    flags,
                    result: FibResult::from_raw(res),
                };
                self.load_named(f.dreg, load, dt, Order::Host, bytes);
            }
            Expr::Rt(r) => {
                let k = RtKey::from_raw(r.key.unwrap_or(0));
                let (dt, order, bytes) = match k {
                    RtKey::Classid => (Dt::Realm, Order::Host, 4),
                    RtKey::Nexthop4 => (Dt::Ipv4, Order::Big, 4),
                    RtKey::Nexthop6 => (Dt::Ipv6, Order::Big, 16),
                    RtKey::Tcpmss => (Dt::Integer, Order::Host, 2),
                    RtKey::Xfrm => (Dt::Boolean, Order::Host, 1),
                    RtKey::Unknown(_) => (Dt::Integer, Order::Host, 4),
                };
                self.load_named(r.dreg, Load::Rt(k), dt, order, bytes);
            }
            Expr::Socket(s) => {
                let key = SocketKey::from_raw(s.key.unwrap_or(0));
                let (dt, bytes) = match key {
                    SocketKey::Transparent | SocketKey::Wildcard => (Dt::Integer, 1),
                    SocketKey::Mark => (Dt::Mark, 4),
                    SocketKey::Cgroupv2 => (Dt::Cgroupv2, 8),
                    SocketKey::Unknown(_) => (Dt::Integer, 4),
                };
                let level = s.level.unwrap_or(0);
                let load = Load::Socket { key, level };
                self.load_named(s.dreg, load, dt, Order::Host, bytes);
            }
            Expr::Numgen(n) => {
                let load = Load::Numgen {
                    random: n.numgen_type.unwrap_or(0) == 1,
                    modulus: n.modulus.unwrap_or(0),
                    offset: n.offset.unwrap_or(0),
                };
                self.load_named(n.dreg, load, Dt::Integer, Order::Host, 4);
            }
            Expr::Hash(h) => {
                let key = if h.hash_type == Some(1) {
                    None
                } else {
                    let k = self.key(h.sreg, h.len, 1);
                    self.kill_for(&k);
                    Some(Box::new(k))
                };
                let load = Load::Hash {
                    key,
                    modulus: h.modulus.unwrap_or(0),
                    seed: h.seed,
                    offset: h.offset.unwrap_or(0),
                };
                self.load_named(h.dreg, load, Dt::Integer, Order::Host, 4);
            }
            Expr::Osf(o) => {
                let load = Load::Osf {
                    ttl: o.ttl,
                    version: o.flags.unwrap_or(0) & 1 != 0,
                };
                self.load_named(o.dreg, load, Dt::String, Order::Host, 16);
            }
            Expr::Exthdr(x) => self.exthdr(x),
            Expr::Xfrm(x) => {
                let key = XfrmKey::from_raw(x.key.unwrap_or(0));
                let (dt, order, bytes) = match key {
                    XfrmKey::Daddr4 | XfrmKey::Saddr4 => (Dt::Ipv4, Order::Big, 4),
                    XfrmKey::Daddr6 | XfrmKey::Saddr6 => (Dt::Ipv6, Order::Big, 16),
                    XfrmKey::Reqid => (Dt::Integer, Order::Host, 4),
                    XfrmKey::Spi | XfrmKey::Unknown(_) => (Dt::Integer, Order::Big, 4),
                };
                let load = Load::Ipsec {
                    out: x.dir == Some(1),
                    spnum: x.spnum.unwrap_or(0),
                    key,
                };
                self.load_named(x.dreg, load, dt, order, bytes);
            }
            Expr::Tunnel(t) => {
                let load = Load::Tunnel(t.key.unwrap_or(0));
                self.load_named(t.dreg, load, Dt::Integer, Order::Host, 4);
            }
            Expr::Dup(d) => {
                let addr = d.sreg_addr.map(|r| self.written(Some(r)));
                let dev = d.sreg_dev.map(|r| self.written(Some(r)));
                self.push_kind(StmtKind::Dup {
                    addr,
                    v6: self.nfproto == Some(10),
                    dev,
                });
            }
            Expr::Fwd(f) => {
                let addr = f.sreg_addr.map(|r| self.written(Some(r)));
                let dev = self.written(f.sreg_dev);
                self.push_kind(StmtKind::Fwd {
                    addr,
                    v6: f.nfproto == Some(10),
                    dev,
                });
            }
            Expr::Tproxy(t) => {
                let mut s = "tproxy".to_string();
                let fam = t.family.unwrap_or(0);
                if self.family == Family::Inet {
                    match fam {
                        2 => s.push_str(" ip"),
                        10 => s.push_str(" ip6"),
                        _ => {}
                    }
                }
                s.push_str(" to");
                let dt = if fam == 10 || self.family == Family::Ip6 {
                    Dt::Ipv6
                } else {
                    Dt::Ipv4
                };
                if t.reg_addr.is_some() {
                    let l = Lhs {
                        text: String::new(),
                        dt,
                        order: Order::Big,
                        bits: 32,
                        parts: vec![],
                    };
                    let a = self.source(t.reg_addr, &l);
                    // nft 1.0.6 brackets an IPv6 tproxy address also without a port
                    if dt == Dt::Ipv6 {
                        s.push_str(&format!(" [{a}]"));
                    } else {
                        s.push_str(&format!(" {a}"));
                    }
                }
                if t.reg_port.is_some() {
                    let l = Lhs {
                        text: String::new(),
                        dt: Dt::Port,
                        order: Order::Big,
                        bits: 16,
                        parts: vec![],
                    };
                    if t.reg_addr.is_none() {
                        s.push(' ');
                    }
                    s.push_str(&format!(":{}", self.source(t.reg_port, &l)));
                }
                self.push(s);
            }
            Expr::Secmark(s) => {
                let ctx = s.ctx.clone().unwrap_or_default();
                self.push_kind(StmtKind::Secmark { ctx });
            }
            Expr::Inner(_) => {
                self.push("# inner expression not rendered".into());
            }
            Expr::Unknown(u) => {
                self.push(format!("# unknown expression {}", u.name));
            }
        }
    }

    fn exthdr(&mut self, x: &nfscope_wire::nft::expr::Exthdr) {
        let op = x.op.unwrap_or(0);
        let ty = x.exthdr_type.unwrap_or(0);
        let off = x.offset.unwrap_or(0);
        let len = x.len.unwrap_or(0);
        let present = x.flags.unwrap_or(0) & 1 != 0;
        if op == 1 && x.dreg.is_none() && x.sreg.is_none() {
            // no load and no write: the option is reset (turned into NOPs)
            self.kill_dep(TH as usize);
            let name = crate::model::field::tcp_option_name(ty);
            self.push(format!("reset tcp option {name}"));
            return;
        }
        let load = Load::Exthdr {
            op: ExthdrOp::from_raw(op),
            ty,
            offset: off,
            len,
            present,
        };
        let (_, dt) = crate::model::field::exthdr_field(&load);
        if let Some(s) = x.sreg {
            let value = self.written(Some(s));
            let ty = Ty {
                dt,
                order: Order::Big,
                bytes: len,
            };
            self.push_kind(StmtKind::Write {
                field: X::Load { load, ty },
                value,
            });
            return;
        }
        // exthdr_dependency_kill: a TCP option implies tcp, an IPv6 extension header or an IPv4
        // option implies the network protocol
        match op {
            1 | 3 => self.kill_dep(TH as usize),
            0 | 2 => self.kill_dep(NH as usize),
            _ => {}
        }
        // headers whose fields are bit fields: loaded as a pseudo payload, so that a mask and
        // shift narrow to the named field (`frag frag-off`, `tcp option mptcp subtype`)
        let ext_base = match (op, ty) {
            (0, 44) => Some(proto::EXT_FRAG),
            (1, 30) => Some(proto::EXT_MPTCP),
            _ => None,
        };
        if let (Some(base), false) = (ext_base, present) {
            self.load(
                x.dreg,
                X::Payload {
                    base,
                    off: off * 8,
                    len: len * 8,
                },
            );
            return;
        }
        let bytes = if present { 1 } else { len };
        let order = if present { Order::Host } else { Order::Big };
        self.load_named(x.dreg, load, dt, order, bytes);
    }

    fn reject(&mut self, r: &nfscope_wire::nft::expr::Reject) {
        let t = r.reject_type.unwrap_or(0);
        let code = r.icmp_code.unwrap_or(0);
        let kind = match t {
            1 => {
                // in an ip / ip6 table the `meta l4proto tcp` it needs is implied
                if matches!(self.family, Family::Ip | Family::Ip6) {
                    self.kill_dep(TH as usize);
                }
                Reject::TcpReset
            }
            2 if code == 1 => Reject::Default,
            2 => Reject::Icmpx(code),
            _ => {
                let v6 = self.nfproto == Some(10);
                let multi = matches!(self.family, Family::Inet | Family::Bridge | Family::Netdev);
                if multi {
                    self.kill_dep(NH as usize);
                }
                let default = if v6 { 4 } else { 3 };
                let bare = code == default && !multi;
                if t != 0 {
                    Reject::Unknown {
                        ty: t,
                        code,
                        v6,
                        default: bare,
                    }
                } else if bare {
                    Reject::Default
                } else if v6 {
                    Reject::Icmpv6(code)
                } else {
                    Reject::Icmp(code)
                }
            }
        };
        self.push_kind(StmtKind::Reject(kind));
    }

    /// The port range (registers `min`, `max`) and flags of masquerade / redirect.
    fn nat_ports(&mut self, min: Option<u32>, max: Option<u32>, flags: Option<u32>) -> NatPorts {
        let min = min.map(|r| self.written(Some(r)));
        let max = match (&min, max) {
            (Some(_), Some(r)) => Some(self.written(Some(r))),
            _ => None,
        };
        NatPorts {
            min,
            max,
            flags: flags.unwrap_or(0),
        }
    }

    fn nat(&mut self, n: &nfscope_wire::nft::expr::Nat) {
        let kind = match n.nat_type.unwrap_or(0) {
            0 => NatKind::Snat,
            1 => NatKind::Dnat,
            t => NatKind::Unknown(t),
        };
        // address (and port) from one map whose data is a concatenation or an interval
        // (is_nat_proto_map / is_nat_addr_map): the map says both, and nft names the family
        let concat_map = match self.reg(n.reg_addr_min) {
            X::Map { set, .. } => self.set(&set).is_some_and(|s| {
                !set::data_parts(s).is_empty()
                    || s.attrs
                        .userdata
                        .as_ref()
                        .and_then(|u| u.u32(nfscope_wire::nft::udata::SET_DATA_INTERVAL))
                        .unwrap_or(0)
                        != 0
            }),
            _ => false,
        };
        let addr = n.reg_addr_min.map(|r| {
            let min = self.written(Some(r));
            // a map gives the whole address (range): the max register is not an expression
            let max = n
                .reg_addr_max
                .filter(|_| !concat_map)
                .map(|r| self.written(Some(r)));
            (min, max)
        });
        let has_proto = n.reg_proto_min.is_some();
        let ports = n.reg_proto_min.filter(|_| !concat_map).map(|r| {
            let min = self.written(Some(r));
            let max = n.reg_proto_max.map(|r| self.written(Some(r)));
            (min, max)
        });
        self.push_kind(StmtKind::Nat(Nat {
            kind,
            family: n.family.unwrap_or(0),
            addr,
            ports,
            map_ports: concat_map && has_proto,
            show_family: self.family == Family::Inet || concat_map,
            flags: n.flags.unwrap_or(0),
        }));
    }

    fn dynset(&mut self, d: &nfscope_wire::nft::expr::Dynset) {
        let name = d.set_name.clone().unwrap_or_default();
        let op = consts::dynset_op(d.op.unwrap_or(0)).unwrap_or("add");
        let s = self.set(&name);
        let parts = s.map(set::key_parts).unwrap_or(1);
        let key_len = s.and_then(|s| s.attrs.key_len);
        let key = self.key(d.sreg_key, key_len, parts);
        let l = self.lhs(&key);
        let mut inner = l.text.clone();
        if let Some(t) = d.timeout.filter(|&t| t != 0) {
            inner.push_str(&format!(" timeout {}", datatype::time_ms(t)));
        }
        let mut exprs: Vec<&Expr> = Vec::new();
        if let Some(e) = &d.expr {
            exprs.push(e);
        }
        if let Some(v) = &d.expressions {
            exprs.extend(v.iter());
        }
        for e in exprs {
            inner.push(' ');
            inner.push_str(&crate::render::nft::stmt::stateless(e));
        }
        let dparts = s.map(set::data_parts).unwrap_or_default();
        if d.sreg_data.is_some() && dparts.len() > 1 {
            // concatenated data: one component per register run (`: 10.0.0.1 . 80`)
            let mut r = reg32(d.sreg_data.unwrap_or(0));
            inner.push_str(" : ");
            for (i, p) in dparts.iter().enumerate() {
                if i > 0 {
                    inner.push_str(" . ");
                }
                match self.regs.get(&r).cloned() {
                    Some(X::Imm(v)) => {
                        let n = (p.bytes as usize).min(v.len());
                        inner.push_str(&print_value(p.dt, &v[..n], p.order));
                    }
                    Some(x) => {
                        self.kill_for(&x);
                        inner.push_str(&self.lhs(&x).text);
                    }
                    None => inner.push_str(&format!("reg{r}")),
                }
                r = r.saturating_add(p.bytes.div_ceil(4).max(1));
            }
        } else if d.sreg_data.is_some() {
            let dl = s.and_then(set::data_type).unwrap_or(ElemType {
                dt: Dt::Integer,
                order: Order::Host,
                bytes: 4,
                interval: false,
            });
            let l2 = Lhs {
                text: String::new(),
                dt: dl.dt,
                order: dl.order,
                bits: dl.bytes * 8,
                parts: vec![],
            };
            inner.push_str(&format!(" : {}", self.source(d.sreg_data, &l2)));
        }
        // an anonymous dynamic set is a meter (`set_is_meter`)
        let meter = s.is_some_and(|s| s.is_anonymous() && s.flags() & set_flags::EVAL != 0);
        if meter {
            let size = s
                .and_then(|s| s.attrs.desc.as_ref())
                .and_then(|d| d.size)
                .map(|n| format!(" size {n}"))
                .unwrap_or_default();
            self.push(format!("meter {name}{size} {{ {inner} }}"));
        } else {
            self.push(format!("{op} @{name} {{ {inner} }}"));
        }
        self.kill_for(&key);
    }

    /// The statements as printed, joined by spaces.
    #[cfg(test)]
    pub(crate) fn finish(self) -> String {
        let mut out = String::new();
        self.finish_into(&mut out);
        out
    }

    /// [`Folder::finish`], appended to `out`; returns whether anything was.
    pub(crate) fn finish_into(self, out: &mut String) -> bool {
        let p = self.printer();
        let mut first = true;
        for st in self.stmts.iter().filter(|s| !s.implicit) {
            if !first {
                out.push(' ');
            }
            match &st.kind {
                StmtKind::Text(t) => out.push_str(t),
                _ => out.push_str(&p.stmt(st)),
            }
            first = false;
        }
        !first
    }

    /// The typed statements, implicit dependencies marked.
    pub(crate) fn into_stmts(self) -> Vec<Stmt> {
        self.stmts
    }
}

/// The prefix length when `a`-`b` is exactly one prefix (`a` the network, `b` its last
/// address), else `None`.
pub(crate) fn exact_prefix(a: &X, b: &X) -> Option<u32> {
    let (X::Imm(a), X::Imm(b)) = (a, b) else {
        return None;
    };
    if a.len() != b.len() || a.len() > 16 || a.is_empty() {
        return None;
    }
    let (x, y) = (be_int(a), be_int(b));
    let host = x ^ y;
    let bits = a.len() as u32 * 8;
    let is_prefix = x & host == 0
        && y & host == host
        && host.count_ones() == host.trailing_ones()
        && host.count_ones() < bits;
    is_prefix.then(|| bits - host.count_ones())
}

/// The length of the common prefix of two constant addresses (0 unless both are constants).
pub(crate) fn prefix_len(a: &X, b: &X) -> u32 {
    match (a, b) {
        (X::Imm(a), X::Imm(b)) => {
            let mut n = 0;
            for (x, y) in a.iter().zip(b) {
                let same = !(x ^ y);
                if same == 0xff {
                    n += 8;
                } else {
                    n += same.leading_ones();
                    break;
                }
            }
            n
        }
        _ => 0,
    }
}

/// `payload & mask == v` where the mask is one run of ones and `xor` is zero: the payload
/// narrowed to those bits and the value shifted down.
fn narrow_mask(left: &X, right: &[u8]) -> Option<(X, Vec<u8>)> {
    let X::Mask { inner, mask, xor } = left else {
        return None;
    };
    let X::Payload { base, off, len } = **inner else {
        return None;
    };
    if xor.iter().any(|&b| b != 0) || mask.len() > 16 || mask.len() * 8 != len as usize {
        return None;
    }
    let m = be_int(mask);
    if m == 0 {
        return None;
    }
    let tz = m.trailing_zeros();
    let ones = (m >> tz).trailing_ones();
    if (m >> tz).checked_shr(ones).unwrap_or(0) != 0 {
        return None; // not one run
    }
    let lead = len - tz - ones;
    let v = be_int(right) >> tz;
    // a run that ends on a byte boundary inside a wider field is a prefix: keep the length
    Some((
        X::Payload {
            base,
            off: off + lead,
            len: ones,
        },
        int_be_bytes(v, ones),
    ))
}

/// A payload no header field names, printed `@base,off,len` (not a raw field of a pseudo header
/// like `frag @16,16`).
fn at_raw(x: &X) -> bool {
    matches!(x, X::Raw { base, .. } if proto::ext(*base).is_none())
}

/// A field of the generic transport header (`th dport`).
fn is_th(x: &X) -> bool {
    matches!(x, X::Header(h) if h.protocol() == "th")
}

/// The statements of `rule` (a rule of `table`, whose sets its lookups name), in order.
///
/// Statements nft does not print (implicit dependencies) are kept, with
/// [`Stmt::implicit`] set.
///
/// ```no_run
/// use nfscope::model::{decode, field::MetaKey, stmt::{Expr, StmtKind}};
/// # fn f(rs: &nfscope::Ruleset) {
/// for t in &rs.tables {
///     for c in &t.chains {
///         for r in &c.rules {
///             let marks = decode(t, &r).iter().any(|s| matches!(&s.kind,
///                 StmtKind::Match(m) if m.left == Expr::Meta(MetaKey::Mark)));
///             println!("{} {}: {marks}", c.attrs.name.as_deref().unwrap_or(""), r.handle.unwrap_or(0));
///         }
///     }
/// }
/// # }
/// ```
pub fn decode(table: &Table, rule: &Rule) -> Vec<Stmt> {
    let mut f = Folder::new(table);
    for e in rule.expressions.iter().flatten() {
        f.expr(e);
    }
    f.into_stmts()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nfscope_wire::nft::expr::{Bitwise, Cmp, Lookup, Meta, Payload};

    fn table(family: Family) -> Table {
        Table {
            family,
            attrs: Default::default(),
            chains: vec![],
            sets: vec![],
            objects: vec![],
            flowtables: vec![],
        }
    }

    fn fold(t: &Table, exprs: Vec<Expr>) -> String {
        let mut f = Folder::new(t);
        for e in &exprs {
            f.expr(e);
        }
        f.finish()
    }

    fn val(v: &[u8]) -> Option<Data> {
        Some(Data::Value(v.to_vec()))
    }

    #[test]
    fn tcp_dport_drops_its_l4proto_dependency() {
        // nft --debug=netlink add rule ip t c tcp dport 80:
        // [ meta load l4proto => reg 1 ] [ cmp eq reg 1 0x06 ]
        // [ payload load 2b @ transport header + 2 => reg 1 ] [ cmp eq reg 1 0x5000 ]
        let t = table(Family::Ip);
        let e = vec![
            Expr::Meta(Meta {
                dreg: Some(1),
                key: Some(16),
                ..Default::default()
            }),
            Expr::Cmp(Cmp {
                sreg: Some(1),
                op: Some(0),
                data: val(&[6]),
                ..Default::default()
            }),
            Expr::Payload(Payload {
                dreg: Some(1),
                base: Some(2),
                offset: Some(2),
                len: Some(2),
                ..Default::default()
            }),
            Expr::Cmp(Cmp {
                sreg: Some(1),
                op: Some(0),
                data: val(&[0, 80]),
                ..Default::default()
            }),
        ];
        assert_eq!(fold(&t, e), "tcp dport 80");
    }

    #[test]
    fn decode_types_the_statements() {
        // meta l4proto tcp (implicit) tcp dport 80 meta mark & 0xff == 0x2 counter accept
        let t = table(Family::Ip);
        let mut e = vec![
            Expr::Meta(Meta {
                dreg: Some(1),
                key: Some(16),
                ..Default::default()
            }),
            Expr::Cmp(Cmp {
                sreg: Some(1),
                op: Some(0),
                data: val(&[6]),
                ..Default::default()
            }),
            Expr::Payload(Payload {
                dreg: Some(1),
                base: Some(2),
                offset: Some(2),
                len: Some(2),
                ..Default::default()
            }),
            Expr::Cmp(Cmp {
                sreg: Some(1),
                op: Some(0),
                data: val(&[0, 80]),
                ..Default::default()
            }),
            Expr::Meta(Meta {
                dreg: Some(1),
                key: Some(3),
                ..Default::default()
            }),
            Expr::Bitwise(Box::new(Bitwise {
                sreg: Some(1),
                dreg: Some(1),
                len: Some(4),
                mask: val(&[0xff, 0, 0, 0]),
                xor: val(&[0, 0, 0, 0]),
                ..Default::default()
            })),
            Expr::Cmp(Cmp {
                sreg: Some(1),
                op: Some(0),
                data: val(&[2, 0, 0, 0]),
                ..Default::default()
            }),
            Expr::Counter(Default::default()),
        ];
        let accept = Verdict {
            code: VerdictCode::Accept,
            chain: None,
            chain_id: None,
            unknown: Default::default(),
        };
        e.push(Expr::Immediate(nfscope_wire::nft::expr::Immediate {
            dreg: Some(0),
            data: Some(Data::Verdict(accept.clone())),
            ..Default::default()
        }));
        let r = Rule {
            expressions: Some(e.clone()),
            ..Default::default()
        };
        let s = crate::model::decode(&t, &r);
        let kinds: Vec<(&StmtKind, bool)> = s.iter().map(|s| (&s.kind, s.implicit)).collect();
        let m = |left, right: &[u8]| {
            StmtKind::Match(Match {
                left,
                op: Op::Eq,
                right: Value::Bytes(right.to_vec()),
            })
        };
        let StmtKind::Match(Match {
            left: X::Header(dport),
            ..
        }) = &s[1].kind
        else {
            panic!("{s:?}");
        };
        assert_eq!((dport.protocol(), dport.field()), ("tcp", "dport"));
        assert_eq!(dport.ty(), (Dt::Port, Order::Big, 16));
        let mark = X::Mask {
            inner: Box::new(X::Meta(MetaKey::Mark)),
            mask: vec![0xff, 0, 0, 0],
            xor: vec![0, 0, 0, 0],
        };
        assert_eq!(
            kinds,
            vec![
                (&m(X::Meta(MetaKey::L4Proto), &[6]), true),
                (&m(X::Header(*dport), &[0, 80]), false),
                (&m(mark, &[2, 0, 0, 0]), false),
                (
                    &StmtKind::Counter {
                        packets: 0,
                        bytes: 0
                    },
                    false
                ),
                (&StmtKind::Verdict(accept), false),
            ]
        );
        assert_eq!(
            fold(&t, e),
            "tcp dport 80 meta mark & 0x000000ff == 0x00000002 counter packets 0 bytes 0 accept"
        );
    }

    #[test]
    fn prefix_and_mark_mask() {
        let t = table(Family::Ip);
        // ip saddr 10.0.0.0/8: [ payload load 1b @ network header + 12 ] [ cmp eq 0x0a ]
        let e = vec![
            Expr::Payload(Payload {
                dreg: Some(1),
                base: Some(1),
                offset: Some(12),
                len: Some(1),
                ..Default::default()
            }),
            Expr::Cmp(Cmp {
                sreg: Some(1),
                op: Some(0),
                data: val(&[10]),
                ..Default::default()
            }),
        ];
        assert_eq!(fold(&t, e), "ip saddr 10.0.0.0/8");
        // meta mark & 0x8000 == 0x8000 (host-endian register)
        let e = vec![
            Expr::Meta(Meta {
                dreg: Some(1),
                key: Some(3),
                ..Default::default()
            }),
            Expr::Bitwise(Box::new(Bitwise {
                sreg: Some(1),
                dreg: Some(1),
                len: Some(4),
                mask: val(&[0, 0x80, 0, 0]),
                xor: val(&[0, 0, 0, 0]),
                ..Default::default()
            })),
            Expr::Cmp(Cmp {
                sreg: Some(1),
                op: Some(0),
                data: val(&[0, 0x80, 0, 0]),
                ..Default::default()
            }),
        ];
        assert_eq!(fold(&t, e), "meta mark & 0x00008000 == 0x00008000");
    }

    /// Random expression sequences (registers, lengths, values, set names all arbitrary) never
    /// panic the folder: a deterministic generator, many rounds, every family.
    #[test]
    fn random_rules_do_not_panic() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rnd = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n.max(1)
        };
        let fams = [
            Family::Ip,
            Family::Ip6,
            Family::Inet,
            Family::Arp,
            Family::Bridge,
            Family::Netdev,
        ];
        for round in 0..6000 {
            let mut t = table(fams[round % fams.len()]);
            for n in 0..3 {
                // sets with random flags, key types (concats) and elements
                let flags = rnd(512) as u32;
                let key: Vec<u8> = (0..rnd(40)).map(|_| rnd(256) as u8).collect();
                let elem = nfscope_wire::nft::SetElem {
                    key: Some(Data::Value(key.clone())),
                    key_end: if rnd(2) == 0 {
                        Some(Data::Value(key.clone()))
                    } else {
                        None
                    },
                    flags: Some(rnd(4) as u32),
                    data: Some(Data::Value(key)),
                    ..Default::default()
                };
                t.sets.push(crate::model::Set {
                    attrs: nfscope_wire::nft::Set {
                        name: Some(format!("s{n}")),
                        flags: Some(flags),
                        key_type: Some(rnd(1 << 20) as u32),
                        key_len: Some(rnd(64) as u32),
                        data_type: Some(rnd(50) as u32),
                        data_len: Some(rnd(20) as u32),
                        ..Default::default()
                    },
                    elements: vec![elem.clone(), elem],
                });
            }
            let mut f = Folder::new(&t);
            f.xt = XtStyle::ALL[rnd(2) as usize];
            for _ in 0..rnd(8) + 1 {
                let reg = Some(rnd(24) as u32);
                let bytes: Vec<u8> = (0..rnd(20)).map(|_| rnd(256) as u8).collect();
                let e = match rnd(14) {
                    9 => Expr::Range(Box::new(nfscope_wire::nft::expr::Range {
                        sreg: reg,
                        op: Some(rnd(3) as u32),
                        from: val(&bytes),
                        to: val(&bytes),
                        ..Default::default()
                    })),
                    10 => Expr::Immediate(nfscope_wire::nft::expr::Immediate {
                        dreg: reg,
                        data: val(&bytes),
                        ..Default::default()
                    }),
                    11 => Expr::Nat(nfscope_wire::nft::expr::Nat {
                        nat_type: Some(rnd(3) as u32),
                        family: Some(rnd(11) as u32),
                        reg_addr_min: reg,
                        reg_addr_max: Some(rnd(24) as u32),
                        reg_proto_min: reg,
                        flags: Some(rnd(128) as u32),
                        ..Default::default()
                    }),
                    12 => Expr::Dynset(Box::new(nfscope_wire::nft::expr::Dynset {
                        set_name: Some(format!("s{}", rnd(4))),
                        sreg_key: reg,
                        sreg_data: reg,
                        op: Some(rnd(4) as u32),
                        ..Default::default()
                    })),
                    13 => Expr::Match(nfscope_wire::nft::expr::XtMatch {
                        name: Some(
                            ["tcp", "conntrack", "multiport", "mark", "x"][rnd(5) as usize].into(),
                        ),
                        rev: Some(rnd(4) as u32),
                        info: Some(nfscope_wire::nft::Bytes(bytes.clone())),
                        ..Default::default()
                    }),
                    0 => Expr::Payload(Payload {
                        dreg: reg,
                        base: Some(rnd(4) as u32),
                        offset: Some(rnd(64) as u32),
                        len: Some(rnd(20) as u32),
                        ..Default::default()
                    }),
                    1 => Expr::Meta(Meta {
                        dreg: reg,
                        key: Some(rnd(40) as u32),
                        ..Default::default()
                    }),
                    2 => Expr::Bitwise(Box::new(Bitwise {
                        sreg: reg,
                        dreg: reg,
                        op: Some(rnd(3) as u32),
                        mask: val(&bytes),
                        xor: val(&bytes[..bytes.len() / 2]),
                        data: val(&bytes),
                        ..Default::default()
                    })),
                    3 | 4 => Expr::Cmp(Cmp {
                        sreg: reg,
                        op: Some(rnd(7) as u32),
                        data: val(&bytes),
                        ..Default::default()
                    }),
                    5 => Expr::Lookup(Lookup {
                        set: Some(format!("s{}", rnd(3))),
                        sreg: reg,
                        dreg: if rnd(2) == 0 { None } else { reg },
                        ..Default::default()
                    }),
                    6 => Expr::Ct(nfscope_wire::nft::expr::Ct {
                        dreg: reg,
                        key: Some(rnd(30) as u32),
                        ..Default::default()
                    }),
                    7 => Expr::Meta(Meta {
                        sreg: reg,
                        key: Some(rnd(40) as u32),
                        ..Default::default()
                    }),
                    _ => Expr::Payload(Payload {
                        sreg: reg,
                        base: Some(rnd(4) as u32),
                        offset: Some(rnd(64) as u32),
                        len: Some(rnd(20) as u32),
                        ..Default::default()
                    }),
                };
                f.expr(&e);
            }
            let _ = f.finish();
            // set declarations and elements of the random sets, and extreme chain priorities
            let _ = crate::render::nft::table(&t, &crate::render::nft::NftOptions::default());
            let _ = crate::render::nft::prio_text(
                t.family,
                rnd(6) as u32,
                [i32::MIN, i32::MAX, -300, 0][rnd(4) as usize],
            );
        }
    }

    #[test]
    fn odd_input_does_not_panic() {
        let t = table(Family::Inet);
        let e = vec![
            // cmp on a register nothing loaded
            Expr::Cmp(Cmp {
                sreg: Some(9),
                op: Some(77),
                data: None,
                ..Default::default()
            }),
            // payload of absurd length and a full mask
            Expr::Payload(Payload {
                dreg: Some(u32::MAX),
                base: Some(9),
                offset: Some(u32::MAX / 8),
                len: Some(16),
                ..Default::default()
            }),
            Expr::Bitwise(Box::new(Bitwise {
                sreg: Some(u32::MAX),
                dreg: Some(u32::MAX),
                mask: val(&[0xff; 16]),
                xor: val(&[0; 16]),
                ..Default::default()
            })),
            Expr::Cmp(Cmp {
                sreg: Some(u32::MAX),
                op: Some(0),
                data: val(&[1; 16]),
                ..Default::default()
            }),
            Expr::Lookup(Lookup {
                set: Some("nope".into()),
                sreg: Some(u32::MAX),
                ..Default::default()
            }),
        ];
        let s = fold(&t, e);
        assert!(s.contains("@nope"), "{s}");
    }
}
