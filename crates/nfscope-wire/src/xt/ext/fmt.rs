//! Shared pieces of the extension decoders: a bounds-checked reader over a payload whose size
//! was checked first, and the printing helpers of libxtables that the `save` functions share
//! (`xtables_save_string`, `xtables_print_mark_mask`, numeric address / mask printing).
//!
//! Contract: every [`Rd`] accessor returns `None` instead of indexing out of range, so a decoder
//! written with `?` can never panic; a `None` anywhere makes the payload [`super::Xt::Unknown`].

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

/// `XT_ALIGN`: x_tables payloads are padded to 8 bytes (`__alignof__(struct _xt_align)` on
/// x86_64).
pub const fn xt_align(n: usize) -> usize {
    (n + 7) & !7
}

/// A payload of checked size. Multi-byte fields are native endian (x86_64: little) unless the
/// accessor says `be`.
#[derive(Debug, Clone, Copy)]
pub struct Rd<'a>(pub &'a [u8]);

impl<'a> Rd<'a> {
    /// The payload if its length is `XT_ALIGN(size)` (legacy and nft_compat dumps) or exactly
    /// `size` (an unpadded nft_compat attribute), else `None`.
    pub fn sized(d: &'a [u8], size: usize) -> Option<Rd<'a>> {
        (d.len() == xt_align(size) || d.len() == size).then_some(Rd(d))
    }
    /// Like [`Rd::sized`], for structs with kernel-only trailing fields: also accepts a payload of
    /// the user-visible size (`usersize`, what the kernel copies out of the first part).
    pub fn sized_user(d: &'a [u8], size: usize, usersize: usize) -> Option<Rd<'a>> {
        Rd::sized(d, size).or_else(|| Rd::sized(d, usersize))
    }
    pub fn bytes(&self, off: usize, len: usize) -> Option<&'a [u8]> {
        self.0.get(off..off.checked_add(len)?)
    }
    pub fn arr<const N: usize>(&self, off: usize) -> Option<[u8; N]> {
        self.bytes(off, N)?.try_into().ok()
    }
    pub fn u8(&self, off: usize) -> Option<u8> {
        self.0.get(off).copied()
    }
    pub fn u16(&self, off: usize) -> Option<u16> {
        Some(u16::from_ne_bytes(self.arr(off)?))
    }
    pub fn be16(&self, off: usize) -> Option<u16> {
        Some(u16::from_be_bytes(self.arr(off)?))
    }
    pub fn u32(&self, off: usize) -> Option<u32> {
        Some(u32::from_ne_bytes(self.arr(off)?))
    }
    pub fn i32(&self, off: usize) -> Option<i32> {
        Some(i32::from_ne_bytes(self.arr(off)?))
    }
    pub fn be32(&self, off: usize) -> Option<u32> {
        Some(u32::from_be_bytes(self.arr(off)?))
    }
    pub fn u64(&self, off: usize) -> Option<u64> {
        Some(u64::from_ne_bytes(self.arr(off)?))
    }
    /// A NUL-terminated string in a fixed field of `len` bytes (all of it if no NUL).
    pub fn cstr(&self, off: usize, len: usize) -> Option<String> {
        let f = self.bytes(off, len)?;
        let end = f.iter().position(|&c| c == 0).unwrap_or(f.len());
        Some(String::from_utf8_lossy(&f[..end]).into_owned())
    }
    /// An `in_addr` (network order).
    pub fn ip4(&self, off: usize) -> Option<Ipv4Addr> {
        Some(Ipv4Addr::from(self.arr::<4>(off)?))
    }
    /// An `in6_addr`.
    pub fn ip6(&self, off: usize) -> Option<Ipv6Addr> {
        Some(Ipv6Addr::from(self.arr::<16>(off)?))
    }
}

/// `xtables_save_string`: ` value` when it is only `[A-Za-z0-9_-]` (and not empty), else
/// ` "value"` with `"`, `\` and `'` backslash-escaped.
pub fn save_string(out: &mut String, v: &str) {
    let plain = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    out.push(' ');
    if !v.is_empty() && v.chars().all(plain) {
        out.push_str(v);
        return;
    }
    out.push('"');
    for c in v.chars() {
        if matches!(c, '"' | '\\' | '\'') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

/// `xtables_print_mark_mask` (`xtables_print_val_mask` without names): ` 0xV` if the mask is
/// all ones, else ` 0xV/0xM`.
pub fn mark_mask(out: &mut String, val: u32, mask: u32) {
    if mask == u32::MAX {
        let _ = write!(out, " 0x{val:x}");
    } else {
        let _ = write!(out, " 0x{val:x}/0x{mask:x}");
    }
}

/// glibc `inet_ntop(AF_INET6)`: like Rust's `Ipv6Addr` display, except that an IPv4-compatible
/// address (`::a.b.c.d`, first 96 bits zero, not `::` / `::1`) keeps its dotted tail.
pub fn ip6(a: &Ipv6Addr) -> String {
    let s = a.segments();
    if s[..6] == [0; 6] && s[6] != 0 {
        let o = a.octets();
        return format!("::{}.{}.{}.{}", o[12], o[13], o[14], o[15]);
    }
    a.to_string()
}

/// `aa:bb:cc:dd:ee:ff` (lower-case hex, two digits a byte: `xtables_print_mac`).
pub fn mac(m: &[u8]) -> String {
    let mut s = String::with_capacity(m.len() * 3);
    for (i, b) in m.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// glibc `ether_ntoa`: `a:b:c:0:e:f` (hex without leading zeros).
pub fn ether_ntoa(m: &[u8; 6]) -> String {
    m.map(|b| format!("{b:x}")).join(":")
}

/// `xtables_print_mac_and_mask`: the address, then `/mask` unless the mask is all ones.
pub fn mac_and_mask(m: &[u8], mask: &[u8]) -> String {
    if mask.iter().all(|&b| b == 0xff) {
        mac(m)
    } else {
        format!("{}/{}", mac(m), mac(mask))
    }
}

/// `xtables_ipmask_to_numeric`: "" for /32, `/N` for a prefix, `/a.b.c.d` otherwise.
pub fn ip4_mask(m: Ipv4Addr) -> String {
    let v = u32::from(m);
    if v == u32::MAX {
        String::new()
    } else if v.leading_ones() + v.trailing_zeros() == 32 {
        format!("/{}", v.leading_ones())
    } else {
        format!("/{m}")
    }
}

/// `xtables_ip6mask_to_numeric`: "" for /128, `/N` for a prefix, `/addr` otherwise.
pub fn ip6_mask(m: Ipv6Addr) -> String {
    let v = u128::from(m);
    if v == u128::MAX {
        String::new()
    } else if v.leading_ones() + v.trailing_zeros() == 128 {
        format!("/{}", v.leading_ones())
    } else {
        format!("/{}", ip6(&m))
    }
}

/// ` OPT N` for a single port, ` OPT LO:HI` for a range (tcp, udp, sctp, dccp).
pub fn port_range(out: &mut String, opt: &str, p: [u16; 2]) {
    if p[0] == p[1] {
        let _ = write!(out, " {opt} {}", p[0]);
    } else {
        let _ = write!(out, " {opt} {}:{}", p[0], p[1]);
    }
}

/// ` !` when `inv`.
pub fn bang(out: &mut String, inv: bool) {
    if inv {
        out.push_str(" !");
    }
}

/// Names of the bits set in `v`, in table order, joined with `,`.
pub fn flag_names(out: &mut String, v: u32, names: &[(u32, &str)]) {
    let mut first = true;
    for &(bit, n) in names {
        if v & bit != 0 {
            if !first {
                out.push(',');
            }
            out.push_str(n);
            first = false;
        }
    }
}

/// The `id name` lines of an iproute2 map file (`/etc/iproute2/group`, `rt_realms`), read as
/// `xtables_lmap_init` does: `#` comments, decimal or `0x` hex ids from 0 to 255, the name up
/// to the next blank; the first line for an id wins when printing.
pub fn parse_lmap(text: &str) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let l = line.trim_start();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let (digits, radix, rest) = match l.strip_prefix("0x") {
            Some(h) => {
                let n = h.find(|c: char| !c.is_ascii_hexdigit()).unwrap_or(h.len());
                (&h[..n], 16, &h[n..])
            }
            None => {
                let n = l.find(|c: char| !c.is_ascii_digit()).unwrap_or(l.len());
                (&l[..n], 10, &l[n..])
            }
        };
        let Ok(id) = u32::from_str_radix(digits, radix) else {
            continue;
        };
        if id > 255 || !rest.starts_with(|c: char| c.is_ascii_whitespace()) {
            continue;
        }
        let rest = rest.trim_start();
        if rest.starts_with('#') {
            continue;
        }
        if let Some(name) = rest.split_ascii_whitespace().next() {
            out.push((id, name.to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_follows_xtables_save_string() {
        let mut s = String::new();
        save_string(&mut s, "KUBE-SVC_1");
        save_string(&mut s, "kubernetes service portals");
        save_string(&mut s, r#"a"b\c'd"#);
        save_string(&mut s, "");
        assert_eq!(
            s,
            r#" KUBE-SVC_1 "kubernetes service portals" "a\"b\\c\'d" """#
        );
    }

    #[test]
    fn lmap_files_as_xtables_reads_them() {
        let m = parse_lmap(
            "# device group names\n0\tdefault\n  0x10 ten # c\n300 big\n7x bad\n8\n9 # none\n",
        );
        assert_eq!(m, vec![(0, "default".to_string()), (16, "ten".to_string())]);
    }

    #[test]
    fn masks() {
        assert_eq!(ip4_mask(Ipv4Addr::new(255, 255, 255, 255)), "");
        assert_eq!(ip4_mask(Ipv4Addr::new(255, 255, 0, 0)), "/16");
        assert_eq!(ip4_mask(Ipv4Addr::new(255, 0, 255, 0)), "/255.0.255.0");
        assert_eq!(ip6_mask(Ipv6Addr::from(u128::MAX << 64)), "/64");
        assert_eq!(
            ip6(&Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0x102, 0x304)),
            "::1.2.3.4"
        );
        assert_eq!(ip6(&Ipv6Addr::LOCALHOST), "::1");
    }
}
