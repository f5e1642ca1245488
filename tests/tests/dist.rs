//! The Debian package from `cargo xtask dist` (scripts/test.sh builds it before the tests; when
//! it is not built these tests print that they are skipped and pass).
//!
//! The install test runs a real `dpkg -i` into a throw-away root: a copy-on-write overlay of this
//! machine's `/` (upper layer on a tmpfs) in a mount namespace and network namespace of its own
//! (`unshare --mount --net`), entered with `chroot`. The maintainer scripts run for real (the
//! `nfscope` group is created in the overlay's /etc/group); systemd is not running there, so
//! nothing is started, and `policy-rc.d` forbids it anyway. Everything disappears with the
//! namespaces; the host's /usr, dpkg database and firewall are never touched.

use std::path::PathBuf;
use std::process::Command;

/// `target/dist/nfscope_VERSION_ARCH.deb`, or None (after saying so) when it is not built.
fn deb() -> Option<PathBuf> {
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/deps/<test> → target/dist
    let target = exe.ancestors().nth(3).expect("target dir").to_path_buf();
    let arch = Command::new("dpkg")
        .arg("--print-architecture")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let deb = target.join(format!(
        "dist/nfscope_{}_{arch}.deb",
        env!("CARGO_PKG_VERSION")
    ));
    if deb.exists() {
        Some(deb)
    } else {
        println!(
            "skipped: {} is not built (cargo xtask dist; scripts/test.sh builds it)",
            deb.display()
        );
        None
    }
}

fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn package_has_no_lintian_errors() {
    let Some(deb) = deb() else { return };
    if !have("lintian") {
        println!("skipped: lintian is not installed (scripts/test.sh installs it)");
        return;
    }
    let o = Command::new("lintian")
        .args(["--fail-on", "error"])
        .arg(&deb)
        .output()
        .expect("run lintian");
    let out = String::from_utf8_lossy(&o.stdout);
    println!("{out}");
    assert!(
        o.status.success(),
        "lintian {}: {out}{}",
        deb.display(),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Runs as root in the new mount and network namespaces; $1 the .deb, $2 the version, $3 an
/// empty directory to mount the throw-away root's layers on. Fails (non-zero, the reason on
/// stderr) at the first check that does not hold.
const INSTALL: &str = r#"
set -euo pipefail
deb=$1 version=$2 top=$3
mount --make-rprivate /
mount -t tmpfs -o size=1g nfscope-dist "$top"
mkdir "$top/upper" "$top/work" "$top/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$top/upper,workdir=$top/work" "$top/root"
r=$top/root
mount -t proc proc "$r/proc"
mount --rbind /dev "$r/dev"
mount -t sysfs sysfs "$r/sys"
# Fresh /run and /tmp: nothing of the host's (its systemd's sockets, its netns) reachable.
mount -t tmpfs tmpfs "$r/run"
mount -t tmpfs tmpfs "$r/tmp"
cp "$deb" "$r/tmp/nfscope.deb"
printf '#!/bin/sh\nexit 101\n' > "$r/usr/sbin/policy-rc.d"
chmod 755 "$r/usr/sbin/policy-rc.d"
ip link set lo up
inside() { chroot "$r" "$@"; }
fail() { echo "FAILED: $*" >&2; exit 1; }

echo "== dpkg -i"
inside env DEBIAN_FRONTEND=noninteractive dpkg -i \
  --path-include='/usr/share/man/*' --path-include='/usr/share/doc/nfscope/*' /tmp/nfscope.deb
inside dpkg-query -W -f='${Status} ${Version}\n' nfscope | grep -qx "install ok installed $version" \
  || fail "dpkg-query: $(inside dpkg-query -W nfscope)"
for s in postinst prerm postrm; do inside sh -n "/var/lib/dpkg/info/nfscope.$s" || fail "sh -n $s"; done
inside getent group nfscope || fail "postinst did not create the group nfscope"
inside dpkg-query -W -f='${Conffiles}\n' nfscope | grep -q '/etc/default/nfscoped' || fail "conffiles"

echo "== --version"
[ "$(inside nfscope --version)" = "nfscope $version" ] || fail "nfscope --version: $(inside nfscope --version)"
[ "$(inside nfscoped --version)" = "nfscoped $version" ] || fail "nfscoped --version"

echo "== man"
[ "$(inside man -w nfscope)" = /usr/share/man/man1/nfscope.1.gz ] || fail "man -w nfscope: $(inside man -w nfscope)"
[ "$(inside man -w 8 nfscoped)" = /usr/share/man/man8/nfscoped.8.gz ] || fail "man -w 8 nfscoped"
pages=$(inside dpkg -L nfscope | grep '^/usr/share/man/man./.*\.gz$')
[ "$(echo "$pages" | wc -l)" -ge 9 ] || fail "man pages: $pages"
for p in $pages; do
  text=$(inside env MANWIDTH=80 man --warnings -l "$p" 2>"$top/man.err") || fail "man -l $p"
  [ ! -s "$top/man.err" ] || fail "man -l $p: $(cat "$top/man.err")"
  name=$(basename "$p" | cut -d. -f1)
  grep -q "$name" <<<"$text" || fail "man -l $p does not name $name"
  echo "$p: $(wc -l <<<"$text") lines"
done

echo "== completions"
for b in nfscope nfscoped; do
  inside bash -c "source /usr/share/bash-completion/completions/$b && complete -p $b" \
    | grep -q "_$b $b\$" || fail "bash completion of $b"
  if inside sh -c 'command -v zsh' >/dev/null; then inside zsh -n "/usr/share/zsh/vendor-completions/_$b" || fail "zsh -n _$b"; fi
  if inside sh -c 'command -v fish' >/dev/null; then inside fish -n "/usr/share/fish/vendor_completions.d/$b.fish" || fail "fish -n $b.fish"; fi
done

unit=/lib/systemd/system/nfscoped.service
echo "== unit"
if inside sh -c 'command -v systemd-analyze' >/dev/null; then
  inside systemd-analyze verify "$unit" || fail "systemd-analyze verify $unit"
else
  echo "systemd-analyze not installed: unit not verified"
fi

echo "== a ruleset in this namespace"
inside nft -f - <<'EOF'
table inet dist_test {
  chain input {
    type filter hook input priority 0; policy accept;
    tcp dport 4242 counter drop comment "installed by the dist test"
  }
}
EOF
embedded=$(inside nfscope dump)
grep -q 'tcp dport 4242 counter packets 0 bytes 0 drop comment "installed by the dist test"' <<<"$embedded" \
  || fail "nfscope dump: $embedded"

echo "== the unit's ExecStart"
exec_start=$(inside sed -n 's/^ExecStart=//p' "$unit")
case $exec_start in /usr/bin/nfscoped\ *) ;; *) fail "ExecStart: $exec_start" ;; esac
# As systemd runs it: the EnvironmentFile's variables, $NFSCOPED_OPTS split into words.
# chroot and sh exec: $! is nfscoped itself.
chroot "$r" sh -c "set -a; . /etc/default/nfscoped; set +a; exec $exec_start" 2>"$top/nfscoped.log" &
daemon=$!
trap 'kill $daemon 2>/dev/null || true' EXIT
for _ in $(seq 6000); do
  [ -S "$r/run/nfscope/nfscoped.sock" ] && break
  kill -0 $daemon 2>/dev/null || fail "nfscoped exited: $(cat "$top/nfscoped.log")"
  sleep 0.1
