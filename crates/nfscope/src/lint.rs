//! `nfscope lint`: states of a node's firewall that are known to break it, each with a
//! severity, an explanation and a fix hint.

use crate::iptnft::{self, Outcome, Reader};
use crate::model::{Chain, Ruleset, Table};
use crate::provenance;
use nfscope_wire::nft::expr::Expr;
use nfscope_wire::nft::{Data, Family, VerdictCode};
use serde::{Deserialize, Serialize};
use std::collections::{HashSet, VecDeque};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable identifier (`unconditional_drop`, `both_backends`, ...).
    pub id: String,
    pub severity: Severity,
    /// Where: `ip filter KUBE-FIREWALL`, `legacy ip filter`, `sysctl net.ipv4.ip_forward`.
    pub location: String,
    pub message: String,
    pub explanation: String,
    pub fix: String,
    /// The family the finding is about, when it is about one (`location` says it for people;
    /// this is for grouping, e.g. the daemon's metrics). Not serialized.
    #[serde(skip)]
    pub family: Option<Family>,
    /// The table the finding is about, when it is about one. Not serialized.
    #[serde(skip)]
    pub table: Option<String>,
}

/// A legacy x_tables table, as far as lint needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyTable {
    pub family: Family,
    pub name: String,
    /// (chain, rules, is_builtin)
    pub chains: Vec<(String, usize, bool)>,
}

/// Node settings that decide whether the firewall sees what it should.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeSettings {
    pub br_netfilter_loaded: Option<bool>,
    pub bridge_nf_call_iptables: Option<String>,
    pub bridge_nf_call_ip6tables: Option<String>,
    pub ip_forward: Option<String>,
}

impl NodeSettings {
    /// Read them (in the calling thread's network namespace, for the per-netns sysctls).
    pub fn read() -> NodeSettings {
        let get = |p: &str| {
            std::fs::read_to_string(p)
                .ok()
                .map(|s| s.trim().to_string())
        };
        NodeSettings {
            br_netfilter_loaded: Some(std::path::Path::new("/sys/module/br_netfilter").exists()),
            bridge_nf_call_iptables: get("/proc/sys/net/bridge/bridge-nf-call-iptables"),
            bridge_nf_call_ip6tables: get("/proc/sys/net/bridge/bridge-nf-call-ip6tables"),
            ip_forward: get("/proc/sys/net/ipv4/ip_forward"),
        }
    }
}

/// Everything lint looks at.
pub struct Input<'a> {
    pub nft: &'a Ruleset,
    pub legacy: &'a [LegacyTable],
    pub node: Option<&'a NodeSettings>,
}

const KUBE_CHAINS: [&str; 6] = [
    "KUBE-MARK-DROP",
    "KUBE-MARK-MASQ",
    "KUBE-FIREWALL",
    "KUBE-KUBELET-CANARY",
    "KUBE-IPTABLES-HINT",
    "KUBE-POSTROUTING",
];

