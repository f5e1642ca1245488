//! Typed statements: what one rule does, read once from its expressions
//! ([`super::decode()`]).

use super::field::{CtDir, CtKey, Load, MetaKey};
use super::proto;
use super::types::{Dt, Order};

/// A value's resolved type: its datatype, byte order and width in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ty {
    /// How values print (`ipv4_addr`, `mark`, `inet_service`, ...).
    pub dt: Dt,
    /// The byte order of the value's bytes.
    pub order: Order,
    /// Width in bytes.
    pub bytes: u32,
}

/// What a register holds: the left-hand side of a match, a lookup's key, a statement's source.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expr {
    /// Packet bytes: payload base (`enum nft_payload_bases`, or a pseudo base for fields of
    /// extension headers loaded as payload), offset and length in bits. Which header field
    /// they are depends on the protocol context at the match.
    Payload {
        /// `NFT_PAYLOAD_*_HEADER` (0 link, 1 network, 2 transport, 3 inner).
        base: u32,
        /// Offset in bits.
        off: u32,
        /// Length in bits.
        len: u32,
    },
    /// A header field, named through the protocol context at the match (`ip saddr`,
    /// `tcp dport`, `vlan id`).
    Header(Header),
    /// Packet bytes that no field of a known header covers exactly, printed raw
    /// (`@nh,8,8`); the offset is from the start of the innermost link-layer header it falls in.
    Raw {
        /// Payload base, as in [`Expr::Payload`].
        base: u32,
        /// Offset in bits.
        off: u32,
        /// Length in bits.
        len: u32,
    },
    /// `meta KEY`.
    Meta(MetaKey),
    /// `ct [DIR] KEY`.
    Ct {
        /// The key.
        key: CtKey,
        /// The direction, for the keys that have one.
        dir: Option<CtDir>,
    },
    /// A named load (`fib`, `rt`, `socket`, ...), with its resolved type.
    Load {
        /// What is loaded.
        load: Load,
        /// Its type.
        ty: Ty,
    },
    /// `inner & mask ^ xor` (bitwise mask/xor), bytes as the kernel holds them.
    Mask {
        /// What is masked.
        inner: Box<Expr>,
        /// The mask.
        mask: Vec<u8>,
        /// The xor.
        xor: Vec<u8>,
    },
    /// `inner << n` / `inner >> n`.
    Shift {
        /// What is shifted.
        inner: Box<Expr>,
        /// `<<` rather than `>>`.
        left: bool,
        /// Bits.
        n: u32,
    },
    /// A constant (its bytes).
    Imm(Vec<u8>),
    /// Several registers used as one key (`ip saddr . tcp dport`).
    Concat(Vec<Expr>),
    /// The result of a map lookup: `key map @set`.
    Map {
        /// The key looked up.
        key: Box<Expr>,
        /// The set's name.
        set: String,
    },
    /// A host-order value converted to network order (`byteorder hton`): values compared
    /// with it are big endian.
    Hton(Box<Expr>),
}

/// A named header field: its protocol and field as nft's protocol templates name them.
#[derive(Debug, Clone, Copy)]
pub struct Header {
    pub(crate) proto: &'static proto::Proto,
    pub(crate) field: &'static proto::Field,
}

impl PartialEq for Header {
    fn eq(&self, o: &Self) -> bool {
        std::ptr::eq(self.proto, o.proto) && std::ptr::eq(self.field, o.field)
    }
}
impl Eq for Header {}

impl Header {
    /// The protocol (`ip`, `ip6`, `tcp`, `ether`, `vlan`, `th`, ...).
    pub fn protocol(&self) -> &'static str {
        self.proto.name
    }

    /// The field (`saddr`, `dport`, `type`, ...).
    pub fn field(&self) -> &'static str {
        self.field.name
    }

    /// Datatype, byte order (payload fields are big endian) and width in bits.
    pub fn ty(&self) -> (Dt, Order, u32) {
        (self.field.dt, Order::Big, self.field.len)
    }
}

/// A relational operator (`enum nft_cmp_ops`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Op {
    /// `==` (printed implicitly where nft does).
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// An operator number this code does not know (printed as `==`).
    Unknown(u32),
}

impl Op {
    /// The operator for the kernel's number.
    pub fn from_raw(n: u32) -> Op {
        match n {
            0 => Op::Eq,
            1 => Op::Ne,
            2 => Op::Lt,
            3 => Op::Le,
            4 => Op::Gt,
            5 => Op::Ge,
            n => Op::Unknown(n),
        }
    }

    /// The kernel's number for this operator.
    pub fn raw(self) -> u32 {
        match self {
            Op::Eq => 0,
            Op::Ne => 1,
            Op::Lt => 2,
            Op::Le => 3,
            Op::Gt => 4,
            Op::Ge => 5,
            Op::Unknown(n) => n,
        }
    }
}

