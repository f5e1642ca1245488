//! nft text, as `nft list ruleset` (nftables 1.0.6) prints it, except for the xt matches and
//! targets iptables-nft leaves in rules: by default ([`XtStyle::Translate`]) those print as
//! `iptables-translate` does; [`XtStyle::Nft`] prints them exactly as nft 1.0.6 does.
//!
//! Layout of the module:
//! - [`proto`]: protocol header field tables (name, bit offset, bit length, datatype),
//! - [`datatype`]: how values of each datatype print (ports, marks, addresses, symbols),
//! - [`fold`]: expressions → statements (nft's `netlink_delinearize` + postprocessing),
//! - [`stmt`]: statement printers (log, limit, quota, nat flags, synproxy),
//! - [`set`]: sets and maps (types, elements, intervals, declarations),
//! - [`obj`]: named objects and flowtables,
//! - [`xt`]: xt match / target expressions in either style,
//! - this file: tables and chains, and the public API.
//!
//! Known differences from nft are listed in `DIFFERENCES.md` next to this file.

pub mod datatype;
pub mod fold;
pub mod obj;
pub(crate) mod print;
pub(crate) use crate::model::proto;
pub mod set;
pub mod stmt;
pub mod xt;

pub use xt::XtStyle;

use crate::model::{Chain, Table};
use nfscope_wire::nft::{udata, Family, Rule};
use std::collections::{BTreeMap, HashMap};

/// Rendering options.
#[derive(Debug, Clone, Default)]
pub struct NftOptions {
    /// Interface names by index in the rendered namespace (`meta iif`, `fib ... oif`, `fwd`):
    /// nft prints names it resolves in its own namespace; without an entry we print the
    /// index (a known difference).
    pub ifnames: HashMap<u32, String>,
    /// Append `# written by …` after each rule (`nfscope dump --show-writer`).
    pub show_writer: bool,
    /// How xt matches and targets (iptables-nft's) print: as `iptables-translate` does (the
    /// default) or exactly as nft 1.0.6 does ([`XtStyle::Nft`], what the comparisons with
    /// `nft list ruleset` use).
    pub xt: XtStyle,
    /// ipset names by index in the rendered namespace, for xt `set` / `SET` options (see
    /// [`crate::output::nft_options_for`]); without an entry a set prints as `#INDEX`.
    pub ipsets: BTreeMap<u16, String>,
}

impl NftOptions {
    /// Options with the interface names of the calling thread's network namespace (what nft
    /// resolves when run there). For another namespace call it inside
    /// [`crate::netns::run_in`].
    pub fn local() -> NftOptions {
        NftOptions {
            ifnames: interface_names(),
            ..NftOptions::default()
        }
    }
    /// Exactly `nft list ruleset`'s form (nft 1.0.6), without interface names.
    pub fn nft() -> NftOptions {
        NftOptions {
            xt: XtStyle::Nft,
            ..NftOptions::default()
        }
    }
}

/// Interface index → name in the calling thread's network namespace (`if_nameindex(3)`).
pub fn interface_names() -> HashMap<u32, String> {
    let mut m = HashMap::new();
    // SAFETY: if_nameindex returns NULL or an array terminated by {0, NULL} that we only read
    // and then release with if_freenameindex; names are NUL-terminated C strings.
    unsafe {
        let p = libc::if_nameindex();
        if p.is_null() {
            return m;
        }
        let mut i = 0;
        loop {
            let e = &*p.add(i);
            if e.if_index == 0 || e.if_name.is_null() {
                break;
            }
            let name = std::ffi::CStr::from_ptr(e.if_name)
                .to_string_lossy()
                .into_owned();
            m.insert(e.if_index, name);
            i += 1;
        }
        libc::if_freenameindex(p);
    }
    m
}

/// The whole ruleset as `nft list ruleset` prints it.
pub fn ruleset(rs: &crate::Ruleset, opts: &NftOptions) -> String {
    datatype::with_ifnames(&opts.ifnames, || {
        let mut s = String::new();
        for t in &rs.tables {
            s.push_str(&table_inner(t, opts));
        }
        s
    })
}

