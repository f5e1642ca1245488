//! Changes made while nfscoped was down. The history stores, next to the records and in the same
//! write transactions, the state it needs to compare on the next start (the `state` table of
//! [`History`]):
//!
//! - per nf_tables rule, keyed (family, table, chain, handle): its record text (nft text,
//!   iptables line, the parts compared for meaning), folded in from the rule records as they are
//!   stored (added, removed, replaced), so a transaction costs what it changed, not the ruleset;
//!   and under the same key in its own prefix, the id of the record that gave the rule its form
//!   (what `nfscope blame` looks up: eight bytes a rule, so the lookups stay in a few pages);
//! - per legacy family: the blame story of its rules (which records gave them their form);
//! - per nf_tables table: its chains, sets (with a 64-bit hash per element), objects and
//!   flowtables by name, rewritten from the live view when a record names the table for anything
//!   but a rule;
//! - per legacy family: its save lines per chain, rewritten from the live view when a legacy
//!   record names the family (legacy rules have no identity but their place);
//! - when the daemon last started or stopped (cleanly or not).
//!
//! On start, [`on_start`] compares that state with the live ruleset and returns a `gap` marker and
//! the difference as ordinary records (what watch would have emitted: the same pairing of
//! replacements, lost/gained, alerts), with no process and `attribution: none`, each carrying
//! the [`Gap`]. The comparison reads the stored state one chain at a time (and one legacy family
//! at a time), next to the live ruleset the watcher holds anyway. The first start with no stored
//! state records nothing and stores the state. A state of the version before (2: no separate
//! record ids) is upgraded in place on start; an older one is stored anew.

use crate::blame;
use crate::change::Change;
use crate::events::{self, Gap, Index, LegacyChains, Record, RuleText};
use crate::history::{self, now_ms, History, StateOp, StateUpdate};
use crate::legacy::LegacyRuleset;
use crate::model::{self, Ruleset};
use anyhow::Result;
use nfscope_wire::nft::{self, Family};
use nfscope_wire::xt::entry::Family as XtFamily;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

const VERSION_KEY: &str = "m\0version";
const SEEN_KEY: &str = "m\0seen";
/// 2: rules carry the id of their record, legacy families their blame story. 3: and each
/// rule's record id is kept apart too ([`id_key`]: eight bytes, dense, what blame looks up).
const VERSION: &[u8] = b"3";
/// The version before, which [`on_start`] upgrades in place (its rules' record ids copied).
const VERSION_2: &[u8] = b"2";
/// The first record id from which the state knows which record gave each rule its form (the
/// state was stored whole then; rules there at that time have no record).
const INDEXED_FROM_KEY: &str = "m\0indexed_from";
/// State entries written per write transaction when the whole state is stored at once.
const BATCH: usize = 4096;

/// A rule's record text with the parts the semantic diff compares (not in its JSON).
#[derive(Serialize, Deserialize)]
struct StoredRule {
    /// The id of the record that gave the rule this form (`None`: it was there when the state
    /// was stored whole). First, so that blame reads it from the value's start
    /// ([`RecordOf::read`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    record: Option<u64>,
    text: RuleText,
    parts: Vec<String>,
    target: Option<String>,
    comment: Option<String>,
}

/// [`StoredRule`]'s record id alone (what blame reads; the rest is skipped unparsed).
#[derive(Deserialize)]
struct RecordOf {
    #[serde(default)]
    record: Option<u64>,
}

impl RecordOf {
    /// The record id of a stored rule's JSON: read from its start when it begins with it (as
    /// [`StoredRule`] writes it), else from the whole value (entries written before the field
    /// came first).
    fn read(v: &[u8]) -> Option<u64> {
        if let Some(rest) = v.strip_prefix(br#"{"record":"#) {
            let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            if matches!(rest.get(digits), Some(b',' | b'}')) {
                if let Some(id) = std::str::from_utf8(&rest[..digits])
                    .ok()
                    .and_then(|d| d.parse().ok())
                {
                    return Some(id);
                }
            }
        }
        serde_json::from_slice::<RecordOf>(v)
            .ok()
            .and_then(|r| r.record)
    }
}

impl StoredRule {
    fn of(t: &RuleText, record: Option<u64>) -> StoredRule {
        StoredRule {
            text: t.clone(),
            parts: t.parts.clone(),
            target: t.target.clone(),
            comment: t.comment.clone(),
            record,
        }
    }

    fn into_text(self) -> RuleText {
        RuleText {
            parts: self.parts,
            target: self.target,
            comment: self.comment,
            ..self.text
        }
    }
}

