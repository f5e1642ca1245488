//! `cargo xtask dist`: the Debian package, built with `dpkg-deb` from the release binaries.
//!
//! Contents (`nfscope_VERSION_ARCH.deb` in `target/dist/`):
//! - `/usr/bin/nfscope`, `/usr/bin/nfscoped` (stripped);
//! - man pages from clap_mangen (`nfscope man-pages DIR`, `nfscoped --man-pages DIR`): nfscope(1)
//!   and one per command in man1, nfscoped(8) in man8, gzip'd;
//! - completions (clap_complete) for bash, zsh and fish in Debian's vendor directories;
//! - `deploy/nfscoped.service` with `ExecStart=/usr/bin/nfscoped` in `/lib/systemd/system`
//!   (bookworm's debhelper and lintian place units there), `deploy/nfscoped.default` as the
//!   conffile `/etc/default/nfscoped`;
//! - maintainer scripts: the system group `nfscope` (the unit's `--socket-group`), and the unit
//!   enabled and started as debhelper's `dh_installsystemd` does (stopped on remove; on purge its
//!   state and `/var/lib/nfscope` are removed, the group is kept);
//! - `/usr/share/doc/nfscope/` copyright (machine-readable), changelog, README and daemon docs;
//! - `Depends` from `dpkg-shlibdeps`, or from the binaries' NEEDED libraries and GLIBC symbol
//!   versions (objdump) when dpkg-dev is not installed, plus adduser for the group.
//!
//! The version is the workspace's (Cargo.toml), the architecture `dpkg --print-architecture`.
//! `tests/tests/dist.rs` installs the package into a throw-away root and checks it.

use anyhow::{bail, ensure, Context, Result};
use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Package the binaries already in target/release instead of building them first.
    #[arg(long)]
    no_build: bool,
}

const PACKAGE: &str = "nfscope";
const SUMMARY: &str = "firewall ruleset viewer: what is in nf_tables and x_tables, and who put it";
const DESCRIPTION: &str = "\
nfscope reads the kernel's firewall state directly (nf_tables over netlink,
legacy x_tables over getsockopt), never through the nft or iptables
binaries, and never changes it. It renders nft text, iptables-save text and
JSON, tells per rule which tool and version wrote it and how older iptables
versions would read it back, lints states known to break nodes, and watches
every change with the process that made it.
.
This package holds the nfscope command and the nfscoped daemon, which serves
the same over gRPC with a history of changes (systemd unit nfscoped.service;
members of the group nfscope may query its socket).";

/// Where each completion script goes: (shell, directory, file name for a binary).
const COMPLETIONS: [(&str, &str, &str); 3] = [
    ("bash", "usr/share/bash-completion/completions", "{}"),
    ("zsh", "usr/share/zsh/vendor-completions", "_{}"),
    ("fish", "usr/share/fish/vendor_completions.d", "{}.fish"),
];

const POSTINST: &str = r#"#!/bin/sh
set -e

if [ "$1" = "configure" ]; then
	# Members of this group may query nfscoped's socket (the unit's --socket-group nfscope).
	if ! getent group nfscope >/dev/null; then
		addgroup --system --quiet nfscope
	fi
fi

# As dh_installsystemd does: enable the unit on first installation, start it (restart on
# upgrade) when systemd runs.
if [ "$1" = "configure" ] || [ "$1" = "abort-upgrade" ] || [ "$1" = "abort-deconfigure" ] || [ "$1" = "abort-remove" ]; then
	deb-systemd-helper unmask 'nfscoped.service' >/dev/null || true
	if deb-systemd-helper --quiet was-enabled 'nfscoped.service'; then
		deb-systemd-helper enable 'nfscoped.service' >/dev/null || true
	else
		deb-systemd-helper update-state 'nfscoped.service' >/dev/null || true
	fi
	if [ -d /run/systemd/system ]; then
		systemctl --system daemon-reload >/dev/null || true
		if [ -n "$2" ]; then
			_action=restart
		else
			_action=start
		fi
		deb-systemd-invoke $_action 'nfscoped.service' >/dev/null || true
	fi
fi

exit 0
"#;

const PRERM: &str = r#"#!/bin/sh
set -e

if [ -d /run/systemd/system ] && [ "$1" = remove ]; then
	deb-systemd-invoke stop 'nfscoped.service' >/dev/null || true
