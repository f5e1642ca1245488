//! Named stateful objects (nftables `rule.c` `obj_print_data`) and flowtables.

use super::datatype::{proto_name, time_ms};
use crate::model::Obj;
use nfscope_wire::nft::{udata, Family, Flowtable, ObjData};

/// nft's name of an object type (`obj_type_name`).
pub fn type_name(t: u32) -> String {
    match t {
        1 => "counter".into(),
        2 => "quota".into(),
        3 => "ct helper".into(),
        4 => "limit".into(),
        7 => "ct timeout".into(),
        8 => "secmark".into(),
        10 => "synproxy".into(),
        9 => "ct expectation".into(),
        5 => "connlimit".into(),
        6 => "tunnel".into(),
        n => format!("object-type-{n}"),
    }
}

fn proto(p: u8) -> String {
    proto_name(p)
        .map(str::to_string)
        .unwrap_or_else(|| p.to_string())
}

fn l3(p: u16) -> String {
    Family::from_u8(p as u8).name()
}

fn rate(b: u64) -> (u64, &'static str) {
    const U: [&str; 3] = ["bytes", "kbytes", "mbytes"];
    if b == 0 {
        return (0, U[0]);
    }
    let (mut b, mut i) = (b, 0);
    while i + 1 < U.len() && b % 1024 == 0 {
        b /= 1024;
        i += 1;
    }
    (b, U[i])
}

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

/// One object block, indented one tab, ending with a newline.
pub fn declaration(o: &Obj) -> String {
    let t = o.attrs.obj_type.unwrap_or(0);
    let name = o.attrs.name.as_deref().unwrap_or("");
    let comment = o
        .attrs
        .userdata
        .as_ref()
        .and_then(|u| u.string(udata::OBJ_COMMENT))
        .map(|c| format!("\n\t\tcomment \"{c}\""))
        .unwrap_or_default();
    let mut s = format!("\t{} {name} {{{comment}", type_name(t));
    match &o.decoded {
        Some(ObjData::Counter(c)) => {
            s.push_str(&format!(
                "\n\t\tpackets {} bytes {}\n",
                c.packets.unwrap_or(0),
                c.bytes.unwrap_or(0)
            ));
        }
        Some(ObjData::Quota(q)) => {
            let (b, u) = rate(q.bytes.unwrap_or(0));
            let over = if q.flags.unwrap_or(0) & 1 != 0 {
                "over "
            } else {
                ""
            };
            s.push_str(&format!("\n\t\t{over}{b} {u}"));
            if let Some(used) = q.consumed.filter(|&c| c != 0) {
                let (v, vu) = rate(used);
                s.push_str(&format!(" used {v} {vu}"));
            }
            s.push('\n');
        }
        Some(ObjData::Secmark(m)) => {
            s.push_str(&format!("\n\t\t\"{}\"\n", m.ctx.as_deref().unwrap_or("")));
        }
        Some(ObjData::CtHelper(h)) => {
            s.push_str(&format!(
                "\n\t\ttype \"{}\" protocol {}\n\t\tl3proto {}\n",
                h.name.as_deref().unwrap_or(""),
                proto(h.l4proto.unwrap_or(0)),
                l3(h.l3proto.unwrap_or(0))
            ));
        }
        Some(ObjData::CtTimeout(c)) => {
            let l4 = c.l4proto.unwrap_or(0);
            let data = c.data.as_ref().map(|b| b.0.as_slice()).unwrap_or(&[]);
            s.push_str(&format!(
                "\n\t\tprotocol {}\n\t\tl3proto {}\n\t\tpolicy = {{ {} }}\n",
                proto(l4),
                l3(c.l3proto.unwrap_or(0)),
                timeout_policy(l4, data)
            ));
        }
        Some(ObjData::CtExpect(e)) => {
            s.push_str(&format!(
                "\n\t\tprotocol {}\n\t\tdport {}\n\t\ttimeout {}\n\t\tsize {}\n\t\tl3proto {}\n",
                proto(e.l4proto.unwrap_or(0)),
                e.dport.unwrap_or(0),
                // NFTA_CT_EXPECT_TIMEOUT is host-endian on the wire (nla_put_u32)
                time_ms(u32::from_ne_bytes(e.timeout.unwrap_or(0).to_be_bytes()) as u64),
                e.size.unwrap_or(0),
                l3(e.l3proto.unwrap_or(0))
            ));
        }
        Some(ObjData::Limit(l)) => {
            let over = if l.flags.unwrap_or(0) & 1 != 0 {
                "over "
            } else {
                ""
            };
            let r = l.rate.unwrap_or(0);
            let u = unit(l.unit.unwrap_or(0));
            let burst = l.burst.unwrap_or(0);
            if l.limit_type.unwrap_or(0) == 1 {
                let (v, du) = rate(r);
                s.push_str(&format!("\n\t\trate {over}{v} {du}/{u}"));
                if burst > 0 {
                    let (b, bu) = rate(burst as u64);
                    s.push_str(&format!(" burst {b} {bu}"));
                }
            } else {
                s.push_str(&format!("\n\t\trate {over}{r}/{u}"));
                if burst > 0 && burst != 5 {
                    s.push_str(&format!(" burst {burst} packets"));
                }
            }
            s.push('\n');
        }
        Some(ObjData::Synproxy(p)) => {
            let f = p.flags.unwrap_or(0);
            if f & 1 != 0 {
                s.push_str(&format!("\n\t\tmss {}", p.mss.unwrap_or(0)));
            }
            if f & 2 != 0 {
                s.push_str(&format!("\n\t\twscale {}", p.wscale.unwrap_or(0)));
            }
            if f & 12 != 0 {
                let mut w = Vec::new();
                if f & 8 != 0 {
                    w.push("timestamp");
                }
                if f & 4 != 0 {
                    w.push("sack-perm");
                }
                s.push_str(&format!("\n\t\t{}", w.join(" ")));
            }
            s.push('\n');
        }
        _ => {
            s = format!("\t{} {name} {{\n", type_name(t));
            s.push_str("\t\t# object data not rendered\n");
        }
    }
    s.push_str("\t}\n");
    s
}

