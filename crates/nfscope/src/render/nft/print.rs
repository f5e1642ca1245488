//! Printing the typed model as nft text (nftables' `expression.c` / `meta.c` / `ct.c` print
//! functions): the names of fields and loads. Values print through [`super::datatype`].

use super::datatype::{self, print_value, Dt, Order};
use super::fold::SetIndex;
use super::proto::{self, LL, NH, TH};
use super::set::{self, ElemType};
use crate::model::field::{
    exthdr_field, CtDir, CtKey, FibResult, Load, MetaKey, RtKey, SocketKey, XfrmKey,
};
use crate::model::stmt::{
    Expr, Lookup, Match, Nat, NatKind, NatPorts, ObjTarget, Op, QueueTo, Reject, Stmt, StmtKind,
    Value,
};
use crate::model::Table;
use nfscope_wire::nft::expr::consts;

/// `meta mark`, `iifname`, ...: the keys nft prints without `meta` go bare.
pub(crate) fn meta_text(key: MetaKey) -> String {
    let name = consts::meta_key(key.raw())
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}", key.raw()));
    match key {
        MetaKey::Iif
        | MetaKey::Oif
        | MetaKey::IifName
        | MetaKey::OifName
        | MetaKey::IifGroup
        | MetaKey::OifGroup => name,
        _ => format!("meta {name}"),
    }
}

/// `ct state`, `ct original ip saddr`, ...; `nfproto` names the family of a directional
/// address.
pub(crate) fn ct_text(key: CtKey, dir: Option<CtDir>, nfproto: Option<u8>) -> String {
    let name = consts::ct_key(key.raw())
        .map(str::to_string)
        .unwrap_or_else(|| format!("{}", key.raw()));
    match dir {
        None => format!("ct {name}"),
        Some(d) => {
            let d = consts::ct_dir(d.raw() as u32).unwrap_or("original");
            let fam = match (key, nfproto) {
                (CtKey::Saddr | CtKey::Daddr, Some(2)) => "ip ",
                (CtKey::Saddr | CtKey::Daddr, Some(10)) => "ip6 ",
                _ => "",
            };
            format!("ct {d} {fam}{name}")
        }
    }
}

/// An `ipsec` key's name (`ip saddr`, `reqid`, ...).
pub(crate) fn xfrm_name(key: XfrmKey) -> Option<&'static str> {
    Some(match key {
        XfrmKey::Daddr4 => "ip daddr",
        XfrmKey::Daddr6 => "ip6 daddr",
        XfrmKey::Saddr4 => "ip saddr",
        XfrmKey::Saddr6 => "ip6 saddr",
        XfrmKey::Reqid => "reqid",
        XfrmKey::Spi => "spi",
        XfrmKey::Unknown(_) => return None,
    })
}