fi

exit 0
"#;

const POSTRM: &str = r#"#!/bin/sh
set -e

if [ "$1" = "remove" ] && [ -d /run/systemd/system ]; then
	systemctl --system daemon-reload >/dev/null || true
fi

if [ "$1" = "remove" ]; then
	if [ -x "/usr/bin/deb-systemd-helper" ]; then
		deb-systemd-helper mask 'nfscoped.service' >/dev/null || true
	fi
fi

if [ "$1" = "purge" ]; then
	if [ -x "/usr/bin/deb-systemd-helper" ]; then
		deb-systemd-helper purge 'nfscoped.service' >/dev/null || true
		deb-systemd-helper unmask 'nfscoped.service' >/dev/null || true
	fi
	# The change history. The group nfscope is kept (files may still belong to it).
	rm -rf /var/lib/nfscope
fi

exit 0
"#;

pub fn run(a: &Args) -> Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("workspace root")?
        .to_path_buf();
    let target = target_dir(&root)?;
    let version = env!("CARGO_PKG_VERSION");
    let arch = output(Command::new("dpkg").arg("--print-architecture"))?
        .trim()
        .to_string();
    ensure!(
        !arch.is_empty(),
        "dpkg --print-architecture printed nothing"
    );

    if !a.no_build {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let st = Command::new(cargo)
            .current_dir(&root)
            .args(["build", "--release", "--locked"])
            .args(["-p", "nfscope-cli", "-p", "nfscoped"])
            .status()
            .context("run cargo build")?;
        ensure!(st.success(), "cargo build --release failed ({st})");
    }
    let release = target.join("release");

    let dist = target.join("dist");
    let stage = dist.join(format!("{PACKAGE}_{version}_{arch}"));
    if stage.exists() {
        fs::remove_dir_all(&stage).with_context(|| format!("remove {}", stage.display()))?;
    }

    // Binaries, stripped as dh_strip does.
    let bin = stage.join("usr/bin");
    mkdir(&bin)?;
    for b in ["nfscope", "nfscoped"] {
        let src = release.join(b);
        ensure!(
            src.exists(),
            "{} is missing (build it, or drop --no-build)",
            src.display()
        );
        let dst = bin.join(b);
        fs::copy(&src, &dst).with_context(|| format!("copy {}", src.display()))?;
        run_ok(
            Command::new("strip")
                .args(["--remove-section=.comment", "--remove-section=.note"])
                .arg(&dst),
        )?;
        set_mode(&dst, 0o755)?;
    }
    let nfscope = bin.join("nfscope");
    let nfscoped = bin.join("nfscoped");

    // Man pages, generated by the binaries themselves.
    let man_tmp = dist.join("man");
    if man_tmp.exists() {
        fs::remove_dir_all(&man_tmp)?;
    }
    mkdir(&man_tmp)?;
    run_ok(Command::new(&nfscope).arg("man-pages").arg(&man_tmp))?;
    run_ok(Command::new(&nfscoped).arg("--man-pages").arg(&man_tmp))?;
    let mut pages: Vec<PathBuf> = fs::read_dir(&man_tmp)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    pages.sort();
    ensure!(
        pages.iter().any(|p| p.ends_with("nfscope.1"))
            && pages.iter().any(|p| p.ends_with("nfscoped.8")),
        "man pages missing in {}: {pages:?}",
        man_tmp.display()
    );
    for page in &pages {
        let name = page
            .file_name()
            .and_then(|n| n.to_str())
            .context("man page name")?;
        let section = name.rsplit('.').next().unwrap_or_default();
        let dir = stage.join(format!("usr/share/man/man{section}"));
        mkdir(&dir)?;
        let gz = dir.join(format!("{name}.gz"));
        gzip(page, &gz)?;
    }
    fs::remove_dir_all(&man_tmp)?;

    // Shell completions.
    for (shell, dir, file) in COMPLETIONS {
        let dir = stage.join(dir);
        mkdir(&dir)?;
        for (b, arg) in [(&nfscope, "completions"), (&nfscoped, "--completions")] {
            let name = b.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            let script = output(Command::new(b).args([arg, shell]))?;
            write(&dir.join(file.replace("{}", name)), &script, 0o644)?;
        }
    }

    // The systemd unit, running the packaged binary, and its options file (a conffile).
    let unit = fs::read_to_string(root.join("deploy/nfscoped.service"))?;
    let from = "ExecStart=/usr/local/bin/nfscoped ";
    ensure!(
        unit.contains(from),
        "deploy/nfscoped.service has no `{from}`"
    );
    let unit = unit.replace(from, "ExecStart=/usr/bin/nfscoped ");
    write(
        &stage.join("lib/systemd/system/nfscoped.service"),
        &unit,
        0o644,
    )?;
    let default = fs::read_to_string(root.join("deploy/nfscoped.default"))?;
    write(&stage.join("etc/default/nfscoped"), &default, 0o644)?;

    // Documentation.
    let (maintainer, date) = (maintainer(), changelog_date(&root)?);
    let doc = stage.join("usr/share/doc").join(PACKAGE);
    mkdir(&doc)?;
    // "Sat, 05 Dec 2026 17:13:43 +0000" → 2026
    let year = date.split_whitespace().nth(3).unwrap_or_default();
    write(
        &doc.join("copyright"),
        &COPYRIGHT.replace("{year}", year),
        0o644,
    )?;
    let changelog = format!(
        "{PACKAGE} ({version}) unstable; urgency=medium\n\n  * Release {version}, packaged by \
         `cargo xtask dist`.\n\n -- {maintainer}  {date}\n"
    );
    let plain = dist.join("changelog");
    fs::write(&plain, changelog)?;
    gzip(&plain, &doc.join("changelog.gz"))?;
    fs::remove_file(&plain)?;
    for (src, name) in [("README.md", "README.md"), ("docs/daemon.md", "daemon.md")] {
        let text = fs::read_to_string(root.join(src)).with_context(|| src.to_string())?;
        let plain = dist.join(name);
        fs::write(&plain, text)?;
        gzip(&plain, &doc.join(format!("{name}.gz")))?;
        fs::remove_file(&plain)?;
    }

    // Control files.
    let depends = depends(&dist, &[&nfscope, &nfscoped])?;
    let installed_kib = installed_size(&stage)?;
    let debian = stage.join("DEBIAN");
    mkdir(&debian)?;
    let mut control = String::new();
    writeln!(control, "Package: {PACKAGE}")?;
    writeln!(control, "Version: {version}")?;
    writeln!(control, "Architecture: {arch}")?;
    writeln!(control, "Maintainer: {maintainer}")?;
    writeln!(control, "Installed-Size: {installed_kib}")?;
    writeln!(control, "Depends: {depends}, adduser")?;
    writeln!(control, "Section: net")?;
    writeln!(control, "Priority: optional")?;
    writeln!(control, "Description: {SUMMARY}")?;
    for line in DESCRIPTION.lines() {
        writeln!(control, " {line}")?;
    }
    write(&debian.join("control"), &control, 0o644)?;
    write(&debian.join("conffiles"), "/etc/default/nfscoped\n", 0o644)?;
    write(&debian.join("postinst"), POSTINST, 0o755)?;
    write(&debian.join("prerm"), PRERM, 0o755)?;
    write(&debian.join("postrm"), POSTRM, 0o755)?;
    write(&debian.join("md5sums"), &md5sums(&stage)?, 0o644)?;

    let deb = dist.join(format!("{PACKAGE}_{version}_{arch}.deb"));
    run_ok(
        Command::new("dpkg-deb")
            .args(["--root-owner-group", "-Zxz", "--build"])
            .arg(&stage)
            .arg(&deb),
    )?;
    let size = fs::metadata(&deb)?.len();
    println!(
        "{} ({size} bytes, {:.1} MiB; Depends: {depends}, adduser)",
        deb.display(),
        size as f64 / (1024.0 * 1024.0)
    );
    Ok(())
}

