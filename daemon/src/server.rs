//! The gRPC service: validates requests at the edge, runs the library on a blocking thread
//! (snapshots are synchronous netlink work), converts domain → proto, streams.

use crate::hub::Hub;
use crate::proto_conv;
use nfscope::history::Query;
use nfscope::lint::{self, NodeSettings};
use nfscope::output::{self, Backend, DumpFormat};
use nfscope::render::nft::XtStyle;
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
}

/// A validated filter: family, table, chain.
type Validated = (Option<Family>, Option<String>, Option<String>);

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

type WatchStream = Pin<Box<dyn Stream<Item = Result<pb::WatchEvent, Status>> + Send>>;

#[tonic::async_trait]
impl Nfscope for Service {
    async fn get_ruleset(
        &self,
        req: Request<pb::GetRulesetRequest>,
    ) -> Result<Response<pb::GetRulesetResponse>, Status> {
        let req = req.into_inner();
        let (f, t, c) = validate(&req.filter)?;
        let format = match pb::Format::try_from(req.format) {
            Ok(pb::Format::Json) => DumpFormat::Json,
            Ok(pb::Format::IptablesSave) => DumpFormat::IptablesSave,
            Ok(_) => DumpFormat::Nft,
            Err(_) => {
                return Err(Status::invalid_argument(format!(
                    "unknown format {}",
                    req.format
                )))
            }
        };
        let backend = match pb::Backend::try_from(req.backend) {
            Ok(pb::Backend::Nft) => Backend::Nft,
            Ok(pb::Backend::Legacy) => Backend::Legacy,
            Ok(_) => Backend::All,
            Err(_) => {
                return Err(Status::invalid_argument(format!(
                    "unknown backend {}",
                    req.backend
                )))
            }
        };
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
        let show_writer = req.show_writer;
        let legacy = if backend.legacy() {
            Some(self.legacy(f, t.as_deref()).await?)
        } else {
            None
        };
        let (rs, _) = self.snapshot(f, t, c).await?;
        let text = tokio::task::spawn_blocking({
            let rs = rs.clone();
            let netns = self.netns.clone();
            move || {
                let mut opts = output::nft_options_for(netns.as_deref(), &rs).unwrap_or_default();
                opts.show_writer = show_writer;
                opts.xt = xt;
                output::dump(&rs, legacy.as_ref(), backend, format, &opts)
            }
        })
        .await
        .map_err(internal)?;
        Ok(Response::new(pb::GetRulesetResponse {
            generation: rs.generation,
            rules: rs.rule_count() as u64,
            chains: rs.tables.iter().map(|t| t.chains.len() as u64).sum(),
            warnings: if format == DumpFormat::Nft && backend.nft() {
                nfscope::render::nft::warnings(&rs)
            } else {
                vec![]
            },
            text,
        }))
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
        let (cursor, last_id) = hub.position();
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
        let replay_from = (req.since_id > 0 || req.since_generation > 0).then(|| Query {
            after_id: req.since_id,
            after_generation: req.since_generation,
            limit: REPLAY_PAGE,
            ..query.clone()
        });
        let metrics = hub.metrics.clone();
        metrics
            .subscribers
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let closed = hub.subscribe_closed();
        // Everything is sent from this task, after the stream is handed back: the marker, the
        // replay (page by page from the history, any length), then the live records.
        tokio::spawn(async move {
            if tx.send(Ok(start)).await.is_ok() {
                let replayed = match replay_from {
                    Some(q) => replay(&hub, q, last_id, &tx).await,
                    None => true,
                };
                if replayed {
                    hub.serve(cursor, last_id, query, tx).await;
                }
            }
            metrics
                .subscribers
                .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
            drop(permit);
        });
        Ok(Response::new(Box::pin(UntilShutdown {
            rx: tokio_stream::wrappers::ReceiverStream::new(rx),
            closed: Box::pin(async move {
                let mut closed = closed;
                let _ = closed.wait_for(|c| *c).await;
            }),
            done: false,
        })))
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
        let q = Query {
            since_unix_ms: req.since_unix_ms,
            until_unix_ms: req.until_unix_ms,
            family: f.map(|f| f.name()).unwrap_or_default(),
            table: t.unwrap_or_default(),
            chain: c.unwrap_or_default(),
            alerts_only: req.alerts_only,
            limit: req.limit as usize,
            ..Query::default()
        };
        let hub = self.hub.clone();
        let (recs, truncated) = tokio::task::spawn_blocking(move || {
            hub.history
                .lock()
                .map_err(|_| Status::internal("history lock"))
                .and_then(|h| h.query(&q).map_err(internal))
        })
        .await
        .map_err(internal)??;
        Ok(Response::new(pb::HistoryResponse {
            records: recs.iter().map(proto_conv::record).collect(),
            truncated,
        }))
    }
}

/// History records replayed per read (one history lock, one blocking task each).
const REPLAY_PAGE: usize = 4096;

/// Send the stored records after `q.after_id` up to `last_id` (the live stream takes over from
/// there), one page at a time so the replay is as long as the history and memory stays one page.
/// False when the client went away or the history failed (the error was sent).
async fn replay(
    hub: &Arc<Hub>,
    mut q: Query,
    last_id: u64,
    tx: &mpsc::Sender<Result<pb::WatchEvent, Status>>,
) -> bool {
    while q.after_id < last_id {
        let h = hub.clone();
        let page_q = q.clone();
        let page =
            tokio::task::spawn_blocking(move || lock_history(&h)?.query(&page_q).map_err(internal))
                .await
                .map_err(internal)
                .and_then(|r| r);
        let (page, more) = match page {
            Ok(p) => p,
            Err(e) => {
                let _ = tx.send(Err(e)).await;
                return false;
            }
        };
        let Some(last) = page.last() else {
            return true;
        };
        q.after_id = last.id;
        for s in page.iter().filter(|s| s.id <= last_id) {
            let ev = pb::WatchEvent {
                event: Some(pb::watch_event::Event::Record(proto_conv::record(s))),
            };
            if tx.send(Ok(ev)).await.is_err() {
                return false;
            }
        }
        if !more {
            return true;
        }
    }
    true
}

/// A Watch stream that ends with UNAVAILABLE as soon as the daemon shuts down, whether or not
/// its queue is drained (a client that does not read must not hold the daemon up), so a
/// client can tell shutdown from a normal end and resume with `since_id`.
struct UntilShutdown {
    rx: tokio_stream::wrappers::ReceiverStream<Result<pb::WatchEvent, Status>>,
    closed: Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
    done: bool,
}

impl Stream for UntilShutdown {
    type Item = Result<pb::WatchEvent, Status>;

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        if self.done {
            return Poll::Ready(None);
        }
        if self.closed.as_mut().poll(cx).is_ready() {
            self.done = true;
            return Poll::Ready(Some(Err(Status::unavailable(
                "nfscoped is shutting down; resume with since_id",
            ))));
        }
        let r = Pin::new(&mut self.rx).poll_next(cx);
        if let Poll::Ready(None) = r {
            self.done = true;
        }
        r
    }
}

fn lock_history(h: &Hub) -> Result<std::sync::MutexGuard<'_, nfscope::history::History>, Status> {
    h.history
        .lock()
        .map_err(|_| Status::internal("history lock poisoned"))
}
