//! Datatypes and byte orders of values, as the model resolves them (nftables' `enum
//! datatypes` and byte order). How each datatype prints is the renderer's
//! (`render::nft::datatype`).

/// The datatypes nft knows that change how a value prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dt {
    /// Plain integer, decimal.
    Integer,
    /// Integer printed in hex (`0x%x` style, e.g. raw payloads of odd size use this too).
    Hex,
    /// `mark_type`: `0x%08x`.
    Mark,
    Ipv4,
    Ipv6,
    /// `inet_service`: port, decimal.
    Port,
    /// `inet_proto`: /etc/protocols name.
    InetProto,
    EtherType,
    EtherAddr,
    /// `ifname` / `string`: quoted.
    String,
    /// Interface index (`meta iif`): printed as a number (we cannot resolve names of another netns).
    Ifindex,
    NfProto,
    CtState,
    CtStatus,
    CtDir,
    CtEvent,
    PktType,
    IcmpType,
    IcmpCode,
    Icmpv6Type,
    Icmpv6Code,
    IcmpxCode,
    IgmpType,
    /// `mh_type`: IPv6 mobility header message types.
    MhType,
    TcpFlag,
    DccpType,
    Dscp,
    Ecn,
    ArpOp,
    ArpHrd,
    Day,
    Boolean,
    Verdict,
    /// `time` (meta time): nanoseconds since the epoch.
    Time,
    /// `time` of `meta time`: nanoseconds since the epoch (nft prints a local date; we print
    /// the number).
    Date,
    /// `hour`: seconds since midnight, `HH:MM`.
    Hour,
    Uid,
    Gid,
    /// `devgroup`, `realm`: the quoted name from /etc/iproute2 (`group`, `rt_realms`), else
    /// the number.
    Devgroup,
    Realm,
    /// Priority / classid (`meta priority`): `none` or `major:minor` in hex.
    Classid,
    /// `ct label`.
    CtLabel,
    /// Cgroup v2 / secmark: decimal.
    Cgroupv2,
    /// `fib_addrtype`: route types (`local`, `unicast`, ...).
    FibAddr,
    /// Unknown byte strings.
    Bytes,
}

/// Byte order of a value's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Big,
    Host,
}
