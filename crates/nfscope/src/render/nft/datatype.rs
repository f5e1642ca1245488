//! Datatypes and how nft 1.0.6 prints their values (nftables `src/datatype.c`, `meta.c`,
//! `ct.c`, `proto.c` symbol tables).
//!
//! A value reaches us as the bytes of a register (or of a set element key), in the byte
//! order of the expression that produced it: payload fields are big endian, meta / ct keys
//! are host endian (except the few nft marks as network order, e.g. `meta protocol`).

use std::cell::Cell;
use std::collections::HashMap;
use std::fmt::Write;

thread_local! {
    /// Interface names by index for the namespace being rendered (from [`super::NftOptions`]):
    /// the table [`with_ifnames`] is running with, borrowed for that call.
    static IFNAMES: Cell<Option<std::ptr::NonNull<HashMap<u32, String>>>> = const { Cell::new(None) };
}

/// Run `f` with `names` as the interface index → name table (borrowed, not copied: rendering
/// one rule at a time stays cheap).
pub fn with_ifnames<T>(names: &HashMap<u32, String>, f: impl FnOnce() -> T) -> T {
    /// Puts the previous table back, also when `f` unwinds.
    struct Restore(Option<std::ptr::NonNull<HashMap<u32, String>>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            IFNAMES.with(|n| n.set(self.0));
        }
    }
    let _restore = Restore(IFNAMES.with(|n| n.replace(Some(std::ptr::NonNull::from(names)))));
    f()
}

fn ifname(idx: u32) -> Option<String> {
    IFNAMES.with(|n| {
        // SAFETY: the pointer was made from the `&HashMap` of the `with_ifnames` call that is
        // running on this thread (it is reset when that call returns or unwinds), so the map
        // is alive and borrowed shared for as long as we read it here.
        n.get()
            .and_then(|p| unsafe { p.as_ref() }.get(&idx).cloned())
    })
}

pub use crate::model::types::{Dt, Order};

