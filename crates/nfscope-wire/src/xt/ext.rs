//! xt extension payloads (matches and targets), decoded by (name, revision, family), and printed
//! as `iptables-save` 1.8.9 prints them.
//!
//! The same C structs travel in two places: after the `xt_entry_match` / `xt_entry_target`
//! header of a legacy `ipt_entry` (see [`super::entry`]), and in nf_tables' `match` / `target`
//! expressions (nft_compat's `NFTA_MATCH_INFO` / `NFTA_TARGET_INFO`, as iptables-nft writes
//! them). One decoder serves both.
//!
//! # API
//!
//! ```
//! use nfscope_wire::xt::ext::{decode, XtKind, NFPROTO_IPV4};
//! // `iptables -A INPUT -m mark --mark 0x8000/0x8000`: struct xt_mark_mtinfo1
//! let data = [0x00, 0x80, 0, 0, 0x00, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
//! let xt = decode(XtKind::Match, "mark", 1, NFPROTO_IPV4, &data);
//! let mut s = String::new();
//! xt.save(&mut s);
//! assert_eq!(s, " -m mark --mark 0x8000/0x8000");
//! ```
//!
//! - [`decode`] never fails: a name/revision this module does not know, a payload of the wrong
//!   size (every decoder checks the blob's length against `XT_ALIGN(sizeof(struct …))`, or the
//!   unpadded size, or for structs with kernel-only trailing pointers the user-visible size),
//!   or a field value no iptables would write, all give [`Xt::Unknown`] with the raw bytes.
//! - [`Xt::save`] appends the `iptables-save` fragment, **each word preceded by a space**, the
//!   way iptables' `save` callbacks print (` -m mark --mark 0x8000/0x8000`, ` -j DNAT
//!   --to-destination 10.0.0.1:80`). The `-p tcp` of `-p tcp -m tcp --dport 80` comes from the
//!   entry, not from here. The `-m NAME` printed is the one iptables prints: its alias where it
//!   has one (`-m state` for a conntrack blob written by `-m state`, `-j NOTRACK` for a `CT`
//!   blob with only `--notrack` written as NOTRACK is not distinguishable and prints as CT).
//! - [`Xt::save_with`] takes [`Names`] to resolve what the blob only holds by number (ipset
//!   set indexes); without it a set prints as `#<index>`.
//! - [`Xt::Unknown`] prints ` -m NAME [raw rev R HEX]` / ` -j NAME [raw rev R HEX]` (just the
//!   name when there is no payload): never dropped, visibly not iptables syntax.
//! - `Xt` is `serde::Serialize`: JSON shows the decoded fields (`{"Mark": {"mark": 32768, …}}`).
//!
//! Layout: one module per extension under `ext/`, each with a layout comment naming the UAPI
//! struct and the offsets it reads (x86_64, native endian unless a field is marked `be`).
//! [`decode`] below is the registry: the one (kind, name, revision, family) → parser table.

use serde::Serialize;

pub mod fmt;

pub mod addrtype;
pub mod comment;
pub mod connmark;
pub mod conntrack;
pub mod ct;
pub mod error;
pub mod hashlimit;
pub mod icmp;
pub mod limit;
pub mod log;
pub mod mark;
pub mod multiport;
pub mod nat;
pub mod nflog;
pub mod owner;
pub mod physdev;
pub mod pkttype;
pub mod recent;
pub mod reject;
pub mod set;
pub mod standard;
pub mod state;
pub mod statistic;
pub mod tcpmss;
pub mod tcpudp;

/// `NFPROTO_UNSPEC`.
pub const NFPROTO_UNSPEC: u8 = 0;
/// `NFPROTO_IPV4`.
pub const NFPROTO_IPV4: u8 = 2;
/// `NFPROTO_ARP`.
pub const NFPROTO_ARP: u8 = 3;
/// `NFPROTO_BRIDGE`.
pub const NFPROTO_BRIDGE: u8 = 7;
/// `NFPROTO_IPV6`.
pub const NFPROTO_IPV6: u8 = 10;

/// A match (`-m`) or a target (`-j`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum XtKind {
    Match,
    Target,
}

/// What a payload refers to by number and only the kernel can name (iptables asks the kernel
/// while printing; this crate does no I/O, so the caller may).
pub trait Names {
    /// The name of the ipset with this index (`IP_SET_OP_GET_BYINDEX`).
    fn ipset(&self, index: u16) -> Option<String>;
}

/// No names known: sets print as `#<index>`.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoNames;

impl Names for NoNames {
    fn ipset(&self, _: u16) -> Option<String> {
        None
    }
}

