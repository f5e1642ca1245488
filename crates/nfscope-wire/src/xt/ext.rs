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
//!   has one: `-m state --state …` for a conntrack blob written by `-m state`
//!   (`XT_CONNTRACK_STATE_ALIAS`), `-j NOTRACK` for a `CT` blob written by `-j NOTRACK`
//!   (`XT_CT_NOTRACK_ALIAS`).
//! - [`Xt::save_with`] takes [`Names`] to resolve what the blob only holds by number (ipset
//!   set indexes; device group, realm and conntrack label names, which iptables reads from
//!   files); without it a set prints as `#<index>` and the others as numbers.
//! - [`Xt::Unknown`] prints ` -m NAME [raw rev R HEX]` / ` -j NAME [raw rev R HEX]` (just the
//!   name when there is no payload): never dropped, visibly not iptables syntax.
//! - `Xt` is `serde::Serialize`: JSON shows the decoded fields (`{"Mark": {"mark": 32768, …}}`).
//!
//! # Where the text differs from iptables-save 1.8.9 (on purpose or by necessity)
//!
//! - **Older revisions**: iptables-save 1.8.9 loads only the newest revision of each extension
//!   that it and the kernel share, and prints any other revision as ` -j NFQUEUE [unsupported
//!   revision]`. We decode every revision the kernel still accepts and print its options, as
//!   iptables prints them for the newest one (tested by rewriting tables in the kernel).
//! - **Names from files**: iptables maps some numbers through files at print time (devgroup
//!   `/etc/iproute2/group`, realm `/etc/iproute2/rt_realms`, connlabel `connlabel.conf`); this
//!   crate does no I/O: the caller passes them through [`Names`] ([`fmt::parse_lmap`] reads
//!   the iproute2 format), else the number is printed, as iptables does without a name.
//!   Protocol names (`policy --proto`, `ipv6header --header`) are those of Debian's
//!   `/etc/protocols`.
//! - **arptables / ebtables** print some targets differently (`MARK`, `CLASSIFY` in arptables);
//!   only the iptables / ip6tables forms are produced here. arp_tables' own `mangle` target
//!   prints as arptables-nft saves it; arptables-legacy's listing of all three is
//!   `nfscope::render::arptables`, from these decoded fields.
//!
//! Layout: one module per extension under `ext/`, each with a layout comment naming the UAPI
//! struct and the offsets it reads (x86_64, native endian unless a field is marked `be`).
//! [`decode`] below is the registry: the one (kind, name, revision, family) → parser table.

use serde::Serialize;

pub mod fmt;
#[cfg(test)]
mod golden;

