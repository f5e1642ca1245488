//! Change records: one per rule / chain / table / set change of a transaction or resync, with
//! the rule's text before and after, and the semantic diff (a deleted and an added rule paired
//! into a replacement; what it lost and gained; the `match_removed` alert).
//!
//! Meaning, not encoding: two rules are compared through how iptables-nft reads them
//! (`Reader::TEXT`, the band every output prints; for ip/ip6 tables) or their nft text, so an xt `mark` match and the native `meta mark` form
//! of the same test are equal, and a 1.8.7 → 1.8.9 round trip raises no alert.

use crate::change::Change;
use crate::iptnft::{self, Reader};
use crate::model::{Chain, Packed, Ruleset, Table};
use crate::process::ProcessInfo;
use crate::render::nft::{self as nftr, NftOptions};
use nfscope_wire::nft::{Family, Rule};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::rc::Rc;

/// A rule as shown in a record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleText {
    pub handle: Option<u64>,
    /// Position in its chain (0-based) when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    /// nft text; empty for legacy rules, which have none (and then left out of the JSON).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub nft: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iptables: Option<String>,
    /// The parts compared for meaning (iptables parts, or the nft text).
    #[serde(skip, default)]
    pub parts: Vec<String>,
    #[serde(skip, default)]
    pub target: Option<String>,
    #[serde(skip, default)]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub kind: String,
    /// `severe` when the rule's verdict is DROP, REJECT or ACCEPT (the rule now applies to more
    /// packets than before), `warning` otherwise.
    pub severity: String,
}

/// One change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    #[serde(rename = "type")]
    pub kind: String,
    pub generation: u32,
    pub backend: String,
    pub family: String,
    pub table: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<ProcessInfo>,
    /// How `process` was learnt: `netlink` (an nf_tables commit names its process), `audit` (the
    /// kernel's audit record of a legacy table change), `none` (not known: a resync, or a
    /// legacy change seen by polling alone). Empty in records stored before this field existed.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub attribution: String,
    /// The audit event the writer was taken from (`SECONDS.MILLIS:SERIAL`, as `ausearch`
    /// shows it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_event: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<RuleText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<RuleText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<RuleText>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lost: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gained: Vec<String>,
    /// A replacement whose meaning did not change (only the encoding did).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reencoded: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<Alert>,
    /// Part of a resync (derived from a fresh snapshot after lost events).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub resync: bool,
    /// For set changes: elements added / removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elements_added: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elements_removed: Option<usize>,
    /// Set on the `gap` marker and on every change it introduces: changes made while nfscoped
    /// was not running, found on its next start by comparing what it had stored with the live
    /// ruleset (no process: `attribution` is `none`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gap: Option<Gap>,
}

impl Gap {
    /// `42 s`, `3 min 5 s`, `2 h 7 min`, `3 d 4 h`.
    pub fn human_duration(ms: i64) -> String {
        let s = ms.max(0) / 1000;
        match s {
            0..=59 => format!("down {s} s"),
            60..=3599 => format!("down {} min {} s", s / 60, s % 60),
            3600..=86_399 => format!("down {} h {} min", s / 3600, s % 3600 / 60),
            _ => format!("down {} d {} h", s / 86_400, s % 86_400 / 3600),
        }
    }
}

/// When nfscoped was down, for the changes found on its next start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gap {
    /// When it stopped: its clean shutdown, or (after `kill -9` or a crash) the last thing it
    /// stored (a record, its start, or its once-a-minute note that it is running).
    pub stopped_unix_ms: i64,
    /// Whether it shut down cleanly (SIGTERM); otherwise `stopped_unix_ms` is a lower bound.
    pub clean: bool,
    /// When it started again and compared.
    pub started_unix_ms: i64,
    pub down_ms: i64,
    /// How many change records the gap holds (they follow the marker).
    pub changes: u64,
}

impl Record {
    fn new(kind: &str, generation: u32, family: Family, table: &str) -> Record {
        Record {
            kind: kind.to_string(),
            generation,
            backend: "nftables".to_string(),
            family: family.name(),
            table: table.to_string(),
            chain: None,
            set: None,
            process: None,
            attribution: "none".to_string(),
            audit_event: None,
            rule: None,
            before: None,
            after: None,
            lost: vec![],
            gained: vec![],
            reencoded: false,
            alert: None,
            resync: false,
            elements_added: None,
            elements_removed: None,
            gap: None,
        }
    }

    /// The `gap` marker (no family, table or backend: it concerns the whole firewall).
    pub fn gap_marker(generation: u32, gap: Gap) -> Record {
        let mut r = Record::new("gap", generation, Family::Ip, "");
        r.family = String::new();
        r.backend = String::new();
        r.gap = Some(gap);
        r
    }
}

