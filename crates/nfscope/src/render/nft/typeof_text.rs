//! Set `typeof` expressions stored by nft in the set userdata
//! (`NFTNL_UDATA_SET_KEY_TYPEOF` / `..._DATA_TYPEOF`): a nest holding the expression type
//! (`enum expr_types`) and per-type data (payload: protocol id + template index; meta: key;
//! ct: key + direction; concat: one nest per component).

use super::proto;
use nfscope_wire::nft::expr::consts;
use nfscope_wire::nft::udata::Udata;

const EXPR_PAYLOAD: u32 = 7;
const EXPR_META: u32 = 9;
const EXPR_CT: u32 = 12;
const EXPR_OSF: u32 = 11;
const EXPR_CONCAT: u32 = 13;
const EXPR_XFRM: u32 = 27;
const EXPR_NUMGEN: u32 = 23;

fn u32_of(u: &Udata, ty: u8) -> Option<u32> {
    u.u32(ty)
}

/// One expression: `{0: u32 expr type, 1: nested data}`.
fn expr(b: &[u8]) -> Option<String> {
    let u = Udata::parse(b);
    let ty = u32_of(&u, 0)?;
    let data = Udata::parse(u.get(1)?);
    match ty {
        EXPR_PAYLOAD => {
            let desc = u32_of(&data, 0)?;
            let tmpl = u32_of(&data, 1)?;
            if desc == 0 {
                let base = u32_of(&data, 2)?;
                let off = u32_of(&data, 3)?;
                let len = u32_of(&data, 4)?;
                let b = ["ll", "nh", "th"]
                    .get(base as usize)
                    .copied()
                    .unwrap_or("ih");
                return Some(format!("@{b},{off},{len}"));
            }
            let p = proto::by_desc_id(desc)?;
            let f = p.fields.get((tmpl as usize).checked_sub(1)?)?;
            Some(format!("{} {}", p.name, f.name))
        }
        EXPR_META => {
            let k = u32_of(&data, 0)?;
            let n = consts::meta_key(k)?;
            Some(match k {
                4 | 5 | 6 | 7 | 21 | 22 => n.to_string(),
                _ => format!("meta {n}"),
            })
        }
        EXPR_CT => {
            let k = u32_of(&data, 0)?;
            let d = u32_of(&data, 1)?;
            let n = consts::ct_key(k)?;
            Some(match consts::ct_dir(d) {
                Some(dn) if d <= 1 => format!("ct {dn} {n}"),
                _ => format!("ct {n}"),
            })
        }
        EXPR_CONCAT => concat(&data),
        EXPR_OSF => {
            // {0: ttl, 1: flags}
            let ttl = match u32_of(&data, 0).unwrap_or(0) {
                1 => "ttl loose ",
                2 => "ttl skip ",
                _ => "",
            };
            let what = if u32_of(&data, 1).unwrap_or(0) & 1 != 0 {
                "version"
            } else {
                "name"
            };
            Some(format!("osf {ttl}{what}"))
        }
        EXPR_XFRM => {
            // {0: key, 1: spnum, 2: dir}
            let key = u32_of(&data, 0)?;
            let name = super::print::xfrm_name(crate::model::field::XfrmKey::from_raw(key))?;
            let dir = if u32_of(&data, 2) == Some(1) {
                "out"
            } else {
                "in"
            };
            Some(match u32_of(&data, 1).filter(|&n| n > 0) {
                Some(n) => format!("ipsec {dir} spnum {n} {name}"),
                None => format!("ipsec {dir} {name}"),
            })
        }
        EXPR_NUMGEN => {
            let t = match u32_of(&data, 0)? {
                0 => "inc",
                1 => "random",
                _ => return None,
            };
            let mut s = format!("numgen {t} mod {}", u32_of(&data, 1)?);
            if let Some(o) = u32_of(&data, 2).filter(|&o| o != 0) {
                s.push_str(&format!(" offset {o}"));
            }
            Some(s)
        }
        _ => None,
    }
}

fn concat(u: &Udata) -> Option<String> {
    let mut parts = Vec::new();
    for t in &u.tlvs {
        let sub = Udata::parse(&t.value);
        let ty = u32_of(&sub, 0)?;
        let mut b = Vec::new();
        b.extend_from_slice(&[0, 4]);
        b.extend_from_slice(&ty.to_ne_bytes());
        let d = sub.get(1)?;
        b.push(1);
        b.push(d.len() as u8);
        b.extend_from_slice(d);
        parts.push(expr(&b)?);
    }
    if parts.is_empty() {
        return None;
    }
    Some(parts.join(" . "))
}

/// Parse a typeof TLV value into its nft text, `None` if it cannot be read.
pub fn parse(b: &[u8]) -> Option<String> {
    expr(b)
}
