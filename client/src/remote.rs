//! Remote mode: the same subcommands against a running nfscoped (`--remote unix:PATH` or
//! `--remote https://HOST:PORT`). The daemon renders with the same code as embedded mode, so
//! the output is identical.

use crate::cmd::{family, lint_status, write_stdout, Status};
use crate::watch::{deadline, ok_or_pipe, Printer};
use crate::{Cli, Command, Filter, Format};
use anyhow::{bail, Context, Result};
use nfscope::events::Record;
use nfscope::history::Stored;
use nfscope::lint::{Finding, Severity};
use nfscope_proto::v1 as pb;
use nfscope_proto::v1::nfscope_client::NfscopeClient;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

pub fn run(cli: &Cli, url: &str) -> Result<Status> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let ch = connect(cli, url).await?;
        let client = NfscopeClient::new(ch).max_decoding_message_size(1 << 30);
        dispatch(cli, client).await
    })
}

/// `what: cause`, the cause named once: tonic's transport error and its sources each print the
/// same io message, so the innermost one is the whole story.
fn connect_error(e: &tonic::transport::Error, what: String) -> anyhow::Error {
    let mut root: &dyn std::error::Error = e;
    while let Some(s) = root.source() {
        root = s;
    }
    anyhow::anyhow!("{what}: {root}")
}

async fn connect(cli: &Cli, url: &str) -> Result<Channel> {
    if let Some(path) = url.strip_prefix("unix:") {
        let path = path.to_string();
        // The URI is a placeholder: the connector dials the socket.
        let ch = Endpoint::try_from("http://nfscoped.local")?
            .connect_with_connector(tower::service_fn(move |_: tonic::transport::Uri| {
                let path = path.clone();
                async move {
                    let s = tokio::net::UnixStream::connect(&path).await?;
                    Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(s))
                }
            }))
            .await
            .map_err(|e| {
                connect_error(
                    &e,
                    format!(
                        "connect to nfscoped at {url} (is it running? is the socket readable by you?)"
                    ),
                )
            })?;
        return Ok(ch);
    }
    if url.starts_with("https://") {
        let mut tls = ClientTlsConfig::new();
        if let Some(ca) = &cli.tls_ca {
            tls = tls.ca_certificate(Certificate::from_pem(
                std::fs::read(ca).with_context(|| format!("read {}", ca.display()))?,
            ));
        } else {
            tls = tls.with_native_roots();
        }
        if let (Some(c), Some(k)) = (&cli.tls_cert, &cli.tls_key) {
            tls = tls.identity(Identity::from_pem(std::fs::read(c)?, std::fs::read(k)?));
        }
        if let Some(d) = &cli.tls_domain {
            tls = tls.domain_name(d.clone());
        }
        let ch = Endpoint::try_from(url.to_string())?
            .tls_config(tls)?
            .connect()
            .await
            .map_err(|e| connect_error(&e, format!("connect to nfscoped at {url}")))?;
        return Ok(ch);
    }
    bail!("--remote takes unix:PATH or https://HOST:PORT, not {url:?}")
}

fn filter(f: &Filter) -> pb::Filter {
    pb::Filter {
        family: f.family.map(|x| family(x).name()).unwrap_or_default(),
        table: f.table.clone().unwrap_or_default(),
        chain: f.chain.clone().unwrap_or_default(),
    }
}

fn pb_format(f: Format) -> pb::Format {
    match f {
        Format::Nft => pb::Format::Nft,
        Format::Json => pb::Format::Json,
        Format::IptablesSave => pb::Format::IptablesSave,
    }
}

fn pb_backend(b: crate::BackendArg) -> pb::Backend {
    match b {
        crate::BackendArg::Nft => pb::Backend::Nft,
        crate::BackendArg::Legacy => pb::Backend::Legacy,
        crate::BackendArg::All => pb::Backend::All,
    }
}

fn status_err(s: tonic::Status) -> anyhow::Error {
    anyhow::anyhow!("nfscoped: {}", s.message())
}

