//! `nfscoped`: serves the live ruleset, the change stream and its history over gRPC.
//!
//! Listens on a unix socket by default (mode 0660, group configurable); TCP only with TLS
//! (rustls) and client certificates (unless `--tls-no-client-auth` says otherwise). Read-only:
//! nothing in the API changes the firewall. SIGTERM/SIGINT: health goes NOT_SERVING, Watch
//! streams end with UNAVAILABLE, the process exits within about a second whatever clients do.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc keeps freed memory for 10 ms before returning it to the OS; purge at once (the
/// watcher frees a large transaction's records in one burst).
///
/// And no transparent huge pages: a 2 MB page stays resident for the few KB still used in it
/// (`daemon-bench --scale 0.5 --restores 2`: RSS after the restores 71–74 MB instead of
/// 86–88, peak 137–138 MB instead of 157–160; replay rate unchanged within noise).
fn lean_allocator() {
    // SAFETY: prctl with integer arguments; it only sets a flag of this process.
    unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    /// `mi_option_purge_delay` in mimalloc 3's `mi_option_e` (libmimalloc-sys 0.1.49, whose
    /// constants are mimalloc 2's).
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: setting a documented option to a valid value; mimalloc reads it at each purge.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) };
}

mod hub;
mod metrics;
mod proto_conv;
mod server;

use anyhow::{bail, Context, Result};
use clap::{CommandFactory, Parser};
use nfscope_proto::v1::nfscope_server::NfscopeServer;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::UnixListener;
use tokio_stream::wrappers::UnixListenerStream;
use tonic::codec::CompressionEncoding;
use tonic::transport::{Certificate, Identity, Server, ServerTlsConfig};

#[derive(Parser, Debug)]
#[command(
    name = "nfscoped",
    version,
    about = "nfscope daemon: the live firewall ruleset, every change with who made it, and their history, over gRPC",
    after_help = "Examples:\n  nfscoped                                   unix socket /run/nfscope/nfscoped.sock\n  \
nfscoped --tcp 0.0.0.0:7443 --tls-cert c.pem --tls-key k.pem --tls-client-ca ca.pem\n  \
nfscope --remote unix:/run/nfscope/nfscoped.sock watch\n\n\
Exit status:\n  0  stopped by SIGTERM or SIGINT\n  1  error (cannot listen, read the firewall or open \
the history)\n  2  usage error: unknown option, bad value",
    disable_version_flag = true
)]
struct Args {
    /// Print the version (with --verbose: and what the kernel offers, for bug reports).
    #[arg(short = 'V', long)]
    version: bool,
    /// With --version: the kernel release, whether nf_tables answers GETGEN, the audit state,
    /// which legacy x_tables modules are loaded.
    #[arg(long, requires = "version")]
    verbose: bool,
    /// Print a shell completion script (used by `cargo xtask dist`).
    #[arg(long, hide = true, value_name = "SHELL")]
    completions: Option<clap_complete::Shell>,
    /// Write the man page nfscoped.8 into DIR (used by `cargo xtask dist`).
    #[arg(long, hide = true, value_name = "DIR")]
    man_pages: Option<PathBuf>,
    /// Unix socket to listen on.
    #[arg(
        long,
        default_value = "/run/nfscope/nfscoped.sock",
        value_name = "PATH"
    )]
    socket: PathBuf,
    /// Permissions of the unix socket (octal).
    #[arg(long, default_value = "0660", value_name = "MODE")]
    socket_mode: String,
    /// Group owning the unix socket (members may query).
    #[arg(long, value_name = "GROUP")]
    socket_group: Option<String>,
    /// Also listen on TCP at this address; requires --tls-cert and --tls-key.
    #[arg(long, value_name = "ADDR:PORT")]
    tcp: Option<SocketAddr>,
    /// Server certificate (PEM) for TCP.
    #[arg(long, value_name = "PEM")]
    tls_cert: Option<PathBuf>,
    /// Server private key (PEM) for TCP.
    #[arg(long, value_name = "PEM")]
    tls_key: Option<PathBuf>,
    /// Require client certificates signed by this CA (PEM). --tcp needs it, or
    /// --tls-no-client-auth.
    #[arg(long, value_name = "PEM")]
    tls_client_ca: Option<PathBuf>,
    /// Serve TCP to any client that completes TLS, without client certificates: anyone who can
    /// reach the port can read the ruleset and its history.
    #[arg(long, conflicts_with = "tls_client_ca")]
    tls_no_client_auth: bool,
    /// History database.
    #[arg(
        long,
        default_value = "/var/lib/nfscope/history.redb",
        value_name = "PATH"
    )]
    history: PathBuf,
    /// Keep history records this many hours.
    #[arg(long, default_value_t = 24 * 7, value_name = "HOURS")]
    history_max_age: u64,
    /// Keep at most this many history records.
    #[arg(long, default_value_t = 2_000_000, value_name = "N")]
    history_max_records: u64,
    /// Serve Prometheus metrics on this address (e.g. 127.0.0.1:9469).
    #[arg(long, value_name = "ADDR:PORT")]
    metrics: Option<SocketAddr>,
    /// Watch this network namespace (ip netns name or /proc/PID/ns/net) instead of our own.
    #[arg(long, value_name = "NAME|PATH")]
    netns: Option<String>,
    /// Concurrent Watch streams allowed.
    #[arg(long, default_value_t = 256)]
    max_streams: usize,
    /// Recent change records kept in memory for Watch subscribers; one that falls further
    /// behind than this gets a resync marker (and a fresh snapshot marker) instead.
    #[arg(long, default_value_t = 200_000)]
    subscriber_window: usize,
    /// Largest request accepted, in bytes.
    #[arg(long, default_value_t = 64 * 1024)]
    max_request_bytes: usize,
    /// Log format.
    #[arg(long, default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
}

