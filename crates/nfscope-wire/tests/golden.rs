//! Golden bytes captured from the kernel, and property tests over them: every truncation or
//! corruption gives a typed error or an Unknown node, never a panic.
//!
//! Captured on kernel 6.18 with nft 1.0.6 in a throw-away netns:
//!   nft -f - <<< 'table ip filter { chain INPUT { type filter hook input priority 0; policy accept;
//!     ip saddr 10.0.0.0/8 tcp dport 80 counter accept comment "web"
//!     meta mark & 0x00008000 == 0x00008000 drop } }'
//!   ip netns exec NS target/debug/examples/capture rules|chains   (attributes after nfgenmsg)

#![allow(clippy::unwrap_used)]

use nfscope_wire::nft::expr::{self, Expr};
use nfscope_wire::nft::{self, Data, VerdictCode};
use proptest::prelude::*;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// `ip saddr 10.0.0.0/8 tcp dport 80 counter accept comment "web"`
const RULE_WEB: &str = "0b00010066696c74657200000a000200494e5055540000000c000300000000000000000270010400340001000c0001007061796c6f6164002400020008000100000000010800020000000001080003000000000c08000400000000012c00010008000100636d700020000200080001000000000108000200000000000c000300050001000a00000024000100090001006d6574610000000014000200080002000000001008000100000000012c00010008000100636d700020000200080001000000000108000200000000000c0003000500010006000000340001000c0001007061796c6f6164002400020008000100000000010800020000000002080003000000000208000400000000022c00010008000100636d700020000200080001000000000108000200000000000c00030006000100005000002c0001000c000100636f756e746572001c0002000c00010000000000000000000c0002000000000000000000300001000e000100696d6d6564696174650000001c0002000800010000000000100002000c00020008000100000000010a0007000004776562000000";
/// `meta mark & 0x00008000 == 0x00008000 drop`
const RULE_MARK: &str = "0b00010066696c74657200000a000200494e5055540000000c00030000000000000000030c0006000000000000000002d000040024000100090001006d6574610000000014000200080002000000000308000100000000014c0001000c00010062697477697365003c00020008000100000000010800020000000001080003000000000408000600000000000c00040008000100008000000c00050008000100000000002c00010008000100636d700020000200080001000000000108000200000000000c0003000800010000800000300001000e000100696d6d6564696174650000001c0002000800010000000000100002000c0002000800010000000000";
/// `chain INPUT { type filter hook input priority 0; policy accept; }`
const CHAIN_INPUT: &str = "0b00010066696c74657200000a000300494e5055540000000c0002000000000000000001140004000800010000000001080002000000000008000500000000010b00070066696c746572000008000a00000000010800060000000002";

#[test]
fn rule_web_decodes_exactly() {
    let r = nft::Rule::parse(&unhex(RULE_WEB)).unwrap();
    assert_eq!(r.table.as_deref(), Some("filter"));
    assert_eq!(r.chain.as_deref(), Some("INPUT"));
    assert_eq!(r.handle, Some(2));
    assert_eq!(r.comment().as_deref(), Some("web"));
    assert!(r.unknown.is_empty());
    let e = r.expressions.unwrap();
    let names: Vec<&str> = e.iter().map(|x| x.name()).collect();
    assert_eq!(
        names,
        [
            "payload",
            "cmp",
            "meta",
            "cmp",
            "payload",
            "cmp",
            "counter",
            "immediate"
        ]
    );
    // [ payload load 1b @ network header + 12 => reg 1 ]  (/8 prefix: one byte compared)
    match &e[0] {
        Expr::Payload(p) => {
            assert_eq!(
                (p.dreg, p.base, p.offset, p.len),
                (Some(1), Some(1), Some(12), Some(1))
            );
        }
        x => panic!("{x:?}"),
    }
    match &e[1] {
        Expr::Cmp(c) => {
            assert_eq!(c.op, Some(0));
            assert_eq!(c.data, Some(Data::Value(vec![10])));
        }
        x => panic!("{x:?}"),
    }
    // meta l4proto (16) == 6 (tcp); payload th+2/2 == 0x0050
    assert!(matches!(&e[2], Expr::Meta(m) if m.key == Some(16)));
    assert!(matches!(&e[3], Expr::Cmp(c) if c.data == Some(Data::Value(vec![6]))));
    assert!(matches!(&e[4], Expr::Payload(p) if p.base == Some(2) && p.offset == Some(2)));
    assert!(matches!(&e[5], Expr::Cmp(c) if c.data == Some(Data::Value(vec![0, 80]))));
    assert!(matches!(&e[6], Expr::Counter(c) if c.packets == Some(0)));
    match &e[7] {
        Expr::Immediate(i) => {
            assert_eq!(i.dreg, Some(0));
            assert_eq!(
                i.data.as_ref().and_then(|d| d.verdict()).map(|v| v.code),
                Some(VerdictCode::Accept)
            );
        }
        x => panic!("{x:?}"),
    }
}

#[test]
fn rule_mark_decodes_exactly() {
    let r = nft::Rule::parse(&unhex(RULE_MARK)).unwrap();
    let e = r.expressions.unwrap();
    match &e[1] {
        Expr::Bitwise(b) => {
            assert_eq!(b.len, Some(4));
            assert_eq!(b.mask, Some(Data::Value(vec![0, 0x80, 0, 0])));
            assert_eq!(b.xor, Some(Data::Value(vec![0, 0, 0, 0])));
            assert_eq!(b.op, Some(0));
        }
        x => panic!("{x:?}"),
    }
    let verdict = |e: &Expr| match e {
        Expr::Immediate(i) => i.data.as_ref().and_then(|d| d.verdict()).map(|v| v.code),
        _ => None,
    };
    assert_eq!(verdict(&e[3]), Some(VerdictCode::Drop));
}