pub mod addrtype;
pub mod ah;
pub mod arpmangle;
pub mod audit;
pub mod bpf;
pub mod cgroup;
pub mod checksum;
pub mod classify;
pub mod cluster;
pub mod comment;
pub mod connbytes;
pub mod connlabel;
pub mod connlimit;
pub mod connmark;
pub mod connsecmark;
pub mod conntrack;
pub mod cpu;
pub mod ct;
pub mod dccp;
pub mod devgroup;
pub mod dscp;
pub mod ebt_802_3;
pub mod ebt_arp;
pub mod ebt_ip;
pub mod ebt_ip6;
pub mod ebt_log;
pub mod ebt_mark;
pub mod ebt_mark_m;
pub mod ebt_nat;
pub mod ebt_pkttype;
pub mod ebt_stp;
pub mod ebt_vlan;
pub mod ecn;
pub mod error;
pub mod esp;
pub mod eui64;
pub mod frag;
pub mod hashlimit;
pub mod helper;
pub mod hl;
pub mod hmark;
pub mod icmp;
pub mod idletimer;
pub mod ipcomp;
pub mod iprange;
pub mod ipv6header;
pub mod ipvs;
pub mod led;
pub mod length;
pub mod limit;
pub mod log;
pub mod mac;
pub mod mark;
pub mod mh;
pub mod multiport;
pub mod nat;
pub mod nfacct;
pub mod nflog;
pub mod nfqueue;
pub mod npt;
pub mod opts;
pub mod osf;
pub mod owner;
pub mod physdev;
pub mod pkttype;
pub mod policy;
pub mod quota;
pub mod rateest;
pub mod realm;
pub mod recent;
pub mod reject;
pub mod rpfilter;
pub mod rt;
pub mod sctp;
pub mod secmark;
pub mod set;
pub mod socket;
pub mod srh;
pub mod standard;
pub mod state;
pub mod statistic;
pub mod string;
pub mod synproxy;
pub mod tcpmss;
pub mod tcpoptstrip;
pub mod tcpudp;
pub mod tee;
pub mod time;
pub mod tos;
pub mod tproxy;
pub mod u32;

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
    /// The name of a device group (`/etc/iproute2/group`, see [`fmt::parse_lmap`]).
    fn devgroup(&self, _id: u32) -> Option<String> {
        None
    }
    /// The name of a routing realm (`/etc/iproute2/rt_realms`, see [`fmt::parse_lmap`]).
    fn realm(&self, _id: u32) -> Option<String> {
        None
    }
    /// The name of a conntrack label bit (`connlabel.conf`).
    fn connlabel(&self, _bit: u16) -> Option<String> {
        None
    }
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
    /// The payload as received (hex in JSON, like other raw bytes of this crate).
    #[serde(serialize_with = "crate::attr::hex")]
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
    /// ebtables `802_3`.
    Ebt8023(ebt_802_3::Ebt8023),
    /// ebtables `arp`.
    EbtArp(ebt_arp::EbtArp),
    /// ebtables `ip`.
    EbtIp(ebt_ip::EbtIp),
    /// ebtables `ip6`.
    EbtIp6(ebt_ip6::EbtIp6),
    /// ebtables `mark` target.
    EbtMark(ebt_mark::EbtMark),
    /// ebtables `mark_m`.
    EbtMarkM(ebt_mark_m::EbtMarkM),
    /// ebtables `log` watcher.
    EbtLog(ebt_log::EbtLog),
    /// ebtables `nflog` watcher.
    EbtNflog(ebt_log::EbtNflog),
    /// ebtables `snat`, `dnat`, `redirect`, `arpreply`.
    EbtNat(ebt_nat::EbtNat),
    /// ebtables `pkttype`.
    EbtPkttype(ebt_pkttype::EbtPkttype),
    /// ebtables `stp`.
    EbtStp(ebt_stp::EbtStp),
    /// ebtables `vlan`.
    EbtVlan(ebt_vlan::EbtVlan),
    Ah(ah::Ah),
    Bpf(bpf::Bpf),
    Cgroup(cgroup::Cgroup),
    Cluster(cluster::Cluster),
    Comment(comment::Comment),
    Connbytes(connbytes::Connbytes),
    Connlabel(connlabel::Connlabel),
    Connlimit(connlimit::Connlimit),
    Connmark(connmark::Connmark),
    Conntrack(conntrack::Conntrack),
    Cpu(cpu::Cpu),
    Dccp(dccp::Dccp),
    Devgroup(devgroup::Devgroup),
    Dscp(dscp::Dscp),
    Tos(tos::Tos),
    Ecn(ecn::Ecn),
    Eui64(eui64::Eui64),
    Ipcomp(ipcomp::Ipcomp),
    Opts(opts::Opts),
    Esp(esp::Esp),
    Frag(frag::Frag),
    Hashlimit(hashlimit::Hashlimit),
    Helper(helper::Helper),
    Hl(hl::Hl),
    Icmp(icmp::Icmp),
    Iprange(iprange::Iprange),
    Ipv6header(ipv6header::Ipv6header),
    Ipvs(ipvs::Ipvs),
    Length(length::Length),
    Limit(limit::Limit),
    Mac(mac::Mac),
    Mark(mark::Mark),
    Mh(mh::Mh),
    Multiport(multiport::Multiport),
    Nfacct(nfacct::Nfacct),
    Osf(osf::Osf),
    Owner(owner::Owner),
    Physdev(physdev::Physdev),
    Pkttype(pkttype::Pkttype),
    Policy(policy::Policy),
    Quota(quota::Quota),
    Rateest(rateest::Rateest),
    Realm(realm::Realm),
    Recent(recent::Recent),
    Rpfilter(rpfilter::Rpfilter),
    Rt(rt::Rt),
    Sctp(sctp::Sctp),
    Set(set::SetMatch),
    Socket(socket::Socket),
    Srh(srh::Srh),
    State(state::State),
    Statistic(statistic::Statistic),
    String(string::StringMatch),
    Tcpmss(tcpmss::TcpmssMatch),
    Tcp(tcpudp::Tcp),
    Udp(tcpudp::Udp),
    Time(time::Time),
    U32(u32::U32),
    /// The standard target: a verdict or a jump offset.
    Standard(standard::Standard),
    /// `ERROR`: heads a user chain (its name) or ends a table.
    Error(error::ErrorTarget),
    Audit(audit::Audit),
    /// arp_tables' `mangle` target.
    ArpMangle(arpmangle::ArpMangle),
    Checksum(checksum::Checksum),
    Classify(classify::Classify),
    ConnmarkTarget(connmark::ConnmarkTarget),
    Connsecmark(connsecmark::Connsecmark),
    Ct(ct::Ct),
    Nat(nat::Nat),
    DscpTarget(dscp::DscpTarget),
    TosTarget(tos::TosTarget),
    HlTarget(hl::HlTarget),
    Hmark(hmark::Hmark),
    Idletimer(idletimer::Idletimer),
    Led(led::Led),
    Log(log::Log),
    MarkTarget(mark::MarkTarget),
    Nflog(nflog::Nflog),
    Npt(npt::Npt),
    EcnTarget(ecn::EcnTarget),
    Nfqueue(nfqueue::Nfqueue),
    RateestTarget(rateest::RateestTarget),
    Reject(reject::Reject),
    Secmark(secmark::Secmark),
    SetTarget(set::SetTarget),
    Synproxy(synproxy::Synproxy),
    TcpmssTarget(tcpmss::TcpmssTarget),
    Tcpoptstrip(tcpoptstrip::Tcpoptstrip),
    Tee(tee::Tee),
    Tproxy(tproxy::Tproxy),
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
        Xt::Unknown(UnknownXt {
            kind,
            name: name.to_string(),
            rev,
            family,
            bytes: data.to_vec(),
        })
    })
}