fn gid_of(group: &str) -> Result<u32> {
    let groups = std::fs::read_to_string("/etc/group").context("read /etc/group")?;
    for l in groups.lines() {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() >= 3 && f[0] == group {
            return f[2].parse().context("bad gid in /etc/group");
        }
    }
    if let Ok(n) = group.parse() {
        return Ok(n);
    }
    bail!("no group {group:?} in /etc/group")
}

/// Clear the way for our socket: nothing there, or a stale socket (removed). A regular file
/// or anything else is never deleted, and a socket something answers on is a live daemon.
fn clear_socket_path(path: &std::path::Path) -> Result<()> {
    use std::os::unix::fs::FileTypeExt;
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("inspect {}", path.display())),
    };
    if !meta.file_type().is_socket() {
        bail!(
            "{} exists and is not a socket: refusing to replace it (remove it or choose another --socket)",
            path.display()
        );
    }
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        bail!(
            "{} is in use: another nfscoped (or another program) answers on it; stop it or choose another --socket",
            path.display()
        );
    }
    std::fs::remove_file(path).with_context(|| format!("remove stale socket {}", path.display()))
}

/// Create the history database file owner-only (0600) before the database opens it (it records
/// who changed what, with command lines), and take group/other access away from one an older
/// version created.
fn private_history_file(path: &std::path::Path) -> Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    }
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("open history database {}", path.display()))?;
    let mode = f.metadata()?.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        tracing::warn!(path = %path.display(), mode = format!("{mode:04o}"), "history database was readable by others; now 0600");
        f.set_permissions(std::fs::Permissions::from_mode(0o600))
            .with_context(|| format!("chmod 0600 {}", path.display()))?;
    }
    Ok(())
}

fn bind_unix(a: &Args) -> Result<UnixListener> {
    if let Some(dir) = a.socket.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    }
    clear_socket_path(&a.socket)?;
    let l = UnixListener::bind(&a.socket)
        .with_context(|| format!("listen on {}", a.socket.display()))?;
    let mode = u32::from_str_radix(a.socket_mode.trim_start_matches("0o"), 8)
        .context("--socket-mode is octal, e.g. 0660")?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&a.socket, std::fs::Permissions::from_mode(mode))?;
    if let Some(g) = &a.socket_group {
        let gid = gid_of(g)?;
        std::os::unix::fs::chown(&a.socket, None, Some(gid)).context("chown socket")?;
    }
    Ok(l)
}

/// `Args::command()` without its hidden options: clap_complete offers hidden ones too.
fn completion_command() -> clap::Command {
    let full = Args::command();
    clap::Command::new("nfscoped")
        .disable_version_flag(true)
        .args(full.get_arguments().filter(|a| !a.is_hide_set()).cloned())
}