/// Chains by (family, table, chain) and, built on first use, rule positions by handle: a
/// transaction of 80k rules looks each one up once, not by scanning.
pub struct Index<'a> {
    chains: HashMap<ChainKey<'a>, (&'a Table, &'a Chain)>,
    positions: RefCell<HashMap<ChainKey<'a>, Rc<HashMap<u64, usize>>>>,
}

/// (family, table, chain).
type ChainKey<'a> = (Family, &'a str, &'a str);

impl<'a> Index<'a> {
    pub fn new(rs: &'a Ruleset) -> Index<'a> {
        let mut chains = HashMap::new();
        for t in &rs.tables {
            for c in &t.chains {
                chains.insert((t.family, t.name(), c.name()), (t, c));
            }
        }
        Index {
            chains,
            positions: RefCell::new(HashMap::new()),
        }
    }

    fn chain(&self, f: Family, r: &Rule) -> Option<(&'a Table, &'a Chain)> {
        self.chains
            .get(&(
                f,
                r.table.as_deref().unwrap_or(""),
                r.chain.as_deref().unwrap_or(""),
            ))
            .copied()
    }

    /// Position of the rule with `handle` in its chain.
    fn position(
        &self,
        f: Family,
        t: &'a Table,
        c: &'a Chain,
        handle: Option<u64>,
    ) -> Option<usize> {
        let key = (f, t.name(), c.name());
        let map = self
            .positions
            .borrow_mut()
            .entry(key)
            .or_insert_with(|| {
                Rc::new(
                    c.rules
                        .handles()
                        .enumerate()
                        .filter_map(|(i, h)| h.map(|h| (h, i)))
                        .collect(),
                )
            })
            .clone();
        handle.and_then(|h| map.get(&h).copied())
    }
}

/// Text of a rule, in the context of the ruleset `idx` indexes.
pub(crate) fn rule_text_in(idx: &Index<'_>, family: Family, r: &Rule) -> RuleText {
    let Some((t, c)) = idx.chain(family, r) else {
        let nft: String = r
            .expressions
            .iter()
            .flatten()
            .map(|e| e.name())
            .collect::<Vec<_>>()
            .join(" ");
        return RuleText {
            handle: r.handle,
            index: None,
            parts: vec![nft.clone()],
            nft,
            iptables: None,
            target: None,
            comment: r.comment(),
        };
    };
    let index = idx.position(family, t, c, r.handle);
    // Watch records keep nft 1.0.6's text (stable across versions of the history store).
    let nft = nftr::rule(t, c, r, &NftOptions::nft());
    if matches!(family, Family::Ip | Family::Ip6) {
        let ipt = iptnft::translate(t, c, r, Reader::TEXT);
        if ipt.refused.is_none() {
            let comment = ipt
                .matches
                .iter()
                .find(|p| p.text.starts_with("-m comment"))
                .map(|p| p.text.clone());
            return RuleText {
                handle: r.handle,
                index,
                iptables: Some(ipt.line()),
                parts: ipt
                    .head
                    .iter()
                    .chain(&ipt.matches)
                    .map(|p| p.text.clone())
                    .collect(),
                target: ipt.target.as_ref().map(|p| p.text.clone()),
                comment,
                nft,
            };
        }
    }
    RuleText {
        handle: r.handle,
        index,
        parts: vec![nft.clone()],
        nft,
        iptables: None,
        target: None,
        comment: r.comment(),
    }
}

/// The text of a deleted rule, in the view before its deletion: the DELRULE event carries the
/// whole rule; index and context come from the view.
fn deleted_text(idx: &Index<'_>, f: Family, r: &Rule) -> RuleText {
    let full = idx.chain(f, r).and_then(|(t, ch)| {
        idx.position(f, t, ch, r.handle)
            .and_then(|i| ch.rules.get(i))
    });
    rule_text_in(idx, f, full.as_ref().unwrap_or(r))
}

/// Texts of deleted rules, computed on the state *before* the changes are applied.
pub fn deleted_texts(before: &Ruleset, changes: &[Change]) -> Vec<Option<RuleText>> {
    if !changes.iter().any(|c| matches!(c, Change::DelRule(..))) {
        return vec![None; changes.len()];
    }
    let idx = Index::new(before);
    changes
        .iter()
        .map(|c| match c {
            Change::DelRule(f, r) => Some(deleted_text(&idx, *f, r)),
            _ => None,
        })
        .collect()
}

/// Records of a transaction (or resync), given the deleted rules' texts computed before the
/// changes were applied and `after`, the state after.
pub fn records(
    generation: u32,
    process: Option<&ProcessInfo>,
    changes: &[Change],
    deleted: Vec<Option<RuleText>>,
    after: &Ruleset,
    resync: bool,
) -> Vec<Record> {
    let mut others: Vec<Other> = Vec::new();
    let idx = Index::new(after);
    let mut chains_added = HashSet::new();
    // Rule deletions and additions, to pair them.
    let mut dels: Vec<Del> = Vec::new();
    let mut adds: Vec<(Family, String, String, RuleText)> = Vec::new();
    for (c, d) in changes.iter().zip(deleted) {
        match c {
            Change::NewRule(f, rule, _) => adds.push((
                *f,
                rule.table.clone().unwrap_or_default(),
                rule.chain.clone().unwrap_or_default(),
                rule_text_in(&idx, *f, rule),
            )),
            Change::DelRule(f, rule) => {
                if let Some(d) = d {
                    dels.push(Del {
                        family: *f,
                        table: rule.table.clone().unwrap_or_default(),
                        chain: rule.chain.clone().unwrap_or_default(),
                        text: Some(Box::new(d)),
                        rule: None,
                        handle: rule.handle,
                        used: false,
                    });
                }
            }
            c => other_record(c, &mut chains_added, &mut others),
        }
    }
    let mut out: Vec<Record> = others.into_iter().map(|o| o.record(generation)).collect();
    // Every text is at hand.
    let mut no_text = |_: &Del| RuleText::default();
    let mut p = Pairer::new(dels);
    for (f, t, c, a) in adds {
        out.push(p.add(generation, f, t, c, a, &mut no_text));
    }
    while let Some(r) = p.next_removed(generation, &mut no_text) {
        out.push(r);
    }
    for r in &mut out {
        finish(r, process, resync);
    }
    out
}

fn finish(r: &mut Record, process: Option<&ProcessInfo>, resync: bool) {
    r.process = process.cloned();
    if process.is_some() {
        r.attribution = "netlink".to_string();
    }
    r.resync = resync;
}

/// The record of a change that is not a rule's, small until it is made (a restore of a large
/// ruleset is tens of thousands of chain changes, held while the rule records are made).
struct Other {
    kind: &'static str,
    family: Family,
    table: String,
    chain: Option<String>,
    set: Option<String>,
    elements_added: Option<usize>,
    elements_removed: Option<usize>,
}

impl Other {
    fn record(self, generation: u32) -> Record {
        let mut r = Record::new(self.kind, generation, self.family, &self.table);
        r.chain = self.chain;
        r.set = self.set;
        r.elements_added = self.elements_added;
        r.elements_removed = self.elements_removed;
        r
    }
}

/// The record of a change that is not a rule's, added to `out` (set element changes of one
/// set are counted in one `set_changed` record).
fn other_record(
    c: &Change,
    chains_added: &mut HashSet<(Family, Option<String>, Option<String>)>,
    out: &mut Vec<Other>,
) {
    let simple = |kind, f: &Family, table: &Option<String>| Other {
        kind,
        family: *f,
        table: table.clone().unwrap_or_default(),
        chain: None,
        set: None,
        elements_added: None,
        elements_removed: None,
    };
    match c {
        Change::NewTable(f, t) => out.push(simple("table_added", f, &t.name)),
        Change::DelTable(f, t) => out.push(simple("table_removed", f, &t.name)),
        Change::NewChain(f, ch) => {
            let mut r = simple("chain_added", f, &ch.table);
            r.chain = ch.name.clone();
            // A base chain is announced twice (created, then its policy set): one record.
            if chains_added.insert((*f, ch.table.clone(), ch.name.clone())) {
                out.push(r);
            }
        }
        Change::DelChain(f, ch) => {
            let mut r = simple("chain_removed", f, &ch.table);
            r.chain = ch.name.clone();
            out.push(r);
        }
        Change::NewSet(f, s) | Change::DelSet(f, s) => {
            if s.flags.unwrap_or(0) & nfscope_wire::nft::set_flags::ANONYMOUS == 0 {
                let mut r = simple(
                    if matches!(c, Change::NewSet(..)) {
                        "set_added"
                    } else {
                        "set_removed"
                    },
                    f,
                    &s.table,
                );
                r.set = s.name.clone();
                out.push(r);
            }
        }
        Change::NewSetElems(f, l) | Change::DelSetElems(f, l) => {
            let n = l.elements.as_ref().map(|e| e.0.len()).unwrap_or(0);
            let name = l.set.clone().unwrap_or_default();
            if name.starts_with("__set") || name.starts_with("__map") {
                return; // anonymous sets belong to their rule
            }
            let added = matches!(c, Change::NewSetElems(..));
            match out.iter_mut().find(|r| {
                r.kind == "set_changed"
                    && r.set.as_deref() == Some(&name)
                    && r.table == l.table.clone().unwrap_or_default()
            }) {
                Some(r) => {
                    if added {
                        *r.elements_added.get_or_insert(0) += n;
                    } else {
                        *r.elements_removed.get_or_insert(0) += n;
                    }
                }
                None => {
                    let mut r = simple("set_changed", f, &l.table);
                    r.set = Some(name);
                    if added {
                        r.elements_added = Some(n);
                    } else {
                        r.elements_removed = Some(n);
                    }
                    out.push(r);
                }
            }
        }
        Change::NewObj(f, o) | Change::DelObj(f, o) => {
            let mut r = simple("object_changed", f, &o.table);
            r.set = o.name.clone();
            out.push(r);
        }
        Change::NewFlowtable(f, ft) | Change::DelFlowtable(f, ft) => {
            let mut r = simple("flowtable_changed", f, &ft.table);
            r.set = ft.name.clone();
            out.push(r);
        }
        Change::NewRule(..) | Change::DelRule(..) | Change::NewGen(_) | Change::Other { .. } => {}
    }
}

/// A deleted rule waiting to be paired with an added one. Its text is made (from the view
/// before the transaction) when its chain is first needed, unless it was given.
struct Del {
    family: Family,
    table: String,
    chain: String,
    /// Boxed: most deletions wait without one.
    text: Option<Box<RuleText>>,
    /// The rule as the event carried it, to make its text from (none: the view before the
    /// transaction holds it, by this handle).
    rule: Option<Packed>,
    handle: Option<u64>,
    used: bool,
}

impl Del {
    /// The rule to make the text from: as the event carried it, or only where it is (its text
    /// is then the view's rule's, as [`deleted_text`] makes it for any deletion the view holds).
    fn rule(&self) -> Rule {
        match &self.rule {
            Some(p) => p.decode(),
            None => Rule {
                table: Some(self.table.clone()),
                chain: Some(self.chain.clone()),
                handle: self.handle,
                ..Rule::default()
            },
        }
    }
}

/// The deletions of one chain, and (once an added rule of the chain looked) those not yet
/// paired by meaning.
#[derive(Default)]
struct ChainDels {
    dels: Vec<usize>,
    by_meaning: Option<HashMap<String, VecDeque<usize>>>,
}

/// Pairs deletions with additions in the same chain: first by equal meaning (parts and
/// target), in order, then by comment and target, then by position; the rest are plain
/// removals / additions. Indexed per chain, so pairing stays linear on a flush-and-restore of
/// a large ruleset.
struct Pairer {
    dels: Vec<Del>,
    chains: HashMap<(Family, String, String), ChainDels>,
    /// The next deletion `next_removed` looks at.
    removed: usize,
}

fn meaning(t: &RuleText) -> String {
    format!(
        "{}\u{0}{}",
        t.parts.join("\u{0}"),
        t.target.as_deref().unwrap_or("")
    )
}

type TextOf<'a> = dyn FnMut(&Del) -> RuleText + 'a;

impl Pairer {
    fn new(dels: Vec<Del>) -> Pairer {
        let mut chains: HashMap<(Family, String, String), ChainDels> = HashMap::new();
        for (i, d) in dels.iter().enumerate() {
            chains
                .entry((d.family, d.table.clone(), d.chain.clone()))
                .or_default()
                .dels
                .push(i);
        }
        Pairer {
            dels,
            chains,
            removed: 0,
        }
    }

