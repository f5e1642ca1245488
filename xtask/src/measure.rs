//! Running a child process and measuring it: wall time from spawn to reap, peak RSS
//! (`ru_maxrss`, KiB), CPU time, and interruption.
//!
//! Peak RSS goes through `/usr/bin/time -f '%M %U %S'`: a child's `ru_maxrss` starts from its
//! parent's high-water mark (fork copies the memory map, posix_spawn's vfork shares it, and exec
//! keeps the old map's peak in `signal->maxrss`), so `wait4` on a child of this 30 MB process
//! reports at least 30 MB even for `true`. GNU time is a small fresh process, so its child's
//! figure is the command's own (`true` gives ~1 MB). Without /usr/bin/time we fall back to
//! `wait4`'s figure and say so ([`Sample::rss_inflated`]).
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

const GNU_TIME: &str = "/usr/bin/time";

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
    /// Peak resident set size of the command, KiB.
    pub maxrss_kib: u64,
    /// User and system CPU time of the command.
    pub user: Duration,
    pub sys: Duration,
    /// Standard output, when asked for.
    pub stdout: Vec<u8>,
    /// `maxrss_kib` came from `wait4` of our own child, so it includes this process's peak.
    pub rss_inflated: bool,
}

/// Run `argv` (stdout captured if `capture`, else /dev/null), wait for it with `wait4` and
/// measure it. A non-zero exit is an error carrying the command's stderr.
pub fn run(argv: &[String], capture: bool) -> Result<Sample> {
    let what = argv.join(" ");
    let (prog, args) = argv.split_first().context("empty command")?;
    let tmp = std::env::temp_dir();
    let pid = std::process::id();
    let err_path = tmp.join(format!("nfscope-bench-{pid}.stderr"));
    let time_path = tmp.join(format!("nfscope-bench-{pid}.time"));
    let err_file = std::fs::File::create(&err_path).context("create stderr file")?;
    let via_time = std::path::Path::new(GNU_TIME).exists();
    let mut cmd = if via_time {
        let mut c = Command::new(GNU_TIME);
        c.args(["-f", "%M %U %S", "-o"]).arg(&time_path).args(argv);
        c
    } else {
        let mut c = Command::new(prog);
        c.args(args);
        c
    };
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
    let cpid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data; all-zero is a valid value.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: wait4 on our own child with valid pointers to a c_int and a rusage. The
        // std `Child` is not waited on afterwards, so the pid is reaped exactly once.
        let rc = unsafe { libc::wait4(cpid, &mut status, 0, &mut ru) };
        if rc == cpid {
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
    let timed = std::fs::read_to_string(&time_path).unwrap_or_default();
    let _ = std::fs::remove_file(&time_path);
    check_interrupted()?;
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        bail!("{what} failed (wait status {status:#x}): {}", stderr.trim());
    }
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    let mut sample = Sample {
        wall,
        maxrss_kib: ru.ru_maxrss as u64,
        user: tv(ru.ru_utime),
        sys: tv(ru.ru_stime),
        stdout,
        rss_inflated: true,
    };
    if via_time {
        let (rss, user, sys) = parse_time(&timed)
            .with_context(|| format!("{GNU_TIME} output for {what}: {timed:?}"))?;
        sample.maxrss_kib = rss;
        sample.user = user;
        sample.sys = sys;
        sample.rss_inflated = false;
    }
    Ok(sample)
}

/// The last line of GNU time's `-f '%M %U %S'` output (earlier lines may be notes such as
/// "Command exited with non-zero status 3").
fn parse_time(s: &str) -> Option<(u64, Duration, Duration)> {
    let mut f = s.lines().last()?.split_whitespace();
    let rss = f.next()?.parse().ok()?;
    let mut secs = || -> Option<Duration> {
        let x: f64 = f.next()?.parse().ok()?;
        Duration::try_from_secs_f64(x).ok()
    };
    let user = secs()?;
    let sys = secs()?;
    Some((rss, user, sys))
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
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn argv(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

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
    fn gnu_time_lines() {
        let d = Duration::from_millis;
        assert_eq!(parse_time("1080 0.00 0.01\n"), Some((1080, d(0), d(10))));
        assert_eq!(
            parse_time("Command exited with non-zero status 3\n2048 1.50 0.25\n"),
            Some((2048, d(1500), d(250)))
        );
        assert_eq!(parse_time(""), None);
    }

    #[test]
    fn measures_rss_and_exit() {
        // A child that touches 64 MiB must report at least that much peak RSS.
        let s = run(
            &argv(&["python3", "-c", "b = bytearray(64 << 20); print(len(b))"]),
            true,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&s.stdout).trim(),
            (64 << 20).to_string()
        );
        assert!(s.maxrss_kib >= 64 * 1024, "{s:?}");
        // And `true` is not charged with this test process's memory (64 MiB of ballast).
        let ballast = vec![1u8; 64 << 20];
        let t = run(&argv(&["true"]), false).unwrap();
        assert!(!t.rss_inflated && t.maxrss_kib < 16 * 1024, "{t:?}");
        drop(ballast);
        let e = run(&argv(&["sh", "-c", "echo boom >&2; exit 3"]), false);
        assert!(format!("{:#}", e.unwrap_err()).contains("boom"));
    }
}
