//! nf_tables objects: table, chain, rule, set, set elements, stateful object, flowtable,
//! generation. Attribute numbers are those of nf_tables.h (`enum nft_*_attributes`).

use super::data::Data;
use super::expr::{self, Expr};
use super::udata::Udata;
use crate::attr::{self, Attr, Attrs};
use crate::error::{Context, Result};
use serde::Serialize;

/// Decoding (and encoding) of one attribute value into a field type.
pub trait FromAttr: Sized {
    fn from_attr(a: &Attr<'_>) -> Result<Self>;
    fn emit(&self, ty: u16, buf: &mut Vec<u8>);
}

impl FromAttr for u8 {
    fn from_attr(a: &Attr<'_>) -> Result<Self> {
        a.u8()
    }
    fn emit(&self, ty: u16, buf: &mut Vec<u8>) {
        attr::emit(buf, ty, &[*self]);
    }
}
impl FromAttr for u16 {
    fn from_attr(a: &Attr<'_>) -> Result<Self> {
        a.be16()
    }
    fn emit(&self, ty: u16, buf: &mut Vec<u8>) {
        attr::emit(buf, ty, &self.to_be_bytes());
    }
}
impl FromAttr for u32 {
    fn from_attr(a: &Attr<'_>) -> Result<Self> {
        a.be32()
    }
    fn emit(&self, ty: u16, buf: &mut Vec<u8>) {
        attr::emit(buf, ty, &self.to_be_bytes());
    }
}
impl FromAttr for i32 {
    fn from_attr(a: &Attr<'_>) -> Result<Self> {
        Ok(a.be32()? as i32)
    }
    fn emit(&self, ty: u16, buf: &mut Vec<u8>) {
        attr::emit(buf, ty, &self.to_be_bytes());
    }
}
impl FromAttr for u64 {
    fn from_attr(a: &Attr<'_>) -> Result<Self> {
        a.be64()
    }
    fn emit(&self, ty: u16, buf: &mut Vec<u8>) {
        attr::emit(buf, ty, &self.to_be_bytes());
    }
}
impl FromAttr for String {
    fn from_attr(a: &Attr<'_>) -> Result<Self> {
        a.string()
    }
    fn emit(&self, ty: u16, buf: &mut Vec<u8>) {
        let mut v = self.as_bytes().to_vec();
        v.push(0);
        attr::emit(buf, ty, &v);
    }
}

/// Raw bytes, serialized as hex.
#[derive(Debug, Clone, PartialEq, Eq, Default, Hash, Serialize)]
#[serde(transparent)]
pub struct Bytes(#[serde(serialize_with = "attr::hex")] pub Vec<u8>);

impl FromAttr for Bytes {
    fn from_attr(a: &Attr<'_>) -> Result<Self> {
        Ok(Bytes(a.value.to_vec()))
    }
    fn emit(&self, ty: u16, buf: &mut Vec<u8>) {
        attr::emit(buf, ty, &self.0);
    }
}
impl FromAttr for Data {
    fn from_attr(a: &Attr<'_>) -> Result<Self> {
        Data::parse(a)
    }
    fn emit(&self, ty: u16, buf: &mut Vec<u8>) {
        Data::emit(self, ty, buf)
    }
}
impl FromAttr for Udata {
    fn from_attr(a: &Attr<'_>) -> Result<Self> {
        Ok(Udata::parse(a.value))
    }
    fn emit(&self, ty: u16, buf: &mut Vec<u8>) {
        attr::emit(buf, ty, &self.to_bytes());
    }
}
/// A list of expressions (`NFTA_LIST_ELEM`s each holding `NFTA_EXPR_NAME` + `NFTA_EXPR_DATA`).
impl FromAttr for Vec<Expr> {
    fn from_attr(a: &Attr<'_>) -> Result<Self> {
        expr::parse_list(a.value)
    }
    fn emit(&self, ty: u16, buf: &mut Vec<u8>) {
        attr::emit_nested(buf, ty, |b| {
            for e in self {
                attr::emit_nested(b, NFTA_LIST_ELEM, |b| e.emit(b));
            }
        })
    }
}
/// One nested expression (`NFTA_EXPR_NAME` + `NFTA_EXPR_DATA` directly inside).
impl FromAttr for Box<Expr> {
    fn from_attr(a: &Attr<'_>) -> Result<Self> {
        Ok(Box::new(expr::parse_one(a.value)))
    }
    fn emit(&self, ty: u16, buf: &mut Vec<u8>) {
        attr::emit_nested(buf, ty, |b| self.as_ref().emit(b));
    }
}

pub const NFTA_LIST_ELEM: u16 = 1;

/// A list of device names (`NFTA_DEVICE_NAME` inside a nested attribute).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct Devices(pub Vec<String>);

impl FromAttr for Devices {
    fn from_attr(a: &Attr<'_>) -> Result<Self> {
        let mut v = Vec::new();
        for d in a.nested() {
            v.push(d?.string()?);
        }
        Ok(Devices(v))
    }
    fn emit(&self, ty: u16, buf: &mut Vec<u8>) {
        attr::emit_nested(buf, ty, |b| {
            for d in &self.0 {
                d.emit(1, b);
            }
        })
    }
}

macro_rules! nested_attr_struct {
    ($t:ty) => {
        impl FromAttr for $t {
            fn from_attr(a: &Attr<'_>) -> Result<Self> {
                <$t>::parse(a.value)
            }
            fn emit(&self, ty: u16, buf: &mut Vec<u8>) {
                attr::emit_nested(buf, ty, |b| <$t>::emit(self, b));
            }
        }
    };
}

attr_struct! {
    /// `NFT_MSG_NEWTABLE`: a table.
    pub struct Table("table") {
        1 => name: String,
        2 => flags: u32,
        3 => use_count: u32,
        4 => handle: u64,
        6 => userdata: Udata,
        7 => owner: u32,
    }
}

attr_struct! {
    /// `NFTA_CHAIN_HOOK`: where a base chain is attached.
    pub struct Hook("hook") {
        1 => hooknum: u32,
        2 => priority: i32,
        3 => dev: String,
        4 => devs: Devices,
    }
}
nested_attr_struct!(Hook);

attr_struct! {
    /// `NFTA_CHAIN_COUNTERS` / counters in general.
    pub struct Counters("counters") {
        1 => bytes: u64,
        2 => packets: u64,
    }
}
nested_attr_struct!(Counters);

attr_struct! {
    /// `NFT_MSG_NEWCHAIN`: a chain (base chain when `hook` is present).
    pub struct Chain("chain") {
        1 => table: String,
        2 => handle: u64,
        3 => name: String,
        4 => hook: Hook,
        5 => policy: u32,
        6 => use_count: u32,
        7 => chain_type: String,
        8 => counters: Counters,
        10 => flags: u32,
        11 => id: u32,
        12 => userdata: Udata,
    }
}

attr_struct! {
    /// `NFT_MSG_NEWRULE`: a rule and its expressions.
    pub struct Rule("rule") {
        1 => table: String,
        2 => chain: String,
        3 => handle: u64,
        4 => expressions: Vec<Expr>,
        5 => compat: Bytes,
        6 => position: u64,
        7 => userdata: Udata,
        9 => id: u32,
        10 => position_id: u32,
        11 => chain_id: u32,
    }
}

impl Rule {
    /// [`Rule::parse`] for a rule read from a per-chain dump: its table and chain names, which
    /// the reader knows, are not decoded (`table` and `chain` stay `None`). Fails exactly where
    /// `parse` fails (names never fail to decode).
    pub fn parse_in_chain(buf: &[u8]) -> Result<Rule> {
        Rule::parse_skipping(buf, &[1, 2])
    }
    /// Check a rule's attributes the way [`Rule::parse`] would fail on them, without building
    /// the rule, and return its handle: attribute framing, the scalar attributes' sizes, names
    /// as strings, and the expression list's framing (an expression that does not decode
    /// becomes `Unknown` in `parse`, never an error). Whatever passes here, `parse` decodes.
    pub fn check(buf: &[u8]) -> Result<Option<u64>> {
        use crate::error::Context as _;
        let mut handle = None;
        for a in crate::attr::Attrs::new(buf) {
            let a = a.ctx("rule")?;
            // Names (1, 2) decode lossily and userdata (7) and compat (5) as bytes: never errors.
            match a.ty {
                3 => handle = Some(a.be64().ctx("rule / handle")?),
                6 => {
                    a.be64().ctx("rule / position")?;
                }
                9..=11 => {
                    a.be32().ctx("rule / id")?;
                }
                4 => {
                    for (i, e) in crate::attr::Attrs::new(a.value).enumerate() {
                        let e = e.with_ctx(|| format!("rule / expressions / expr {i}"))?;
                        if e.ty != NFTA_LIST_ELEM {
                            return Err(crate::Error::invalid(format!(
                                "expected NFTA_LIST_ELEM, got type {}",
                                e.ty
                            ))
                            .context(format!("rule / expressions / expr {i}")));
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(handle)
    }

    /// Whether the rule's attributes hold an xt `set` match or `SET` target (which name ipsets by
    /// index only), found by walking frames, not decoding. Malformed frames answer `false`.
    pub fn names_ipsets(buf: &[u8]) -> bool {
        Rule::xt_use(buf).ipsets
    }

    /// What the rule's attributes hold of xt matches and targets, found by walking frames, not
    /// decoding (one walk). Malformed frames count as none.
    pub fn xt_use(buf: &[u8]) -> XtUse {
        use crate::attr::Attrs;
        let mut out = XtUse::default();
        let Some(list) = Attrs::new(buf).flatten().find(|a| a.ty == 4) else {
            return out;
        };
        for elem in list.nested().flatten() {
            let mut kind = None;
            let mut data = None;
            for a in elem.nested().flatten() {
                match a.ty {
                    1 => kind = Some(a.value),
                    2 => data = Some(a),
                    _ => {}
                }
            }
            let want: &[u8] = match kind {
                Some(b"match\0") => b"set",
                Some(b"target\0") => b"SET",
                _ => continue,
            };
            out.xt = true;
            out.ipsets |= data.is_some_and(|d| {
                d.nested()
                    .flatten()
                    .any(|x| x.ty == 1 && x.value.split(|b| *b == 0).next() == Some(want))
            });
        }
        out
    }

    /// The comment nft / iptables-nft stores in the rule's userdata.
    pub fn comment(&self) -> Option<String> {
        self.userdata
            .as_ref()
            .and_then(|u| u.string(super::udata::RULE_COMMENT))
    }
}

/// What a rule holds of xt matches and targets ([`Rule::xt_use`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct XtUse {
    /// An xt match or target (only the xtables tools write them).
    pub xt: bool,
    /// An xt `set` match or `SET` target (which name ipsets by index only).
    pub ipsets: bool,
}

attr_struct! {
    /// `NFTA_SET_DESC`.
    pub struct SetDesc("set desc") {
        1 => size: u32,
        2 => concat: ConcatFields,
    }
}
nested_attr_struct!(SetDesc);

/// `NFTA_SET_DESC_CONCAT`: the length of each field of a concatenated key.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct ConcatFields(pub Vec<u32>);

impl FromAttr for ConcatFields {
    fn from_attr(a: &Attr<'_>) -> Result<Self> {
        let mut v = Vec::new();
        for e in a.nested() {
            for f in e?.nested() {
                let f = f?;
                if f.ty == 1 {
                    v.push(f.be32()?);
                }
            }
        }
        Ok(ConcatFields(v))
    }
    fn emit(&self, ty: u16, buf: &mut Vec<u8>) {
        attr::emit_nested(buf, ty, |b| {
            for l in &self.0 {
                attr::emit_nested(b, NFTA_LIST_ELEM, |b| l.emit(1, b));
            }
        })
    }
}

attr_struct! {
    /// `NFT_MSG_NEWSET`: a set or map (elements come separately).
    pub struct Set("set") {
        1 => table: String,
        2 => name: String,
        3 => flags: u32,
        4 => key_type: u32,
        5 => key_len: u32,
        6 => data_type: u32,
        7 => data_len: u32,
        8 => policy: u32,
        9 => desc: SetDesc,
        10 => id: u32,
        11 => timeout: u64,
        12 => gc_interval: u32,
        13 => userdata: Udata,
        15 => obj_type: u32,
        16 => handle: u64,
        17 => expr: Box<Expr>,
        18 => expressions: Vec<Expr>,
        19 => set_type: String,
        20 => count: u32,
    }
}

/// Set flags (`enum nft_set_flags`).
pub mod set_flags {
    pub const ANONYMOUS: u32 = 0x1;
    pub const CONSTANT: u32 = 0x2;
    pub const INTERVAL: u32 = 0x4;
    pub const MAP: u32 = 0x8;
    pub const TIMEOUT: u32 = 0x10;
    pub const EVAL: u32 = 0x20;
    pub const OBJECT: u32 = 0x40;
    pub const CONCAT: u32 = 0x80;
    pub const EXPR: u32 = 0x100;
}

attr_struct! {
    /// One set element (inside `NFTA_SET_ELEM_LIST_ELEMENTS`).
    pub struct SetElem("set element") {
        1 => key: Data,
        2 => data: Data,
        3 => flags: u32,
        4 => timeout: u64,
        5 => expiration: u64,
        6 => userdata: Udata,
        7 => expr: Box<Expr>,
        9 => objref: String,
        10 => key_end: Data,
        11 => expressions: Vec<Expr>,
    }
}
nested_attr_struct!(SetElem);

/// Set element flags.
pub const NFT_SET_ELEM_INTERVAL_END: u32 = 0x1;
pub const NFT_SET_ELEM_CATCHALL: u32 = 0x2;

/// `NFTA_SET_ELEM_LIST_ELEMENTS`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(transparent)]
pub struct SetElems(pub Vec<SetElem>);

impl FromAttr for SetElems {
    fn from_attr(a: &Attr<'_>) -> Result<Self> {
        let mut v = Vec::new();
        for (i, e) in a.nested().enumerate() {
            let e = e.with_ctx(|| format!("element {i}"))?;
            v.push(SetElem::parse(e.value).with_ctx(|| format!("element {i}"))?);
        }
        Ok(SetElems(v))
    }
    fn emit(&self, ty: u16, buf: &mut Vec<u8>) {
        attr::emit_nested(buf, ty, |b| {
            for e in &self.0 {
                FromAttr::emit(e, NFTA_LIST_ELEM, b);
            }
        })
    }
}

attr_struct! {
    /// `NFT_MSG_NEWSETELEM`: a batch of elements of one set.
    pub struct SetElemList("set element list") {
        1 => table: String,
        2 => set: String,
        3 => elements: SetElems,
        4 => set_id: u32,
    }
}

attr_struct! {
    /// `NFT_MSG_NEWOBJ`: a stateful object. `data` is decoded by [`Obj::decode_data`].
    pub struct Obj("object") {
        1 => table: String,
        2 => name: String,
        3 => obj_type: u32,
        4 => data: Bytes,
        5 => use_count: u32,
        6 => handle: u64,
        8 => userdata: Udata,
    }
}

/// Object types (`NFT_OBJECT_*`).
pub mod obj_type {
    pub const COUNTER: u32 = 1;
    pub const QUOTA: u32 = 2;
    pub const CT_HELPER: u32 = 3;
    pub const LIMIT: u32 = 4;
    pub const CONNLIMIT: u32 = 5;
    pub const TUNNEL: u32 = 6;
    pub const CT_TIMEOUT: u32 = 7;
    pub const SECMARK: u32 = 8;
    pub const CT_EXPECT: u32 = 9;
    pub const SYNPROXY: u32 = 10;
}

attr_struct! {
    /// `ct helper` object data.
    pub struct CtHelperObj("ct helper") {
        1 => name: String,
        2 => l3proto: u16,
        3 => l4proto: u8,
    }
}
attr_struct! {
    /// `ct timeout` object data; `data` holds `{index, be32 seconds}` attributes per state.
    pub struct CtTimeoutObj("ct timeout") {
        1 => l3proto: u16,
        2 => l4proto: u8,
        3 => data: Bytes,
    }
}
attr_struct! {
    /// `ct expectation` object data.
    pub struct CtExpectObj("ct expectation") {
        1 => l3proto: u16,
        2 => l4proto: u8,
        3 => dport: u16,
        4 => timeout: u32,
        5 => size: u8,
    }
}
attr_struct! {
    /// `secmark` object data.
    pub struct SecmarkObj("secmark") {
        1 => ctx: String,
    }
}
attr_struct! {
    /// `tunnel` object data (IP/IP6/OPTS kept as nested bytes).
    pub struct TunnelObj("tunnel") {
        1 => id: u32,
        2 => ip: Bytes,
        3 => ip6: Bytes,
        4 => flags: u32,
        5 => tos: u8,
        6 => ttl: u8,
        7 => sport: u16,
        8 => dport: u16,
        9 => opts: Bytes,
    }
}

/// Decoded object data.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ObjData {
    Counter(expr::Counter),
    Quota(expr::Quota),
    CtHelper(CtHelperObj),
    Limit(expr::Limit),
    Connlimit(expr::Connlimit),
    Tunnel(TunnelObj),
    CtTimeout(CtTimeoutObj),
    Secmark(SecmarkObj),
    CtExpect(CtExpectObj),
    Synproxy(expr::Synproxy),
    Unknown { obj_type: u32, data: Bytes },
}

impl Obj {
    pub fn decode_data(&self) -> Result<ObjData> {
        let d = self.data.as_ref().map(|b| b.0.as_slice()).unwrap_or(&[]);
        let t = self.obj_type.unwrap_or(0);
        Ok(match t {
            obj_type::COUNTER => ObjData::Counter(expr::Counter::parse(d)?),
            obj_type::QUOTA => ObjData::Quota(expr::Quota::parse(d)?),
            obj_type::CT_HELPER => ObjData::CtHelper(CtHelperObj::parse(d)?),
            obj_type::LIMIT => ObjData::Limit(expr::Limit::parse(d)?),
            obj_type::CONNLIMIT => ObjData::Connlimit(expr::Connlimit::parse(d)?),
            obj_type::TUNNEL => ObjData::Tunnel(TunnelObj::parse(d)?),
            obj_type::CT_TIMEOUT => ObjData::CtTimeout(CtTimeoutObj::parse(d)?),
            obj_type::SECMARK => ObjData::Secmark(SecmarkObj::parse(d)?),
            obj_type::CT_EXPECT => ObjData::CtExpect(CtExpectObj::parse(d)?),
            obj_type::SYNPROXY => ObjData::Synproxy(expr::Synproxy::parse(d)?),
            _ => ObjData::Unknown {
                obj_type: t,
                data: Bytes(d.to_vec()),
            },
        })
    }
}

attr_struct! {
    /// `NFTA_FLOWTABLE_HOOK`.
    pub struct FlowtableHook("flowtable hook") {
        1 => num: u32,
        2 => priority: i32,
        3 => devs: Devices,
    }
}
nested_attr_struct!(FlowtableHook);

attr_struct! {
    /// `NFT_MSG_NEWFLOWTABLE`.
    pub struct Flowtable("flowtable") {
        1 => table: String,
        2 => name: String,
        3 => hook: FlowtableHook,
        4 => use_count: u32,
        5 => handle: u64,
        7 => flags: u32,
    }
}

attr_struct! {
    /// `NFT_MSG_NEWGEN`: generation id, and for events the committing process.
    pub struct Gen("generation") {
        1 => id: u32,
        2 => proc_pid: u32,
        3 => proc_name: String,
    }
}

/// Walk a buffer of attributes checking only that it is well framed (used by fuzz/tests).
pub fn check_framing(buf: &[u8]) -> Result<usize> {
    let mut n = 0;
    for a in Attrs::new(buf) {
        a?;
        n += 1;
    }
    Ok(n)
}
