//! A Watch replay's records encoded straight from their stored bytes into the protobuf
//! `WatchEvent` a client receives: the stored JSON is parsed in place (its strings borrowed
//! from the database's page, copied only where they hold escapes) and written out once, on
//! the thread that reads the history. The typed way (`Stored` → `pb::Record` → prost) gave
//! every field its own allocation, moved large structs through the queue, and encoded them
//! on the thread serving the connection: most of the replay's time.
//!
//! `StoredRef` mirrors `nfscope::events::Record` (with the stored `id` and `time_unix_ms`) and
//! `encode` mirrors `proto_conv::record`, field for field; a test compares the bytes with
//! prost's encoding of the typed conversion, for a record with every field set. A record this
//! way does not parse (not as this version stores it) goes the typed way.

use bytes::{BufMut, Bytes, BytesMut};
use nfscope::events::Gap;
use nfscope::history::{Fields, Query};
use prost::encoding::{encode_key, encode_varint, encoded_len_varint, key_len, WireType};
use serde::de::{Deserializer, Visitor};
use serde::Deserialize;
use std::borrow::Cow;

/// A string of the stored JSON: borrowed from it unless it holds escapes.
#[derive(Debug, Default)]
struct Str<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

impl Str<'_> {
    fn as_str(&self) -> &str {
        &self.0
    }
}

/// `nfscope::events::Record` as stored (with its id and time), borrowed.
#[derive(Deserialize)]
struct StoredRef<'a> {
    id: u64,
    time_unix_ms: i64,
    #[serde(rename = "type", borrow)]
    kind: Str<'a>,
    generation: u32,
    #[serde(borrow)]
    backend: Str<'a>,
    #[serde(borrow)]
    family: Str<'a>,
    #[serde(borrow)]
    table: Str<'a>,
    #[serde(default, borrow)]
    chain: Option<Str<'a>>,
    #[serde(default, borrow)]
    set: Option<Str<'a>>,
    #[serde(default, borrow)]
    process: Option<ProcessRef<'a>>,
    #[serde(default, borrow)]
    attribution: Str<'a>,
    #[serde(default, borrow)]
    audit_event: Option<Str<'a>>,
    #[serde(default, borrow)]
    rule: Option<RuleRef<'a>>,
    #[serde(default, borrow)]
    before: Option<RuleRef<'a>>,
    #[serde(default, borrow)]
    after: Option<RuleRef<'a>>,
    #[serde(default, borrow)]
    lost: Vec<Str<'a>>,
    #[serde(default, borrow)]
    gained: Vec<Str<'a>>,
    #[serde(default)]
    reencoded: bool,
    #[serde(default, borrow)]
    alert: Option<AlertRef<'a>>,
    #[serde(default)]
    resync: bool,
    #[serde(default)]
    elements_added: Option<usize>,
    #[serde(default)]
    elements_removed: Option<usize>,
    #[serde(default)]
    gap: Option<Gap>,
}

/// `nfscope::process::ProcessInfo`, borrowed.
#[derive(Deserialize)]
struct ProcessRef<'a> {
    pid: u32,
    #[serde(borrow)]
    comm: Str<'a>,
    #[serde(default, borrow)]
    exe: Option<Str<'a>>,
    #[serde(default, borrow)]
    cmdline: Option<Vec<Str<'a>>>,
    #[serde(default, borrow)]
    cgroup: Option<Str<'a>>,
    #[serde(default, borrow)]
    container: Option<Str<'a>>,
    #[serde(default, borrow)]
    pod_uid: Option<Str<'a>>,
    gone: bool,
}

/// `nfscope::events::RuleText` (what the proto carries of it), borrowed.
#[derive(Deserialize)]
struct RuleRef<'a> {
    handle: Option<u64>,
    #[serde(default, borrow)]
    nft: Str<'a>,
    #[serde(default, borrow)]
    iptables: Option<Str<'a>>,
}

/// `nfscope::events::Alert`, borrowed.
#[derive(Deserialize)]
struct AlertRef<'a> {
    #[serde(borrow)]
    kind: Str<'a>,
    #[serde(borrow)]
    severity: Str<'a>,
}

