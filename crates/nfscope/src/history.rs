//! The change history: every record with its attribution, in an embedded database (redb), so it
//! survives restarts and `kill -9`. The daemon commits a transaction's records durably before
//! it sends them to any subscriber: nothing a client saw is lost. Bounded by age and count.
//! `nfscope history` reads the same file when no daemon holds it.

use crate::events::Record;
use anyhow::{Context, Result};
use redb::{Database, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const RECORDS: TableDefinition<u64, &[u8]> = TableDefinition::new("records");
/// What the daemon needs to compare on its next start (`crate::gap`): the ruleset as of the
/// last stored record, kept up to date in the same write transaction as the records.
const STATE: TableDefinition<&str, &[u8]> = TableDefinition::new("state");

/// Changes to the stored state, applied in order with a batch of records.
#[derive(Debug, Default)]
pub struct StateUpdate {
    pub ops: Vec<StateOp>,
}

#[derive(Debug)]
pub enum StateOp {
    Put(String, Vec<u8>),
    Delete(String),
    /// Delete every key starting with this.
    DeletePrefix(String),
    /// Fold in the rule record at this index of the batch (serialized only while written, so a
    /// batch of 80k rules holds no second copy of their texts).
    FoldRule(usize),
    /// Fold the batch's legacy records of this family (second) into the value at this key
    /// (first): which record gave each legacy rule its form (`crate::gap`).
    FoldLegacy(String, String),
}

/// A record as stored: its position, when it was received, and the record.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Stored {
    pub id: u64,
    pub time_unix_ms: i64,
    #[serde(flatten)]
    pub record: Record,
}

impl Stored {
    /// A stored record from its JSON. Two direct parses of the same bytes (the record, and its
    /// id and time) are about twice as fast as serde's `flatten`, which buffers every field.
    pub fn from_json(bytes: &[u8]) -> serde_json::Result<Stored> {
        #[derive(Deserialize)]
        struct Head {
            id: u64,
            time_unix_ms: i64,
        }
        let head: Head = serde_json::from_slice(bytes)?;
        Ok(Stored {
            id: head.id,
            time_unix_ms: head.time_unix_ms,
            record: serde_json::from_slice(bytes)?,
        })
    }

    /// A stored record from its JSON without its rules' texts (`rule`, `before`, `after`) and
    /// set counts: who, when, and what was lost. One pass, the texts skipped unread; what a
    /// text line about the change needs (blame's text formats).
    pub fn from_json_brief(bytes: &[u8]) -> serde_json::Result<Stored> {
        use crate::events::{Alert, Gap};
        use crate::process::ProcessInfo;
        #[derive(Deserialize)]
        struct Brief {
            id: u64,
            time_unix_ms: i64,
            #[serde(rename = "type")]
            kind: String,
            generation: u32,
            backend: String,
            family: String,
            table: String,
            #[serde(default)]
            chain: Option<String>,
            #[serde(default)]
            set: Option<String>,
            #[serde(default)]
            process: Option<ProcessInfo>,
            #[serde(default)]
            attribution: String,
            #[serde(default)]
            audit_event: Option<String>,
            #[serde(default)]
            lost: Vec<String>,
            #[serde(default)]
            reencoded: bool,
            #[serde(default)]
            alert: Option<Alert>,
            #[serde(default)]
            resync: bool,
            #[serde(default)]
            gap: Option<Gap>,
        }
        let b: Brief = serde_json::from_slice(bytes)?;
        Ok(Stored {
            id: b.id,
            time_unix_ms: b.time_unix_ms,
            record: Record {
                kind: b.kind,
                generation: b.generation,
                backend: b.backend,
                family: b.family,
                table: b.table,
                chain: b.chain,
                set: b.set,
                process: b.process,
                attribution: b.attribution,
                audit_event: b.audit_event,
                rule: None,
                before: None,
                after: None,
                lost: b.lost,
                gained: Vec::new(),
                reencoded: b.reencoded,
                alert: b.alert,
                resync: b.resync,
                elements_added: None,
                elements_removed: None,
                gap: b.gap,
            },
        })
    }
}