impl Dt {
    /// Size in bits of the fixed-size datatypes (used for `type` set declarations).
    pub fn set_type_name(self) -> Option<&'static str> {
        Some(match self {
            Dt::Integer => "integer",
            Dt::Mark => "mark",
            Dt::Ipv4 => "ipv4_addr",
            Dt::Ipv6 => "ipv6_addr",
            Dt::Port => "inet_service",
            Dt::InetProto => "inet_proto",
            Dt::EtherType => "ether_type",
            Dt::EtherAddr => "ether_addr",
            Dt::String => "ifname",
            Dt::Ifindex => "iface_index",
            Dt::NfProto => "nf_proto",
            Dt::CtState => "ct_state",
            Dt::CtStatus => "ct_status",
            Dt::CtDir => "ct_dir",
            Dt::CtEvent => "ct_event",
            Dt::PktType => "pkt_type",
            Dt::IcmpType => "icmp_type",
            Dt::IcmpCode => "icmp_code",
            Dt::Icmpv6Type => "icmpv6_type",
            Dt::Icmpv6Code => "icmpv6_code",
            Dt::IcmpxCode => "icmpx_code",
            Dt::IgmpType => "igmp_type",
            Dt::MhType => "mh_type",
            Dt::TcpFlag => "tcp_flag",
            Dt::DccpType => "dccp_pkttype",
            Dt::Dscp => "dscp",
            Dt::Ecn => "ecn",
            Dt::ArpOp => "arp_op",
            Dt::ArpHrd => "iface_type",
            Dt::Day => "day",
            Dt::Boolean => "boolean",
            Dt::Verdict => "verdict",
            Dt::Time => "time",
            Dt::Date => "time",
            Dt::Hour => "hour",
            Dt::Uid => "uid",
            Dt::Gid => "gid",
            Dt::Devgroup => "devgroup",
            Dt::Realm => "realm",
            Dt::Classid => "classid",
            Dt::CtLabel => "ct_label",
            Dt::Cgroupv2 => "cgroupsv2",
            Dt::FibAddr => "fib_addrtype",
            Dt::Hex | Dt::Bytes => return None,
        })
    }

    /// The datatype for a kernel set key/data type number (nft's `enum datatypes`; concatenations
    /// pack 6 bits per type, see [`split_concat_type`]).
    pub fn from_type_id(id: u32) -> Option<Dt> {
        Some(match id {
            1 => Dt::Verdict,
            2 => Dt::NfProto,
            3 => Dt::Bytes, // bitmask
            4 => Dt::Integer,
            5 => Dt::String,
            6 => Dt::Bytes, // lladdr
            7 => Dt::Ipv4,
            8 => Dt::Ipv6,
            9 => Dt::EtherAddr,
            10 => Dt::EtherType,
            11 => Dt::ArpOp,
            12 => Dt::InetProto,
            13 => Dt::Port,
            14 => Dt::IcmpType,
            15 => Dt::TcpFlag,
            16 => Dt::DccpType,
            17 => Dt::MhType,
            18 => Dt::Time,
            19 => Dt::Mark,
            20 => Dt::Ifindex,
            21 => Dt::ArpHrd,
            22 => Dt::Realm,
            23 => Dt::Classid,
            24 => Dt::Uid,
            25 => Dt::Gid,
            26 => Dt::CtState,
            27 => Dt::CtDir,
            28 => Dt::CtStatus,
            29 => Dt::Icmpv6Type,
            30 => Dt::CtLabel,
            31 => Dt::PktType,
            32 => Dt::IcmpCode,
            33 => Dt::Icmpv6Code,
            34 => Dt::IcmpxCode,
            35 => Dt::Devgroup,
            36 => Dt::Dscp,
            37 => Dt::Ecn,
            38 => Dt::FibAddr,
            39 => Dt::Boolean,
            40 => Dt::CtEvent,
            41 => Dt::String, // ifname
            42 => Dt::IgmpType,
            43 => Dt::Date,
            44 => Dt::Hour,
            45 => Dt::Day,
            46 => Dt::Cgroupv2,
            _ => return None,
        })
    }

    /// Host byte order types (meta / ct values and the like).
    pub fn default_order(self) -> Order {
        match self {
            Dt::Mark
            | Dt::Ifindex
            | Dt::NfProto
            | Dt::CtState
            | Dt::CtStatus
            | Dt::CtDir
            | Dt::CtEvent
            | Dt::PktType
            | Dt::ArpHrd
            | Dt::Day
            | Dt::Time
            | Dt::Date
            | Dt::Hour
            | Dt::Uid
            | Dt::Gid
            | Dt::Devgroup
            | Dt::Realm
            | Dt::Classid
            | Dt::Cgroupv2
            | Dt::CtLabel
            | Dt::Boolean
            | Dt::FibAddr
            | Dt::String
            | Dt::IcmpxCode => Order::Host,
            _ => Order::Big,
        }
    }
}

/// Split a concatenated set type id (6 bits per component, first component in the high bits).
pub fn split_concat_type(mut id: u32) -> Vec<u32> {
    let mut v = Vec::new();
    while id != 0 {
        v.push(id & 0x3f);
        id >>= 6;
    }
    v.reverse();
    v
}

/// An unsigned value read from `bytes` in `order` (up to 16 bytes).
pub fn to_u128(bytes: &[u8], order: Order) -> u128 {
    let mut v: u128 = 0;
    match order {
        Order::Big => {
            for &b in bytes.iter().take(16) {
                v = (v << 8) | b as u128;
            }
        }
        Order::Host => {
            for &b in bytes.iter().take(16).rev() {
                v = (v << 8) | b as u128;
            }
        }
    }
    v
}

