//! Kernel audit records (`NETLINK_AUDIT`): the text of the records a legacy x_tables change
//! produces, and `struct audit_status` (`AUDIT_GET` / `AUDIT_SET`).
//!
//! Each record is one netlink message whose type is the record type and whose payload is text
//! (sometimes NUL-terminated):
//!
//! ```text
//! 1325 NETFILTER_CFG  audit(1795326504.541:7): table=filter family=2 entries=4 op=xt_replace pid=24770 comm="iptables-legacy"
//! 1300 SYSCALL        audit(1795326504.541:7): arch=c000003e syscall=54 success=yes ... ppid=24768 pid=24770 ... comm="iptables-legacy" exe="/usr/sbin/xtables-legacy-multi" key=(null)
//! 1327 PROCTITLE      audit(1795326504.541:7): proctitle=69707461626C65732D6C6567616379002D4100494E505554002D6A00414343455054
//! 1320 EOE            audit(1795326504.541:7):
//! ```
//!
//! `audit(SECONDS.MILLIS:SERIAL)` names the event; every record of one event shares it. The
//! kernel writes strings a user controls (`comm`, `exe`, `proctitle`) "untrusted": in double
//! quotes when they hold only printable characters other than space and `"`, else as upper-case
//! hex of their bytes; `(null)` or `?` when absent. For `NETFILTER_CFG`, `entries` is the number
//! of entries the table held *before* the operation (0 for `xt_register`).
//!
//! Nothing here panics on input: a record that does not parse is an [`Error`], a field that is
//! missing or does not parse is `None`.

use crate::error::{Error, Result};

/// `AUDIT_GET`: ask the kernel for its `struct audit_status`.
pub const AUDIT_GET: u16 = 1000;
/// `AUDIT_SET`: change the fields of `struct audit_status` named by its mask.
pub const AUDIT_SET: u16 = 1001;
/// A system call's record (pid, ppid, comm, exe, uids...).
pub const SYSCALL: u16 = 1300;
/// End of a multi-record event.
pub const EOE: u16 = 1320;
/// A netfilter configuration change (x_tables table register / replace / unregister, nf_tables
/// objects).
pub const NETFILTER_CFG: u16 = 1325;
/// The process's command line (argv joined by NUL, at most 128 bytes).
pub const PROCTITLE: u16 = 1327;
/// The multicast group that receives a copy of every record (needs `CAP_AUDIT_READ`).
pub const AUDIT_NLGRP_READLOG: u32 = 1;
/// `AUDIT_STATUS_ENABLED`: the `enabled` field of `struct audit_status` is being set.
pub const AUDIT_STATUS_ENABLED: u32 = 1;

/// `audit(SECONDS.MILLIS:SERIAL)`: when the event happened (wall clock) and its serial number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Stamp {
    pub sec: u64,
    pub msec: u32,
    pub serial: u64,
}

impl Stamp {
    /// Milliseconds since the Unix epoch.
    pub fn unix_ms(&self) -> u64 {
        self.sec
            .saturating_mul(1000)
            .saturating_add(self.msec as u64)
    }
    /// `SECONDS.MILLIS:SERIAL`, as `ausearch --event` and the audit log print it.
    pub fn id(&self) -> String {
        format!("{}.{:03}:{}", self.sec, self.msec, self.serial)
    }
}

/// The record's text: UTF-8 (lossy: the kernel hex-encodes untrusted strings, but an nf_tables
/// table name is printed raw), without trailing NULs and line ends.
pub fn text(payload: &[u8]) -> String {
    let end = payload
        .iter()
        .rposition(|&c| c != 0 && c != b'\n')
        .map_or(0, |i| i + 1);
    String::from_utf8_lossy(&payload[..end]).into_owned()
}

