//! Sets and maps: key/data types, elements (sorted, interval pairs merged back into ranges
//! and prefixes as nftables' `segtree.c` does), inline anonymous sets and named set
//! declarations (`rule.c` `set_print_declaration`).

use super::datatype::{self, print_value, to_u128, Dt, Order};
use super::fold::verdict;
use super::stmt;
use crate::model::Set;
use nfscope_wire::nft::udata;
use nfscope_wire::nft::{set_flags, Data, NFT_SET_ELEM_CATCHALL, NFT_SET_ELEM_INTERVAL_END};

/// The type of one key component (or of map data).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ElemType {
    pub dt: Dt,
    pub order: Order,
    /// Length in bytes of the value (without register padding).
    pub bytes: u32,
    /// Map data that holds a range (`: interval ...`).
    pub interval: bool,
}

/// `NFT_DATA_VERDICT` as a set data type.
const DATA_VERDICT: u32 = 0xffff_ff00;

fn default_bytes(dt: Dt) -> u32 {
    match dt {
        Dt::Ipv4 | Dt::Mark | Dt::Ifindex | Dt::CtState | Dt::CtStatus | Dt::Uid | Dt::Gid => 4,
        Dt::Ipv6 | Dt::String | Dt::CtLabel => 16,
        Dt::Port | Dt::EtherType | Dt::ArpOp | Dt::ArpHrd => 2,
        Dt::EtherAddr => 6,
        Dt::InetProto
        | Dt::NfProto
        | Dt::IcmpType
        | Dt::Icmpv6Type
        | Dt::PktType
        | Dt::Dscp
        | Dt::Ecn
        | Dt::TcpFlag
        | Dt::CtDir
        | Dt::Day
        | Dt::Boolean => 1,
        Dt::Time | Dt::Cgroupv2 => 8,
        _ => 4,
    }
}

fn order_from_udata(s: &Set, ty: u8, dt: Dt) -> Order {
    match s.attrs.userdata.as_ref().and_then(|u| u.u32(ty)) {
        Some(1) => Order::Host,
        Some(2) => Order::Big,
        _ => dt.default_order(),
    }
}

/// Number of components of the set's key (1 unless a concatenation).
pub fn key_parts(s: &Set) -> usize {
    datatype::split_concat_type(s.attrs.key_type.unwrap_or(0))
        .len()
        .max(1)
}

/// The key component types.
pub fn key_types(s: &Set) -> Vec<ElemType> {
    let ids = datatype::split_concat_type(s.attrs.key_type.unwrap_or(0));
    let concat_lens = s
        .attrs
        .desc
        .as_ref()
        .and_then(|d| d.concat.as_ref())
        .map(|c| c.0.clone());
    if ids.len() <= 1 {
        let dt = ids
            .first()
            .and_then(|&i| Dt::from_type_id(i))
            .unwrap_or(Dt::Integer);
        let order = order_from_udata(s, udata::SET_KEYBYTEORDER, dt);
        return vec![ElemType {
            dt,
            order,
            bytes: s.attrs.key_len.unwrap_or(4),
            interval: false,
        }];
    }
    // integer components have no size of their own: a non-interval set's description has
    // no component lengths, so they come from its `typeof` (`udp length . @ih,32,32`)
    let typeof_parts: Vec<String> = s
        .attrs
        .userdata
        .as_ref()
        .and_then(|u| u.get(udata::SET_KEY_TYPEOF))
        .and_then(super::typeof_text::parse)
        .map(|t| t.split(" . ").map(str::to_string).collect())
        .unwrap_or_default();
    ids.iter()
        .enumerate()
        .map(|(i, &id)| {
            let dt = Dt::from_type_id(id).unwrap_or(Dt::Integer);
            let bytes = concat_lens
                .as_ref()
                .and_then(|v| v.get(i).copied())
                .or_else(|| {
                    (dt == Dt::Integer)
                        .then(|| typeof_parts.get(i).and_then(|t| typeof_bytes(t)))
                        .flatten()
                })
                .unwrap_or_else(|| default_bytes(dt));
            ElemType {
                dt,
                order: dt.default_order(),
                bytes,
                interval: false,
            }
        })
        .collect()
}