#[derive(Serialize, Deserialize, Default)]
struct TableState {
    family: u8,
    chains: Vec<String>,
    sets: Vec<SetState>,
    /// (name, type)
    objects: Vec<(String, u32)>,
    flowtables: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct SetState {
    name: String,
    flags: u32,
    /// Sorted hashes of the elements' identities (key and flags, as `diff.rs` compares them).
    elements: Vec<u64>,
}

#[derive(Serialize, Deserialize)]
struct Seen {
    unix_ms: i64,
    clean: bool,
}

fn rule_key(fam: &str, table: &str, chain: &str, handle: u64) -> String {
    format!("r\0{fam}\0{table}\0{chain}\0{handle:020}")
}
fn chain_prefix(fam: &str, table: &str, chain: &str) -> String {
    format!("r\0{fam}\0{table}\0{chain}\0")
}
fn table_rules_prefix(fam: &str, table: &str) -> String {
    format!("r\0{fam}\0{table}\0")
}
/// The id of the record that gave the stored rule [`rule_key`] names its form (little-endian
/// u64), under its own prefix: 80k of them fill a thousand pages, where the rules' texts fill
/// twenty thousand.
fn id_key(fam: &str, table: &str, chain: &str, handle: u64) -> String {
    format!("i\0{fam}\0{table}\0{chain}\0{handle:020}")
}
/// The [`id_key`] of a [`rule_key`] (same suffix).
fn id_key_of(rule_key: &str) -> String {
    format!("i{}", rule_key.strip_prefix('r').unwrap_or(rule_key))
}
fn table_key(fam: &str, table: &str) -> String {
    format!("t\0{fam}\0{table}")
}
fn legacy_key(fam: &str) -> String {
    format!("l\0{fam}")
}
fn legacy_blame_key(fam: &str) -> String {
    format!("b\0{fam}")
}

const XT_FAMILIES: [XtFamily; 3] = [XtFamily::Ipv4, XtFamily::Ipv6, XtFamily::Arp];

/// FNV-1a: stable across builds (the hashes are stored).
fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn elem_hash(e: &nft::SetElem) -> u64 {
    fnv(format!("{:?}\0{:?}", e.key, e.flags).as_bytes())
}

fn table_state(t: &model::Table) -> TableState {
    TableState {
        family: t.family.to_u8(),
        chains: t.chains.iter().map(|c| c.name().to_string()).collect(),
        sets: t
            .sets
            .iter()
            .map(|s| {
                let mut elements: Vec<u64> = s.elements.iter().map(elem_hash).collect();
                elements.sort_unstable();
                SetState {
                    name: s.name().to_string(),
                    flags: s.flags(),
                    elements,
                }
            })
            .collect(),
        objects: t
            .objects
            .iter()
            .map(|o| {
                (
                    o.attrs.name.clone().unwrap_or_default(),
                    o.attrs.obj_type.unwrap_or(0),
                )
            })
            .collect(),
        flowtables: t
            .flowtables
            .iter()
            .map(|f| f.name.clone().unwrap_or_default())
            .collect(),
    }
}

fn put_json<T: Serialize>(ops: &mut Vec<StateOp>, key: String, v: &T) {
    if let Ok(bytes) = serde_json::to_vec(v) {
        ops.push(StateOp::Put(key, bytes));
    }
}

/// How the stored state follows a batch of records about to be stored (apply it with exactly
/// these records: rule records are named by their index): rule records folded in;
/// tables named by other records, and legacy families named by legacy records, rewritten from
/// the live view (`live`, `legacy`: the watcher's view after the batch).
pub fn update_for(
    records: &[Record],
    live: &Ruleset,
    legacy: Option<&LegacyRuleset>,
) -> StateUpdate {
    let mut ops = Vec::new();
    let mut tables: Vec<(String, String)> = Vec::new();
    let mut families: HashSet<&str> = HashSet::new();
    for (i, r) in records.iter().enumerate() {
        if r.backend == "legacy" {
            families.insert(r.family.as_str());
            continue;
        }
        if r.backend != "nftables" {
            continue;
        }
        let chain = r.chain.as_deref().unwrap_or("");
        match r.kind.as_str() {
            "rule_added" | "rule_removed" | "rule_replaced" => ops.push(StateOp::FoldRule(i)),
            kind => {
                let gone = match kind {
                    "table_removed" => Some(table_rules_prefix(&r.family, &r.table)),
                    "chain_removed" => Some(chain_prefix(&r.family, &r.table, chain)),
                    _ => None,
                };
                if let Some(p) = gone {
                    ops.push(StateOp::DeletePrefix(id_key_of(&p)));
                    ops.push(StateOp::DeletePrefix(p));
                }
                let t = (r.family.clone(), r.table.clone());
                if !tables.contains(&t) {
                    tables.push(t);
                }
            }
        }
    }
    for (fam, name) in tables {
        let lt = live
            .tables
            .iter()
            .find(|t| t.family.name() == fam && t.name() == name);
        match lt {
            Some(t) => put_json(&mut ops, table_key(&fam, &name), &table_state(t)),
            None => ops.push(StateOp::Delete(table_key(&fam, &name))),
        }
    }
    for fam in XT_FAMILIES {
        let name = events::legacy_family_name(fam);
        if families.contains(name) {
            let chains = legacy
                .map(|l| events::legacy_chains(l, fam))
                .unwrap_or_default();
            put_json(&mut ops, legacy_key(name), &chains);
            ops.push(StateOp::FoldLegacy(
                legacy_blame_key(name),
                name.to_string(),
            ));
        }
    }
    StateUpdate { ops }
}

/// The stored blame story of a legacy family (`stored`, absent at first) with the batch's
/// legacy records of `family` folded in (`records[i]` has the id `first_id + i`).
pub(crate) fn fold_legacy(
    stored: Option<&[u8]>,
    family: &str,
    records: &[Record],
    first_id: u64,
) -> Vec<u8> {
    let mut story: blame::Story = stored
        .and_then(|b| serde_json::from_slice(b).ok())
        .unwrap_or_default();
    for (i, r) in records.iter().enumerate() {
        if r.backend == "legacy" && r.family == family {
            story.add(r, first_id + i as u64, None);
        }
    }
    serde_json::to_vec(&story).unwrap_or_default()
}

/// The state operations of one rule record (added, removed, replaced; stored with the id
/// `id`), handed to `f`.
pub(crate) fn fold_rule(r: &Record, id: u64, mut f: impl FnMut(StateOp)) {
    if r.backend != "nftables" {
        return;
    }
    let chain = r.chain.as_deref().unwrap_or("");
    let key = |t: &RuleText| t.handle.map(|h| rule_key(&r.family, &r.table, chain, h));
    let put = |f: &mut dyn FnMut(StateOp), k: String, t: &RuleText| {
        if let Ok(bytes) = serde_json::to_vec(&StoredRule::of(t, Some(id))) {
            f(StateOp::Put(id_key_of(&k), id.to_le_bytes().to_vec()));
            f(StateOp::Put(k, bytes));
        }
    };
    let delete = |f: &mut dyn FnMut(StateOp), k: String| {
        f(StateOp::Delete(id_key_of(&k)));
        f(StateOp::Delete(k));
    };
    if let Some(k) = r.before.as_ref().and_then(key) {
        delete(&mut f, k);
    }
    if let Some(t) = r.after.as_ref() {
        if let Some(k) = key(t) {
            put(&mut f, k, t);
        }
    }
    if let Some(t) = r.rule.as_ref() {
        if let Some(k) = key(t) {
            if r.kind == "rule_added" {
                put(&mut f, k, t);
            } else {
                delete(&mut f, k);
            }
        }
    }
}

/// The first record id from which the stored state knows which record gave each rule its form
/// (`None`: no such state, as in a history nfscoped never wrote or one from before record ids
/// were kept).
pub(crate) fn indexed_from(h: &history::View) -> Result<Option<u64>> {
    if h.state_get(VERSION_KEY)?.as_deref() != Some(VERSION) {
        return Ok(None);
    }
    Ok(h.state_get(INDEXED_FROM_KEY)?
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse().ok()))
}