const COPYRIGHT: &str = "\
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: nfscope
Comment: The Rust crates linked into the binaries are listed, with their licenses, in the
 source tree's Cargo.lock.

Files: *
Copyright: {year} the nfscope developers
License: MIT or Apache-2.0

License: MIT
 Permission is hereby granted, free of charge, to any person obtaining a copy
 of this software and associated documentation files (the \"Software\"), to deal
 in the Software without restriction, including without limitation the rights
 to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
 copies of the Software, and to permit persons to whom the Software is
 furnished to do so, subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be included in
 all copies or substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
 IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
 FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
 AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
 LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
 OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN
 THE SOFTWARE.

License: Apache-2.0
 Licensed under the Apache License, Version 2.0 (the \"License\");
 you may not use this file except in compliance with the License.
 You may obtain a copy of the License at
 .
 http://www.apache.org/licenses/LICENSE-2.0
 .
 Unless required by applicable law or agreed to in writing, software
 distributed under the License is distributed on an \"AS IS\" BASIS,
 WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 See the License for the specific language governing permissions and
 limitations under the License.
 .
 On Debian systems, the complete text of the Apache License, Version 2.0
 can be found in \"/usr/share/common-licenses/Apache-2.0\".
";

/// `Name <email>` from DEBFULLNAME / DEBEMAIL (what dch uses), else the project's.
fn maintainer() -> String {
    let name = std::env::var("DEBFULLNAME").unwrap_or_else(|_| "nfscope maintainers".into());
    let email = std::env::var("DEBEMAIL").unwrap_or_else(|_| "maintainers@nfscope.invalid".into());
    format!("{name} <{email}>")
}

/// The changelog's date: SOURCE_DATE_EPOCH, else the last commit's, in RFC 2822 form; the
/// same sources give the same package.
fn changelog_date(root: &Path) -> Result<String> {
    let epoch = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(e) => e,
        Err(_) => output(
            Command::new("git")
                .current_dir(root)
                .args(["log", "-1", "--format=%ct"]),
        )
        .map(|s| s.trim().to_string())
        .unwrap_or_default(),
    };
    let mut date = Command::new("date");
    date.env("LC_ALL", "C").arg("-uR");
    if !epoch.is_empty() {
        date.arg("-d").arg(format!("@{epoch}"));
    }
    Ok(output(&mut date)?.trim().to_string())
}

/// The shared-library dependencies of the binaries.
fn depends(dist: &Path, bins: &[&Path]) -> Result<String> {
    // dpkg-shlibdeps reads debian/control from its working directory.
    let dir = dist.join("shlibdeps");
    mkdir(&dir.join("debian"))?;
    fs::write(
        dir.join("debian/control"),
        format!("Source: {PACKAGE}\n\nPackage: {PACKAGE}\nArchitecture: any\n"),
    )?;
    let mut c = Command::new("dpkg-shlibdeps");
    c.current_dir(&dir).arg("-O");
    for b in bins {
        c.arg(format!("-e{}", b.display()));
    }
    let r = c.output();
    let _ = fs::remove_dir_all(&dir);
    match r {
        Ok(o) if o.status.success() => {
            let out = String::from_utf8_lossy(&o.stdout);
            let deps = out
                .lines()
                .find_map(|l| l.strip_prefix("shlibs:Depends="))
                .context("dpkg-shlibdeps printed no shlibs:Depends")?;
            Ok(deps.trim().to_string())
        }
        Ok(o) => bail!(
            "dpkg-shlibdeps failed: {}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("dist: dpkg-shlibdeps not found (dpkg-dev); Depends from objdump");
            depends_from_objdump(bins)
        }
        Err(e) => Err(e).context("run dpkg-shlibdeps"),
    }
}

/// Without dpkg-dev: the NEEDED libraries mapped to their Debian packages, libc6 at the newest
/// GLIBC symbol version the binaries use.
fn depends_from_objdump(bins: &[&Path]) -> Result<String> {
    let mut glibc = (2u32, 2u32);
    let mut gcc = false;
    for b in bins {
        let headers = output(Command::new("objdump").arg("-p").arg(b))?;
        for lib in headers
            .lines()
            .filter_map(|l| l.trim().strip_prefix("NEEDED"))
        {
            match lib.trim() {
                "libgcc_s.so.1" => gcc = true,
                "libc.so.6"
                | "libm.so.6"
                | "libpthread.so.0"
                | "libdl.so.2"
                | "librt.so.1"
                | "ld-linux-x86-64.so.2"
                | "ld-linux-aarch64.so.1" => {}
                other => bail!("{}: no Debian package known for {other}", b.display()),
            }
        }
        let symbols = output(Command::new("objdump").arg("-T").arg(b))?;
        for v in symbols.split_whitespace() {
            let Some(v) = v.trim_start_matches('(').strip_prefix("GLIBC_") else {
                continue;
            };
            let v = v.trim_end_matches(')');
            let mut parts = v.split('.').map(|p| p.parse::<u32>());
            if let (Some(Ok(major)), Some(Ok(minor))) = (parts.next(), parts.next()) {
                glibc = glibc.max((major, minor));
            }
        }
    }
    let mut deps = format!("libc6 (>= {}.{})", glibc.0, glibc.1);
    if gcc {
        deps.push_str(", libgcc-s1 (>= 4.2)");
    }
    Ok(deps)
}

/// Installed-Size in KiB, as dpkg-gencontrol counts it: each file's size rounded up, one per
/// directory.
fn installed_size(stage: &Path) -> Result<u64> {
    let mut kib = 0;
    for (path, meta) in walk(stage)? {
        if path.starts_with(stage.join("DEBIAN")) {
            continue;
        }
        kib += if meta.is_dir() {
            1
        } else {
            meta.len().div_ceil(1024)
        };
    }
    Ok(kib)
}

/// DEBIAN/md5sums: every file but the conffiles.
fn md5sums(stage: &Path) -> Result<String> {
    let mut files: Vec<String> = walk(stage)?
        .into_iter()
        .filter(|(_, m)| m.is_file())
        .filter_map(|(p, _)| {
            let rel = p.strip_prefix(stage).ok()?.to_str()?.to_string();
            (!rel.starts_with("DEBIAN/") && !rel.starts_with("etc/")).then_some(rel)
        })
        .collect();
    files.sort();
    output(Command::new("md5sum").current_dir(stage).args(&files))
}

fn walk(dir: &Path) -> Result<Vec<(PathBuf, fs::Metadata)>> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in fs::read_dir(&d).with_context(|| format!("read {}", d.display()))? {
            let e = e?;
            let meta = e.metadata()?;
            if meta.is_dir() {
                todo.push(e.path());
            }
            out.push((e.path(), meta));
        }
    }
    Ok(out)
}

