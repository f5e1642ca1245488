//! `dump --format iptables-save` of nf_tables `bridge` and `arp` tables against the real
//! `ebtables-nft-save` / `arptables-nft-save` 1.8.9: our own corpus (tests/corpus/ebtables,
//! tests/corpus/arptables) written by the real `ebtables-nft` / `arptables-nft`.

use nfscope_tests::{assert_same_lines, Netns};

/// Load `cmds` (one command's arguments per line) with `tool`, then compare `save` (with and
/// without `-c`) with nfscope's text of `family`, streamed and from the full model.
fn check(corpus: &str, tool: &str, save: &str, family: &str) {
    let path = format!("{}/corpus/{corpus}", env!("CARGO_MANIFEST_DIR"));
    let cmds = std::fs::read_to_string(&path).expect("corpus");
    let ns = Netns::new("ebarp");
    for l in cmds.lines() {
        if l.starts_with('#') || l.trim().is_empty() {
            continue;
        }
        let args: Vec<&str> = l.split_whitespace().collect();
        ns.ok(tool, &args);
    }
    for counters in [false, true] {
        let sargs: &[&str] = if counters { &["-c"] } else { &[] };
        let theirs: String = ns
            .ok(save, sargs)
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| format!("{l}\n"))
            .collect();
        let mut args = vec![
            "dump",
            "--format",
            "iptables-save",
            "--backend",
            "nft",
            "--family",
            family,
        ];
        if counters {
            args.push("-c");
        }
        let out = ns.nfscope(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_same_lines(
            &format!("{save} {sargs:?}"),
            &String::from_utf8_lossy(&out.stdout),
            &theirs,
        );
        // the full model (`--show-writer` reads it): the same lines before the comment
        args.push("--show-writer");
        let out = ns.nfscope(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let full: String = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| format!("{}\n", l.split(" # written by ").next().unwrap_or(l)))
            .collect();
        assert_same_lines(&format!("{save} {sargs:?} (full model)"), &full, &theirs);
    }
}

#[test]
fn ebtables_nft_save_text() {
    check(
        "ebtables/bridge.cmds",
        "ebtables-nft",
        "ebtables-nft-save",
        "bridge",
    );
}

#[test]
fn arptables_nft_save_text() {
    check(
        "arptables/arp.cmds",
        "arptables-nft",
        "arptables-nft-save",
        "arp",
    );
}

#[test]
fn ebtables_nft_save_among() {
    check(
        "ebtables/among.cmds",
        "ebtables-nft",
        "ebtables-nft-save",
        "bridge",
    );
}

#[test]
fn ebtables_nft_save_arp() {
    check(
        "ebtables/arp.cmds",
        "ebtables-nft",
        "ebtables-nft-save",
        "bridge",
    );
}

#[test]
fn ebtables_nft_save_stp() {
    check(
        "ebtables/stp.cmds",
        "ebtables-nft",
        "ebtables-nft-save",
        "bridge",
    );
}

#[test]
fn ebtables_nft_save_icmp_types() {
    check(
        "ebtables/icmp.cmds",
        "ebtables-nft",
        "ebtables-nft-save",
        "bridge",
    );
}