/// A named load as nft prints it; `key` prints a hash's key expression.
pub(crate) fn load_text(load: &Load, key: impl Fn(&Expr) -> String) -> String {
    match load {
        Load::Fib { flags, result } => {
            let mut parts = Vec::new();
            for (bit, n) in [
                (1, "saddr"),
                (2, "daddr"),
                (4, "mark"),
                (8, "iif"),
                (16, "oif"),
            ] {
                if flags & bit != 0 {
                    parts.push(n);
                }
            }
            let rname = match result {
                FibResult::Unknown(_) => "unknown",
                r => consts::fib_result(r.raw()).unwrap_or("unknown"),
            };
            format!("fib {} {rname}", parts.join(" . "))
        }
        Load::Rt(k) => match k {
            RtKey::Classid => "rt classid".into(),
            RtKey::Nexthop4 => "rt ip nexthop".into(),
            RtKey::Nexthop6 => "rt ip6 nexthop".into(),
            RtKey::Tcpmss => "rt mtu".into(),
            RtKey::Xfrm => "rt ipsec".into(),
            RtKey::Unknown(k) => format!("rt {k}"),
        },
        Load::Socket { key, level } => match key {
            SocketKey::Transparent => "socket transparent".into(),
            SocketKey::Mark => "socket mark".into(),
            SocketKey::Wildcard => "socket wildcard".into(),
            SocketKey::Cgroupv2 => format!("socket cgroupv2 level {level}"),
            SocketKey::Unknown(k) => format!("socket {k}"),
        },
        Load::Numgen {
            random,
            modulus,
            offset,
        } => {
            let t = if *random { "random" } else { "inc" };
            let mut text = format!("numgen {t} mod {modulus}");
            if *offset != 0 {
                text.push_str(&format!(" offset {offset}"));
            }
            text
        }
        Load::Hash {
            key: k,
            modulus,
            seed,
            offset,
        } => {
            let mut text = match k {
                None => "symhash".to_string(),
                Some(k) => format!("jhash {}", key(k)),
            };
            text.push_str(&format!(" mod {modulus}"));
            if let Some(s) = seed {
                text.push_str(&format!(" seed 0x{s:x}"));
            }
            if *offset != 0 {
                text.push_str(&format!(" offset {offset}"));
            }
            text
        }
        Load::Osf { ttl, version } => {
            let mut text = "osf".to_string();
            if *ttl == Some(1) {
                text.push_str(" ttl loose");
            } else if *ttl == Some(2) {
                text.push_str(" ttl skip");
            }
            text.push_str(if *version { " version" } else { " name" });
            text
        }
        Load::Ipsec { out, spnum, key } => {
            let dir = if *out { "out" } else { "in" };
            let name = xfrm_name(*key).unwrap_or("unknown");
            let sp = if *spnum > 0 {
                format!(" spnum {spnum}")
            } else {
                String::new()
            };
            format!("ipsec {dir}{sp} {name}")
        }
        Load::Tunnel(k) => format!("tunnel {}", consts::tunnel_key(*k).unwrap_or("unknown")),
        Load::Exthdr { .. } => exthdr_field(load).0,
        Load::Reg(r) => format!("reg{r}"),
    }
}

/// A left-hand side ready to print: text and how its values print.
#[derive(Debug, Clone)]
pub struct Lhs {
    pub text: String,
    pub dt: Dt,
    pub order: Order,
    /// Length in bits (values are this many bits, right-aligned).
    pub bits: u32,
    /// Component types when this is a concatenation.
    pub parts: Vec<ElemType>,
}

impl Lhs {
    pub fn elem_types(&self) -> Vec<ElemType> {
        if self.parts.is_empty() {
            vec![ElemType {
                dt: self.dt,
                order: self.order,
                bytes: self.bits.div_ceil(8),
                interval: false,
            }]
        } else {
            self.parts.clone()
        }
    }
}

/// Prints the typed statements of one rule of `table`.
pub(crate) struct Printer<'a> {
    pub(crate) table: &'a Table,
    /// Sets of the table by name, when indexed.
    pub(crate) sets: Option<&'a SetIndex<'a>>,
}