/// The lines nft 1.0.6 prints on stderr after `list ruleset`: one
/// `# Warning: table FAMILY NAME is managed by iptables-nft, do not touch!` per table holding
/// at least one xt match/target expression, in table order.
pub fn warnings(rs: &crate::Ruleset) -> Vec<String> {
    rs.tables
        .iter()
        .filter(|t| t.chains.iter().flat_map(|c| &c.rules).any(|r| has_xt(&r)))
        .map(warning)
        .collect()
}

/// One rule's statements as nft prints them after the indentation (no newline).
pub fn rule(t: &Table, c: &Chain, r: &Rule, opts: &NftOptions) -> String {
    datatype::with_ifnames(&opts.ifnames, || fold::rule_text(t, c, r, opts))
}

const NF_IP_PRI_RAW: i32 = -300;
const NF_IP_PRI_MANGLE: i32 = -150;
const NF_IP_PRI_NAT_DST: i32 = -100;
const NF_IP_PRI_FILTER: i32 = 0;
const NF_IP_PRI_SECURITY: i32 = 50;
const NF_IP_PRI_NAT_SRC: i32 = 100;

/// Whether a standard priority name applies to this family and hook (`std_prio_family_hook_compat`).
fn std_prio_ok(prio: i32, family: Family, hook: u32) -> bool {
    if family == Family::Bridge {
        return match prio {
            -300 => hook == 0,
            -200 => true,
            100 => hook == 3,
            300 => hook == 4,
            _ => false,
        };
    }
    let inet = matches!(family, Family::Inet | Family::Ip | Family::Ip6);
    match prio {
        NF_IP_PRI_FILTER => inet || matches!(family, Family::Arp | Family::Netdev),
        NF_IP_PRI_RAW | NF_IP_PRI_MANGLE | NF_IP_PRI_SECURITY => inet,
        NF_IP_PRI_NAT_DST => inet && hook == 0,
        NF_IP_PRI_NAT_SRC => inet && hook == 4,
        _ => false,
    }
}

/// A chain or flowtable priority as nft prints it (`filter`, `dstnat - 10`, or a number).
pub fn prio_text(family: Family, hook: u32, prio: i32) -> String {
    let table: &[(i32, &str)] = if family == Family::Bridge {
        &[
            (-300, "dstnat"),
            (-200, "filter"),
            (100, "out"),
            (300, "srcnat"),
        ]
    } else {
        &[
            (NF_IP_PRI_RAW, "raw"),
            (NF_IP_PRI_MANGLE, "mangle"),
            (NF_IP_PRI_NAT_DST, "dstnat"),
            (NF_IP_PRI_FILTER, "filter"),
            (NF_IP_PRI_SECURITY, "security"),
            (NF_IP_PRI_NAT_SRC, "srcnat"),
        ]
    };
    for &(v, n) in table {
        // i64: a priority near i32::MIN/MAX must not overflow
        let off = i64::from(prio) - i64::from(v);
        if off.abs() <= 10 {
            if !std_prio_ok(v, family, hook) {
                break;
            }
            return match off.cmp(&0) {
                std::cmp::Ordering::Greater => format!("{n} + {off}"),
                std::cmp::Ordering::Less => format!("{n} - {}", -off),
                std::cmp::Ordering::Equal => n.to_string(),
            };
        }
    }
    prio.to_string()
}

fn hook_name(family: Family, hook: u32) -> String {
    let n = match family {
        Family::Arp => match hook {
            0 => Some("input"),
            1 => Some("output"),
            2 => Some("forward"),
            _ => None,
        },
        Family::Netdev => match hook {
            0 => Some("ingress"),
            1 => Some("egress"),
            _ => None,
        },
        _ => nfscope_wire::nft::expr::consts::hook_inet(hook),
    };
    n.map(str::to_string)
        .unwrap_or_else(|| format!("unknown({hook})"))
}

/// A chain block, indented one tab (empty for binding chains, which nft does not list).
pub fn chain(t: &Table, c: &Chain, opts: &NftOptions) -> String {
    datatype::with_ifnames(&opts.ifnames, || {
        chain_indexed(
            t,
            None,
            c,
            opts.show_writer
                .then(|| crate::provenance::TableInfo::of(t))
                .as_ref(),
            opts,
        )
    })
}