/// Byte length of a `typeof` component that is a payload: a raw `@base,offset,len` or a
/// named `proto field`.
fn typeof_bytes(t: &str) -> Option<u32> {
    if let Some(raw) = t.strip_prefix('@') {
        let len: u32 = raw.rsplit(',').next()?.parse().ok()?;
        return Some(len.div_ceil(8));
    }
    let (p, f) = t.split_once(' ')?;
    let proto = super::proto::ALL.iter().find(|x| x.name == p)?;
    let field = proto.fields.iter().find(|x| x.name == f)?;
    Some(field.len.div_ceil(8))
}

/// The data type of a map (verdict maps: `Dt::Verdict`).
pub fn data_type(s: &Set) -> Option<ElemType> {
    if s.flags() & set_flags::MAP == 0 {
        return None;
    }
    let id = s.attrs.data_type.unwrap_or(0);
    if id == DATA_VERDICT {
        return Some(ElemType {
            dt: Dt::Verdict,
            order: Order::Host,
            bytes: 0,
            interval: false,
        });
    }
    let dt = Dt::from_type_id(id).unwrap_or(Dt::Integer);
    let order = order_from_udata(s, udata::SET_DATABYTEORDER, dt);
    Some(ElemType {
        dt,
        order,
        bytes: s.attrs.data_len.unwrap_or(4),
        interval: s
            .attrs
            .userdata
            .as_ref()
            .and_then(|u| u.u32(udata::SET_DATA_INTERVAL))
            .unwrap_or(0)
            != 0,
    })
}

/// Print a (possibly concatenated) key from its bytes: components padded to 4 bytes.
pub fn print_key(v: &[u8], parts: &[ElemType]) -> String {
    if parts.len() <= 1 {
        let p = parts.first().copied().unwrap_or(ElemType {
            dt: Dt::Integer,
            order: Order::Host,
            bytes: 4,
            interval: false,
        });
        let n = (p.bytes as usize).min(v.len());
        return print_value(p.dt, &v[..if n == 0 { v.len() } else { n }], p.order);
    }
    let mut out = Vec::new();
    let mut off = 0usize;
    for p in parts {
        let n = p.bytes as usize;
        let chunk = v.get(off..(off + n).min(v.len())).unwrap_or(&[]);
        out.push(print_value(p.dt, chunk, p.order));
        off += n.div_ceil(4) * 4;
    }
    out.join(" . ")
}

/// A one-part key of a flag type (`tcp_flag`, `ct_state`, ...).
fn bitmask_key(parts: &[ElemType]) -> bool {
    parts.len() == 1 && datatype::is_bitmask(parts[0].dt)
}

fn split(v: &[u8], parts: &[ElemType]) -> Vec<Vec<u8>> {
    if parts.len() <= 1 {
        return vec![v.to_vec()];
    }
    let mut out = Vec::new();
    let mut off = 0usize;
    for p in parts {
        let n = p.bytes as usize;
        out.push(v.get(off..(off + n).min(v.len())).unwrap_or(&[]).to_vec());
        off += n.div_ceil(4) * 4;
    }
    out
}

fn is_prefix_type(dt: Dt) -> bool {
    matches!(dt, Dt::Ipv4 | Dt::Ipv6)
}

/// `a`, `a-b`, or `a/len` for a range of one component.
/// A value inside a range: nft prints range bounds numerically (`range_expr_print` sets
/// NFT_CTX_OUTPUT_NUMERIC_ALL), so symbolic types (protocols, icmp types...) print as numbers.
pub fn print_range_bound(dt: Dt, v: &[u8], order: Order) -> String {
    // a range prints symbols by number, in their type's base format (`basefmt`)
    if let Some(h) = datatype::hex_basefmt(dt, v, order) {
        h
    } else if dt == Dt::Time && to_u128(v, order) % 1000 == 0 {
        // a time range bound in whole seconds (`ct expiration 60s-3600s`)
        format!("{}s", to_u128(v, order) / 1000)
    } else if datatype::has_symbols(dt) || dt == Dt::InetProto {
        datatype::to_u128(v, order).to_string()
    } else {
        print_value(dt, v, order)
    }
}

