//! Every nf_tables expression, typed.
//!
//! On the wire a rule's `NFTA_RULE_EXPRESSIONS` is a list of `NFTA_LIST_ELEM`, each holding
//! `NFTA_EXPR_NAME` (string) and `NFTA_EXPR_DATA` (nested, per-expression attributes).
//! [`parse_one`] maps the name through [`REGISTRY`] (the one name → parser table) to a typed
//! struct. An expression whose name is not in the table, or whose data does not decode, becomes
//! [`Expr::Unknown`] with its raw bytes and the reason: one odd expression never sinks a dump.
//!
//! Register numbers are kept as the kernel gives them (`NFT_REG_VERDICT` = 0,
//! `NFT_REG_1..4` = 1..4 (16-byte registers), `NFT_REG32_00..15` = 8..23).

pub mod consts;

use super::data::Data;
use super::object::{Bytes, FromAttr};
use crate::attr::{self, Attrs};
use crate::error::{Context, Error, Result};
use serde::Serialize;

pub const NFTA_EXPR_NAME: u16 = 1;
pub const NFTA_EXPR_DATA: u16 = 2;

attr_struct! {
    /// `immediate`: load a constant or a verdict into a register.
    pub struct Immediate("immediate") { 1 => dreg: u32, 2 => data: Data }
}
attr_struct! {
    /// `cmp`: compare a register with data (`enum nft_cmp_ops`).
    pub struct Cmp("cmp") { 1 => sreg: u32, 2 => op: u32, 3 => data: Data }
}
attr_struct! {
    /// `lookup`: look a register up in a set (or map, with `dreg`).
    pub struct Lookup("lookup") {
        1 => set: String, 2 => sreg: u32, 3 => dreg: u32, 4 => set_id: u32, 5 => flags: u32,
    }
}
attr_struct! {
    /// `bitwise`: mask-and-xor, shifts, and (newer kernels) and/or/xor of registers.
    pub struct Bitwise("bitwise") {
        1 => sreg: u32, 2 => dreg: u32, 3 => len: u32, 4 => mask: Data, 5 => xor: Data,
        6 => op: u32, 7 => data: Data, 8 => sreg2: u32,
    }
}
attr_struct! {
    /// `byteorder`: hton/ntoh of 2, 4 or 8 byte units.
    pub struct Byteorder("byteorder") {
        1 => sreg: u32, 2 => dreg: u32, 3 => op: u32, 4 => len: u32, 5 => size: u32,
    }
}
attr_struct! {
    /// `payload`: load (dreg) or store (sreg, with checksum fixups) packet bytes.
    pub struct Payload("payload") {
        1 => dreg: u32, 2 => base: u32, 3 => offset: u32, 4 => len: u32, 5 => sreg: u32,
        6 => csum_type: u32, 7 => csum_offset: u32, 8 => csum_flags: u32,
    }
}
attr_struct! {
    /// `inner`: match on a tunnelled (inner) header; `expr` is a payload/meta inside it.
    pub struct Inner("inner") {
        1 => num: u32, 2 => inner_type: u32, 3 => flags: u32, 4 => hdrsize: u32, 5 => expr: Box<Expr>,
    }
}
attr_struct! {
    /// `exthdr`: IPv6 extension headers, TCP / IP options, SCTP chunks, DCCP options.
    pub struct Exthdr("exthdr") {
        1 => dreg: u32, 2 => exthdr_type: u8, 3 => offset: u32, 4 => len: u32, 5 => flags: u32,
        6 => op: u32, 7 => sreg: u32,
    }
}
attr_struct! {
    /// `meta`: load (dreg) or set (sreg) packet metadata.
    pub struct Meta("meta") { 1 => dreg: u32, 2 => key: u32, 3 => sreg: u32 }
}
attr_struct! {
    /// `socket`: socket lookup (transparent, mark, wildcard, cgroupv2).
    pub struct Socket("socket") { 1 => key: u32, 2 => dreg: u32, 3 => level: u32 }
}
attr_struct! {
    /// `tunnel`: tunnel metadata.
    pub struct Tunnel("tunnel") { 1 => key: u32, 2 => dreg: u32, 3 => mode: u32 }
}
attr_struct! {
    /// `osf`: passive OS fingerprint.
    pub struct Osf("osf") { 1 => dreg: u32, 2 => ttl: u8, 3 => flags: u32 }
}
attr_struct! {
    /// `rt`: routing information.
    pub struct Rt("rt") { 1 => dreg: u32, 2 => key: u32 }
}
attr_struct! {
    /// `ct`: load (dreg) or set (sreg) conntrack state.
    pub struct Ct("ct") { 1 => dreg: u32, 2 => key: u32, 3 => direction: u8, 4 => sreg: u32 }
}
attr_struct! {
    /// `connlimit`.
    pub struct Connlimit("connlimit") { 1 => count: u32, 2 => flags: u32 }
}
attr_struct! {
    /// `counter`.
    pub struct Counter("counter") { 1 => bytes: u64, 2 => packets: u64 }
}
attr_struct! {
    /// `last`: when the rule last matched.
    pub struct Last("last") { 1 => set: u32, 2 => msecs: u64 }
}
attr_struct! {
    /// `log`.
    pub struct Log("log") {
        1 => group: u16, 2 => prefix: String, 3 => snaplen: u32, 4 => qthreshold: u16,
        5 => level: u32, 6 => flags: u32,
    }
}
attr_struct! {
    /// `limit` (`type` 0 = packets, 1 = bytes; flags 1 = inverted "over").
    pub struct Limit("limit") {
        1 => rate: u64, 2 => unit: u64, 3 => burst: u32, 4 => limit_type: u32, 5 => flags: u32,
    }
}
attr_struct! {
    /// `range`: a register within [from, to] (op eq / neq).
    pub struct Range("range") { 1 => sreg: u32, 2 => op: u32, 3 => from: Data, 4 => to: Data }
}
attr_struct! {
    /// `reject`.
    pub struct Reject("reject") { 1 => reject_type: u32, 2 => icmp_code: u8 }
}
attr_struct! {
    /// `nat` (snat / dnat).
    pub struct Nat("nat") {
        1 => nat_type: u32, 2 => family: u32, 3 => reg_addr_min: u32, 4 => reg_addr_max: u32,
        5 => reg_proto_min: u32, 6 => reg_proto_max: u32, 7 => flags: u32,
    }
}
attr_struct! {
    /// `tproxy`.
    pub struct Tproxy("tproxy") { 1 => family: u32, 2 => reg_addr: u32, 3 => reg_port: u32 }
}
attr_struct! {
    /// `notrack`.
    pub struct Notrack("notrack") {}
}
attr_struct! {
    /// `masq`.
    pub struct Masq("masq") { 1 => flags: u32, 2 => reg_proto_min: u32, 3 => reg_proto_max: u32 }
}
attr_struct! {
    /// `redir`.
    pub struct Redir("redir") { 1 => reg_proto_min: u32, 2 => reg_proto_max: u32, 3 => flags: u32 }
}
attr_struct! {
    /// `dup`.
    pub struct Dup("dup") { 1 => sreg_addr: u32, 2 => sreg_dev: u32 }
}
attr_struct! {
    /// `queue`.
    pub struct Queue("queue") { 1 => num: u16, 2 => total: u16, 3 => flags: u16, 4 => sreg_qnum: u32 }
}
attr_struct! {
    /// `dynset`: add/update a set element from the packet path.
    pub struct Dynset("dynset") {
        1 => set_name: String, 2 => set_id: u32, 3 => op: u32, 4 => sreg_key: u32,
        5 => sreg_data: u32, 6 => timeout: u64, 7 => expr: Box<Expr>, 9 => flags: u32,
        10 => expressions: Vec<Expr>,
    }
}
attr_struct! {
    /// `fwd`.
    pub struct Fwd("fwd") { 1 => sreg_dev: u32, 2 => sreg_addr: u32, 3 => nfproto: u32 }
}
attr_struct! {
    /// `match`: an x_tables match run through nft_compat; `info` is the xt struct.
    pub struct XtMatch("match") { 1 => name: String, 2 => rev: u32, 3 => info: Bytes }
}
attr_struct! {
    /// `target`: an x_tables target run through nft_compat; `info` is the xt struct.
    pub struct XtTarget("target") { 1 => name: String, 2 => rev: u32, 3 => info: Bytes }
}
attr_struct! {
    /// `objref`: reference a named stateful object, directly or through a map.
    pub struct Objref("objref") {
        1 => imm_type: u32, 2 => imm_name: String, 3 => set_sreg: u32, 4 => set_name: String,
        5 => set_id: u32,
    }
}
attr_struct! {
    /// `quota` (flags 1 = inverted "over").
    pub struct Quota("quota") { 1 => bytes: u64, 2 => flags: u32, 4 => consumed: u64 }
}
attr_struct! {
    /// `numgen`.
    pub struct Numgen("numgen") { 1 => dreg: u32, 2 => modulus: u32, 3 => numgen_type: u32, 4 => offset: u32 }
}
attr_struct! {
    /// `hash` (jhash of a register, or symhash).
    pub struct Hash("hash") {
        1 => sreg: u32, 2 => dreg: u32, 3 => len: u32, 4 => modulus: u32, 5 => seed: u32,
        6 => offset: u32, 7 => hash_type: u32, 8 => set_name: String, 9 => set_id: u32,
    }
}
attr_struct! {
    /// `fib`.
    pub struct Fib("fib") { 1 => dreg: u32, 2 => result: u32, 3 => flags: u32 }
}
attr_struct! {
    /// `synproxy`.
    pub struct Synproxy("synproxy") { 1 => mss: u16, 2 => wscale: u8, 3 => flags: u32 }
}
attr_struct! {
    /// `xfrm`: IPsec state.
    pub struct Xfrm("xfrm") { 1 => dreg: u32, 2 => key: u32, 3 => dir: u8, 4 => spnum: u32 }
}
attr_struct! {
    /// `flow_offload`: `flow add @ft`.
    pub struct FlowOffload("flow_offload") { 1 => table_name: String }
}
attr_struct! {
    /// `secmark` reference via objref is the usual path; kept for completeness of names.
    pub struct Secmark("secmark") { 1 => ctx: String }
}

