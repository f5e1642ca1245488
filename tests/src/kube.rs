//! A kube-proxy (iptables mode) ruleset of S services × E endpoints, as `iptables-restore` text.
//!
//! The shape is what kube-proxy writes for ClusterIP services (see DESIGN.md, "Measured
//! anchors"): in the `nat` table, per service one `KUBE-SERVICES` rule matching the VIP and port,
//! a `KUBE-SVC-…` chain holding a masquerade-mark rule and one `-m statistic --mode random
//! --probability P` jump per endpoint, and per endpoint a `KUBE-SEP-…` chain with
//! `-s EP/32 -j KUBE-MARK-MASQ` and `-j DNAT --to-destination EP:80`. Around it the fixed
//! `KUBE-MARK-MASQ`, `KUBE-POSTROUTING`, `KUBE-FIREWALL`, `KUBE-FORWARD` chains and their jumps
//! from the base chains.
//!
//! Differences from real kube-proxy, on purpose: every endpoint jump carries a `statistic`
//! match (kube-proxy leaves it off the last one; here the last one has probability 1), so the
//! rule shapes are uniform; chain name hashes are a deterministic mix of the index, not
//! SHA-256 of the service name.
//!
//! Counts: exactly `S·(2 + 3E) + 11` rules and `S·(1 + E) + 12` chains (7 base
//! chains, 5 fixed user chains). 10,000 × 2 gives 80,011 rules and 30,012 chains, the anchor
//! ruleset. Output is deterministic: the same (S, E) always gives the same bytes.
//!
//! Addresses: service *i* has VIP `10.96.0.0 + i + 1` (10.96.0.0/12 holds a million), endpoint
//! *j* of service *i* is `10.244.0.0 + i·E + j + 1` (10.244.0.0/14 holds 262,143 endpoints).

use std::fmt::Write;
use std::net::Ipv4Addr;

/// The pod network the masquerade rule excludes (`! -s`).
pub const CLUSTER_CIDR: &str = "10.244.0.0/14";
/// The port every service and endpoint uses.
pub const PORT: u16 = 80;
/// Rules outside the per-service part (filter: 5, nat: 6).
pub const FIXED_RULES: usize = 11;
/// Chains outside the per-service part (7 base chains + 5 user chains).
pub const FIXED_CHAINS: usize = 12;

/// A kube-proxy ruleset of `services` × `endpoints`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kube {
    pub services: usize,
    pub endpoints: usize,
}

impl Kube {
    /// `services` services with `endpoints` endpoints each. Addresses run out past 1,048,574
    /// services or 262,143 endpoints in total; [`Kube::restore_text`] panics beyond that.
    pub fn new(services: usize, endpoints: usize) -> Kube {
        Kube {
            services,
            endpoints,
        }
    }

    /// The anchor ruleset (10,000 × 2) scaled by `factor` in services (0.1 → 1,000 services).
    pub fn scaled(factor: f64) -> Kube {
        Kube::new((10_000.0 * factor).round().max(1.0) as usize, 2)
    }

    /// Rules the ruleset holds once loaded.
    pub fn rules(&self) -> usize {
        self.services * (2 + 3 * self.endpoints) + FIXED_RULES
    }

    /// Chains the ruleset holds once loaded (base chains included).
    pub fn chains(&self) -> usize {
        self.services * (1 + self.endpoints) + FIXED_CHAINS
    }

    /// The `namespace/name:port` a service's comments carry.
    pub fn service_name(i: usize) -> String {
        format!("ns{}/svc-{i}:http", i % 100)
    }

    /// Cluster IP of service `i`.
    pub fn vip(&self, i: usize) -> Ipv4Addr {
        offset(Ipv4Addr::new(10, 96, 0, 0), i + 1)
    }

    /// Address of endpoint `j` of service `i`.
    pub fn endpoint(&self, i: usize, j: usize) -> Ipv4Addr {
        offset(Ipv4Addr::new(10, 244, 0, 0), i * self.endpoints + j + 1)
    }

    /// `KUBE-SVC-…` chain of service `i`.
    pub fn svc_chain(&self, i: usize) -> String {
        format!("KUBE-SVC-{}", hash_name(i as u64))
    }

