//! Userdata TLVs (libnftnl `udata.h`): `NFTA_*_USERDATA` carries `{u8 type, u8 len, value}*`.
//! nft and iptables-nft put the rule comment here (type 0), set key byte order, typeof
//! expressions, etc. A buffer that is not a valid TLV list is kept raw.

use crate::attr;
use serde::Serialize;

/// Rule userdata types (`enum nftnl_udata_rule_types`).
pub const RULE_COMMENT: u8 = 0;
pub const RULE_EBTABLES_POLICY: u8 = 1;
/// Table/chain/obj/flowtable comment types.
pub const TABLE_COMMENT: u8 = 0;
pub const CHAIN_COMMENT: u8 = 0;
pub const OBJ_COMMENT: u8 = 0;
/// Set userdata types (`enum nftnl_udata_set_types`).
pub const SET_KEYBYTEORDER: u8 = 0;
pub const SET_DATABYTEORDER: u8 = 1;
pub const SET_MERGE_ELEMENTS: u8 = 2;
pub const SET_KEY_TYPEOF: u8 = 3;
pub const SET_DATA_TYPEOF: u8 = 4;
pub const SET_EXPR: u8 = 5;
pub const SET_DATA_INTERVAL: u8 = 6;
pub const SET_COMMENT: u8 = 7;
/// Set element userdata types.
pub const SET_ELEM_COMMENT: u8 = 0;
pub const SET_ELEM_FLAGS: u8 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tlv {
    #[serde(rename = "type")]
    pub ty: u8,
    #[serde(serialize_with = "attr::hex")]
    pub value: Vec<u8>,
}

/// Userdata, decoded as TLVs where it is well formed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Udata {
    pub tlvs: Vec<Tlv>,
    /// Bytes that did not form a valid TLV (kept, never dropped).
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "attr::hex")]
    pub trailing: Vec<u8>,
}

impl Udata {
    pub fn parse(b: &[u8]) -> Udata {
        let mut u = Udata::default();
        let mut off = 0;
        while off < b.len() {
            if b.len() - off < 2 || b.len() - off - 2 < b[off + 1] as usize {
                u.trailing = b[off..].to_vec();
                break;
            }
            let len = b[off + 1] as usize;
            u.tlvs.push(Tlv {
                ty: b[off],
                value: b[off + 2..off + 2 + len].to_vec(),
            });
            off += 2 + len;
        }
        u
    }
    pub fn get(&self, ty: u8) -> Option<&[u8]> {
        self.tlvs
            .iter()
            .find(|t| t.ty == ty)
            .map(|t| t.value.as_slice())
    }
    /// A string TLV (NUL-terminated in the kernel's copy).
    pub fn string(&self, ty: u8) -> Option<String> {
        self.get(ty).map(|v| {
            let end = v.iter().position(|&c| c == 0).unwrap_or(v.len());
            String::from_utf8_lossy(&v[..end]).into_owned()
        })
    }
    pub fn u32(&self, ty: u8) -> Option<u32> {
        self.get(ty)
            .and_then(|v| v.get(..4))
            .map(|v| u32::from_ne_bytes([v[0], v[1], v[2], v[3]]))
    }
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for t in &self.tlvs {
            out.push(t.ty);
            out.push(t.value.len() as u8);
            out.extend_from_slice(&t.value);
        }
        out.extend_from_slice(&self.trailing);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn comment_and_garbage() {
        // nft add rule ... comment "hi": udata = 00 03 'h' 'i' 00
        let u = Udata::parse(&[0, 3, b'h', b'i', 0]);
        assert_eq!(u.string(RULE_COMMENT).as_deref(), Some("hi"));
        let bad = Udata::parse(&[0, 9, 1]);
        assert!(bad.tlvs.is_empty());
        assert_eq!(bad.trailing, vec![0, 9, 1]);
        assert_eq!(bad.to_bytes(), vec![0, 9, 1]);
    }
}