/// The id of the record that gave the stored nf_tables rule (family, table, chain, handle) its
/// form (`None`: no such rule stored, or it was there when the state was stored whole). One
/// lookup: blame's cost follows the rules there are, not the state's size.
pub(crate) fn rule_record(
    h: &history::View,
    fam: &str,
    table: &str,
    chain: &str,
    handle: u64,
) -> Result<Option<u64>> {
    Ok(h.state_with(&id_key(fam, table, chain, handle), |v| {
        <[u8; 8]>::try_from(v).ok().map(u64::from_le_bytes)
    })?
    .flatten())
}

/// [`rule_record`] of every stored rule of one chain: (handle, record id), in handle order
/// (rules there when the state was stored whole are absent). One walk of the chain's ids, which
/// mirror the chain's rules now (removed rules' ids go with them).
pub(crate) fn chain_record_ids(
    h: &history::View,
    fam: &str,
    table: &str,
    chain: &str,
) -> Result<Vec<(u64, u64)>> {
    let mut out = Vec::new();
    h.state_scan(&id_key_of(&chain_prefix(fam, table, chain)), |k, v| {
        let handle = k.rsplit('\0').next().and_then(|s| s.parse::<u64>().ok());
        if let (Some(handle), Ok(id)) = (handle, <[u8; 8]>::try_from(v)) {
            out.push((handle, u64::from_le_bytes(id)));
        }
    })?;
    Ok(out)
}