/// The registry.
fn decode_known(kind: XtKind, name: &str, rev: u8, f: u8, d: &[u8]) -> Option<Xt> {
    use XtKind::{Match as M, Target as T};
    Some(match (kind, name) {
        (M, "802_3") if f == NFPROTO_BRIDGE => Xt::Ebt8023(ebt_802_3::Ebt8023::parse(rev, d)?),
        (M, "arp") if f == NFPROTO_BRIDGE => Xt::EbtArp(ebt_arp::EbtArp::parse(rev, d)?),
        (M, "stp") if f == NFPROTO_BRIDGE => Xt::EbtStp(ebt_stp::EbtStp::parse(rev, d)?),
        (M, "ip") if f == NFPROTO_BRIDGE => Xt::EbtIp(ebt_ip::EbtIp::parse(rev, d)?),
        (M, "ip6") if f == NFPROTO_BRIDGE => Xt::EbtIp6(ebt_ip6::EbtIp6::parse(rev, d)?),
        (M, "mark_m") if f == NFPROTO_BRIDGE => Xt::EbtMarkM(ebt_mark_m::EbtMarkM::parse(rev, d)?),
        (M, "pkttype") if f == NFPROTO_BRIDGE => {
            Xt::EbtPkttype(ebt_pkttype::EbtPkttype::parse(rev, d)?)
        }
        (M, "vlan") if f == NFPROTO_BRIDGE => Xt::EbtVlan(ebt_vlan::EbtVlan::parse(rev, d)?),
        (T, "snat" | "dnat" | "redirect" | "arpreply") if f == NFPROTO_BRIDGE => {
            Xt::EbtNat(ebt_nat::EbtNat::parse(name, rev, d)?)
        }
        (T, "log") if f == NFPROTO_BRIDGE => Xt::EbtLog(ebt_log::EbtLog::parse(rev, d)?),
        (T, "nflog") if f == NFPROTO_BRIDGE => Xt::EbtNflog(ebt_log::EbtNflog::parse(rev, d)?),
        (T, "mark") if f == NFPROTO_BRIDGE => Xt::EbtMark(ebt_mark::EbtMark::parse(rev, d)?),
        (M, "addrtype") => Xt::Addrtype(addrtype::Addrtype::parse(rev, d)?),
        (M, "ah") => Xt::Ah(ah::Ah::parse(rev, f, d)?),
        (M, "bpf") => Xt::Bpf(bpf::Bpf::parse(rev, d)?),
        (M, "cgroup") => Xt::Cgroup(cgroup::Cgroup::parse(rev, d)?),
        (M, "cluster") => Xt::Cluster(cluster::Cluster::parse(rev, d)?),
        (M, "comment") => Xt::Comment(comment::Comment::parse(rev, d)?),
        (M, "connbytes") => Xt::Connbytes(connbytes::Connbytes::parse(rev, d)?),
        (M, "connlabel") => Xt::Connlabel(connlabel::Connlabel::parse(rev, d)?),
        (M, "connlimit") => Xt::Connlimit(connlimit::Connlimit::parse(rev, f, d)?),
        (M, "connmark") => Xt::Connmark(connmark::Connmark::parse(rev, d)?),
        (M, "conntrack") => Xt::Conntrack(conntrack::Conntrack::parse(rev, f, d)?),
        (M, "cpu") => Xt::Cpu(cpu::Cpu::parse(rev, d)?),
        (M, "dccp") => Xt::Dccp(dccp::Dccp::parse(rev, d)?),
        (M, "devgroup") => Xt::Devgroup(devgroup::Devgroup::parse(rev, d)?),
        (M, "dscp") => Xt::Dscp(dscp::Dscp::parse(rev, d)?),
        (M, "tos") => Xt::Tos(tos::Tos::parse(rev, d)?),
        (M, "ecn") => Xt::Ecn(ecn::Ecn::parse(rev, d)?),
        (M, "esp") => Xt::Esp(esp::Esp::parse(rev, d)?),
        (M, "eui64") => Xt::Eui64(eui64::Eui64::parse(rev, d)?),
        (M, "ipcomp") => Xt::Ipcomp(ipcomp::Ipcomp::parse(rev, d)?),
        (M, "hbh" | "dst") => Xt::Opts(opts::Opts::parse(name, rev, d)?),
        (M, "frag") => Xt::Frag(frag::Frag::parse(rev, d)?),
        (M, "hashlimit") => Xt::Hashlimit(hashlimit::Hashlimit::parse(rev, f, d)?),
        (M, "helper") => Xt::Helper(helper::Helper::parse(rev, d)?),
        (M, "hl" | "ttl") => Xt::Hl(hl::Hl::parse(name, rev, d)?),
        (M, "icmp" | "icmp6") => Xt::Icmp(icmp::Icmp::parse(name, rev, d)?),
        (M, "iprange") => Xt::Iprange(iprange::Iprange::parse(rev, f, d)?),
        (M, "ipv6header") => Xt::Ipv6header(ipv6header::Ipv6header::parse(rev, d)?),
        (M, "ipvs") => Xt::Ipvs(ipvs::Ipvs::parse(rev, f, d)?),
        (M, "length") => Xt::Length(length::Length::parse(rev, d)?),
        (M, "limit") => Xt::Limit(limit::Limit::parse(rev, d)?),
        (M, "mac") => Xt::Mac(mac::Mac::parse(rev, d)?),
        (M, "mark") => Xt::Mark(mark::Mark::parse(rev, d)?),
        (M, "mh") => Xt::Mh(mh::Mh::parse(rev, d)?),
        (M, "multiport") => Xt::Multiport(multiport::Multiport::parse(rev, d)?),
        (M, "nfacct") => Xt::Nfacct(nfacct::Nfacct::parse(rev, d)?),
        (M, "osf") => Xt::Osf(osf::Osf::parse(rev, d)?),
        (M, "owner") => Xt::Owner(owner::Owner::parse(rev, d)?),
        (M, "physdev") => Xt::Physdev(physdev::Physdev::parse(rev, d)?),
        (M, "pkttype") => Xt::Pkttype(pkttype::Pkttype::parse(rev, d)?),
        (M, "policy") => Xt::Policy(policy::Policy::parse(rev, f, d)?),
        (M, "quota") => Xt::Quota(quota::Quota::parse(rev, d)?),
        (M, "rateest") => Xt::Rateest(rateest::Rateest::parse(rev, d)?),
        (M, "realm") => Xt::Realm(realm::Realm::parse(rev, d)?),
        (M, "recent") => Xt::Recent(recent::Recent::parse(rev, f, d)?),
        (M, "rpfilter") => Xt::Rpfilter(rpfilter::Rpfilter::parse(rev, d)?),
        (M, "rt") => Xt::Rt(rt::Rt::parse(rev, f, d)?),
        (M, "sctp") => Xt::Sctp(sctp::Sctp::parse(rev, d)?),
        (M, "set") => Xt::Set(set::SetMatch::parse(rev, d)?),
        (M, "socket") => Xt::Socket(socket::Socket::parse(rev, d)?),
        (M, "srh") => Xt::Srh(srh::Srh::parse(rev, d)?),
        (M, "state") => Xt::State(state::State::parse(rev, d)?),
        (M, "statistic") => Xt::Statistic(statistic::Statistic::parse(rev, d)?),
        (M, "string") => Xt::String(string::StringMatch::parse(rev, d)?),
        (M, "tcpmss") => Xt::Tcpmss(tcpmss::TcpmssMatch::parse(rev, d)?),
        (M, "tcp") => Xt::Tcp(tcpudp::Tcp::parse(rev, d)?),
        (M, "udp") => Xt::Udp(tcpudp::Udp::parse(rev, d)?),
        (M, "time") => Xt::Time(time::Time::parse(rev, d)?),
        (M, "u32") => Xt::U32(u32::U32::parse(rev, d)?),

        (T, "") => Xt::Standard(standard::Standard::parse(rev, d)?),
        (T, "ERROR") => Xt::Error(error::ErrorTarget::parse(rev, d)?),
        (T, "AUDIT") => Xt::Audit(audit::Audit::parse(rev, d)?),
        (T, "mangle") if f == NFPROTO_ARP => Xt::ArpMangle(arpmangle::ArpMangle::parse(rev, d)?),
        (T, "CHECKSUM") => Xt::Checksum(checksum::Checksum::parse(rev, d)?),
        (T, "CLASSIFY") => Xt::Classify(classify::Classify::parse(rev, d)?),
        (T, "CONNMARK") => Xt::ConnmarkTarget(connmark::ConnmarkTarget::parse(rev, d)?),
        (T, "CONNSECMARK") => Xt::Connsecmark(connsecmark::Connsecmark::parse(rev, d)?),
        (T, "CT") => Xt::Ct(ct::Ct::parse(rev, d)?),
        (T, "DNAT" | "SNAT" | "MASQUERADE" | "REDIRECT" | "NETMAP") => {
            Xt::Nat(nat::Nat::parse(name, rev, f, d)?)
        }
        (T, "DSCP") => Xt::DscpTarget(dscp::DscpTarget::parse(rev, d)?),
        (T, "TOS") => Xt::TosTarget(tos::TosTarget::parse(rev, d)?),
        (T, "HL" | "TTL") => Xt::HlTarget(hl::HlTarget::parse(name, rev, d)?),
        (T, "HMARK") => Xt::Hmark(hmark::Hmark::parse(rev, f, d)?),
        (T, "IDLETIMER") => Xt::Idletimer(idletimer::Idletimer::parse(rev, d)?),
        (T, "LED") => Xt::Led(led::Led::parse(rev, d)?),
        (T, "LOG") => Xt::Log(log::Log::parse(rev, d)?),
        (T, "MARK") => Xt::MarkTarget(mark::MarkTarget::parse(rev, d)?),
        (T, "NFLOG") => Xt::Nflog(nflog::Nflog::parse(rev, d)?),
        (T, "SNPT" | "DNPT") => Xt::Npt(npt::Npt::parse(name, rev, d)?),
        (T, "ECN") => Xt::EcnTarget(ecn::EcnTarget::parse(rev, d)?),
        (T, "NFQUEUE") => Xt::Nfqueue(nfqueue::Nfqueue::parse(rev, d)?),
        (T, "RATEEST") => Xt::RateestTarget(rateest::RateestTarget::parse(rev, d)?),
        (T, "REJECT") => Xt::Reject(reject::Reject::parse(rev, f, d)?),
        (T, "SECMARK") => Xt::Secmark(secmark::Secmark::parse(rev, d)?),
        (T, "SET") => Xt::SetTarget(set::SetTarget::parse(rev, d)?),
        (T, "SYNPROXY") => Xt::Synproxy(synproxy::Synproxy::parse(rev, d)?),
        (T, "TCPMSS") => Xt::TcpmssTarget(tcpmss::TcpmssTarget::parse(rev, d)?),
        (T, "TCPOPTSTRIP") => Xt::Tcpoptstrip(tcpoptstrip::Tcpoptstrip::parse(rev, d)?),
        (T, "TEE") => Xt::Tee(tee::Tee::parse(rev, f, d)?),
        (T, "TPROXY") => Xt::Tproxy(tproxy::Tproxy::parse(rev, f, d)?),
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
            assert!(
                p.is_unknown() || (zero_tail && p == xt),
                "{name}: prefix {n} decoded: {p:?}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::hex;
    use super::XtKind::{Match, Target};
    use super::*;
    use proptest::prelude::*;

    /// Every (kind, name) the registry knows.
    const NAMES: &[(XtKind, &str)] = &[
        (Match, "addrtype"),
        (Match, "ah"),
        (Match, "bpf"),
        (Match, "cgroup"),
        (Match, "cluster"),
        (Match, "comment"),
        (Match, "connbytes"),
        (Match, "connlabel"),
        (Match, "connlimit"),
        (Match, "connmark"),
        (Match, "conntrack"),
        (Match, "cpu"),
        (Match, "dccp"),
        (Match, "devgroup"),
        (Match, "dscp"),
        (Match, "tos"),
        (Match, "ecn"),
        (Match, "esp"),
        (Match, "frag"),
        (Match, "hashlimit"),
        (Match, "helper"),
        (Match, "hl"),
        (Match, "ttl"),
        (Match, "icmp"),
        (Match, "icmp6"),
        (Match, "iprange"),
        (Match, "ipv6header"),
        (Match, "ipvs"),
        (Match, "length"),
        (Match, "limit"),
        (Match, "mac"),
        (Match, "mark"),
        (Match, "mh"),
        (Match, "multiport"),
        (Match, "nfacct"),
        (Match, "osf"),
        (Match, "owner"),
        (Match, "physdev"),
        (Match, "pkttype"),
        (Match, "policy"),
        (Match, "quota"),
        (Match, "rateest"),
        (Match, "realm"),
        (Match, "recent"),
        (Match, "rpfilter"),
        (Match, "rt"),
        (Match, "sctp"),
        (Match, "set"),
        (Match, "socket"),
        (Match, "state"),
        (Match, "statistic"),
        (Match, "string"),
        (Match, "tcpmss"),
        (Match, "tcp"),
        (Match, "udp"),
        (Match, "time"),
        (Match, "u32"),
        (Match, "eui64"),
        (Match, "srh"),
        (Match, "ipcomp"),
        (Match, "hbh"),
        (Match, "dst"),
        (Target, ""),
        (Target, "ERROR"),
        (Target, "AUDIT"),
        (Target, "mangle"),
        (Target, "CHECKSUM"),
        (Target, "CLASSIFY"),
        (Target, "CONNMARK"),
        (Target, "CONNSECMARK"),
        (Target, "CT"),
        (Target, "DNAT"),
        (Target, "SNAT"),
        (Target, "MASQUERADE"),
        (Target, "REDIRECT"),
        (Target, "NETMAP"),
        (Target, "DSCP"),
        (Target, "TOS"),
        (Target, "HL"),
        (Target, "TTL"),
        (Target, "HMARK"),
        (Target, "IDLETIMER"),
        (Target, "LED"),
        (Target, "LOG"),
        (Target, "MARK"),
        (Target, "NFLOG"),
        (Target, "NFQUEUE"),
        (Target, "RATEEST"),
        (Target, "REJECT"),
        (Target, "SECMARK"),
        (Target, "SET"),
        (Target, "SYNPROXY"),
        (Target, "TCPMSS"),
        (Target, "TCPOPTSTRIP"),
        (Target, "TEE"),
        (Target, "TPROXY"),
        (Target, "TRACE"),
        (Target, "NOTRACK"),
        (Target, "SNPT"),
        (Target, "DNPT"),
        (Target, "ECN"),
    ];

    #[test]
    fn unknown_extension_keeps_its_bytes_and_renders() {
        let xt = decode(Match, "frobnicate", 3, NFPROTO_IPV4, &[1, 2, 0xff]);
        assert!(xt.is_unknown());
        assert_eq!(xt.to_save(), " -m frobnicate [raw rev 3 0102ff]");
        let xt = decode(Target, "FROB", 0, NFPROTO_IPV4, &[]);
        assert_eq!(xt.to_save(), " -j FROB");
        // A known name with an unknown revision, or the wrong size, is Unknown too.
        let mark = hex("00800000 00800000 00000000 00000000");
        assert!(decode(Match, "mark", 2, NFPROTO_IPV4, &mark).is_unknown());
        assert!(decode(
            Match,
            "mark",
            1,
            NFPROTO_IPV4,
            &[mark.as_slice(), &[0; 8]].concat()
        )
        .is_unknown());
        // The unpadded struct (12 bytes) is accepted: nft_compat may carry it so.
        let xt = decode(Match, "mark", 1, NFPROTO_IPV4, &mark[..12]);
        assert_eq!(xt.to_save(), " -m mark --mark 0x8000/0x8000");
    }

    #[test]
    fn aliases_print_as_written() {
        // `-m state --state RELATED,ESTABLISHED` as iptables-nft writes it: conntrack rev 3
        // (164 bytes, padded to 168) with XT_CONNTRACK_STATE | XT_CONNTRACK_STATE_ALIAS.
        let mut ct = vec![0u8; 168];
        ct[146..148].copy_from_slice(&(conntrack::STATE | conntrack::STATE_ALIAS).to_ne_bytes());
        ct[150..152].copy_from_slice(&6u16.to_ne_bytes());
        let xt = decode(Match, "conntrack", 3, NFPROTO_IPV4, &ct);
        assert_eq!(xt.to_save(), " -m state --state RELATED,ESTABLISHED");
        // `-j NOTRACK` is CT with XT_CT_NOTRACK | XT_CT_NOTRACK_ALIAS.
        let mut t = vec![0u8; 40];
        t[0] = 3;
        assert_eq!(
            decode(Target, "CT", 0, NFPROTO_IPV4, &t).to_save(),
            " -j NOTRACK"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// Arbitrary bytes for any known extension, revision and family: never a panic, and
        /// always some text starting with the `-m`/`-j` word.
        #[test]
        fn any_payload_decodes_or_stays_unknown(
            which in 0..NAMES.len(),
            rev in 0u8..5,
            fam in prop::sample::select(vec![NFPROTO_IPV4, NFPROTO_IPV6, NFPROTO_ARP, 0]),
            len in prop::sample::select(vec![0usize, 1, 2, 4, 6, 8, 12, 16, 20, 24, 32, 40, 48,
                56, 64, 72, 76, 80, 152, 160, 168, 212, 228, 264, 280, 296, 304, 312, 528, 1984]),
            seed in any::<u64>(),
        ) {
            let (kind, name) = NAMES[which];
            // Cheap deterministic bytes (a full random Vec of up to 2 KB per case is slow).
            let mut x = seed | 1;
            let data: Vec<u8> = (0..len).map(|_| {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                x as u8
            }).collect();
            let xt = decode(kind, name, rev, fam, &data);
            let s = xt.to_save();
            prop_assert!(s.starts_with(" -m ") || s.starts_with(" -j "), "{s}");
        }
    }
}