/// Where protobuf goes: counted (for a message's length prefix) or written.
trait Out {
    fn put(&mut self, b: &[u8]);
    fn varint(&mut self, v: u64);
}

struct Count(usize);

impl Out for Count {
    fn put(&mut self, b: &[u8]) {
        self.0 += b.len();
    }
    fn varint(&mut self, v: u64) {
        self.0 += encoded_len_varint(v);
    }
}

impl Out for BytesMut {
    fn put(&mut self, b: &[u8]) {
        self.put_slice(b);
    }
    fn varint(&mut self, v: u64) {
        encode_varint(v, self);
    }
}

fn key(o: &mut dyn Out, tag: u32, wt: WireType) {
    let mut k = [0u8; 5];
    let n = key_len(tag);
    let mut b = &mut k[..];
    encode_key(tag, wt, &mut b);
    o.put(&k[..n]);
}

/// A length-delimited field of these pieces, even if empty (repeated elements, `json`).
fn bytes_always(o: &mut dyn Out, tag: u32, parts: &[&[u8]]) {
    key(o, tag, WireType::LengthDelimited);
    o.varint(parts.iter().map(|p| p.len() as u64).sum());
    for p in parts {
        o.put(p);
    }
}

/// A proto3 string field: left out when empty.
fn string(o: &mut dyn Out, tag: u32, s: &str) {
    if !s.is_empty() {
        bytes_always(o, tag, &[s.as_bytes()]);
    }
}

fn opt_string(o: &mut dyn Out, tag: u32, s: &Option<Str<'_>>) {
    if let Some(s) = s {
        string(o, tag, s.as_str());
    }
}

/// A proto3 varint field: left out when 0 (`always`: a proto3 `optional` that is set).
fn varint(o: &mut dyn Out, tag: u32, v: u64, always: bool) {
    if v != 0 || always {
        key(o, tag, WireType::Varint);
        o.varint(v);
    }
}

/// A message field (present, even if empty).
fn message(o: &mut dyn Out, tag: u32, f: &dyn Fn(&mut dyn Out)) {
    let mut n = Count(0);
    f(&mut n);
    key(o, tag, WireType::LengthDelimited);
    o.varint(n.0 as u64);
    f(o);
}

fn rule(o: &mut dyn Out, tag: u32, r: &Option<RuleRef<'_>>) {
    if let Some(r) = r {
        message(o, tag, &|o| {
            varint(o, 1, r.handle.unwrap_or(0), false);
            string(o, 2, r.nft.as_str());
            opt_string(o, 3, &r.iptables);
        });
    }
}

/// The `Record` (as `proto_conv::record` makes it), with `json` the record's JSON in pieces.
fn record(o: &mut dyn Out, s: &StoredRef<'_>, json: &[&[u8]]) {
    varint(o, 1, s.id, false);
    varint(o, 2, s.time_unix_ms as u64, false);
    string(o, 3, s.kind.as_str());
    varint(o, 4, s.generation.into(), false);
    string(o, 5, s.backend.as_str());
    string(o, 6, s.family.as_str());
    string(o, 7, s.table.as_str());
    opt_string(o, 8, &s.chain);
    if let Some(p) = &s.process {
        message(o, 9, &|o| {
            varint(o, 1, p.pid.into(), false);
            string(o, 2, p.comm.as_str());
            opt_string(o, 3, &p.exe);
            for a in p.cmdline.iter().flatten() {
                bytes_always(o, 4, &[a.as_str().as_bytes()]);
            }
            opt_string(o, 5, &p.cgroup);
            opt_string(o, 6, &p.container);
            opt_string(o, 7, &p.pod_uid);
            varint(o, 8, p.gone.into(), false);
        });
    }
    rule(o, 10, &s.rule);
    rule(o, 11, &s.before);
    rule(o, 12, &s.after);
    for l in &s.lost {
        bytes_always(o, 13, &[l.as_str().as_bytes()]);
    }
    for g in &s.gained {
        bytes_always(o, 14, &[g.as_str().as_bytes()]);
    }
    if let Some(a) = &s.alert {
        message(o, 15, &|o| {
            string(o, 1, a.kind.as_str());
            string(o, 2, a.severity.as_str());
        });
    }
    varint(o, 16, s.resync.into(), false);
    if json.iter().any(|p| !p.is_empty()) {
        bytes_always(o, 17, json);
    }
    string(o, 18, s.attribution.as_str());
    opt_string(o, 19, &s.audit_event);
    opt_string(o, 20, &s.set);
    if let Some(n) = s.elements_added {
        varint(o, 21, n as u64, true);
    }
    if let Some(n) = s.elements_removed {
        varint(o, 22, n as u64, true);
    }
    varint(o, 23, s.reencoded.into(), false);
    if let Some(g) = &s.gap {
        message(o, 24, &|o| {
            varint(o, 1, g.stopped_unix_ms as u64, false);
            varint(o, 2, g.clean.into(), false);
            varint(o, 3, g.started_unix_ms as u64, false);
            varint(o, 4, g.down_ms as u64, false);
            varint(o, 5, g.changes, false);
        });
    }
}

