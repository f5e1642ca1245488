//! Who wrote each rule: a consistent snapshot of nf_tables, every rule printed as nft prints it
//! with the tool and version band that wrote it.
//!
//! `snapshot_writers [NETNS]` (an `ip netns` name or a path such as `/proc/PID/ns/net`; needs
//! root or CAP_NET_ADMIN).
use nfscope::render::nft::{self, NftOptions};
use nfscope::{provenance, snapshot};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let opts = snapshot::Options::default();
    let (ruleset, _stats) = match std::env::args().nth(1) {
        Some(ns) => snapshot::take_in_netns(&ns, &opts)?,
        None => snapshot::take(&opts)?,
    };
    let text = NftOptions::default();
    for table in &ruleset.tables {
        let info = provenance::TableInfo::of(table);
        for chain in &table.chains {
            for rule in &chain.rules {
                let writer = provenance::of_rule_in(&info, table, chain, &rule);
                println!(
                    "{} {} {}: {}  # {}",
                    table.family,
                    table.name(),
                    chain.name(),
                    nft::rule(table, chain, &rule, &text),
                    writer.summary()
                );
            }
        }
    }
    Ok(())
}