    /// `KUBE-SEP-…` chain of endpoint `j` of service `i`.
    pub fn sep_chain(&self, i: usize, j: usize) -> String {
        format!(
            "KUBE-SEP-{}",
            hash_name((1 << 40) | (i * self.endpoints + j) as u64)
        )
    }

    /// The whole ruleset as `iptables-restore` input (tables `filter` and `nat`).
    pub fn restore_text(&self) -> String {
        assert!(
            self.services < (1 << 20) - 1 && self.services * self.endpoints < (1 << 18) - 1,
            "{self:?}: out of addresses"
        );
        let mut s = String::with_capacity(self.services * (self.endpoints + 1) * 330 + 4096);
        s.push_str(FILTER);
        s.push_str(
            "*nat\n\
             :PREROUTING ACCEPT [0:0]\n\
             :INPUT ACCEPT [0:0]\n\
             :OUTPUT ACCEPT [0:0]\n\
             :POSTROUTING ACCEPT [0:0]\n\
             :KUBE-MARK-MASQ - [0:0]\n\
             :KUBE-POSTROUTING - [0:0]\n\
             :KUBE-SERVICES - [0:0]\n",
        );
        for i in 0..self.services {
            let _ = writeln!(s, ":{} - [0:0]", self.svc_chain(i));
            for j in 0..self.endpoints {
                let _ = writeln!(s, ":{} - [0:0]", self.sep_chain(i, j));
            }
        }
        s.push_str(
            "-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n\
             -A OUTPUT -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\n\
             -A POSTROUTING -m comment --comment \"kubernetes postrouting rules\" -j KUBE-POSTROUTING\n\
             -A KUBE-MARK-MASQ -j MARK --or-mark 0x4000\n\
             -A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n\
             -A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE --random-fully\n",
        );
        for i in 0..self.services {
            let name = Kube::service_name(i);
            let vip = self.vip(i);
            let svc = self.svc_chain(i);
            let _ = writeln!(
                s,
                "-A KUBE-SERVICES -d {vip}/32 -p tcp -m comment --comment \"{name} cluster IP\" \
                 -m tcp --dport {PORT} -j {svc}"
            );
            let _ = writeln!(
                s,
                "-A {svc} ! -s {CLUSTER_CIDR} -d {vip}/32 -p tcp -m comment --comment \"{name} \
                 cluster IP\" -m tcp --dport {PORT} -j KUBE-MARK-MASQ"
            );
            for j in 0..self.endpoints {
                let ep = self.endpoint(i, j);
                // kube-proxy's spread: endpoint j of E is taken with probability 1/(E-j).
                let p = 1.0 / (self.endpoints - j) as f64;
                let _ = writeln!(
                    s,
                    "-A {svc} -m comment --comment \"{name} -> {ep}:{PORT}\" -m statistic \
                     --mode random --probability {p:.11} -j {}",
                    self.sep_chain(i, j)
                );
            }
            for j in 0..self.endpoints {
                let ep = self.endpoint(i, j);
                let sep = self.sep_chain(i, j);
                let _ = writeln!(
                    s,
                    "-A {sep} -s {ep}/32 -m comment --comment \"{name}\" -j KUBE-MARK-MASQ"
                );
                let _ = writeln!(
                    s,
                    "-A {sep} -p tcp -m comment --comment \"{name}\" -m tcp -j DNAT \
                     --to-destination {ep}:{PORT}"
                );
            }
        }
        s.push_str("COMMIT\n");
        s
    }
}

/// The filter table: 3 base chains, `KUBE-FIREWALL`, `KUBE-FORWARD`, 5 rules.
const FILTER: &str = "*filter\n\
:INPUT ACCEPT [0:0]\n\
:FORWARD ACCEPT [0:0]\n\
:OUTPUT ACCEPT [0:0]\n\
:KUBE-FIREWALL - [0:0]\n\
:KUBE-FORWARD - [0:0]\n\
-A INPUT -j KUBE-FIREWALL\n\
-A FORWARD -m comment --comment \"kubernetes forwarding rules\" -j KUBE-FORWARD\n\
-A OUTPUT -j KUBE-FIREWALL\n\
-A KUBE-FIREWALL ! -s 127.0.0.0/8 -d 127.0.0.0/8 -m comment --comment \"block incoming localnet connections\" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP\n\
-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark 0x4000/0x4000 -j ACCEPT\n\
COMMIT\n";

