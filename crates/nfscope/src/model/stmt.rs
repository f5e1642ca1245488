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
    /// A statement the model does not type yet (nat, log, limit, set writes, xt, ...): its
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
