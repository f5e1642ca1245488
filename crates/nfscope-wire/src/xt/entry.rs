//! Legacy table blobs: `ipt_entry`, `ip6t_entry`, `arpt_entry`.
