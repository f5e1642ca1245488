//! The kernel's audit records of netfilter changes: who changed a legacy x_tables table.
//!
//! x_tables sends no netlink events, but when audit is enabled the kernel logs a
//! `NETFILTER_CFG` record for every table register / replace / unregister, followed, for the
//! same event, by the `SYSCALL` (pid, ppid, exe), `PROCTITLE` (argv) and `EOE` records. Without
//! an audit daemon as well as with one, kauditd sends a copy of each record to the
//! `AUDIT_NLGRP_READLOG` multicast group of `NETLINK_AUDIT` sockets in the **initial** network
//! namespace (binding needs `CAP_AUDIT_READ`). [`AuditSocket`] is that listener; [`Assembler`]
//! groups the records of one event into [`NetfilterRecord`]s.
//!
//! The records carry no network namespace. When a record arrives the writer is usually still
//! running (iptables-legacy adds counters and exits after the replace), so the assembler looks
//! it up in `/proc` at once (exe, cmdline, cgroup, and its network namespace): the watcher uses
//! that to set aside a record from another namespace.
//!
//! This module only reads: it never changes the audit configuration (see `nfscope_tests::audit`
//! for the tests' guard that enables audit and restores it).

use crate::error::{Error, Result};
use crate::process::ProcessInfo;
use neli::consts::socket::{Msg, NlFamily};
use neli::socket::NlSocket;
use neli::utils::Groups;
use nfscope_wire::audit::{self as wa, AuditRecord, NetfilterCfg, NfcfgOp, Stamp, Syscall};
use nfscope_wire::nl::{self, MessageBuilder, Messages};
use serde::Serialize;
use std::collections::VecDeque;
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

/// How long the records of one event are waited for after its first `NETFILTER_CFG` when no
/// `EOE` closes it (a kworker's unregister has no syscall records).
pub const EVENT_WAIT: Duration = Duration::from_millis(50);
/// Events assembled at once; past this the oldest is closed early.
const MAX_PENDING: usize = 1024;
/// `NETFILTER_CFG` records kept per event (nf_tables logs one per table and operation).
const MAX_CFGS: usize = 256;

/// A network namespace's identity: the (device, inode) of its nsfs file.
pub type NsId = (u64, u64);

/// The namespace `path` (`/proc/PID/ns/net`, `/run/netns/NAME`) refers to.
pub fn ns_id(path: &std::path::Path) -> Option<NsId> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Is the calling thread in the initial network namespace (the one pid 1 is in)? `None` when
/// pid 1's namespace cannot be read.
pub fn in_initial_netns() -> Option<bool> {
    let init = ns_id(std::path::Path::new("/proc/1/ns/net"))?;
    let me = ns_id(std::path::Path::new("/proc/thread-self/ns/net"))?;
    Some(init == me)
}

/// Counters of what the listener read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AuditStats {
    pub datagrams: u64,
    pub records: u64,
    /// Records (or datagrams) that did not parse: ignored.
    pub malformed: u64,
    /// Receive buffer overruns (`ENOBUFS`): records were lost, so some legacy changes may be
    /// reported without a writer (the changes themselves are still found by polling).
    pub overruns: u64,
    /// `NETFILTER_CFG` records assembled.
    pub netfilter: u64,
    /// Events closed by a timeout or by the pending limit rather than by `EOE`.
    pub incomplete: u64,
}

/// A socket bound to `AUDIT_NLGRP_READLOG`, non-blocking.
pub struct AuditSocket {
    sock: NlSocket,
    buf: Vec<u8>,
    pub stats: AuditStats,
}