/// Printing context handed to every extension's `save`.
pub struct Ctx<'a> {
    pub names: &'a dyn Names,
}

/// One decoded extension: prints itself as iptables-save does.
pub trait Ext {
    /// Append the ` -m NAME …` / ` -j NAME …` fragment.
    fn save(&self, ctx: &Ctx<'_>, out: &mut String);
}

/// A payload that is not decoded: unknown name or revision, or the wrong size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnknownXt {
    pub kind: XtKind,
    pub name: String,
    pub rev: u8,
    pub family: u8,
    pub bytes: Vec<u8>,
}

impl Ext for UnknownXt {
    fn save(&self, _: &Ctx<'_>, out: &mut String) {
        use std::fmt::Write as _;
        let k = match self.kind {
            XtKind::Match => 'm',
            XtKind::Target => 'j',
        };
        let _ = write!(out, " -{k} {}", self.name);
        if !self.bytes.is_empty() {
            let _ = write!(out, " [raw rev {} ", self.rev);
            for b in &self.bytes {
                let _ = write!(out, "{b:02x}");
            }
            out.push(']');
        }
    }
}

macro_rules! xt_enum {
    ($($(#[$m:meta])* $var:ident($ty:ty),)*) => {
        /// A decoded match or target payload.
        #[derive(Debug, Clone, PartialEq, Serialize)]
        pub enum Xt {
            $($(#[$m])* $var($ty),)*
            /// Not decoded (unknown extension / revision, or a payload of the wrong size).
            Unknown(UnknownXt),
        }

        impl Xt {
            fn ext(&self) -> &dyn Ext {
                match self {
                    $(Xt::$var(x) => x,)*
                    Xt::Unknown(x) => x,
                }
            }
        }
    };
}

xt_enum! {
    Addrtype(addrtype::Addrtype),
    Comment(comment::Comment),
    Connmark(connmark::Connmark),
    Conntrack(conntrack::Conntrack),
    Hashlimit(hashlimit::Hashlimit),
    Icmp(icmp::Icmp),
    Limit(limit::Limit),
    Mark(mark::Mark),
    Multiport(multiport::Multiport),
    Owner(owner::Owner),
    Physdev(physdev::Physdev),
    Pkttype(pkttype::Pkttype),
    Recent(recent::Recent),
    Set(set::SetMatch),
    State(state::State),
    Statistic(statistic::Statistic),
    Tcpmss(tcpmss::TcpmssMatch),
    Tcp(tcpudp::Tcp),
    Udp(tcpudp::Udp),
    /// The standard target: a verdict or a jump offset.
    Standard(standard::Standard),
    /// `ERROR`: heads a user chain (its name) or ends a table.
    Error(error::ErrorTarget),
    ConnmarkTarget(connmark::ConnmarkTarget),
    Ct(ct::Ct),
    Nat(nat::Nat),
    Log(log::Log),
    MarkTarget(mark::MarkTarget),
    Nflog(nflog::Nflog),
    Reject(reject::Reject),
    SetTarget(set::SetTarget),
    TcpmssTarget(tcpmss::TcpmssTarget),
    /// A target without payload or options (`TRACE`, `NOTRACK`, `ACCEPT` as an nft_compat
    /// target, …): prints ` -j NAME`.
    Plain(standard::Plain),
}

impl Xt {
    /// Append the iptables-save fragment (see the module docs), with no name resolver.
    pub fn save(&self, out: &mut String) {
        self.save_with(&NoNames, out)
    }
    /// Append the iptables-save fragment, resolving set indexes through `names`.
    pub fn save_with(&self, names: &dyn Names, out: &mut String) {
        self.ext().save(&Ctx { names }, out)
    }
    /// The iptables-save fragment as a new string (leading space included).
    pub fn to_save(&self) -> String {
        let mut s = String::new();
        self.save(&mut s);
        s
    }
    /// True when the payload was not decoded.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Xt::Unknown(_))
    }
}

/// Decode an xt payload. Never fails: anything not understood is [`Xt::Unknown`].
///
/// `family` is the table's `NFPROTO_*` (ip: 2, ip6: 10); it selects between the IPv4 and IPv6
/// forms of extensions that have both (`icmp`/`icmp6`, `REJECT`, conntrack addresses, …).
pub fn decode(kind: XtKind, name: &str, rev: u8, family: u8, data: &[u8]) -> Xt {
    decode_known(kind, name, rev, family, data).unwrap_or_else(|| {
        Xt::Unknown(UnknownXt { kind, name: name.to_string(), rev, family, bytes: data.to_vec() })
    })
}

/// The registry.
fn decode_known(kind: XtKind, name: &str, rev: u8, f: u8, d: &[u8]) -> Option<Xt> {
    use XtKind::{Match as M, Target as T};
    Some(match (kind, name) {
        (M, "addrtype") => Xt::Addrtype(addrtype::Addrtype::parse(rev, d)?),
        (M, "comment") => Xt::Comment(comment::Comment::parse(rev, d)?),
        (M, "connmark") => Xt::Connmark(connmark::Connmark::parse(rev, d)?),
        (M, "conntrack") => Xt::Conntrack(conntrack::Conntrack::parse(rev, f, d)?),
        (M, "hashlimit") => Xt::Hashlimit(hashlimit::Hashlimit::parse(rev, f, d)?),
        (M, "icmp" | "icmp6") => Xt::Icmp(icmp::Icmp::parse(name, rev, d)?),
        (M, "limit") => Xt::Limit(limit::Limit::parse(rev, d)?),
        (M, "mark") => Xt::Mark(mark::Mark::parse(rev, d)?),
        (M, "multiport") => Xt::Multiport(multiport::Multiport::parse(rev, d)?),
        (M, "owner") => Xt::Owner(owner::Owner::parse(rev, d)?),
        (M, "physdev") => Xt::Physdev(physdev::Physdev::parse(rev, d)?),
        (M, "pkttype") => Xt::Pkttype(pkttype::Pkttype::parse(rev, d)?),
        (M, "recent") => Xt::Recent(recent::Recent::parse(rev, f, d)?),
        (M, "set") => Xt::Set(set::SetMatch::parse(rev, d)?),
        (M, "state") => Xt::State(state::State::parse(rev, d)?),
        (M, "statistic") => Xt::Statistic(statistic::Statistic::parse(rev, d)?),
        (M, "tcpmss") => Xt::Tcpmss(tcpmss::TcpmssMatch::parse(rev, d)?),
        (M, "tcp") => Xt::Tcp(tcpudp::Tcp::parse(rev, d)?),
        (M, "udp") => Xt::Udp(tcpudp::Udp::parse(rev, d)?),

        (T, "") => Xt::Standard(standard::Standard::parse(rev, d)?),
        (T, "ERROR") => Xt::Error(error::ErrorTarget::parse(rev, d)?),
        (T, "CONNMARK") => Xt::ConnmarkTarget(connmark::ConnmarkTarget::parse(rev, d)?),
        (T, "CT") => Xt::Ct(ct::Ct::parse(rev, d)?),
        (T, "DNAT" | "SNAT" | "MASQUERADE" | "REDIRECT" | "NETMAP") => {
            Xt::Nat(nat::Nat::parse(name, rev, f, d)?)
        }
        (T, "LOG") => Xt::Log(log::Log::parse(rev, d)?),
        (T, "MARK") => Xt::MarkTarget(mark::MarkTarget::parse(rev, d)?),
        (T, "NFLOG") => Xt::Nflog(nflog::Nflog::parse(rev, d)?),
        (T, "REJECT") => Xt::Reject(reject::Reject::parse(rev, f, d)?),
        (T, "SET") => Xt::SetTarget(set::SetTarget::parse(rev, d)?),
        (T, "TCPMSS") => Xt::TcpmssTarget(tcpmss::TcpmssTarget::parse(rev, d)?),
        (T, "TRACE" | "NOTRACK" | "ACCEPT" | "DROP" | "RETURN" | "QUEUE") => {
            Xt::Plain(standard::Plain::parse(name, d)?)
        }
        _ => return None,
    })
}

#[cfg(test)]
pub(crate) mod testutil {
    use super::*;

    /// Hex (whitespace ignored) to bytes.
    pub fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    /// Decode, check the save text, and check that every shorter prefix is Unknown.
    pub fn check(kind: XtKind, name: &str, rev: u8, family: u8, data: &[u8], want: &str) {
        let xt = decode(kind, name, rev, family, data);
        assert!(!xt.is_unknown(), "{name} rev {rev}: not decoded: {xt:?}");
        assert_eq!(xt.to_save(), want, "{name} rev {rev}");
        for n in 0..data.len() {
            let p = decode(kind, name, rev, family, &data[..n]);
            // A prefix may only decode when what was cut is zeroes (alignment padding,
            // kernel-only fields) and it means the same thing.
            let zero_tail = data[n..].iter().all(|&b| b == 0);
            assert!(p.is_unknown() || (zero_tail && p == xt), "{name}: prefix {n} decoded: {p:?}");
        }
    }

}