/// Split `audit(S.MS:SERIAL): rest` into the stamp and the rest.
pub fn parse_stamp(text: &str) -> Result<(Stamp, &str)> {
    let bad = |why: &str| Error::invalid(format!("{why} in {:?}", clip(text))).context("audit");
    let rest = text
        .strip_prefix("audit(")
        .ok_or_else(|| bad("no audit( prefix"))?;
    let close = rest
        .find(')')
        .ok_or_else(|| bad("no closing parenthesis"))?;
    let inner = &rest[..close];
    let (time, serial) = inner
        .split_once(':')
        .ok_or_else(|| bad("no serial in the stamp"))?;
    let (sec, msec) = time.split_once('.').unwrap_or((time, "0"));
    let num = |s: &str| s.parse::<u64>().ok();
    let (Some(sec), Some(msec), Some(serial)) = (num(sec), num(msec), num(serial)) else {
        return Err(bad("stamp is not numeric"));
    };
    let msec = u32::try_from(msec).map_err(|_| bad("milliseconds out of range"))?;
    let after = &rest[close + 1..];
    let after = after.strip_prefix(':').unwrap_or(after).trim_start();
    Ok((Stamp { sec, msec, serial }, after))
}

fn clip(s: &str) -> &str {
    match s.char_indices().nth(80) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// The `key=value` fields of a record body, in order. A value that starts with `"` runs to the
/// next `"` (spaces included); any other value runs to the next space. A token without `=` is
/// skipped.
pub fn fields(body: &str) -> Fields<'_> {
    Fields { rest: body }
}

#[derive(Debug, Clone)]
pub struct Fields<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Fields<'a> {
    type Item = (&'a str, &'a str);
    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let s = self.rest.trim_start_matches(' ');
            if s.is_empty() {
                self.rest = s;
                return None;
            }
            let tok_end = s.find(' ').unwrap_or(s.len());
            let Some(eq) = s[..tok_end].find('=') else {
                self.rest = &s[tok_end..];
                continue;
            };
            let key = &s[..eq];
            let v = &s[eq + 1..];
            let end = if let Some(q) = v.strip_prefix('"') {
                // Quoted: to the closing quote (or the end, if it never closes).
                q.find('"').map_or(v.len(), |i| i + 2)
            } else {
                v.find(' ').unwrap_or(v.len())
            };
            self.rest = &v[end..];
            return Some((key, &v[..end]));
        }
    }
}

/// The first value of `key` in `body`.
pub fn field<'a>(body: &'a str, key: &str) -> Option<&'a str> {
    fields(body).find(|(k, _)| *k == key).map(|(_, v)| v)
}

/// Decode an "untrusted" string value: `"text"` → text, upper- or lower-case hex of even length
/// → its bytes, `(null)` / `?` / empty → `None`, anything else → itself.
pub fn untrusted(raw: &str) -> Option<Vec<u8>> {
    if let Some(q) = raw.strip_prefix('"') {
        return Some(q.strip_suffix('"').unwrap_or(q).as_bytes().to_vec());
    }
    if raw.is_empty() || raw == "(null)" || raw == "?" {
        return None;
    }
    if raw.len() % 2 == 0 && raw.bytes().all(|c| c.is_ascii_hexdigit()) {
        return raw
            .as_bytes()
            .chunks(2)
            .map(|p| {
                std::str::from_utf8(p)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect();
    }
    Some(raw.as_bytes().to_vec())
}

/// [`untrusted`] as text (invalid UTF-8 replaced).
pub fn untrusted_text(raw: &str) -> Option<String> {
    untrusted(raw).map(|b| String::from_utf8_lossy(&b).into_owned())
}

fn num<T: std::str::FromStr>(body: &str, key: &str) -> Option<T> {
    field(body, key).and_then(|v| v.parse().ok())
}

/// `op=` of a `NETFILTER_CFG` record.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NfcfgOp {
    /// A table was instantiated in a namespace (by the first process that asked for it).
    XtRegister,
    /// A table's rules were replaced (every iptables-legacy change).
    XtReplace,
    /// A table was removed (its namespace went away, or the module was unloaded).
    XtUnregister,
    /// Anything else (`nft_register_rule`, ..., `?`), kept as printed.
    Other(String),
}

impl NfcfgOp {
    pub fn parse(s: &str) -> NfcfgOp {
        match s {
            "xt_register" => NfcfgOp::XtRegister,
            "xt_replace" => NfcfgOp::XtReplace,
            "xt_unregister" => NfcfgOp::XtUnregister,
            o => NfcfgOp::Other(o.to_string()),
        }
    }
    pub fn as_str(&self) -> &str {
        match self {
            NfcfgOp::XtRegister => "xt_register",
            NfcfgOp::XtReplace => "xt_replace",
            NfcfgOp::XtUnregister => "xt_unregister",
            NfcfgOp::Other(s) => s,
        }
    }
    /// An x_tables operation (register, replace, unregister).
    pub fn is_xt(&self) -> bool {
        !matches!(self, NfcfgOp::Other(_))
    }
}

/// A `NETFILTER_CFG` record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetfilterCfg {
    pub stamp: Stamp,
    /// Table name (`name:generation` for nf_tables ops).
    pub table: String,
    /// `NFPROTO_*`: 2 ip, 10 ip6, 3 arp, 7 bridge, ...
    pub family: Option<u8>,
    /// Entries in the table before the operation.
    pub entries: Option<u32>,
    pub op: NfcfgOp,
    pub pid: Option<u32>,
    pub comm: Option<String>,
}