impl AuditSocket {
    /// Open the listener in the calling thread's network namespace, which must be the initial
    /// one (the kernel multicasts audit records only there).
    pub fn open() -> Result<AuditSocket> {
        if in_initial_netns() == Some(false) {
            return Err(Error::io(
                "listen for audit records",
                std::io::Error::other(
                    "not in the initial network namespace (the kernel delivers audit records only there)",
                ),
            ));
        }
        let sock = NlSocket::connect(
            NlFamily::Audit,
            None,
            Groups::new_groups(&[wa::AUDIT_NLGRP_READLOG]),
        )
        .map_err(|e| {
            Error::io(
                "listen for audit records (NETLINK_AUDIT, group readlog; needs CAP_AUDIT_READ)",
                e,
            )
        })?;
        sock.nonblock()
            .map_err(|e| Error::io("audit socket: O_NONBLOCK", e))?;
        // A burst of changes makes four records each; a larger buffer loses fewer (best effort).
        let size: libc::c_int = 4 << 20;
        // SAFETY: setsockopt on our own valid fd with a pointer to a c_int and its size.
        unsafe {
            libc::setsockopt(
                sock.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVBUFFORCE,
                &size as *const libc::c_int as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        Ok(AuditSocket {
            sock,
            buf: vec![0; 64 * 1024],
            stats: AuditStats::default(),
        })
    }

    pub fn fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }

    /// The next datagram, or `None` when none is waiting. Overruns are counted and skipped.
    pub fn recv(&mut self) -> Result<Option<&[u8]>> {
        loop {
            match self.sock.recv(&mut self.buf[..], Msg::DONTWAIT) {
                Ok((n, _)) => {
                    self.stats.datagrams += 1;
                    return Ok(Some(&self.buf[..n.min(self.buf.len())]));
                }
                Err(e) => match e.raw_os_error() {
                    Some(libc::EINTR) => continue,
                    Some(libc::ENOBUFS) => {
                        self.stats.overruns += 1;
                        continue;
                    }
                    _ if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(None),
                    _ => return Err(Error::io("receive audit records", e)),
                },
            }
        }
    }
}

/// The kernel's audit status (`AUDIT_GET`; needs `CAP_AUDIT_CONTROL`).
pub fn status() -> Result<wa::Status> {
    let op = "audit status (AUDIT_GET)";
    let sock =
        NlSocket::connect(NlFamily::Audit, None, Groups::empty()).map_err(|e| Error::io(op, e))?;
    let tv = libc::timeval {
        tv_sec: 2,
        tv_usec: 0,
    };
    // SAFETY: setsockopt on our own valid fd with a pointer to a timeval and its size.
    unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            &tv as *const libc::timeval as *const libc::c_void,
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    let mut req = Vec::new();
    MessageBuilder::new(&mut req, wa::AUDIT_GET, nl::NLM_F_REQUEST, 1).finish();
    sock.send(&req, Msg::empty())
        .map_err(|e| Error::io(format!("{op}: send"), e))?;
    let mut buf = vec![0u8; 8192];
    loop {
        let (n, _) = sock
            .recv(&mut buf[..], Msg::empty())
            .map_err(|e| Error::io(format!("{op}: recv"), e))?;
        for m in Messages::new(&buf[..n.min(buf.len())]) {
            let m = m.map_err(|e| Error::decode(op, e))?;
            m.check_error().map_err(|e| Error::decode(op, e))?;
            if m.ty == wa::AUDIT_GET {
                return wa::Status::parse(m.payload).map_err(|e| Error::decode(op, e));
            }
        }
    }
}

/// One x_tables (or nf_tables) configuration change as the audit records tell it: the
/// `NETFILTER_CFG` record with the `SYSCALL` and `PROCTITLE` records of the same event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetfilterRecord {
    pub serial: u64,
    pub time_unix_ms: u64,
    /// `SECONDS.MILLIS:SERIAL` (`ausearch --event SERIAL`).
    pub id: String,
    pub table: String,
    /// `NFPROTO_*`: 2 ip, 10 ip6, 3 arp, 7 bridge.
    pub family: u8,
    /// Entries in the table before the operation.
    pub entries: Option<u32>,
    #[serde(serialize_with = "op_str")]
    pub op: NfcfgOp,
    pub pid: u32,
    pub comm: String,
    pub ppid: Option<u32>,
    pub uid: Option<u32>,
    pub auid: Option<u32>,
    /// From the `SYSCALL` record.
    pub exe: Option<String>,
    /// From the `PROCTITLE` record (the kernel cuts it at 128 bytes).
    pub cmdline: Option<Vec<String>>,
    /// The process as `/proc` showed it when the record arrived (`None`: already gone, or not
    /// looked up).
    #[serde(skip)]
    pub live: Option<ProcessInfo>,
    /// Its network namespace then.
    #[serde(skip)]
    pub netns: Option<NsId>,
}

fn op_str<S: serde::Serializer>(op: &NfcfgOp, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(op.as_str())
}