/// The protocol name nft prints (`getprotobynumber`, first name per number in netbase's
/// /etc/protocols).
pub fn proto_name(p: u8) -> Option<&'static str> {
    Some(match p {
        0 => "ip",
        1 => "icmp",
        2 => "igmp",
        3 => "ggp",
        4 => "ipencap",
        5 => "st",
        6 => "tcp",
        8 => "egp",
        9 => "igp",
        12 => "pup",
        17 => "udp",
        20 => "hmp",
        22 => "xns-idp",
        27 => "rdp",
        29 => "iso-tp4",
        33 => "dccp",
        36 => "xtp",
        37 => "ddp",
        38 => "idpr-cmtp",
        41 => "ipv6",
        43 => "ipv6-route",
        44 => "ipv6-frag",
        45 => "idrp",
        46 => "rsvp",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        57 => "skip",
        58 => "ipv6-icmp",
        59 => "ipv6-nonxt",
        60 => "ipv6-opts",
        73 => "rspf",
        81 => "vmtp",
        88 => "eigrp",
        89 => "ospf",
        93 => "ax.25",
        94 => "ipip",
        97 => "etherip",
        98 => "encap",
        103 => "pim",
        108 => "ipcomp",
        112 => "vrrp",
        115 => "l2tp",
        124 => "isis",
        132 => "sctp",
        133 => "fc",
        135 => "mobility-header",
        136 => "udplite",
        137 => "mpls-in-ip",
        138 => "manet",
        139 => "hip",
        140 => "shim6",
        141 => "wesp",
        142 => "rohc",
        143 => "ethernet",
        _ => return None,
    })
}

