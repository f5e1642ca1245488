//! `NFTA_DATA_*`: a value or a verdict (nf_tables.h `enum nft_data_attributes`,
//! `enum nft_verdict_attributes`).
//!
//! ```text
//! NFTA_DATA_VALUE   (1)  binary, up to 64 bytes (registers are 4-byte words)
//! NFTA_DATA_VERDICT (2)  nested: NFTA_VERDICT_CODE (1) be32 signed,
//!                                NFTA_VERDICT_CHAIN (2) string,
//!                                NFTA_VERDICT_CHAIN_ID (3) be32
//! ```

use crate::attr::{self, Attr, Attrs, RawAttr};
use crate::error::{Context, Error, Result};
use serde::Serialize;

pub const NFTA_DATA_VALUE: u16 = 1;
pub const NFTA_DATA_VERDICT: u16 = 2;
pub const NFTA_VERDICT_CODE: u16 = 1;
pub const NFTA_VERDICT_CHAIN: u16 = 2;
pub const NFTA_VERDICT_CHAIN_ID: u16 = 3;

/// A data attribute: bytes (in the byte order of the register they fill) or a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Data {
    Value(#[serde(serialize_with = "attr::hex")] Vec<u8>),
    Verdict(Verdict),
    /// A data attribute of a type this code does not know.
    Unknown(RawAttr),
}

impl Data {
    pub fn parse(a: &Attr<'_>) -> Result<Data> {
        let mut out = None;
        for inner in a.nested() {
            let inner = inner.ctx("data")?;
            out = Some(match inner.ty {
                NFTA_DATA_VALUE => Data::Value(inner.value.to_vec()),
                NFTA_DATA_VERDICT => Data::Verdict(Verdict::parse(inner.value).ctx("verdict")?),
                _ => Data::Unknown(inner.raw()),
            });
        }
        out.ok_or_else(|| Error::invalid("empty data attribute"))
    }
    pub fn value(&self) -> Option<&[u8]> {
        match self {
            Data::Value(v) => Some(v),
            _ => None,
        }
    }
    pub fn verdict(&self) -> Option<&Verdict> {
        match self {
            Data::Verdict(v) => Some(v),
            _ => None,
        }
    }
    pub fn emit(&self, ty: u16, buf: &mut Vec<u8>) {
        attr::emit_nested(buf, ty, |b| match self {
            Data::Value(v) => attr::emit(b, NFTA_DATA_VALUE, v),
            Data::Verdict(v) => attr::emit_nested(b, NFTA_DATA_VERDICT, |b| {
                attr::emit(b, NFTA_VERDICT_CODE, &v.code.to_i32().to_be_bytes());
                if let Some(c) = &v.chain {
                    let mut s = c.as_bytes().to_vec();
                    s.push(0);
                    attr::emit(b, NFTA_VERDICT_CHAIN, &s);
                }
            }),
            Data::Unknown(r) => attr::emit(b, r.ty, &r.value),
        })
    }
}

/// Verdict codes: netfilter's `NF_*` and nf_tables' `NFT_*` (negative).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VerdictCode {
    Drop,
    Accept,
    Stolen,
    /// `NF_QUEUE`, with the queue number from the upper 16 bits.
    Queue(u16),
    Repeat,
    Stop,
    Continue,
    Break,
    Jump,
    Goto,
    Return,
    Other(i32),
}

impl VerdictCode {
    pub fn from_i32(v: i32) -> Self {
        match v {
            -1 => VerdictCode::Continue,
            -2 => VerdictCode::Break,
            -3 => VerdictCode::Jump,
            -4 => VerdictCode::Goto,
            -5 => VerdictCode::Return,
            _ if v >= 0 => match v & 0xff {
                0 if v == 0 => VerdictCode::Drop,
                1 if v == 1 => VerdictCode::Accept,
                2 if v == 2 => VerdictCode::Stolen,
                3 => VerdictCode::Queue((v as u32 >> 16) as u16),
                4 if v == 4 => VerdictCode::Repeat,
                5 if v == 5 => VerdictCode::Stop,
                _ => VerdictCode::Other(v),
            },
            _ => VerdictCode::Other(v),
        }
    }
    pub fn to_i32(self) -> i32 {
        match self {
            VerdictCode::Drop => 0,
            VerdictCode::Accept => 1,
            VerdictCode::Stolen => 2,
            VerdictCode::Queue(n) => 3 | ((n as i32) << 16),
            VerdictCode::Repeat => 4,
            VerdictCode::Stop => 5,
            VerdictCode::Continue => -1,
            VerdictCode::Break => -2,
            VerdictCode::Jump => -3,
            VerdictCode::Goto => -4,
            VerdictCode::Return => -5,
            VerdictCode::Other(n) => n,
        }
    }
}

/// A verdict: code, and for jump/goto the target chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub code: VerdictCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain_id: Option<u32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<RawAttr>,
}

impl Verdict {
    pub fn parse(buf: &[u8]) -> Result<Verdict> {
        let mut code = None;
        let mut v = Verdict {
            code: VerdictCode::Continue,
            chain: None,
            chain_id: None,
            unknown: vec![],
        };
        for a in Attrs::new(buf) {
            let a = a?;
            match a.ty {
                NFTA_VERDICT_CODE => code = Some(VerdictCode::from_i32(a.be32()? as i32)),
                NFTA_VERDICT_CHAIN => v.chain = Some(a.string()?),
                NFTA_VERDICT_CHAIN_ID => v.chain_id = Some(a.be32()?),
                _ => v.unknown.push(a.raw()),
            }
        }
        v.code = code.ok_or_else(|| Error::invalid("verdict without NFTA_VERDICT_CODE"))?;
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jump_verdict() {
        // nested NFTA_DATA_VERDICT { CODE = -3 (jump), CHAIN = "KUBE-SERVICES" }
        let d = Data::Verdict(Verdict {
            code: VerdictCode::Jump,
            chain: Some("KUBE-SERVICES".into()),
            chain_id: None,
            unknown: vec![],
        });
        let mut buf = Vec::new();
        d.emit(2, &mut buf);
        let a = Attrs::new(&buf).next().unwrap().unwrap();
        assert_eq!(Data::parse(&a).unwrap(), d);
    }

    #[test]
    fn queue_codes() {
        assert_eq!(VerdictCode::from_i32(3 | (5 << 16)), VerdictCode::Queue(5));
        assert_eq!(VerdictCode::from_i32(0), VerdictCode::Drop);
        assert_eq!(VerdictCode::from_i32(-5), VerdictCode::Return);
        assert_eq!(VerdictCode::from_i32(-9), VerdictCode::Other(-9));
    }
}
