//! The JSON document of `nfscope dump --format json` (schema: docs/json-schema.md).
//!
//! The serde form of the model in a versioned envelope, with per-rule annotations: the rule's
//! nft text, its iptables-save line (ip/ip6 tables), who wrote it and how each iptables-nft
//! band reads it back. Fields only grow within a schema version.

use crate::iptnft::{self, Outcome, Reader};
use crate::provenance;
use crate::render::nft::{self as nftr, NftOptions};
use crate::Ruleset;
use nfscope_wire::nft::Family;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Serialize)]
struct CompatEntry {
    reader: &'static str,
    #[serde(flatten)]
    outcome: Outcome,
}

/// Build the whole document.
pub fn document(rs: &Ruleset, opts: &NftOptions) -> Value {
    let names = crate::render::iptables::SetNames(&opts.ipsets);
    let mut v = serde_json::to_value(rs).unwrap_or(Value::Null);
    if let Some(tables) = v.get_mut("tables").and_then(Value::as_array_mut) {
        for (t, tv) in rs.tables.iter().zip(tables.iter_mut()) {
            let ipt = matches!(t.family, Family::Ip | Family::Ip6);
            let info = provenance::TableInfo::of(t);
            let mut table_writers: BTreeMap<String, u64> = BTreeMap::new();
            let Some(chains) = tv.get_mut("chains").and_then(Value::as_array_mut) else {
                continue;
            };
            for (c, cv) in t.chains.iter().zip(chains.iter_mut()) {
                let mut chain_writers: BTreeMap<String, u64> = BTreeMap::new();
                let Some(rules) = cv.get_mut("rules").and_then(Value::as_array_mut) else {
                    continue;
                };
                for (r, rv) in c.rules.iter().zip(rules.iter_mut()) {
                    let Some(obj) = rv.as_object_mut() else {
                        continue;
                    };
                    obj.insert("nft".into(), Value::String(nftr::rule(t, c, &r, opts)));
                    if ipt {
                        let line = iptnft::translate_with(t, c, &r, Reader::From1810, &names);
                        if line.refused.is_none() {
                            obj.insert("iptables".into(), Value::String(line.line()));
                        }
                        let compat: Vec<CompatEntry> = Reader::ALL
                            .iter()
                            .map(|rd| CompatEntry {
                                reader: rd.name(),
                                outcome: iptnft::outcome(t, c, &r, *rd),
                            })
                            .collect();
                        obj.insert(
                            "compat".into(),
                            serde_json::to_value(compat).unwrap_or(Value::Null),
                        );
                    }
                    let w = provenance::of_rule_in(&info, t, c, &r);
                    *chain_writers.entry(w.summary()).or_default() += 1;
                    obj.insert(
                        "writer".into(),
                        serde_json::to_value(w).unwrap_or(Value::Null),
                    );
                }
                for (k, n) in &chain_writers {
                    *table_writers.entry(k.clone()).or_default() += n;
                }
                if let Some(o) = cv.as_object_mut() {
                    o.insert("writers".into(), json!(chain_writers));
                }
            }
            if let Some(o) = tv.as_object_mut() {
                o.insert("writers".into(), json!(table_writers));
            }
        }
    }
    json!({ "schema_version": SCHEMA_VERSION, "nftables": v })
}
