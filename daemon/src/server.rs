//! The gRPC service: validates requests at the edge, runs the library on a blocking thread
//! (snapshots are synchronous netlink work), converts domain → proto, streams.

use crate::hub::Hub;
use crate::proto_conv;
use nfscope::blame;
use nfscope::history::Query;
use nfscope::lint::{self, NodeSettings};
use nfscope::output::{self, Backend, DumpFormat};
use nfscope::render::nft::{NftOptions, XtStyle};
use nfscope::snapshot::{self, Options, Stats};
use nfscope::wire::nft::Family;
use nfscope::Ruleset;
use nfscope_proto::v1 as pb;
use nfscope_proto::v1::nfscope_server::Nfscope;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::{mpsc, Semaphore};
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

/// Names longer than this are not nf_tables names (NFT_NAME_MAXLEN).
const NAME_MAX: usize = 256;

#[derive(Clone)]
pub struct Service {
    pub hub: Arc<Hub>,
    pub netns: Option<String>,
    pub streams: Arc<Semaphore>,
    pub queue: usize,
    /// One `GetRuleset`/`GetRulesetStream` snapshot and rendering at a time: each holds a whole
    /// ruleset (about 125 MB at 80k rules), so concurrent calls wait their turn instead of
    /// multiplying the daemon's memory.
    pub dumps: Arc<Semaphore>,
}

/// A validated filter: family, table, chain.
type Validated = (Option<Family>, Option<String>, Option<String>);

/// A request's format (unspecified: nft).
fn format_of(f: i32) -> Result<DumpFormat, Status> {
    match pb::Format::try_from(f) {
        Ok(pb::Format::Json) => Ok(DumpFormat::Json),
        Ok(pb::Format::IptablesSave) => Ok(DumpFormat::IptablesSave),
        Ok(pb::Format::Nft | pb::Format::Unspecified) => Ok(DumpFormat::Nft),
        Err(_) => Err(Status::invalid_argument(format!("unknown format {f}"))),
    }
}

/// A request's backend (unspecified: all).
fn backend_of(b: i32) -> Result<Backend, Status> {
    match pb::Backend::try_from(b) {
        Ok(pb::Backend::Nft) => Ok(Backend::Nft),
        Ok(pb::Backend::Legacy) => Ok(Backend::Legacy),
        Ok(pb::Backend::All | pb::Backend::Unspecified) => Ok(Backend::All),
        Err(_) => Err(Status::invalid_argument(format!("unknown backend {b}"))),
    }
}

fn validate(f: &Option<pb::Filter>) -> Result<Validated, Status> {
    let Some(f) = f else {
        return Ok((None, None, None));
    };
    let family = if f.family.is_empty() {
        None
    } else {
        Some(Family::parse(&f.family).ok_or_else(|| {
            Status::invalid_argument(format!(
                "unknown family {:?}: use ip, ip6, inet, arp, bridge or netdev",
                f.family
            ))
        })?)
    };
    for (what, v) in [("table", &f.table), ("chain", &f.chain)] {
        if v.len() > NAME_MAX || v.contains('\0') {
            return Err(Status::invalid_argument(format!(
                "{what} name is not a valid nf_tables name"
            )));
        }
    }
    let opt = |s: &String| (!s.is_empty()).then(|| s.clone());
    Ok((family, opt(&f.table), opt(&f.chain)))
}

fn internal(e: impl std::fmt::Display) -> Status {
    Status::internal(e.to_string())
}

