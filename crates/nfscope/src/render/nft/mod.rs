//! nft text, as `nft list ruleset` (nftables 1.0.6) prints it.
