#!/usr/bin/env bash
# Installs other iptables versions side by side, as writers and oracles for the tests (issue #4):
#   1.8.7 (Debian bullseye), 1.8.11 (trixie), and whatever sid has now.
# Each goes to $NFSCOPE_WRITERS/<suite>/ (default /var/cache/nfscope/writers, outside the clone):
# packages fetched with apt through a private list for that suite (the mirror is read from this
# machine's own apt sources), unpacked with dpkg-deb -x, and wrapped so they run on this machine:
#   <suite>/bin/{iptables-nft,iptables-nft-save,iptables-nft-restore,iptables-legacy,...,xtables-monitor}
# The wrappers exec the real binary under its usual name, so the process name the kernel reports
# (NFTA_GEN_PROC_NAME) is the one users see. Idempotent: a suite already installed is skipped.
set -euo pipefail

root=${NFSCOPE_WRITERS:-/var/cache/nfscope/writers}
suites=${*:-bullseye trixie sid}
mkdir -p "$root"

mirror() {
  # First Debian URI of the machine's own sources (deb822 .sources files, then sources.list).
  local u
  u=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n1 || true)
  if [ -z "$u" ]; then
    u=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | grep -v security | awk '{for(i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' | head -n1 || true)
  fi
  [ -n "$u" ] || { echo "writers.sh: no Debian mirror found in /etc/apt/sources*" >&2; exit 1; }
  echo "$u"
}

install_suite() {
  local suite=$1 dir="$root/$1"
  if [ -f "$dir/.complete" ]; then
    return 0
  fi
  echo "== writers: fetching iptables from Debian $suite into $dir" >&2
  rm -rf "$dir"; mkdir -p "$dir"/{apt/lists/partial,apt/cache/archives/partial,debs,root,bin}
  local m; m=$(mirror)
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $m $suite main" > "$dir/apt/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$dir/apt/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
              -o "Dir::State::Lists=$dir/apt/lists" -o "Dir::Cache=$dir/apt/cache"
              -o "Dir::State::Status=/dev/null" -o "APT::Architecture=amd64" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root" -q)
  apt-get "${opts[@]}" update >/dev/null
  local pkgs=(iptables libxtables12 libip4tc2 libip6tc2 libnftnl11 libmnl0 libnetfilter-conntrack3 libnfnetlink0)
  if [ "$suite" != bullseye ]; then
    pkgs+=(libc6)   # trixie/sid binaries need their own glibc
  fi
  (cd "$dir/debs" && apt-get "${opts[@]}" download "${pkgs[@]}" >/dev/null)
  for d in "$dir"/debs/*.deb; do dpkg-deb -x "$d" "$dir/root"; done
  local lib="$dir/root/usr/lib/x86_64-linux-gnu" multi="$dir/root/usr/sbin/xtables-nft-multi"
  local legacy="$dir/root/usr/sbin/xtables-legacy-multi" interp=""
  if [ "$suite" != bullseye ]; then
    interp="$lib/ld-linux-x86-64.so.2"
    [ -e "$interp" ] || interp="$dir/root/lib64/ld-linux-x86-64.so.2"
  fi
  if [ -n "$interp" ]; then
    # Point the binaries at the suite's own loader, so they run with its glibc and the kernel
    # still sees the tool's name as the process name (running through ld.so would show "ld-linux").
    for b in "$multi" "$legacy"; do
      [ -e "$b" ] && patchelf --set-interpreter "$interp" "$b"
    done
  fi
  local v
  v=$(dpkg-deb -f "$dir"/debs/iptables_*.deb Version)
  # Wrappers: one per tool name, exec'ing the multi binary under that name (argv[0] and comm).
  for name in iptables-nft iptables-nft-save iptables-nft-restore ip6tables-nft ip6tables-nft-save \
              ip6tables-nft-restore xtables-monitor iptables-legacy iptables-legacy-save \
              iptables-legacy-restore ip6tables-legacy ip6tables-legacy-save ip6tables-legacy-restore; do
    local target=$multi
    case $name in *legacy*) target=$legacy ;; esac
    [ -e "$target" ] || continue
    # A symlink with the tool's name next to the real binary, so comm is the tool's name.
    ln -sf "$(basename "$target")" "$(dirname "$target")/$name" 2>/dev/null || true
    cat > "$dir/bin/$name" <<W
#!/bin/sh
# iptables $v from Debian $suite.
LD_LIBRARY_PATH="$lib" XTABLES_LIBDIR="$lib/xtables" exec "$(dirname "$target")/$name" "\$@"
W
    chmod +x "$dir/bin/$name"
  done
  "$dir/bin/iptables-nft" --version >/dev/null || { echo "writers.sh: iptables from $suite does not run" >&2; exit 1; }
  echo "$v" > "$dir/VERSION"
  rm -rf "$dir/apt" "$dir/debs"
  touch "$dir/.complete"
}

for s in $suites; do install_suite "$s"; done
for s in $suites; do printf '%s\t%s\t%s\n' "$s" "$(cat "$root/$s/VERSION")" "$("$root/$s/bin/iptables-nft" --version 2>&1)"; done
