//! `nfscope`: show what is in this machine's firewall and who put it there.
//!
//! Command-line arguments are parsed by clap into [`Cli`], validated into library options in
//! each command's module, and the work is done by the `nfscope` library (embedded mode).

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc keeps freed memory for 10 ms before returning it to the OS; a snapshot frees and
/// allocates in bursts, so its peak RSS grows by that memory (`stats` at 80k rules: 55 MB
/// instead of 41 MB), for no measurable speed. Purge at once.
///
/// And no transparent huge pages: memory purged and touched again is zeroed by the kernel
/// 2 MB at a time, not 4 KB at a time (blame of 80k rules: a seventh of its CPU time went to
/// zeroing pages; without: 0.12 s less system time, 22 MB less peak RSS; dump 10 MB less).
fn lean_allocator() {
    // SAFETY: prctl with integer arguments; it only sets a flag of this process.
    unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    /// `mi_option_purge_delay` in mimalloc 3's `mi_option_e` (libmimalloc-sys 0.1.49, whose
    /// constants are mimalloc 2's).
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: setting a documented option to a valid value; mimalloc reads it at each purge.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) };
}

mod cmd;
mod history;
mod remote;
mod watch;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "nfscope",
    version,
    about = "Show exactly what is in this machine's firewall (nf_tables and legacy x_tables) and who put it there",
    long_about = "nfscope reads the kernel's firewall state directly (nf_tables over netlink), never through \
the nft or iptables binaries, and renders it as nft text or JSON.\n\n\
Reading the firewall needs root or CAP_NET_ADMIN. Nothing is ever changed.",
    after_help = AFTER_HELP,
    disable_version_flag = true,
    arg_required_else_help = true
)]
pub struct Cli {
    /// Print the version (with --verbose: and what the kernel offers, for bug reports).
    #[arg(short = 'V', long)]
    pub version: bool,
    /// With --version: the kernel release, whether nf_tables answers GETGEN, the audit state,
    /// which legacy x_tables modules are loaded.
    #[arg(long, requires = "version")]
    pub verbose: bool,
    /// Colour the text output (lint severities, watch changes and alerts): auto colours when
    /// stdout is a terminal and NO_COLOR is unset or empty.
    #[arg(long, global = true, value_enum, default_value_t = ColorArg::Auto, value_name = "WHEN")]
    pub color: ColorArg,

    /// Read the firewall of this network namespace (a name under /run/netns, as `ip netns` uses,
    /// or a path such as /proc/PID/ns/net) instead of the current one.
    #[arg(long, global = true, value_name = "NAME|PATH")]
    pub netns: Option<String>,

