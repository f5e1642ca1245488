//! Reading legacy x_tables (iptables-legacy, ip6tables-legacy, arptables-legacy) from the kernel.
//!
//! For each family the tables that exist are listed in `/proc/net/{ip,ip6,arp}_tables_names`;
//! each listed table is read with `*_SO_GET_INFO` then `*_SO_GET_ENTRIES` on a raw socket and
//! walked by [`nfscope_wire::xt::entry`].
//!
//! Invariant: **only listed tables are ever named.** Asking the kernel for an unlisted table
//! (even a bare `GET_INFO`) makes it load and instantiate that table in the namespace, with
//! live ACCEPT policies and counters; an inspector must change nothing.
//!
//! A table replaced between `GET_INFO` and `GET_ENTRIES` makes the kernel answer `EAGAIN` (size
//! changed); a replacement of the same size is caught by re-reading `GET_INFO` afterwards. Both
//! retry, a bounded number of times. (A same-size replacement in between that leaves the same
//! getinfo is still caught by the walker: base-chain policies must be unconditional.)
//!
//! Rendering: ip/ip6 tables as `iptables-legacy-save` prints them
//! ([`crate::render::iptables`]), arp tables as `arptables-legacy-save` does
//! ([`crate::render::arptables`]).
//!
//! # ebtables: not read, on purpose
//!
//! Legacy ebtables (`EBT_SO_GET_INFO` / `EBT_SO_GET_ENTRIES`, `EBT_BASE_CTL` = 128 at `SOL_IP`)
//! cannot be inspected without side effects, so nothing here asks for it:
//! - No list of existing tables: ebtables is not built on x_tables and has no
//!   `/proc/net/*_tables_names`; the kernel keeps its tables in a per-netns list it exposes only
//!   through the getsockopts.
//! - Asking instantiates: every `EBT_SO_GET_*` goes `do_ebt_get_ctl()` → `find_table_lock()` →
//!   `find_inlist_lock_noload()` (net/bridge/netfilter/ebtables.c). Since Linux 5.15 ("netfilter:
//!   ebtables: do not hook tables by default") `ebtable_filter` / `_nat` / `_broute` register only a
//!   template; a name not yet in the namespace's list but matching a template makes the kernel call
//!   its `table_init(net)`, which registers the table *and its netfilter hooks* in that namespace
//!   (from then on every bridged frame traverses it; a table is never removed before the namespace
//!   dies). A name matching no template triggers `request_module("ebtable_NAME")`, a module load
//!   on the host.
//! - The only other witness of an instantiated table is its hooks, listed by nfnetlink_hook
//!   (`nft list hooks`, `CONFIG_NETFILTER_NETLINK_HOOK`), which is optional; where it is absent
//!   (as on the 6.18 test machine) there is no way to know which names are safe to ask.
//! - Observed on the test machine (6.18, `nomodule`): `CONFIG_BRIDGE_NF_EBTABLES_LEGACY` is not set
//!   (since 6.x the legacy ebtables core, `ebtables.o`, is built only with it; the ebt_* matches and
//!   targets are still built, for ebtables-nft through nft_compat), so `EBT_SO_GET_INFO` on
//!   `filter`, `nat` and `broute` answers `ENOPROTOOPT` in any namespace, and
//!   `ebtables-legacy -L` prints "The kernel doesn't support the ebtables 'filter' table."
//!
//! ebtables-nft rules are nf_tables rules of the bridge family and are read like any other.
//! `tests/tests/legacy.rs` (`dump_never_asks_for_an_ebtables_table`) checks with strace that no
//! command asks for anything but the listed ip/ip6/arp tables.
//!
//! Entry points: [`read_all`] / [`read_all_in_netns`] (typed tables, plus ipset names when
//! rules use sets), [`read_table`], [`read_raw`] (golden captures), [`signatures`] (a cheap,
//! counter-independent fingerprint per table for polling: legacy tables send no events).
//! `/proc/thread-self/net` is read, not `/proc/net`, so that a thread that entered another
//! namespace with `setns` lists that namespace's tables.

use crate::error::{Error, Result};
use nfscope_wire::xt::entry::{Family, Info, Table, GET_ENTRIES_HEADER_LEN, TABLE_MAXNAMELEN};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// `IPT_SO_GET_INFO` / `IP6T_SO_GET_INFO` (`IPT_BASE_CTL` = 64) and `*_GET_ENTRIES`.
const IPT_SO_GET_INFO: libc::c_int = 64;
const IPT_SO_GET_ENTRIES: libc::c_int = 65;
/// `ARPT_SO_GET_INFO` (`ARPT_BASE_CTL` = 96) and `ARPT_SO_GET_ENTRIES`, on an AF_INET socket.
const ARPT_SO_GET_INFO: libc::c_int = 96;
const ARPT_SO_GET_ENTRIES: libc::c_int = 97;