impl<'a> Printer<'a> {
    fn set(&self, name: &str) -> Option<&'a crate::model::Set> {
        match self.sets {
            Some(ix) => ix.get(name).copied(),
            None => self.table.set(name),
        }
    }

    /// How a (resolved) expression prints, and how its values print.
    pub(crate) fn lhs(&self, x: &Expr) -> Lhs {
        let plain = |text: String, dt: Dt, order: Order, bits: u32| Lhs {
            text,
            dt,
            order,
            bits,
            parts: vec![],
        };
        match x {
            Expr::Header(h) => {
                let (dt, order, bits) = h.ty();
                plain(format!("{} {}", h.protocol(), h.field()), dt, order, bits)
            }
            Expr::Raw { base, off, len } => {
                let (base, off, len) = (*base, *off, *len);
                let text = match (base, proto::ext(base)) {
                    (LL, _) => format!("@ll,{off},{len}"),
                    (NH, _) => format!("@nh,{off},{len}"),
                    (TH, _) => format!("@th,{off},{len}"),
                    (3, _) => format!("@ih,{off},{len}"),
                    (_, Some(p)) if base == proto::EXT_FRAG => format!("{} @{off},{len}", p.name),
                    (_, Some(_)) => format!("tcp option @{},{off},{len}", base & 0xff),
                    _ => format!("@unknown,{off},{len}"),
                };
                plain(text, Dt::Hex, Order::Big, len)
            }
            Expr::Payload { base, off, len } => {
                let b = ["ll", "nh", "th"]
                    .get(*base as usize)
                    .copied()
                    .unwrap_or("ih");
                plain(format!("@{b},{off},{len}"), Dt::Integer, Order::Big, *len)
            }
            Expr::Meta(k) => {
                let (dt, order, bytes) = k.info();
                plain(meta_text(*k), dt, order, bytes * 8)
            }
            Expr::Ct { key, dir } => {
                let (dt, order, bytes) = key.info(None);
                plain(ct_text(*key, *dir, None), dt, order, bytes * 8)
            }
            Expr::Load { load, ty } => plain(
                load_text(load, |k| self.lhs(k).text),
                ty.dt,
                ty.order,
                ty.bytes * 8,
            ),
            Expr::Mask { inner, mask, xor } => {
                let l = self.lhs(inner);
                let text = binop_text(&l, mask, xor);
                Lhs { text, ..l }
            }
            Expr::Shift { inner, left, n } => {
                let op = if *left { "<<" } else { ">>" };
                let l = self.lhs(inner);
                let t = if matches!(**inner, Expr::Mask { .. } | Expr::Shift { .. }) {
                    format!("({})", l.text)
                } else {
                    l.text.clone()
                };
                // a shifted mark keeps its type (its mask prints `0x0000000f`)
                let dt = if l.dt == Dt::Mark {
                    Dt::Mark
                } else {
                    Dt::Integer
                };
                Lhs {
                    text: format!("{t} {op} {n}"),
                    dt,
                    ..l
                }
            }
            Expr::Imm(v) => plain(
                print_value(Dt::Integer, v, Order::Big),
                Dt::Integer,
                Order::Host,
                v.len() as u32 * 8,
            ),
            Expr::Concat(v) => {
                let ls: Vec<Lhs> = v.iter().map(|x| self.lhs(x)).collect();
                Lhs {
                    text: ls
                        .iter()
                        .map(|l| l.text.clone())
                        .collect::<Vec<_>>()
                        .join(" . "),
                    dt: Dt::Bytes,
                    order: Order::Big,
                    bits: ls.iter().map(|l| l.bits.div_ceil(32) * 32).sum(),
                    parts: ls
                        .iter()
                        .map(|l| ElemType {
                            dt: l.dt,
                            order: l.order,
                            bytes: l.bits.div_ceil(8),
                            interval: false,
                        })
                        .collect(),
                }
            }
            Expr::Hton(inner) => Lhs {
                order: Order::Big,
                ..self.lhs(inner)
            },
            Expr::Map { key, set } => {
                let k = self.lhs(key);
                let (m, dt) = self.set_text(set, &k);
                let dt = dt.unwrap_or(ElemType {
                    dt: Dt::Integer,
                    order: Order::Host,
                    bytes: 4,
                    interval: false,
                });
                plain(format!("{} map {m}", k.text), dt.dt, dt.order, dt.bytes * 8)
            }
        }
    }

    /// `@name` for a named set, or its inline `{ ... }` for an anonymous one; and the map's
    /// data type if it is a map.
    pub(crate) fn set_text(&self, name: &str, key: &Lhs) -> (String, Option<ElemType>) {
        match self.set(name) {
            Some(s) => {
                let data = set::data_type(s);
                if s.is_anonymous() {
                    (
                        set::inline_elements(s, &key.elem_types(), data.as_ref()),
                        data,
                    )
                } else {
                    (format!("@{name}"), data)
                }
            }
            None => (format!("@{name}"), None),
        }
    }

    /// Value as printed for `lhs`.
    pub(crate) fn value(&self, l: &Lhs, v: &[u8]) -> String {
        if !l.parts.is_empty() {
            return set::print_key(v, &l.parts);
        }
        // an interface name compared on fewer bytes and without its NUL is a prefix match
        // (iptables `-i eth+`): nft prints `"eth*"`
        if l.dt == Dt::String && l.bits == 128 && v.len() < 16 && !v.contains(&0) {
            return format!("\"{}*\"", String::from_utf8_lossy(v));
        }
        print_value(l.dt, v, l.order)
    }

    /// A bound of a range (`>=` then `<=`, merged): symbols print by number, as in a range.
    pub(crate) fn bound(&self, l: &Lhs, v: &[u8]) -> String {
        if l.parts.is_empty() && l.dt != Dt::String {
            set::print_range_bound(l.dt, v, l.order)
        } else {
            self.value(l, v)
        }
    }

    /// A statement as nft prints it.
    pub(crate) fn stmt(&self, s: &Stmt) -> String {
        match &s.kind {
            StmtKind::Match(m) => self.matched(m),
            StmtKind::Lookup(l) => self.lookup(l),
            StmtKind::Verdict(v) => super::fold::verdict(v),
            StmtKind::Write { field, value } => {
                let l = self.lhs(field);
                let v = match value {
                    Expr::Imm(b) => print_value(l.dt, b, l.order),
                    x => self.lhs(x).text,
                };
                format!("{} set {v}", l.text)
            }
            StmtKind::Counter { packets, bytes } => {
                format!("counter packets {packets} bytes {bytes}")
            }
            StmtKind::Log(l) => super::stmt::log(l),
            StmtKind::Limit(l) => super::stmt::limit(l),
            StmtKind::Quota(q) => super::stmt::quota(q),
            StmtKind::Connlimit(c) => {
                let over = if c.flags.unwrap_or(0) & 1 != 0 {
                    "over "
                } else {
                    ""
                };
                format!("ct count {over}{}", c.count.unwrap_or(0))
            }
            StmtKind::Notrack => "notrack".into(),
            StmtKind::FlowAdd { flowtable } => format!("flow add @{flowtable}"),
            StmtKind::Last { used_ms } => match used_ms {
                Some(ms) => format!("last used {}", datatype::time_ms(*ms)),
                None => "last used never".to_string(),
            },
            StmtKind::Secmark { ctx } => format!("meta secmark set \"{ctx}\""),
            StmtKind::Reject(r) => reject(r),
            StmtKind::Queue { flags, to } => self.queue(*flags, to),
            StmtKind::Masquerade(p) => format!("masquerade{}", self.nat_ports(p)),
            StmtKind::Redirect(p) => format!("redirect{}", self.nat_ports(p)),
            StmtKind::Dup { addr, v6, dev } => {
                let mut s = "dup".to_string();
                if let Some(a) = addr {
                    s.push_str(&format!(" to {}", self.address(a, *v6)));
                }
                if let Some(d) = dev {
                    let pre = if addr.is_some() { " device " } else { " to " };
                    s.push_str(&format!(
                        "{pre}{}",
                        self.source(d, Dt::Ifindex, Order::Host)
                    ));
                }
                s
            }
            StmtKind::Fwd { addr, v6, dev } => {
                let dev = self.source(dev, Dt::Ifindex, Order::Host);
                match addr {
                    Some(a) => {
                        let fam = if *v6 { "ip6" } else { "ip" };
                        format!("fwd {fam} to {} device {dev}", self.address(a, *v6))
                    }
                    None => format!("fwd to {dev}"),
                }
            }
            StmtKind::Objref { ty, target } => {
                let head = match ty {
                    3 => "ct helper set ".to_string(),
                    7 => "ct timeout set ".to_string(),
                    9 => "ct expectation set ".to_string(),
                    8 => "meta secmark set ".to_string(),
                    _ => format!("{} name ", super::obj::type_name(*ty)),
                };
                match target {
                    ObjTarget::Name(n) => format!("{head}\"{n}\""),
                    ObjTarget::Map { key, set } => {
                        let l = self.lhs(key);
                        let (m, _) = self.set_text(set, &l);
                        format!("{head}{} map {m}", l.text)
                    }
                }
            }
            StmtKind::Nat(n) => self.nat(n),
            StmtKind::Text(t) => t.clone(),
        }
    }

    /// A value written from a register, printed as `dt` in `order` when it is a constant.
    fn source(&self, x: &Expr, dt: Dt, order: Order) -> String {
        match x {
            Expr::Imm(b) => print_value(dt, b, order),
            x => self.lhs(x).text,
        }
    }

    /// An IPv4 / IPv6 address written from a register.
    fn address(&self, x: &Expr, v6: bool) -> String {
        let dt = if v6 { Dt::Ipv6 } else { Dt::Ipv4 };
        self.source(x, dt, Order::Big)
    }

    fn nat(&self, n: &Nat) -> String {
        use crate::model::decode::{exact_prefix, prefix_len};
        let mut s = match n.kind {
            NatKind::Dnat => "dnat",
            NatKind::Snat | NatKind::Unknown(_) => "snat",
        }
        .to_string();
        let netmap = n.flags & consts::NAT_RANGE_NETMAP != 0;
        let has_proto = n.ports.is_some() || n.map_ports;
        if n.addr.is_some() || has_proto {
            if n.show_family {
                match n.family {
                    2 => s.push_str(" ip"),
                    10 => s.push_str(" ip6"),
                    _ => {}
                }
            }
            if netmap {
                s.push_str(" prefix");
            }
            s.push_str(" to");
        }
        if let Some((min, max)) = &n.addr {
            let v6 = n.family == 10;
            let a = self.address(min, v6);
            let b = max.as_ref().map(|m| self.address(m, v6));
            let bracket = v6 && has_proto && matches!(min, Expr::Imm(_));
            let mut addr = if bracket { format!("[{a}]") } else { a.clone() };
            if let (Some(b), Some(max)) = (b.filter(|b| *b != a), max) {
                if netmap {
                    // prefix: print as addr/len
                    addr = format!("{a}/{}", prefix_len(min, max));
                } else if let Some(plen) = exact_prefix(min, max).filter(|_| !has_proto) {
                    // a range that is one prefix prints as the prefix (nft's range to prefix)
                    addr = format!("{a}/{plen}");
                } else if bracket {
                    addr = format!("[{a}]-[{b}]");
                } else {
                    addr = format!("{a}-{b}");
                }
            }
            s.push(' ');
            s.push_str(&addr);
        }
        if let Some((min, max)) = &n.ports {
            if n.addr.is_none() {
                s.push(' ');
            }
            let a = self.source(min, Dt::Port, Order::Big);
            s.push_str(&format!(":{a}"));
            if let Some(max) = max {
                let b = self.source(max, Dt::Port, Order::Big);
                if b != a {
                    s.push_str(&format!("-{b}"));
                }
            }
        }
        s.push_str(&super::stmt::nat_flags(n.flags));
        s
    }

    fn queue(&self, f: u16, to: &QueueTo) -> String {
        let mut s = "queue".to_string();
        let mut delim = " flags ";
        if f & consts::QUEUE_FLAG_BYPASS != 0 {
            s.push_str(delim);
            s.push_str("bypass");
            delim = ",";
        }
        if f & consts::QUEUE_FLAG_CPU_FANOUT != 0 {
            s.push_str(delim);
            s.push_str("fanout");
        }
        match to {
            QueueTo::Expr(x) => {
                s.push_str(&format!(" to {}", self.source(x, Dt::Integer, Order::Host)));
            }
            QueueTo::Range { first, count } if *count > 1 => {
                s.push_str(&format!(
                    " to {}-{}",
                    first,
                    *first as u32 + *count as u32 - 1
                ));
            }
            QueueTo::Range { first, .. } => s.push_str(&format!(" to {first}")),
        }
        s
    }

    /// ` to :port[-port]` and the flags of masquerade / redirect.
    fn nat_ports(&self, p: &NatPorts) -> String {
        let mut s = String::new();
        if let Some(min) = &p.min {
            let a = self.source(min, Dt::Port, Order::Big);
            s.push_str(&format!(" to :{a}"));
            if let Some(max) = &p.max {
                let b = self.source(max, Dt::Port, Order::Big);
                if b != a {
                    s.push_str(&format!("-{b}"));
                }
            }
        }
        s.push_str(&super::stmt::nat_flags(p.flags));
        s
    }

    fn lookup(&self, l: &Lookup) -> String {
        let k = self.lhs(&l.key);
        if l.vmap {
            return format!("{} vmap {}", k.text, l.set_text);
        }
        let op = if l.inverted {
            "!= "
        } else if l.masked_flags {
            "== "
        } else {
            ""
        };
        format!("{} {op}{}", k.text, l.set_text)
    }

    /// A relational match (nft's `relational_expr_print` with its flag, prefix and range
    /// forms).
    fn matched(&self, m: &Match) -> String {
        let l = self.lhs(&m.left);
        let opstr = match m.op {
            Op::Unknown(_) => "==",
            op => consts::cmp_op(op.raw()).unwrap_or("=="),
        };
        let op = m.op.raw();
        let right = match &m.right {
            Value::Range { from, to } => {
                let neg = if m.op == Op::Ne { "!= " } else { "" };
                return format!(
                    "{} {neg}{}-{}",
                    l.text,
                    self.bound(&l, from),
                    self.bound(&l, to)
                );
            }
            Value::Prefix { bytes, len } => {
                // an exact compare of a bitmask type prints its `==` (must_print_eq_op)
                let op_txt = if opstr == "==" && !datatype::is_bitmask(l.dt) {
                    String::new()
                } else {
                    format!("{opstr} ")
                };
                return format!(
                    "{} {op_txt}{}/{len}",
                    l.text,
                    print_value(l.dt, bytes, Order::Big)
                );
            }
            Value::Bytes(b) => b,
        };
        // Flag tests on bitmask types keep their mask: `tcp flags syn`, `ct state new`.
        let flag_test = match &m.left {
            Expr::Mask { inner, .. } => datatype::is_bitmask(self.lhs(inner).dt),
            _ => false,
        };
        let text = match &m.left {
            Expr::Mask { inner, mask, xor }
                if flag_test
                    && xor.iter().all(|&b| b == 0)
                    && right.iter().all(|&b| b == 0)
                    && (op == 1 || op == 0) =>
            {
                // `ct state established,related` (flag test), or `ct state & x == 0`
                let il = self.lhs(inner);
                let m = datatype::to_u128(mask, il.order);
                // `x & m == 0` is nft's negated flag test `x ! m`
                let neg = if op == 1 { "" } else { "! " };
                format!(
                    "{} {neg}{}",
                    il.text,
                    datatype::print_bitmask(il.dt, m, ",")
                )
            }
            Expr::Mask { inner, mask, xor }
                if flag_test && xor.iter().all(|&b| b == 0) && (op == 1 || op == 0) =>
            {
                // `tcp flags syn / fin,syn,rst,ack`
                let il = self.lhs(inner);
                let m = datatype::to_u128(mask, il.order);
                let v = datatype::to_u128(right, il.order);
                let full = mask.iter().all(|&b| b == 0xff);
                if full || m.count_ones() == 1 {
                    // nft 1.0.6 keeps `x & flag == v` for a one-flag mask and drops a
                    // mask of every bit (`tcp flags == 0xff`)
                    let eq = if op == 1 { "!=" } else { "==" };
                    let val = datatype::print_flag_value(il.dt, right, il.order);
                    if full {
                        format!("{} {eq} {val}", il.text)
                    } else {
                        let mt = datatype::print_bitmask(il.dt, m, " | ");
                        format!("{} & {mt} {eq} {val}", il.text)
                    }
                } else {
                    let neg = if op == 1 { "!= " } else { "" };
                    format!(
                        "{} {neg}{} / {}",
                        il.text,
                        datatype::print_bitmask(il.dt, v, ","),
                        datatype::print_bitmask(il.dt, m, ",")
                    )
                }
            }
            Expr::Mask { inner, mask, xor }
                if xor.iter().all(|&b| b == 0)
                    && (op == 0 || op == 1)
                    && self.lhs(inner).dt == Dt::Mark
                    && mark_prefix(mask, self.lhs(inner).order).is_some() =>
            {
                // nft 1.0.6 prints a mark under a prefix mask as a prefix (mark_type
                // has DTYPE_F_PREFIX): `meta mark 0xffffff00/24`
                let il = self.lhs(inner);
                let plen = mark_prefix(mask, il.order).unwrap_or(0);
                let neg = if op == 1 { "!= " } else { "" };
                format!(
                    "{} {neg}{}/{plen}",
                    il.text,
                    print_value(il.dt, right, il.order)
                )
            }
            Expr::Mask { inner, mask, xor }
                if matches!(
                    **inner,
                    Expr::Ct {
                        key: crate::model::field::CtKey::Labels,
                        ..
                    }
                ) && xor.iter().all(|&b| b == 0)
                    && right.iter().all(|&b| b == 0)
                    && op == 1
                    && datatype::to_u128(mask, Order::Host).count_ones() == 1 =>
            {
                // `ct label N`: a test of one label bit
                let il = self.lhs(inner);
                let bit = datatype::to_u128(mask, Order::Host).trailing_zeros();
                format!("{} {bit}", il.text)
            }
            Expr::Mask { .. } | Expr::Shift { .. } => {
                format!("{} {} {}", l.text, opstr, self.value(&l, right))
            }
            _ if datatype::is_bitmask(l.dt) && l.parts.is_empty() => {
                let v = datatype::print_flag_value(l.dt, right, l.order);
                format!("{} {opstr} {v}", l.text)
            }
            Expr::Ct { .. } | Expr::Meta(_) | Expr::Load { .. }
                if op <= 1
                    && l.parts.is_empty()
                    && l.dt != Dt::String
                    && l.order == Order::Big
                    && !right.is_empty()
                    && (right.len() as u32) * 8 < l.bits =>
            {
                // a compare on fewer bytes than the value is a prefix match
                // (`ct original ip saddr 192.168.1.0/24`)
                let plen = right.len() as u32 * 8;
                let mut full = right.clone();
                full.resize(l.bits.div_ceil(8) as usize, 0);
                let neg = if op == 1 { "!= " } else { "" };
                format!(
                    "{} {neg}{}/{plen}",
                    l.text,
                    print_value(l.dt, &full, Order::Big)
                )
            }
            _ => {
                let op_txt = if opstr == "==" {
                    String::new()
                } else {
                    format!("{opstr} ")
                };
                format!("{} {op_txt}{}", l.text, self.value(&l, right))
            }
        };
        if text.is_empty() {
            l.text
        } else {
            text
        }
    }
}