/// `cargo metadata`'s target directory (CARGO_TARGET_DIR and config respected).
fn target_dir(root: &Path) -> Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let meta = output(Command::new(cargo).current_dir(root).args([
        "metadata",
        "--format-version",
        "1",
        "--no-deps",
    ]))?;
    let v: serde_json::Value = serde_json::from_str(&meta).context("cargo metadata")?;
    let dir = v["target_directory"]
        .as_str()
        .context("cargo metadata: no target_directory")?;
    Ok(PathBuf::from(dir))
}

/// `gzip -9n` (no name, no time stamp: the same input gives the same bytes).
fn gzip(src: &Path, dst: &Path) -> Result<()> {
    let o = Command::new("gzip")
        .args(["-9n", "-c"])
        .arg(src)
        .output()
        .context("run gzip")?;
    ensure!(o.status.success(), "gzip {}: {o:?}", src.display());
    fs::write(dst, o.stdout)?;
    set_mode(dst, 0o644)
}

fn mkdir(d: &Path) -> Result<()> {
    fs::create_dir_all(d).with_context(|| format!("mkdir {}", d.display()))?;
    // Every directory from the stage down is 0755 whatever the umask.
    let mut p = d;
    loop {
        set_mode(p, 0o755)?;
        match p.parent() {
            Some(parent) if parent.ends_with("dist") || parent.as_os_str().is_empty() => break,
            Some(parent) => p = parent,
            None => break,
        }
    }
    Ok(())
}

fn write(path: &Path, text: &str, mode: u32) -> Result<()> {
    if let Some(d) = path.parent() {
        mkdir(d)?;
    }
    fs::write(path, text).with_context(|| format!("write {}", path.display()))?;
    set_mode(path, mode)
}

fn set_mode(p: &Path, mode: u32) -> Result<()> {
    fs::set_permissions(p, fs::Permissions::from_mode(mode))
        .with_context(|| format!("chmod {}", p.display()))
}

fn run_ok(c: &mut Command) -> Result<()> {
    output(c).map(|_| ())
}

/// Run and return stdout; an error with stderr unless it succeeds.
fn output(c: &mut Command) -> Result<String> {
    let o = c.output().with_context(|| format!("run {c:?}"))?;
    ensure!(
        o.status.success(),
        "{c:?} failed ({}): {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    Ok(String::from_utf8_lossy(&o.stdout).into_owned())
}