#[tokio::main]
async fn main() -> Result<()> {
    lean_allocator();
    let a = Args::parse();
    if a.version {
        use std::io::Write;
        let mut v = format!("nfscoped {}\n", env!("CARGO_PKG_VERSION"));
        if a.verbose {
            v.push_str(&nfscope::system::facts().to_string());
        }
        let _ = std::io::stdout().write_all(v.as_bytes());
        return Ok(());
    }
    if let Some(shell) = a.completions {
        clap_complete::generate(
            shell,
            &mut completion_command(),
            "nfscoped",
            &mut std::io::stdout(),
        );
        return Ok(());
    }
    if let Some(dir) = &a.man_pages {
        let path = dir.join("nfscoped.8");
        let write = || -> std::io::Result<()> {
            let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
            clap_mangen::Man::new(Args::command())
                .section("8")
                .render(&mut f)?;
            std::io::Write::flush(&mut f)
        };
        return write().with_context(|| format!("man page {}", path.display()));
    }
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    if a.log_format == "json" {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt()
            .with_writer(std::io::stderr)
            .with_env_filter(filter)
            .init();
    }
    if a.tcp.is_some() && (a.tls_cert.is_none() || a.tls_key.is_none()) {
        bail!("--tcp needs --tls-cert and --tls-key: the TCP listener is TLS only");
    }
    if a.tcp.is_some() && a.tls_client_ca.is_none() && !a.tls_no_client_auth {
        bail!(
            "--tcp needs --tls-client-ca (clients must present a certificate signed by it); \
             to serve any TLS client without one, say so with --tls-no-client-auth"
        );
    }
    // Before anything else: refuse a path we must not take over, then keep the history private.
    clear_socket_path(&a.socket)?;
    private_history_file(&a.history)?;

    let metrics = Arc::new(metrics::Metrics::default());
    let hist = nfscope::history::History::open(
        &a.history,
        Duration::from_secs(a.history_max_age * 3600),
        a.history_max_records,
    )?;
    let hub = hub::Hub::new(hist, metrics.clone(), a.subscriber_window);

    // The watcher thread: ready once its initial snapshot is taken.
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    {
        let hub = hub.clone();
        let netns = a.netns.clone();
        std::thread::Builder::new()
            .name("nfscope-watch".into())
            .spawn(move || hub::run_watcher(hub, netns, ready_tx))?;
    }
    match ready_rx.recv() {
        Ok(Ok(())) => {}
        Ok(Err(e)) => bail!("cannot watch nf_tables: {e}"),
        Err(_) => bail!("the watcher thread ended before it started"),
    }

    // A stream still open REFUSE_AFTER into the shutdown is reset with REFUSED_STREAM (our h2
    // patch): its final status may never get out (flow control holds it behind data the client
    // has not read), and gRPC clients report REFUSED_STREAM as UNAVAILABLE, as the status says.
    h2::server::set_graceful_shutdown_deadline(Some(REFUSE_AFTER));
    let service = server::Service {
        hub: hub.clone(),
        netns: a.netns.clone(),
        streams: Arc::new(tokio::sync::Semaphore::new(a.max_streams)),
        queue: 256,
        dumps: Arc::new(tokio::sync::Semaphore::new(1)),
    };
    let health_reporter = tonic_health::server::HealthReporter::new();
    health_reporter
        .set_serving::<NfscopeServer<server::Service>>()
        .await;
    let health = tonic_health::pb::health_server::HealthServer::new(server::Health {
        inner: tonic_health::server::HealthService::from_health_reporter(health_reporter.clone()),
        hub: hub.clone(),
    })
    .accept_compressed(CompressionEncoding::Gzip)
    .send_compressed(CompressionEncoding::Gzip);
    // Both reflection versions: grpcurl 1.8 and Python's grpcio-reflection ask v1alpha.
    let reflection_builder = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(nfscope_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection = reflection_builder()
        .build_v1()?
        .accept_compressed(CompressionEncoding::Gzip)
        .send_compressed(CompressionEncoding::Gzip);
    let reflection_alpha = reflection_builder()
        .build_v1alpha()?
        .accept_compressed(CompressionEncoding::Gzip)
        .send_compressed(CompressionEncoding::Gzip);
    // gzip both ways: a request in gzip is accepted; responses are compressed when the client
    // says it accepts gzip (grpc-accept-encoding), else sent plain.
    let svc = || {
        NfscopeServer::new(service.clone())
            .max_decoding_message_size(a.max_request_bytes)
            .max_encoding_message_size(1 << 30)
            .accept_compressed(CompressionEncoding::Gzip)
            .send_compressed(CompressionEncoding::Gzip)
    };

    let (stop_tx, _) = tokio::sync::broadcast::channel::<()>(1);
    let unix = bind_unix(&a)?;
    let mut tasks = tokio::task::JoinSet::new();
    {
        let mut stop = stop_tx.subscribe();
        let router = Server::builder()
            .concurrency_limit_per_connection(64)
            .add_service(health.clone())
            .add_service(reflection.clone())
            .add_service(reflection_alpha.clone())
            .add_service(svc());
        tasks.spawn(async move {
            router
                .serve_with_incoming_shutdown(UnixListenerStream::new(unix), async move {
                    let _ = stop.recv().await;
                })
                .await
        });
    }
    if let Some(addr) = a.tcp {
        let cert =
            std::fs::read(a.tls_cert.as_ref().context("--tls-cert")?).context("read --tls-cert")?;
        let key =
            std::fs::read(a.tls_key.as_ref().context("--tls-key")?).context("read --tls-key")?;
        let mut tls = ServerTlsConfig::new().identity(Identity::from_pem(cert, key));
        if let Some(ca) = &a.tls_client_ca {
            tls = tls.client_ca_root(Certificate::from_pem(
                std::fs::read(ca).context("read --tls-client-ca")?,
            ));
        }
        let mut stop = stop_tx.subscribe();
        let router = Server::builder()
            .tls_config(tls)?
            .concurrency_limit_per_connection(64)
            .add_service(health.clone())
            .add_service(reflection.clone())
            .add_service(reflection_alpha.clone())
            .add_service(svc());
        let l = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("listen on {addr}"))?;
        tracing::info!(%addr, client_certs = a.tls_client_ca.is_some(), "listening on TCP (TLS)");
        tasks.spawn(async move {
            router
                .serve_with_incoming_shutdown(
                    tokio_stream::wrappers::TcpListenerStream::new(l),
                    async move {
                        let _ = stop.recv().await;
                    },
                )
                .await
        });
    }
    if let Some(addr) = a.metrics {
        let m = metrics.clone();
        tokio::spawn(async move {
            if let Err(e) = metrics::serve(addr, m).await {
                tracing::error!(error = %e, "metrics server failed");
            }
        });
    }
    tracing::info!(socket = %a.socket.display(), "nfscoped ready");

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
        r = tasks.join_next() => {
            if let Some(Ok(Err(e))) = r { bail!("server failed: {e}"); }
        }
    }
    tracing::info!("shutting down");
    // Health first (the whole server, "", and the nfscope service), so open health watches and
    // load balancers see NOT_SERVING; then every Watch stream ends with UNAVAILABLE; then the
    // listeners stop and the connections drain. A stream still open REFUSE_AFTER later (its
    // client does not read, so its status waits behind data; or a long GetRulesetStream) is
    // reset with REFUSED_STREAM, which clients report as UNAVAILABLE, and its connection
    // closes. Whatever is left after SHUTDOWN_GRACE (a client that does not even read its
    // socket) is cut.
    health_reporter
        .set_service_status("", tonic_health::ServingStatus::NotServing)
        .await;
    health_reporter
        .set_not_serving::<NfscopeServer<server::Service>>()
        .await;
    hub.close_all();
    let _ = stop_tx.send(());
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while tasks.join_next().await.is_some() {}
    })
    .await
    .is_ok();
    let _ = std::fs::remove_file(&a.socket);
    // The next start says when the daemon stopped (the gap marker).
    if let Err(e) =
        nfscope::gap::mark_stopped(&mut hub.history.lock().unwrap_or_else(|p| p.into_inner()))
    {
        tracing::error!(error = %e, "could not note the shutdown in the history");
    }
    tracing::info!(drained, "stopped");
    // Not a return: dropping the runtime would wait for blocking tasks (a snapshot in progress).
    std::process::exit(0)
}

/// How long connections may drain after SIGTERM before the process exits regardless.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(600);

/// How long after SIGTERM a stream may take to end before it is reset with REFUSED_STREAM
/// (within SHUTDOWN_GRACE, so the resets are sent before the process exits).
const REFUSE_AFTER: Duration = Duration::from_millis(300);