    /// Ask a running nfscoped instead of reading the kernel here: `unix:/run/nfscope/nfscoped.sock`
    /// or `https://HOST:PORT`. Output is exactly what embedded mode prints.
    #[arg(long, global = true, value_name = "URL")]
    pub remote: Option<String>,
    /// CA certificate (PEM) that signed the daemon's certificate (https remotes).
    #[arg(long, global = true, value_name = "PEM")]
    pub tls_ca: Option<std::path::PathBuf>,
    /// Client certificate (PEM), when the daemon requires one.
    #[arg(long, global = true, value_name = "PEM")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// Client private key (PEM).
    #[arg(long, global = true, value_name = "PEM")]
    pub tls_key: Option<std::path::PathBuf>,
    /// Server name to verify in the daemon's certificate (default: the URL's host).
    #[arg(long, global = true, value_name = "NAME")]
    pub tls_domain: Option<String>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// `--help`'s epilogue (also the man page's): examples, then the exit statuses `main` returns.
const AFTER_HELP: &str = concat!(
        "Examples:\n  sudo nfscope dump                       the whole ruleset as nft text\n  \
sudo nfscope dump --format json --table filter\n  sudo nfscope --netns blue stats          counts and timing inside netns 'blue'\n\n",
        "Exit status:\n  \
0  success (lint: no finding at the --fail-on severity)\n  \
1  error: reading the firewall failed (permissions, namespace), no daemon answered, \
bad data\n  \
2  usage error: unknown command or option, bad value\n  \
3  lint --fail-on: a finding of at least that severity was reported"
);

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorArg {
    /// When stdout is a terminal and NO_COLOR is unset or empty
    Auto,
    Always,
    Never,
}

impl Cli {
    /// Whether text output gets escape codes: `--color`, then NO_COLOR (<https://no-color.org>),
    /// then whether stdout is a terminal.
    pub fn colour(&self) -> bool {
        use std::io::IsTerminal;
        match self.color {
            ColorArg::Always => true,
            ColorArg::Never => false,
            ColorArg::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print the live ruleset (a consistent snapshot).
    Dump(DumpArgs),
    /// Take a full snapshot, decode everything and print counts per family and table, bytes
    /// read and time taken.
    Stats(StatsArgs),
    /// Report states of the firewall known to break nodes (rules in both backends, kube chains
    /// missing in one, rules an older iptables would corrupt, unconditional DROPs, node settings).
    Lint(LintArgs),
    /// Follow every change as it happens: who made it (process, executable, container) and what
    /// it changed, with an alert when a rule loses a match. Runs until interrupted.
    Watch(WatchArgs),
    /// Past changes with who made them, from the daemon's history (embedded mode reads its
    /// database file when no daemon holds it).
    History(HistoryArgs),
    /// Who gave each rule that is there now its current form, like `git blame`: the change
    /// (time, process, executable, command line, container, attribution, what it lost) from the
    /// daemon's history, and the writer band the rule's encoding shows. Embedded mode reads the
    /// history database when no daemon holds it.
    Blame(BlameArgs),
    /// Print a shell completion script: `nfscope completions bash > /etc/bash_completion.d/nfscope`
    /// (the Debian package installs them).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write the man pages (nfscope.1 and one per command) into DIR (used by `cargo xtask dist`).
    #[command(hide = true)]
    ManPages { dir: std::path::PathBuf },
}

#[derive(clap::Args, Debug)]
pub struct BlameArgs {
    /// Rule text: nft, iptables-save lines (nft text where iptables cannot read a rule), or
    /// JSON (an array of {backend, family, table, chain, handle, index, nft, iptables, writer,
    /// change}; `change` is the history record, null when the rule predates the history).
    #[arg(long, short, value_enum, default_value_t = Format::Nft)]
    pub format: Format,
    /// Which backend: nf_tables (nft), legacy x_tables (legacy), or both (all).
    #[arg(long, value_enum, default_value_t = BackendArg::All)]
    pub backend: BackendArg,
    /// The history database (embedded mode).
    #[arg(
        long,
        default_value = "/var/lib/nfscope/history.redb",
        value_name = "PATH"
    )]
    pub file: std::path::PathBuf,
    #[command(flatten)]
    pub filter: Filter,
}

#[derive(clap::Args, Debug)]
pub struct HistoryArgs {
    /// Only changes after this: a duration ago (`90s`, `30m`, `6h`, `2d`) or a unix time in seconds.
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only changes before this (same forms as --since).
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
    #[arg(long, value_name = "NAME")]
    pub table: Option<String>,
    #[arg(long, value_name = "NAME")]
    pub chain: Option<String>,
    /// Only changes that raised an alert.
    #[arg(long)]
    pub alerts_only: bool,
    /// One JSON object per line (id, time_unix_ms and the watch record's fields).
    #[arg(long)]
    pub json: bool,
    /// At most this many records.
    #[arg(long, default_value_t = 10_000)]
    pub limit: u32,
    /// The history database (embedded mode).
    #[arg(
        long,
        default_value = "/var/lib/nfscope/history.redb",
        value_name = "PATH"
    )]
    pub file: std::path::PathBuf,
}

#[derive(clap::Args, Debug)]
pub struct WatchArgs {
    /// One JSON object per line per change: type, generation, backend, family, table, chain,
    /// process, rule or before/after, lost, gained, alert, resync.
    #[arg(long)]
    pub json: bool,
    /// Only changes in tables with this name.
    #[arg(long, value_name = "NAME")]
    pub table: Option<String>,
    /// Only changes in chains with this name.
    #[arg(long, value_name = "NAME")]
    pub chain: Option<String>,
    /// Only changes that raise an alert.
    #[arg(long)]
    pub alerts_only: bool,
    /// Stop after this many seconds (default: run until interrupted).
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<f64>,
}

#[derive(clap::Args, Debug)]
pub struct LintArgs {
    /// Print the findings as JSON (an array of {id, severity, location, message, explanation, fix}).
    #[arg(long)]
    pub json: bool,
    /// Exit with status 3 when a finding of at least this severity is reported.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<SeverityArg>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeverityArg {
    Info,
    Warning,
    Critical,
}

