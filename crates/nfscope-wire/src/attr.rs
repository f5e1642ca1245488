//! Netlink attributes: `struct nlattr` (linux/netlink.h).
//!
//! ```text
//! struct nlattr {
//!     __u16 nla_len;    0  header + value, unpadded
//!     __u16 nla_type;   2  bit 15 NLA_F_NESTED, bit 14 NLA_F_NET_BYTEORDER, low 14 bits: type
//! };                    4, values padded to 4
//! ```
//! [`Attrs`] iterates over a buffer of attributes and yields checked [`Attr`] views. A length
//! that lies is an error; an attribute the caller does not know is kept as a [`RawAttr`].

use crate::error::{Error, Result};
use crate::nl::{align, u16_ne};
use serde::Serialize;

pub const NLA_F_NESTED: u16 = 1 << 15;
pub const NLA_F_NET_BYTEORDER: u16 = 1 << 14;
pub const NLA_TYPE_MASK: u16 = !(NLA_F_NESTED | NLA_F_NET_BYTEORDER);

/// One attribute, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attr<'a> {
    /// The type without the nested / byte-order flags.
    pub ty: u16,
    /// The raw type field including flags.
    pub raw_ty: u16,
    pub value: &'a [u8],
}

/// An attribute kept as it came (type with flags, and value bytes), for what we do not decode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RawAttr {
    #[serde(rename = "type")]
    pub ty: u16,
    #[serde(serialize_with = "crate::attr::hex")]
    pub value: Vec<u8>,
}

/// Serialize bytes as a lowercase hex string.
pub fn hex<S: serde::Serializer>(b: &[u8], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&to_hex(b))
}

pub fn to_hex(b: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(b.len() * 2);
    for x in b {
        out.push(H[(x >> 4) as usize] as char);
        out.push(H[(x & 15) as usize] as char);
    }
    out
}

impl<'a> Attr<'a> {
    pub fn raw(&self) -> RawAttr {
        RawAttr {
            ty: self.raw_ty,
            value: self.value.to_vec(),
        }
    }
    fn need(&self, n: usize) -> Result<()> {
        if self.value.len() < n {
            Err(Error::truncated(n, self.value.len(), 0).context(format!("attr {}", self.ty)))
        } else {
            Ok(())
        }
    }
    pub fn u8(&self) -> Result<u8> {
        self.need(1)?;
        Ok(self.value[0])
    }
    pub fn be16(&self) -> Result<u16> {
        self.need(2)?;
        Ok(u16::from_be_bytes([self.value[0], self.value[1]]))
    }
    pub fn be32(&self) -> Result<u32> {
        self.need(4)?;
        Ok(u32::from_be_bytes([
            self.value[0],
            self.value[1],
            self.value[2],
            self.value[3],
        ]))
    }
    pub fn be64(&self) -> Result<u64> {
        self.need(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(&self.value[..8]);
        Ok(u64::from_be_bytes(a))
    }
    pub fn ne32(&self) -> Result<u32> {
        self.need(4)?;
        Ok(u32::from_ne_bytes([
            self.value[0],
            self.value[1],
            self.value[2],
            self.value[3],
        ]))
    }
    /// A NUL-terminated string (the NUL and anything after it dropped; invalid UTF-8 replaced).
    pub fn string(&self) -> Result<String> {
        let b = self.c_str_bytes();
        Ok(match std::str::from_utf8(b) {
            Ok(s) => s.to_owned(),
            Err(_) => String::from_utf8_lossy(b).into_owned(),
        })
    }
    /// The value up to its first NUL (a C string's bytes), borrowed.
    pub fn c_str_bytes(&self) -> &'a [u8] {
        let end = self
            .value
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(self.value.len());
        &self.value[..end]
    }
    pub fn nested(&self) -> Attrs<'a> {
        Attrs::new(self.value)
    }
}

/// Iterator over attributes; yields one error then stops on a malformed header.
#[derive(Debug, Clone)]
pub struct Attrs<'a> {
    buf: &'a [u8],
    off: usize,
    failed: bool,
}

impl<'a> Attrs<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Attrs {
            buf,
            off: 0,
            failed: false,
        }
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<Attr<'a>>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.off >= self.buf.len() {
            return None;
        }
        let rest = &self.buf[self.off..];
        if rest.len() < 4 {
            self.failed = true;
            return Some(Err(
                Error::truncated(4, rest.len(), self.off).context("nlattr")
            ));
        }
        let len = u16_ne(rest, 0) as usize;
        let raw_ty = u16_ne(rest, 2);
        if len < 4 || len > rest.len() {
            self.failed = true;
            return Some(Err(Error::invalid(format!(
                "nla_len {len} at +{} with {} bytes left",
                self.off,
                rest.len()
            ))
            .context(format!("nlattr type {}", raw_ty & NLA_TYPE_MASK))));
        }
        let a = Attr {
            ty: raw_ty & NLA_TYPE_MASK,
            raw_ty,
            value: &rest[4..len],
        };
        self.off += align(len).min(rest.len());
        Some(Ok(a))
    }
}

/// Append one attribute to `buf`.
pub fn emit(buf: &mut Vec<u8>, ty: u16, value: &[u8]) {
    let len = 4 + value.len();
    buf.extend_from_slice(&(len as u16).to_ne_bytes());
    buf.extend_from_slice(&ty.to_ne_bytes());
    buf.extend_from_slice(value);
    buf.resize(buf.len() + (align(len) - len), 0);
}

/// Append a nested attribute built by `f`.
pub fn emit_nested(buf: &mut Vec<u8>, ty: u16, f: impl FnOnce(&mut Vec<u8>)) {
    let start = buf.len();
    buf.extend_from_slice(&[0, 0]);
    buf.extend_from_slice(&(ty | NLA_F_NESTED).to_ne_bytes());
    f(buf);
    let len = (buf.len() - start) as u16;
    buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iterate_and_reject_lies() {
        let mut b = Vec::new();
        emit(&mut b, 1, b"filter\0");
        emit(&mut b, 2, &5u32.to_be_bytes());
        let v: Vec<_> = Attrs::new(&b).collect::<Result<_>>().unwrap();
        assert_eq!(v[0].string().unwrap(), "filter");
        assert_eq!(v[1].be32().unwrap(), 5);
        for cut in 1..b.len() {
            if cut == 11 || cut == 12 {
                continue; // the first attribute complete, padded or not: a valid shorter list
            }
            assert!(
                Attrs::new(&b[..cut]).collect::<Result<Vec<_>>>().is_err(),
                "cut {cut}"
            );
        }
    }
}