/// How many times a table that keeps changing under us is re-read before giving up.
pub const MAX_ATTEMPTS: u32 = 20;

/// Every legacy table of every family, in the order the kernel lists them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LegacyRuleset {
    pub tables: Vec<Table>,
    /// ipset names by index, read in the same namespace when some rule uses `-m set` or
    /// `-j SET` (payloads hold only the index; iptables-save asks the kernel the same way).
    pub ipsets: BTreeMap<u16, String>,
}

impl LegacyRuleset {
    /// The tables of one family, in `/proc` order (the order `*-legacy-save` prints them).
    pub fn family(&self, family: Family) -> impl Iterator<Item = &Table> {
        self.tables.iter().filter(move |t| t.family == family)
    }
    pub fn is_empty(&self) -> bool {
        self.tables.is_empty()
    }
}

/// The `/proc` file listing a family's existing tables, for the calling *thread*'s network
/// namespace: `/proc/net` is `/proc/self/net`, which follows the process's main thread, not a
/// thread that entered another namespace with `setns`.
pub fn names_file(family: Family) -> &'static str {
    match family {
        Family::Ipv4 => "/proc/thread-self/net/ip_tables_names",
        Family::Ipv6 => "/proc/thread-self/net/ip6_tables_names",
        Family::Arp => "/proc/thread-self/net/arp_tables_names",
    }
}

/// The tables that exist for `family` in this thread's network namespace. A missing file
/// (module not loaded) means no tables.
pub fn table_names(family: Family) -> Result<Vec<String>> {
    let path = names_file(family);
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(s
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(Error::io(format!("read {path}"), e)),
    }
}

/// Read every listed table of every family (ip, ip6, arp) in the current network namespace.
pub fn read_all() -> Result<LegacyRuleset> {
    let mut rs = LegacyRuleset::default();
    for family in [Family::Ipv4, Family::Ipv6, Family::Arp] {
        rs.tables.extend(read_family(family)?);
    }
    // Noted while the entries were checked: no rule is decoded for this.
    let uses_sets = rs.tables.iter().any(|t| t.names_ipsets);
    if uses_sets {
        rs.ipsets = ipset_names();
    }
    Ok(rs)
}

/// [`read_all`] inside the named network namespace (`ip netns` name or a path).
pub fn read_all_in_netns(netns: &str) -> Result<LegacyRuleset> {
    crate::netns::run_in(netns, read_all)?
}

/// Read every listed table of one family.
pub fn read_family(family: Family) -> Result<Vec<Table>> {
    let names = table_names(family)?;
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let sock = Socket::open(family)?;
    names
        .iter()
        .map(|n| read_listed_table(&sock, family, n))
        .collect()
}

/// Read one table, which must be listed in [`names_file`]: an unlisted name is refused here
/// rather than created in the kernel.
pub fn read_table(family: Family, name: &str) -> Result<Table> {
    ensure_listed(family, name)?;
    let sock = Socket::open(family)?;
    read_listed_table(&sock, family, name)
}

fn read_listed_table(sock: &Socket, family: Family, name: &str) -> Result<Table> {
    let (info, blob) = read_listed_raw(sock, family, name)?;
    table_from_raw(family, &info, blob)
}

/// A table from its raw answers, as [`read_raw`] returns them (the `*_SO_GET_INFO` bytes and
/// the whole `*_SO_GET_ENTRIES` answer): what [`read_table`] does after reading, without a
/// socket. For captured tables (tests/corpus/captures); truncated or malformed bytes are an
/// [`Error::Decode`].
pub fn table_from_raw(family: Family, info: &[u8], entries: Vec<u8>) -> Result<Table> {
    let label = family_label(family);
    let info =
        Info::parse(family, info).map_err(|e| Error::decode(format!("GET_INFO {label}"), e))?;
    let op = format!("GET_ENTRIES {label}/{}", info.name);
    Table::parse_owned(family, &info, entries).map_err(|e| Error::decode(op, e))
}

/// The raw answers for one listed table: the `*_getinfo` bytes and the whole
/// `*_get_entries` answer (header included), consistent with each other. For golden tests and
/// captures; [`read_table`] is the typed way.
pub fn read_raw(family: Family, name: &str) -> Result<(Vec<u8>, Vec<u8>)> {
    ensure_listed(family, name)?;
    let sock = Socket::open(family)?;
    read_listed_raw(&sock, family, name)
}