impl NetfilterRecord {
    /// The family as the watch records name it (`ip`, `ip6`, `arp`, `bridge`).
    pub fn family_name(&self) -> Option<&'static str> {
        Self::name_of(self.family)
    }

    fn name_of(family: u8) -> Option<&'static str> {
        match family {
            2 => Some("ip"),
            10 => Some("ip6"),
            3 => Some("arp"),
            7 => Some("bridge"),
            _ => None,
        }
    }

    /// The writer: `/proc`'s view when it was alive at the record's arrival, completed by the
    /// record's exe and cmdline (which also stand alone for a process already gone).
    pub fn process(&self) -> ProcessInfo {
        let mut p = self.live.clone().unwrap_or_else(|| ProcessInfo {
            pid: self.pid,
            comm: self.comm.clone(),
            gone: true,
            ..Default::default()
        });
        if p.exe.is_none() {
            p.exe = self.exe.clone();
        }
        if p.cmdline.as_ref().is_none_or(|c| c.is_empty()) {
            p.cmdline = self.cmdline.clone();
        }
        p
    }
}

/// A `NETFILTER_CFG` record with what `/proc` said when it arrived.
type Cfg = (NetfilterCfg, Option<ProcessInfo>, Option<NsId>);

struct Pending {
    stamp: Stamp,
    since: Instant,
    cfgs: Vec<Cfg>,
    syscall: Option<Syscall>,
    title: Option<Vec<String>>,
}

/// Groups the records of each audit event that holds `NETFILTER_CFG` records and yields them
/// as [`NetfilterRecord`]s when the event's `EOE` arrives (or [`EVENT_WAIT`] after its first
/// record). Records of other events are counted and dropped; malformed ones are counted and
/// ignored.
pub struct Assembler {
    pending: VecDeque<Pending>,
    lookup: bool,
    pub stats: AuditStats,
}

impl Assembler {
    /// `lookup`: look each x_tables writer up in `/proc` as its record arrives.
    pub fn new(lookup: bool) -> Assembler {
        Assembler {
            pending: VecDeque::new(),
            lookup,
            stats: AuditStats::default(),
        }
    }

    /// Feed one datagram; returns the events it completed.
    pub fn feed(&mut self, datagram: &[u8], now: Instant) -> Vec<NetfilterRecord> {
        let mut out = Vec::new();
        self.stats.datagrams += 1;
        for m in Messages::new(datagram) {
            let Ok(m) = m else {
                self.stats.malformed += 1;
                break;
            };
            if m.ty < 0x10 {
                continue; // NLMSG_NOOP / ERROR / DONE
            }
            self.stats.records += 1;
            let rec = match AuditRecord::parse(m.ty, m.payload) {
                Ok(r) => r,
                Err(_) => {
                    self.stats.malformed += 1;
                    continue;
                }
            };
            let stamp = rec.stamp();
            let at = self.pending.iter().position(|p| p.stamp == stamp);
            match rec {
                AuditRecord::NetfilterCfg(c) => {
                    self.stats.netfilter += 1;
                    let seen = if self.lookup && c.op.is_xt() {
                        look_up(&c)
                    } else {
                        (None, None)
                    };
                    let i = match at {
                        Some(i) => i,
                        None => {
                            if self.pending.len() >= MAX_PENDING {
                                if let Some(p) = self.pending.pop_front() {
                                    self.stats.incomplete += 1;
                                    out.extend(finish(p));
                                }
                            }
                            self.pending.push_back(Pending {
                                stamp,
                                since: now,
                                cfgs: Vec::new(),
                                syscall: None,
                                title: None,
                            });
                            self.pending.len() - 1
                        }
                    };
                    if self.pending[i].cfgs.len() < MAX_CFGS {
                        self.pending[i].cfgs.push((c, seen.0, seen.1));
                    }
                }
                AuditRecord::Syscall(_, s) => {
                    if let Some(i) = at {
                        self.pending[i].syscall = Some(s);
                    }
                }
                AuditRecord::Proctitle(_, t) => {
                    if let Some(i) = at {
                        self.pending[i].title = Some(t);
                    }
                }
                AuditRecord::Eoe(_) => {
                    if let Some(p) = at.and_then(|i| self.pending.remove(i)) {
                        out.extend(finish(p));
                    }
                }
                AuditRecord::Other(..) => {}
            }
        }
        out
    }