    /// The record of an added rule (`a`, in `f`/`t`/`c`): the replacement of a deletion of its
    /// chain, or an addition.
    fn add(
        &mut self,
        generation: u32,
        f: Family,
        t: String,
        c: String,
        a: RuleText,
        text_of: &mut TextOf<'_>,
    ) -> Record {
        let dels = &mut self.dels;
        let found =
            self.chains
                .get_mut(&(f, t.clone(), c.clone()))
                .and_then(|cd| {
                    let by_meaning = cd.by_meaning.get_or_insert_with(|| {
                        let mut m: HashMap<String, VecDeque<usize>> = HashMap::new();
                        for &i in &cd.dels {
                            let d = &mut dels[i];
                            if d.used {
                                continue;
                            }
                            if d.text.is_none() {
                                d.text = Some(Box::new(text_of(d)));
                                d.rule = None;
                            }
                            if let Some(text) = &d.text {
                                m.entry(meaning(text)).or_default().push_back(i);
                            }
                        }
                        m
                    });
                    let key = meaning(&a);
                    let by_meaning = by_meaning.get_mut(&key).and_then(|q| {
                        while let Some(i) = q.pop_front() {
                            if !dels[i].used {
                                return Some(i);
                            }
                        }
                        None
                    });
                    let text = |i: usize| dels[i].text.as_ref().filter(|_| !dels[i].used);
                    let by_label = || {
                        cd.dels.iter().copied().find(|&i| {
                            text(i).is_some_and(|b| {
                                b.target == a.target
                                    && b.comment == a.comment
                                    && (a.comment.is_some() || b.index == a.index)
                            })
                        })
                    };
                    let by_position = || {
                        cd.dels.iter().copied().find(|&i| {
                            text(i).is_some_and(|b| b.index.is_some() && b.index == a.index)
                        })
                    };
                    by_meaning.or_else(by_label).or_else(by_position)
                });
        let Some(i) = found else {
            let mut r = Record::new("rule_added", generation, f, &t);
            r.chain = Some(c);
            r.rule = Some(a);
            return r;
        };
        dels[i].used = true;
        let b = dels[i].text.take().map(|b| *b).unwrap_or_default();
        let mut r = Record::new("rule_replaced", generation, f, &t);
        r.chain = Some(c);
        r.lost = b
            .parts
            .iter()
            .filter(|p| !a.parts.contains(p))
            .cloned()
            .collect();
        r.gained = a
            .parts
            .iter()
            .filter(|p| !b.parts.contains(p))
            .cloned()
            .collect();
        if b.target != a.target {
            r.lost.extend(b.target.clone());
            r.gained.extend(a.target.clone());
        }
        r.reencoded = r.lost.is_empty() && r.gained.is_empty();
        let matches_lost = b.parts.iter().any(|p| !a.parts.contains(p));
        if matches_lost {
            let severe = matches!(a.target.as_deref(), Some("-j DROP" | "-j ACCEPT"))
                || a.target
                    .as_deref()
                    .is_some_and(|t| t.starts_with("-j REJECT"));
            r.alert = Some(Alert {
                kind: "match_removed".into(),
                severity: if severe { "severe" } else { "warning" }.into(),
            });
        }
        r.before = Some(b);
        r.after = Some(a);
        r
    }

