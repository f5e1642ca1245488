//! What each command prints, in one place: the CLI in embedded mode and the daemon (for remote
//! clients) both render through here, so both print exactly the same.

use crate::iptnft::{self, Reader};
use crate::legacy::LegacyRuleset;
use crate::lint::{self, Finding, LegacyTable};
use crate::provenance;
use crate::render::arptables;
use crate::render::iptables::{legacy_save, SaveOptions, SetNames};
use crate::render::nft::NftOptions;
use crate::snapshot::{self, Stats};
use crate::Ruleset;
use nfscope_wire::nft::Family;
use nfscope_wire::xt::entry::Family as XtFamily;

/// `dump` formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DumpFormat {
    Nft,
    Json,
    IptablesSave,
}

/// Which backend(s) to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Backend {
    Nft,
    Legacy,
    #[default]
    All,
}

impl Backend {
    pub fn nft(self) -> bool {
        self != Backend::Legacy
    }
    pub fn legacy(self) -> bool {
        self != Backend::Nft
    }
}

fn pretty<T: serde::Serialize>(v: &T) -> String {
    let mut s =
        serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

/// The legacy side of the model, as lint needs it.
pub fn legacy_tables(l: &LegacyRuleset) -> Vec<LegacyTable> {
    l.tables
        .iter()
        .map(|t| LegacyTable {
            family: nft_family(t.family),
            name: t.name.clone(),
            chains: t
                .chains
                .iter()
                .map(|c| (c.name.clone(), c.rules.len(), c.is_builtin()))
                .collect(),
        })
        .collect()
}

fn nft_family(f: XtFamily) -> Family {
    match f {
        XtFamily::Ipv4 => Family::Ip,
        XtFamily::Ipv6 => Family::Ip6,
        XtFamily::Arp => Family::Arp,
    }
}

/// Families in which both backends hold rules (packets traverse both).
pub fn both_backends(rs: &Ruleset, l: &LegacyRuleset) -> Vec<Family> {
    let nft = nft_families(rs);
    both_backends_with(l, |f| nft.contains(&f))
}

/// The families (of ip, ip6 and arp) in which nf_tables holds at least one rule.
fn nft_families(rs: &Ruleset) -> Vec<Family> {
    [Family::Ip, Family::Ip6, Family::Arp]
        .into_iter()
        .filter(|f| {
            rs.tables
                .iter()
                .any(|t| t.family == *f && t.chains.iter().any(|c| !c.rules.is_empty()))
        })
        .collect()
}

/// [`both_backends`] with nf_tables' side answered by `nft_has_rules`.
fn both_backends_with(l: &LegacyRuleset, nft_has_rules: impl Fn(Family) -> bool) -> Vec<Family> {
    [Family::Ip, Family::Ip6, Family::Arp]
        .into_iter()
        .filter(|f| {
            let nft = nft_has_rules(*f);
            let leg = l
                .tables
                .iter()
                .filter(|t| nft_family(t.family) == *f)
                .any(|t| t.chains.iter().any(|c| !c.rules.is_empty()));
            nft && leg
        })
        .collect()
}

/// Keep only the legacy tables that pass the family/table filters.
pub fn filter_legacy(l: &mut LegacyRuleset, family: Option<Family>, table: Option<&str>) {
    l.tables.retain(|t| {
        family.is_none_or(|f| nft_family(t.family) == f) && table.is_none_or(|n| t.name == n)
    });
}

/// `nfscope dump`: the nf_tables ruleset and/or the legacy tables, in one format. When both
/// backends hold rules for a family, each part is labelled (and the JSON carries a finding).
/// The legacy side to show (`empty` when the backend leaves it out) and the families both
/// backends hold rules for (only when both are shown).
fn selected<'a>(
    rs: &Ruleset,
    legacy: Option<&'a LegacyRuleset>,
    backend: Backend,
    empty: &'a LegacyRuleset,
) -> (&'a LegacyRuleset, Vec<Family>) {
    selected_streamed(Some(&nft_families(rs)), legacy, backend, empty)
}

