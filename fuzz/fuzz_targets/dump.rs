//! Fuzz a whole nf_tables dump: any bytes are decoded as a stream of netlink messages into a
//! ruleset, which is then rendered as nft text, iptables-save text and JSON. Nothing may panic.
//!
//! Run (cargo-fuzz needs nightly features; the stable toolchain can enable them):
//!   cargo install cargo-fuzz
//!   cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run dump -- -max_total_time=300
//! Seed corpus: `crates/nfscope/examples/capture` output of real dumps (hex → bytes).
#![no_main]
use libfuzzer_sys::fuzz_target;
use nfscope::iptnft::{self, Reader};
use nfscope::wire::nft::Family;

fuzz_target!(|data: &[u8]| {
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
        let _ = iptnft::save(&rs, Family::Ip6, Reader::Upto187, false);
    }
});
