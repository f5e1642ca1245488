//! Running a child process and measuring it: wall time from spawn to reap, peak RSS from the
//! `rusage` that `wait4(2)` returns for that child (`ru_maxrss`, KiB), and interruption.
//!
//! Ctrl-C: [`catch_interrupts`] installs a handler for SIGINT/SIGTERM/SIGHUP that only sets a
//! flag. The children in the foreground process group get the signal and die; the bench then
//! sees [`interrupted`] and returns an error, so its namespace guard still runs.

use anyhow::{bail, Context, Result};
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Turn SIGINT, SIGTERM and SIGHUP into a flag (see module docs).
pub fn catch_interrupts() {
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
        unsafe {
            libc::signal(
                sig,
                on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t,
            );
        }
    }
}

/// Whether a signal asked us to stop.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Fail with "interrupted" if a signal came.
pub fn check_interrupted() -> Result<()> {
    if interrupted() {
        bail!("interrupted");
    }
    Ok(())
}

/// One measured run.
#[derive(Debug, Clone)]
pub struct Sample {
    pub wall: Duration,
    /// Peak resident set size of the child, KiB.
    pub maxrss_kib: u64,
    /// User and system CPU time of the child.
    pub user: Duration,
    pub sys: Duration,
    /// Standard output, when asked for.
    pub stdout: Vec<u8>,
}

/// Spawn `cmd` (stdout captured if `capture`, else /dev/null), wait for it with `wait4` and
/// measure it. A non-zero exit is an error carrying the child's stderr.
pub fn run(cmd: &mut Command, capture: bool) -> Result<Sample> {
    let what = format!("{cmd:?}");
    let err_path =
        std::env::temp_dir().join(format!("nfscope-bench-{}.stderr", std::process::id()));
    let err_file = std::fs::File::create(&err_path).context("create stderr file")?;
    cmd.stdin(Stdio::null())
        .stdout(if capture {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stderr(Stdio::from(err_file));
    let start = Instant::now();
    let mut child = cmd.spawn().with_context(|| format!("spawn {what}"))?;
    let mut stdout = Vec::new();
    if let Some(mut o) = child.stdout.take() {
        o.read_to_end(&mut stdout)
            .with_context(|| format!("read stdout of {what}"))?;
    }
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data; all-zero is a valid value.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: wait4 on our own child with valid pointers to a c_int and a rusage. The
        // std `Child` is not waited on afterwards, so the pid is reaped exactly once.
        let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
        if rc == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e).with_context(|| format!("wait4 {what}"));
        }
    }
    let wall = start.elapsed();
    drop(child);
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    let _ = std::fs::remove_file(&err_path);
    check_interrupted()?;
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        bail!("{what} failed (wait status {status:#x}): {}", stderr.trim());
    }
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    Ok(Sample {
        wall,
        maxrss_kib: ru.ru_maxrss as u64,
        user: tv(ru.ru_utime),
        sys: tv(ru.ru_stime),
        stdout,
    })
}

/// Median of durations (mean of the middle two for an even count).
pub fn median(xs: &[Duration]) -> Duration {
    let mut v = xs.to_vec();
    v.sort();
    match v.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_odd_even() {
        let d = Duration::from_millis;
        assert_eq!(median(&[d(3), d(1), d(2)]), d(2));
        assert_eq!(
            median(&[d(4), d(1), d(2), d(3)]),
            Duration::from_micros(2500)
        );
        assert_eq!(median(&[]), Duration::ZERO);
    }

    #[test]
    fn measures_rss_and_exit() {
        // A child that touches ~64 MiB must report at least that much peak RSS.
        let s = run(
            Command::new("python3").args(["-c", "b = bytearray(64 << 20); print(len(b))"]),
            true,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&s.stdout).trim(),
            (64 << 20).to_string()
        );
        assert!(s.maxrss_kib >= 64 * 1024, "{s:?}");
        let e = run(
            Command::new("sh").args(["-c", "echo boom >&2; exit 3"]),
            false,
        );
        assert!(format!("{:#}", e.unwrap_err()).contains("boom"));
    }
}