/// `dump --format json` written straight to `w` as it is produced (the document is never
/// whole in memory, as text or as a value); the same bytes [`dump`] returns.
pub fn write_json<W: std::io::Write>(
    w: W,
    rs: &Ruleset,
    legacy: Option<&LegacyRuleset>,
    backend: Backend,
    nft: &NftOptions,
) -> std::io::Result<()> {
    let empty = LegacyRuleset::default();
    let (l, both) = selected(rs, legacy, backend, &empty);
    #[derive(serde::Serialize)]
    struct BothBackends {
        id: &'static str,
        family: String,
        message: String,
    }
    let findings: Vec<_> = both
        .iter()
        .map(|f| BothBackends {
            id: "both_backends",
            family: f.name(),
            message: format!(
                "{f} rules in both nf_tables and legacy x_tables: packets traverse both"
            ),
        })
        .collect();
    let mut w = std::io::BufWriter::with_capacity(1 << 16, w);
    crate::json::Doc {
        rs,
        opts: nft,
        nft: backend.nft(),
        legacy: backend.legacy().then_some(l),
        findings: serde_json::to_value(findings).unwrap_or_default(),
    }
    .write(&mut w)?;
    std::io::Write::write_all(&mut w, b"\n")?;
    std::io::Write::flush(&mut w)
}

/// nf_tables rendered as `nft list ruleset` text while the snapshot reads the rules
/// ([`snapshot::take_streamed`]): what `dump --format nft` prints for the nf_tables backend,
/// at about the cost of reading alone. Write it with [`write_nft_text`].
pub struct NftText {
    /// The snapshot without the rules of the chains rendered (see [`snapshot::Streamed`]).
    pub ruleset: Ruleset,
    /// `[table][chain]`: the rendered chains.
    pub chains: Vec<Vec<Option<crate::render::nft::ChainText>>>,
    pub opts: NftOptions,
    /// nft's `managed by iptables-nft` warnings, for stderr.
    pub warnings: Vec<String>,
    /// Families holding at least one rule.
    pub families: Vec<Family>,
    pub stats: snapshot::Stats,
}

/// Take a streamed snapshot in `netns` (`None`: this one) and render it as nft text. Options
/// are read in that namespace (interface names; ipset names when a rule needs them);
/// `show_writer` is not supported here (use [`dump`] on a full snapshot).
pub fn nft_text(
    netns: Option<&str>,
    snap: &snapshot::Options,
    xt: crate::render::nft::XtStyle,
) -> crate::Result<NftText> {
    use crate::render::nft::{self as nftr, NftStream};
    let run = move || -> crate::Result<NftText> {
        let mut opts = NftOptions::local();
        opts.xt = xt;
        let mut stream = NftStream {
            opts,
            ipsets: std::sync::OnceLock::new(),
        };
        let mut sockets = snapshot::open_sockets(snap)?;
        let st = snapshot::take_streamed(&mut sockets, snap, &stream)?;
        let warnings = nftr::warnings_streamed(&st.ruleset, &st.chains);
        let families = families_with_rules(&st.ruleset, &st.chains, |c| c.rules);
        if let Some(names) = stream.ipsets.take() {
            stream.opts.ipsets = names;
        }
        Ok(NftText {
            ruleset: st.ruleset,
            chains: st.chains,
            opts: stream.opts,
            warnings,
            families,
            stats: st.stats,
        })
    };
    crate::netns::run_in_opt(netns, run)
}

/// Families holding at least one rule in a streamed snapshot (`rules`: a chain output's count).
fn families_with_rules<T>(
    rs: &Ruleset,
    chains: &[Vec<Option<T>>],
    rules: impl Fn(&T) -> usize,
) -> Vec<Family> {
    let mut families = Vec::new();
    for (t, outs) in rs.tables.iter().zip(chains) {
        let any = outs.iter().flatten().any(|c| rules(c) > 0)
            || t.chains.iter().any(|c| !c.rules.is_empty());
        if any && !families.contains(&t.family) {
            families.push(t.family);
        }
    }
    families
}

/// [`selected`] from the families holding nf_tables rules (`families`; `None`: nf_tables was
/// not read), as a streamed snapshot knows them.
fn selected_streamed<'a>(
    families: Option<&[Family]>,
    legacy: Option<&'a LegacyRuleset>,
    backend: Backend,
    empty: &'a LegacyRuleset,
) -> (&'a LegacyRuleset, Vec<Family>) {
    let l = match legacy {
        Some(l) if backend.legacy() => l,
        _ => empty,
    };
    let both = match families {
        Some(fs) if backend == Backend::All => both_backends_with(l, |f| fs.contains(&f)),
        _ => vec![],
    };
    (l, both)
}