    /// Whether every deletion has its record.
    fn done(&mut self) -> bool {
        while self.dels.get(self.removed).is_some_and(|d| d.used) {
            self.removed += 1;
        }
        self.removed == self.dels.len()
    }

    /// The record of the next deletion no addition replaced (in their order), after all
    /// additions.
    fn next_removed(&mut self, generation: u32, text_of: &mut TextOf<'_>) -> Option<Record> {
        if self.done() {
            return None;
        }
        let d = &mut self.dels[self.removed];
        self.removed += 1;
        let b = match d.text.take() {
            Some(b) => *b,
            None => text_of(d),
        };
        d.used = true;
        d.rule = None;
        let mut r = Record::new("rule_removed", generation, d.family, &d.table);
        r.chain = Some(std::mem::take(&mut d.chain));
        r.rule = Some(b);
        Some(r)
    }
}

/// A change of a transaction being received. Rules stay packed (a restore of 80k rules is
/// one transaction of 160k rule changes, held until the kernel's NEWGEN closes it).
pub(crate) enum Pending {
    Rule {
        family: Family,
        table: String,
        chain: String,
        del: bool,
        append: bool,
        rule: Packed,
    },
    /// A deletion of a rule the view holds, in a transaction of more changes than a part:
    /// nothing of the event is kept (the text of a deleted rule the view holds is made from
    /// the view's rule).
    Held {
        family: Family,
        table: String,
        chain: String,
        handle: Option<u64>,
    },
    /// Boxed: a `Change` is far larger than a packed rule's slot.
    Other(Box<Change>),
}

impl Pending {
    /// `c` as decoded from a message whose attributes were `attrs`.
    pub(crate) fn new(c: Change, attrs: &[u8]) -> Pending {
        match c {
            // An addition's table and chain are read from its rule when its record is made.
            Change::NewRule(family, r, append) => Pending::Rule {
                family,
                del: false,
                append,
                rule: Packed::from_wire(attrs, r.handle),
                table: String::new(),
                chain: String::new(),
            },
            Change::DelRule(family, r) => Pending::Rule {
                family,
                del: true,
                append: false,
                rule: Packed::from_wire(attrs, r.handle),
                table: r.table.unwrap_or_default(),
                chain: r.chain.unwrap_or_default(),
            },
            c => Pending::Other(Box::new(c)),
        }
    }