/// What a Watch stream sends: an event to encode, or a `WatchEvent` already encoded (a
/// replayed record, encoded where the history was read).
#[derive(Debug)]
pub enum WatchMsg {
    Event(nfscope_proto::v1::WatchEvent),
    Encoded(Bytes),
}

/// A record's id and, if `q` selects it, its encoded `WatchEvent { record }` (appended to
/// `buf` and split off it). `None` when its bytes are not as this version stores them (then
/// decode them the typed way).
pub fn encode(b: &[u8], q: &Query, buf: &mut BytesMut) -> Option<(u64, Option<Bytes>)> {
    let rest = nfscope::history::record_json_rest(b)?;
    let s: StoredRef<'_> = serde_json::from_slice(b).ok()?;
    let fields = Fields {
        id: s.id,
        time_unix_ms: s.time_unix_ms,
        generation: s.generation,
        family: s.family.as_str(),
        table: s.table.as_str(),
        chain: s.chain.as_ref().map(Str::as_str),
        alert: s.alert.is_some(),
    };
    if !q.matches_fields(&fields) {
        return Some((s.id, None));
    }
    let json: [&[u8]; 2] = [b"{", rest];
    let mut n = Count(0);
    record(&mut n, &s, &json);
    // WatchEvent.record is field 2.
    key(buf, 2, WireType::LengthDelimited);
    buf.varint(n.0 as u64);
    record(buf, &s, &json);
    Some((s.id, Some(buf.split().freeze())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use nfscope::events::{Alert, Record, RuleText};
    use nfscope::history::Stored;
    use nfscope::process::ProcessInfo;
    use nfscope_proto::v1 as pb;
    use prost::Message;

    fn stored_bytes(s: &Stored) -> Vec<u8> {
        serde_json::to_vec(s).expect("json")
    }

    /// prost's encoding of the typed conversion.
    fn typed(b: &[u8]) -> Vec<u8> {
        let (s, json) = Stored::decode_with_json(b).expect("decodes");
        pb::WatchEvent {
            event: Some(pb::watch_event::Event::Record(
                crate::proto_conv::record_with_json(s, json),
            )),
        }
        .encode_to_vec()
    }

    fn ours(b: &[u8], q: &Query) -> Option<Vec<u8>> {
        let mut buf = BytesMut::new();
        encode(b, q, &mut buf)
            .expect("parses")
            .1
            .map(|e| e.to_vec())
    }

    fn rule(h: u64, nft: &str, ipt: Option<&str>) -> RuleText {
        RuleText {
            handle: Some(h),
            index: Some(3),
            nft: nft.into(),
            iptables: ipt.map(str::to_string),
            ..RuleText::default()
        }
    }

    /// Every field set (a new field of `Record` breaks this literal: add it to `StoredRef`
    /// and `record` too), escapes, empty strings and zeros where proto3 leaves fields out.
    fn full() -> Stored {
        Stored {
            id: 123_456_789,
            time_unix_ms: 1_796_535_297_222,
            record: Record {
                kind: "rule_replaced".into(),
                generation: 7,
                backend: "nftables".into(),
                family: "ip".into(),
                table: "nat".into(),
                chain: Some("KUBE-SERVICES".into()),
                set: Some("web".into()),
                process: Some(ProcessInfo {
                    pid: 31919,
                    comm: "iptables-nft-re".into(),
                    exe: Some("/usr/sbin/xtables-nft-multi".into()),
                    cmdline: Some(vec![
                        "iptables-nft-restore".into(),
                        String::new(),
                        "é \"q\"".into(),
                    ]),
                    cgroup: Some("/system.slice/x.service".into()),
                    container: Some("c0ffee".into()),
                    pod_uid: Some("1234-5678".into()),
                    gone: true,
                }),
                attribution: "netlink".into(),
                audit_event: Some("1700000000.123:42".into()),
                rule: Some(rule(0, "", Some(""))),
                before: Some(rule(
                    6,
                    "meta l4proto tcp ip daddr 10.96.0.1 tcp dport 80 counter jump KUBE-SVC-X",
                    Some("-A KUBE-SERVICES -m comment --comment \"ns1/svc-1:http\" -j X\\n"),
                )),
                after: Some(rule(7, "tcp dport 80 \u{1}", None)),
                lost: vec!["-m comment".into(), String::new()],
                gained: vec!["--dport 80".into()],
                reencoded: true,
                alert: Some(Alert {
                    kind: "match_removed".into(),
                    severity: "severe".into(),
                }),
                resync: true,
                elements_added: Some(0),
                elements_removed: Some(17),
                gap: Some(Gap {
                    stopped_unix_ms: -5,
                    clean: true,
                    started_unix_ms: 1_796_535_297_000,
                    down_ms: 42_000,
                    changes: 3,
                }),
            },
        }
    }

    #[test]
    fn a_stored_record_encodes_as_the_typed_conversion_does() {
        let all = Query::default();
        let mut records = vec![full()];
        // and with the optional parts absent or empty
        let mut bare = full();
        bare.id = 1;
        bare.time_unix_ms = 0;
        bare.record.chain = None;
        bare.record.set = None;
        bare.record.process = None;
        bare.record.attribution = String::new();
        bare.record.audit_event = None;
        bare.record.rule = None;
        bare.record.before = None;
        bare.record.after = None;
        bare.record.lost = vec![];
        bare.record.gained = vec![];
        bare.record.reencoded = false;
        bare.record.alert = None;
        bare.record.resync = false;
        bare.record.elements_added = None;
        bare.record.elements_removed = None;
        bare.record.gap = None;
        bare.record.generation = 0;
        records.push(bare);
        for s in &records {
            let b = stored_bytes(s);
            assert_eq!(
                ours(&b, &all).expect("selected"),
                typed(&b),
                "{}",
                String::from_utf8_lossy(&b)
            );
        }
        // A record stored in another form is left to the typed way.
        let mut v: serde_json::Value =
            serde_json::from_slice(&stored_bytes(&full())).expect("json");
        let reordered = serde_json::json!({"time_unix_ms": v["time_unix_ms"].take(), "id": 5, "type": "x", "generation": 1, "backend": "b", "family": "f", "table": "t"});
        let mut buf = BytesMut::new();
        assert!(encode(
            &serde_json::to_vec(&reordered).expect("json"),
            &all,
            &mut buf
        )
        .is_none());
    }

    #[test]
    fn the_query_selects_as_on_the_typed_record() {
        let s = full();
        let b = stored_bytes(&s);
        let queries = [
            Query {
                table: "nat".into(),
                ..Query::default()
            },
            Query {
                table: "filter".into(),
                ..Query::default()
            },
            Query {
                chain: "KUBE-SERVICES".into(),
                family: "ip".into(),
                ..Query::default()
            },
            Query {
                chain: "INPUT".into(),
                ..Query::default()
            },
            Query {
                alerts_only: true,
                ..Query::default()
            },
            Query {
                after_generation: 7,
                ..Query::default()
            },
            Query {
                after_id: 123_456_788,
                ..Query::default()
            },
            Query {
                since_unix_ms: 1_796_535_297_223,
                ..Query::default()
            },
        ];
        for q in &queries {
            let mut buf = BytesMut::new();
            let picked = encode(&b, q, &mut buf).expect("parses").1.is_some();
            assert_eq!(picked, q.matches(&s), "{q:?}");
        }
    }
}
