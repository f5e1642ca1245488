//! nf_tables messages (linux/netfilter/nf_tables.h): objects, data, verdicts, userdata and
//! every expression.
//!
//! Every object type is an attribute table decoded by [`attr_struct!`]: each known attribute
//! becomes an `Option` field (the kernel may omit any of them), and every attribute this code
//! does not know lands in `unknown` as raw bytes. Nothing is dropped.

#[macro_use]
mod macros;
pub mod data;
pub mod expr;
pub mod object;
pub mod udata;

pub use data::{Data, Verdict, VerdictCode};
pub use expr::Expr;
pub use object::*;

/// nf_tables message types (`enum nf_tables_msg_types`).
pub mod msg {
    pub const NEWTABLE: u8 = 0;
    pub const GETTABLE: u8 = 1;
    pub const DELTABLE: u8 = 2;
    pub const NEWCHAIN: u8 = 3;
    pub const GETCHAIN: u8 = 4;
    pub const DELCHAIN: u8 = 5;
    pub const NEWRULE: u8 = 6;
    pub const GETRULE: u8 = 7;
    pub const DELRULE: u8 = 8;
    pub const NEWSET: u8 = 9;
    pub const GETSET: u8 = 10;
    pub const DELSET: u8 = 11;
    pub const NEWSETELEM: u8 = 12;
    pub const GETSETELEM: u8 = 13;
    pub const DELSETELEM: u8 = 14;
    pub const NEWGEN: u8 = 15;
    pub const GETGEN: u8 = 16;
    pub const TRACE: u8 = 17;
    pub const NEWOBJ: u8 = 18;
    pub const GETOBJ: u8 = 19;
    pub const DELOBJ: u8 = 20;
    pub const GETOBJ_RESET: u8 = 21;
    pub const NEWFLOWTABLE: u8 = 22;
    pub const GETFLOWTABLE: u8 = 23;
    pub const DELFLOWTABLE: u8 = 24;
    pub const GETRULE_RESET: u8 = 25;
    pub const DESTROYTABLE: u8 = 26;
    pub const DESTROYCHAIN: u8 = 27;
    pub const DESTROYRULE: u8 = 28;
    pub const DESTROYSET: u8 = 29;
    pub const DESTROYSETELEM: u8 = 30;
    pub const DESTROYOBJ: u8 = 31;
    pub const DESTROYFLOWTABLE: u8 = 32;
    pub const GETSETELEM_RESET: u8 = 33;

    /// Name of a message type, for logs and errors.
    pub fn name(m: u8) -> &'static str {
        const N: [&str; 34] = [
            "NEWTABLE",
            "GETTABLE",
            "DELTABLE",
            "NEWCHAIN",
            "GETCHAIN",
            "DELCHAIN",
            "NEWRULE",
            "GETRULE",
            "DELRULE",
            "NEWSET",
            "GETSET",
            "DELSET",
            "NEWSETELEM",
            "GETSETELEM",
            "DELSETELEM",
            "NEWGEN",
            "GETGEN",
            "TRACE",
            "NEWOBJ",
            "GETOBJ",
            "DELOBJ",
            "GETOBJ_RESET",
            "NEWFLOWTABLE",
            "GETFLOWTABLE",
            "DELFLOWTABLE",
            "GETRULE_RESET",
            "DESTROYTABLE",
            "DESTROYCHAIN",
            "DESTROYRULE",
            "DESTROYSET",
            "DESTROYSETELEM",
            "DESTROYOBJ",
            "DESTROYFLOWTABLE",
            "GETSETELEM_RESET",
        ];
        N.get(m as usize).copied().unwrap_or("UNKNOWN")
    }
}

/// Address families as nf_tables uses them (`NFPROTO_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Unspec,
    Inet,
    Ip,
    Arp,
    Netdev,
    Bridge,
    Ip6,
    Decnet,
    Other(u8),
}

impl Family {
    pub const ALL: [Family; 6] = [
        Family::Ip,
        Family::Ip6,
        Family::Inet,
        Family::Arp,
        Family::Bridge,
        Family::Netdev,
    ];

    pub fn from_u8(v: u8) -> Family {
        match v {
            0 => Family::Unspec,
            1 => Family::Inet,
            2 => Family::Ip,
            3 => Family::Arp,
            5 => Family::Netdev,
            7 => Family::Bridge,
            10 => Family::Ip6,
            12 => Family::Decnet,
            n => Family::Other(n),
        }
    }
    pub fn to_u8(self) -> u8 {
        match self {
            Family::Unspec => 0,
            Family::Inet => 1,
            Family::Ip => 2,
            Family::Arp => 3,
            Family::Netdev => 5,
            Family::Bridge => 7,
            Family::Ip6 => 10,
            Family::Decnet => 12,
            Family::Other(n) => n,
        }
    }
    /// The name nft uses (`ip`, `ip6`, `inet`, `arp`, `bridge`, `netdev`).
    pub fn name(self) -> String {
        match self {
            Family::Unspec => "unspec".into(),
            Family::Inet => "inet".into(),
            Family::Ip => "ip".into(),
            Family::Arp => "arp".into(),
            Family::Netdev => "netdev".into(),
            Family::Bridge => "bridge".into(),
            Family::Ip6 => "ip6".into(),
            Family::Decnet => "decnet".into(),
            Family::Other(n) => format!("family{n}"),
        }
    }
    pub fn parse(s: &str) -> Option<Family> {
        Family::ALL.into_iter().find(|f| f.name() == s)
    }
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
}