fn print_range(p: &ElemType, lo: &[u8], hi: &[u8]) -> String {
    if lo == hi {
        return print_value(p.dt, lo, p.order);
    }
    // an interface name wildcard: `"eth*"` is the range `eth\0…` - `eth\xff…`
    if p.dt == Dt::String && lo.len() == hi.len() {
        let n = lo.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        if n > 0 && hi[..n] == lo[..n] && hi[n..].iter().all(|&b| b == 0xff) {
            return format!("\"{}*\"", String::from_utf8_lossy(&lo[..n]));
        }
    }
    if is_prefix_type(p.dt) && p.order == Order::Big && lo.len() == hi.len() && lo.len() <= 16 {
        let bits = lo.len() as u32 * 8;
        let a = to_u128(lo, Order::Big);
        let b = to_u128(hi, Order::Big);
        let host = a ^ b;
        if a & b == a
            && host.count_ones() == host.trailing_ones()
            && host.checked_add(1).is_some_and(|h| h.is_power_of_two())
        {
            let plen = bits - host.trailing_ones();
            return format!("{}/{}", print_value(p.dt, lo, p.order), plen);
        }
    }
    format!(
        "{}-{}",
        print_range_bound(p.dt, lo, p.order),
        print_range_bound(p.dt, hi, p.order)
    )
}

fn minus_one(v: &[u8], order: Order) -> Vec<u8> {
    let mut out = v.to_vec();
    match order {
        Order::Big => {
            for b in out.iter_mut().rev() {
                let (n, borrow) = b.overflowing_sub(1);
                *b = n;
                if !borrow {
                    break;
                }
            }
        }
        Order::Host => {
            for b in out.iter_mut() {
                let (n, borrow) = b.overflowing_sub(1);
                *b = n;
                if !borrow {
                    break;
                }
            }
        }
    }
    out
}

/// One element as printed: key, its statements / timeout / expires / comment, then ` : data`
/// (nft prints a mapping as `set-element : value`).
struct Printed {
    sort: Vec<u128>,
    text: String,
}

fn extras(e: &nfscope_wire::nft::SetElem, stateless: bool) -> String {
    let mut s = String::new();
    let mut exprs = Vec::new();
    if let Some(x) = &e.expr {
        exprs.push(x.as_ref());
    }
    if let Some(v) = &e.expressions {
        exprs.extend(v.iter());
    }
    for x in exprs {
        s.push(' ');
        s.push_str(&if stateless {
            stmt::stateless(x)
        } else {
            stmt::stateful(x)
        });
    }
    if let Some(t) = e.timeout {
        s.push_str(&format!(" timeout {}", datatype::time_ms(t)));
    }
    if let Some(x) = e.expiration {
        s.push_str(&format!(" expires {}", datatype::time_ms(x)));
    }
    if let Some(c) = e
        .userdata
        .as_ref()
        .and_then(|u| u.string(udata::SET_ELEM_COMMENT))
    {
        s.push_str(&format!(" comment \"{c}\""));
    }
    s
}

/// The components of a map's data when it is a concatenation (`ipv4_addr . inet_service`
/// for `dnat to ... map { ... : 10.0.0.1 . 80 }`), empty otherwise.
pub fn data_parts(s: &Set) -> Vec<ElemType> {
    let ids = datatype::split_concat_type(s.attrs.data_type.unwrap_or(0));
    if ids.len() <= 1 || s.attrs.data_type == Some(DATA_VERDICT) {
        return vec![];
    }
    ids.iter()
        .map(|&id| {
            let dt = Dt::from_type_id(id).unwrap_or(Dt::Integer);
            ElemType {
                dt,
                order: dt.default_order(),
                bytes: default_bytes(dt),
                interval: false,
            }
        })
        .collect()
}