    /// The deletion of the rule `r` (of `family`), which the view holds.
    pub(crate) fn held(family: Family, r: Rule) -> Pending {
        Pending::Held {
            family,
            table: r.table.unwrap_or_default(),
            chain: r.chain.unwrap_or_default(),
            handle: r.handle,
        }
    }

    pub(crate) fn change(&self) -> Cow<'_, Change> {
        match self {
            Pending::Other(c) => Cow::Borrowed(&**c),
            Pending::Held {
                family,
                table,
                chain,
                handle,
            } => Cow::Owned(Change::DelRule(
                *family,
                Rule {
                    table: Some(table.clone()),
                    chain: Some(chain.clone()),
                    handle: *handle,
                    ..Rule::default()
                },
            )),
            Pending::Rule {
                family,
                del,
                append,
                rule,
                ..
            } => Cow::Owned(if *del {
                Change::DelRule(*family, rule.decode())
            } else {
                Change::NewRule(*family, rule.decode(), *append)
            }),
        }
    }

    /// An added rule's packed form (shared, not copied), for the view.
    pub(crate) fn packed(&self) -> Option<Packed> {
        match self {
            Pending::Rule {
                del: false, rule, ..
            } => Some(rule.clone()),
            _ => None,
        }
    }

    pub(crate) fn into_change(self) -> Change {
        match self {
            Pending::Other(c) => *c,
            p => p.change().into_owned(),
        }
    }
}