fn offset(base: Ipv4Addr, n: usize) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(base).wrapping_add(n as u32))
}

/// 16 characters of base32 (A–Z, 2–7) like kube-proxy's hashed chain names. The first 13
/// characters encode splitmix64's finalizer of `n`, a bijection on u64, so distinct `n` give
/// distinct names.
fn hash_name(n: u64) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mix = |mut z: u64| {
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let a = mix(n);
    let b = mix(a ^ 0x9e37_79b9_7f4a_7c15);
    // 64 bits of `a` then 16 bits of `b`: 80 bits, 16 symbols of 5 bits.
    let bits: u128 = ((a as u128) << 16) | (b & 0xffff) as u128;
    (0..16)
        .rev()
        .map(|k| ALPHABET[((bits >> (5 * k)) & 31) as usize] as char)
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::Netns;
    use std::collections::HashSet;

    fn count(text: &str) -> (usize, usize) {
        let rules = text.lines().filter(|l| l.starts_with("-A ")).count();
        let chains = text.lines().filter(|l| l.starts_with(':')).count();
        (rules, chains)
    }

    #[test]
    fn anchor_counts() {
        let k = Kube::new(10_000, 2);
        assert_eq!((k.rules(), k.chains()), (80_011, 30_012));
        let text = k.restore_text();
        assert_eq!(count(&text), (80_011, 30_012));
        assert_eq!(Kube::scaled(1.0), k);
        assert_eq!(Kube::scaled(0.1), Kube::new(1_000, 2));
    }

    #[test]
    fn counts_follow_formula() {
        for (s, e) in [(0, 2), (1, 1), (3, 2), (7, 5), (100, 3)] {
            let k = Kube::new(s, e);
            assert_eq!(count(&k.restore_text()), (k.rules(), k.chains()), "{k:?}");
        }
    }

    #[test]
    fn deterministic_and_names_unique() {
        let k = Kube::new(2_000, 3);
        let text = k.restore_text();
        assert_eq!(text, Kube::new(2_000, 3).restore_text());
        // User chains (base chain names repeat across tables).
        let decls: Vec<&str> = text.lines().filter(|l| l.starts_with(":KUBE-")).collect();
        assert_eq!(decls.len(), k.chains() - 7);
        let uniq: HashSet<&str> = decls.iter().copied().collect();
        assert_eq!(uniq.len(), decls.len(), "duplicate chain names");
        // iptables chain names are at most 28 characters (XT_EXTENSION_MAXNAMELEN - 1 - 2).
        assert!(decls
            .iter()
            .all(|d| d.split(' ').next().unwrap().len() - 1 <= 28));
        assert_eq!(k.svc_chain(0).len(), "KUBE-SVC-".len() + 16);
        assert_ne!(k.svc_chain(1), k.svc_chain(2));
    }

    #[test]
    fn probabilities_spread_evenly() {
        let text = Kube::new(1, 4).restore_text();
        let probs: Vec<&str> = text
            .lines()
            .filter_map(|l| l.split("--probability ").nth(1))
            .map(|r| r.split(' ').next().unwrap())
            .collect();
        assert_eq!(
            probs,
            [
                "0.25000000000",
                "0.33333333333",
                "0.50000000000",
                "1.00000000000"
            ]
        );
    }

    /// The real writer accepts it, and the kernel then holds exactly the counted rules and
    /// chains (read back with iptables-nft-save).
    #[test]
    fn loads_with_iptables_nft_restore() {
        let k = Kube::new(50, 2);
        let ns = Netns::new("kube");
        ns.run_stdin("iptables-nft-restore", &[], &k.restore_text());
        let saved = ns.ok("iptables-nft-save", &[]);
        assert_eq!(count(&saved), (k.rules(), k.chains()));
        assert!(saved.contains(&format!(
            "-A {} -p tcp -m comment --comment \"ns49/svc-49:http\" -m tcp -j DNAT --to-destination 10.244.0.100:80",
            k.sep_chain(49, 1)
        )), "{saved}");
        let nft = ns.ok("nft", &["list", "ruleset"]);
        assert_eq!(nft.matches("\n\tchain ").count(), k.chains());
    }
}