/// [`chain_record_ids`] of every chain, in one walk of the id index: by [`chain_ids_key`].
pub(crate) fn all_record_ids(h: &history::View) -> Result<HashMap<String, Vec<(u64, u64)>>> {
    let mut out: HashMap<String, Vec<(u64, u64)>> = HashMap::new();
    let mut current: Option<(String, Vec<(u64, u64)>)> = None;
    h.state_scan("i\0", |k, v| {
        let Some((chain, handle)) = k
            .strip_prefix("i\0")
            .and_then(|k| k.rsplit_once('\0'))
            .and_then(|(c, h)| Some((c, h.parse::<u64>().ok()?)))
        else {
            return;
        };
        let Ok(id) = <[u8; 8]>::try_from(v) else {
            return;
        };
        match &mut current {
            Some((c, ids)) if c == chain => ids.push((handle, u64::from_le_bytes(id))),
            _ => {
                if let Some((c, ids)) = current.replace((chain.to_string(), Vec::new())) {
                    out.insert(c, ids);
                }
                if let Some((_, ids)) = &mut current {
                    ids.push((handle, u64::from_le_bytes(id)));
                }
            }
        }
    })?;
    if let Some((c, ids)) = current {
        out.insert(c, ids);
    }
    Ok(out)
}

/// A chain's key in [`all_record_ids`].
pub(crate) fn chain_ids_key(fam: &str, table: &str, chain: &str) -> String {
    format!("{fam}\0{table}\0{chain}")
}

/// The stored blame story of one legacy family (`ip`, `ip6`, `arp`).
pub(crate) fn legacy_story(h: &history::View, fam: &str) -> Result<blame::Story> {
    Ok(h.state_get(&legacy_blame_key(fam))?
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default())
}

/// Store the whole state of `live` and `legacy` (in write transactions of [`BATCH`] entries;
/// the version key, written last, says it is complete).
fn store_all(h: &mut History, live: &Ruleset, legacy: Option<&LegacyRuleset>) -> Result<()> {
    let mut ops = vec![
        StateOp::Delete(VERSION_KEY.to_string()),
        StateOp::DeletePrefix("r\0".into()),
        StateOp::DeletePrefix("i\0".into()),
        StateOp::DeletePrefix("t\0".into()),
        StateOp::DeletePrefix("l\0".into()),
        StateOp::DeletePrefix("b\0".into()),
        StateOp::Put(
            INDEXED_FROM_KEY.into(),
            h.next_id().to_string().into_bytes(),
        ),
    ];
    let idx = Index::new(live);
    for t in &live.tables {
        let fam = t.family.name();
        put_json(&mut ops, table_key(&fam, t.name()), &table_state(t));
        for c in &t.chains {
            for r in c.rules.iter() {
                let Some(handle) = r.handle else { continue };
                let text = events::rule_text_in(&idx, t.family, &r);
                put_json(
                    &mut ops,
                    rule_key(&fam, t.name(), c.name(), handle),
                    &StoredRule::of(&text, None),
                );
                if ops.len() >= BATCH {
                    h.write_state(&StateUpdate {
                        ops: std::mem::take(&mut ops),
                    })?;
                }
            }
        }
    }
    for fam in XT_FAMILIES {
        let chains = legacy
            .map(|l| events::legacy_chains(l, fam))
            .unwrap_or_default();
        put_json(
            &mut ops,
            legacy_key(events::legacy_family_name(fam)),
            &chains,
        );
    }
    ops.push(StateOp::Put(VERSION_KEY.into(), VERSION.to_vec()));
    h.write_state(&StateUpdate { ops })
}

/// Version 2 → 3 in place: each stored rule's record id copied under [`id_key`] (what blame
/// reads), so the history stays indexed from where it was.
fn upgrade_from_2(h: &mut History) -> Result<()> {
    let mut ids = Vec::new();
    h.state_scan("r\0", |k, v| {
        if let Some(id) = RecordOf::read(v) {
            ids.push((id_key_of(k), id));
        }
    })?;
    for batch in ids.chunks(BATCH) {
        let ops = batch
            .iter()
            .map(|(k, id)| StateOp::Put(k.clone(), id.to_le_bytes().to_vec()))
            .collect();
        h.write_state(&StateUpdate { ops })?;
    }
    h.write_state(&StateUpdate {
        ops: vec![StateOp::Put(VERSION_KEY.into(), VERSION.to_vec())],
    })
}

/// Note that the daemon is running now (after `kill -9`, the next start's gap begins no earlier
/// than the last such note).
pub fn mark_alive(h: &mut History) -> Result<()> {
    let mut ops = Vec::new();
    put_json(
        &mut ops,
        SEEN_KEY.into(),
        &Seen {
            unix_ms: now_ms(),
            clean: false,
        },
    );
    h.write_state(&StateUpdate { ops })
}

