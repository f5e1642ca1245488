//! Domain → proto conversion (the core knows no gRPC).

use nfscope::events::RuleText;
use nfscope::history::Stored;
use nfscope::lint::{Finding, Severity};
use nfscope_proto::v1 as pb;

fn rule_text(r: Option<RuleText>) -> Option<pb::RuleText> {
    r.map(|r| pb::RuleText {
        handle: r.handle.unwrap_or(0),
        nft: r.nft,
        iptables: r.iptables.unwrap_or_default(),
    })
}

pub fn record(s: &Stored) -> pb::Record {
    let json = serde_json::to_string(&s.record).unwrap_or_default();
    record_with_json(s.clone(), json)
}

/// [`record`] of a record taken apart, whose JSON (`json`) is already at hand.
pub fn record_with_json(s: Stored, json: String) -> pb::Record {
    let r = s.record;
    pb::Record {
        id: s.id,
        time_unix_ms: s.time_unix_ms,
        r#type: r.kind,
        generation: r.generation,
        backend: r.backend,
        family: r.family,
        table: r.table,
        chain: r.chain.unwrap_or_default(),
        process: r.process.map(|p| pb::Process {
            pid: p.pid,
            comm: p.comm,
            exe: p.exe.unwrap_or_default(),
            cmdline: p.cmdline.unwrap_or_default(),
            cgroup: p.cgroup.unwrap_or_default(),
            container: p.container.unwrap_or_default(),
            pod_uid: p.pod_uid.unwrap_or_default(),
            gone: p.gone,
        }),
        rule: rule_text(r.rule),
        before: rule_text(r.before),
        after: rule_text(r.after),
        lost: r.lost,
        gained: r.gained,
        alert: r.alert.map(|a| pb::Alert {
            kind: a.kind,
            severity: a.severity,
        }),
        resync: r.resync,
        attribution: r.attribution,
        audit_event: r.audit_event.unwrap_or_default(),
        set: r.set.unwrap_or_default(),
        elements_added: r.elements_added.map(|n| n as u64),
        elements_removed: r.elements_removed.map(|n| n as u64),
        reencoded: r.reencoded,
        gap: r.gap.map(|g| pb::Gap {
            stopped_unix_ms: g.stopped_unix_ms,
            clean: g.clean,
            started_unix_ms: g.started_unix_ms,
            down_ms: g.down_ms,
            changes: g.changes,
        }),
        json,
    }
}

pub fn finding(f: &Finding) -> pb::Finding {
    pb::Finding {
        id: f.id.to_string(),
        severity: match f.severity {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
        .into(),
        location: f.location.clone(),
        message: f.message.clone(),
        explanation: f.explanation.clone(),
        fix: f.fix.clone(),
    }
}