/// A large transaction's records, made a part at a time: the same records, in the same order,
/// as [`records`] makes at once. Holds the view before the transaction (its rules are shared
/// with the live view, not copied) and the transaction's rule changes packed; the texts of
/// deleted rules are made when their chain is reached.
pub(crate) struct RecordParts {
    generation: u32,
    process: Option<ProcessInfo>,
    before: Ruleset,
    head: VecDeque<Other>,
    adds: VecDeque<(Family, Packed)>,
    pairer: Pairer,
}

impl RecordParts {
    /// `changes` have been applied to `before`'s copy, the live view.
    pub(crate) fn new(
        generation: u32,
        process: Option<ProcessInfo>,
        changes: Vec<Pending>,
        before: Ruleset,
    ) -> RecordParts {
        let mut head = Vec::new();
        let mut chains_added = HashSet::new();
        let mut adds = VecDeque::new();
        let mut dels = Vec::new();
        for p in changes {
            match p {
                Pending::Rule {
                    family,
                    del: false,
                    rule,
                    ..
                } => adds.push_back((family, rule)),
                Pending::Rule {
                    family,
                    table,
                    chain,
                    rule,
                    ..
                } => dels.push(Del {
                    family,
                    table,
                    chain,
                    text: None,
                    handle: None,
                    rule: Some(rule),
                    used: false,
                }),
                Pending::Held {
                    family,
                    table,
                    chain,
                    handle,
                } => dels.push(Del {
                    family,
                    table,
                    chain,
                    text: None,
                    rule: None,
                    handle,
                    used: false,
                }),
                Pending::Other(c) => other_record(&c, &mut chains_added, &mut head),
            }
        }
        RecordParts {
            generation,
            process,
            before,
            head: head.into(),
            adds,
            pairer: Pairer::new(dels),
        }
    }

    /// The next at most `max` records (none: all were made); `after` is the view after the
    /// transaction.
    pub(crate) fn next_part(&mut self, after: &Ruleset, max: usize) -> Vec<Record> {
        let max = max.max(1);
        let mut out = Vec::new();
        while out.len() < max {
            match self.head.pop_front() {
                Some(o) => out.push(o.record(self.generation)),
                None => break,
            }
        }
        if out.len() < max && !(self.adds.is_empty() && self.pairer.done()) {
            let before = Index::new(&self.before);
            let mut text_of = |d: &Del| deleted_text(&before, d.family, &d.rule());
            if !self.adds.is_empty() {
                let after = Index::new(after);
                while out.len() < max {
                    let Some((f, p)) = self.adds.pop_front() else {
                        break;
                    };
                    let rule = p.decode();
                    let a = rule_text_in(&after, f, &rule);
                    let (t, c) = (
                        rule.table.unwrap_or_default(),
                        rule.chain.unwrap_or_default(),
                    );
                    out.push(self.pairer.add(self.generation, f, t, c, a, &mut text_of));
                }
            }
            while out.len() < max {
                match self.pairer.next_removed(self.generation, &mut text_of) {
                    Some(r) => out.push(r),
                    None => break,
                }
            }
        }
        for r in &mut out {
            finish(r, self.process.as_ref(), false);
        }
        out
    }

