//! Protocol header field tables (nftables `src/proto.c` templates): for each header the
//! fields nft names, at bit offsets and lengths, with their datatype, and which field selects
//! the next protocol (`protocol_key`) and how its values map to upper protocols.

use super::types::Dt;

/// Payload bases (`enum nft_payload_bases`).
pub const LL: u32 = 0;
pub const NH: u32 = 1;
pub const TH: u32 = 2;

/// One named header field. Offsets and lengths are in bits.
#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub offset: u32,
    pub len: u32,
    pub dt: Dt,
    /// The ICMP / ICMPv6 message types this field exists in.
    pub dep: TypeDep,
}

/// Which ICMP / ICMPv6 message types a header field belongs to (nft's `icmp_dep`): the
/// bytes after the checksum mean different things per type, so the type decides the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeDep {
    /// Every message (and every non-ICMP header).
    Any,
    /// icmp echo-request / echo-reply.
    Echo,
    /// icmp destination-unreachable.
    Mtu,
    /// icmp redirect.
    Redirect,
    /// icmpv6 echo-request / echo-reply.
    Echo6,
    /// icmpv6 packet-too-big.
    Mtu6,
    /// icmpv6 parameter-problem.
    Pptr6,
    /// icmpv6 multicast listener query / report / done.
    Mld6,
}

impl TypeDep {
    /// Whether the field exists in a message of type `t`. With an unknown type (`None`: a set
    /// of types, or none) nft names the echo fields only.
    pub fn allows(self, t: Option<u8>) -> bool {
        let Some(t) = t else {
            return !self.implies_type();
        };
        match self {
            TypeDep::Any => true,
            TypeDep::Echo => t == 0 || t == 8,
            TypeDep::Mtu => t == 3,
            TypeDep::Redirect => t == 5,
            TypeDep::Echo6 => t == 128 || t == 129,
            TypeDep::Mtu6 => t == 2,
            TypeDep::Pptr6 => t == 4,
            TypeDep::Mld6 => (130..=132).contains(&t),
        }
    }
    /// Whether a match on the field implies its message type, so that an earlier
    /// `icmp type X` match is an implicit dependency nft does not print (echo fields keep it:
    /// two types share them).
    pub fn implies_type(self) -> bool {
        !matches!(self, TypeDep::Any | TypeDep::Echo | TypeDep::Echo6)
    }
}

/// One protocol header.
#[derive(Debug)]
pub struct Proto {
    pub name: &'static str,
    pub base: u32,
    pub fields: &'static [Field],
    /// Index in `fields` of the field that names the next protocol.
    pub key: Option<usize>,
    /// Values of the key field → upper protocol.
    pub next: &'static [(u32, &'static Proto)],
}

impl Proto {
    pub fn field_at(&self, offset: u32) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.offset == offset)
    }
    /// The field at `offset` that best covers `remaining` bits: exact length first, then the
    /// longest that fits, then (for a prefix) the shortest.
    /// `icmp_type`: the ICMP type matched before, which decides the fields after the checksum.
    pub fn field_for(
        &self,
        offset: u32,
        remaining: u32,
        icmp_type: Option<u8>,
    ) -> Option<&'static Field> {
        let at = || {
            self.fields
                .iter()
                .filter(move |f| f.offset == offset && f.dep.allows(icmp_type))
        };
        at().find(|f| f.len == remaining)
            .or_else(|| at().filter(|f| f.len <= remaining).max_by_key(|f| f.len))
            .or_else(|| at().min_by_key(|f| f.len))
    }
    pub fn key_field(&'static self) -> Option<&'static Field> {
        self.key.and_then(|k| self.fields.get(k))
    }
    pub fn upper(&self, v: u32) -> Option<&'static Proto> {
        self.next.iter().find(|(x, _)| *x == v).map(|(_, p)| *p)
    }
}

macro_rules! f {
    ($n:literal, $o:expr, $l:expr, $dt:ident) => {
        Field {
            name: $n,
            offset: $o,
            len: $l,
            dt: Dt::$dt,
            dep: TypeDep::Any,
        }
    };
    ($n:literal, $o:expr, $l:expr, $dt:ident, $dep:ident) => {
        Field {
            name: $n,
            offset: $o,
            len: $l,
            dt: Dt::$dt,
            dep: TypeDep::$dep,
        }
    };
}

pub static ETHER: Proto = Proto {
    name: "ether",
    base: LL,
    fields: &[
        f!("daddr", 0, 48, EtherAddr),
        f!("saddr", 48, 48, EtherAddr),
        f!("type", 96, 16, EtherType),
    ],
    key: Some(2),
    next: &[
        (0x0800, &IP),
        (0x86dd, &IP6),
        (0x0806, &ARP),
        (0x8100, &VLAN),
        (0x88a8, &VLAN),
    ],
};

