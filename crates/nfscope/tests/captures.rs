//! Root-free tests: the captured kernel answers of tests/corpus/captures/ (written by
//! `cargo xtask capture`, format in its README.md) built into the model without a socket
//! (`change::decode_dump`, `legacy::table_from_raw`), rendered in nft text, iptables-save text
//! and JSON, with each rule's writer (provenance: `dump --show-writer`), and linted; each output must equal what the live `nfscope dump` (and lint) of the
//! same namespace gave. No root, no namespace, no kernel.

use nfscope::legacy::{self, LegacyRuleset};
use nfscope::model::Ruleset;
use nfscope::output::{self, Backend, DumpFormat};
use nfscope::render::nft::NftOptions;
use nfscope::wire::xt::entry::Family as XtFamily;
use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/captures")
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

/// A capture's parts: the nf_tables messages (concatenated), each legacy table's raw
/// answers, and the interface names.
struct Capture {
    generation: u32,
    nft: Vec<u8>,
    legacy: Vec<(XtFamily, Vec<u8>, Vec<u8>)>,
    opts: NftOptions,
}

fn read(path: &Path) -> Capture {
    let text = std::fs::read_to_string(path).expect("read capture");
    let mut c = Capture {
        generation: 0,
        nft: Vec::new(),
        legacy: Vec::new(),
        opts: NftOptions::default(),
    };
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split(' ').collect();
        match f.as_slice() {
            ["ifname", i, name] => {
                c.opts
                    .ifnames
                    .insert(i.parse().expect("index"), name.to_string());
            }
            ["gen", g] => c.generation = g.parse().expect("generation"),
            ["nft", h] => c.nft.extend(unhex(h)),
            ["legacy", fam, info, entries] => {
                let fam = match *fam {
                    "ip" => XtFamily::Ipv4,
                    "ip6" => XtFamily::Ipv6,
                    "arp" => XtFamily::Arp,
                    other => panic!("{}: family {other}", path.display()),
                };
                c.legacy.push((fam, unhex(info), unhex(entries)));
            }
            _ => panic!("{}: bad line {line}", path.display()),
        }
    }
    c
}

fn build(c: &Capture) -> nfscope::Result<(Ruleset, LegacyRuleset)> {
    let mut rs = nfscope::change::decode_dump(&c.nft)?;
    rs.generation = c.generation;
    let mut l = LegacyRuleset::default();
    for (fam, info, entries) in &c.legacy {
        l.tables
            .push(legacy::table_from_raw(*fam, info, entries.clone())?);
    }
    Ok((rs, l))
}

/// The expected outputs were written with `TZ=UTC` (`meta time` values print in local time, as
/// nft prints them). Every test calls this first: the zone is set before anything reads it
/// (glibc reads `TZ` once), and no other test thread runs meanwhile (`Once` blocks them).
fn utc() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    // SAFETY: called first by every test, under `Once`: no other thread reads the environment
    // while it is changed.
    ONCE.call_once(|| unsafe { std::env::set_var("TZ", "UTC") });
}

fn captures() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("tests/corpus/captures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "capture"))
        .collect();
    v.sort();
    v
}

/// `text` with the element expirations blanked: they count down between the capture and each
/// live dump (taken one after the other), so they are the one value the two cannot share.
fn without_expirations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (key, end) in [
        ("expires ", [',', ' ', '}', '\n']),
        ("\"expiration\": ", [',', '\n', ' ', '}']),
    ] {
        let src = if out.is_empty() {
            text.to_string()
        } else {
            std::mem::take(&mut out)
        };
        let mut rest = src.as_str();
        while let Some(i) = rest.find(key) {
            out.push_str(&rest[..i + key.len()]);
            out.push('_');
            rest = &rest[i + key.len()..];
            let j = rest.find(|c| end.contains(&c)).unwrap_or(rest.len());
            rest = &rest[j..];
        }
        out.push_str(rest);
    }
    out
}

/// The first line where `ours` and `want` differ, for the failure message.
fn first_difference(ours: &str, want: &str) -> String {
    let (mut a, mut b) = (ours.lines(), want.lines());
    for n in 1.. {
        match (a.next(), b.next()) {
            (None, None) => return "same lines, different line ends".into(),
            (x, y) if x != y => return format!("line {n}: ours {x:?}, expected {y:?}"),
            _ => {}
        }
    }
    unreachable!()
}

#[test]
fn every_capture_renders_as_the_live_dump_did() {
    utc();
    let caps = captures();
    assert!(caps.len() >= 40, "captures missing: {}", caps.len());
    let mut failures = Vec::new();
    let mut compared = 0;
    for path in &caps {
        let c = read(path);
        let (rs, l) = build(&c).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for (format, ext) in [
            (DumpFormat::Nft, "nft"),
            (DumpFormat::IptablesSave, "save"),
            (DumpFormat::Json, "json"),
            (DumpFormat::Nft, "writers"),
        ] {
            let opts = NftOptions {
                show_writer: ext == "writers",
                ..c.opts.clone()
            };
            let ours =
                without_expirations(&output::dump(&rs, Some(&l), Backend::All, format, &opts));
            let want = std::fs::read_to_string(path.with_extension(ext)).expect("expected output");
            let want = without_expirations(&want);
            compared += 1;
            if ours != want {
                failures.push(format!(
                    "{}.{ext}: {}",
                    path.file_stem().unwrap_or_default().to_string_lossy(),
                    first_difference(&ours, &want)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {compared} outputs differ (regenerate with `cargo xtask capture` only if the change is meant):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_capture_lints_as_the_live_snapshot_did() {
    utc();
    let mut failures = Vec::new();
    for path in captures() {
        let (rs, l) = build(&read(&path)).expect("build");
        let tables = output::legacy_tables(&l);
        let findings = nfscope::lint::run(&nfscope::lint::Input {
            nft: &rs,
            legacy: &tables,
            node: None,
        });
        let ours = output::lint(&findings, false, false);
        let want = std::fs::read_to_string(path.with_extension("lint")).expect("expected lint");
        if ours != want {
            failures.push(format!(
                "{}: {}",
                path.display(),
                first_difference(&ours, &want)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A capture cut anywhere is a typed decode error (or a smaller ruleset when the cut falls
/// between messages), never a panic.
#[test]
fn a_truncated_capture_is_a_typed_error() {
    utc();
    let c = read(&dir().join("both-ip-node.capture"));
    let mut errors = 0;
    for cut in (1..c.nft.len()).step_by(7) {
        match nfscope::change::decode_dump(&c.nft[..cut]) {
            Err(nfscope::Error::Decode { .. }) => errors += 1,
            Err(e) => panic!("cut at {cut}: not a decode error: {e}"),
            Ok(_) => {}
        }
    }
    assert!(errors > 0);
    for (fam, info, entries) in &c.legacy {
        for cut in (0..entries.len()).step_by(5) {
            match legacy::table_from_raw(*fam, info, entries[..cut].to_vec()) {
                Err(nfscope::Error::Decode { .. }) => {}
                Err(e) => panic!("entries cut at {cut}: not a decode error: {e}"),
                Ok(_) => panic!("entries cut at {cut} of {} decoded", entries.len()),
            }
        }
        for cut in 0..info.len() {
            assert!(matches!(
                legacy::table_from_raw(*fam, &info[..cut], entries.clone()),
                Err(nfscope::Error::Decode { .. })
            ));
        }
    }
}