done
[ -S "$r/run/nfscope/nfscoped.sock" ] || fail "no socket: $(cat "$top/nfscoped.log")"
group=$(inside stat -c %G /run/nfscope/nfscoped.sock)
[ "$group" = nfscope ] || fail "socket group: $group"
remote=$(inside nfscope --remote unix:/run/nfscope/nfscoped.sock dump)
[ "$remote" = "$embedded" ] || fail "remote dump differs: $remote"
kill $daemon; wait $daemon || true
[ -f "$r/var/lib/nfscope/history.redb" ] || fail "no history"

echo "== purge"
inside env DEBIAN_FRONTEND=noninteractive dpkg --purge nfscope
for f in /usr/bin/nfscope /etc/default/nfscoped /var/lib/nfscope "$unit"; do
  [ ! -e "$r$f" ] || fail "$f left after purge"
done
echo "== ok"
"#;

#[test]
fn package_installs_runs_and_purges_in_a_throwaway_root() {
    let Some(deb) = deb() else { return };
    let top = std::env::temp_dir().join(format!("nfscope-dist-{}", std::process::id()));
    std::fs::create_dir_all(&top).expect("mkdir");
    let script = top.with_extension("sh");
    std::fs::write(&script, INSTALL).expect("write script");
    let o = Command::new("unshare")
        // A PID namespace too: whatever the script leaves running dies with it.
        .args([
            "--mount",
            "--net",
            "--pid",
            "--fork",
            "--kill-child",
            "bash",
        ])
        .arg(&script)
        .arg(&deb)
        .arg(env!("CARGO_PKG_VERSION"))
        .arg(&top)
        .output()
        .expect("run unshare");
    let _ = std::fs::remove_file(&script);
    let _ = std::fs::remove_dir(&top);
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    println!("{out}");
    assert!(o.status.success(), "install test failed:\n{out}\n{err}");
    assert!(out.contains("== ok"), "{out}");
}