pub static VLAN: Proto = Proto {
    name: "vlan",
    base: LL,
    fields: &[
        f!("pcp", 0, 3, Integer),
        f!("dei", 3, 1, Integer),
        f!("cfi", 3, 1, Integer),
        f!("id", 4, 12, Integer),
        f!("type", 16, 16, EtherType),
    ],
    key: Some(4),
    next: &[
        (0x0800, &IP),
        (0x86dd, &IP6),
        (0x0806, &ARP),
        (0x8100, &VLAN),
    ],
};

pub static ARP: Proto = Proto {
    name: "arp",
    base: NH,
    fields: &[
        f!("htype", 0, 16, Integer),
        f!("ptype", 16, 16, EtherType),
        f!("hlen", 32, 8, Integer),
        f!("plen", 40, 8, Integer),
        f!("operation", 48, 16, ArpOp),
        f!("saddr ether", 64, 48, EtherAddr),
        f!("saddr ip", 112, 32, Ipv4),
        f!("daddr ether", 144, 48, EtherAddr),
        f!("daddr ip", 192, 32, Ipv4),
    ],
    key: None,
    next: &[],
};

const L4_NEXT: &[(u32, &Proto)] = &[
    (1, &ICMP),
    (2, &IGMP),
    (6, &TCP),
    (17, &UDP),
    (136, &UDPLITE),
    (132, &SCTP),
    (33, &DCCP),
    (50, &ESP),
    (51, &AH),
    (108, &COMP),
    (58, &ICMP6),
];

pub static IP: Proto = Proto {
    name: "ip",
    base: NH,
    fields: &[
        f!("version", 0, 4, Integer),
        f!("hdrlength", 4, 4, Integer),
        f!("dscp", 8, 6, Dscp),
        f!("ecn", 14, 2, Ecn),
        f!("length", 16, 16, Integer),
        f!("id", 32, 16, Integer),
        f!("frag-off", 48, 16, Integer),
        f!("ttl", 64, 8, Integer),
        f!("protocol", 72, 8, InetProto),
        f!("checksum", 80, 16, Integer),
        f!("saddr", 96, 32, Ipv4),
        f!("daddr", 128, 32, Ipv4),
    ],
    key: Some(8),
    next: L4_NEXT,
};

pub static IP6: Proto = Proto {
    name: "ip6",
    base: NH,
    fields: &[
        f!("version", 0, 4, Integer),
        f!("dscp", 4, 6, Dscp),
        f!("ecn", 10, 2, Ecn),
        f!("flowlabel", 12, 20, Integer),
        f!("length", 32, 16, Integer),
        f!("nexthdr", 48, 8, InetProto),
        f!("hoplimit", 56, 8, Integer),
        f!("saddr", 64, 128, Ipv6),
        f!("daddr", 192, 128, Ipv6),
    ],
    key: Some(5),
    next: L4_NEXT,
};

pub static ICMP: Proto = Proto {
    name: "icmp",
    base: TH,
    fields: &[
        f!("type", 0, 8, IcmpType),
        f!("code", 8, 8, IcmpCode),
        f!("checksum", 16, 16, Integer),
        f!("id", 32, 16, Integer, Echo),
        f!("sequence", 48, 16, Integer, Echo),
        // an integer in nft 1.0.6 (an address type only in later versions)
        f!("gateway", 32, 32, Integer, Redirect),
        f!("mtu", 48, 16, Integer, Mtu),
    ],
    key: None,
    next: &[],
};

pub static ICMP6: Proto = Proto {
    name: "icmpv6",
    base: TH,
    fields: &[
        f!("type", 0, 8, Icmpv6Type),
        f!("code", 8, 8, Icmpv6Code),
        f!("checksum", 16, 16, Integer),
        f!("parameter-problem", 32, 32, Integer, Pptr6),
        f!("mtu", 32, 32, Integer, Mtu6),
        f!("id", 32, 16, Integer, Echo6),
        f!("sequence", 48, 16, Integer, Echo6),
        f!("max-delay", 32, 16, Integer, Mld6),
    ],
    key: None,
    next: &[],
};

pub static IGMP: Proto = Proto {
    name: "igmp",
    base: TH,
    fields: &[
        f!("type", 0, 8, IgmpType),
        f!("mrt", 8, 8, Integer),
        f!("checksum", 16, 16, Integer),
        f!("group", 32, 32, Integer),
    ],
    key: None,
    next: &[],
};

pub static TCP: Proto = Proto {
    name: "tcp",
    base: TH,
    fields: &[
        f!("sport", 0, 16, Port),
        f!("dport", 16, 16, Port),
        f!("sequence", 32, 32, Integer),
        f!("ackseq", 64, 32, Integer),
        f!("doff", 96, 4, Integer),
        f!("reserved", 100, 4, Integer),
        f!("flags", 104, 8, TcpFlag),
        f!("window", 112, 16, Integer),
        f!("checksum", 128, 16, Integer),
        f!("urgptr", 144, 16, Integer),
    ],
    key: None,
    next: &[],
};

pub static UDP: Proto = Proto {
    name: "udp",
    base: TH,
    fields: &[
        f!("sport", 0, 16, Port),
        f!("dport", 16, 16, Port),
        f!("length", 32, 16, Integer),
        f!("checksum", 48, 16, Integer),
    ],
    key: None,
    next: &[],
};