/// A flowtable block, indented one tab.
pub fn flowtable(f: &Flowtable) -> String {
    let mut s = format!("\tflowtable {} {{\n", f.name.as_deref().unwrap_or(""));
    if let Some(h) = &f.hook {
        let hook = match h.num.unwrap_or(0) {
            0 => "ingress".to_string(),
            1 => "egress".to_string(),
            n => format!("{n}"),
        };
        let prio = super::prio_text(Family::Netdev, h.num.unwrap_or(0), h.priority.unwrap_or(0));
        s.push_str(&format!("\t\thook {hook} priority {prio}\n"));
        if let Some(d) = h.devs.as_ref().filter(|d| !d.0.is_empty()) {
            s.push_str(&format!("\t\tdevices = {{ {} }}\n", d.0.join(", ")));
        }
    }
    let flags = f.flags.unwrap_or(0);
    if flags & 1 != 0 {
        s.push_str("\t\tflags offload\n");
    }
    if flags & 2 != 0 {
        s.push_str("\t\tcounter\n");
    }
    s.push_str("\t}\n");
    s
}

/// Per-state timeouts of a `ct timeout` object that differ from the kernel defaults
/// (nft's `timeout_protocol` table), in state order: `established : 100, close : 4`.
/// `data` is the nested `CTA_TIMEOUT_*` attributes (be32 seconds, type = state index + 1).
fn timeout_policy(l4: u8, data: &[u8]) -> String {
    const TCP: &[(&str, u32)] = &[
        ("syn_sent", 120),
        ("syn_recv", 60),
        ("established", 432000),
        ("fin_wait", 120),
        ("close_wait", 60),
        ("last_ack", 30),
        ("time_wait", 120),
        ("close", 10),
        ("syn_sent2", 120),
        ("retrans", 300),
        ("unacknowledged", 300),
    ];
    const UDP: &[(&str, u32)] = &[("unreplied", 30), ("replied", 120)];
    const ICMP: &[(&str, u32)] = &[("timeout", 30)];
    const GENERIC: &[(&str, u32)] = &[("timeout", 600)];
    let states = match l4 {
        6 => TCP,
        17 | 136 => UDP,
        1 | 58 => ICMP,
        _ => GENERIC,
    };
    let mut vals: Vec<Option<u32>> = vec![None; states.len()];
    for a in nfscope_wire::attr::Attrs::new(data).flatten() {
        let i = (a.ty as usize).wrapping_sub(1);
        if let (Some(slot), Ok(v)) = (vals.get_mut(i), a.be32()) {
            *slot = Some(v);
        }
    }
    let mut out = Vec::new();
    for ((name, dflt), v) in states.iter().zip(vals) {
        if let Some(v) = v.filter(|v| v != dflt) {
            out.push(format!("{name} : {v}"));
        }
    }
    out.join(", ")
}
