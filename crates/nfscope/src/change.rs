//! nf_tables messages as changes to a [`Ruleset`], and applying them.
//!
//! The kernel describes both its dump replies and its change events with the same messages
//! (`NFT_MSG_NEW*` / `NFT_MSG_DEL*`). [`decode`] turns one message into a [`Change`];
//! [`Ruleset::apply`] folds it into the model. A snapshot, a captured dump ([`decode_dump`]) and
//! the watch stream all go through here.

use crate::error::{Error, Result};
use crate::model::{Chain, Obj, Packed, Rules, Ruleset, Set, Table};
use nfscope_wire::nfnl::{NfMsg, NFNL_SUBSYS_NFTABLES};
use nfscope_wire::nft::{self, msg, Family};
use nfscope_wire::nl::{self, Message, Messages};
use std::collections::HashMap;

/// One decoded nf_tables message.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    NewTable(Family, nft::Table),
    DelTable(Family, nft::Table),
    NewChain(Family, nft::Chain),
    DelChain(Family, nft::Chain),
    /// A rule and whether the message had `NLM_F_APPEND`: the kernel announces a rule's place
    /// by `NFTA_RULE_POSITION` (the rule before it) only when it is neither first nor last in
    /// its chain; without one, APPEND means last, else first.
    NewRule(Family, nft::Rule, bool),
    DelRule(Family, nft::Rule),
    NewSet(Family, nft::Set),
    DelSet(Family, nft::Set),
    NewSetElems(Family, nft::SetElemList),
    DelSetElems(Family, nft::SetElemList),
    NewObj(Family, nft::Obj),
    DelObj(Family, nft::Obj),
    NewFlowtable(Family, nft::Flowtable),
    DelFlowtable(Family, nft::Flowtable),
    /// End of a transaction: generation id and the committing process.
    NewGen(nft::Gen),
    /// An nf_tables message type this code does not handle (kept for the record).
    Other {
        msg_type: u8,
        family: Family,
    },
}

/// Decode one netlink message. Non-nf_tables and control messages give `Ok(None)`.
pub fn decode(m: &Message<'_>) -> Result<Option<Change>> {
    if m.ty < 0x10 || (m.ty >> 8) as u8 != NFNL_SUBSYS_NFTABLES {
        return Ok(None);
    }
    let nf = NfMsg::parse(m.ty, m.payload).map_err(|e| Error::decode("nfgenmsg", e))?;
    decode_nf(&nf, m.flags).map(Some)
}

/// Decode one nf_tables message (after its nfgenmsg header).
pub fn decode_nf(nf: &NfMsg<'_>, nlmsg_flags: u16) -> Result<Change> {
    let f = Family::from_u8(nf.family);
    let a = nf.attrs;
    let what = msg::name(nf.msg);
    let d = |e| Error::decode(what, e);
    Ok(match nf.msg {
        msg::NEWTABLE => Change::NewTable(f, nft::Table::parse(a).map_err(d)?),
        msg::DELTABLE | msg::DESTROYTABLE => Change::DelTable(f, nft::Table::parse(a).map_err(d)?),
        msg::NEWCHAIN => Change::NewChain(f, nft::Chain::parse(a).map_err(d)?),
        msg::DELCHAIN | msg::DESTROYCHAIN => Change::DelChain(f, nft::Chain::parse(a).map_err(d)?),
        msg::NEWRULE => Change::NewRule(
            f,
            nft::Rule::parse(a).map_err(d)?,
            nlmsg_flags & nl::NLM_F_APPEND != 0,
        ),
        msg::DELRULE | msg::DESTROYRULE => Change::DelRule(f, nft::Rule::parse(a).map_err(d)?),
        msg::NEWSET => Change::NewSet(f, nft::Set::parse(a).map_err(d)?),
        msg::DELSET | msg::DESTROYSET => Change::DelSet(f, nft::Set::parse(a).map_err(d)?),
        msg::NEWSETELEM => Change::NewSetElems(f, nft::SetElemList::parse(a).map_err(d)?),
        msg::DELSETELEM | msg::DESTROYSETELEM => {
            Change::DelSetElems(f, nft::SetElemList::parse(a).map_err(d)?)
        }
        msg::NEWOBJ => Change::NewObj(f, nft::Obj::parse(a).map_err(d)?),
        msg::DELOBJ | msg::DESTROYOBJ => Change::DelObj(f, nft::Obj::parse(a).map_err(d)?),
        msg::NEWFLOWTABLE => Change::NewFlowtable(f, nft::Flowtable::parse(a).map_err(d)?),
        msg::DELFLOWTABLE | msg::DESTROYFLOWTABLE => {
            Change::DelFlowtable(f, nft::Flowtable::parse(a).map_err(d)?)
        }
        msg::NEWGEN => Change::NewGen(nft::Gen::parse(a).map_err(d)?),
        other => Change::Other {
            msg_type: other,
            family: f,
        },
    })
}

