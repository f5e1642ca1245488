//! Test harness: network namespaces and real tools.
