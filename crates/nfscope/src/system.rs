//! What the running kernel offers nfscope, for bug reports (`nfscope --version --verbose`,
//! `nfscoped --version --verbose`). Read with the library's own sockets and `/proc` in the
//! calling thread's network namespace; nothing is run and nothing is changed (an audit socket
//! and an nf_tables socket are opened and closed; no legacy table is asked for, only the
//! `/proc` lists are read).

use crate::legacy;
use nfscope_wire::audit::Status;
use nfscope_wire::xt::entry::Family;
use std::fmt;

/// The kernel-facing facts.
#[derive(Debug)]
pub struct Facts {
    /// `uname -r`, from `uname(2)`.
    pub kernel: String,
    /// nf_tables' answer to `NFT_MSG_GETGEN`: the ruleset generation (what watch and snapshots
    /// rely on), or why there is none.
    pub nf_tables_generation: Result<u32, String>,
    /// The kernel's audit status (`AUDIT_GET`), or why it could not be read.
    pub audit_status: Result<Status, String>,
    /// Whether a listener for the kernel's audit records (`AUDIT_NLGRP_READLOG`) can be opened
    /// here: what attributes legacy x_tables changes.
    pub audit_records: Result<(), String>,
    /// Per legacy family: its `/proc` list of tables (`None`: the module, e.g. `ip_tables`, is
    /// not loaded).
    pub legacy: Vec<(&'static str, Option<Vec<String>>)>,
}

/// Read the facts.
pub fn facts() -> Facts {
    Facts {
        kernel: kernel_release(),
        nf_tables_generation: crate::sock::NfSocket::open()
            .and_then(|mut s| s.get_gen())
            .map_err(|e| e.to_string()),
        audit_status: crate::audit::status().map_err(|e| e.to_string()),
        audit_records: crate::audit::AuditSocket::open()
            .map(drop)
            .map_err(|e| e.to_string()),
        legacy: [
            ("ip_tables", Family::Ipv4),
            ("ip6_tables", Family::Ipv6),
            ("arp_tables", Family::Arp),
        ]
        .into_iter()
        .map(|(m, f)| {
            let listed = std::path::Path::new(legacy::names_file(f)).exists();
            (
                m,
                listed.then(|| legacy::table_names(f).unwrap_or_default()),
            )
        })
        .collect(),
    }
}

fn kernel_release() -> String {
    // SAFETY: utsname is plain old data; uname fills it and returns 0 on success.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to our own utsname.
    if unsafe { libc::uname(&mut u) } != 0 {
        return format!("unknown ({})", std::io::Error::last_os_error());
    }
    let bytes: Vec<u8> = u
        .release
        .iter()
        .take_while(|c| **c != 0)
        .map(|c| *c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

impl fmt::Display for Facts {
    /// One `name: value` line per fact.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "kernel: {}", self.kernel)?;
        match &self.nf_tables_generation {
            Ok(g) => writeln!(f, "nf_tables: answers GETGEN (generation {g})")?,
            Err(e) => writeln!(f, "nf_tables: no GETGEN answer: {e}")?,
        }
        match &self.audit_status {
            Ok(s) => {
                let state = match s.enabled {
                    0 => "disabled",
                    1 => "enabled",
                    _ => "enabled and locked",
                };
                write!(f, "audit: {state}")?;
                if s.pid != 0 {
                    write!(f, ", auditd pid {}", s.pid)?;
                }
                writeln!(f)?;
            }
            Err(e) => writeln!(f, "audit: status unknown: {e}")?,
        }
        match &self.audit_records {
            Ok(()) => writeln!(f, "audit records: a listener can be opened")?,
            Err(e) => writeln!(f, "audit records: no listener: {e}")?,
        }
        for (m, tables) in &self.legacy {
            match tables {
                None => writeln!(f, "legacy {m}: not loaded")?,
                Some(t) if t.is_empty() => writeln!(f, "legacy {m}: loaded, no tables")?,
                Some(t) => writeln!(f, "legacy {m}: loaded, tables {}", t.join(" "))?,
            }
        }
        Ok(())
    }
}
