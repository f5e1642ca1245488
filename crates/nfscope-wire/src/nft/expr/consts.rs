//! Names of the numeric enums inside expressions, as nft spells them. Each function returns
//! `None` for a value this code does not know (callers print the number).

macro_rules! names {
    ($(#[$m:meta])* $fn_name:ident { $($v:literal => $n:literal),* $(,)? }) => {
        $(#[$m])*
        pub fn $fn_name(v: u32) -> Option<&'static str> {
            match v { $($v => Some($n),)* _ => None }
        }
    };
}

names!(/// `enum nft_cmp_ops`
    cmp_op { 0 => "==", 1 => "!=", 2 => "<", 3 => "<=", 4 => ">", 5 => ">=" });
names!(/// `enum nft_bitwise_ops`
    bitwise_op { 0 => "mask_xor", 1 => "lshift", 2 => "rshift", 3 => "and", 4 => "or", 5 => "xor" });
names!(/// `enum nft_byteorder_ops`
    byteorder_op { 0 => "ntoh", 1 => "hton" });
names!(/// `enum nft_range_ops`
    range_op { 0 => "==", 1 => "!=" });
names!(/// `enum nft_payload_bases`
    payload_base { 0 => "ll", 1 => "nh", 2 => "th", 3 => "ih", 4 => "tunnel" });
names!(/// `enum nft_payload_csum_types`
    payload_csum { 0 => "none", 1 => "inet", 2 => "sctp" });
names!(/// `enum nft_meta_keys`, nft spelling
meta_key {
    0 => "length", 1 => "protocol", 2 => "priority", 3 => "mark", 4 => "iif", 5 => "oif",
    6 => "iifname", 7 => "oifname", 8 => "iiftype", 9 => "oiftype", 10 => "skuid",
    11 => "skgid", 12 => "nftrace", 13 => "rtclassid", 14 => "secmark", 15 => "nfproto",
    16 => "l4proto", 17 => "ibrname", 18 => "obrname", 19 => "pkttype", 20 => "cpu",
    21 => "iifgroup", 22 => "oifgroup", 23 => "cgroup", 24 => "random", 25 => "ipsec",
    26 => "iifkind", 27 => "oifkind", 28 => "ibrpvid", 29 => "ibrvproto", 30 => "time",
    31 => "day", 32 => "hour", 33 => "sdif", 34 => "sdifname", 35 => "broute",
});
names!(/// `enum nft_ct_keys`, nft spelling
ct_key {
    0 => "state", 1 => "direction", 2 => "status", 3 => "mark", 4 => "secmark",
    5 => "expiration", 6 => "helper", 7 => "l3proto", 8 => "saddr", 9 => "daddr",
    10 => "protocol", 11 => "proto-src", 12 => "proto-dst", 13 => "label", 14 => "packets",
    15 => "bytes", 16 => "avgpkt", 17 => "zone", 18 => "event", 19 => "ip saddr",
    20 => "ip daddr", 21 => "ip6 saddr", 22 => "ip6 daddr", 23 => "id",
});
names!(/// conntrack direction
    ct_dir { 0 => "original", 1 => "reply" });
names!(/// `enum nft_exthdr_op`
    exthdr_op { 0 => "ipv6", 1 => "tcp option", 2 => "ip option", 3 => "sctp", 4 => "dccp" });
names!(/// `enum nft_fib_result`
    fib_result { 0 => "unspec", 1 => "oif", 2 => "oifname", 3 => "type" });
names!(/// `enum nft_reject_types`
    reject_type { 0 => "icmp", 1 => "tcp reset", 2 => "icmpx" });
names!(/// `enum nft_nat_types`
    nat_type { 0 => "snat", 1 => "dnat" });
names!(/// `enum nft_limit_type`
    limit_type { 0 => "packets", 1 => "bytes" });
names!(/// `enum nft_ng_types`
    numgen_type { 0 => "inc", 1 => "random" });
names!(/// `enum nft_hash_types`
    hash_type { 0 => "jhash", 1 => "symhash" });
names!(/// `enum nft_socket_keys`
    socket_key { 0 => "transparent", 1 => "mark", 2 => "wildcard", 3 => "cgroupv2" });
names!(/// `enum nft_rt_keys`
    rt_key { 0 => "classid", 1 => "nexthop", 2 => "nexthop", 3 => "mtu", 4 => "ipsec" });
names!(/// `enum nft_xfrm_keys`
    xfrm_key { 1 => "daddr", 2 => "saddr", 3 => "daddr", 4 => "saddr", 5 => "reqid", 6 => "spi" });
names!(/// `enum nft_tunnel_keys`
    tunnel_key { 0 => "path", 1 => "id" });
names!(/// `enum nft_dynset_ops`
    dynset_op { 0 => "add", 1 => "update", 2 => "delete" });
names!(/// `enum nft_registers` (16-byte registers)
    reg { 0 => "verdict", 1 => "1", 2 => "2", 3 => "3", 4 => "4" });
names!(/// netfilter hooks (ip, ip6, inet, bridge, arp numbering for 0..=4)
    hook_inet { 0 => "prerouting", 1 => "input", 2 => "forward", 3 => "output", 4 => "postrouting", 5 => "ingress" });
names!(/// arp hooks
    hook_arp { 0 => "input", 1 => "output", 2 => "forward" });
names!(/// netdev hooks
    hook_netdev { 0 => "ingress", 1 => "egress" });

/// `NFT_LOOKUP_F_INV`.
pub const LOOKUP_F_INV: u32 = 1;
/// `NFT_LIMIT_F_INV` / `NFT_QUOTA_F_INV`.
pub const LIMIT_F_INV: u32 = 1;
pub const QUOTA_F_INV: u32 = 1;
/// `NFT_FIB_F_*`.
pub const FIB_F_SADDR: u32 = 1;
pub const FIB_F_DADDR: u32 = 2;
pub const FIB_F_MARK: u32 = 4;
pub const FIB_F_IIF: u32 = 8;
pub const FIB_F_OIF: u32 = 16;
pub const FIB_F_PRESENT: u32 = 32;
/// `NFT_QUEUE_FLAG_*`.
pub const QUEUE_FLAG_BYPASS: u16 = 1;
pub const QUEUE_FLAG_CPU_FANOUT: u16 = 2;
/// `NF_NAT_RANGE_*` flags.
pub const NAT_RANGE_MAP_IPS: u32 = 1;
pub const NAT_RANGE_PROTO_SPECIFIED: u32 = 2;
pub const NAT_RANGE_PROTO_RANDOM: u32 = 4;
pub const NAT_RANGE_PERSISTENT: u32 = 8;
pub const NAT_RANGE_PROTO_RANDOM_FULLY: u32 = 16;
pub const NAT_RANGE_PROTO_OFFSET: u32 = 32;
pub const NAT_RANGE_NETMAP: u32 = 64;
