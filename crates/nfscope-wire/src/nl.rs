//! Netlink framing: `struct nlmsghdr` (linux/netlink.h) and `struct nlmsgerr`.
//!
//! ```text
//! struct nlmsghdr {          offset
//!     __u32 nlmsg_len;       0   length of header + payload (native endian)
//!     __u16 nlmsg_type;      4
//!     __u16 nlmsg_flags;     6
//!     __u32 nlmsg_seq;       8
//!     __u32 nlmsg_pid;       12
//! };                         16 bytes, messages aligned to 4
//! ```
//! A [`Message`] is a checked view: once [`Messages`] yields it, no accessor can panic.

use crate::error::{Error, ErrorKind, Result};

pub const HDR_LEN: usize = 16;
pub const ALIGNTO: usize = 4;

pub const NLMSG_NOOP: u16 = 1;
pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const NLMSG_OVERRUN: u16 = 4;

pub const NLM_F_REQUEST: u16 = 0x01;
pub const NLM_F_MULTI: u16 = 0x02;
pub const NLM_F_ACK: u16 = 0x04;
pub const NLM_F_ECHO: u16 = 0x08;
pub const NLM_F_DUMP_INTR: u16 = 0x10;
pub const NLM_F_DUMP_FILTERED: u16 = 0x20;
pub const NLM_F_ROOT: u16 = 0x100;
pub const NLM_F_MATCH: u16 = 0x200;
pub const NLM_F_DUMP: u16 = NLM_F_ROOT | NLM_F_MATCH;
pub const NLM_F_REPLACE: u16 = 0x100;
pub const NLM_F_EXCL: u16 = 0x200;
pub const NLM_F_CREATE: u16 = 0x400;
pub const NLM_F_APPEND: u16 = 0x800;

/// Round `n` up to the netlink alignment.
pub const fn align(n: usize) -> usize {
    (n + ALIGNTO - 1) & !(ALIGNTO - 1)
}

pub(crate) fn u16_ne(b: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([b[at], b[at + 1]])
}
pub(crate) fn u32_ne(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// One netlink message, borrowed from a receive buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    pub ty: u16,
    pub flags: u16,
    pub seq: u32,
    pub pid: u32,
    /// Everything after the 16-byte header, up to `nlmsg_len`.
    pub payload: &'a [u8],
}

impl<'a> Message<'a> {
    /// If this is an `NLMSG_ERROR`, the errno it carries (0 = ACK). Truncated error messages are
    /// an error themselves.
    pub fn error_code(&self) -> Result<Option<i32>> {
        if self.ty != NLMSG_ERROR {
            return Ok(None);
        }
        if self.payload.len() < 4 {
            return Err(Error::truncated(4, self.payload.len(), HDR_LEN).context("nlmsgerr"));
        }
        Ok(Some(i32::from_ne_bytes([
            self.payload[0],
            self.payload[1],
            self.payload[2],
            self.payload[3],
        ])))
    }

    /// `NLMSG_ERROR` with a non-zero code as an [`Error`].
    pub fn check_error(&self) -> Result<()> {
        match self.error_code()? {
            Some(e) if e != 0 => Err(Error {
                kind: ErrorKind::Netlink { errno: -e },
                path: vec![],
            }),
            _ => Ok(()),
        }
    }

    pub fn is_done(&self) -> bool {
        self.ty == NLMSG_DONE
    }
    pub fn dump_interrupted(&self) -> bool {
        self.flags & NLM_F_DUMP_INTR != 0
    }
}

/// Iterator over the netlink messages in one datagram. Yields an error (and then stops) if a
/// header is truncated or its length field is impossible.
#[derive(Debug, Clone)]
pub struct Messages<'a> {
    buf: &'a [u8],
    off: usize,
    failed: bool,
}

impl<'a> Messages<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Messages {
            buf,
            off: 0,
            failed: false,
        }
    }
}

impl<'a> Iterator for Messages<'a> {
    type Item = Result<Message<'a>>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.off >= self.buf.len() {
            return None;
        }
        let rest = &self.buf[self.off..];
        if rest.len() < HDR_LEN {
            self.failed = true;
            return Some(Err(
                Error::truncated(HDR_LEN, rest.len(), self.off).context("nlmsghdr")
            ));
        }
        let len = u32_ne(rest, 0) as usize;
        if len < HDR_LEN || len > rest.len() {
            self.failed = true;
            return Some(Err(Error::invalid(format!(
                "nlmsg_len {len} at +{} with {} bytes left",
                self.off,
                rest.len()
            ))
            .context("nlmsghdr")));
        }
        let msg = Message {
            ty: u16_ne(rest, 4),
            flags: u16_ne(rest, 6),
            seq: u32_ne(rest, 8),
            pid: u32_ne(rest, 12),
            payload: &rest[HDR_LEN..len],
        };
        self.off += align(len).min(rest.len());
        Some(Ok(msg))
    }
}

/// Builds one netlink message into a byte vector (requests we send: dumps and batches).
#[derive(Debug)]
pub struct MessageBuilder<'b> {
    buf: &'b mut Vec<u8>,
    start: usize,
}

impl<'b> MessageBuilder<'b> {
    /// Start a message at the end of `buf`.
    pub fn new(buf: &'b mut Vec<u8>, ty: u16, flags: u16, seq: u32) -> Self {
        let start = buf.len();
        buf.extend_from_slice(&0u32.to_ne_bytes());
        buf.extend_from_slice(&ty.to_ne_bytes());
        buf.extend_from_slice(&flags.to_ne_bytes());
        buf.extend_from_slice(&seq.to_ne_bytes());
        buf.extend_from_slice(&0u32.to_ne_bytes());
        MessageBuilder { buf, start }
    }
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(b);
        self
    }
    /// Append one attribute (type, value), padded to 4.
    pub fn attr(&mut self, ty: u16, value: &[u8]) -> &mut Self {
        crate::attr::emit(self.buf, ty, value);
        self
    }
    pub fn attr_str(&mut self, ty: u16, s: &str) -> &mut Self {
        let mut v = Vec::with_capacity(s.len() + 1);
        v.extend_from_slice(s.as_bytes());
        v.push(0);
        self.attr(ty, &v)
    }
    pub fn attr_be32(&mut self, ty: u16, v: u32) -> &mut Self {
        self.attr(ty, &v.to_be_bytes())
    }
    /// Write the length field; the message is complete.
    pub fn finish(self) {
        let len = (self.buf.len() - self.start) as u32;
        self.buf[self.start..self.start + 4].copy_from_slice(&len.to_ne_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_truncation() {
        let mut buf = Vec::new();
        let mut m = MessageBuilder::new(&mut buf, 0x0a01, NLM_F_REQUEST | NLM_F_DUMP, 7);
        m.bytes(&[2, 0, 0, 0]).attr_str(1, "filter");
        m.finish();
        let msgs: Vec<_> = Messages::new(&buf).collect::<Result<_>>().unwrap();
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].ty, 0x0a01);
        assert_eq!(msgs[0].seq, 7);
        assert_eq!(&msgs[0].payload[..4], &[2, 0, 0, 0]);
        for cut in 1..buf.len() {
            let r: Result<Vec<_>> = Messages::new(&buf[..cut]).collect();
            assert!(r.is_err(), "prefix of {cut} bytes must fail");
        }
    }
}