fn sym(table: &[(&'static str, u128)], v: u128) -> Option<&'static str> {
    table.iter().find(|(_, x)| *x == v).map(|(n, _)| *n)
}

const NFPROTO: &[(&str, u128)] = &[("ipv4", 2), ("ipv6", 10)];
const CT_STATE: &[(&str, u128)] = &[
    ("invalid", 1),
    ("established", 2),
    ("related", 4),
    ("new", 8),
    ("untracked", 64),
];
const CT_STATUS: &[(&str, u128)] = &[
    ("expected", 1),
    ("seen-reply", 2),
    ("assured", 4),
    ("confirmed", 8),
    ("snat", 16),
    ("dnat", 32),
    ("dying", 512),
];
const CT_EVENT: &[(&str, u128)] = &[
    ("new", 1),
    ("related", 2),
    ("destroy", 4),
    ("reply", 8),
    ("assured", 16),
    ("protoinfo", 32),
    ("helper", 64),
    ("mark", 128),
    ("seqadj", 256),
    ("secmark", 512),
    ("label", 1024),
];
const CT_DIR: &[(&str, u128)] = &[("original", 0), ("reply", 1)];
const PKTTYPE: &[(&str, u128)] = &[
    ("host", 0),
    ("broadcast", 1),
    ("multicast", 2),
    ("other", 3),
];
const DAY: &[(&str, u128)] = &[
    ("Sunday", 0),
    ("Monday", 1),
    ("Tuesday", 2),
    ("Wednesday", 3),
    ("Thursday", 4),
    ("Friday", 5),
    ("Saturday", 6),
];
const ICMP_TYPE: &[(&str, u128)] = &[
    ("echo-reply", 0),
    ("destination-unreachable", 3),
    ("source-quench", 4),
    ("redirect", 5),
    ("echo-request", 8),
    ("router-advertisement", 9),
    ("router-solicitation", 10),
    ("time-exceeded", 11),
    ("parameter-problem", 12),
    ("timestamp-request", 13),
    ("timestamp-reply", 14),
    ("info-request", 15),
    ("info-reply", 16),
    ("address-mask-request", 17),
    ("address-mask-reply", 18),
];
const ICMP_CODE: &[(&str, u128)] = &[
    ("net-unreachable", 0),
    ("host-unreachable", 1),
    ("prot-unreachable", 2),
    ("port-unreachable", 3),
    ("net-prohibited", 9),
    ("host-prohibited", 10),
    ("admin-prohibited", 13),
    ("frag-needed", 4),
];
const ICMPV6_CODE: &[(&str, u128)] = &[
    ("no-route", 0),
    ("admin-prohibited", 1),
    ("addr-unreachable", 3),
    ("port-unreachable", 4),
    ("policy-fail", 5),
    ("reject-route", 6),
];
const ICMPX_CODE: &[(&str, u128)] = &[
    ("port-unreachable", 1),
    ("admin-prohibited", 3),
    ("no-route", 0),
    ("host-unreachable", 2),
];
const MH_TYPE: &[(&str, u128)] = &[
    ("binding-refresh-request", 0),
    ("home-test-init", 1),
    ("careof-test-init", 2),
    ("home-test", 3),
    ("careof-test", 4),
    ("binding-update", 5),
    ("binding-acknowledgement", 6),
    ("binding-error", 7),
    ("fast-binding-update", 8),
    ("fast-binding-acknowledgement", 9),
    ("fast-binding-advertisement", 10),
    ("experimental-mobility-header", 11),
    ("home-agent-switch-message", 12),
];
const IGMP_TYPE: &[(&str, u128)] = &[
    ("membership-query", 0x11),
    ("membership-report-v1", 0x12),
    ("membership-report-v2", 0x16),
    ("membership-report-v3", 0x22),
    ("leave-group", 0x17),
];
const TCP_FLAG: &[(&str, u128)] = &[
    ("fin", 1),
    ("syn", 2),
    ("rst", 4),
    ("psh", 8),
    ("ack", 16),
    ("urg", 32),
    ("ecn", 64),
    ("cwr", 128),
];
const DCCP_TYPE: &[(&str, u128)] = &[
    ("request", 0),
    ("response", 1),
    ("data", 2),
    ("ack", 3),
    ("dataack", 4),
    ("closereq", 5),
    ("close", 6),
    ("reset", 7),
    ("sync", 8),
    ("syncack", 9),
];
const DSCP: &[(&str, u128)] = &[
    ("cs0", 0x00),
    ("cs1", 0x08),
    ("cs2", 0x10),
    ("cs3", 0x18),
    ("cs4", 0x20),
    ("cs5", 0x28),
    ("cs6", 0x30),
    ("cs7", 0x38),
    ("lephb", 0x01),
    ("af11", 0x0a),
    ("af12", 0x0c),
    ("af13", 0x0e),
    ("af21", 0x12),
    ("af22", 0x14),
    ("af23", 0x16),
    ("af31", 0x1a),
    ("af32", 0x1c),
    ("af33", 0x1e),
    ("af41", 0x22),
    ("af42", 0x24),
    ("af43", 0x26),
    ("va", 0x2c),
    ("ef", 0x2e),
];
const ECN: &[(&str, u128)] = &[("not-ect", 0), ("ect1", 1), ("ect0", 2), ("ce", 3)];
const ICMPV6_TYPE: &[(&str, u128)] = &[
    ("destination-unreachable", 1),
    ("packet-too-big", 2),
    ("time-exceeded", 3),
    ("parameter-problem", 4),
    ("echo-request", 128),
    ("echo-reply", 129),
    ("mld-listener-query", 130),
    ("mld-listener-report", 131),
    ("mld-listener-done", 132),
    ("nd-router-solicit", 133),
    ("nd-router-advert", 134),
    ("nd-neighbor-solicit", 135),
    ("nd-neighbor-advert", 136),
    ("nd-redirect", 137),
    ("router-renumbering", 138),
    ("ind-neighbor-solicit", 141),
    ("ind-neighbor-advert", 142),
    ("mld2-listener-report", 143),
];
const ARP_OP: &[(&str, u128)] = &[
    ("request", 1),
    ("reply", 2),
    ("rrequest", 3),
    ("rreply", 4),
    ("inrequest", 8),
    ("inreply", 9),
    ("nak", 10),
];
const ETHERTYPE: &[(&str, u128)] = &[
    ("ip", 0x0800),
    ("arp", 0x0806),
    ("ip6", 0x86dd),
    ("8021q", 0x8100),
    ("8021ad", 0x88a8),
];
const ARPHRD: &[(&str, u128)] = &[
    ("ether", 1),
    ("ppp", 512),
    ("ipip", 768),
    ("ipip6", 769),
    ("loopback", 772),
    ("sit", 776),
    ("ipgre", 778),
];
const BOOLEAN: &[(&str, u128)] = &[("exists", 1), ("missing", 0)];
const FIB_ADDR: &[(&str, u128)] = &[
    ("unspec", 0),
    ("unicast", 1),
    ("local", 2),
    ("broadcast", 3),
    ("anycast", 4),
    ("multicast", 5),
    ("blackhole", 6),
    ("unreachable", 7),
    ("prohibit", 8),
    ("throw", 9),
    ("nat", 10),
    ("xresolve", 11),
];

/// Whether values of this type are bitmasks printed as `a,b` lists (nft `flagcmp` types).
pub fn is_bitmask(dt: Dt) -> bool {
    matches!(dt, Dt::CtState | Dt::CtStatus | Dt::CtEvent | Dt::TcpFlag)
}

/// Whether values of this type print through a symbol table.
pub fn has_symbols(dt: Dt) -> bool {
    symbols(dt).is_some()
}

/// The symbol table of a type, if it has one.
fn symbols(dt: Dt) -> Option<&'static [(&'static str, u128)]> {
    Some(match dt {
        Dt::NfProto => NFPROTO,
        Dt::CtState => CT_STATE,
        Dt::CtStatus => CT_STATUS,
        Dt::CtEvent => CT_EVENT,
        Dt::CtDir => CT_DIR,
        Dt::PktType => PKTTYPE,
        Dt::Day => DAY,
        Dt::IcmpType => ICMP_TYPE,
        Dt::IcmpCode => ICMP_CODE,
        Dt::Icmpv6Type => ICMPV6_TYPE,
        Dt::Icmpv6Code => ICMPV6_CODE,
        Dt::IcmpxCode => ICMPX_CODE,
        Dt::IgmpType => IGMP_TYPE,
        Dt::MhType => MH_TYPE,
        Dt::TcpFlag => TCP_FLAG,
        Dt::DccpType => DCCP_TYPE,
        Dt::Dscp => DSCP,
        Dt::Ecn => ECN,
        Dt::ArpOp => ARP_OP,
        Dt::EtherType => ETHERTYPE,
        Dt::ArpHrd => ARPHRD,
        Dt::Boolean => BOOLEAN,
        Dt::FibAddr => FIB_ADDR,
        _ => return None,
    })
}

/// Print a bitmask value as nft does for flag types: the names of the set bits joined by
/// `sep` (`,` in relational matches, ` | ` inside binary operations), unknown bits in hex.
pub fn print_bitmask(dt: Dt, v: u128, sep: &str) -> String {
    let Some(tab) = symbols(dt) else {
        return format!("0x{v:x}");
    };
    if v == 0 {
        return sym(tab, 0)
            .map(str::to_string)
            .unwrap_or_else(|| "0x0".into());
    }
    let mut parts = Vec::new();
    let mut rest = v;
    for (n, bit) in tab {
        if *bit != 0 && v & bit == *bit {
            parts.push(n.to_string());
            rest &= !bit;
        }
    }
    if rest != 0 {
        parts.push(format!("0x{rest:x}"));
    }
    parts.join(sep)
}

/// A bitmask-type constant in a relational (`symbolic_constant_print`): its symbol when the
/// value is exactly one, else hex (`tcp flags == 0x12`).
pub fn print_flag_value(dt: Dt, bytes: &[u8], order: Order) -> String {
    let v = to_u128(bytes, order);
    match symbols(dt).and_then(|t| sym(t, v)) {
        Some(n) => n.to_string(),
        None => format!("0x{v:x}"),
    }
}

/// A value of a type nft prints in hex when it has no symbol for it (`basefmt`: dscp
/// `0x%.2x`, ecn `0x%.1x`, ether type `0x%.4x`).
pub fn hex_basefmt(dt: Dt, bytes: &[u8], order: Order) -> Option<String> {
    let v = to_u128(bytes, order);
    match dt {
        Dt::Dscp => Some(format!("0x{v:02x}")),
        Dt::Ecn => Some(format!("0x{v:x}")),
        Dt::EtherType => Some(format!("0x{v:04x}")),
        _ => None,
    }
}

/// Print one value of `dt` from its bytes. `bits` is the length in bits of the expression the
/// value belongs to (for integers narrower than their bytes).
pub fn print_value(dt: Dt, bytes: &[u8], order: Order) -> String {
    let v = to_u128(bytes, order);
    match dt {
        Dt::Ipv4 if bytes.len() >= 4 => {
            format!("{}.{}.{}.{}", bytes[0], bytes[1], bytes[2], bytes[3])
        }
        Dt::Ipv6 if bytes.len() >= 16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(&bytes[..16]);
            // inet_ntop's IPv4-compatible form `::a.b.c.d` (the first 96 bits zero, the
            // seventh group not); Rust's Display prints it in hex groups
            if a[..12].iter().all(|&b| b == 0) && (a[12] != 0 || a[13] != 0) {
                format!("::{}.{}.{}.{}", a[12], a[13], a[14], a[15])
            } else {
                std::net::Ipv6Addr::from(a).to_string()
            }
        }
        Dt::EtherAddr if bytes.len() >= 6 => bytes[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":"),
        Dt::String => {
            let end = bytes.iter().position(|&c| c == 0).unwrap_or(bytes.len());
            let s = String::from_utf8_lossy(&bytes[..end]);
            // a NUL-terminated name ending in `*` is that literal name, not a wildcard:
            // nft escapes the star (`__expr_postprocess_string`)
            match s.strip_suffix('*') {
                Some(stem) if bytes.last() == Some(&0) => format!("\"{stem}\\*\""),
                _ => format!("\"{s}\""),
            }
        }
        Dt::Mark => format!("0x{v:08x}"),
        Dt::Ifindex => match ifname(v as u32) {
            Some(n) => format!("\"{n}\""),
            None => v.to_string(),
        },
        Dt::Hex => format!("0x{v:x}"),
        Dt::Devgroup | Dt::Realm => match rt_name(dt, v) {
            Some(n) => format!("\"{n}\""),
            None => v.to_string(),
        },
        Dt::InetProto => match proto_name(v as u8) {
            Some(n) if v < 256 => n.to_string(),
            _ => v.to_string(),
        },
        Dt::Verdict => v.to_string(),
        Dt::Time => time_ms(v as u64),
        Dt::Date => date(v as u64),
        Dt::Hour => {
            let s = v as u64;
            let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60);
            if sec != 0 {
                format!("\"{h:02}:{m:02}:{sec:02}\"")
            } else {
                format!("\"{h:02}:{m:02}\"")
            }
        }
        Dt::Day => match sym(DAY, v) {
            Some(n) => format!("\"{n}\""),
            None => v.to_string(),
        },
        Dt::Classid => {
            let v = v as u32;
            match v {
                0xffff_ffff => "root".into(),
                0 => "none".into(),
                _ => format!("{:x}:{:x}", v >> 16, v & 0xffff),
            }
        }
        // a label is a bit: nft prints its number (`ct label set 127`)
        Dt::CtLabel if v.count_ones() == 1 => v.trailing_zeros().to_string(),
        Dt::CtLabel => v.to_string(),
        Dt::Bytes => {
            if bytes.len() > 16 {
                let mut s = String::from("0x");
                for b in bytes {
                    let _ = write!(s, "{b:02x}");
                }
                s
            } else {
                v.to_string()
            }
        }
        _ if is_bitmask(dt) => print_bitmask(dt, v, ","),
        _ => {
            if let Some(tab) = symbols(dt) {
                if let Some(n) = sym(tab, v) {
                    return n.to_string();
                }
                return hex_basefmt(dt, bytes, order).unwrap_or_else(|| v.to_string());
            }
            v.to_string()
        }
    }
}