fn ensure_listed(family: Family, name: &str) -> Result<()> {
    if table_names(family)?.iter().any(|n| n == name) {
        return Ok(());
    }
    Err(Error::Io {
        op: format!("read legacy table {name}"),
        error: io::Error::new(
            io::ErrorKind::NotFound,
            format!(
                "not listed in {} (reading it would create it)",
                names_file(family)
            ),
        ),
    })
}

fn read_listed_raw(sock: &Socket, family: Family, name: &str) -> Result<(Vec<u8>, Vec<u8>)> {
    if name.len() >= TABLE_MAXNAMELEN {
        return Err(Error::decode(
            format!("table {name}"),
            nfscope_wire::Error::invalid("table name longer than XT_TABLE_MAXNAMELEN"),
        ));
    }
    let op = |what: &str| format!("{what} {}/{name}", family_label(family));
    for _ in 0..MAX_ATTEMPTS {
        let raw_info = sock
            .get_info(name)
            .map_err(|e| Error::io(op("GET_INFO"), e))?;
        let info = Info::parse(family, &raw_info).map_err(|e| Error::decode(op("GET_INFO"), e))?;
        let blob = match sock.get_entries(name, info.size) {
            Ok(b) => b,
            // Replaced with a different size in between: the kernel refuses, try again.
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) => continue,
            Err(e) => return Err(Error::io(op("GET_ENTRIES"), e)),
        };
        // Same-size replacement between the two calls: the entries would not match `info`.
        let again = sock
            .get_info(name)
            .map_err(|e| Error::io(op("GET_INFO"), e))?;
        if again != raw_info {
            continue;
        }
        return Ok((raw_info, blob));
    }
    Err(Error::Inconsistent {
        attempts: MAX_ATTEMPTS,
    })
}

fn family_label(f: Family) -> &'static str {
    match f {
        Family::Ipv4 => "ip",
        Family::Ipv6 => "ip6",
        Family::Arp => "arp",
    }
}

/// A raw socket to ask x_tables getsockopts on.
struct Socket {
    fd: OwnedFd,
    level: libc::c_int,
    get_info: libc::c_int,
    get_entries: libc::c_int,
}

impl Socket {
    fn open(family: Family) -> Result<Socket> {
        // arp_tables' sockopts live on AF_INET sockets at SOL_IP (see arptables' libarptc).
        let (af, level, get_info, get_entries) = match family {
            Family::Ipv4 => (
                libc::AF_INET,
                libc::SOL_IP,
                IPT_SO_GET_INFO,
                IPT_SO_GET_ENTRIES,
            ),
            Family::Ipv6 => (
                libc::AF_INET6,
                libc::SOL_IPV6,
                IPT_SO_GET_INFO,
                IPT_SO_GET_ENTRIES,
            ),
            Family::Arp => (
                libc::AF_INET,
                libc::SOL_IP,
                ARPT_SO_GET_INFO,
                ARPT_SO_GET_ENTRIES,
            ),
        };
        // SAFETY: plain socket(2) call; the returned fd is checked and owned below.
        let fd =
            unsafe { libc::socket(af, libc::SOCK_RAW | libc::SOCK_CLOEXEC, libc::IPPROTO_RAW) };
        if fd < 0 {
            return Err(Error::io(
                format!("socket(SOCK_RAW) for {}", family_label(family)),
                io::Error::last_os_error(),
            ));
        }
        // SAFETY: fd is a freshly created, valid descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Socket {
            fd,
            level,
            get_info,
            get_entries,
        })
    }

    /// getsockopt into `buf` (whose start holds the request); returns the length written.
    fn getsockopt(&self, opt: libc::c_int, buf: &mut [u8]) -> io::Result<usize> {
        self.getsockopt_at(self.level, opt, buf)
    }

    fn getsockopt_at(
        &self,
        level: libc::c_int,
        opt: libc::c_int,
        buf: &mut [u8],
    ) -> io::Result<usize> {
        let mut len = libc::socklen_t::try_from(buf.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "buffer too large"))?;
        // SAFETY: buf is valid for writes of len bytes, len is updated by the kernel.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                level,
                opt,
                buf.as_mut_ptr().cast(),
                &mut len,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(len as usize)
    }

    fn get_info(&self, name: &str) -> io::Result<Vec<u8>> {
        // Large enough for ipt_getinfo (84) and arpt_getinfo (68); the kernel checks the length
        // equals its struct size, so size it per family.
        let len = if self.get_info == ARPT_SO_GET_INFO {
            Family::Arp.info_len()
        } else {
            Family::Ipv4.info_len()
        };
        let mut buf = vec![0u8; len];
        buf[..name.len()].copy_from_slice(name.as_bytes());
        let n = self.getsockopt(self.get_info, &mut buf)?;
        buf.truncate(n);
        Ok(buf)
    }

    fn get_entries(&self, name: &str, size: u32) -> io::Result<Vec<u8>> {
        let total = GET_ENTRIES_HEADER_LEN + size as usize;
        let mut buf = vec![0u8; total];
        buf[..name.len()].copy_from_slice(name.as_bytes());
        buf[32..36].copy_from_slice(&size.to_ne_bytes());
        let n = self.getsockopt(self.get_entries, &mut buf)?;
        buf.truncate(n);
        Ok(buf)
    }
}