    /// Whether every record was made.
    pub(crate) fn done(&mut self) -> bool {
        self.head.is_empty() && self.adds.is_empty() && self.pairer.done()
    }
}

/// A legacy family's rules as save lines, per (table, chain): `(-A line, the parts compared for
/// meaning with the target part last)`.
pub(crate) type LegacyChains = Vec<(String, String, Vec<(String, Vec<String>)>)>;

/// The save lines of `l`'s tables of `fam` (iptables-save for ip/ip6, arptables-legacy-save's
/// rule text for arp), chain by chain.
pub(crate) fn legacy_chains(
    l: &crate::legacy::LegacyRuleset,
    fam: nfscope_wire::xt::entry::Family,
) -> LegacyChains {
    use crate::render::iptables::{chain_order, legacy_save, SaveOptions};
    use crate::render::{arptables, arptables::PartKind};
    use nfscope_wire::xt::entry::Family as XtFamily;
    type Chains = LegacyChains;
    fn parse(text: &str) -> Chains {
        let mut out: Chains = Vec::new();
        let mut table = String::new();
        for l in text.lines() {
            if let Some(t) = l.strip_prefix('*') {
                table = t.to_string();
            } else if let Some(c) = l.strip_prefix(':') {
                let name = c.split_whitespace().next().unwrap_or("").to_string();
                out.push((table.clone(), name, vec![]));
            } else if let Some(rest) = l.strip_prefix("-A ") {
                let chain = rest.split_whitespace().next().unwrap_or("");
                if let Some(e) = out.iter_mut().find(|(t, c, _)| *t == table && c == chain) {
                    e.2.push((l.to_string(), parts(l)));
                }
            }
        }
        out
    }
    fn parts(line: &str) -> Vec<String> {
        // "-A C -s x -m mark --mark 1 -j DROP" → ["-s x", "-m mark --mark 1", "-j DROP"]
        let mut out: Vec<String> = Vec::new();
        for tok in line.split(' ').skip(2) {
            let starts = matches!(
                tok,
                "-m" | "-j" | "-g" | "-s" | "-d" | "-i" | "-o" | "-p" | "-f" | "!"
            );
            match out.last_mut() {
                Some(last) if !starts || last == "!" => {
                    last.push(' ');
                    last.push_str(tok);
                }
                _ => out.push(tok.to_string()),
            }
        }
        out
    }
    /// arp rules from the model: arptables prints the target first; its parts put the target
    /// (with its options) last, like the iptables ones.
    fn arp_chains(l: &crate::legacy::LegacyRuleset) -> Chains {
        let mut out: Chains = Vec::new();
        for t in l.family(XtFamily::Arp) {
            for c in chain_order(t) {
                let rules = c
                    .rules
                    .iter()
                    .map(|r| {
                        let mut conds = Vec::new();
                        let mut target = String::new();
                        for p in arptables::rule_parts(&r) {
                            match p.kind {
                                PartKind::Condition => conds.push(p.text.trim_end().to_string()),
                                _ => target.push_str(&p.text),
                            }
                        }
                        if !target.is_empty() {
                            conds.push(target.trim_end().to_string());
                        }
                        (format!("-A {} {}", c.name, arptables::rule_line(&r)), conds)
                    })
                    .collect();
                out.push((t.name.clone(), c.name.clone(), rules));
            }
        }
        out
    }
    match fam {
        XtFamily::Arp => arp_chains(l),
        _ => parse(&legacy_save(l, fam, SaveOptions::default())),
    }
}

/// Records for a change of the legacy x_tables tables (seen by polling): chains added and removed,
/// and rules added, removed or replaced (paired by position in their chain), compared through
/// their save lines (iptables-save for ip/ip6, arptables-legacy-save for arp).
pub fn legacy_records(
    old: &crate::legacy::LegacyRuleset,
    new: &crate::legacy::LegacyRuleset,
) -> Vec<Record> {
    use nfscope_wire::xt::entry::Family as XtFamily;
    let mut out = Vec::new();
    for fam in [XtFamily::Ipv4, XtFamily::Ipv6, XtFamily::Arp] {
        let (a, b) = (legacy_chains(old, fam), legacy_chains(new, fam));
        legacy_family_records(legacy_family_name(fam), &a, &b, &mut out);
    }
    out
}

/// The watch records' name of a legacy family.
pub(crate) fn legacy_family_name(f: nfscope_wire::xt::entry::Family) -> &'static str {
    use nfscope_wire::xt::entry::Family as XtFamily;
    match f {
        XtFamily::Ipv4 => "ip",
        XtFamily::Ipv6 => "ip6",
        XtFamily::Arp => "arp",
    }
}