fn chain_indexed(
    t: &Table,
    sets: Option<&fold::SetIndex<'_>>,
    c: &Chain,
    writer: Option<&crate::provenance::TableInfo>,
    opts: &NftOptions,
) -> String {
    let Some(mut s) = chain_head(t, c) else {
        return String::new();
    };
    for r in &c.rules {
        s.push_str("\t\t");
        s.push_str(&fold::rule_text_indexed(t, sets, c, &r, opts));
        if let Some(info) = writer {
            s.push_str(" # written by ");
            s.push_str(&crate::provenance::of_rule_in(info, t, c, &r).summary());
        }
        s.push('\n');
    }
    s.push_str(CHAIN_TAIL);
    s
}

/// What closes a chain block.
const CHAIN_TAIL: &str = "\t}\n";

/// A chain block up to its first rule (`None` for binding chains, which nft does not list).
fn chain_head(t: &Table, c: &Chain) -> Option<String> {
    let a = &c.attrs;
    let flags = a.flags.unwrap_or(0);
    if flags & 4 != 0 {
        return None; // NFT_CHAIN_BINDING
    }
    let mut s = format!("\tchain {} {{", c.name());
    if let Some(cm) = a
        .userdata
        .as_ref()
        .and_then(|u| u.string(udata::CHAIN_COMMENT))
    {
        s.push_str(&format!("\n\t\tcomment \"{cm}\""));
    }
    s.push('\n');
    if let Some(h) = &a.hook {
        let hook = h.hooknum.unwrap_or(0);
        s.push_str(&format!(
            "\t\ttype {} hook {}",
            a.chain_type.as_deref().unwrap_or("filter"),
            hook_name(t.family, hook)
        ));
        let mut devs: Vec<String> = match (&h.devs, &h.dev) {
            (Some(d), _) if !d.0.is_empty() => d.0.clone(),
            (_, Some(d)) => vec![d.clone()],
            _ => vec![],
        };
        devs.sort();
        if devs.len() == 1 {
            s.push_str(&format!(" device \"{}\"", devs[0]));
        } else if devs.len() > 1 {
            s.push_str(&format!(" devices = {{ {} }}", devs.join(", ")));
        }
        s.push_str(&format!(
            " priority {};",
            prio_text(t.family, hook, h.priority.unwrap_or(0))
        ));
        if let Some(p) = a.policy {
            let p = match p {
                0 => "drop",
                1 => "accept",
                _ => "unknown",
            };
            s.push_str(&format!(" policy {p};"));
        }
        if flags & 2 != 0 {
            s.push_str(" flags offload;");
        }
        s.push('\n');
    }
    Some(s)
}

/// One table as `nft list ruleset` prints it.
pub fn table(t: &Table, opts: &NftOptions) -> String {
    datatype::with_ifnames(&opts.ifnames, || table_inner(t, opts))
}

fn table_inner(t: &Table, opts: &NftOptions) -> String {
    table_text(t, opts, None)
}

/// A table's text; with `streamed`, the chains whose text [`NftSink`] made are taken from it.
fn table_text(t: &Table, opts: &NftOptions, streamed: Option<&[Option<ChainText>]>) -> String {
    let mut s = String::new();
    table_pieces(t, opts, streamed, &mut |x| s.push_str(x));
    s
}