pub fn run(input: &Input<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    let ipt_tables: Vec<&Table> = input
        .nft
        .tables
        .iter()
        .filter(|t| {
            matches!(t.family, Family::Ip | Family::Ip6)
                && t.chains.iter().any(|c| !c.rules.is_empty())
        })
        .collect();
    // Both backends hold rules for the same family.
    for fam in [Family::Ip, Family::Ip6] {
        let nft_rules: usize = ipt_tables
            .iter()
            .filter(|t| t.family == fam)
            .flat_map(|t| &t.chains)
            .map(|c| c.rules.len())
            .sum();
        let leg: Vec<&LegacyTable> = input.legacy.iter().filter(|t| t.family == fam).collect();
        let leg_rules: usize = leg.iter().flat_map(|t| &t.chains).map(|c| c.1).sum();
        if nft_rules > 0 && leg_rules > 0 {
            out.push(Finding {
                id: "both_backends".into(),
                severity: Severity::Critical,
                location: format!("{fam}"),
                message: format!("{fam} rules in both backends: {leg_rules} in legacy x_tables, {nft_rules} in nf_tables"),
                explanation: "Packets traverse the hooks of both backends; each tool (iptables-legacy, iptables-nft) shows only its own half, so what one shows is not what the node does.".into(),
                fix: "Make every component on the node use one backend (kubelet, kube-proxy, CNI: e.g. calico FELIX_IPTABLESBACKEND, kube-router's image), then flush the other backend's tables.".into(),
                family: Some(fam), table: None,
            });
        }
        // kube chains present in one backend and missing in the other.
        if !leg.is_empty() && ipt_tables.iter().any(|t| t.family == fam) {
            for name in KUBE_CHAINS {
                let in_nft = ipt_tables
                    .iter()
                    .filter(|t| t.family == fam)
                    .any(|t| t.chain(name).is_some());
                let in_leg = leg.iter().any(|t| t.chains.iter().any(|c| c.0 == name));
                if in_nft != in_leg {
                    let (has, lacks) = if in_nft {
                        ("nf_tables", "legacy")
                    } else {
                        ("legacy", "nf_tables")
                    };
                    out.push(Finding {
                        id: "kube_chain_missing".into(),
                        severity: Severity::Warning,
                        location: format!("{fam} {name}"),
                        message: format!("{name} exists in {has} but not in {lacks}"),
                        explanation: "Kubernetes components disagree about the backend: rules jumping to this chain in one backend have nothing to jump to in the other (kube-proxy IPVS on CentOS 8 lost KUBE-MARK-DROP this way).".into(),
                        fix: "Run kubelet and kube-proxy with the same iptables mode as the host's iptables (check KUBE-IPTABLES-HINT), then restart them to rebuild their chains.".into(),
                        family: Some(fam), table: None,
                    });
                }
            }
        }
    }
    for t in &input.nft.tables {
        table_findings(t, &mut out);
    }
    for lt in input.legacy {
        let rules: usize = lt.chains.iter().map(|c| c.1).sum();
        if rules == 0 && lt.chains.iter().all(|c| c.2) {
            out.push(Finding {
                id: "empty_legacy_table".into(),
                severity: Severity::Info,
                location: format!("legacy {} {}", lt.family, lt.name),
                message: format!("legacy table {} {} exists but holds no rule", lt.family, lt.name),
                explanation: "Merely reading a legacy table (iptables-legacy -L, a monitoring agent) creates it; from then on iptables-nft warns 'iptables-legacy tables present' and the table's hooks run for every packet.".into(),
                fix: "Find the tool that reads legacy tables and point it at the right backend; the empty table can be removed by unloading the iptable_* module when nothing uses it.".into(),
                family: Some(lt.family), table: Some(lt.name.clone()),
            });
        }
    }
    if let Some(n) = input.node {
        node_findings(n, &mut out);
    }
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.location.cmp(&b.location))
    });
    out
}

fn verdict_of(e: &Expr) -> Option<(VerdictCode, Option<&str>)> {
    match e {
        Expr::Immediate(i) if i.dreg == Some(0) => i
            .data
            .as_ref()
            .and_then(Data::verdict)
            .map(|v| (v.code, v.chain.as_deref())),
        _ => None,
    }
}

/// Chains reachable from the table's base chains (jump/goto, directly or through verdict maps).
fn reachable(t: &Table) -> HashSet<String> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut q: VecDeque<&Chain> = t.chains.iter().filter(|c| c.is_base()).collect();
    for c in &q {
        seen.insert(c.name().to_string());
    }
    while let Some(c) = q.pop_front() {
        for r in &c.rules {
            for e in r.expressions.iter().flatten() {
                let mut targets: Vec<String> = Vec::new();
                if let Some((VerdictCode::Jump | VerdictCode::Goto, Some(ch))) = verdict_of(e) {
                    targets.push(ch.to_string());
                }
                if let Expr::Lookup(l) = e {
                    if let Some(s) = l.set.as_deref().and_then(|s| t.set(s)) {
                        for el in &s.elements {
                            if let Some(ch) = el
                                .data
                                .as_ref()
                                .and_then(Data::verdict)
                                .and_then(|v| v.chain.clone())
                            {
                                targets.push(ch);
                            }
                        }
                    }
                }
                for tc in targets {
                    if seen.insert(tc.clone()) {
                        if let Some(next) = t.chain(&tc) {
                            q.push_back(next);
                        }
                    }
                }
            }
        }
    }
    seen
}

