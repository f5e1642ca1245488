//! CLI conventions: shell completions, `--color` and NO_COLOR, the exit statuses `--help`
//! documents, `--version --verbose`.

use nfscope_tests::{nfscope_bin, Netns};
use std::process::{Command, Output};

const ESC: &str = "\x1b[";

/// A namespace whose INPUT chain DROPs everything: `lint` reports a CRITICAL finding.
fn critical_ns() -> Netns {
    let ns = Netns::new("cli");
    ns.ok("iptables-nft", &["-A", "INPUT", "-j", "DROP"]);
    ns
}

/// `nfscope ARGS` with stdout on a pseudo-terminal (util-linux `script`), and `env` set.
fn on_a_terminal(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut line = nfscope_bin().to_string_lossy().into_owned();
    for a in args {
        line.push_str(&format!(" '{a}'"));
    }
    let mut c = Command::new("script");
    c.args(["-qec", &line, "/dev/null"]).env_remove("NO_COLOR");
    for (k, v) in env {
        c.env(k, v);
    }
    let o = c.output().expect("run script");
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn completions_are_valid_scripts() {
    for shell in ["bash", "zsh", "fish"] {
        let o = Command::new(nfscope_bin())
            .args(["completions", shell])
            .output()
            .expect("nfscope completions");
        assert!(o.status.success(), "{shell}: {o:?}");
        let script = String::from_utf8_lossy(&o.stdout);
        assert!(
            script.contains("nfscope") && script.contains("watch"),
            "{shell}: {script}"
        );
    }
    let o = Command::new("sh")
        .args([
            "-c",
            &format!("{} completions bash | bash -n", nfscope_bin().display()),
        ])
        .output()
        .expect("bash -n");
    assert!(o.status.success(), "bash -n: {o:?}");
    // Sourced, it completes the commands.
    let o = Command::new("bash")
        .args([
            "-c",
            &format!(
                "source <({} completions bash); COMP_WORDS=(nfscope du); COMP_CWORD=1; \
                 COMP_LINE='nfscope du'; COMP_POINT=10; _nfscope nfscope du nfscope; \
                 echo \"${{COMPREPLY[@]}}\"",
                nfscope_bin().display()
            ),
        ])
        .output()
        .expect("bash");
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "dump", "{o:?}");
    // The hidden `man-pages` command (for packaging) is offered by no shell; nor are nfscoped's
    // hidden --completions / --man-pages.
    for shell in ["bash", "zsh", "fish"] {
        for (bin, sub, hidden) in [
            (nfscope_bin(), "completions", "man-pages"),
            (
                nfscope_bin().with_file_name("nfscoped"),
                "--completions",
                "--man-pages",
            ),
        ] {
            let o = Command::new(&bin)
                .args([sub, shell])
                .output()
                .expect("completions");
            let script = String::from_utf8_lossy(&o.stdout);
            assert!(o.status.success() && script.contains("help"), "{o:?}");
            assert!(
                !script.contains(hidden),
                "{} {shell} completion offers {hidden}",
                bin.display()
            );
        }
    }
}

#[test]
fn color_follows_the_option_no_color_and_the_terminal() {
    let ns = critical_ns();
    let lint = ["--netns", ns.name(), "lint"];
    // A terminal: coloured, unless NO_COLOR or --color never.
    let tty = on_a_terminal(&lint, &[]);
    assert!(tty.contains("CRITICAL"), "{tty}");
    assert!(tty.contains(&format!("{ESC}1;31mCRITICAL")), "{tty:?}");
    let no_color = on_a_terminal(&lint, &[("NO_COLOR", "1")]);
    assert!(
        no_color.contains("CRITICAL") && !no_color.contains(ESC),
        "{no_color:?}"
    );
    let never = on_a_terminal(&["--color", "never", "--netns", ns.name(), "lint"], &[]);
    assert!(
        never.contains("CRITICAL") && !never.contains(ESC),
        "{never:?}"
    );
    // An empty NO_COLOR does not count.
    let empty = on_a_terminal(&lint, &[("NO_COLOR", "")]);
    assert!(empty.contains(ESC), "{empty:?}");
    // A pipe: plain, unless --color always (which NO_COLOR does not override).
    let piped = ns.nfscope(&["lint"]);
    assert!(!String::from_utf8_lossy(&piped.stdout).contains(ESC));
    let always = Command::new(nfscope_bin())
        .args(["--color", "always", "--netns", ns.name(), "lint"])
        .env("NO_COLOR", "1")
        .output()
        .expect("nfscope");
    assert!(
        String::from_utf8_lossy(&always.stdout).contains(ESC),
        "{always:?}"
    );
    // JSON never.
    let json = on_a_terminal(
        &["--color", "always", "--netns", ns.name(), "lint", "--json"],
        &[],
    );
    assert!(!json.contains(ESC), "{json:?}");
}