    /// Close the events whose [`EVENT_WAIT`] has passed.
    pub fn expire(&mut self, now: Instant) -> Vec<NetfilterRecord> {
        let mut out = Vec::new();
        while self
            .pending
            .front()
            .is_some_and(|p| now >= p.since + EVENT_WAIT)
        {
            if let Some(p) = self.pending.pop_front() {
                self.stats.incomplete += 1;
                out.extend(finish(p));
            }
        }
        out
    }

    /// (family, table, pid) of the x_tables records whose event is still being assembled.
    pub fn in_flight(&self) -> Vec<(String, String, u32)> {
        self.pending
            .iter()
            .flat_map(|p| &p.cfgs)
            .filter(|(c, ..)| c.op.is_xt())
            .map(|(c, ..)| {
                let f = NetfilterRecord::name_of(c.family.unwrap_or(0)).unwrap_or("");
                (f.to_string(), c.table.clone(), c.pid.unwrap_or(0))
            })
            .collect()
    }

    /// When [`Assembler::expire`] next has something to close.
    pub fn deadline(&self) -> Option<Instant> {
        self.pending.front().map(|p| p.since + EVENT_WAIT)
    }
}

/// `/proc` now: the process (if it is still the one named) and its network namespace.
fn look_up(c: &NetfilterCfg) -> (Option<ProcessInfo>, Option<NsId>) {
    let (Some(pid), Some(comm)) = (c.pid, c.comm.as_deref()) else {
        return (None, None);
    };
    // The namespace first: it is what tells records of other namespaces apart.
    let ns = ns_id(
        &std::path::Path::new("/proc")
            .join(pid.to_string())
            .join("ns/net"),
    );
    let p = ProcessInfo::lookup(pid, comm);
    if p.gone {
        return (None, None);
    }
    (Some(p), ns)
}