#[derive(clap::Args, Debug)]
pub struct Filter {
    /// Only this family.
    #[arg(long, value_enum)]
    pub family: Option<FamilyArg>,
    /// Only tables with this name.
    #[arg(long, value_name = "NAME")]
    pub table: Option<String>,
    /// Only chains with this name.
    #[arg(long, value_name = "NAME")]
    pub chain: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct DumpArgs {
    /// Output format: nft text (as `nft list ruleset` prints it, xt expressions per --xt),
    /// iptables-save text (as iptables-nft-save / iptables-legacy-save print it; nf_tables
    /// bridge and arp tables as ebtables-nft-save / arptables-nft-save, legacy arp tables as
    /// arptables-legacy-save do), or JSON (the whole model with each rule's texts,
    /// writer and compat; schema in docs/json-schema.md).
    #[arg(long, short, value_enum, default_value_t = Format::Nft)]
    pub format: Format,
    /// Which backend: nf_tables (nft), legacy x_tables (legacy), or both (all). When both hold
    /// rules for a family, each part is labelled: packets traverse both.
    #[arg(long, value_enum, default_value_t = BackendArg::All)]
    pub backend: BackendArg,
    /// Add `# written by TOOL VERSIONS (CONFIDENCE)` after each rule (nft and iptables-save
    /// formats; the JSON always carries `writer`).
    #[arg(long)]
    pub show_writer: bool,
    /// iptables-save format: `[packets:bytes]` before each rule, as `iptables-save -c` prints
    /// them (arptables-legacy-save style `-c P B` for legacy arp rules).
    #[arg(long, short = 'c')]
    pub counters: bool,
    /// How the xt matches and targets that iptables-nft keeps inside nf_tables rules print in
    /// nft text (and in each JSON rule's `nft`). Rules written with nft are not affected.
    #[arg(long, value_enum, default_value_t = XtArg::Translate, value_name = "STYLE")]
    pub xt: XtArg,
    #[command(flatten)]
    pub filter: Filter,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum XtArg {
    /// As iptables-translate prints them: nft syntax where an equivalent exists, `-m comment`
    /// as the rule's comment, and `xt match NAME [iptables options]` where there is none
    Translate,
    /// Exactly as `nft list ruleset` (nftables 1.0.6) prints them: `xt match NAME`
    /// placeholders, comments dropped
    Nft,
}

#[derive(clap::Args, Debug)]
pub struct StatsArgs {
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
    /// Which backend to count: nf_tables (nft), legacy x_tables (legacy), or both (all; the
    /// legacy part only appears when a legacy table exists). With --remote only nft is served.
    #[arg(long, value_enum, default_value_t = BackendArg::All)]
    pub backend: BackendArg,
    #[command(flatten)]
    pub filter: Filter,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Nft,
    Json,
    IptablesSave,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendArg {
    Nft,
    Legacy,
    All,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FamilyArg {
    Ip,
    Ip6,
    Inet,
    Arp,
    Bridge,
    Netdev,
}

/// `Cli::command()` without its hidden subcommand (`man-pages`): clap_complete offers hidden
/// subcommands too.
fn completion_command() -> clap::Command {
    let full = Cli::command();
    clap::Command::new("nfscope")
        .disable_version_flag(true)
        .args(full.get_arguments().cloned())
        .subcommands(full.get_subcommands().filter(|s| !s.is_hide_set()).cloned())
}

fn main() -> ExitCode {
    lean_allocator();
    let cli = Cli::parse();
    if cli.version {
        use std::io::Write;
        let mut v = format!("nfscope {}\n", env!("CARGO_PKG_VERSION"));
        if cli.verbose {
            v.push_str(&nfscope::system::facts().to_string());
        }
        let _ = std::io::stdout().write_all(v.as_bytes());
        return ExitCode::SUCCESS;
    }
    match &cli.command {
        Some(Command::Completions { shell }) => {
            clap_complete::generate(
                *shell,
                &mut completion_command(),
                "nfscope",
                &mut std::io::stdout(),
            );
            return ExitCode::SUCCESS;
        }
        Some(Command::ManPages { dir }) => {
            return match clap_mangen::generate_to(Cli::command(), dir) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("nfscope: man pages into {}: {e}", dir.display());
                    ExitCode::from(1)
                }
            };
        }
        None => Cli::command()
            .error(
                clap::error::ErrorKind::MissingSubcommand,
                "a command is required (see --help)",
            )
            .exit(),
        _ => {}
    }
    match cmd::run(&cli) {
        Ok(cmd::Status::Ok) => ExitCode::SUCCESS,
        Ok(cmd::Status::Findings) => ExitCode::from(3),
        Err(e) => {
            eprintln!("nfscope: {e:#}");
            ExitCode::from(1)
        }
    }
}