/// Note that the daemon stops now, cleanly.
pub fn mark_stopped(h: &mut History) -> Result<()> {
    let mut ops = Vec::new();
    put_json(
        &mut ops,
        SEEN_KEY.into(),
        &Seen {
            unix_ms: now_ms(),
            clean: true,
        },
    );
    h.write_state(&StateUpdate { ops })
}

/// On start: the `gap` marker and the changes since the stored state (records to store with the
/// returned state update), or `None` when there was no stored state (it is stored now: the next
/// start compares with it).
pub fn on_start(
    h: &mut History,
    live: &Ruleset,
    legacy: Option<&LegacyRuleset>,
) -> Result<Option<(Vec<Record>, StateUpdate)>> {
    let started = now_ms();
    let seen_now = Seen {
        unix_ms: started,
        clean: false,
    };
    if h.state_get(VERSION_KEY)?.as_deref() == Some(VERSION_2) {
        upgrade_from_2(h)?;
    }
    if h.state_get(VERSION_KEY)?.as_deref() != Some(VERSION) {
        store_all(h, live, legacy)?;
        let mut ops = Vec::new();
        put_json(&mut ops, SEEN_KEY.into(), &seen_now);
        h.write_state(&StateUpdate { ops })?;
        return Ok(None);
    }
    let seen: Option<Seen> = h
        .state_get(SEEN_KEY)?
        .and_then(|b| serde_json::from_slice(&b).ok());
    let last = h.last()?.map(|s| s.time_unix_ms).unwrap_or(0);
    let (stopped, clean) = match seen {
        Some(s) => (s.unix_ms.max(last), s.clean),
        None => (last, false),
    };
    let mut changes = nft_changes(h, live)?;
    changes.extend(legacy_changes(h, legacy)?);
    let gap = Gap {
        stopped_unix_ms: stopped,
        clean,
        started_unix_ms: started,
        down_ms: started.saturating_sub(stopped).max(0),
        changes: changes.len() as u64,
    };
    for r in &mut changes {
        r.gap = Some(gap);
    }
    let mut out = Vec::with_capacity(changes.len() + 1);
    out.push(Record::gap_marker(live.generation, gap));
    out.extend(changes);
    // Indices into `out`: the update is applied with these records.
    let mut update = update_for(&out, live, legacy);
    put_json(&mut update.ops, SEEN_KEY.into(), &seen_now);
    Ok(Some((out, update)))
}

fn legacy_changes(h: &History, legacy: Option<&LegacyRuleset>) -> Result<Vec<Record>> {
    let mut out = Vec::new();
    for fam in XT_FAMILIES {
        let name = events::legacy_family_name(fam);
        let stored: LegacyChains = h
            .state_get(&legacy_key(name))?
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let now = legacy
            .map(|l| events::legacy_chains(l, fam))
            .unwrap_or_default();
        events::legacy_family_records(name, &stored, &now, &mut out);
    }
    Ok(out)
}

/// The stored rules of one chain, by handle.
fn stored_rules(
    h: &History,
    fam: &str,
    table: &str,
    chain: &str,
) -> Result<HashMap<u64, RuleText>> {
    let mut out = HashMap::new();
    h.state_scan(&chain_prefix(fam, table, chain), |k, v| {
        let handle = k.rsplit('\0').next().and_then(|s| s.parse::<u64>().ok());
        if let (Some(handle), Ok(r)) = (handle, serde_json::from_slice::<StoredRule>(v)) {
            out.insert(handle, r.into_text());
        }
    })?;
    Ok(out)
}

/// Changes and the deleted rules' texts, built like `diff::structural` (deletions, then
/// additions).
#[derive(Default)]
struct Diff {
    dels: Vec<(Change, Option<RuleText>)>,
    adds: Vec<Change>,
}

impl Diff {
    fn del_rule(&mut self, f: Family, table: &str, chain: &str, handle: u64, text: RuleText) {
        let rule = nft::Rule {
            table: Some(table.to_string()),
            chain: Some(chain.to_string()),
            handle: Some(handle),
            ..Default::default()
        };
        self.dels.push((Change::DelRule(f, rule), Some(text)));
    }

    fn del(&mut self, c: Change) {
        self.dels.push((c, None));
    }

    fn elems(table: &str, set: &str, elems: Vec<nft::SetElem>) -> nft::SetElemList {
        nft::SetElemList {
            table: Some(table.to_string()),
            set: Some(set.to_string()),
            elements: Some(nft::SetElems(elems)),
            ..Default::default()
        }
    }