/// A rule that drops or rejects with no real match (only counters and comments).
fn unconditional_drop(r: &nfscope_wire::nft::Rule) -> Option<&'static str> {
    let exprs = r.expressions.as_deref().unwrap_or(&[]);
    let mut verdict = None;
    for e in exprs {
        match e {
            Expr::Counter(_) => {}
            Expr::Match(m) if m.name.as_deref() == Some("comment") => {}
            Expr::Target(t) if t.name.as_deref() == Some("REJECT") => verdict = Some("REJECT"),
            Expr::Reject(_) => verdict = Some("REJECT"),
            e => match verdict_of(e) {
                Some((VerdictCode::Drop, _)) => verdict = Some("DROP"),
                Some(_) => return None,
                None => return None, // a real match
            },
        }
    }
    verdict
}

fn table_findings(t: &Table, out: &mut Vec<Finding>) {
    let reach = reachable(t);
    let mut lossy = 0usize;
    let mut refused = None;
    let mut example = None;
    for c in &t.chains {
        for (i, r) in c.rules.iter().enumerate() {
            if let Some(v) = unconditional_drop(&r) {
                if reach.contains(c.name()) {
                    let text = matches!(t.family, Family::Ip | Family::Ip6)
                        .then(|| iptnft::translate(t, c, &r, Reader::TEXT).line())
                        .unwrap_or_default();
                    out.push(Finding {
                        id: "unconditional_drop".into(),
                        severity: Severity::Critical,
                        location: format!("{} {} {}", t.family, t.name(), c.name()),
                        message: format!("rule {} (handle {}) {v}s every packet that reaches {}: {text}", i + 1, r.handle.unwrap_or(0), c.name()),
                        explanation: "A DROP/REJECT with no match but a comment is what an older iptables (<=1.8.7) leaves after save/restore of a rule whose match it could not read (kubelet's -m mark --mark 0x8000/0x8000): the node drops all traffic passing this chain.".into(),
                        fix: "Restore the match (restart the component that owns the chain, e.g. kubelet for KUBE-FIREWALL) and stop the older iptables from rewriting the table (upgrade it to the host's version).".into(),
                        family: Some(t.family), table: Some(t.name().to_string()),
                    });
                }
            }
            if matches!(t.family, Family::Ip | Family::Ip6) {
                match iptnft::outcome(t, c, &r, Reader::Upto187) {
                    Outcome::Lossy { lost } => {
                        lossy += 1;
                        example.get_or_insert_with(|| {
                            format!(
                                "{}: loses {}",
                                iptnft::translate(t, c, &r, Reader::TEXT).line(),
                                lost.join(", ")
                            )
                        });
                    }
                    Outcome::Refused { reason } => {
                        refused.get_or_insert(reason);
                    }
                    Outcome::Identical => {}
                }
            }
        }
    }
    let loc = format!("{} {}", t.family, t.name());
    if let Some(reason) = refused {
        out.push(Finding {
            id: "refused_by_older_iptables".into(),
            severity: Severity::Warning,
            location: loc.clone(),
            message: format!("iptables-nft <=1.8.7 refuses this table: {reason}"),
            explanation: "It prints '# Table is incompatible' and a save/restore by such a tool leaves the table out; its -L/-S fail.".into(),
            fix: "Use one iptables version on the node (the newest), including inside containers that run iptables.".into(),
            family: Some(t.family), table: Some(t.name().to_string()),
        });
    } else if lossy > 0 {
        out.push(Finding {
            id: "lossy_for_older_iptables".into(),
            severity: Severity::Warning,
            location: loc.clone(),
            message: format!("{lossy} rule(s) would be read back lossily by iptables-nft <=1.8.7, e.g. {}", example.unwrap_or_default()),
            explanation: "iptables-nft <=1.8.7 silently ignores the native encodings of -m mark, --dport/--sport and --tcp-flags written by 1.8.8+; a save/restore by it (kube-router, older CNI images) writes the rules back without those matches, exit code 0.".into(),
            fix: "Make every tool that saves/restores this table iptables >= 1.8.8, or pin every writer to <= 1.8.7.".into(),
            family: Some(t.family), table: Some(t.name().to_string()),
        });
    }
    let bands = provenance::mixed_writers(t);
    if !bands.is_empty() {
        out.push(Finding {
            id: "mixed_writers".into(),
            severity: Severity::Warning,
            location: loc.clone(),
            message: format!(
                "rules in this table were written by different iptables-nft versions: {}",
                bands.join(", ")
            ),
            explanation: "Tools of different versions writing the same table re-encode each other's rules; the older one may drop matches it cannot read.".into(),
            fix: "Align the iptables version of every component writing this table (host, kubelet, kube-proxy, CNI images).".into(),
            family: Some(t.family), table: Some(t.name().to_string()),
        });
    }
    let xt = t
        .chains
        .iter()
        .flat_map(|c| c.rules.iter())
        .map(|r| {
            r.expressions
                .iter()
                .flatten()
                .filter(|e| matches!(e, Expr::Match(_) | Expr::Target(_)))
                .count()
        })
        .sum::<usize>();
    if xt > 0 {
        out.push(Finding {
            id: "xt_expressions".into(),
            severity: Severity::Info,
            location: loc,
            message: format!("{xt} xt match/target expression(s): nft lists them only as 'xt match', and cannot restore them"),
            explanation: "iptables-nft stores matches it has no native encoding for as x_tables blobs; `nft list ruleset` output of this table cannot be fed back to `nft -f`.".into(),
            fix: "Manage this table with iptables-nft only (or nfscope to read it).".into(),
            family: Some(t.family), table: Some(t.name().to_string()),
        });
    }
}

