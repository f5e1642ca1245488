//! The ruleset model: what one consistent snapshot of the kernel holds.
//!
//! nf_tables objects keep their decoded wire form (`wire::nft::*`, every attribute as the
//! kernel sent it, unknown ones included) and are grouped by table. Order is the kernel's
//! dump order everywhere (tables, chains, rules by position, sets, elements).

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
    pub rules: Vec<nft::Rule>,
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