/// Decode a captured dump or event stream (concatenated netlink messages) into a ruleset.
/// `NLMSG_DONE`/`NLMSG_ERROR`/other subsystems are skipped.
pub fn decode_dump(buf: &[u8]) -> Result<Ruleset> {
    let mut rs = Ruleset::default();
    for m in Messages::new(buf) {
        let m = m.map_err(|e| Error::decode("netlink framing", e))?;
        if m.ty == nl::NLMSG_DONE || m.ty == nl::NLMSG_ERROR {
            continue;
        }
        if let Some(c) = decode(&m)? {
            rs.apply(&c);
        }
    }
    Ok(rs)
}

/// Put a NEWRULE into its chain where the kernel put it.
/// `packed`: the rule already packed (kept as is, not packed again).
fn place_rule(ch: &mut Chain, r: &nft::Rule, append: bool, packed: Option<Packed>) {
    // A NEWRULE with a handle we hold is a re-read, not a new rule: the kernel gives every new
    // rule a handle larger than any in its table, so only look when the handle is not above the
    // chain's last one (O(1) on the append path).
    let last = ch.rules.handles().last().flatten().unwrap_or(0);
    let replace = if r.handle.is_some_and(|h| h <= last) {
        ch.rules.position(r.handle)
    } else {
        None
    };
    let packed = packed.unwrap_or_else(|| Packed::new(r));
    if let Some(i) = replace {
        ch.rules.set_packed(i, packed);
        return;
    }
    // NFTA_RULE_POSITION names the rule this one follows; the kernel sends it only for rules
    // that are neither first nor last, so without it NLM_F_APPEND means last, else first.
    let at = match r.position {
        Some(p) if ch.rules.handles().last().flatten() == Some(p) => Some(ch.rules.len()),
        Some(p) => ch.rules.position(Some(p)).map(|i| i + 1),
        None if append => Some(ch.rules.len()),
        None => Some(0),
    };
    ch.rules.insert_packed(at.unwrap_or(ch.rules.len()), packed);
}

/// (family, table, chain) → (table index, chain index).
type ChainIndex = HashMap<(Family, String, String), (usize, usize)>;

fn same(a: &Option<String>, b: &Option<String>) -> bool {
    a.is_some() && a == b
}

impl Ruleset {
    fn chain_index(&self) -> ChainIndex {
        let mut m = HashMap::new();
        for (ti, t) in self.tables.iter().enumerate() {
            for (ci, c) in t.chains.iter().enumerate() {
                m.insert(
                    (t.family, t.name().to_string(), c.name().to_string()),
                    (ti, ci),
                );
            }
        }
        m
    }

    /// Fold a transaction's changes into the model in order. Chains are found through an index
    /// built once (a kube-proxy restore adds 30k chains and 80k rules in one transaction; a scan
    /// per change would be quadratic).
    pub fn apply_all(&mut self, changes: &[Change]) {
        self.apply_each(changes.iter().map(|c| (c, None)))
    }

    /// [`Ruleset::apply_all`] of changes made one at a time (the watcher decodes a large
    /// transaction's packed rules as they are applied), each added rule with its packed form
    /// when the caller has it.
    pub(crate) fn apply_each<C: std::borrow::Borrow<Change>>(
        &mut self,
        changes: impl IntoIterator<Item = (C, Option<Packed>)>,
    ) {
        let mut idx: Option<ChainIndex> = None;
        for (c, packed) in changes {
            let c = c.borrow();
            match c {
                Change::NewRule(f, r, append) => {
                    let map = idx.get_or_insert_with(|| self.chain_index());
                    let key = (
                        *f,
                        r.table.clone().unwrap_or_default(),
                        r.chain.clone().unwrap_or_default(),
                    );
                    if let Some(&(ti, ci)) = map.get(&key) {
                        place_rule(&mut self.tables[ti].chains[ci], r, *append, packed);
                    }
                }
                Change::NewChain(f, ch) => {
                    let map = idx.get_or_insert_with(|| self.chain_index());
                    let key = (
                        *f,
                        ch.table.clone().unwrap_or_default(),
                        ch.name.clone().unwrap_or_default(),
                    );
                    match map.get(&key) {
                        Some(&(ti, ci)) => self.tables[ti].chains[ci].attrs = ch.clone(),
                        None => {
                            let Some(ti) = self
                                .tables
                                .iter()
                                .position(|t| t.family == *f && same(&t.attrs.name, &ch.table))
                            else {
                                continue;
                            };
                            let t = &mut self.tables[ti];
                            t.chains.push(Chain {
                                attrs: ch.clone(),
                                rules: Rules::new(),
                            });
                            map.insert(key, (ti, t.chains.len() - 1));
                        }
                    }
                }
                Change::DelChain(..) | Change::DelTable(..) => {
                    idx = None; // indices shift
                    self.apply(c);
                }
                _ => self.apply(c),
            }
        }
    }

    fn table_mut(&mut self, f: Family, name: &Option<String>) -> Option<&mut Table> {
        self.tables
            .iter_mut()
            .find(|t| t.family == f && same(&t.attrs.name, name))
    }

