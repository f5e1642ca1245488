//! iptables-save text for legacy x_tables and for nf_tables rules written by iptables-nft.