/// The prefix length of a 32-bit mask of leading ones (not none, not all), else `None`.
fn mark_prefix(mask: &[u8], order: Order) -> Option<u32> {
    if mask.len() != 4 {
        return None;
    }
    let m = datatype::to_u128(mask, order) as u32;
    let n = m.leading_ones();
    (n > 0 && n < 32 && m.checked_shl(n).unwrap_or(0) == 0).then_some(n)
}

/// `left & mask ^ xor` as nft prints a binary operation in a relational or a set statement.
pub(crate) fn binop_text(l: &Lhs, mask: &[u8], xor: &[u8]) -> String {
    let m = datatype::to_u128(mask, l.order);
    let x = datatype::to_u128(xor, l.order);
    let bits = (mask.len() * 8) as u32;
    let all = if bits >= 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    };
    let pv = |v: &[u8]| {
        if datatype::is_bitmask(l.dt) {
            let n = datatype::to_u128(v, l.order);
            let s = datatype::print_bitmask(l.dt, n, " | ");
            if s.contains(' ') {
                format!("({s})")
            } else {
                s
            }
        } else {
            print_value(l.dt, v, l.order)
        }
    };
    if x == 0 {
        format!("{} & {}", l.text, pv(mask))
    } else if m == all {
        format!("{} ^ {}", l.text, pv(xor))
    } else if m & x == 0 && (m | x) == all {
        format!("{} | {}", l.text, pv(xor))
    } else {
        format!("{} & {} ^ {}", l.text, pv(mask), pv(xor))
    }
}

/// A reject statement as nft prints it.
fn reject(r: &Reject) -> String {
    let icmp = |code: u8| {
        format!(
            "reject with icmp {}",
            print_value(Dt::IcmpCode, &[code], Order::Big)
        )
    };
    let icmpv6 = |code: u8| {
        format!(
            "reject with icmpv6 {}",
            print_value(Dt::Icmpv6Code, &[code], Order::Big)
        )
    };
    match *r {
        Reject::Default | Reject::Unknown { default: true, .. } => "reject".to_string(),
        Reject::TcpReset => "reject with tcp reset".to_string(),
        Reject::Icmpx(code) => format!(
            "reject with icmpx {}",
            print_value(Dt::IcmpxCode, &[code], Order::Host)
        ),
        Reject::Icmp(code)
        | Reject::Unknown {
            code, v6: false, ..
        } => icmp(code),
        Reject::Icmpv6(code) | Reject::Unknown { code, v6: true, .. } => icmpv6(code),
    }
}