    /// Fold one change into the model. Changes naming objects that do not exist are ignored
    /// (the caller's resync logic compares with a fresh snapshot when in doubt).
    pub fn apply(&mut self, c: &Change) {
        match c {
            Change::NewTable(f, t) => match self.table_mut(*f, &t.name) {
                Some(old) => old.attrs = t.clone(),
                None => self.tables.push(Table {
                    family: *f,
                    attrs: t.clone(),
                    chains: vec![],
                    sets: vec![],
                    objects: vec![],
                    flowtables: vec![],
                }),
            },
            Change::DelTable(f, t) => self
                .tables
                .retain(|x| !(x.family == *f && same(&x.attrs.name, &t.name))),
            Change::NewChain(f, ch) => {
                if let Some(t) = self.table_mut(*f, &ch.table) {
                    match t.chains.iter_mut().find(|x| same(&x.attrs.name, &ch.name)) {
                        Some(old) => old.attrs = ch.clone(),
                        None => t.chains.push(Chain {
                            attrs: ch.clone(),
                            rules: Rules::new(),
                        }),
                    }
                }
            }
            Change::DelChain(f, ch) => {
                if let Some(t) = self.table_mut(*f, &ch.table) {
                    t.chains.retain(|x| !same(&x.attrs.name, &ch.name));
                }
            }
            Change::NewRule(f, r, append) => {
                if let Some(ch) = self
                    .table_mut(*f, &r.table)
                    .and_then(|t| t.chains.iter_mut().find(|x| same(&x.attrs.name, &r.chain)))
                {
                    place_rule(ch, r, *append, None);
                }
            }
            Change::DelRule(f, r) => {
                if let Some(ch) = self
                    .table_mut(*f, &r.table)
                    .and_then(|t| t.chains.iter_mut().find(|x| same(&x.attrs.name, &r.chain)))
                {
                    ch.rules.retain_handles(|h| h != r.handle);
                }
            }
            Change::NewSet(f, s) => {
                if let Some(t) = self.table_mut(*f, &s.table) {
                    match t.sets.iter_mut().find(|x| same(&x.attrs.name, &s.name)) {
                        Some(old) => old.attrs = s.clone(),
                        None => t.sets.push(Set {
                            attrs: s.clone(),
                            elements: vec![],
                        }),
                    }
                }
            }
            Change::DelSet(f, s) => {
                if let Some(t) = self.table_mut(*f, &s.table) {
                    t.sets.retain(|x| !same(&x.attrs.name, &s.name));
                }
            }
            Change::NewSetElems(f, l) | Change::DelSetElems(f, l) => {
                let add = matches!(c, Change::NewSetElems(..));
                if let Some(set) = self
                    .table_mut(*f, &l.table)
                    .and_then(|t| t.sets.iter_mut().find(|x| same(&x.attrs.name, &l.set)))
                {
                    for e in l.elements.iter().flat_map(|e| &e.0) {
                        let pos = set
                            .elements
                            .iter()
                            .position(|x| x.key == e.key && x.flags == e.flags);
                        match (add, pos) {
                            (true, Some(i)) => set.elements[i] = e.clone(),
                            (true, None) => set.elements.push(e.clone()),
                            (false, Some(i)) => {
                                set.elements.remove(i);
                            }
                            (false, None) => {}
                        }
                    }
                }
            }
            Change::NewObj(f, o) => {
                if let Some(t) = self.table_mut(*f, &o.table) {
                    let decoded = o.decode_data().ok();
                    match t
                        .objects
                        .iter_mut()
                        .find(|x| same(&x.attrs.name, &o.name) && x.attrs.obj_type == o.obj_type)
                    {
                        Some(old) => {
                            *old = Obj {
                                attrs: o.clone(),
                                decoded,
                            }
                        }
                        None => t.objects.push(Obj {
                            attrs: o.clone(),
                            decoded,
                        }),
                    }
                }
            }
            Change::DelObj(f, o) => {
                if let Some(t) = self.table_mut(*f, &o.table) {
                    t.objects.retain(|x| {
                        !(same(&x.attrs.name, &o.name) && x.attrs.obj_type == o.obj_type)
                    });
                }
            }
            Change::NewFlowtable(f, ft) => {
                if let Some(t) = self.table_mut(*f, &ft.table) {
                    match t.flowtables.iter_mut().find(|x| same(&x.name, &ft.name)) {
                        Some(old) => *old = ft.clone(),
                        None => t.flowtables.push(ft.clone()),
                    }
                }
            }
            Change::DelFlowtable(f, ft) => {
                if let Some(t) = self.table_mut(*f, &ft.table) {
                    t.flowtables.retain(|x| !same(&x.name, &ft.name));
                }
            }
            Change::NewGen(g) => {
                if let Some(id) = g.id {
                    self.generation = id;
                }
            }
            Change::Other { .. } => {}
        }
    }
}