fn node_findings(n: &NodeSettings, out: &mut Vec<Finding>) {
    if n.br_netfilter_loaded == Some(false) {
        out.push(Finding {
            id: "br_netfilter_missing".into(),
            severity: Severity::Warning,
            location: "module br_netfilter".into(),
            message: "br_netfilter is not loaded".into(),
            explanation: "Without it, bridged traffic (pod to pod and pod to service on the same node) bypasses iptables: replies skip conntrack and service NAT breaks.".into(),
            fix: "modprobe br_netfilter, and add it to /etc/modules-load.d/.".into(),
            family: None, table: None,
        });
    }
    for (key, val) in [
        (
            "net.bridge.bridge-nf-call-iptables",
            &n.bridge_nf_call_iptables,
        ),
        (
            "net.bridge.bridge-nf-call-ip6tables",
            &n.bridge_nf_call_ip6tables,
        ),
    ] {
        if let Some(v) = val {
            if v != "1" {
                out.push(Finding {
                    id: "bridge_nf_call_off".into(),
                    severity: Severity::Warning,
                    location: format!("sysctl {key}"),
                    message: format!("{key} = {v}"),
                    explanation: "Bridged packets are not passed to iptables: same-node pod → service replies bypass conntrack.".into(),
                    fix: format!("sysctl -w {key}=1 and persist it in /etc/sysctl.d/."),
                    family: None, table: None,
                });
            }
        }
    }
    if let Some(v) = &n.ip_forward {
        if v != "1" {
            out.push(Finding {
                id: "ip_forward_off".into(),
                severity: Severity::Warning,
                location: "sysctl net.ipv4.ip_forward".into(),
                message: format!("net.ipv4.ip_forward = {v}"),
                explanation: "The node does not forward IPv4 packets: pod and service traffic routed through it is dropped.".into(),
                fix: "sysctl -w net.ipv4.ip_forward=1 and persist it in /etc/sysctl.d/.".into(),
                family: None, table: None,
            });
        }
    }
}

/// Human-readable report; severities coloured when `colour` (critical red, warning yellow).
pub fn render_text(findings: &[Finding], colour: bool) -> String {
    if findings.is_empty() {
        return "no findings\n".into();
    }
    let mut s = String::new();
    for f in findings {
        let sev = match f.severity {
            Severity::Critical => crate::output::paint(colour, "1;31", "CRITICAL"),
            Severity::Warning => crate::output::paint(colour, "33", "WARNING"),
            Severity::Info => "info".into(),
        };
        s.push_str(&format!(
            "{sev} [{}] {}: {}\n  why: {}\n  fix: {}\n",
            f.id, f.location, f.message, f.explanation, f.fix
        ));
    }
    s
}