fn data_text(
    d: &Option<Data>,
    dt: Option<&ElemType>,
    objref: &Option<String>,
    dparts: &[ElemType],
) -> String {
    if let Some(o) = objref {
        return format!(" : \"{o}\"");
    }
    // interval data (`: interval ...` maps): the low values, then the high values
    if let (Some(Data::Value(v)), Some(t), true) = (d, dt, dt.is_some_and(|t| t.interval)) {
        let (lo, hi) = v.split_at(v.len() / 2);
        if dparts.is_empty() {
            return format!(" : {}", print_range(t, lo, hi));
        }
        let (a, b) = (split(lo, dparts), split(hi, dparts));
        let txt: Vec<String> = dparts
            .iter()
            .enumerate()
            .map(|(i, p)| print_range(p, &a[i], b.get(i).unwrap_or(&a[i])))
            .collect();
        return format!(" : {}", txt.join(" . "));
    }
    if let (Some(Data::Value(v)), false) = (d, dparts.is_empty()) {
        return format!(" : {}", print_key(v, dparts));
    }
    match (d, dt) {
        (Some(Data::Verdict(v)), _) => format!(" : {}", verdict(v)),
        (Some(Data::Value(v)), Some(t)) => format!(" : {}", print_value(t.dt, v, t.order)),
        (Some(Data::Value(v)), None) => format!(" : {}", print_value(Dt::Integer, v, Order::Host)),
        _ => String::new(),
    }
}