/// Write `dump --format nft` from a streamed snapshot (`nft`, when the nf_tables backend is
/// shown) to `w`: the same text [`dump`] gives.
pub fn write_nft_text(
    w: &mut dyn std::io::Write,
    nft: Option<&NftText>,
    legacy: Option<&LegacyRuleset>,
    backend: Backend,
) -> std::io::Result<()> {
    let empty = LegacyRuleset::default();
    let (l, both) = selected_streamed(nft.map(|n| &n.families[..]), legacy, backend, &empty);
    if let Some(n) = nft.filter(|_| backend.nft()) {
        if !both.is_empty() {
            w.write_all(NFT_LABEL.as_bytes())?;
        }
        crate::render::nft::write_ruleset_streamed(w, &n.ruleset, &n.chains, &n.opts)?;
    }
    let mut s = String::new();
    push_legacy_text(&mut s, l);
    w.write_all(s.as_bytes())
}

/// nf_tables translated to iptables-save text while the snapshot reads the rules (see
/// [`NftText`]); write it with [`write_iptables_save`].
pub struct SaveText {
    /// The snapshot without the rules of the chains translated.
    pub ruleset: Ruleset,
    pub chains: Vec<Vec<Option<iptnft::SaveChain>>>,
    pub stream: iptnft::SaveStream,
    /// Families holding at least one rule (ip, ip6 and arp are counted only with
    /// `count_others`, which [`write_iptables_save`] needs for `Backend::All`).
    pub families: Vec<Family>,
    pub stats: snapshot::Stats,
}

/// Take a streamed snapshot in `netns` (`None`: this one) and translate the ip and ip6 tables
/// iptables-save prints (as iptables-nft 1.8.9 reads them). `count_others`: also count the
/// rules of the other ip, ip6 and arp tables (for the both-backends labels).
pub fn iptables_save_text(
    netns: Option<&str>,
    snap: &snapshot::Options,
    counters: bool,
    count_others: bool,
) -> crate::Result<SaveText> {
    let run = move || -> crate::Result<SaveText> {
        let stream = iptnft::SaveStream {
            reader: Reader::TEXT,
            counters,
            count_others,
            ipsets: std::sync::OnceLock::new(),
        };
        let mut sockets = snapshot::open_sockets(snap)?;
        let st = snapshot::take_streamed(&mut sockets, snap, &stream)?;
        let families = families_with_rules(&st.ruleset, &st.chains, |c| c.rules);
        Ok(SaveText {
            ruleset: st.ruleset,
            chains: st.chains,
            stream,
            families,
            stats: st.stats,
        })
    };
    crate::netns::run_in_opt(netns, run)
}

/// Write `dump --format iptables-save` from a streamed snapshot (`nft`, when the nf_tables
/// backend is shown) to `w`: the same text [`dump`] gives without `show_writer`.
pub fn write_iptables_save(
    w: &mut dyn std::io::Write,
    nft: Option<&SaveText>,
    legacy: Option<&LegacyRuleset>,
    backend: Backend,
    counters: bool,
) -> std::io::Result<()> {
    let sopts = SaveOptions { counters };
    let empty = LegacyRuleset::default();
    let (l, both) = selected_streamed(nft.map(|n| &n.families[..]), legacy, backend, &empty);
    for (fam, xfam) in [(Family::Ip, XtFamily::Ipv4), (Family::Ip6, XtFamily::Ipv6)] {
        let label = both.contains(&fam);
        if let Some(n) = nft.filter(|_| backend.nft()) {
            // The part is empty exactly when no table of the family is one iptables prints.
            if label && iptnft::prints_tables(&n.ruleset, fam) {
                writeln!(w, "# nfscope: {fam} nf_tables backend (iptables-nft)")?;
            }
            iptnft::write_save_streamed(w, &n.ruleset, &n.chains, fam, &n.stream)?;
        }
        if backend.legacy() {
            if label && l.family(xfam).next().is_some() {
                writeln!(
                    w,
                    "# nfscope: {fam} legacy x_tables backend (iptables-legacy)"
                )?;
            }
            crate::render::iptables::write_legacy_save(w, l, xfam, sopts)?;
        }
    }
    if let Some(n) = nft.filter(|_| backend.nft()) {
        if both.contains(&Family::Arp) && iptnft::prints_tables(&n.ruleset, Family::Arp) {
            w.write_all(b"# nfscope: arp nf_tables backend (arptables-nft)\n")?;
        }
        iptnft::write_save_streamed(w, &n.ruleset, &n.chains, Family::Arp, &n.stream)?;
    }
    if backend.legacy() {
        let part = arptables::legacy_save(l, sopts);
        if both.contains(&Family::Arp) && !part.is_empty() {
            w.write_all(b"# nfscope: arp legacy x_tables backend (arptables-legacy)\n")?;
        }
        w.write_all(part.as_bytes())?;
    }
    if let Some(n) = nft.filter(|_| backend.nft()) {
        iptnft::write_save_streamed(w, &n.ruleset, &n.chains, Family::Bridge, &n.stream)?;
    }
    Ok(())
}