impl Service {
    /// Validate a GetRuleset request and take what it needs.
    async fn dump_request(&self, req: pb::GetRulesetRequest) -> Result<Dump, Status> {
        let (f, t, c) = validate(&req.filter)?;
        let format = format_of(req.format)?;
        let backend = backend_of(req.backend)?;
        // Unspecified is nft 1.0.6's form: what GetRuleset returned before the field existed.
        let xt = match pb::XtStyle::try_from(req.xt_style) {
            Ok(pb::XtStyle::Translate) => XtStyle::Translate,
            Ok(pb::XtStyle::Nft | pb::XtStyle::Unspecified) => XtStyle::Nft,
            Err(_) => {
                return Err(Status::invalid_argument(format!(
                    "unknown xt_style {}",
                    req.xt_style
                )))
            }
        };
        let legacy = if backend.legacy() {
            Some(self.legacy(f, t.as_deref()).await?)
        } else {
            None
        };
        let (rs, _) = self.snapshot(f, t, c).await?;
        let netns = self.netns.clone();
        let show_writer = req.show_writer;
        tokio::task::spawn_blocking(move || {
            let mut opts = output::nft_options_for(netns.as_deref(), &rs).unwrap_or_default();
            opts.show_writer = show_writer;
            opts.xt = xt;
            Dump {
                rs,
                legacy,
                backend,
                format,
                opts,
                counters: req.counters,
            }
        })
        .await
        .map_err(internal)
    }

    async fn legacy(
        &self,
        family: Option<Family>,
        table: Option<&str>,
    ) -> Result<nfscope::legacy::LegacyRuleset, Status> {
        let netns = self.netns.clone();
        let mut l = tokio::task::spawn_blocking(move || match &netns {
            Some(ns) => nfscope::legacy::read_all_in_netns(ns),
            None => nfscope::legacy::read_all(),
        })
        .await
        .map_err(internal)?
        .map_err(|e| Status::unavailable(e.to_string()))?;
        output::filter_legacy(&mut l, family, table);
        Ok(l)
    }

    async fn snapshot(
        &self,
        family: Option<Family>,
        table: Option<String>,
        chain: Option<String>,
    ) -> Result<(Ruleset, Stats), Status> {
        let netns = self.netns.clone();
        tokio::task::spawn_blocking(move || {
            let opts = Options {
                family,
                table,
                chain,
                ..Options::default()
            };
            match &netns {
                Some(ns) => snapshot::take_in_netns(ns, &opts),
                None => snapshot::take(&opts),
            }
        })
        .await
        .map_err(internal)?
        .map_err(|e| {
            if e.is_permission() {
                Status::permission_denied(e.to_string())
            } else {
                Status::unavailable(e.to_string())
            }
        })
    }
}

/// A GetRuleset request, read: the snapshot and how to render it.
struct Dump {
    rs: Ruleset,
    legacy: Option<nfscope::legacy::LegacyRuleset>,
    backend: Backend,
    format: DumpFormat,
    opts: NftOptions,
    counters: bool,
}

impl Dump {
    /// What the first chunk (or the single response) says besides the text.
    fn head(&self) -> pb::GetRulesetChunk {
        pb::GetRulesetChunk {
            generation: self.rs.generation,
            rules: self.rs.rule_count() as u64,
            chains: self.rs.tables.iter().map(|t| t.chains.len() as u64).sum(),
            warnings: if self.format == DumpFormat::Nft && self.backend.nft() {
                nfscope::render::nft::warnings(&self.rs)
            } else {
                vec![]
            },
            text: vec![],
        }
    }

    /// Render the text into `w` (JSON is serialized while produced, one rule at a time).
    fn write(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        if self.format == DumpFormat::Json {
            return output::write_json(w, &self.rs, self.legacy.as_ref(), self.backend, &self.opts);
        }
        let text = output::dump_with(
            &self.rs,
            self.legacy.as_ref(),
            self.backend,
            self.format,
            &self.opts,
            self.counters,
        );
        w.write_all(text.as_bytes())
    }
}

/// Largest text piece of a GetRulesetStream message.
const CHUNK_BYTES: usize = 1 << 20;

/// `text` in pieces of at most about `max` bytes, cut after a newline (a chain of many rules
/// would otherwise be one message over the clients' 4 MB limit); a longer line stays whole.
fn split_lines(text: String, max: usize) -> Vec<String> {
    if text.len() <= max {
        return vec![text];
    }
    let mut out = Vec::new();
    let mut rest = text.as_str();
    while rest.len() > max {
        // Bytes, not str slicing: `max` may fall inside a character; a newline never does.
        let b = rest.as_bytes();
        let cut = b[..max]
            .iter()
            .rposition(|&c| c == b'\n')
            .or_else(|| b.iter().position(|&c| c == b'\n'))
            .map_or(rest.len(), |i| i + 1);
        out.push(rest[..cut].to_string());
        rest = &rest[cut..];
    }
    if !rest.is_empty() {
        out.push(rest.to_string());
    }
    out
}