fn finish(p: Pending) -> Vec<NetfilterRecord> {
    let Pending {
        stamp,
        cfgs,
        syscall,
        title,
        ..
    } = p;
    let sc = syscall.unwrap_or_default();
    cfgs.into_iter()
        .map(|(c, live, netns)| NetfilterRecord {
            serial: stamp.serial,
            time_unix_ms: stamp.unix_ms(),
            id: stamp.id(),
            table: c.table,
            family: c.family.unwrap_or(0),
            entries: c.entries,
            op: c.op,
            pid: c.pid.or(sc.pid).unwrap_or(0),
            comm: c.comm.or_else(|| sc.comm.clone()).unwrap_or_default(),
            ppid: sc.ppid,
            uid: sc.uid,
            auid: sc.auid,
            exe: sc.exe.clone(),
            cmdline: title.clone().filter(|t| !t.is_empty()),
            live,
            netns,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(ty: u16, text: &str) -> Vec<u8> {
        let mut b = Vec::new();
        let mut m = MessageBuilder::new(&mut b, ty, 0, 0);
        m.bytes(text.as_bytes());
        m.finish();
        b.resize(nl::align(b.len()), 0);
        b
    }

    // The records of `ip netns exec aprobe2 iptables-legacy -A INPUT -j ACCEPT` (serial 7, the
    // replace) and of `ip netns del aprobe2` (a kworker's unregister, no syscall records),
    // captured on kernel 6.18 from AUDIT_NLGRP_READLOG.
    const EVENT_7: [(u16, &str); 4] = [
        (1325, r#"audit(1795326504.541:7): table=filter family=2 entries=4 op=xt_replace pid=24770 comm="iptables-legacy""#),
        (1300, r#"audit(1795326504.541:7): arch=c000003e syscall=54 success=yes exit=0 a0=4 a1=0 a2=40 a3=56469322f980 items=0 ppid=24768 pid=24770 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="iptables-legacy" exe="/usr/sbin/xtables-legacy-multi" key=(null)"#),
        (1327, "audit(1795326504.541:7): proctitle=69707461626C65732D6C6567616379002D4100494E505554002D6A00414343455054"),
        (1320, "audit(1795326504.541:7): "),
    ];
    const KWORKER: &str = r#"audit(1795326504.613:16): table=filter family=2 entries=8 op=xt_unregister pid=24360 comm="kworker/u8:3""#;

    #[test]
    fn an_event_is_assembled_at_its_eoe() {
        let mut a = Assembler::new(false);
        let t = Instant::now();
        for (i, (ty, text)) in EVENT_7.iter().enumerate() {
            let out = a.feed(&msg(*ty, text), t);
            if i < 3 {
                assert!(out.is_empty(), "closed before EOE at {i}");
                continue;
            }
            assert_eq!(out.len(), 1);
            let r = &out[0];
            assert_eq!(
                (
                    r.serial,
                    r.id.as_str(),
                    r.table.as_str(),
                    r.family,
                    r.entries
                ),
                (7, "1795326504.541:7", "filter", 2, Some(4))
            );
            assert_eq!(
                (r.op.as_str(), r.pid, r.comm.as_str()),
                ("xt_replace", 24770, "iptables-legacy")
            );
            assert_eq!(r.ppid, Some(24768));
            assert_eq!(r.exe.as_deref(), Some("/usr/sbin/xtables-legacy-multi"));
            assert_eq!(
                r.cmdline.as_deref(),
                Some(&["iptables-legacy", "-A", "INPUT", "-j", "ACCEPT"].map(String::from)[..])
            );
            assert_eq!(r.family_name(), Some("ip"));
            let p = r.process();
            assert!(p.gone);
            assert_eq!(p.exe.as_deref(), Some("/usr/sbin/xtables-legacy-multi"));
            assert_eq!(p.cmdline.as_ref().map(Vec::len), Some(5));
        }
        assert_eq!(a.deadline(), None);
        assert_eq!(a.stats.netfilter, 1);
    }

    #[test]
    fn several_records_in_one_datagram_and_events_without_eoe() {
        let mut a = Assembler::new(false);
        let t = Instant::now();
        let mut dg = msg(1325, KWORKER);
        dg.extend(msg(
            1335,
            "audit(1795326504.613:17): pid=1 uid=0 op=connect",
        ));
        assert!(a.feed(&dg, t).is_empty());
        assert_eq!(a.deadline(), Some(t + EVENT_WAIT));
        assert!(a.expire(t + EVENT_WAIT / 2).is_empty());
        let out = a.expire(t + EVENT_WAIT);
        assert_eq!(out.len(), 1);
        assert_eq!(
            (
                out[0].op.as_str(),
                out[0].comm.as_str(),
                out[0].exe.as_deref()
            ),
            ("xt_unregister", "kworker/u8:3", None)
        );
        assert_eq!(a.stats.incomplete, 1);
    }

    #[test]
    fn malformed_input_is_counted_never_fatal() {
        let mut a = Assembler::new(false);
        let t = Instant::now();
        // Garbage text, a NETFILTER_CFG without table, a truncated header, an EOE and SYSCALL
        // of events never opened.
        assert!(a.feed(&msg(1325, "garbage"), t).is_empty());
        assert!(a.feed(&msg(1325, "audit(1.2:3): family=2"), t).is_empty());
        assert!(a.feed(&[1, 2, 3], t).is_empty());
        assert!(a.feed(&msg(1320, "audit(1.2:4): "), t).is_empty());
        assert!(a.feed(&msg(1300, EVENT_7[1].1), t).is_empty());
        assert_eq!(a.stats.malformed, 3);
        assert_eq!(a.deadline(), None);
        // Arbitrary bytes.
        let mut x: u32 = 12345;
        for n in 0..2000 {
            let mut b = Vec::with_capacity(n % 300);
            for _ in 0..n % 300 {
                x = x.wrapping_mul(1103515245).wrapping_add(12345);
                b.push((x >> 16) as u8);
            }
            let mut framed = msg(1325 + (n % 3) as u16, "audit(9.9:9): table=");
            framed.extend(&b);
            let _ = a.feed(&b, t);
            let _ = a.feed(&framed, t);
        }
        let _ = a.expire(t + EVENT_WAIT);
    }

    #[test]
    fn a_live_writer_is_looked_up_with_its_namespace() {
        let me = std::process::id();
        let comm = std::fs::read_to_string(format!("/proc/{me}/comm")).unwrap_or_default();
        let text = format!(
            "audit(1.000:1): table=filter family=2 entries=4 op=xt_replace pid={me} comm=\"{}\"",
            comm.trim_end()
        );
        let mut a = Assembler::new(true);
        let t = Instant::now();
        a.feed(&msg(1325, &text), t);
        let out = a.feed(&msg(1320, "audit(1.000:1): "), t);
        assert_eq!(out.len(), 1);
        let p = out[0].process();
        assert!(!p.gone);
        assert!(p.exe.is_some());
        assert_eq!(
            out[0].netns,
            ns_id(std::path::Path::new("/proc/self/ns/net"))
        );
    }
}