/// The name of a device group (`/etc/iproute2/group`) or routing realm (`rt_realms`), as
/// nft 1.0.6's `rt_symbol_table_init` reads them on the machine that prints: the first line
/// with that number.
fn rt_name(dt: Dt, v: u128) -> Option<&'static str> {
    use std::sync::OnceLock;
    static GROUP: OnceLock<Vec<(u32, String)>> = OnceLock::new();
    static REALM: OnceLock<Vec<(u32, String)>> = OnceLock::new();
    let tab = match dt {
        Dt::Devgroup => GROUP.get_or_init(|| rt_table("/etc/iproute2/group")),
        Dt::Realm => REALM.get_or_init(|| rt_table("/etc/iproute2/rt_realms")),
        _ => return None,
    };
    let v = u32::try_from(v).ok()?;
    tab.iter().find(|(n, _)| *n == v).map(|(_, s)| s.as_str())
}

/// Lines `NUMBER NAME` (the number decimal or `0x` hex; `#` comments), as nft reads them; a
/// missing file is an empty table (numbers print).
fn rt_table(path: &str) -> Vec<(u32, String)> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    parse_rt_table(&text)
}

fn parse_rt_table(text: &str) -> Vec<(u32, String)> {
    let mut v = Vec::new();
    for l in text.lines() {
        let l = l.trim_start_matches([' ', '\t']);
        if l.starts_with('#') {
            continue;
        }
        let mut it = l.split_whitespace();
        let (Some(num), Some(name)) = (it.next(), it.next()) else {
            continue;
        };
        let num = match num.strip_prefix("0x") {
            Some(h) => u32::from_str_radix(h, 16).ok(),
            None => num.parse().ok(),
        };
        if let Some(n) = num {
            v.push((n, name.to_string()));
        }
    }
    v
}