/// The elements of a set as nft lists them.
pub fn elements(s: &Set, parts: &[ElemType], data: Option<&ElemType>) -> Vec<String> {
    let fallback = [ElemType {
        dt: Dt::Integer,
        order: Order::Big,
        bytes: 4,
        interval: false,
    }];
    let parts = if parts.is_empty() {
        &fallback[..]
    } else {
        parts
    };
    let dparts = data_parts(s);
    let interval = s.flags() & set_flags::INTERVAL != 0;
    // nft stores the keys of an interval set big-endian, host-endian types included
    let be_parts: Vec<ElemType>;
    let parts = if interval && parts.iter().any(|p| p.order == Order::Host) {
        be_parts = parts
            .iter()
            .map(|p| ElemType {
                order: Order::Big,
                ..*p
            })
            .collect();
        &be_parts[..]
    } else {
        parts
    };
    let mut out: Vec<Printed> = Vec::new();
    let mut catchall = Vec::new();
    let key_of = |e: &nfscope_wire::nft::SetElem| {
        e.key
            .as_ref()
            .and_then(|k| k.value())
            .map(|v| v.to_vec())
            .unwrap_or_default()
    };
    let sort_of = |v: &[u8]| -> Vec<u128> {
        split(v, parts)
            .iter()
            .zip(
                parts
                    .iter()
                    .chain(std::iter::repeat(&parts[parts.len() - 1])),
            )
            .map(|(c, p)| to_u128(c, p.order))
            .collect()
    };
    if interval && parts.len() <= 1 {
        let p = parts.first().copied().unwrap_or(ElemType {
            dt: Dt::Integer,
            order: Order::Big,
            bytes: 4,
            interval: false,
        });
        let mut elems: Vec<&nfscope_wire::nft::SetElem> = s.elements.iter().collect();
        elems.retain(|e| {
            if e.flags.unwrap_or(0) & NFT_SET_ELEM_CATCHALL != 0 {
                catchall.push(format!(
                    "*{}{}",
                    extras(e, false),
                    data_text(&e.data, data, &e.objref, &dparts)
                ));
                false
            } else {
                true
            }
        });
        // at equal keys the end of one range sorts before the start of the next (adjacent
        // ranges: 10.0.1.0/24 ends where 10.0.2.0/24 starts)
        elems.sort_by_key(|e| {
            let start = e.flags.unwrap_or(0) & NFT_SET_ELEM_INTERVAL_END == 0;
            (sort_of(&key_of(e)), start)
        });
        let mut i = 0;
        while i < elems.len() {
            let e = elems[i];
            if e.flags.unwrap_or(0) & NFT_SET_ELEM_INTERVAL_END != 0 {
                i += 1;
                continue;
            }
            let lo = key_of(e);
            // an interval runs up to the next element, whether that is its end marker or the
            // start of an adjacent interval (nft omits the end then); the last one runs to the top
            let hi = match elems.get(i + 1) {
                Some(n) => {
                    if n.flags.unwrap_or(0) & NFT_SET_ELEM_INTERVAL_END != 0 {
                        i += 1;
                    }
                    minus_one(&key_of(n), p.order)
                }
                None => vec![0xff; lo.len()],
            };
            let text = format!(
                "{}{}{}",
                print_range(&p, &lo, &hi),
                extras(e, false),
                data_text(&e.data, data, &e.objref, &dparts)
            );
            out.push(Printed {
                sort: sort_of(&lo),
                text,
            });
            i += 1;
        }
    } else {
        for e in &s.elements {
            if e.flags.unwrap_or(0) & NFT_SET_ELEM_CATCHALL != 0 {
                catchall.push(format!(
                    "*{}{}",
                    extras(e, false),
                    data_text(&e.data, data, &e.objref, &dparts)
                ));
                continue;
            }
            if e.flags.unwrap_or(0) & NFT_SET_ELEM_INTERVAL_END != 0 && e.key_end.is_none() {
                continue;
            }
            let k = key_of(e);
            let key = match e.key_end.as_ref().and_then(|d| d.value()) {
                Some(end) => {
                    let a = split(&k, parts);
                    let b = split(end, parts);
                    parts
                        .iter()
                        .enumerate()
                        .map(|(i, p)| print_range(p, &a[i], b.get(i).unwrap_or(&a[i])))
                        .collect::<Vec<_>>()
                        .join(" . ")
                }
                // flag types: `syn | ack` (nft prints the value as the OR of its flags)
                None if bitmask_key(parts) => {
                    datatype::print_bitmask(parts[0].dt, to_u128(&k, parts[0].order), " | ")
                }
                None => print_key(&k, parts),
            };
            let text = format!(
                "{key}{}{}",
                extras(e, false),
                data_text(&e.data, data, &e.objref, &dparts)
            );
            let sort = if bitmask_key(parts) {
                // nft sorts an OR of flags by its first operand, the lowest flag; equal ones
                // stay in the kernel's order (a stable merge sort)
                let v = to_u128(&k, parts[0].order);
                vec![v & v.wrapping_neg()]
            } else if parts.len() > 1 {
                // nft compares concatenated keys as one host-endian number
                k.iter().rev().map(|&b| b as u128).collect()
            } else {
                sort_of(&k)
            };
            out.push(Printed { sort, text });
        }
        if !interval {
            if bitmask_key(parts) {
                // nft reads the elements into its list front first: equal sort keys end up
                // in the reverse of the kernel's order
                out.reverse();
            }
            out.sort_by(|a, b| a.sort.cmp(&b.sort));
        }
    }
    let mut v: Vec<String> = out.into_iter().map(|p| p.text).collect();
    v.extend(catchall);
    v
}

/// `{ a, b }` for an anonymous set used in a rule.
pub fn inline_elements(s: &Set, parts: &[ElemType], data: Option<&ElemType>) -> String {
    // the rule's left side types win (raw payloads print hex, field lengths are exact)
    let parts = if parts.len() == key_parts(s) {
        parts.to_vec()
    } else {
        key_types(s)
    };
    let el = elements(s, &parts, data);
    format!("{{ {} }}", el.join(", "))
}

/// Whether named-set elements of this type are printed 5 a line (integers) or one a line.
fn few_per_line(dt: Dt) -> bool {
    matches!(
        dt,
        Dt::NfProto
            | Dt::Integer
            | Dt::ArpOp
            | Dt::InetProto
            | Dt::Port
            | Dt::TcpFlag
            | Dt::DccpType
            | Dt::Mark
            | Dt::Ifindex
            | Dt::Classid
            | Dt::Uid
            | Dt::Gid
            | Dt::CtDir
    )
}