const NFT_LABEL: &str = "# nfscope: nf_tables backend\n";

/// The legacy tables after nf_tables' text (they have no nft form).
fn push_legacy_text(s: &mut String, l: &LegacyRuleset) {
    if !l.tables.is_empty() {
        s.push_str("# nfscope: legacy x_tables backend (no nft form: shown as iptables-legacy-save / arptables-legacy-save print it)\n");
        for fam in [XtFamily::Ipv4, XtFamily::Ipv6] {
            s.push_str(&legacy_save(l, fam, SaveOptions::default()));
        }
        s.push_str(&arptables::legacy_save(l, SaveOptions::default()));
    }
}

pub fn dump(
    rs: &Ruleset,
    legacy: Option<&LegacyRuleset>,
    backend: Backend,
    f: DumpFormat,
    nft: &NftOptions,
) -> String {
    dump_with(rs, legacy, backend, f, nft, false)
}

/// [`dump`]; `counters`: iptables-save text with `[pkts:bytes]` before each rule (`-c`).
pub fn dump_with(
    rs: &Ruleset,
    legacy: Option<&LegacyRuleset>,
    backend: Backend,
    f: DumpFormat,
    nft: &NftOptions,
    counters: bool,
) -> String {
    let sopts = SaveOptions { counters };
    let empty = LegacyRuleset::default();
    let (l, both) = selected(rs, legacy, backend, &empty);
    match f {
        DumpFormat::Json => {
            let mut out = Vec::new();
            let _ = write_json(&mut out, rs, legacy, backend, nft);
            String::from_utf8(out).unwrap_or_default()
        }
        DumpFormat::Nft => {
            let mut s = String::new();
            if backend.nft() {
                if !both.is_empty() {
                    s.push_str(NFT_LABEL);
                }
                s.push_str(&crate::render::nft::ruleset(rs, nft));
            }
            push_legacy_text(&mut s, l);
            s
        }
        DumpFormat::IptablesSave => {
            let mut s = String::new();
            for (fam, xfam) in [(Family::Ip, XtFamily::Ipv4), (Family::Ip6, XtFamily::Ipv6)] {
                let label = both.contains(&fam);
                if backend.nft() {
                    let names = SetNames(&nft.ipsets);
                    let opts = iptnft::SaveOpts {
                        show_writer: nft.show_writer,
                        names: &names,
                        counters,
                    };
                    let part = iptnft::save_with(rs, fam, Reader::TEXT, &opts);
                    if label && !part.is_empty() {
                        s.push_str(&format!(
                            "# nfscope: {fam} nf_tables backend (iptables-nft)\n"
                        ));
                    }
                    s.push_str(&part);
                }
                if backend.legacy() {
                    let part = with_writer(
                        legacy_save(l, xfam, sopts),
                        nft.show_writer.then(|| provenance::legacy(xfam)),
                    );
                    if label && !part.is_empty() {
                        s.push_str(&format!(
                            "# nfscope: {fam} legacy x_tables backend (iptables-legacy)\n"
                        ));
                    }
                    s.push_str(&part);
                }
            }
            // arp: arptables-nft-save's text, then arptables-legacy-save's; bridge:
            // ebtables-nft-save's (legacy ebtables is not read)
            let nft_part = |fam: Family| {
                let names = SetNames(&nft.ipsets);
                let opts = iptnft::SaveOpts {
                    show_writer: nft.show_writer,
                    names: &names,
                    counters,
                };
                iptnft::save_with(rs, fam, Reader::TEXT, &opts)
            };
            if backend.nft() {
                let part = nft_part(Family::Arp);
                if both.contains(&Family::Arp) && !part.is_empty() {
                    s.push_str("# nfscope: arp nf_tables backend (arptables-nft)\n");
                }
                s.push_str(&part);
            }
            if backend.legacy() {
                let part = with_writer(
                    arptables::legacy_save(l, sopts),
                    nft.show_writer.then(|| provenance::legacy(XtFamily::Arp)),
                );
                if both.contains(&Family::Arp) && !part.is_empty() {
                    s.push_str("# nfscope: arp legacy x_tables backend (arptables-legacy)\n");
                }
                s.push_str(&part);
            }
            if backend.nft() {
                s.push_str(&nft_part(Family::Bridge));
            }
            s
        }
    }
}