/// Sends what is written to it as GetRulesetChunks of at most CHUNK_BYTES, waiting while the
/// client has not read the previous ones.
struct ChunkWriter {
    first: Option<pb::GetRulesetChunk>,
    buf: Vec<u8>,
    tx: mpsc::Sender<Result<pb::GetRulesetChunk, Status>>,
}

impl ChunkWriter {
    fn send(&mut self) -> std::io::Result<()> {
        let mut c = self.first.take().unwrap_or_default();
        c.text = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK_BYTES));
        self.tx
            .blocking_send(Ok(c))
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))
    }
}

impl std::io::Write for ChunkWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let n = b.len().min(CHUNK_BYTES - self.buf.len());
        self.buf.extend_from_slice(&b[..n]);
        if self.buf.len() == CHUNK_BYTES {
            self.send()?;
        }
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

type ChunkStream = Pin<Box<dyn Stream<Item = Result<pb::GetRulesetChunk, Status>> + Send>>;

type BlameStream = Pin<Box<dyn Stream<Item = Result<pb::BlameChunk, Status>> + Send>>;
type WatchStream = Pin<Box<dyn Stream<Item = Result<pb::WatchEvent, Status>> + Send>>;

#[tonic::async_trait]
impl Nfscope for Service {
    async fn get_ruleset(
        &self,
        req: Request<pb::GetRulesetRequest>,
    ) -> Result<Response<pb::GetRulesetResponse>, Status> {
        let permit = self.dumps.clone().acquire_owned().await.map_err(internal)?;
        let d = self.dump_request(req.into_inner()).await?;
        let head = d.head();
        let text = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut out = Vec::new();
            d.write(&mut out).map(|_| out)
        })
        .await
        .map_err(internal)?
        .map_err(internal)?;
        Ok(Response::new(pb::GetRulesetResponse {
            generation: head.generation,
            rules: head.rules,
            chains: head.chains,
            warnings: head.warnings,
            text: String::from_utf8(text).map_err(internal)?,
        }))
    }

    type GetRulesetStreamStream = ChunkStream;

    async fn get_ruleset_stream(
        &self,
        req: Request<pb::GetRulesetRequest>,
    ) -> Result<Response<Self::GetRulesetStreamStream>, Status> {
        let permit = self.dumps.clone().acquire_owned().await.map_err(internal)?;
        let d = self.dump_request(req.into_inner()).await?;
        let (tx, rx) = mpsc::channel(2);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut w = ChunkWriter {
                first: Some(d.head()),
                buf: Vec::with_capacity(CHUNK_BYTES),
                tx,
            };
            let r = d.write(&mut w).and_then(|_| w.send());
            if let Err(e) = r {
                if e.kind() != std::io::ErrorKind::BrokenPipe {
                    let _ = w.tx.blocking_send(Err(internal(e)));
                }
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }

    async fn stats(
        &self,
        req: Request<pb::StatsRequest>,
    ) -> Result<Response<pb::StatsResponse>, Status> {
        let req = req.into_inner();
        let (f, t, c) = validate(&req.filter)?;
        let (rs, st) = self.snapshot(f, t, c).await?;
        Ok(Response::new(pb::StatsResponse {
            generation: rs.generation,
            rules: rs.rule_count() as u64,
            bytes_read: st.bytes,
            seconds: st.elapsed.as_secs_f64(),
            text: output::stats(&rs, &st, req.json),
        }))
    }

    async fn lint(
        &self,
        _req: Request<pb::LintRequest>,
    ) -> Result<Response<pb::LintResponse>, Status> {
        let (rs, _) = self.snapshot(None, None, None).await?;
        let legacy = output::legacy_tables(&self.legacy(None, None).await?);
        let netns = self.netns.clone();
        let findings = tokio::task::spawn_blocking(move || {
            let node = match &netns {
                Some(ns) => nfscope::netns::run_in(ns, NodeSettings::read).unwrap_or_default(),
                None => NodeSettings::read(),
            };
            lint::run(&lint::Input {
                nft: &rs,
                legacy: &legacy,
                node: Some(&node),
            })
        })
        .await
        .map_err(internal)?;
        Ok(Response::new(pb::LintResponse {
            findings: findings.iter().map(proto_conv::finding).collect(),
        }))
    }

    type WatchStream = WatchStream;

    async fn watch(
        &self,
        req: Request<pb::WatchRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let req = req.into_inner();
        let (f, t, c) = validate(&req.filter)?;
        let permit =
            self.streams.clone().try_acquire_owned().map_err(|_| {
                Status::resource_exhausted("too many watch streams; try again later")
            })?;
        let query = Query {
            family: f.map(|f| f.name()).unwrap_or_default(),
            table: t.unwrap_or_default(),
            chain: c.unwrap_or_default(),
            alerts_only: req.alerts_only,
            ..Query::default()
        };
        let (tx, rx) = mpsc::channel(self.queue);
        let hub = self.hub.clone();
        let at = hub.position();
        let mut marker = hub.snapshot_marker("start", 0);
        let format = match pb::Format::try_from(req.snapshot_format) {
            Ok(pb::Format::Unspecified) => None,
            Ok(pb::Format::Json) => Some(DumpFormat::Json),
            Ok(pb::Format::IptablesSave) => Some(DumpFormat::IptablesSave),
            Ok(pb::Format::Nft) => Some(DumpFormat::Nft),
            Err(_) => return Err(Status::invalid_argument("unknown snapshot_format")),
        };
        if let Some(format) = format {
            // The ruleset itself, taken after the cursor: live records of generations up to
            // its own are already in it.
            let (rs, _) = self.snapshot(None, None, None).await?;
            let netns = self.netns.clone();
            marker.generation = rs.generation;
            marker.rules = rs.rule_count() as u64;
            marker.text = tokio::task::spawn_blocking(move || {
                // the watch's start snapshot keeps nft 1.0.6's form (no style in WatchRequest)
                let mut opts = output::nft_options_for(netns.as_deref(), &rs).unwrap_or_default();
                opts.xt = XtStyle::Nft;
                output::dump(&rs, None, Backend::Nft, format, &opts)
            })
            .await
            .map_err(internal)?;
        }
        let start = pb::WatchEvent {
            event: Some(pb::watch_event::Event::Snapshot(marker)),
        };
        // A replay is the subscriber's cursor starting in the past: it reads the history from
        // there on at its client's pace, then goes on with live records.
        let from = if req.since_id > 0 {
            req.since_id.min(at.head)
        } else if req.since_generation > 0 {
            0
        } else {
            at.head
        };
        let query = Query {
            after_generation: req.since_generation,
            ..query
        };
        let metrics = hub.metrics.clone();
        metrics
            .subscribers
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let closed = hub.subscribe_closed();
        // Everything is sent from this task, after the stream is handed back: the marker, the
        // replay (the cursor reads the history at the client's pace, any length), then the live records.
        tokio::spawn(async move {
            if tx.send(Ok(start)).await.is_ok() {
                hub.serve(from, at, query, tx).await;
            }
            metrics
                .subscribers
                .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            drop(permit);
        });
        Ok(Response::new(Box::pin(UntilShutdown::new(
            tokio_stream::wrappers::ReceiverStream::new(rx),
            closed,
            false,
        ))))
    }

    type BlameStream = BlameStream;

    async fn blame(
        &self,
        req: Request<pb::BlameRequest>,
    ) -> Result<Response<Self::BlameStream>, Status> {
        let req = req.into_inner();
        let (f, t, c) = validate(&req.filter)?;
        let format = format_of(req.format)?;
        let backend = backend_of(req.backend)?;
        let legacy = if backend.legacy() {
            Some(self.legacy(f, t.as_deref()).await?)
        } else {
            None
        };
        let rs = if backend.nft() {
            self.snapshot(f, t.clone(), c.clone()).await?.0
        } else {
            Ruleset::default()
        };
        let reader = self.hub.reader.clone();
        let netns = self.netns.clone();
        let (tx, rx) = mpsc::channel(2);
        // The history is read in one read transaction beside the recorder (no lock held).
        tokio::task::spawn_blocking(move || {
            let opts = output::nft_options_for(netns.as_deref(), &rs).unwrap_or_default();
            let scope = blame::Scope {
                family: f,
                table: t,
                chain: c,
            };
            // One chain at a time; a client that went away ends it.
            let sent = blame::run(
                &rs,
                legacy.as_ref(),
                &opts,
                &reader,
                &scope,
                format,
                |chain| {
                    for text in split_lines(chain, CHUNK_BYTES) {
                        tx.blocking_send(Ok(pb::BlameChunk { text }))
                            .map_err(|_| anyhow::anyhow!("the client went away"))?;
                    }
                    Ok(())
                },
            );
            if let Err(e) = sent {
                let _ = tx.blocking_send(Err(Status::internal(format!("history read: {e:#}"))));
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }

    async fn history(
        &self,
        req: Request<pb::HistoryRequest>,
    ) -> Result<Response<pb::HistoryResponse>, Status> {
        let req = req.into_inner();
        let (f, t, c) = validate(&req.filter)?;
        if req.limit > 1_000_000 {
            return Err(Status::invalid_argument("limit is at most 1,000,000"));
        }
        if req.since_unix_ms < 0 || req.until_unix_ms < 0 {
            return Err(Status::invalid_argument(
                "since_unix_ms and until_unix_ms are unix milliseconds (0: unbounded), not negative",
            ));
        }
        if req.until_unix_ms != 0 && req.since_unix_ms > req.until_unix_ms {
            return Err(Status::invalid_argument(
                "since_unix_ms is after until_unix_ms: an empty range",
            ));
        }
        let after_id = if req.page_token.is_empty() {
            0
        } else {
            req.page_token.parse::<u64>().map_err(|_| {
                Status::invalid_argument("page_token is not one this daemon gave (next_page_token)")
            })?
        };
        let max_bytes = match req.max_bytes {
            0 => HISTORY_PAGE_BYTES,
            n => n as usize,
        };
        let limit = if req.limit == 0 {
            10_000
        } else {
            req.limit as usize
        };
        let q = Query {
            since_unix_ms: req.since_unix_ms,
            until_unix_ms: req.until_unix_ms,
            after_id,
            family: f.map(|f| f.name()).unwrap_or_default(),
            table: t.unwrap_or_default(),
            chain: c.unwrap_or_default(),
            alerts_only: req.alerts_only,
            limit,
            ..Query::default()
        };
        let reader = self.hub.reader.clone();
        let resp = tokio::task::spawn_blocking(move || -> Result<_, Status> {
            let (recs, mut truncated) = reader.query(&q).map_err(internal)?;
            // The page ends before the record that would take it over max_bytes (always at
            // least one record).
            let mut records = Vec::with_capacity(recs.len());
            let mut size = 16;
            for s in &recs {
                let r = proto_conv::record(s);
                let n = prost::Message::encoded_len(&r) + 8;
                if !records.is_empty() && size + n > max_bytes {
                    truncated = true;
                    break;
                }
                size += n;
                records.push(r);
            }
            let next_page_token = match records.last() {
                Some(r) if truncated => r.id.to_string(),
                _ => String::new(),
            };
            Ok(pb::HistoryResponse {
                records,
                truncated,
                next_page_token,
            })
        })
        .await
        .map_err(internal)??;
        Ok(Response::new(resp))
    }
}

/// A stream that ends with UNAVAILABLE as soon as the daemon shuts down, so a client can tell
/// shutdown from a normal end (a Watch resumes with `since_id`). A Watch stream ends whether or
/// not its queue is drained (a client that does not read must not hold the daemon up); a
/// health Watch (`inner_first`) first sends what is ready (NOT_SERVING).
struct UntilShutdown<S> {
    rx: S,
    /// Wakes the stream when the daemon shuts down.
    closed: Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
    /// Whether it has: read directly. The future can stay pending when its task's tokio budget
    /// is spent, while the hub's task that feeds `rx` saw the close and ended it.
    flag: tokio::sync::watch::Receiver<bool>,
    inner_first: bool,
    done: bool,
}

impl<S> UntilShutdown<S> {
    fn new(rx: S, closed: tokio::sync::watch::Receiver<bool>, inner_first: bool) -> Self {
        UntilShutdown {
            rx,
            flag: closed.clone(),
            closed: Box::pin(async move {
                let mut closed = closed;
                let _ = closed.wait_for(|c| *c).await;
            }),
            inner_first,
            done: false,
        }
    }

    /// Whether the daemon is shutting down (the future polled only until it is ready).
    fn shutting_down(&mut self, cx: &mut std::task::Context<'_>) -> bool {
        *self.flag.borrow() || self.closed.as_mut().poll(cx).is_ready()
    }
}

/// The standard health service, whose Watch streams end with UNAVAILABLE at shutdown (after
/// NOT_SERVING) instead of staying open until the connection is cut.
pub struct Health {
    pub inner: tonic_health::server::HealthService,
    pub hub: Arc<Hub>,
}

#[tonic::async_trait]
impl tonic_health::pb::health_server::Health for Health {
    async fn check(
        &self,
        req: Request<tonic_health::pb::HealthCheckRequest>,
    ) -> Result<Response<tonic_health::pb::HealthCheckResponse>, Status> {
        self.inner.check(req).await
    }

    type WatchStream =
        Pin<Box<dyn Stream<Item = Result<tonic_health::pb::HealthCheckResponse, Status>> + Send>>;

    async fn watch(
        &self,
        req: Request<tonic_health::pb::HealthCheckRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let closed = self.hub.subscribe_closed();
        let s = self.inner.watch(req).await?.into_inner();
        Ok(Response::new(Box::pin(UntilShutdown::new(s, closed, true))))
    }
}

impl<S, T> Stream for UntilShutdown<S>
where
    S: Stream<Item = Result<T, Status>> + Unpin,
{
    type Item = Result<T, Status>;

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        if self.done {
            return Poll::Ready(None);
        }
        if self.inner_first {
            if let Poll::Ready(Some(r)) = Pin::new(&mut self.rx).poll_next(cx) {
                return Poll::Ready(Some(r));
            }
        }
        let unavailable = |s: &mut Self| {
            s.done = true;
            Poll::Ready(Some(Err(Status::unavailable(
                "nfscoped is shutting down; resume with since_id",
            ))))
        };
        if self.shutting_down(cx) {
            return unavailable(&mut self);
        }
        let r = Pin::new(&mut self.rx).poll_next(cx);
        if let Poll::Ready(None) = r {
            // The hub ends its Watch tasks when it closes: one may have ended (its queue's
            // sender dropped) between the check above and this read, on another thread.
            // Looked at again, the close shows, so the stream ends UNAVAILABLE, not OK.
            if *self.flag.borrow() {
                return unavailable(&mut self);
            }
            self.done = true;
        }
        r
    }
}

/// The default largest History response: under every client's default 4 MB limit.
const HISTORY_PAGE_BYTES: usize = 3_500_000;

#[cfg(test)]
mod tests {
    use super::split_lines;

    #[test]
    fn pieces_end_at_lines_and_join_to_the_text() {
        let text: String = (0..1000).map(|i| format!("règle {i} ✓\n")).collect();
        let parts = split_lines(text.clone(), 100);
        assert!(parts.len() > 100);
        assert!(parts.iter().all(|p| p.ends_with('\n') && p.len() <= 100));
        assert_eq!(parts.concat(), text);
        // A line longer than the limit stays whole; short text is one piece.
        let long = format!("{}\nshort\n", "é".repeat(300));
        assert_eq!(split_lines(long.clone(), 100).concat(), long);
        assert_eq!(split_lines(long.clone(), 100).len(), 2);
        assert_eq!(split_lines("a\nb".into(), 100), vec!["a\nb".to_string()]);
    }
}
