//! Structural difference between two rulesets, expressed as [`Change`]s (the vocabulary of the
//! kernel's own events), so a resync after lost events reads like the events it replaces.
//! Identity: tables by (family, name), chains / sets / objects / flowtables by name within their
//! table, rules by handle within their chain (the kernel never reuses a handle within a table's
//! lifetime), set elements by key (+ interval flags).

use crate::change::Change;
use crate::model::{Ruleset, Table};
use std::collections::HashSet;

/// The changes that turn `old` into `new` (deletions first, innermost first; then additions,
/// outermost first).
pub fn structural(old: &Ruleset, new: &Ruleset) -> Vec<Change> {
    let mut dels = Vec::new();
    let mut adds = Vec::new();
    for ot in &old.tables {
        match new.table(ot.family, ot.name()) {
            None => {
                for c in &ot.chains {
                    for r in &c.rules {
                        dels.push(Change::DelRule(ot.family, r.clone()));
                    }
                }
                dels.push(Change::DelTable(ot.family, ot.attrs.clone()));
            }
            Some(nt) => table_diff(ot, nt, &mut dels, &mut adds),
        }
    }
    for nt in &new.tables {
        if old.table(nt.family, nt.name()).is_none() {
            adds.push(Change::NewTable(nt.family, nt.attrs.clone()));
            let empty = Table {
                chains: vec![],
                sets: vec![],
                objects: vec![],
                flowtables: vec![],
                ..nt.clone()
            };
            table_diff(&empty, nt, &mut dels, &mut adds);
        }
    }
    dels.extend(adds);
    dels
}

fn table_diff(ot: &Table, nt: &Table, dels: &mut Vec<Change>, adds: &mut Vec<Change>) {
    let f = nt.family;
    for oc in &ot.chains {
        match nt.chain(oc.name()) {
            None => {
                for r in &oc.rules {
                    dels.push(Change::DelRule(f, r.clone()));
                }
                dels.push(Change::DelChain(f, oc.attrs.clone()));
            }
            Some(nc) => {
                let new_handles: HashSet<u64> = nc.rules.iter().filter_map(|r| r.handle).collect();
                for r in &oc.rules {
                    if !r.handle.is_some_and(|h| new_handles.contains(&h)) {
                        dels.push(Change::DelRule(f, r.clone()));
                    }
                }
            }
        }
    }
    for nc in &nt.chains {
        let old_handles: HashSet<u64> = ot
            .chain(nc.name())
            .map(|c| c.rules.iter().filter_map(|r| r.handle).collect())
            .unwrap_or_default();
        if ot.chain(nc.name()).is_none() {
            adds.push(Change::NewChain(f, nc.attrs.clone()));
        }
        for r in &nc.rules {
            if !r.handle.is_some_and(|h| old_handles.contains(&h)) {
                adds.push(Change::NewRule(f, r.clone(), true));
            }
        }
    }
    for os in &ot.sets {
        if nt.set(os.name()).is_none() {
            dels.push(Change::DelSet(f, os.attrs.clone()));
        }
    }
    for ns in &nt.sets {
        let old = ot.set(ns.name());
        if old.is_none() {
            adds.push(Change::NewSet(f, ns.attrs.clone()));
        }
        let key = |e: &nfscope_wire::nft::SetElem| (format!("{:?}", e.key), e.flags);
        let old_keys: HashSet<_> = old
            .map(|s| s.elements.iter().map(key).collect())
            .unwrap_or_default();
        let new_keys: HashSet<_> = ns.elements.iter().map(key).collect();
        let gone: Vec<_> = old
            .map(|s| {
                s.elements
                    .iter()
                    .filter(|e| !new_keys.contains(&key(e)))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        let came: Vec<_> = ns
            .elements
            .iter()
            .filter(|e| !old_keys.contains(&key(e)))
            .cloned()
            .collect();
        let list = |elems: Vec<nfscope_wire::nft::SetElem>| nfscope_wire::nft::SetElemList {
            table: ns.attrs.table.clone(),
            set: ns.attrs.name.clone(),
            elements: Some(nfscope_wire::nft::SetElems(elems)),
            ..Default::default()
        };
        if !gone.is_empty() {
            dels.push(Change::DelSetElems(f, list(gone)));
        }
        if !came.is_empty() {
            adds.push(Change::NewSetElems(f, list(came)));
        }
    }
    for oo in &ot.objects {
        if !nt
            .objects
            .iter()
            .any(|o| o.attrs.name == oo.attrs.name && o.attrs.obj_type == oo.attrs.obj_type)
        {
            dels.push(Change::DelObj(f, oo.attrs.clone()));
        }
    }
    for no in &nt.objects {
        if !ot
            .objects
            .iter()
            .any(|o| o.attrs.name == no.attrs.name && o.attrs.obj_type == no.attrs.obj_type)
        {
            adds.push(Change::NewObj(f, no.attrs.clone()));
        }
    }
    for of in &ot.flowtables {
        if !nt.flowtables.iter().any(|x| x.name == of.name) {
            dels.push(Change::DelFlowtable(f, of.clone()));
        }
    }
    for nf in &nt.flowtables {
        if !ot.flowtables.iter().any(|x| x.name == nf.name) {
            adds.push(Change::NewFlowtable(f, nf.clone()));
        }
    }
}