/// `text` with ` # written by TOOL (certain)` after each `-A` line when `writer` is given
/// (`dump --show-writer`: legacy tables have one possible writer).
fn with_writer(text: String, writer: Option<provenance::Writer>) -> String {
    let Some(writer) = writer else {
        return text;
    };
    let summary = writer.summary();
    text.lines()
        .map(|x| {
            // `-A` lines, after their `[pkts:bytes] ` with -c (arptables: `-c P B ` follows)
            let rule = x.starts_with("-A ")
                || x.starts_with('[')
                    && x.split_once("] ")
                        .is_some_and(|(_, r)| r.starts_with("-A "));
            if rule {
                format!("{x} # written by {summary}\n")
            } else {
                format!("{x}\n")
            }
        })
        .collect()
}

pub fn stats(rs: &Ruleset, st: &Stats, json: bool) -> String {
    stats_backends(Some((rs, st)), None, json)
}

/// `nfscope stats` over the backends read: nf_tables (`rs`, the snapshot's figures) and/or
/// legacy x_tables (`legacy`, with the time its read took). JSON: `snapshot` and `counts` for
/// nf_tables, `legacy` for x_tables; the legacy part is left out when no legacy table exists.
pub fn stats_backends(
    nft: Option<(&Ruleset, &Stats)>,
    legacy: Option<(&LegacyRuleset, std::time::Duration)>,
    json: bool,
) -> String {
    let counts = nft.map(|(rs, st)| (crate::stats::count(rs), st));
    stats_counts(counts.as_ref().map(|(c, st)| (c, *st)), legacy, json)
}

/// [`stats_backends`] with nf_tables' counts already made (e.g. [`crate::stats::count_streamed`]).
pub fn stats_counts(
    nft: Option<(&crate::stats::Counts, &Stats)>,
    legacy: Option<(&LegacyRuleset, std::time::Duration)>,
    json: bool,
) -> String {
    let counts = nft;
    let lcounts = legacy
        .filter(|(l, _)| !l.tables.is_empty())
        .map(|(l, d)| crate::stats::count_legacy(l, d));
    if json {
        #[derive(serde::Serialize)]
        struct StatsDoc<'a, S, C, L> {
            #[serde(skip_serializing_if = "Option::is_none")]
            snapshot: Option<&'a S>,
            #[serde(skip_serializing_if = "Option::is_none")]
            counts: Option<&'a C>,
            #[serde(skip_serializing_if = "Option::is_none")]
            legacy: Option<&'a L>,
        }
        pretty(&StatsDoc {
            snapshot: counts.as_ref().map(|(_, st)| st),
            counts: counts.as_ref().map(|(c, _)| c),
            legacy: lcounts.as_ref(),
        })
    } else {
        let mut s = String::new();
        if let Some((c, st)) = &counts {
            s.push_str(&crate::stats::render_text(c, st));
        }
        match (&lcounts, legacy) {
            (Some(l), _) => {
                if !s.is_empty() {
                    s.push('\n');
                }
                s.push_str(&crate::stats::render_legacy_text(l));
            }
            (None, Some(_)) if nft.is_none() => s.push_str("no legacy (x_tables) table\n"),
            _ => {}
        }
        s
    }
}

/// Findings as JSON, or as text with the severities coloured when `colour`.
pub fn lint(findings: &[Finding], json: bool, colour: bool) -> String {
    if json {
        pretty(&findings)
    } else {
        lint::render_text(findings, colour)
    }
}

/// `s` in the terminal style `sgr` (an ANSI SGR parameter: `1` bold, `31` red, `32` green,
/// `33` yellow) when `on`, else unchanged. The one place text output gets escape codes; the
/// CLI decides `on` (`--color`, `NO_COLOR`, whether stdout is a terminal).
pub fn paint(on: bool, sgr: &str, s: &str) -> String {
    if on {
        format!("\x1b[{sgr}m{s}\x1b[0m")
    } else {
        s.to_string()
    }
}

/// Rendering options for the namespace `rs` was read in (`None`: this one): interface names
/// as its `nft` would resolve them and, when a rule refers to ipsets, their names by index
/// (`IP_SET_OP_GET_BYINDEX`, as iptables-save asks; ipsets are per namespace), both read in
/// that namespace. The xt style is the default (translate); callers set theirs.
pub fn nft_options_for(netns: Option<&str>, rs: &Ruleset) -> crate::Result<NftOptions> {
    // Known without decoding: the model notes which rules name ipsets.
    let sets = rs.uses_ipsets();
    let read = move || {
        let mut o = NftOptions::local();
        if sets {
            o.ipsets = crate::legacy::ipset_names();
        }
        o
    };
    match netns {
        Some(ns) => crate::netns::run_in(ns, read),
        None => Ok(read()),
    }
}