/// How many elements of a named set nft prints on one line (`calculate_delim`).
fn per_line(parts: &[ElemType]) -> usize {
    if parts.len() != 1 {
        return 1;
    }
    if few_per_line(parts[0].dt) {
        5
    } else if matches!(
        parts[0].dt,
        Dt::Ipv4 | Dt::CtState | Dt::CtStatus | Dt::PktType
    ) {
        2
    } else {
        1
    }
}

/// `elements = { ... }` with nft's line breaking for named sets.
pub fn elements_block(items: &[String], parts: &[ElemType]) -> String {
    let n = per_line(parts);
    let newline = ",\n\t\t\t     ";
    let mut s = String::from("{ ");
    let mut count = 0;
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            if n > 1 {
                if count < n {
                    s.push_str(", ");
                } else {
                    count = 0;
                    s.push_str(newline);
                }
            } else {
                s.push_str(newline);
            }
        }
        s.push_str(it);
        count += 1;
    }
    s.push_str(" }");
    s
}

fn type_name(t: &ElemType) -> String {
    t.dt.set_type_name().unwrap_or("integer").to_string()
}

/// A named set or map declaration with its elements, as `nft list ruleset` prints it
/// (indented one tab, ending with a newline).
pub fn declaration(s: &Set, typeof_key: Option<String>, typeof_data: Option<String>) -> String {
    let flags = s.flags();
    let kind = if flags & (set_flags::MAP | set_flags::OBJECT) != 0 {
        "map"
    } else {
        "set"
    };
    let mut o = format!("\t{kind} {} {{\n", s.name());
    let mut parts = key_types(s);
    // `typeof` raw payloads (`@th,0,16`) print their values in hex
    if let Some(k) = &typeof_key {
        for (p, t) in parts.iter_mut().zip(k.split(" . ")) {
            if t.starts_with('@') {
                p.dt = Dt::Hex;
            }
        }
    }
    let data = data_type(s);
    let key_txt = match &typeof_key {
        Some(k) => format!("typeof {k}"),
        None => format!(
            "type {}",
            parts.iter().map(type_name).collect::<Vec<_>>().join(" . ")
        ),
    };
    o.push_str(&format!("\t\t{key_txt}"));
    if let Some(d) = &data {
        o.push_str(" : ");
        if s.attrs
            .userdata
            .as_ref()
            .and_then(|u| u.u32(udata::SET_DATA_INTERVAL))
            .unwrap_or(0)
            != 0
        {
            o.push_str("interval ");
        }
        let dparts = data_parts(s);
        match (&typeof_key, &typeof_data) {
            (Some(_), Some(td)) => o.push_str(td),
            _ if !dparts.is_empty() => {
                o.push_str(&dparts.iter().map(type_name).collect::<Vec<_>>().join(" . "))
            }
            _ => o.push_str(&type_name(d)),
        }
    } else if flags & set_flags::OBJECT != 0 {
        o.push_str(&format!(
            " : {}",
            super::obj::type_name(s.attrs.obj_type.unwrap_or(0))
        ));
    }
    o.push('\n');
    if flags & set_flags::CONSTANT == 0 {
        if let Some(p) = s.attrs.policy.filter(|&p| p != 0) {
            o.push_str(&format!(
                "\t\tpolicy {}\n",
                if p == 1 { "memory" } else { "unknown" }
            ));
        }
        if let Some(sz) = s
            .attrs
            .desc
            .as_ref()
            .and_then(|d| d.size)
            .filter(|&z| z > 0)
        {
            o.push_str(&format!("\t\tsize {sz}\n"));
        }
    }
    let mut f = flags;
    if s.attrs.timeout.unwrap_or(0) != 0 {
        f &= !set_flags::TIMEOUT;
    }
    if f & (set_flags::CONSTANT | set_flags::INTERVAL | set_flags::TIMEOUT | set_flags::EVAL) != 0 {
        let mut names = Vec::new();
        if flags & set_flags::CONSTANT != 0 {
            names.push("constant");
        }
        if flags & set_flags::EVAL != 0 {
            names.push("dynamic");
        }
        if flags & set_flags::INTERVAL != 0 {
            names.push("interval");
        }
        if flags & set_flags::TIMEOUT != 0 {
            names.push("timeout");
        }
        o.push_str(&format!("\t\tflags {}\n", names.join(",")));
    }
    let mut exprs = Vec::new();
    if let Some(e) = &s.attrs.expr {
        exprs.push(e.as_ref());
    }
    if let Some(v) = &s.attrs.expressions {
        exprs.extend(v.iter());
    }
    if !exprs.is_empty() {
        let t: Vec<String> = exprs.iter().map(|e| stmt::stateless(e)).collect();
        o.push_str(&format!("\t\t{}\n", t.join(" ")));
    }
    if s.attrs
        .userdata
        .as_ref()
        .and_then(|u| u.get(udata::SET_MERGE_ELEMENTS))
        .is_some()
    {
        o.push_str("\t\tauto-merge\n");
    }
    if let Some(t) = s.attrs.timeout.filter(|&t| t != 0) {
        o.push_str(&format!("\t\ttimeout {}\n", datatype::time_ms(t)));
    }
    if let Some(g) = s.attrs.gc_interval.filter(|&g| g != 0) {
        o.push_str(&format!(
            "\t\tgc-interval {}\n",
            datatype::time_ms(g as u64)
        ));
    }
    if let Some(c) = s
        .attrs
        .userdata
        .as_ref()
        .and_then(|u| u.string(udata::SET_COMMENT))
    {
        o.push_str(&format!("\t\tcomment \"{c}\"\n"));
    }
    let items = elements(s, &parts, data.as_ref());
    if !items.is_empty() {
        o.push_str(&format!(
            "\t\telements = {}\n",
            elements_block(&items, &parts)
        ));
    }
    o.push_str("\t}\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use nfscope_wire::nft::{self, SetElem};

    fn elem(key: &[u8], flags: u32) -> SetElem {
        SetElem {
            key: Some(Data::Value(key.to_vec())),
            flags: (flags != 0).then_some(flags),
            ..Default::default()
        }
    }

    /// `nft add set ip t s { type inet_service; flags interval; elements = { 0-1023, 8080 } }`:
    /// the kernel (rbtree) dumps interval ends (flag 1) holding the first value after each
    /// range, in descending order.
    #[test]
    fn interval_ports_merge_back() {
        let s = Set {
            attrs: nft::Set {
                name: Some("s".into()),
                flags: Some(set_flags::INTERVAL),
                key_type: Some(13),
                key_len: Some(2),
                ..Default::default()
            },
            elements: vec![
                elem(&[0x1f, 0x91], NFT_SET_ELEM_INTERVAL_END), // 8081
                elem(&[0x1f, 0x90], 0),                         // 8080
                elem(&[0x04, 0x00], NFT_SET_ELEM_INTERVAL_END), // 1024
                elem(&[0x00, 0x00], 0),                         // 0
            ],
        };
        let parts = key_types(&s);
        assert_eq!(elements(&s, &parts, None), vec!["0-1023", "8080"]);
        let d = declaration(&s, None, None);
        assert_eq!(
            d,
            "\tset s {\n\t\ttype inet_service\n\t\tflags interval\n\t\telements = { 0-1023, 8080 }\n\t}\n"
        );
    }

    /// `10.0.0.0/8` in an interval set: start 10.0.0.0, end 11.0.0.0; a range up to the top of
    /// the address space has no end element.
    #[test]
    fn interval_prefixes_and_open_end() {
        let s = Set {
            attrs: nft::Set {
                name: Some("n".into()),
                flags: Some(set_flags::INTERVAL),
                key_type: Some(7),
                key_len: Some(4),
                ..Default::default()
            },
            elements: vec![
                elem(&[11, 0, 0, 0], NFT_SET_ELEM_INTERVAL_END),
                elem(&[10, 0, 0, 0], 0),
                elem(&[224, 0, 0, 0], 0),
            ],
        };
        let parts = key_types(&s);
        assert_eq!(
            elements(&s, &parts, None),
            vec!["10.0.0.0/8", "224.0.0.0/3"]
        );
    }
}