/// What a legacy table holds, minus its counters: the `*_getinfo` answer and a hash of the
/// entries with counters zeroed. Equal signatures mean the rules did not change (up to hash
/// collisions); legacy tables send no change events, so a watcher polls these.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Signature {
    pub family: Family,
    pub table: String,
    pub num_entries: u32,
    pub size: u32,
    pub hash: u64,
}

/// The [`Signature`] of every listed table of every family in this thread's namespace. Costs
/// one `GET_ENTRIES` copy per table (about 0.2 s for a 48 MB table of 80,000 rules).
pub fn signatures() -> Result<Vec<Signature>> {
    use std::hash::{Hash, Hasher};
    let mut out = Vec::new();
    for family in [Family::Ipv4, Family::Ipv6, Family::Arp] {
        let names = table_names(family)?;
        if names.is_empty() {
            continue;
        }
        let sock = Socket::open(family)?;
        for name in names {
            let (raw_info, mut blob) = read_listed_raw(&sock, family, &name)?;
            let op = format!("GET_ENTRIES {}/{name}", family_label(family));
            let info = Info::parse(family, &raw_info).map_err(|e| Error::decode(&op, e))?;
            nfscope_wire::xt::entry::zero_counters(family, &mut blob)
                .map_err(|e| Error::decode(&op, e))?;
            let mut h = std::collections::hash_map::DefaultHasher::new();
            raw_info.hash(&mut h);
            blob.hash(&mut h);
            out.push(Signature {
                family,
                table: name,
                num_entries: info.num_entries,
                size: info.size,
                hash: h.finish(),
            });
        }
    }
    Ok(out)
}

/// [`signatures`] inside the named network namespace.
pub fn signatures_in_netns(netns: &str) -> Result<Vec<Signature>> {
    crate::netns::run_in(netns, signatures)?
}

/// `SO_IP_SET` and its ops (`linux/netfilter/ipset/ip_set.h`).
const SO_IP_SET: libc::c_int = 83;
const IP_SET_OP_GET_BYINDEX: u32 = 0x7;
const IP_SET_OP_VERSION: u32 = 0x100;

/// All ipset names of this thread's namespace by index, best effort (empty when ipset is not
/// available). `struct ip_set_req_get_set { u32 op; u32 version; union { char name[32];
/// u16 index; } }` (40 bytes): `GET_BYINDEX` answers an empty name for a free slot and
/// `ENOENT` past the last slot, so the walk ends by itself.
pub fn ipset_names() -> BTreeMap<u16, String> {
    let mut out = BTreeMap::new();
    let Ok(sock) = Socket::open(Family::Ipv4) else {
        return out;
    };
    // struct ip_set_req_version { u32 op; u32 version; }: the kernel wants the exact size.
    let mut req = [0u8; 8];
    req[..4].copy_from_slice(&IP_SET_OP_VERSION.to_ne_bytes());
    let version = match sock.getsockopt_at(libc::SOL_IP, SO_IP_SET, &mut req) {
        Ok(n) if n >= 8 => u32::from_ne_bytes([req[4], req[5], req[6], req[7]]),
        _ => return out,
    };
    for index in 0..=u16::MAX {
        let mut req = [0u8; 40];
        req[..4].copy_from_slice(&IP_SET_OP_GET_BYINDEX.to_ne_bytes());
        req[4..8].copy_from_slice(&version.to_ne_bytes());
        req[8..10].copy_from_slice(&index.to_ne_bytes());
        match sock.getsockopt_at(libc::SOL_IP, SO_IP_SET, &mut req) {
            Ok(_) => {
                let name = &req[8..];
                let end = name.iter().position(|&c| c == 0).unwrap_or(name.len());
                if end > 0 {
                    out.insert(index, String::from_utf8_lossy(&name[..end]).into_owned());
                }
            }
            Err(_) => break,
        }
    }
    out
}
