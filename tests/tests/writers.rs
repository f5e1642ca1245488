//! The writer matrix is installed and each version runs, in a namespace, under its own name.

use nfscope_tests::writers::Writer;
use nfscope_tests::Netns;

#[test]
fn every_writer_runs_and_reports_its_version() {
    for w in Writer::all() {
        let ns = Netns::new("writer");
        let upstream = w.version.split('-').next().unwrap_or_default().to_string();
        let v = ns.ok(&w.tool("iptables-nft"), &["--version"]);
        assert!(
            v.contains(&format!("v{upstream} (nf_tables)")),
            "{}: {v}",
            w.suite
        );
        ns.ok(
            &w.tool("iptables-nft"),
            &["-A", "INPUT", "-s", "10.0.0.1", "-j", "DROP"],
        );
        let saved = ns.ok(&w.tool("iptables-nft-save"), &[]);
        assert!(
            saved.contains("-A INPUT -s 10.0.0.1/32 -j DROP"),
            "{}: {saved}",
            w.suite
        );
    }
    assert!(Writer::get("bullseye").version.starts_with("1.8.7"));
    assert!(Writer::get("trixie").version.starts_with("1.8.11"));
}
