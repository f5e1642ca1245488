//! The ruleset model: what one consistent snapshot of the kernel holds.
//!
//! nf_tables objects keep their decoded wire form (`wire::nft::*`, every attribute as the
//! kernel sent it, unknown ones included) and are grouped by table. Order is the kernel's
//! dump order everywhere (tables, chains, rules by position, sets, elements).

pub mod decode;
pub mod field;
pub(crate) mod proto;
pub mod stmt;
pub mod types;

pub use decode::decode;

use nfscope_wire::nft::{self, Family};
use serde::Serialize;

/// One consistent view of nf_tables.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Ruleset {
    /// The generation id the snapshot was taken at (equal before and after the dumps).
    pub generation: u32,
    pub tables: Vec<Table>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Table {
    pub family: Family,
    #[serde(flatten)]
    pub attrs: nft::Table,
    pub chains: Vec<Chain>,
    pub sets: Vec<Set>,
    pub objects: Vec<Obj>,
    pub flowtables: Vec<nft::Flowtable>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Chain {
    #[serde(flatten)]
    pub attrs: nft::Chain,
    pub rules: Rules,
}

#[derive(Debug, Clone, Serialize)]
pub struct Set {
    #[serde(flatten)]
    pub attrs: nft::Set,
    pub elements: Vec<nft::SetElem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Obj {
    #[serde(flatten)]
    pub attrs: nft::Obj,
    /// The object's data decoded by type (`None` if it did not decode: raw stays in `attrs.data`).
    pub decoded: Option<nft::ObjData>,
}

impl Table {
    pub fn name(&self) -> &str {
        self.attrs.name.as_deref().unwrap_or("")
    }
    pub fn chain(&self, name: &str) -> Option<&Chain> {
        self.chains.iter().find(|c| c.name() == name)
    }
    pub fn set(&self, name: &str) -> Option<&Set> {
        self.sets.iter().find(|s| s.name() == name)
    }
}

impl Chain {
    pub fn name(&self) -> &str {
        self.attrs.name.as_deref().unwrap_or("")
    }
    pub fn is_base(&self) -> bool {
        self.attrs.hook.is_some()
    }
}

impl Set {
    pub fn name(&self) -> &str {
        self.attrs.name.as_deref().unwrap_or("")
    }
    pub fn flags(&self) -> u32 {
        self.attrs.flags.unwrap_or(0)
    }
    pub fn is_anonymous(&self) -> bool {
        self.flags() & nft::set_flags::ANONYMOUS != 0
    }
}

impl Ruleset {
    /// Whether any rule holds an xt `set` match or `SET` target (they name ipsets by index).
    pub fn uses_ipsets(&self) -> bool {
        self.tables
            .iter()
            .flat_map(|t| &t.chains)
            .any(|c| c.rules.use_ipsets())
    }
    pub fn table(&self, family: Family, name: &str) -> Option<&Table> {
        self.tables
            .iter()
            .find(|t| t.family == family && t.name() == name)
    }
    pub fn rule_count(&self) -> usize {
        self.tables
            .iter()
            .flat_map(|t| &t.chains)
            .map(|c| c.rules.len())
            .sum()
    }
}

/// One rule as the model keeps it: the rule's netlink attributes as the kernel sent them,
/// word-packed ([`nfscope_wire::pack`]), with the handle beside them for lookups. Decoded on
/// demand by [`Rules`]. An 80,011-rule kube-proxy ruleset holds 23 MB of packed rules where
/// decoded rules took about 120 MB (see docs/benchmark.md). The bytes are shared: a copy of a
/// ruleset (the watcher keeps the view before a large transaction while it makes its records)
/// copies no rule.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Packed {
    handle: Option<u64>,
    bytes: std::sync::Arc<[u8]>,
    /// Holds an xt `set` match or `SET` target (ipset names must be looked up to print it).
    ipsets: bool,
    /// Holds an xt match or target.
    xt: bool,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Packed {
    pub(crate) fn from_wire(attrs: &[u8], handle: Option<u64>) -> Packed {
        let xt = nft::Rule::xt_use(attrs);
        Packed {
            handle,
            bytes: nfscope_wire::pack::pack(attrs).into(),
            ipsets: xt.ipsets,
            xt: xt.xt,
        }
    }

    pub(crate) fn new(r: &nft::Rule) -> Packed {
        let mut buf = Vec::new();
        r.emit(&mut buf);
        Packed::from_wire(&buf, r.handle)
    }

    /// The decoded rule. The bytes were a decodable rule when they were packed (the snapshot and
    /// the watcher parse every rule before keeping it), so this cannot fail; if it ever did, the
    /// rule comes back holding the raw bytes as an unknown attribute rather than vanishing.
    pub(crate) fn decode(&self) -> nft::Rule {
        SCRATCH.with(|s| {
            let mut buf = s.borrow_mut();
            match nfscope_wire::pack::unpack(&self.bytes, &mut buf)
                .and_then(|()| nft::Rule::parse(&buf))
            {
                Ok(r) => r,
                Err(e) => nft::Rule {
                    handle: self.handle,
                    unknown: vec![nfscope_wire::attr::RawAttr {
                        ty: u16::MAX,
                        value: format!("undecodable packed rule: {e}").into_bytes(),
                    }],
                    ..Default::default()
                },
            }
        })
    }
}

/// A chain's rules in order. Iterating yields decoded [`nft::Rule`]s (owned; each is decoded
/// from the packed form when it is reached, so hold on to it rather than asking twice).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Rules(Vec<Packed>);

impl Rules {
    pub fn new() -> Rules {
        Rules(Vec::new())
    }
    /// Keep a rule straight from its `NFT_MSG_NEWRULE` attributes (which the caller has parsed
    /// successfully; `handle` is the parsed handle).
    pub fn push_wire(&mut self, attrs: &[u8], handle: Option<u64>) {
        self.0.push(Packed::from_wire(attrs, handle));
    }
    pub fn push(&mut self, r: &nft::Rule) {
        self.0.push(Packed::new(r));
    }
    pub(crate) fn insert_packed(&mut self, at: usize, p: Packed) {
        self.0.insert(at.min(self.0.len()), p);
    }
    pub(crate) fn set_packed(&mut self, at: usize, p: Packed) {
        if let Some(x) = self.0.get_mut(at) {
            *x = p;
        }
    }
    pub fn insert(&mut self, at: usize, r: &nft::Rule) {
        self.0.insert(at.min(self.0.len()), Packed::new(r));
    }
    /// Replace the rule at `at` (no-op past the end).
    pub fn set(&mut self, at: usize, r: &nft::Rule) {
        if let Some(p) = self.0.get_mut(at) {
            *p = Packed::new(r);
        }
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn get(&self, at: usize) -> Option<nft::Rule> {
        self.0.get(at).map(Packed::decode)
    }
    pub fn last(&self) -> Option<nft::Rule> {
        self.0.last().map(Packed::decode)
    }
    /// Handles in order, without decoding.
    pub fn handles(&self) -> impl DoubleEndedIterator<Item = Option<u64>> + ExactSizeIterator + '_ {
        self.0.iter().map(|p| p.handle)
    }
    /// Where the rule with this handle is (the last one, should a handle repeat).
    pub fn position(&self, handle: Option<u64>) -> Option<usize> {
        self.0.iter().rposition(|p| p.handle == handle)
    }
    /// Keep the rules whose handle `keep` accepts.
    pub fn retain_handles(&mut self, mut keep: impl FnMut(Option<u64>) -> bool) {
        self.0.retain(|p| keep(p.handle))
    }
    pub fn shrink_to_fit(&mut self) {
        self.0.shrink_to_fit()
    }
    /// Decoded rules in order.
    pub fn iter(&self) -> RulesIter<'_> {
        RulesIter(self.0.iter())
    }
    /// Whether a rule holds an xt `set` match or `SET` target (without decoding).
    pub fn use_ipsets(&self) -> bool {
        self.0.iter().any(|p| p.ipsets)
    }
    /// Whether any rule holds an xt match or target (known without decoding).
    pub fn use_xt(&self) -> bool {
        self.0.iter().any(|p| p.xt)
    }
    /// Bytes held (packed rules and their slots), for memory accounting.
    pub fn heap_bytes(&self) -> usize {
        self.0.capacity() * std::mem::size_of::<Packed>()
            + self.0.iter().map(|p| p.bytes.len()).sum::<usize>()
    }
}

impl From<Vec<nft::Rule>> for Rules {
    fn from(v: Vec<nft::Rule>) -> Rules {
        Rules(v.iter().map(Packed::new).collect())
    }
}

impl FromIterator<nft::Rule> for Rules {
    fn from_iter<I: IntoIterator<Item = nft::Rule>>(it: I) -> Rules {
        Rules(it.into_iter().map(|r| Packed::new(&r)).collect())
    }
}

/// Iterator over decoded rules.
#[derive(Clone)]
pub struct RulesIter<'a>(std::slice::Iter<'a, Packed>);

impl Iterator for RulesIter<'_> {
    type Item = nft::Rule;
    fn next(&mut self) -> Option<nft::Rule> {
        self.0.next().map(Packed::decode)
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}
impl DoubleEndedIterator for RulesIter<'_> {
    fn next_back(&mut self) -> Option<nft::Rule> {
        self.0.next_back().map(Packed::decode)
    }
}
impl ExactSizeIterator for RulesIter<'_> {}

impl<'a> IntoIterator for &'a Rules {
    type Item = nft::Rule;
    type IntoIter = RulesIter<'a>;
    fn into_iter(self) -> RulesIter<'a> {
        self.iter()
    }
}

impl std::fmt::Debug for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for Rules {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for r in self.iter() {
            seq.serialize_element(&r)?;
        }
        seq.end()
    }
}