/// The fields of a `SYSCALL` record that say who made it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Syscall {
    pub stamp: Option<Stamp>,
    pub syscall: Option<u32>,
    pub success: Option<bool>,
    pub pid: Option<u32>,
    pub ppid: Option<u32>,
    pub uid: Option<u32>,
    /// Login uid (`4294967295`: unset).
    pub auid: Option<u32>,
    pub comm: Option<String>,
    pub exe: Option<String>,
}

/// One record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditRecord {
    NetfilterCfg(NetfilterCfg),
    Syscall(Stamp, Syscall),
    /// The command line, argv split at NULs (the kernel cuts it at 128 bytes).
    Proctitle(Stamp, Vec<String>),
    Eoe(Stamp),
    /// A type this module does not decode; only its stamp is read.
    Other(u16, Stamp),
}

impl AuditRecord {
    pub fn stamp(&self) -> Stamp {
        match self {
            AuditRecord::NetfilterCfg(c) => c.stamp,
            AuditRecord::Syscall(s, _)
            | AuditRecord::Proctitle(s, _)
            | AuditRecord::Eoe(s)
            | AuditRecord::Other(_, s) => *s,
        }
    }

    /// Parse the record of netlink type `ty` from its payload.
    pub fn parse(ty: u16, payload: &[u8]) -> Result<AuditRecord> {
        let text = text(payload);
        let (stamp, body) = parse_stamp(&text)?;
        Ok(match ty {
            NETFILTER_CFG => {
                let table = field(body, "table")
                    .ok_or_else(|| {
                        Error::invalid(format!("NETFILTER_CFG without table= in {:?}", clip(body)))
                            .context("audit")
                    })?
                    .to_string();
                AuditRecord::NetfilterCfg(NetfilterCfg {
                    stamp,
                    table,
                    family: num(body, "family"),
                    entries: num(body, "entries"),
                    op: NfcfgOp::parse(field(body, "op").unwrap_or("?")),
                    pid: num(body, "pid"),
                    comm: field(body, "comm").and_then(untrusted_text),
                })
            }
            SYSCALL => AuditRecord::Syscall(
                stamp,
                Syscall {
                    stamp: Some(stamp),
                    syscall: num(body, "syscall"),
                    success: field(body, "success").map(|v| v == "yes"),
                    pid: num(body, "pid"),
                    ppid: num(body, "ppid"),
                    uid: num(body, "uid"),
                    auid: num(body, "auid"),
                    comm: field(body, "comm").and_then(untrusted_text),
                    exe: field(body, "exe").and_then(untrusted_text),
                },
            ),
            PROCTITLE => {
                let args = field(body, "proctitle")
                    .and_then(untrusted)
                    .map(|b| {
                        b.split(|&c| c == 0)
                            .filter(|s| !s.is_empty())
                            .map(|s| String::from_utf8_lossy(s).into_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                AuditRecord::Proctitle(stamp, args)
            }
            EOE => AuditRecord::Eoe(stamp),
            t => AuditRecord::Other(t, stamp),
        })
    }
}

/// `struct audit_status` (linux/audit.h): eight `u32`s, then (newer kernels) `feature_bitmap`,
/// `backlog_wait_time` and `backlog_wait_time_actual`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Status {
    pub mask: u32,
    /// 0 off, 1 on, 2 on and locked (only a reboot changes it).
    pub enabled: u32,
    /// What the kernel does when it cannot log: 0 silent, 1 printk, 2 panic.
    pub failure: u32,
    /// The registered audit daemon's pid (0: none).
    pub pid: u32,
    pub rate_limit: u32,
    pub backlog_limit: u32,
    pub lost: u32,
    pub backlog: u32,
    pub feature_bitmap: Option<u32>,
    pub backlog_wait_time: Option<u32>,
}

impl Status {
    /// Bytes of the struct this module writes (the eleven-field form; the kernel copies at most
    /// its own size and zero-fills the rest).
    pub const LEN: usize = 44;

    pub fn parse(b: &[u8]) -> Result<Status> {
        if b.len() < 32 {
            return Err(Error::truncated(32, b.len(), 0).context("audit_status"));
        }
        let u = |i: usize| {
            b.get(i * 4..i * 4 + 4)
                .map(|w| u32::from_ne_bytes([w[0], w[1], w[2], w[3]]))
        };
        Ok(Status {
            mask: u(0).unwrap_or(0),
            enabled: u(1).unwrap_or(0),
            failure: u(2).unwrap_or(0),
            pid: u(3).unwrap_or(0),
            rate_limit: u(4).unwrap_or(0),
            backlog_limit: u(5).unwrap_or(0),
            lost: u(6).unwrap_or(0),
            backlog: u(7).unwrap_or(0),
            feature_bitmap: u(8),
            backlog_wait_time: u(9),
        })
    }

    /// The bytes of an `AUDIT_SET` body that sets `enabled` (and nothing else).
    pub fn set_enabled(enabled: u32) -> [u8; Status::LEN] {
        let mut b = [0u8; Status::LEN];
        b[0..4].copy_from_slice(&AUDIT_STATUS_ENABLED.to_ne_bytes());
        b[4..8].copy_from_slice(&enabled.to_ne_bytes());
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured on kernel 6.18 with audit enabled (no auditd), from a NETLINK_AUDIT socket bound to
    // AUDIT_NLGRP_READLOG, while running `ip netns exec aprobe2 iptables-legacy -A INPUT -j
    // ACCEPT` in a fresh namespace (serials 6 and 7: the filter table registered, then replaced),
    // then `ip6tables-legacy -A INPUT -j ACCEPT` (comm cut at 15 characters), an
    // `iptables-legacy-restore --noflush` of filter and nat, `nft add table ip t`, and
    // `ip netns del aprobe2` (the kworker's xt_unregister).
    const REGISTER: &str = r#"audit(1795326504.541:6): table=filter family=2 entries=0 op=xt_register pid=24770 comm="iptables-legacy""#;
    const REPLACE: &str = r#"audit(1795326504.541:7): table=filter family=2 entries=4 op=xt_replace pid=24770 comm="iptables-legacy""#;
    const SYSCALL_7: &str = r#"audit(1795326504.541:7): arch=c000003e syscall=54 success=yes exit=0 a0=4 a1=0 a2=40 a3=56469322f980 items=0 ppid=24768 pid=24770 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="iptables-legacy" exe="/usr/sbin/xtables-legacy-multi" key=(null)"#;
    const PROCTITLE_7: &str = "audit(1795326504.541:7): proctitle=69707461626C65732D6C6567616379002D4100494E505554002D6A00414343455054";
    const EOE_7: &str = "audit(1795326504.541:7): ";
    const IP6: &str = r#"audit(1795326504.545:9): table=filter family=10 entries=4 op=xt_replace pid=24771 comm="ip6tables-legac""#;
    const RESTORE_TITLE: &str = "audit(1795326504.553:10): proctitle=69707461626C65732D6C65676163792D726573746F7265002D2D6E6F666C757368";
    const NFT: &str = r#"audit(1795326504.565:13): table=t:2 family=2 entries=1 op=nft_register_table pid=24775 comm="nft""#;
    const UNREGISTER: &str = r#"audit(1795326504.613:16): table=filter family=2 entries=8 op=xt_unregister pid=24360 comm="kworker/u8:3""#;

    fn cfg(t: &str) -> NetfilterCfg {
        match AuditRecord::parse(NETFILTER_CFG, t.as_bytes()).expect("parse") {
            AuditRecord::NetfilterCfg(c) => c,
            o => panic!("{o:?}"),
        }
    }

    #[test]
    fn captured_netfilter_cfg() {
        let c = cfg(REPLACE);
        assert_eq!(
            c,
            NetfilterCfg {
                stamp: Stamp {
                    sec: 1795326504,
                    msec: 541,
                    serial: 7
                },
                table: "filter".into(),
                family: Some(2),
                entries: Some(4),
                op: NfcfgOp::XtReplace,
                pid: Some(24770),
                comm: Some("iptables-legacy".into()),
            }
        );
        assert_eq!(c.stamp.id(), "1795326504.541:7");
        assert_eq!(c.stamp.unix_ms(), 1795326504541);
        let r = cfg(REGISTER);
        assert_eq!((r.op, r.entries), (NfcfgOp::XtRegister, Some(0)));
        let six = cfg(IP6);
        assert_eq!(
            (six.family, six.comm.as_deref()),
            (Some(10), Some("ip6tables-legac"))
        );
        let nft = cfg(NFT);
        assert_eq!(nft.op, NfcfgOp::Other("nft_register_table".into()));
        assert!(!nft.op.is_xt());
        assert_eq!(nft.table, "t:2");
        let u = cfg(UNREGISTER);
        assert_eq!(
            (u.op, u.comm.as_deref()),
            (NfcfgOp::XtUnregister, Some("kworker/u8:3"))
        );
    }

    #[test]
    fn captured_syscall_proctitle_eoe() {
        let AuditRecord::Syscall(st, s) =
            AuditRecord::parse(SYSCALL, SYSCALL_7.as_bytes()).expect("syscall")
        else {
            panic!()
        };
        assert_eq!(st.serial, 7);
        assert_eq!(s.pid, Some(24770));
        assert_eq!(s.ppid, Some(24768));
        assert_eq!(s.syscall, Some(54));
        assert_eq!(s.success, Some(true));
        assert_eq!(s.auid, Some(4294967295));
        assert_eq!(s.comm.as_deref(), Some("iptables-legacy"));
        assert_eq!(s.exe.as_deref(), Some("/usr/sbin/xtables-legacy-multi"));
        // key=(null) is absent, not the text "(null)".
        assert_eq!(field(SYSCALL_7, "key").and_then(untrusted), None);
        let p = AuditRecord::parse(PROCTITLE, PROCTITLE_7.as_bytes()).expect("proctitle");
        assert_eq!(
            p,
            AuditRecord::Proctitle(
                st,
                vec![
                    "iptables-legacy".into(),
                    "-A".into(),
                    "INPUT".into(),
                    "-j".into(),
                    "ACCEPT".into()
                ]
            )
        );
        let AuditRecord::Proctitle(_, args) =
            AuditRecord::parse(PROCTITLE, RESTORE_TITLE.as_bytes()).expect("proctitle")
        else {
            panic!()
        };
        assert_eq!(args, vec!["iptables-legacy-restore", "--noflush"]);
        // The kernel's multicast copies may end in a NUL.
        let mut eoe = EOE_7.as_bytes().to_vec();
        eoe.push(0);
        assert_eq!(AuditRecord::parse(EOE, &eoe), Ok(AuditRecord::Eoe(st)));
    }

    #[test]
    fn untrusted_values() {
        // Quoted, hex (a comm with a space), lower-case hex, absent, a bare word.
        assert_eq!(untrusted_text("\"iptables\"").as_deref(), Some("iptables"));
        assert_eq!(
            untrusted_text("6970207461626C6573").as_deref(),
            Some("ip tables")
        );
        assert_eq!(untrusted_text("6970").as_deref(), Some("ip"));
        assert_eq!(untrusted_text("(null)"), None);
        assert_eq!(untrusted_text("?"), None);
        assert_eq!(untrusted_text("abc").as_deref(), Some("abc"));
        // A hex comm decodes even when it holds a quote or invalid UTF-8.
        assert_eq!(untrusted("22FF"), Some(vec![b'"', 0xff]));
        // A quoted proctitle of a one-word command line.
        let p = AuditRecord::parse(PROCTITLE, b"audit(1.002:3): proctitle=\"iptables-legacy\"")
            .expect("parse");
        assert_eq!(
            p,
            AuditRecord::Proctitle(
                Stamp {
                    sec: 1,
                    msec: 2,
                    serial: 3
                },
                vec!["iptables-legacy".into()]
            )
        );
    }

    #[test]
    fn missing_fields_and_unknown_ops() {
        // An SELinux subj= between pid and comm, no entries, an op from a future kernel, a hex
        // comm: every known field still found.
        let c = cfg(
            r#"audit(10.5:99): table=mangle family=10 op=xt_frobnicate pid=7 subj=system_u:system_r:iptables_t:s0 comm=6970207461626C6573"#,
        );
        assert_eq!(c.entries, None);
        assert_eq!(c.op, NfcfgOp::Other("xt_frobnicate".into()));
        assert_eq!(c.op.as_str(), "xt_frobnicate");
        assert_eq!(c.comm.as_deref(), Some("ip tables"));
        assert_eq!(c.stamp.msec, 5);
        // No op, pid or comm at all.
        let c = cfg("audit(10.500:99): table=raw family=2");
        assert_eq!((c.op.as_str(), c.pid, c.comm), ("?", None, None));
        // A quoted value with spaces, and an unterminated one.
        assert_eq!(
            field(r#"a="x y" b=2"#, "b").and_then(|v| v.parse::<u32>().ok()),
            Some(2)
        );
        assert_eq!(field(r#"a="x y"#, "a"), Some("\"x y"));
        // No table: an error, not a panic.
        assert!(AuditRecord::parse(NETFILTER_CFG, b"audit(1.1:1): family=2").is_err());
        // Another record type: only the stamp.
        assert_eq!(
            AuditRecord::parse(1335, b"audit(1.1:2): pid=1 op=connect").map(|r| r.stamp().serial),
            Ok(2)
        );
    }

    #[test]
    fn malformed_stamps_are_errors() {
        for t in [
            "",
            "audit(",
            "audit()",
            "audit(1.2)",
            "audit(x.y:z): a=b",
            "audit(1.99999999999:1): a",
            "type=1325 msg=audit(1.2:3): table=filter",
            "audit(1.2:3",
        ] {
            assert!(
                AuditRecord::parse(NETFILTER_CFG, t.as_bytes()).is_err(),
                "{t:?}"
            );
        }
    }

    #[test]
    fn status_round_trip() {
        // The AUDIT_GET answer on this machine: disabled, printk on failure, no auditd.
        let words: [u32; 11] = [0, 0, 1, 0, 0, 64, 0, 0, 127, 15000, 0];
        let b: Vec<u8> = words.iter().flat_map(|w| w.to_ne_bytes()).collect();
        let s = Status::parse(&b).expect("status");
        assert_eq!(
            (s.enabled, s.failure, s.pid, s.backlog_limit),
            (0, 1, 0, 64)
        );
        assert_eq!(s.backlog_wait_time, Some(15000));
        assert!(Status::parse(&b[..31]).is_err());
        let set = Status::set_enabled(1);
        let s = Status::parse(&set).expect("set");
        assert_eq!((s.mask, s.enabled), (AUDIT_STATUS_ENABLED, 1));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(ty in 1300u16..1340, body in ".{0,200}") {
            let _ = AuditRecord::parse(ty, body.as_bytes());
            let _ = AuditRecord::parse(ty, format!("audit(1.2:3): {body}").as_bytes());
            let _ = fields(&body).count();
        }

        #[test]
        fn arbitrary_bytes_never_panic(ty in 1300u16..1340, body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let _ = AuditRecord::parse(ty, &body);
            let mut b = b"audit(1.2:3): table=".to_vec();
            b.extend_from_slice(&body);
            let _ = AuditRecord::parse(ty, &b);
            let _ = Status::parse(&body);
        }
    }
}