/// The right-hand side of a match: bytes in the byte order of the left side's type.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Value {
    /// One value.
    Bytes(Vec<u8>),
    /// A prefix of the field: the value with its host bits zero, and the prefix length in
    /// bits (`ip saddr 10.0.0.0/8`).
    Prefix {
        /// The whole field's bytes.
        bytes: Vec<u8>,
        /// Prefix length in bits.
        len: u32,
    },
    /// A range, both ends included (`tcp dport 1-1023`).
    Range {
        /// Low end.
        from: Vec<u8>,
        /// High end.
        to: Vec<u8>,
    },
}

/// `left op right`: a relational match.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Match {
    /// What is compared: a typed field, possibly masked, shifted or concatenated.
    pub left: Expr,
    /// The operator (`Eq` with a [`Value::Range`] is `left from-to`).
    pub op: Op,
    /// What it is compared with.
    pub right: Value,
}

/// A set or map lookup: `key @set`, `key != { ... }`, `key vmap { ... }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// The key looked up (a typed field or a concatenation of them).
    pub key: Expr,
    /// The set's name (`__set%d` for an anonymous one).
    pub set: String,
    /// A verdict map: the looked-up data is the verdict.
    pub vmap: bool,
    /// Negated (`NFT_LOOKUP_F_INV`): the key is not in the set.
    pub inverted: bool,
    /// How the set prints (`@name`, or an anonymous set's elements `{ ... }`) — the elements
    /// are not typed in the model yet.
    pub(crate) set_text: String,
    /// The key is a masked bitmask (`tcp flags & (fin | syn) == { ... }`): nft prints `==`.
    pub(crate) masked_flags: bool,
}

/// What one statement of a rule is.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum StmtKind {
    /// A relational match.
    Match(Match),
    /// A set / map / verdict map lookup.
    Lookup(Lookup),
    /// A verdict (`accept`, `jump chain`, ...); a jump to a bound chain is
    /// [`StmtKind::Text`] for now.
    Verdict(nfscope_wire::nft::Verdict),
    /// `field set value`: a write of a header field, a meta or ct key, a TCP option.
    Write {
        /// What is written (a typed field).
        field: Expr,
        /// The value: a constant ([`Expr::Imm`], bytes in the field's byte order) or an
        /// expression (`meta mark set ct mark`, `ip daddr set numgen inc mod 2 map { ... }`).
        value: Expr,
    },
    /// `counter packets N bytes M`.
    Counter {
        /// Packets counted.
        packets: u64,
        /// Bytes counted.
        bytes: u64,
    },
    /// `log ...`: the kernel's log attributes.
    Log(nfscope_wire::nft::expr::Log),
    /// `limit rate ...`: the kernel's limit attributes.
    Limit(nfscope_wire::nft::expr::Limit),
    /// `quota ...`: the kernel's quota attributes.
    Quota(nfscope_wire::nft::expr::Quota),
    /// `ct count [over] N`: the kernel's connlimit attributes.
    Connlimit(nfscope_wire::nft::expr::Connlimit),
    /// `notrack`.
    Notrack,
    /// `flow add @flowtable`.
    FlowAdd {
        /// The flowtable's name.
        flowtable: String,
    },
    /// `last used ...`: when the rule last matched, as milliseconds ago (`None`: never).
    Last {
        /// Milliseconds since the rule last matched, when it has.
        used_ms: Option<u64>,
    },
    /// `meta secmark set "ctx"`.
    Secmark {
        /// The security context.
        ctx: String,
    },
    /// `reject ...`: how the packet is refused, with the form decided by the table's family
    /// and the protocol context at the statement.
    Reject(Reject),
    /// `queue [flags ...] to ...`: hand the packet to user space.
    Queue {
        /// `NFT_QUEUE_FLAG_*` (`bypass`, `fanout`); other bits are not printed.
        flags: u16,
        /// Which queue(s).
        to: QueueTo,
    },
    /// `masquerade [to :ports] [flags]`.
    Masquerade(NatPorts),
    /// `redirect [to :ports] [flags]`.
    Redirect(NatPorts),
    /// `dup to ADDR [device DEV]` / `dup to DEV`: a copy of the packet sent elsewhere.
    Dup {
        /// The address sent to: a constant ([`Expr::Imm`], big endian) or an expression.
        addr: Option<Expr>,
        /// The address is IPv6 (the protocol context at the statement is IPv6).
        v6: bool,
        /// The device sent through (an interface index: constant in host order, or an
        /// expression).
        dev: Option<Expr>,
    },
    /// `fwd to DEV` / `fwd ip|ip6 to ADDR device DEV` (netdev): the packet forwarded.
    Fwd {
        /// The next hop's address, when given (as in [`StmtKind::Dup`]).
        addr: Option<Expr>,
        /// The address is IPv6 (the expression's `NFTA_FWD_NFPROTO` is `NFPROTO_IPV6`).
        v6: bool,
        /// The device (interface index, as in [`StmtKind::Dup`]).
        dev: Expr,
    },
    /// A stateful object attached to the packet or counted against (`counter name "c"`,
    /// `ct helper set "h"`, `quota name ip saddr map @m`).
    Objref {
        /// The object type (`NFT_OBJECT_*`: 1 counter, 2 quota, 3 ct helper, 4 limit,
        /// 7 ct timeout, 8 secmark, 9 ct expectation, ...), from the expression or, for a
        /// map, the map's object type.
        ty: u32,
        /// Which object.
        target: ObjTarget,
    },
    /// `snat` / `dnat [ip|ip6] [prefix] to ADDR[:PORTS] [flags]`.
    Nat(Nat),
    /// A statement the model does not type yet (tproxy, synproxy, dynset, xt, ...): its
    /// nft text. Temporary: these move to typed arms one by one.
    Text(String),
}

