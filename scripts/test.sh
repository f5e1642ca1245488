#!/usr/bin/env bash
# The one test command: installs what the tests need (idempotently), then runs every check.
#   sudo scripts/test.sh            everything (what CI runs)
#   sudo scripts/test.sh --quick    skip clippy and fmt
# Tests create their own network namespaces and never touch this machine's firewall; they need root.
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
[ "${1:-}" = "--quick" ] && quick=1

if [ "$(id -u)" -ne 0 ]; then
  echo "scripts/test.sh: the tests create network namespaces and need root (try: sudo $0)" >&2
  exit 2
fi

# 1. Debian packages: the real tools are writers and oracles in the tests. arptables provides
# arptables-legacy(-save/-restore); its alternative has priority 10 against iptables' arptables-nft
# 20, so /usr/sbin/arptables stays arptables-nft. strace shows which getsockopts nfscope makes.
need=()
for pair in patchelf:patchelf openssl:openssl sysctl:procps nft:nftables iptables-nft:iptables arptables-legacy:arptables strace:strace perl:perl-base ipset:ipset ip:iproute2 setpriv:util-linux protoc:protobuf-compiler; do
  cmd=${pair%%:*} pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q "${need[@]}" >/dev/null
fi

# Other iptables versions side by side (1.8.7 bullseye, 1.8.11 trixie, sid), outside the clone.
scripts/writers.sh >/dev/null

# 2. Build everything (the integration tests run the nfscope binary).
echo "== build"
cargo build --workspace --all-targets --locked

if [ $quick -eq 0 ]; then
  echo "== fmt"
  cargo fmt --all --check
  echo "== clippy"
  cargo clippy --workspace --all-targets --locked -q -- -D warnings
fi

# 3. Tests (unit, property, and integration against the real kernel in namespaces).
echo "== test"
cargo test --workspace --locked -- --test-threads="${NFSCOPE_TEST_THREADS:-2}"