    /// Everything of a stored table, removed (`whole`: the table too).
    fn del_stored_chain(&mut self, h: &History, f: Family, table: &str, chain: &str) -> Result<()> {
        let fam = f.name();
        let mut rules: Vec<(u64, RuleText)> =
            stored_rules(h, &fam, table, chain)?.into_iter().collect();
        rules.sort_by_key(|(h, _)| *h);
        for (handle, text) in rules {
            self.del_rule(f, table, chain, handle, text);
        }
        Ok(())
    }

    /// `lt`'s sets, objects and flowtables against the stored ones.
    fn table_objects(
        &mut self,
        ts: &TableState,
        lt: Option<&model::Table>,
        f: Family,
        table: &str,
    ) {
        let empty = model::Table {
            family: f,
            attrs: nft::Table::default(),
            chains: vec![],
            sets: vec![],
            objects: vec![],
            flowtables: vec![],
        };
        let lt = lt.unwrap_or(&empty);
        for s in &ts.sets {
            if lt.set(&s.name).is_none() {
                self.del(Change::DelSet(
                    f,
                    nft::Set {
                        table: Some(table.to_string()),
                        name: Some(s.name.clone()),
                        flags: Some(s.flags),
                        ..Default::default()
                    },
                ));
            }
        }
        for ls in &lt.sets {
            let old = ts.sets.iter().find(|s| s.name == ls.name());
            if old.is_none() {
                self.adds.push(Change::NewSet(f, ls.attrs.clone()));
            }
            let old_keys: HashSet<u64> = old
                .map(|s| s.elements.iter().copied().collect())
                .unwrap_or_default();
            let new_keys: HashSet<u64> = ls.elements.iter().map(elem_hash).collect();
            let gone = old.map_or(0, |s| {
                s.elements.iter().filter(|e| !new_keys.contains(e)).count()
            });
            let came: Vec<nft::SetElem> = ls
                .elements
                .iter()
                .filter(|e| !old_keys.contains(&elem_hash(e)))
                .cloned()
                .collect();
            if gone > 0 {
                // Only their number is recorded.
                let list = Self::elems(table, ls.name(), vec![nft::SetElem::default(); gone]);
                self.del(Change::DelSetElems(f, list));
            }
            if !came.is_empty() {
                let list = Self::elems(table, ls.name(), came);
                self.adds.push(Change::NewSetElems(f, list));
            }
        }
        for (name, ty) in &ts.objects {
            if !lt
                .objects
                .iter()
                .any(|o| o.attrs.name.as_deref() == Some(name) && o.attrs.obj_type == Some(*ty))
            {
                self.del(Change::DelObj(
                    f,
                    nft::Obj {
                        table: Some(table.to_string()),
                        name: Some(name.clone()),
                        obj_type: Some(*ty),
                        ..Default::default()
                    },
                ));
            }
        }
        for o in &lt.objects {
            let name = o.attrs.name.clone().unwrap_or_default();
            if !ts
                .objects
                .iter()
                .any(|(n, t)| *n == name && Some(*t) == o.attrs.obj_type)
            {
                self.adds.push(Change::NewObj(f, o.attrs.clone()));
            }
        }
        for name in &ts.flowtables {
            if !lt
                .flowtables
                .iter()
                .any(|x| x.name.as_deref() == Some(name))
            {
                self.del(Change::DelFlowtable(
                    f,
                    nft::Flowtable {
                        table: Some(table.to_string()),
                        name: Some(name.clone()),
                        ..Default::default()
                    },
                ));
            }
        }
        for x in &lt.flowtables {
            if !ts
                .flowtables
                .iter()
                .any(|n| Some(n.as_str()) == x.name.as_deref())
            {
                self.adds.push(Change::NewFlowtable(f, x.clone()));
            }
        }
    }
}