fn code(o: &Output) -> Option<i32> {
    o.status.code()
}

#[test]
fn exit_statuses_are_the_documented_ones() {
    let help = Command::new(nfscope_bin())
        .arg("--help")
        .output()
        .expect("help");
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    let documented = |n: u8| {
        help.lines()
            .any(|l| l.trim_start().starts_with(&format!("{n}  ")))
    };
    assert!(help.contains("Exit status:"), "{help}");
    let ns = critical_ns();
    // 0: success.
    assert!(documented(0));
    assert_eq!(code(&ns.nfscope(&["dump"])), Some(0));
    assert_eq!(code(&ns.nfscope(&["lint"])), Some(0));
    // 1: an error (no such namespace).
    assert!(documented(1));
    let o = Command::new(nfscope_bin())
        .args(["--netns", "nfscope-no-such-namespace", "dump"])
        .output()
        .expect("nfscope");
    assert_eq!(code(&o), Some(1), "{o:?}");
    // 2: usage errors.
    assert!(documented(2));
    for args in [
        &["--no-such-option"][..],
        &["dump", "--format", "yaml"],
        &["no-such-command"],
        &["--color", "never"],
        &[],
    ] {
        let o = Command::new(nfscope_bin())
            .args(args)
            .output()
            .expect("nfscope");
        assert_eq!(code(&o), Some(2), "{args:?}: {o:?}");
    }
    // 3: lint --fail-on met.
    assert!(documented(3));
    assert_eq!(
        code(&ns.nfscope(&["lint", "--fail-on", "critical"])),
        Some(3)
    );
    assert!(!documented(4));
}

#[test]
fn version_verbose_names_the_kernel_facts() {
    let plain = Command::new(nfscope_bin())
        .arg("--version")
        .output()
        .expect("nfscope --version");
    let plain = String::from_utf8_lossy(&plain.stdout).into_owned();
    assert_eq!(plain, format!("nfscope {}\n", env!("CARGO_PKG_VERSION")));
    let o = Command::new(nfscope_bin())
        .args(["--version", "--verbose"])
        .output()
        .expect("nfscope --version --verbose");
    assert!(o.status.success(), "{o:?}");
    let v = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(v.starts_with(&plain), "{v}");
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").expect("osrelease");
    assert!(v.contains(&format!("kernel: {}\n", release.trim())), "{v}");
    // Root on a kernel with nf_tables: GETGEN answers.
    assert!(v.contains("nf_tables: answers GETGEN (generation "), "{v}");
    let audit = v
        .lines()
        .find(|l| l.starts_with("audit: "))
        .expect("audit line");
    assert!(
        ["audit: disabled", "audit: enabled"]
            .iter()
            .any(|s| audit.starts_with(s)),
        "{v}"
    );
    assert!(v.contains("audit records: "), "{v}");
    for m in ["ip_tables", "ip6_tables", "arp_tables"] {
        let line = format!("legacy {m}: ");
        let loaded = std::path::Path::new(&format!("/proc/net/{}_names", m)).exists();
        let l = v
            .lines()
            .find(|l| l.starts_with(&line))
            .expect("legacy line");
        assert_eq!(l.contains(": loaded"), loaded, "{l}");
    }
    // nfscoped too.
    let d = Command::new(nfscope_bin().with_file_name("nfscoped"))
        .args(["--version", "--verbose"])
        .output()
        .expect("nfscoped --version --verbose");
    let d = String::from_utf8_lossy(&d.stdout).into_owned();
    assert!(
        d.starts_with(&format!("nfscoped {}\n", env!("CARGO_PKG_VERSION"))),
        "{d}"
    );
    assert!(d.contains("nf_tables: answers GETGEN"), "{d}");
}

/// An error names its cause once: no daemon at the socket gives one "No such file or directory",
/// not the same io message once per layer of the gRPC stack.
#[test]
fn a_connect_error_names_its_cause_once() {
    let o = Command::new(nfscope_bin())
        .args(["--remote", "unix:/nonexistent/nfscoped.sock", "dump"])
        .output()
        .expect("nfscope");
    assert_eq!(code(&o), Some(1), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("connect to nfscoped at unix:/nonexistent/nfscoped.sock"),
        "{err}"
    );
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");
}