/// The head serde writes before a stored record's own fields, `{"id":N,"time_unix_ms":T,`:
/// id, time, and the rest (the record's fields and the closing brace).
fn split_head(b: &[u8]) -> Option<(u64, i64, &[u8])> {
    fn number(b: &[u8]) -> (&[u8], &[u8]) {
        let neg = usize::from(b.first() == Some(&b'-'));
        let end = neg + b[neg..].iter().take_while(|c| c.is_ascii_digit()).count();
        b.split_at(end)
    }
    let b = b.strip_prefix(br#"{"id":"#)?;
    let (id, b) = number(b);
    let b = b.strip_prefix(br#","time_unix_ms":"#)?;
    let (time, rest) = number(b);
    let rest = rest.strip_prefix(b",")?;
    let id = std::str::from_utf8(id).ok()?.parse().ok()?;
    let time = std::str::from_utf8(time).ok()?.parse().ok()?;
    Some((id, time, rest))
}

impl Stored {
    /// A stored record from its bytes in the history, and the JSON of its record alone (what
    /// `serde_json::to_string(&stored.record)` gives), cut from those bytes: neither the
    /// record's fields buffered for `flatten` nor serialized again.
    pub fn decode_with_json(b: &[u8]) -> Option<(Stored, String)> {
        if let Some((id, time_unix_ms, rest)) = split_head(b) {
            let mut json = String::with_capacity(rest.len() + 1);
            json.push('{');
            json.push_str(std::str::from_utf8(rest).ok()?);
            if let Ok(record) = serde_json::from_str::<Record>(&json) {
                let s = Stored {
                    id,
                    time_unix_ms,
                    record,
                };
                return Some((s, json));
            }
        }
        // Not as this version writes it: decoded the slow way.
        let s: Stored = serde_json::from_slice(b).ok()?;
        let json = serde_json::to_string(&s.record).ok()?;
        Some((s, json))
    }
}

/// redb's page cache. Its default (1 GiB) kept every record ever written resident; the daemon
/// reads recent records back while they are still in the OS page cache anyway.
const CACHE_BYTES: usize = 8 << 20;

pub struct History {
    db: Arc<Database>,
    next_id: u64,
    max_age: Duration,
    max_records: u64,
    inserts_since_prune: u64,
}

/// Filters for queries.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub since_unix_ms: i64,
    pub until_unix_ms: i64,
    pub after_id: u64,
    /// Only records of generations after this one (0: all).
    pub after_generation: u32,
    pub family: String,
    pub table: String,
    pub chain: String,
    pub alerts_only: bool,
    pub limit: usize,
}

impl Query {
    pub fn matches(&self, s: &Stored) -> bool {
        let r = &s.record;
        s.id > self.after_id
            && (self.after_generation == 0 || r.generation > self.after_generation)
            && (self.since_unix_ms == 0 || s.time_unix_ms >= self.since_unix_ms)
            && (self.until_unix_ms == 0 || s.time_unix_ms <= self.until_unix_ms)
            && (self.family.is_empty() || r.family == self.family)
            && (self.table.is_empty() || r.table == self.table)
            && (self.chain.is_empty() || r.chain.as_deref() == Some(self.chain.as_str()))
            && (!self.alerts_only || r.alert.is_some())
    }
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

impl History {
    /// Open the history read-only (for `nfscope history` in embedded mode).
    pub fn open_existing(path: &Path) -> Result<History> {
        if !path.exists() {
            anyhow::bail!(
                "no history at {} (nfscoped writes it; see --history)",
                path.display()
            );
        }
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .open(path)
            .map_err(|e| match e {
            redb::DatabaseError::DatabaseAlreadyOpen => anyhow::anyhow!(
                "{} is in use by a running nfscoped: ask it instead (nfscope --remote unix:/run/nfscope/nfscoped.sock history)",
                path.display()
            ),
            e => anyhow::anyhow!("open {}: {e}", path.display()),
        })?;
        Ok(History {
            db: Arc::new(db),
            next_id: 0,
            max_age: Duration::MAX,
            max_records: u64::MAX,
            inserts_since_prune: 0,
        })
    }

    pub fn open(path: &Path, max_age: Duration, max_records: u64) -> Result<History> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
        }
        let db = Database::builder()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .with_context(|| format!("open history database {}", path.display()))?;
        let w = db.begin_write()?;
        w.open_table(RECORDS)?;
        w.open_table(STATE)?;
        w.commit()?;
        let r = db.begin_read()?;
        let t = r.open_table(RECORDS)?;
        let next_id = t.last()?.map(|(k, _)| k.value() + 1).unwrap_or(1);
        drop(t);
        drop(r);
        Ok(History {
            db: Arc::new(db),
            next_id,
            max_age,
            max_records,
            inserts_since_prune: 0,
        })
    }

    /// The id the next record will get.
    pub fn next_id(&self) -> u64 {
        self.next_id
    }

    /// Store a transaction's records durably; returns them with ids and time.
    pub fn append(&mut self, records: &[Record]) -> Result<Vec<Stored>> {
        self.append_with_state(records.to_vec(), &StateUpdate::default())
    }

    /// [`History::append`] taking the records (a large transaction is not copied).
    pub fn append_owned(&mut self, records: Vec<Record>) -> Result<Vec<Stored>> {
        self.append_with_state(records, &StateUpdate::default())
    }

    /// [`History::append_owned`], and apply `state` in the same write transaction (both or
    /// neither survive a crash).
    pub fn append_with_state(
        &mut self,
        records: Vec<Record>,
        state: &StateUpdate,
    ) -> Result<Vec<Stored>> {
        let time = now_ms();
        let n = records.len() as u64;
        let mut out = Vec::with_capacity(records.len());
        let w = self.db.begin_write()?;
        {
            let mut t = w.open_table(STATE)?;
            apply_state(&mut t, state, &records, self.next_id)?;
        }
        {
            let mut t = w.open_table(RECORDS)?;
            for record in records {
                let s = Stored {
                    id: self.next_id,
                    time_unix_ms: time,
                    record,
                };
                let bytes = serde_json::to_vec(&s)?;
                t.insert(s.id, bytes.as_slice())?;
                self.next_id += 1;
                out.push(s);
            }
        }
        w.commit()?;
        self.inserts_since_prune += n;
        if self.inserts_since_prune > 10_000 || self.inserts_since_prune * 10 > self.max_records {
            self.prune()?;
        }
        Ok(out)
    }

    /// Drop records older than the age limit and beyond the count limit.
    pub fn prune(&mut self) -> Result<u64> {
        self.inserts_since_prune = 0;
        let oldest_ok = now_ms() - self.max_age.as_millis() as i64;
        let w = self.db.begin_write()?;
        let mut removed = 0;
        {
            let mut t = w.open_table(RECORDS)?;
            let len = t.len()?;
            let over = len.saturating_sub(self.max_records);
            let mut doomed = Vec::new();
            for (i, e) in t.iter()?.enumerate() {
                let (k, v) = e?;
                let old = Stored::from_json(v.value())
                    .map(|s| s.time_unix_ms < oldest_ok)
                    .unwrap_or(true);
                if (i as u64) < over || old {
                    doomed.push(k.value());
                } else {
                    break;
                }
            }
            for k in doomed {
                t.remove(k)?;
                removed += 1;
            }
        }
        w.commit()?;
        Ok(removed)
    }

    /// Every record, oldest first, handed to `f` one at a time (records that do not decode are
    /// skipped).
    pub fn scan(&self, f: impl FnMut(Stored)) -> Result<()> {
        self.reader().scan(f)
    }

    /// Records matching `q`, oldest first; the bool says whether the limit cut the answer.
    pub fn query(&self, q: &Query) -> Result<(Vec<Stored>, bool)> {
        self.reader().query(q)
    }

    /// Apply `state` alone (no record).
    pub fn write_state(&mut self, state: &StateUpdate) -> Result<()> {
        let w = self.db.begin_write()?;
        {
            let mut t = w.open_table(STATE)?;
            apply_state(&mut t, state, &[], self.next_id)?;
        }
        w.commit()?;
        Ok(())
    }

    /// The stored state value of `key`.
    pub fn state_get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.reader().state_get(key)
    }

    /// Every stored state entry whose key starts with `prefix`, in key order, one at a time.
    pub fn state_scan(&self, prefix: &str, f: impl FnMut(&str, &[u8])) -> Result<()> {
        self.reader().state_scan(prefix, f)
    }

    /// The newest record, if any.
    pub fn last(&self) -> Result<Option<Stored>> {
        let r = self.db.begin_read()?;
        let t = r.open_table(RECORDS)?;
        let last = t.last()?;
        Ok(last.and_then(|(_, v)| Stored::from_json(v.value()).ok()))
    }

    /// A handle that reads without this `History` (concurrent readers need no lock).
    pub fn reader(&self) -> Reader {
        Reader {
            db: self.db.clone(),
        }
    }
}