/// nft's `date_type_print`: nanoseconds since the epoch as local time `"%Y-%m-%d %T"` (the
/// offset of the local zone at that instant, as nft computes it).
pub fn date(ns: u64) -> String {
    let secs = (ns / 1_000_000_000) as i64;
    let t = secs + local_offset(secs);
    let days = t.div_euclid(86400);
    let sod = t.rem_euclid(86400);
    let (y, m, d) = nfscope_wire::civil::civil_from_days(days);
    format!(
        "\"{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}\"",
        sod / 3600,
        (sod % 3600) / 60,
        sod % 60
    )
}

/// UTC offset in seconds of the local time zone at `secs` (`tm_gmtoff` of `localtime_r`).
fn local_offset(secs: i64) -> i64 {
    let t: libc::time_t = secs as libc::time_t;
    // SAFETY: localtime_r writes only into the zeroed `tm` we own; both pointers are valid.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&t, &mut tm).is_null() {
            return 0;
        }
        tm.tm_gmtoff as i64
    }
}

/// nft's `time_print`: `1d2h3m4s5ms`, `0s` for zero.
pub fn time_ms(ms: u64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut s = String::new();
    let (d, r) = (ms / 86_400_000, ms % 86_400_000);
    let (h, r) = (r / 3_600_000, r % 3_600_000);
    let (m, r) = (r / 60_000, r % 60_000);
    let (sec, msr) = (r / 1000, r % 1000);
    if d > 0 {
        let _ = write!(s, "{d}d");
    }
    if h > 0 {
        let _ = write!(s, "{h}h");
    }
    if m > 0 {
        let _ = write!(s, "{m}m");
    }
    if sec > 0 {
        let _ = write!(s, "{sec}s");
    }
    if msr > 0 {
        let _ = write!(s, "{msr}ms");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rt_tables() {
        let t = parse_rt_table("# c\n0\tdefault\n  0x10 ten # x\n\n#1 no\nbad\n");
        assert_eq!(t, vec![(0, "default".into()), (16, "ten".into())]);
    }

    #[test]
    fn values() {
        assert_eq!(print_value(Dt::Port, &[0, 80], Order::Big), "80");
        assert_eq!(
            print_value(Dt::Mark, &[0, 0x80, 0, 0], Order::Host),
            "0x00008000"
        );
        assert_eq!(
            print_value(Dt::CtState, &[6, 0, 0, 0], Order::Host),
            "established,related"
        );
        assert_eq!(
            print_value(Dt::Ipv4, &[10, 0, 0, 1], Order::Big),
            "10.0.0.1"
        );
        assert_eq!(
            print_value(Dt::String, b"eth0\0\0\0\0", Order::Big),
            "\"eth0\""
        );
        assert_eq!(print_value(Dt::InetProto, &[6], Order::Big), "tcp");
        assert_eq!(print_value(Dt::EtherType, &[0x86, 0xdd], Order::Big), "ip6");
        assert_eq!(time_ms(3_723_004), "1h2m3s4ms");
        assert_eq!(split_concat_type((7 << 6) | 13), vec![7, 13]);
    }
}