async fn dispatch(cli: &Cli, mut c: NfscopeClient<Channel>) -> Result<Status> {
    match &cli.command {
        Some(Command::Blame(a)) => {
            let req = pb::BlameRequest {
                filter: Some(filter(&a.filter)),
                format: pb_format(a.format) as i32,
                backend: pb_backend(a.backend) as i32,
            };
            let mut stream = match c.blame(req).await {
                Ok(s) => s.into_inner(),
                Err(e) if e.code() == tonic::Code::Unimplemented => anyhow::bail!(
                    "this nfscoped does not serve blame (it is older): run `nfscope blame` on the \
                     node without --remote, with the daemon stopped"
                ),
                Err(e) => return Err(status_err(e)),
            };
            let mut out = std::io::stdout().lock();
            while let Some(chunk) = stream.message().await.map_err(status_err)? {
                if !ok_or_pipe(std::io::Write::write_all(&mut out, chunk.text.as_bytes()))? {
                    return Ok(Status::Ok);
                }
            }
            ok_or_pipe(std::io::Write::flush(&mut out))?;
            Ok(Status::Ok)
        }
        Some(Command::Dump(a)) => {
            let req = pb::GetRulesetRequest {
                filter: Some(filter(&a.filter)),
                format: pb_format(a.format) as i32,
                backend: pb_backend(a.backend) as i32,
                show_writer: a.show_writer,
                // always explicit: an unspecified style means nft's form to the daemon
                xt_style: match a.xt {
                    crate::XtArg::Translate => pb::XtStyle::Translate,
                    crate::XtArg::Nft => pb::XtStyle::Nft,
                } as i32,
                counters: a.counters,
            };
            // Streamed in pieces, each written as it arrives; a daemon older than the
            // stream answers in one message.
            let mut stream = match c.get_ruleset_stream(req.clone()).await {
                Ok(s) => s.into_inner(),
                Err(e) if e.code() == tonic::Code::Unimplemented => {
                    let r = c.get_ruleset(req).await.map_err(status_err)?.into_inner();
                    for w in &r.warnings {
                        eprintln!("{w}");
                    }
                    write_stdout(&r.text)?;
                    return Ok(Status::Ok);
                }
                Err(e) => return Err(status_err(e)),
            };
            let mut out = std::io::stdout().lock();
            while let Some(chunk) = stream.message().await.map_err(status_err)? {
                for w in &chunk.warnings {
                    eprintln!("{w}");
                }
                if !ok_or_pipe(std::io::Write::write_all(&mut out, &chunk.text))? {
                    return Ok(Status::Ok);
                }
            }
            ok_or_pipe(std::io::Write::flush(&mut out))?;
            Ok(Status::Ok)
        }
        Some(Command::Stats(a)) => {
            if a.backend == crate::BackendArg::Legacy {
                return Err(anyhow::anyhow!(
                    "nfscoped serves nf_tables counts only; run `nfscope stats --backend legacy` \
                     on the node itself (embedded mode) for the legacy backend"
                ));
            }
            let r = c
                .stats(pb::StatsRequest {
                    filter: Some(filter(&a.filter)),
                    json: a.json,
                })
                .await
                .map_err(status_err)?
                .into_inner();
            write_stdout(&r.text)?;
            Ok(Status::Ok)
        }
        Some(Command::Lint(a)) => {
            let r = c
                .lint(pb::LintRequest {})
                .await
                .map_err(status_err)?
                .into_inner();
            let findings: Vec<Finding> = r
                .findings
                .into_iter()
                .map(|f| Finding {
                    id: f.id,
                    severity: match f.severity.as_str() {
                        "critical" => Severity::Critical,
                        "warning" => Severity::Warning,
                        _ => Severity::Info,
                    },
                    location: f.location,
                    message: f.message,
                    explanation: f.explanation,
                    fix: f.fix,
                    family: None,
                    table: None,
                })
                .collect();
            write_stdout(&nfscope::output::lint(&findings, a.json, cli.colour()))?;
            Ok(lint_status(&findings, a.fail_on))
        }
        Some(Command::Watch(a)) => {
            let req = pb::WatchRequest {
                filter: Some(pb::Filter {
                    family: String::new(),
                    table: a.table.clone().unwrap_or_default(),
                    chain: a.chain.clone().unwrap_or_default(),
                }),
                alerts_only: a.alerts_only,
                ..Default::default()
            };
            let mut stream = c.watch(req).await.map_err(status_err)?.into_inner();
            let mut p = Printer::new(a, cli.colour());
            let end = deadline(a);
            loop {
                let next = match end {
                    Some(d) => match tokio::time::timeout_at(d.into(), stream.message()).await {
                        Ok(m) => m,
                        Err(_) => return Ok(Status::Ok),
                    },
                    None => stream.message().await,
                };
                let Some(ev) = next.map_err(status_err)? else {
                    return Ok(Status::Ok);
                };
                let res = match ev.event {
                    Some(pb::watch_event::Event::Snapshot(s)) if s.reason == "start" => {
                        Printer::started(s.generation, s.rules);
                        Ok(())
                    }
                    Some(pb::watch_event::Event::Snapshot(_)) => Ok(()),
                    Some(pb::watch_event::Event::Resync(s)) => {
                        p.resync(s.generation, &s.reason, s.changes)
                    }
                    Some(pb::watch_event::Event::Record(r)) => {
                        match serde_json::from_str::<Record>(&r.json) {
                            Ok(rec) => p.record(&rec),
                            Err(e) => bail!("nfscoped sent a record this client cannot read: {e}"),
                        }
                    }
                    None => Ok(()),
                };
                if !ok_or_pipe(res)? {
                    return Ok(Status::Ok);
                }
            }
        }
        Some(Command::History(a)) => {
            let q = crate::history::query(a)?;
            // Page after page (each under 4 MB) until --limit records.
            let limit = if a.limit == 0 { 10_000 } else { a.limit };
            let mut recs = Vec::new();
            let mut page_token = String::new();
            let truncated = loop {
                let r = c
                    .history(pb::HistoryRequest {
                        since_unix_ms: q.since_unix_ms,
                        until_unix_ms: q.until_unix_ms,
                        filter: Some(pb::Filter {
                            family: String::new(),
                            table: q.table.clone(),
                            chain: q.chain.clone(),
                        }),
                        alerts_only: q.alerts_only,
                        limit: limit - recs.len() as u32,
                        page_token,
                        max_bytes: 0,
                    })
                    .await
                    .map_err(status_err)?
                    .into_inner();
                for x in r.records {
                    let record: Record = serde_json::from_str(&x.json)
                        .context("nfscoped sent a record this client cannot read")?;
                    recs.push(Stored {
                        id: x.id,
                        time_unix_ms: x.time_unix_ms,
                        record,
                    });
                }
                if !r.truncated || r.next_page_token.is_empty() {
                    break false;
                }
                if recs.len() as u32 >= limit {
                    break true;
                }
                page_token = r.next_page_token;
            };
            crate::history::print(&recs, truncated, a.json)?;
            Ok(Status::Ok)
        }
        // Answered in main before anything is asked.
        None | Some(Command::Completions { .. } | Command::ManPages { .. }) => Ok(Status::Ok),
    }
}