#[test]
fn chain_decodes_exactly() {
    let c = nft::Chain::parse(&unhex(CHAIN_INPUT)).unwrap();
    assert_eq!(c.name.as_deref(), Some("INPUT"));
    assert_eq!(c.chain_type.as_deref(), Some("filter"));
    assert_eq!(c.policy, Some(1));
    let h = c.hook.unwrap();
    assert_eq!((h.hooknum, h.priority), (Some(1), Some(0)));
}

#[test]
fn emit_then_parse_is_identity() {
    let c = nft::Chain::parse(&unhex(CHAIN_INPUT)).unwrap();
    let mut out = Vec::new();
    c.emit(&mut out);
    assert_eq!(nft::Chain::parse(&out).unwrap(), c);
    for hex in [RULE_WEB, RULE_MARK] {
        let r = nft::Rule::parse(&unhex(hex)).unwrap();
        let mut out = Vec::new();
        r.emit(&mut out);
        assert_eq!(nft::Rule::parse(&out).unwrap(), r);
    }
}

#[test]
fn every_truncation_is_an_error_or_shorter_never_a_panic() {
    for hex in [RULE_WEB, RULE_MARK] {
        let b = unhex(hex);
        let full = nft::Rule::parse(&b).unwrap();
        for cut in 0..b.len() {
            if b.len() - cut < 4 && b[cut..].iter().all(|&x| x == 0) {
                continue; // only the last attribute's padding is cut: still the whole rule
            }
            if let Ok(r) = nft::Rule::parse(&b[..cut]) {
                assert_ne!(r, full, "a {cut}-byte prefix decoded as the whole rule");
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// Overwriting any byte of a real rule never panics.
    #[test]
    fn corrupted_rules_never_panic(idx in 0usize..600, val in any::<u8>(), which in 0usize..2) {
        let mut b = unhex([RULE_WEB, RULE_MARK][which]);
        let i = idx % b.len();
        b[i] = val;
        let parsed = nft::Rule::parse(&b);
        // The snapshot keeps rules after `Rule::check` alone: it must accept exactly what
        // `parse` accepts, with the same handle, and every truncation likewise.
        let checked = nft::Rule::check(&b);
        prop_assert_eq!(parsed.as_ref().ok().map(|r| r.handle), checked.as_ref().ok().copied());
        for cut in [i, b.len() / 2, b.len().saturating_sub(3)] {
            prop_assert_eq!(
                nft::Rule::parse(&b[..cut]).ok().map(|r| r.handle),
                nft::Rule::check(&b[..cut]).ok()
            );
        }
    }

    /// `Rule::check` agrees with `Rule::parse` on arbitrary bytes too.
    #[test]
    fn check_agrees_with_parse(b in proptest::collection::vec(any::<u8>(), 0..256)) {
        prop_assert_eq!(nft::Rule::parse(&b).ok().map(|r| r.handle), nft::Rule::check(&b).ok());
    }

    /// Arbitrary bytes into every object parser and the expression list parser.
    #[test]
    fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = nft::Table::parse(&b);
        let _ = nft::Chain::parse(&b);
        let _ = nft::Rule::parse(&b);
        let _ = nft::Set::parse(&b);
        let _ = nft::SetElemList::parse(&b);
        let _ = nft::Obj::parse(&b).map(|o| o.decode_data());
        let _ = nft::Flowtable::parse(&b);
        let _ = nft::Gen::parse(&b);
        let _ = expr::parse_list(&b);
        let _ = expr::parse_one(&b);
        for m in nfscope_wire::nl::Messages::new(&b) {
            if m.is_err() { break; }
        }
    }
}

/// `Rule::names_ipsets` sees an xt `set` match / `SET` target by walking frames only, and
/// `Rule::xt_use` any xt match or target.
#[test]
fn names_ipsets_finds_xt_set_only() {
    use nfscope_wire::nft::expr::{XtMatch, XtTarget};
    use nfscope_wire::nft::object::Bytes;
    let mut r = nft::Rule::parse(&unhex(RULE_WEB)).unwrap();
    let plain = {
        let mut b = Vec::new();
        r.emit(&mut b);
        b
    };
    assert!(!nft::Rule::names_ipsets(&plain));
    assert!(!nft::Rule::xt_use(&plain).xt);
    for (e, want) in [
        (
            Expr::Match(XtMatch {
                name: Some("set".into()),
                rev: Some(4),
                info: Some(Bytes(vec![0; 40])),
                ..Default::default()
            }),
            true,
        ),
        (
            Expr::Target(XtTarget {
                name: Some("SET".into()),
                rev: Some(3),
                info: Some(Bytes(vec![0; 40])),
                ..Default::default()
            }),
            true,
        ),
        (
            Expr::Match(XtMatch {
                name: Some("settle".into()),
                rev: Some(0),
                info: None,
                ..Default::default()
            }),
            false,
        ),
        (
            Expr::Target(XtTarget {
                name: Some("set".into()),
                rev: Some(0),
                info: None,
                ..Default::default()
            }),
            false,
        ),
    ] {
        r.expressions.as_mut().unwrap().push(e);
        let mut b = Vec::new();
        r.emit(&mut b);
        assert_eq!(
            nft::Rule::names_ipsets(&b),
            want,
            "{:?}",
            r.expressions.as_ref().unwrap().last()
        );
        assert!(nft::Rule::xt_use(&b).xt);
        r.expressions.as_mut().unwrap().pop();
    }
    // Never panics on truncations.
    for cut in 0..plain.len() {
        let _ = nft::Rule::names_ipsets(&plain[..cut]);
    }
}
