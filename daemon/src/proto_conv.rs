//! Domain → proto conversion (the core knows no gRPC).

use nfscope::events::RuleText;
use nfscope::history::Stored;
use nfscope::lint::{Finding, Severity};
use nfscope_proto::v1 as pb;

fn rule_text(r: &Option<RuleText>) -> Option<pb::RuleText> {
    r.as_ref().map(|r| pb::RuleText {
        handle: r.handle.unwrap_or(0),
        nft: r.nft.clone(),
        iptables: r.iptables.clone().unwrap_or_default(),
    })
}

pub fn record(s: &Stored) -> pb::Record {
    let r = &s.record;
    pb::Record {
        id: s.id,
        time_unix_ms: s.time_unix_ms,
        r#type: r.kind.clone(),
        generation: r.generation,
        backend: r.backend.clone(),
        family: r.family.clone(),
        table: r.table.clone(),
        chain: r.chain.clone().unwrap_or_default(),
        process: r.process.as_ref().map(|p| pb::Process {
            pid: p.pid,
            comm: p.comm.clone(),
            exe: p.exe.clone().unwrap_or_default(),
            cmdline: p.cmdline.clone().unwrap_or_default(),
            cgroup: p.cgroup.clone().unwrap_or_default(),
            container: p.container.clone().unwrap_or_default(),
            pod_uid: p.pod_uid.clone().unwrap_or_default(),
            gone: p.gone,
        }),
        rule: rule_text(&r.rule),
        before: rule_text(&r.before),
        after: rule_text(&r.after),
        lost: r.lost.clone(),
        gained: r.gained.clone(),
        alert: r.alert.as_ref().map(|a| pb::Alert {
            kind: a.kind.clone(),
            severity: a.severity.clone(),
        }),
        resync: r.resync,
        attribution: r.attribution.clone(),
        audit_event: r.audit_event.clone().unwrap_or_default(),
        set: r.set.clone().unwrap_or_default(),
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
        json: serde_json::to_string(r).unwrap_or_default(),
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
