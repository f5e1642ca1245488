//! nfscope: read the kernel's firewall state (nf_tables over netlink, legacy x_tables over
//! getsockopt), model it, render it (nft text, iptables-save text, JSON), and say who wrote it.
pub use nfscope_wire as wire;