pub static UDPLITE: Proto = Proto {
    name: "udplite",
    base: TH,
    fields: &[
        f!("sport", 0, 16, Port),
        f!("dport", 16, 16, Port),
        f!("csumcov", 32, 16, Integer),
        f!("checksum", 48, 16, Integer),
    ],
    key: None,
    next: &[],
};

pub static SCTP: Proto = Proto {
    name: "sctp",
    base: TH,
    fields: &[
        f!("sport", 0, 16, Port),
        f!("dport", 16, 16, Port),
        f!("vtag", 32, 32, Integer),
        f!("checksum", 64, 32, Integer),
    ],
    key: None,
    next: &[],
};

pub static DCCP: Proto = Proto {
    name: "dccp",
    base: TH,
    fields: &[
        f!("sport", 0, 16, Port),
        f!("dport", 16, 16, Port),
        f!("type", 67, 4, DccpType),
    ],
    key: None,
    next: &[],
};

pub static ESP: Proto = Proto {
    name: "esp",
    base: TH,
    fields: &[f!("spi", 0, 32, Integer), f!("sequence", 32, 32, Integer)],
    key: None,
    next: &[],
};

pub static AH: Proto = Proto {
    name: "ah",
    base: TH,
    fields: &[
        f!("nexthdr", 0, 8, InetProto),
        f!("hdrlength", 8, 8, Integer),
        f!("reserved", 16, 16, Integer),
        f!("spi", 32, 32, Integer),
        f!("sequence", 64, 32, Integer),
    ],
    key: None,
    next: &[],
};

pub static COMP: Proto = Proto {
    name: "comp",
    base: TH,
    fields: &[
        f!("nexthdr", 0, 8, InetProto),
        // `bitmask_type`: hex
        f!("flags", 8, 8, Hex),
        f!("cpi", 16, 16, Integer),
    ],
    key: None,
    next: &[],
};

/// The generic transport header (`th`): ports only.
pub static TH_GENERIC: Proto = Proto {
    name: "th",
    base: TH,
    fields: &[f!("sport", 0, 16, Port), f!("dport", 16, 16, Port)],
    key: None,
    next: &[],
};

/// Pseudo payload bases for headers that an `exthdr` expression loads (not a kernel payload
/// base): fields there are named as payload fields are, by bit offset and length.
pub const EXT_FRAG: u32 = 0x100 | 44;
pub const EXT_MPTCP: u32 = 0x200 | 30;

/// The IPv6 fragment header (nft's `exthdr_frag` templates).
pub static FRAG: Proto = Proto {
    name: "frag",
    base: EXT_FRAG,
    fields: &[
        f!("nexthdr", 0, 8, InetProto),
        f!("reserved", 8, 8, Integer),
        f!("frag-off", 16, 13, Integer),
        f!("reserved2", 29, 2, Integer),
        f!("more-fragments", 31, 1, Integer),
        f!("id", 32, 32, Integer),
    ],
    key: None,
    next: &[],
};

/// The MPTCP TCP option (nft's `tcpopt_mptcp` templates).
pub static MPTCP: Proto = Proto {
    name: "tcp option mptcp",
    base: EXT_MPTCP,
    fields: &[
        f!("kind", 0, 8, Integer),
        f!("length", 8, 8, Integer),
        f!("subtype", 16, 4, Integer),
    ],
    key: None,
    next: &[],
};

/// The header of a pseudo base ([`EXT_FRAG`], [`EXT_MPTCP`]).
pub fn ext(base: u32) -> Option<&'static Proto> {
    match base {
        EXT_FRAG => Some(&FRAG),
        EXT_MPTCP => Some(&MPTCP),
        _ => None,
    }
}

/// The upper protocol for an L4 protocol number.
pub fn l4(p: u32) -> Option<&'static Proto> {
    L4_NEXT.iter().find(|(x, _)| *x == p).map(|(_, p)| *p)
}

/// All protocols by name (for `typeof` and lookups).
pub static ALL: &[&Proto] = &[
    &ETHER,
    &VLAN,
    &ARP,
    &IP,
    &IP6,
    &ICMP,
    &ICMP6,
    &IGMP,
    &TCP,
    &UDP,
    &UDPLITE,
    &SCTP,
    &DCCP,
    &ESP,
    &AH,
    &COMP,
    &TH_GENERIC,
];

/// nft's `enum proto_desc_id` (used in set `typeof` userdata).
pub fn by_desc_id(id: u32) -> Option<&'static Proto> {
    Some(match id {
        1 => &AH,
        2 => &ESP,
        3 => &COMP,
        4 => &ICMP,
        5 => &IGMP,
        6 => &UDP,
        7 => &UDPLITE,
        8 => &TCP,
        9 => &DCCP,
        10 => &SCTP,
        11 => &TH_GENERIC,
        12 => &IP,
        13 => &IP6,
        14 => &ICMP6,
        15 => &ARP,
        16 => &VLAN,
        17 => &ETHER,
        _ => return None,
    })
}