/// The nf_tables changes from the stored state to `live`, as records.
fn nft_changes(h: &History, live: &Ruleset) -> Result<Vec<Record>> {
    let mut stored: Vec<(String, TableState)> = Vec::new();
    h.state_scan("t\0", |k, v| {
        let name = k.splitn(3, '\0').nth(2).unwrap_or("").to_string();
        if let Ok(ts) = serde_json::from_slice::<TableState>(v) {
            stored.push((name, ts));
        }
    })?;
    let idx = Index::new(live);
    let mut d = Diff::default();
    for (name, ts) in &stored {
        let f = Family::from_u8(ts.family);
        let lt = live.table(f, name);
        for chain in &ts.chains {
            match lt.and_then(|t| t.chain(chain)) {
                None => {
                    d.del_stored_chain(h, f, name, chain)?;
                    d.del(Change::DelChain(
                        f,
                        nft::Chain {
                            table: Some(name.clone()),
                            name: Some(chain.clone()),
                            ..Default::default()
                        },
                    ));
                }
                Some(lc) => {
                    let mut old = stored_rules(h, &f.name(), name, chain)?;
                    for (i, r) in lc.rules.iter().enumerate() {
                        let Some(handle) = r.handle else { continue };
                        match old.remove(&handle) {
                            Some(mut o) => {
                                let now = events::rule_text_in(&idx, f, &r);
                                if now.nft != o.nft || now.iptables != o.iptables {
                                    // Replaced in place (same handle): it was here.
                                    o.index = Some(i);
                                    d.del_rule(f, name, chain, handle, o);
                                    d.adds.push(Change::NewRule(f, r, true));
                                }
                            }
                            None => d.adds.push(Change::NewRule(f, r, true)),
                        }
                    }
                    let mut gone: Vec<(u64, RuleText)> = old.into_iter().collect();
                    gone.sort_by_key(|(h, _)| *h);
                    for (handle, text) in gone {
                        d.del_rule(f, name, chain, handle, text);
                    }
                }
            }
        }
        if let Some(lt) = lt {
            for lc in &lt.chains {
                if !ts.chains.iter().any(|c| c == lc.name()) {
                    d.adds.push(Change::NewChain(f, lc.attrs.clone()));
                    for r in lc.rules.iter() {
                        d.adds.push(Change::NewRule(f, r, true));
                    }
                }
            }
        }
        d.table_objects(ts, lt, f, name);
        if lt.is_none() {
            d.del(Change::DelTable(
                f,
                nft::Table {
                    name: Some(name.clone()),
                    ..Default::default()
                },
            ));
        }
    }
    for lt in &live.tables {
        let f = lt.family;
        if stored
            .iter()
            .any(|(n, ts)| n == lt.name() && Family::from_u8(ts.family) == f)
        {
            continue;
        }
        d.adds.push(Change::NewTable(f, lt.attrs.clone()));
        for lc in &lt.chains {
            d.adds.push(Change::NewChain(f, lc.attrs.clone()));
            for r in lc.rules.iter() {
                d.adds.push(Change::NewRule(f, r, true));
            }
        }
        d.table_objects(&TableState::default(), Some(lt), f, lt.name());
    }
    let (mut changes, mut deleted): (Vec<Change>, Vec<Option<RuleText>>) =
        d.dels.into_iter().unzip();
    deleted.extend(d.adds.iter().map(|_| None));
    changes.extend(d.adds);
    Ok(events::records(
        live.generation,
        None,
        &changes,
        deleted,
        live,
        false,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_stored_rule_s_record_id_reads_from_its_start_or_its_whole() {
        let text = RuleText {
            handle: Some(4),
            index: Some(0),
            nft: "accept".into(),
            iptables: None,
            parts: vec![],
            target: None,
            comment: None,
        };
        let now = serde_json::to_vec(&StoredRule::of(&text, Some(1234567))).expect("json");
        assert!(now.starts_with(br#"{"record":1234567,"#), "record first");
        assert_eq!(RecordOf::read(&now), Some(1234567));
        let none = serde_json::to_vec(&StoredRule::of(&text, None)).expect("json");
        assert_eq!(RecordOf::read(&none), None);
        // As an older nfscoped wrote it (the field last), and odd starts.
        let old = br#"{"text":{"handle":4,"nft":"accept"},"parts":[],"record":77}"#;
        assert_eq!(RecordOf::read(old), Some(77));
        assert_eq!(RecordOf::read(br#"{"record":12x,"a":1}"#), None);
        assert_eq!(
            RecordOf::read(br#"{"record":99999999999999999999999}"#),
            None
        );
    }

    fn rule(kind: &str, chain: &str, handle: u64, nft: &str) -> Record {
        let mut r: Record = serde_json::from_value(serde_json::json!({
            "type": kind, "generation": 1, "backend": "nftables",
            "family": "inet", "table": "t", "chain": chain,
        }))
        .expect("record");
        let text = RuleText {
            handle: Some(handle),
            index: Some(0),
            nft: nft.into(),
            iptables: None,
            parts: vec![nft.into()],
            target: None,
            comment: None,
        };
        match kind {
            "rule_replaced" => {
                r.before = Some(RuleText {
                    nft: "old".into(),
                    ..text.clone()
                });
                r.after = Some(text);
            }
            _ => r.rule = Some(text),
        }
        r
    }

    fn stored(h: &History, chain: &str) -> Vec<(u64, String, Vec<String>)> {
        let mut v: Vec<_> = stored_rules(h, "inet", "t", chain)
            .expect("read")
            .into_iter()
            .map(|(k, t)| (k, t.nft, t.parts))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn rule_records_fold_into_the_stored_state_with_their_batch() {
        let path = std::env::temp_dir().join(format!("nfscope-gap-{}.redb", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let mut h = History::open(&path, Duration::MAX, u64::MAX).expect("open");
        let live = Ruleset::default();
        let batch = [
            rule("rule_added", "a", 5, "tcp dport 22 accept"),
            rule("rule_added", "a", 6, "udp dport 53 accept"),
            rule("rule_added", "ab", 7, "drop"),
        ];
        h.append_with_state(batch.to_vec(), &update_for(&batch, &live, None))
            .expect("append");
        assert_eq!(stored(&h, "a").len(), 2);
        let id_of = |h: &History, chain: &str, handle: u64| {
            rule_record(
                &h.reader().view().expect("view"),
                "inet",
                "t",
                chain,
                handle,
            )
            .expect("lookup")
        };
        assert_eq!(
            [id_of(&h, "a", 5), id_of(&h, "a", 6), id_of(&h, "ab", 7)],
            [Some(1), Some(2), Some(3)]
        );
        let walked = chain_record_ids(&h.reader().view().expect("view"), "inet", "t", "a");
        assert_eq!(
            walked.expect("walk"),
            [(5, 1), (6, 2)],
            "one chain's ids, not the chain whose name starts the same"
        );
        let replaced = "tcp dport 2222 accept";
        let batch = [
            rule("rule_replaced", "a", 5, replaced),
            rule("rule_removed", "a", 6, ""),
        ];
        h.append_with_state(batch.to_vec(), &update_for(&batch, &live, None))
            .expect("append");
        assert_eq!(
            stored(&h, "a"),
            vec![(5, replaced.to_string(), vec![replaced.to_string()])],
            "replaced in place, removed, parts kept"
        );
        assert_eq!([id_of(&h, "a", 5), id_of(&h, "a", 6)], [Some(4), None]);
        // A removed chain goes with its rules, not a chain whose name starts the same.
        let gone: Record = serde_json::from_value(serde_json::json!({
            "type": "chain_removed", "generation": 2, "backend": "nftables",
            "family": "inet", "table": "t", "chain": "a",
        }))
        .expect("record");
        let batch = [gone];
        h.append_with_state(batch.to_vec(), &update_for(&batch, &live, None))
            .expect("append");
        assert!(stored(&h, "a").is_empty());
        assert_eq!(stored(&h, "ab").len(), 1);
        assert_eq!([id_of(&h, "a", 5), id_of(&h, "ab", 7)], [None, Some(3)]);
        drop(h);
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn a_version_2_state_is_upgraded_in_place() {
        let path = std::env::temp_dir().join(format!("nfscope-gap-v2-{}.redb", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let mut h = History::open(&path, Duration::MAX, u64::MAX).expect("open");
        let live = Ruleset::default();
        assert!(on_start(&mut h, &live, None).expect("start").is_none());
        let batch = [
            rule("rule_added", "a", 5, "accept"),
            rule("rule_added", "a", 6, "drop"),
        ];
        h.append_with_state(batch.to_vec(), &update_for(&batch, &live, None))
            .expect("append");
        // As version 2 left it: no id entries.
        h.write_state(&StateUpdate {
            ops: vec![
                StateOp::DeletePrefix("i\0".into()),
                StateOp::Put(VERSION_KEY.into(), VERSION_2.to_vec()),
            ],
        })
        .expect("make it version 2");
        let view = h.reader().view().expect("view");
        assert_eq!(
            rule_record(&view, "inet", "t", "a", 5).expect("lookup"),
            None
        );
        drop(view);
        let (_records, _update) = on_start(&mut h, &live, None)
            .expect("start")
            .expect("compared, not stored whole");
        let view = h.reader().view().expect("view");
        assert_eq!(
            indexed_from(&view).expect("state"),
            Some(1),
            "still indexed from 1"
        );
        assert_eq!(
            [
                rule_record(&view, "inet", "t", "a", 5).expect("lookup"),
                rule_record(&view, "inet", "t", "a", 6).expect("lookup"),
            ],
            [Some(1), Some(2)]
        );
        drop(view);
        drop(h);
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn the_first_start_stores_and_the_next_compares() {
        let path =
            std::env::temp_dir().join(format!("nfscope-gap-first-{}.redb", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let mut h = History::open(&path, Duration::MAX, u64::MAX).expect("open");
        let live = Ruleset::default();
        assert!(on_start(&mut h, &live, None).expect("start").is_none());
        mark_stopped(&mut h).expect("stop");
        let (records, _) = on_start(&mut h, &live, None)
            .expect("start")
            .expect("a gap");
        assert_eq!(records.len(), 1, "nothing changed: the marker alone");
        let g = records[0].gap.expect("gap");
        assert!(g.clean && g.changes == 0 && g.down_ms >= 0, "{g:?}");
        drop(h);
        let _ = std::fs::remove_file(&path);
    }
}
