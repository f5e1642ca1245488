//! The fuzz target's property, run on every test pass (the libFuzzer target in fuzz/ runs the
//! same code for longer): a real dump, re-encoded as netlink messages and then corrupted, is
//! decoded and rendered (nft text, iptables-save, JSON) without a panic.

use nfscope::iptnft::{self, Reader};
use nfscope::snapshot::{self, Options};
use nfscope::wire::nfnl;
use nfscope::wire::nft::{msg, Family};
use nfscope::wire::nl::MessageBuilder;
use nfscope_tests::Netns;
use proptest::prelude::*;
use std::sync::OnceLock;

const RULESET: &str = "table inet filter {\n set s { type ipv4_addr; flags interval; elements = { 10.0.0.0/8, 192.168.1.1 } }\n map m { type inet_service : verdict; elements = { 22 : accept } }\n chain input { type filter hook input priority 0; policy drop;\n  ct state established,related accept\n  tcp dport { 22, 80, 443 } counter accept comment \"web\"\n  ip saddr @s drop\n  tcp dport vmap @m\n  meta mark & 0x8000 == 0x8000 log prefix \"x \" drop\n }\n}\ntable ip nat {\n chain post { type nat hook postrouting priority 100; oifname \"eth0\" masquerade; }\n}\n";

/// The dump as the kernel would send it: one NEW* message per object.
fn dump() -> &'static Vec<u8> {
    static D: OnceLock<Vec<u8>> = OnceLock::new();
    D.get_or_init(|| {
        let ns = Netns::new("fuzz");
        ns.nft_load(RULESET);
        ns.ok(
            "iptables-nft",
            &[
                "-A",
                "INPUT",
                "-p",
                "tcp",
                "-m",
                "multiport",
                "--dports",
                "1,2",
                "-m",
                "comment",
                "--comment",
                "c",
                "-j",
                "ACCEPT",
            ],
        );
        let (rs, _) = snapshot::take_in_netns(ns.name(), &Options::default()).expect("snapshot");
        let mut buf = Vec::new();
        let mut put = |m: u8, fam: Family, attrs: &[u8]| {
            let mut b = MessageBuilder::new(
                &mut buf,
                ((nfnl::NFNL_SUBSYS_NFTABLES as u16) << 8) | m as u16,
                0,
                0,
            );
            b.bytes(&nfnl::nfgenmsg(fam.to_u8(), 0)).bytes(attrs);
            b.finish();
        };
        for t in &rs.tables {
            let mut a = Vec::new();
            t.attrs.emit(&mut a);
            put(msg::NEWTABLE, t.family, &a);
            for s in &t.sets {
                let mut a = Vec::new();
                s.attrs.emit(&mut a);
                put(msg::NEWSET, t.family, &a);
                let l = nfscope::wire::nft::SetElemList {
                    table: s.attrs.table.clone(),
                    set: s.attrs.name.clone(),
                    elements: Some(nfscope::wire::nft::SetElems(s.elements.clone())),
                    ..Default::default()
                };
                let mut a = Vec::new();
                l.emit(&mut a);
                put(msg::NEWSETELEM, t.family, &a);
            }
            for c in &t.chains {
                let mut a = Vec::new();
                c.attrs.emit(&mut a);
                put(msg::NEWCHAIN, t.family, &a);
                for r in &c.rules {
                    let mut a = Vec::new();
                    r.emit(&mut a);
                    put(msg::NEWRULE, t.family, &a);
                }
            }
        }
        // The re-encoded dump decodes to the same ruleset.
        let back = nfscope::change::decode_dump(&buf).expect("decode");
        assert_eq!(back.rule_count(), rs.rule_count());
        buf
    })
}

fn render(data: &[u8]) {
    if let Ok(rs) = nfscope::change::decode_dump(data) {
        for xt in nfscope::render::nft::XtStyle::ALL {
            let opts = nfscope::render::nft::NftOptions {
                xt,
                ..Default::default()
            };
            let _ = nfscope::render::nft::ruleset(&rs, &opts);
            let _ = nfscope::json::document(&rs, &opts);
        }
        let _ = iptnft::save(&rs, Family::Ip, Reader::From188, true);
        let _ = iptnft::save(&rs, Family::Inet, Reader::Upto187, false);
        let _ = nfscope::lint::run(&nfscope::lint::Input {
            nft: &rs,
            legacy: &[],
            node: None,
        });
    }
}

#[test]
fn the_whole_dump_renders() {
    let d = dump();
    let rs = nfscope::change::decode_dump(d).expect("decode");
    let text = nfscope::render::nft::ruleset(&rs, &Default::default());
    assert!(
        text.contains("tcp dport { 22, 80, 443 } counter packets 0 bytes 0 accept comment \"web\""),
        "{text}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    /// Overwrite a few bytes anywhere in the dump.
    #[test]
    fn corrupted_dumps_never_panic(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let mut d = dump().clone();
        for (i, v) in edits {
            let n = d.len();
            d[i % n] = v;
        }
        render(&d);
    }

    /// Cut the dump anywhere.
    #[test]
    fn truncated_dumps_never_panic(cut in any::<usize>()) {
        let d = dump();
        render(&d[..cut % d.len()]);
    }
}