/// One statement of a rule, in rule order.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Stmt {
    /// What it is.
    pub kind: StmtKind,
    /// An implicit dependency of a later match (`meta l4proto tcp` before `tcp dport`,
    /// `meta nfproto ipv4` before `ip saddr` in an inet table): nft does not print it.
    pub implicit: bool,
}

/// How a `reject` statement refuses a packet (`enum nft_reject_types` and its code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reject {
    /// `reject`: the family's default (ICMP port unreachable, ICMPv6 port unreachable,
    /// ICMPx port unreachable), printed without a reason.
    Default,
    /// `reject with tcp reset` (`NFT_REJECT_TCP_RST`).
    TcpReset,
    /// `reject with icmpx CODE` (`NFT_REJECT_ICMPX_UNREACH`, `enum nft_reject_inet_code`).
    Icmpx(u8),
    /// `reject with icmp CODE` (`NFT_REJECT_ICMP_UNREACH` for IPv4: an ICMP unreachable code).
    Icmp(u8),
    /// `reject with icmpv6 CODE` (`NFT_REJECT_ICMP_UNREACH` for IPv6: an ICMPv6 code).
    Icmpv6(u8),
    /// A reject type this code does not know, with its code: printed as `Default`, `Icmp`
    /// or `Icmpv6` would be (as nft does), as decided at the statement.
    Unknown {
        /// The kernel's reject type.
        ty: u32,
        /// The code.
        code: u8,
        /// Printed as ICMPv6 (the context is IPv6).
        v6: bool,
        /// Printed as a bare `reject` (the family's default code, in an ip / ip6 table).
        default: bool,
    },
}

/// Where a `queue` statement sends packets.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum QueueTo {
    /// Queues `first` to `first + count - 1` (`to 3`, `to 3-5`).
    Range {
        /// The first queue number.
        first: u16,
        /// How many queues (1: one queue).
        count: u16,
    },
    /// The queue number from a register (`to numgen inc mod 2`, `to 7`): a constant
    /// ([`Expr::Imm`], host order) or an expression.
    Expr(Expr),
}

/// The port range and flags of `masquerade` / `redirect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NatPorts {
    /// The lowest port and the highest, when given: constants ([`Expr::Imm`], big endian)
    /// or expressions. No `min`: no port range.
    pub min: Option<Expr>,
    /// The highest port (`None` or equal to `min`: one port).
    pub max: Option<Expr>,
    /// `NF_NAT_RANGE_*` flags (`random`, `fully-random`, `persistent`).
    pub flags: u32,
}

/// Which object an objref statement names.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ObjTarget {
    /// One object, by name.
    Name(String),
    /// The object a map gives for a key: `key map @set` (or an anonymous map's elements).
    Map {
        /// The key looked up.
        key: Expr,
        /// The map's name.
        set: String,
    },
}

/// Source or destination NAT (`enum nft_nat_types`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NatKind {
    /// `snat`.
    Snat,
    /// `dnat`.
    Dnat,
    /// A type this code does not know (printed as `snat`).
    Unknown(u32),
}

/// A `snat` / `dnat` statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nat {
    /// Source or destination.
    pub kind: NatKind,
    /// The addresses' family (`NFPROTO_IPV4` 2, `NFPROTO_IPV6` 10).
    pub family: u32,
    /// The lowest address and the highest, when given: constants ([`Expr::Imm`], big
    /// endian) or expressions (a map's value). No `max` when it is the same register
    /// content or when a map gives the whole address (range).
    pub addr: Option<(Expr, Option<Expr>)>,
    /// The lowest port and the highest (as in [`NatPorts`]), when given and not from the
    /// address's map.
    pub ports: Option<(Expr, Option<Expr>)>,
    /// The address's map gives the port too (its data is a concatenation or an interval).
    pub map_ports: bool,
    /// nft names the family (`snat ip to ...`): in an inet table, or when one map gives
    /// address and port.
    pub(crate) show_family: bool,
    /// `NF_NAT_RANGE_*` flags (`random`, `persistent`, `prefix` (netmap), ...).
    pub flags: u32,
}