/// Apply `state` with `records`, whose first gets the id `first_id`.
fn apply_state(
    t: &mut redb::Table<'_, &str, &[u8]>,
    state: &StateUpdate,
    records: &[Record],
    first_id: u64,
) -> Result<()> {
    for op in &state.ops {
        apply_op(t, op, records, first_id)?;
    }
    Ok(())
}

fn apply_op(
    t: &mut redb::Table<'_, &str, &[u8]>,
    op: &StateOp,
    records: &[Record],
    first_id: u64,
) -> Result<()> {
    {
        match op {
            StateOp::FoldRule(i) => {
                if let Some(r) = records.get(*i) {
                    let mut res = Ok(());
                    crate::gap::fold_rule(r, first_id + *i as u64, |op| {
                        if res.is_ok() {
                            res = apply_op(t, &op, &[], first_id);
                        }
                    });
                    res?;
                }
            }
            StateOp::FoldLegacy(key, family) => {
                let old = t.get(key.as_str())?.map(|v| v.value().to_vec());
                let new = crate::gap::fold_legacy(old.as_deref(), family, records, first_id);
                t.insert(key.as_str(), new.as_slice())?;
            }
            StateOp::Put(k, v) => {
                t.insert(k.as_str(), v.as_slice())?;
            }
            StateOp::Delete(k) => {
                t.remove(k.as_str())?;
            }
            StateOp::DeletePrefix(p) => {
                // Keys are NUL-separated: a prefix ending in NUL ends before the same text
                // followed by \x01.
                match p.strip_suffix('\0') {
                    Some(stem) => {
                        let end = format!("{stem}\x01");
                        t.retain_in(p.as_str()..end.as_str(), |_, _| false)?;
                    }
                    None => {
                        let p = p.as_str();
                        t.retain_in(p.., |k, _| !k.starts_with(p))?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Reads the history; cheap to clone, usable from any thread while the writer appends.
#[derive(Clone)]
pub struct Reader {
    db: Arc<Database>,
}

impl Reader {
    /// Every record, oldest first, handed to `f` one at a time (records that do not decode are
    /// skipped). One read transaction: the writer goes on appending meanwhile.
    pub fn scan(&self, f: impl FnMut(Stored)) -> Result<()> {
        self.view()?.scan(f)
    }

    /// One consistent view of the history (a read transaction): what it reads stays as it was
    /// when the view began, whatever the writer appends meanwhile.
    pub fn view(&self) -> Result<View> {
        let r = self.db.begin_read()?;
        Ok(View {
            records: r.open_table(RECORDS)?,
            state: r.open_table(STATE)?,
        })
    }

    /// The records with these ids, by id (see [`View::get`]).
    pub fn get(&self, ids: &[u64]) -> Result<HashMap<u64, Stored>> {
        self.view()?.get(ids)
    }

    /// Whether any record has an id below `id`.
    pub fn any_before(&self, id: u64) -> Result<bool> {
        self.view()?.any_before(id)
    }

    /// The stored state value of `key`.
    pub fn state_get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.view()?.state_get(key)
    }

    /// Every stored state entry whose key starts with `prefix`, in key order, one at a time.
    pub fn state_scan(&self, prefix: &str, f: impl FnMut(&str, &[u8])) -> Result<()> {
        self.view()?.state_scan(prefix, f)
    }

    /// Records matching `q`, oldest first; the bool says whether the limit cut the answer.
    pub fn query(&self, q: &Query) -> Result<(Vec<Stored>, bool)> {
        let r = self.db.begin_read()?;
        let t = r.open_table(RECORDS)?;
        let limit = if q.limit == 0 { 10_000 } else { q.limit };
        let mut out = Vec::new();
        for e in t.range(q.after_id.saturating_add(1)..)? {
            let (_, v) = e?;
            let Ok(s) = Stored::from_json(v.value()) else {
                continue;
            };
            if q.until_unix_ms != 0 && s.time_unix_ms > q.until_unix_ms {
                break;
            }
            if q.matches(&s) {
                if out.len() == limit {
                    return Ok((out, true));
                }
                out.push(s);
            }
        }
        Ok((out, false))
    }

    /// The records with ids in `after+1 ..= upto`, at most `max`, oldest first (ids pruned or
    /// unreadable are absent: callers compare ids).
    pub fn range(&self, after: u64, upto: u64, max: usize) -> Result<Vec<Stored>> {
        let mut out = Vec::new();
        self.range_with_json(after, upto, max, |s, _| out.push(s))?;
        Ok(out)
    }

    /// [`Reader::range`], each record handed to `f` with its record's JSON text (see
    /// [`Stored::decode_with_json`]); the number handed over.
    pub fn range_with_json(
        &self,
        after: u64,
        upto: u64,
        max: usize,
        mut f: impl FnMut(Stored, String),
    ) -> Result<usize> {
        if upto <= after {
            return Ok(0);
        }
        let r = self.db.begin_read()?;
        let t = r.open_table(RECORDS)?;
        let mut n = 0;
        for e in t.range(after + 1..=upto)? {
            let (_, v) = e?;
            if let Some((s, json)) = Stored::decode_with_json(v.value()) {
                f(s, json);
                n += 1;
            }
            if n >= max {
                break;
            }
        }
        Ok(n)
    }
}

/// The history as it was when [`Reader::view`] was called (one read transaction, its tables open).
pub struct View {
    records: redb::ReadOnlyTable<u64, &'static [u8]>,
    state: redb::ReadOnlyTable<&'static str, &'static [u8]>,
}

impl View {
    /// The records with these ids (read in ascending order, for locality), by id; ids pruned or
    /// unreadable are absent.
    pub fn get(&self, ids: &[u64]) -> Result<HashMap<u64, Stored>> {
        self.get_with(ids, Stored::from_json)
    }

    /// [`View::get`] without the rules' texts ([`Stored::from_json_brief`]).
    pub fn get_brief(&self, ids: &[u64]) -> Result<HashMap<u64, Stored>> {
        self.get_with(ids, Stored::from_json_brief)
    }

    fn get_with(
        &self,
        ids: &[u64],
        decode: fn(&[u8]) -> serde_json::Result<Stored>,
    ) -> Result<HashMap<u64, Stored>> {
        let mut sorted = ids.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        let mut out = HashMap::with_capacity(sorted.len());
        let (Some(&first), Some(&last)) = (sorted.first(), sorted.last()) else {
            return Ok(out);
        };
        // Ids close together (a chain's rules, added by one restore) are read by walking their
        // range, one descent of the tree; scattered ones one by one.
        if last - first < 4 * sorted.len() as u64 {
            let mut want = sorted.iter().peekable();
            for e in self.records.range(first..=last)? {
                let (k, v) = e?;
                let id = k.value();
                while want.next_if(|w| **w < id).is_some() {}
                if want.next_if_eq(&&id).is_some() {
                    if let Ok(s) = decode(v.value()) {
                        out.insert(id, s);
                    }
                }
            }
            return Ok(out);
        }
        for id in sorted {
            if let Some(v) = self.records.get(id)? {
                if let Ok(s) = decode(v.value()) {
                    out.insert(id, s);
                }
            }
        }
        Ok(out)
    }

    /// Whether any record has an id below `id`.
    pub fn any_before(&self, id: u64) -> Result<bool> {
        let first = self.records.first()?.map(|(k, _)| k.value());
        Ok(first.is_some_and(|k| k < id))
    }

    /// The stored state value of `key`.
    pub fn state_get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.state_with(key, <[u8]>::to_vec)
    }

    /// What `f` makes of the stored state value of `key` (not copied).
    pub fn state_with<T>(&self, key: &str, f: impl FnOnce(&[u8]) -> T) -> Result<Option<T>> {
        Ok(self.state.get(key)?.map(|v| f(v.value())))
    }

    /// Every stored state entry whose key starts with `prefix`, in key order, one at a time.
    pub fn state_scan(&self, prefix: &str, mut f: impl FnMut(&str, &[u8])) -> Result<()> {
        for e in self.state.range(prefix..)? {
            let (k, v) = e?;
            if !k.value().starts_with(prefix) {
                break;
            }
            f(k.value(), v.value());
        }
        Ok(())
    }

    /// Every record, oldest first, handed to `f` one at a time (records that do not decode are
    /// skipped).
    pub fn scan(&self, mut f: impl FnMut(Stored)) -> Result<()> {
        for e in self.records.iter()? {
            let (_, v) = e?;
            if let Ok(s) = Stored::from_json(v.value()) {
                f(s);
            }
        }
        Ok(())
    }
}

/// UTC `YYYY-MM-DDTHH:MM:SS.mmmZ` from unix milliseconds.
pub fn fmt_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = nfscope_wire::civil::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms.rem_euclid(1000)
    )
}

#[cfg(test)]
mod tests {
    use super::Stored;
    use crate::events::{Record, RuleText};

    /// The JSON cut from the stored bytes is the record serialized, and the record decoded is
    /// the one the slow way decodes; bytes in another form are still read.
    #[test]
    fn a_stored_record_decodes_with_its_json() {
        let mut r: Record = serde_json::from_str(
            r#"{"type":"rule_added","generation":7,"backend":"nftables","family":"ip","table":"t \"q\"","chain":"c"}"#,
        )
        .unwrap();
        r.rule = Some(RuleText {
            handle: Some(4),
            index: Some(0),
            nft: "ip saddr 10.0.0.1 counter accept comment \"\u{e9}\\\n\"".into(),
            iptables: Some("-A c -s 10.0.0.1/32 -j ACCEPT".into()),
            ..RuleText::default()
        });
        r.lost = vec!["-p tcp".into()];
        for time_unix_ms in [1_795_000_000_123, -5, 0] {
            let s = Stored {
                id: 12345,
                time_unix_ms,
                record: r.clone(),
            };
            let bytes = serde_json::to_vec(&s).unwrap();
            let (d, json) = Stored::decode_with_json(&bytes).unwrap();
            assert_eq!(d, serde_json::from_slice::<Stored>(&bytes).unwrap());
            assert_eq!(json, serde_json::to_string(&s.record).unwrap());
            assert!(super::split_head(&bytes).is_some());
        }
        // Fields in another order (not as this version writes them): the slow way.
        let other = br#"{"time_unix_ms":3,"id":9,"type":"table_added","generation":1,"backend":"nftables","family":"ip","table":"t"}"#;
        let (d, json) = Stored::decode_with_json(other).unwrap();
        assert_eq!((d.id, d.time_unix_ms, d.record.table.as_str()), (9, 3, "t"));
        assert_eq!(json, serde_json::to_string(&d.record).unwrap());
        assert!(Stored::decode_with_json(b"{\"id\":1,\"time_unix_ms\":2}").is_none());
    }

    #[test]
    fn stored_from_json_reads_what_serde_writes() {
        let s: super::Stored = serde_json::from_value(serde_json::json!({
            "id": 7, "time_unix_ms": 1_795_000_000_123_i64, "type": "rule_added",
            "generation": 3, "backend": "nftables", "family": "ip", "table": "filter",
            "chain": "INPUT", "attribution": "netlink",
            "rule": {"handle": 5, "nft": "accept", "iptables": "-A INPUT -j ACCEPT"},
        }))
        .expect("serde's reading");
        let bytes = serde_json::to_vec(&s).expect("json");
        assert_eq!(super::Stored::from_json(&bytes).expect("ours"), s);
        let mut brief = s.clone();
        brief.record.rule = None;
        assert_eq!(
            super::Stored::from_json_brief(&bytes).expect("brief"),
            brief
        );
        assert!(super::Stored::from_json(br#"{"id": 1}"#).is_err());
    }

    #[test]
    fn records_are_got_by_id_close_together_or_scattered() {
        let path = std::env::temp_dir().join(format!("nfscope-get-{}.redb", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let mut h = super::History::open(&path, std::time::Duration::MAX, u64::MAX).expect("open");
        let records: Vec<Record> = (0..20)
            .map(|g| {
                serde_json::from_value(serde_json::json!({
                    "type": "table_added", "generation": g, "backend": "nftables",
                    "family": "ip", "table": "t",
                }))
                .expect("record")
            })
            .collect();
        h.append_with_state(records, &Default::default())
            .expect("append");
        let v = h.reader().view().expect("view");
        let gens = |ids: &[u64]| {
            let got = v.get(ids).expect("get");
            let mut g: Vec<(u64, u32)> = got
                .iter()
                .map(|(id, s)| (*id, s.record.generation))
                .collect();
            g.sort_unstable();
            g
        };
        // Close together (walked), with a duplicate and an id past the end.
        assert_eq!(gens(&[4, 2, 3, 4, 7, 21]), [(2, 1), (3, 2), (4, 3), (7, 6)]);
        // Scattered (one by one).
        assert_eq!(gens(&[1, 20, 1000]), [(1, 0), (20, 19)]);
        assert!(gens(&[]).is_empty());
        drop(v);
        drop(h);
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn time_format() {
        assert_eq!(super::fmt_time(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            super::fmt_time(1_795_000_000_123),
            "2026-11-18T11:06:40.123Z"
        );
    }
}