/// Decoding from attribute bytes, for the expression registry (implemented by every
/// `attr_struct!`, and by `Box` of one: the largest expressions are boxed in [`Expr`] so that
/// the common ones stay small — 510k expressions of an 80k-rule ruleset at 256 bytes each was
/// most of a snapshot's memory).
pub trait ParseAttrs: Sized {
    fn parse_attrs(buf: &[u8]) -> Result<Self>;
}

impl<T: ParseAttrs> ParseAttrs for Box<T> {
    fn parse_attrs(buf: &[u8]) -> Result<Self> {
        T::parse_attrs(buf).map(Box::new)
    }
}

/// Boxed in [`Expr`] (large: three data attributes).
pub type BitwiseBox = Box<Bitwise>;
/// Boxed in [`Expr`] (large: two data attributes).
pub type RangeBox = Box<Range>;
/// Boxed in [`Expr`] (large: nested expressions).
pub type DynsetBox = Box<Dynset>;

/// An expression whose name this code does not know, or whose data did not decode.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnknownExpr {
    pub name: String,
    pub data: Bytes,
    /// Why it is unknown: `None` for an unknown name, the decode error otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

macro_rules! exprs {
    ($( $variant:ident($ty:ident) = $name:literal ),* $(,)?) => {
        /// One expression of a rule, set or dynset.
        #[derive(Debug, Clone, PartialEq, Serialize)]
        #[serde(tag = "expr", rename_all = "snake_case")]
        pub enum Expr {
            $( #[serde(rename = $name)] $variant($ty), )*
            Unknown(UnknownExpr),
        }

        impl Expr {
            /// The kernel's name for this expression (`NFTA_EXPR_NAME`).
            pub fn name(&self) -> &str {
                match self {
                    $( Expr::$variant(_) => $name, )*
                    Expr::Unknown(u) => &u.name,
                }
            }
            /// Encode as `NFTA_EXPR_NAME` + `NFTA_EXPR_DATA` (inside whatever nest the caller opened).
            pub fn emit(&self, buf: &mut Vec<u8>) {
                match self {
                    $( Expr::$variant(x) => {
                        $name.to_string().emit(NFTA_EXPR_NAME, buf);
                        attr::emit_nested(buf, NFTA_EXPR_DATA, |b| x.emit(b));
                    } )*
                    Expr::Unknown(u) => {
                        u.name.emit(NFTA_EXPR_NAME, buf);
                        attr::emit(buf, NFTA_EXPR_DATA | attr::NLA_F_NESTED, &u.data.0);
                    }
                }
            }
        }

        /// The one name → parser table.
        pub const REGISTRY: &[(&str, fn(&[u8]) -> Result<Expr>)] = &[
            $( ($name, |b| <$ty as ParseAttrs>::parse_attrs(b).map(Expr::$variant)), )*
        ];
    };
}

exprs! {
    Immediate(Immediate) = "immediate",
    Cmp(Cmp) = "cmp",
    Lookup(Lookup) = "lookup",
    Bitwise(BitwiseBox) = "bitwise",
    Byteorder(Byteorder) = "byteorder",
    Payload(Payload) = "payload",
    Inner(Inner) = "inner",
    Exthdr(Exthdr) = "exthdr",
    Meta(Meta) = "meta",
    Socket(Socket) = "socket",
    Tunnel(Tunnel) = "tunnel",
    Osf(Osf) = "osf",
    Rt(Rt) = "rt",
    Ct(Ct) = "ct",
    Connlimit(Connlimit) = "connlimit",
    Counter(Counter) = "counter",
    Last(Last) = "last",
    Log(Log) = "log",
    Limit(Limit) = "limit",
    Range(RangeBox) = "range",
    Reject(Reject) = "reject",
    Nat(Nat) = "nat",
    Tproxy(Tproxy) = "tproxy",
    Notrack(Notrack) = "notrack",
    Masq(Masq) = "masq",
    Redir(Redir) = "redir",
    Dup(Dup) = "dup",
    Queue(Queue) = "queue",
    Dynset(DynsetBox) = "dynset",
    Fwd(Fwd) = "fwd",
    Match(XtMatch) = "match",
    Target(XtTarget) = "target",
    Objref(Objref) = "objref",
    Quota(Quota) = "quota",
    Numgen(Numgen) = "numgen",
    Hash(Hash) = "hash",
    Fib(Fib) = "fib",
    Synproxy(Synproxy) = "synproxy",
    Xfrm(Xfrm) = "xfrm",
    FlowOffload(FlowOffload) = "flow_offload",
    Secmark(Secmark) = "secmark",
}

impl Expr {
    pub fn is_unknown(&self) -> bool {
        matches!(self, Expr::Unknown(_))
    }
}

/// Decode one expression from the attributes inside a list element (NAME + DATA).
/// Never fails: what cannot be decoded becomes [`Expr::Unknown`].
pub fn parse_one(buf: &[u8]) -> Expr {
    // The name stays borrowed (no allocation) unless the expression ends up `Unknown`.
    let mut name: &[u8] = &[];
    let mut data: &[u8] = &[];
    let mut framing_error = None;
    for a in Attrs::new(buf) {
        match a {
            Ok(a) if a.ty == NFTA_EXPR_NAME => name = a.c_str_bytes(),
            Ok(a) if a.ty == NFTA_EXPR_DATA => data = a.value,
            Ok(_) => {}
            Err(e) => framing_error = Some(e.to_string()),
        }
    }
    let owned = || String::from_utf8_lossy(name).into_owned();
    if let Some(err) = framing_error {
        return Expr::Unknown(UnknownExpr {
            name: owned(),
            data: Bytes(buf.to_vec()),
            error: Some(err),
        });
    }
    match REGISTRY.iter().find(|(n, _)| n.as_bytes() == name) {
        Some((_, parse)) => match parse(data) {
            Ok(e) => e,
            Err(err) => Expr::Unknown(UnknownExpr {
                name: owned(),
                data: Bytes(data.to_vec()),
                error: Some(err.to_string()),
            }),
        },
        None => Expr::Unknown(UnknownExpr {
            name: owned(),
            data: Bytes(data.to_vec()),
            error: None,
        }),
    }
}

/// Decode a list of expressions (`NFTA_LIST_ELEM`*). A malformed list frame is an error (we
/// cannot know where the next expression starts); a malformed expression inside is `Unknown`.
pub fn parse_list(buf: &[u8]) -> Result<Vec<Expr>> {
    // Exact capacity: an Expr is 256 bytes and growing 4 → 8 → 16 wastes a fifth of a
    // snapshot's memory (kube-proxy rules have 5-10 expressions).
    let mut out = Vec::with_capacity(Attrs::new(buf).count());
    for (i, a) in Attrs::new(buf).enumerate() {
        let a = a.with_ctx(|| format!("expr {i}"))?;
        if a.ty != super::object::NFTA_LIST_ELEM {
            return Err(
                Error::invalid(format!("expected NFTA_LIST_ELEM, got type {}", a.ty))
                    .context(format!("expr {i}")),
            );
        }
        out.push(parse_one(a.value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_name_and_bad_data_are_kept() {
        let mut buf = Vec::new();
        attr::emit(&mut buf, NFTA_EXPR_NAME, b"frobnicate\0");
        attr::emit(&mut buf, NFTA_EXPR_DATA, &[4, 0, 1, 0]);
        match parse_one(&buf) {
            Expr::Unknown(u) => {
                assert_eq!(u.name, "frobnicate");
                assert_eq!(u.data.0, vec![4, 0, 1, 0]);
                assert!(u.error.is_none());
            }
            e => panic!("{e:?}"),
        }
        // payload whose NFTA_PAYLOAD_LEN has 2 bytes instead of 4
        let mut buf = Vec::new();
        attr::emit(&mut buf, NFTA_EXPR_NAME, b"payload\0");
        let mut d = Vec::new();
        attr::emit(&mut d, 4, &[0, 4]);
        attr::emit(&mut buf, NFTA_EXPR_DATA, &d);
        match parse_one(&buf) {
            Expr::Unknown(u) => assert!(u.error.unwrap().contains("truncated")),
            e => panic!("{e:?}"),
        }
    }

    #[test]
    fn emit_parse_roundtrip() {
        let e = Expr::Payload(Payload {
            dreg: Some(1),
            base: Some(1),
            offset: Some(12),
            len: Some(4),
            ..Default::default()
        });
        let mut buf = Vec::new();
        e.emit(&mut buf);
        assert_eq!(parse_one(&buf), e);
    }
}