/// [`legacy_records`] of one family (`name`: ip, ip6, arp), from its chains before (`a`) and
/// after (`b`).
pub(crate) fn legacy_family_records(
    name: &str,
    a: &LegacyChains,
    b: &LegacyChains,
    out: &mut Vec<Record>,
) {
    let text = |l: &str, p: &[String], i: usize| RuleText {
        handle: None,
        index: Some(i),
        nft: String::new(),
        iptables: Some(l.to_string()),
        parts: p.to_vec(),
        target: None,
        comment: None,
    };
    {
        let rec = |kind: &str, table: &str, chain: &str| {
            let mut r = Record::new(kind, 0, Family::Ip, table);
            r.family = name.to_string();
            r.backend = "legacy".into();
            r.chain = Some(chain.to_string());
            r
        };
        for (t, c, _) in a {
            if !b.iter().any(|(t2, c2, _)| t2 == t && c2 == c) {
                out.push(rec("chain_removed", t, c));
            }
        }
        for (t, c, new_lines) in b {
            let old_lines = a
                .iter()
                .find(|(t2, c2, _)| t2 == t && c2 == c)
                .map(|x| x.2.as_slice());
            if old_lines.is_none() {
                out.push(rec("chain_added", t, c));
            }
            let old_lines = old_lines.unwrap_or(&[]);
            // Lines as multisets: a rule added twice (two equal lines) is an addition too.
            type Line = (String, Vec<String>);
            let unmatched = |from: &[Line], against: &[Line]| -> Vec<usize> {
                let mut left: std::collections::HashMap<&str, usize> =
                    std::collections::HashMap::new();
                for (l, _) in against {
                    *left.entry(l.as_str()).or_default() += 1;
                }
                (0..from.len())
                    .filter(|&i| match left.get_mut(from[i].0.as_str()) {
                        Some(n) if *n > 0 => {
                            *n -= 1;
                            false
                        }
                        _ => true,
                    })
                    .collect()
            };
            let gone: Vec<(usize, &Line)> = unmatched(old_lines, new_lines)
                .into_iter()
                .map(|i| (i, &old_lines[i]))
                .collect();
            let came: Vec<(usize, &Line)> = unmatched(new_lines, old_lines)
                .into_iter()
                .map(|i| (i, &new_lines[i]))
                .collect();
            let mut used = vec![false; gone.len()];
            for (i, l) in &came {
                let before = text(&l.0, &l.1, *i);
                match gone.iter().position(|(j, _)| j == i) {
                    Some(k) if !used[k] => {
                        used[k] = true;
                        let b = text(&gone[k].1 .0, &gone[k].1 .1, gone[k].0);
                        let mut r = rec("rule_replaced", t, c);
                        r.lost = b
                            .parts
                            .iter()
                            .filter(|p| !before.parts.contains(p))
                            .cloned()
                            .collect();
                        r.gained = before
                            .parts
                            .iter()
                            .filter(|p| !b.parts.contains(p))
                            .cloned()
                            .collect();
                        let target_kept = b.parts.last() == before.parts.last();
                        if target_kept && !r.lost.is_empty() {
                            let severe = before.parts.last().is_some_and(|p| {
                                p == "-j DROP" || p == "-j ACCEPT" || p.starts_with("-j REJECT")
                            });
                            r.alert = Some(Alert {
                                kind: "match_removed".into(),
                                severity: if severe { "severe" } else { "warning" }.into(),
                            });
                        }
                        r.before = Some(b);
                        r.after = Some(before);
                        out.push(r);
                    }
                    _ => {
                        let mut r = rec("rule_added", t, c);
                        r.rule = Some(before);
                        out.push(r);
                    }
                }
            }
            for (k, (j, l)) in gone.iter().enumerate() {
                if !used[k] {
                    let mut r = rec("rule_removed", t, c);
                    r.rule = Some(text(&l.0, &l.1, *j));
                    out.push(r);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_legacy_rule_has_no_nft_text_in_json() {
        let t = RuleText {
            handle: None,
            index: Some(0),
            nft: String::new(),
            iptables: Some("-A INPUT -j ACCEPT".into()),
            parts: vec![],
            target: None,
            comment: None,
        };
        let v = serde_json::to_value(&t).expect("json");
        assert!(v.get("nft").is_none(), "{v}");
        let back: RuleText = serde_json::from_value(v).expect("read back");
        assert_eq!(back.nft, "");
    }
}