/// [`table_text`], handed out piece by piece (a streamed chain's text is not copied).
fn table_pieces(
    t: &Table,
    opts: &NftOptions,
    streamed: Option<&[Option<ChainText>]>,
    emit: &mut dyn FnMut(&str),
) {
    emit(&format!("table {} {} {{\n", t.family, t.name()));
    let mut delim = "";
    let flags = t.attrs.flags.unwrap_or(0);
    if flags != 0 {
        let mut names = Vec::new();
        if flags & 1 != 0 {
            names.push("dormant".to_string());
        }
        if flags & 2 != 0 {
            names.push("owner".to_string());
        }
        emit(&format!("\tflags {}\n", names.join(",")));
        delim = "\n";
    }
    if let Some(c) = t
        .attrs
        .userdata
        .as_ref()
        .and_then(|u| u.string(udata::TABLE_COMMENT))
    {
        emit(&format!("\tcomment \"{c}\"\n"));
    }
    for o in &t.objects {
        emit(delim);
        emit(&obj::declaration(o));
        delim = "\n";
    }
    for st in &t.sets {
        if st.is_anonymous() {
            continue;
        }
        emit(delim);
        let (k, d) = typeof_exprs(st);
        emit(&set::declaration(st, k, d));
        delim = "\n";
    }
    for f in &t.flowtables {
        emit(delim);
        emit(&obj::flowtable(f));
        delim = "\n";
    }
    let index = fold::set_index(t);
    let writer = opts
        .show_writer
        .then(|| crate::provenance::TableInfo::of(t));
    let render = |chains: &[Chain]| -> Vec<String> {
        chains
            .iter()
            .map(|c| chain_indexed(t, Some(&index), c, writer.as_ref(), opts))
            .collect()
    };
    if let Some(streamed) = streamed {
        for (ci, c) in t.chains.iter().enumerate() {
            match streamed.get(ci) {
                Some(Some(ct)) if !ct.text.is_empty() => {
                    emit(delim);
                    emit(&ct.text);
                    emit(CHAIN_TAIL);
                    delim = "\n";
                }
                Some(Some(_)) => {}
                _ => {
                    let text = chain_indexed(t, Some(&index), c, writer.as_ref(), opts);
                    if !text.is_empty() {
                        emit(delim);
                        emit(&text);
                        delim = "\n";
                    }
                }
            }
        }
        emit("}\n");
        return;
    }
    let texts: Vec<String> = if t.chains.len() >= PARALLEL_CHAINS {
        // Large tables render on two threads (chains are independent); the text is the same.
        let (a, b) = t.chains.split_at(t.chains.len() / 2);
        std::thread::scope(|sc| {
            let other = sc.spawn(|| datatype::with_ifnames(&opts.ifnames, || render(b)));
            let mut first = render(a);
            match other.join() {
                Ok(second) => first.extend(second),
                // A panic in the other half would be a bug; render that half here instead.
                Err(_) => first.extend(render(b)),
            }
            first
        })
    } else {
        render(&t.chains)
    };
    for text in texts {
        if text.is_empty() {
            continue;
        }
        emit(delim);
        emit(&text);
        delim = "\n";
    }
    emit("}\n");
}

/// Tables with at least this many chains render on two threads.
const PARALLEL_CHAINS: usize = 512;

/// One chain rendered while its rules arrived ([`NftSink`]): its block without the closing
/// brace.
#[derive(Debug, Default)]
pub struct ChainText {
    pub text: String,
    /// The chain holds an xt match or target (what nft's "managed by iptables-nft" warning
    /// looks for).
    pub xt: bool,
    pub rules: usize,
}

/// Renders each chain's rules as `nft list ruleset` text while the snapshot reads them
/// ([`crate::snapshot::take_streamed`]): the rules are decoded once, from the receive buffer,
/// and never kept. `show_writer` is not supported here (it looks at whole tables).
pub struct NftSink<'t> {
    tables: &'t [Table],
    index: Vec<fold::SetIndex<'t>>,
    opts: &'t NftOptions,
    /// ipset names, read in the snapshot's namespace the first time a rule needs them (when
    /// `opts.ipsets` is empty).
    ipsets: &'t std::sync::OnceLock<BTreeMap<u16, String>>,
}

impl<'t> NftSink<'t> {
    pub fn new(
        tables: &'t [Table],
        opts: &'t NftOptions,
        ipsets: &'t std::sync::OnceLock<BTreeMap<u16, String>>,
    ) -> NftSink<'t> {
        NftSink {
            tables,
            index: tables.iter().map(fold::set_index).collect(),
            opts,
            ipsets,
        }
    }
}

/// Whether a rule holds an xt match or target.
fn has_xt(r: &Rule) -> bool {
    use nfscope_wire::nft::Expr;
    r.expressions
        .iter()
        .flatten()
        .any(|e| matches!(e, Expr::Match(_) | Expr::Target(_)))
}

/// Whether a rule holds an xt `set` match or `SET` target (which name ipsets by index).
pub(crate) fn names_ipsets(r: &Rule) -> bool {
    use nfscope_wire::nft::Expr;
    r.expressions.iter().flatten().any(|e| match e {
        Expr::Match(m) => m.name.as_deref() == Some("set"),
        Expr::Target(x) => x.name.as_deref() == Some("SET"),
        _ => false,
    })
}

