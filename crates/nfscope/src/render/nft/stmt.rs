//! Printers of the stateful and action statements whose text depends only on the
//! expression's own attributes (nftables `src/statement.c`).

use super::datatype::time_ms;
use nfscope_wire::nft::expr::{consts, Expr, Limit, Log, Quota};

/// `get_unit`: seconds → unit name.
fn unit(u: u64) -> &'static str {
    match u {
        1 => "second",
        60 => "minute",
        3600 => "hour",
        86400 => "day",
        604800 => "week",
        _ => "error",
    }
}

/// `get_rate`: bytes → (value, unit) dividing by 1024 while exact.
fn rate(mut b: u64) -> (u64, &'static str) {
    const U: [&str; 3] = ["bytes", "kbytes", "mbytes"];
    if b == 0 {
        return (0, U[0]);
    }
    let mut i = 0;
    while i + 1 < U.len() && b % 1024 == 0 {
        b /= 1024;
        i += 1;
    }
    (b, U[i])
}

pub fn log(l: &Log) -> String {
    let mut s = "log".to_string();
    if let Some(p) = &l.prefix {
        s.push_str(&format!(" prefix \"{p}\""));
    }
    if let Some(g) = l.group {
        s.push_str(&format!(" group {g}"));
    }
    if let Some(n) = l.snaplen {
        s.push_str(&format!(" snaplen {n}"));
    }
    if let Some(q) = l.qthreshold {
        s.push_str(&format!(" queue-threshold {q}"));
    }
    if let Some(lv) = l.level.filter(|&lv| lv != 4) {
        const LEVELS: [&str; 9] = [
            "emerg", "alert", "crit", "err", "warn", "notice", "info", "debug", "audit",
        ];
        match LEVELS.get(lv as usize) {
            Some(n) => s.push_str(&format!(" level {n}")),
            None => s.push_str(&format!(" level {lv}")),
        }
    }
    let f = l.flags.unwrap_or(0);
    // NF_LOG_TCPSEQ 1, TCPOPT 2, IPOPT 4, UID 8, MACDECODE 0x20; MASK 0x2f
    if f & 0x2f == 0x2f {
        s.push_str(" flags all");
    } else {
        if f & 3 != 0 {
            s.push_str(" flags tcp");
            let mut delim = " ";
            if f & 1 != 0 {
                s.push_str(" sequence");
                delim = ",";
            }
            if f & 2 != 0 {
                s.push_str(delim);
                s.push_str("options");
            }
        }
        if f & 4 != 0 {
            s.push_str(" flags ip options");
        }
        if f & 8 != 0 {
            s.push_str(" flags skuid");
        }
        if f & 0x20 != 0 {
            s.push_str(" flags ether");
        }
    }
    s
}

pub fn limit(l: &Limit) -> String {
    let inv = if l.flags.unwrap_or(0) & consts::LIMIT_F_INV != 0 {
        "over "
    } else {
        ""
    };
    let r = l.rate.unwrap_or(0);
    let u = unit(l.unit.unwrap_or(0));
    let burst = l.burst.unwrap_or(0);
    if l.limit_type.unwrap_or(0) == 1 {
        let (v, du) = rate(r);
        let mut s = format!("limit rate {inv}{v} {du}/{u}");
        if burst != 0 && burst != 5 {
            let (b, bu) = rate(burst as u64);
            s.push_str(&format!(" burst {b} {bu}"));
        }
        s
    } else {
        let mut s = format!("limit rate {inv}{r}/{u}");
        if burst != 0 && burst != 5 {
            s.push_str(&format!(" burst {burst} packets"));
        }
        s
    }
}

pub fn quota(q: &Quota) -> String {
    let inv = if q.flags.unwrap_or(0) & consts::QUOTA_F_INV != 0 {
        "over "
    } else {
        ""
    };
    let (b, u) = rate(q.bytes.unwrap_or(0));
    let mut s = format!("quota {inv}{b} {u}");
    if let Some(used) = q.consumed.filter(|&c| c != 0) {
        let (v, vu) = rate(used);
        s.push_str(&format!(" used {v} {vu}"));
    }
    s
}

/// ` random,fully-random,persistent` (only the flags set).
pub fn nat_flags(f: u32) -> String {
    let mut s = String::new();
    let mut delim = " ";
    if f & consts::NAT_RANGE_PROTO_RANDOM != 0 {
        s.push_str(delim);
        s.push_str("random");
        delim = ",";
    }
    if f & consts::NAT_RANGE_PROTO_RANDOM_FULLY != 0 {
        s.push_str(delim);
        s.push_str("fully-random");
        delim = ",";
    }
    if f & consts::NAT_RANGE_PERSISTENT != 0 {
        s.push_str(delim);
        s.push_str("persistent");
    }
    s
}

pub fn synproxy(mss: Option<u16>, wscale: Option<u8>, flags: u32) -> String {
    // NF_SYNPROXY_OPT_MSS 1, WSCALE 2, SACK_PERM 4, TIMESTAMP 8
    let ts = if flags & 8 != 0 { " timestamp" } else { "" };
    let sack = if flags & 4 != 0 { " sack-perm" } else { "" };
    let (m, w) = (mss.unwrap_or(0), wscale.unwrap_or(0));
    if flags & 3 != 0 {
        format!("synproxy mss {m} wscale {w}{ts}{sack}")
    } else if flags & 1 != 0 {
        format!("synproxy mss {m}{ts}{sack}")
    } else if flags & 2 != 0 {
        format!("synproxy wscale {w}{ts}{sack}")
    } else {
        format!("synproxy{ts}{sack}")
    }
}

/// A statement inside a set declaration or a dynset: printed stateless (no counter values).
pub fn stateless(e: &Expr) -> String {
    match e {
        Expr::Counter(_) => "counter".into(),
        Expr::Limit(l) => limit(l),
        Expr::Quota(q) => {
            let mut q = q.clone();
            q.consumed = None;
            quota(&q)
        }
        Expr::Connlimit(c) => {
            let over = if c.flags.unwrap_or(0) & 1 != 0 {
                "over "
            } else {
                ""
            };
            format!("ct count {over}{}", c.count.unwrap_or(0))
        }
        Expr::Last(_) => "last".into(),
        Expr::Log(l) => log(l),
        other => format!("# {}", other.name()),
    }
}

/// A statement attached to a set element (`counter packets 0 bytes 0`, `quota ...`).
pub fn stateful(e: &Expr) -> String {
    match e {
        Expr::Counter(c) => {
            format!(
                "counter packets {} bytes {}",
                c.packets.unwrap_or(0),
                c.bytes.unwrap_or(0)
            )
        }
        Expr::Last(l) => match (l.set, l.msecs) {
            (Some(1), Some(ms)) => format!("last used {}", time_ms(ms)),
            _ => "last used never".into(),
        },
        other => stateless(other),
    }
}