/// What [`NftSink`]s are made from: the options and the lazily read ipset names.
pub struct NftStream {
    pub opts: NftOptions,
    pub ipsets: std::sync::OnceLock<BTreeMap<u16, String>>,
}

impl crate::snapshot::Prepare<ChainText> for NftStream {
    fn prepare<'t>(
        &'t self,
        tables: &'t [Table],
    ) -> Box<dyn crate::snapshot::ChainRules<ChainText> + 't> {
        Box::new(NftSink::new(tables, &self.opts, &self.ipsets))
    }
}

impl crate::snapshot::ChainRules<ChainText> for NftSink<'_> {
    fn wants(&self, _table: usize, _chain: usize) -> bool {
        true
    }
    fn start(&self, table: usize, chain: usize) -> ChainText {
        let t = &self.tables[table];
        // Room for a few rules: most chains hold two or three.
        let mut text = String::with_capacity(512);
        text.push_str(&chain_head(t, &t.chains[chain]).unwrap_or_default());
        ChainText {
            text,
            xt: false,
            rules: 0,
        }
    }
    fn rule(
        &self,
        out: &mut ChainText,
        table: usize,
        chain: usize,
        attrs: &[u8],
    ) -> crate::Result<()> {
        let t = &self.tables[table];
        let r = Rule::parse_in_chain(attrs)
            .map_err(|e| crate::Error::decode(crate::snapshot::rules_op(t, &t.chains[chain]), e))?;
        out.rules += 1;
        out.xt = out.xt || has_xt(&r);
        let ipsets = if self.opts.ipsets.is_empty() && names_ipsets(&r) {
            self.ipsets.get_or_init(crate::legacy::ipset_names)
        } else {
            &self.opts.ipsets
        };
        out.text.push_str("\t\t");
        datatype::with_ifnames(&self.opts.ifnames, || {
            fold::rule_text_into(
                &mut out.text,
                t,
                Some(&self.index[table]),
                &r,
                0,
                self.opts.xt,
                Some(ipsets),
            )
        });
        out.text.push('\n');
        Ok(())
    }
}

/// nft's warnings for a streamed snapshot (see [`warnings`]).
pub fn warnings_streamed(rs: &crate::Ruleset, chains: &[Vec<Option<ChainText>>]) -> Vec<String> {
    rs.tables
        .iter()
        .enumerate()
        .filter(|(ti, t)| {
            chains
                .get(*ti)
                .into_iter()
                .flatten()
                .flatten()
                .any(|ct| ct.xt)
                || t.chains.iter().flat_map(|c| &c.rules).any(|r| has_xt(&r))
        })
        .map(|(_, t)| warning(t))
        .collect()
}

/// Write the ruleset's text from a streamed snapshot to `w`: the same text [`ruleset`] gives
/// for a full one.
pub fn write_ruleset_streamed(
    w: &mut dyn std::io::Write,
    rs: &crate::Ruleset,
    chains: &[Vec<Option<ChainText>>],
    opts: &NftOptions,
) -> std::io::Result<()> {
    datatype::with_ifnames(&opts.ifnames, || {
        let mut err = Ok(());
        for (ti, t) in rs.tables.iter().enumerate() {
            let streamed = chains.get(ti).map(Vec::as_slice);
            table_pieces(t, opts, streamed, &mut |x| {
                if err.is_ok() {
                    err = w.write_all(x.as_bytes());
                }
            });
        }
        err
    })
}

fn warning(t: &Table) -> String {
    format!(
        "# Warning: table {} {} is managed by iptables-nft, do not touch!",
        t.family,
        t.name()
    )
}

/// `typeof` key and data expressions from the set's userdata, when nft stored them.
fn typeof_exprs(s: &crate::model::Set) -> (Option<String>, Option<String>) {
    let Some(u) = s.attrs.userdata.as_ref() else {
        return (None, None);
    };
    let k = u.get(udata::SET_KEY_TYPEOF).and_then(typeof_text::parse);
    let d = u.get(udata::SET_DATA_TYPEOF).and_then(typeof_text::parse);
    (k, d)
}

pub mod typeof_text;
