//! [`BridgeDialer`]: the actor that keeps one configured bridge up: it dials the other hub,
//! passes admission, registers the link with the table, reads it, PINGs it, and after any
//! loss dials again after the back-off (jittered, so hubs that lost one peer do not come back
//! in step). Supervised like a spoke: `bridge.<url>` in the server's tree.

use std::sync::Arc;
use std::time::Instant;

use actix::{
    Actor, ActorContext, ActorFutureExt, AsyncContext, Context, Handler, SpawnHandle,
    StreamHandler, WrapFuture,
};
use futures::StreamExt;
use hubwire_core::backoff::{BackoffState, Decision, Failure, SplitMix64};
use hubwire_core::config::BridgeTarget;
use hubwire_core::protocol::{Disconnect, ProtocolError};
use hubwire_core::spoke::link::LinkWriter;
use hubwire_core::spoke::SpokeOptions;
use hubwire_core::stream::{hold_wakes, FrameBatch};

use super::admit::{dial, Admitted};
use super::link::{LinkSide, LINK_PING_EVERY};
use super::sink::{BoundedSink, FrameSink};
use super::stats::LinkStats;
use super::table::LinkUp;
use crate::hub::Hub;
use crate::supervisor::{ExitReporter, StopChild};

/// What the dialer reads: batches of the live link's frames, then its end.
enum LinkItem {
    Batch(u64, Result<FrameBatch, ProtocolError>),
    End(u64),
}

/// Why an attempt made no link.
enum Missed {
    /// Try again after the back-off.
    Retry(String),
    /// Trying again cannot help (the address is this hub).
    GiveUp(String),
}

/// The live link.
struct Live {
    side: LinkSide,
    writer: LinkWriter,
    reading: SpawnHandle,
}

/// Keeps one bridge up.
pub struct BridgeDialer {
    target: Arc<BridgeTarget>,
    hub: Hub,
    options: SpokeOptions,
    stats: LinkStats,
    live: Option<Live>,
    /// Counts attempts, so that a stale attempt's result or stream is ignored.
    generation: u64,
    links_made: u64,
    /// Why the last attempt failed, so a repeated reason is logged once, not every attempt.
    last_failure: Option<String>,
    backoff: BackoffState,
    jitter: SplitMix64,
    exit: ExitReporter,
}

impl std::fmt::Debug for BridgeDialer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BridgeDialer")
            .field("url", &self.target.url)
            .field("up", &self.live.is_some())
            .finish_non_exhaustive()
    }
}

impl BridgeDialer {
    /// A dialer of `target` for `hub` (which must have bridges).
    pub fn new(target: Arc<BridgeTarget>, hub: Hub, exit: ExitReporter) -> BridgeDialer {
        let bridges = hub.bridges().expect("a hub with bridges");
        let stats = LinkStats::new(bridges.registry(), &target.url.to_string());
        let options = SpokeOptions {
            agent: concat!("hubwire-bridge/", env!("CARGO_PKG_VERSION")).into(),
            max_frame: bridges.max_frame(),
            ..SpokeOptions::default()
        };
        BridgeDialer {
            target,
            hub,
            options,
            stats,
            live: None,
            generation: 0,
            links_made: 0,
            last_failure: None,
            backoff: BackoffState::new(),
            jitter: SplitMix64::from_entropy(),
            exit,
        }
    }

    /// Dials `tls://` targets trusting `tls` (the default: the system roots only).
    pub fn with_tls(mut self, tls: Option<hubwire_core::tls::TlsClient>) -> Self {
        self.options.tls = tls;
        self
    }

    /// Offers `algorithms` to the hub it dials (`compression` in the configuration).
    pub fn with_compression(
        mut self,
        algorithms: Vec<hubwire_core::compression::Algorithm>,
    ) -> Self {
        self.options.compression = algorithms;
        self
    }

    /// Dials again after `policy` (the default is a spoke's).
    pub fn with_backoff(mut self, policy: hubwire_core::backoff::BackoffPolicy) -> Self {
        self.options.backoff = policy;
        self
    }

    fn connect(&mut self, ctx: &mut Context<Self>) {
        self.generation += 1;
        let generation = self.generation;
        let bridges = self.hub.bridges().expect("a hub with bridges").clone();
        let target = self.target.clone();
        let options = self.options.clone();
        let stats = self.stats.clone();
        let attempt = async move {
            let admitted = dial(&target.url, &bridges, &options).await.map_err(|e| {
                match e.is_retryable() {
                    true => Missed::Retry(e.to_string()),
                    false => Missed::GiveUp(e.to_string()),
                }
            })?;
            let sink = bridges.bounded(admitted.writer.outbound.clone());
            let up = LinkUp {
                peer: admitted.peer,
                dialed_by: bridges.me(),
                sink: sink.clone() as Arc<dyn FrameSink>,
                stats,
                filter: Some(target),
            };
            match bridges.table().send(up).await {
                Ok(Ok(link_no)) => Ok((admitted, sink, link_no)),
                Ok(Err(refused)) => {
                    admitted.writer.abort();
                    Err(Missed::Retry(refused))
                }
                Err(e) => {
                    admitted.writer.abort();
                    Err(Missed::Retry(format!("the bridge table is gone: {e}")))
                }
            }
        };
        ctx.spawn(attempt.into_actor(self).map(move |result, actor, ctx| {
            if actor.generation != generation {
                if let Ok((admitted, _, link_no)) = result {
                    LinkSide::down_of(&actor.hub, admitted.peer, link_no);
                    admitted.writer.abort();
                }
                return;
            }
            match result {
                Ok((admitted, sink, link_no)) => actor.link_up(admitted, sink, link_no, ctx),
                Err(Missed::Retry(reason)) => actor.retry_later(&reason, ctx),
                Err(Missed::GiveUp(reason)) => {
                    tracing::error!(url = %actor.target.url, %reason, "bridge not made; not retrying");
                }
            }
        }));
    }

    fn link_up(
        &mut self,
        admitted: Admitted,
        sink: Arc<BoundedSink>,
        link_no: u64,
        ctx: &mut Context<Self>,
    ) {
        let generation = self.generation;
        let Admitted {
            peer,
            writer,
            frames,
            early,
        } = admitted;
        let side = LinkSide::new(peer, link_no, self.hub.clone(), sink, self.stats.clone());
        let early = FrameBatch::from_frames(early);
        let stream =
            futures::stream::iter(early.map(|batch| LinkItem::Batch(generation, Ok(batch))))
                .chain(frames.map(move |batch| LinkItem::Batch(generation, batch)))
                .chain(futures::stream::once(
                    async move { LinkItem::End(generation) },
                ));
        let reading = ctx.add_stream(stream);
        if self.links_made > 0 {
            self.stats.reconnects.inc();
        }
        self.links_made += 1;
        self.last_failure = None;
        // The attempt count is not started over here but after the policy's `reset_after` of
        // health, as for spokes: a hub that admits the link and drops it at once is dialed
        // less and less often, not every `min` forever.
        tracing::info!(url = %self.target.url, %peer, "bridge up");
        self.live = Some(Live {
            side,
            writer,
            reading,
        });
    }

    fn link_down(&mut self, reason: &str, ctx: &mut Context<Self>) {
        let Some(live) = self.live.take() else {
            return;
        };
        ctx.cancel_future(live.reading);
        live.side.down();
        live.writer.abort();
        tracing::warn!(url = %self.target.url, %reason, "bridge down");
        self.retry_later(reason, ctx);
    }

    /// Plans the next attempt after the back-off.
    fn retry_later(&mut self, reason: &str, ctx: &mut Context<Self>) {
        let failure = Failure::retryable(reason);
        let decision = self.backoff.on_failure(
            &self.options.backoff,
            &failure,
            Instant::now(),
            &mut self.jitter,
        );
        let delay = match decision {
            Decision::RetryAfter(delay) => delay,
            Decision::RetryNow => std::time::Duration::ZERO,
            Decision::GiveUp(why) => {
                self.exit.failed(format!(
                    "gave up on the bridge to {}: {why:?}: {reason}",
                    self.target.url
                ));
                ctx.stop();
                return;
            }
        };
        if self.last_failure.as_deref() != Some(reason) {
            // A wrong secret, say, is told once, then again only if the reason changes.
            tracing::warn!(url = %self.target.url, %reason, ?delay, "bridge not up; dialing again");
            self.last_failure = Some(reason.to_owned());
        } else {
            tracing::debug!(url = %self.target.url, %reason, ?delay, "bridge: next attempt");
        }
        ctx.run_later(delay, |actor, ctx| actor.connect(ctx));
    }
}

impl Actor for BridgeDialer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.run_interval(LINK_PING_EVERY, |actor, ctx| {
            let Some(live) = &mut actor.live else { return };
            if let Err(reason) = live.side.keepalive() {
                actor.link_down(&reason, ctx);
            }
        });
        self.connect(ctx);
    }

    fn stopped(&mut self, _: &mut Context<Self>) {
        if let Some(live) = self.live.take() {
            live.side.down();
        }
        self.stats.up.set(0);
    }
}

impl StreamHandler<LinkItem> for BridgeDialer {
    fn handle(&mut self, item: LinkItem, ctx: &mut Context<Self>) {
        let (LinkItem::Batch(generation, _) | LinkItem::End(generation)) = &item;
        if *generation != self.generation {
            return;
        }
        let Some(live) = &mut self.live else { return };
        let ended = match item {
            LinkItem::Batch(_, Ok(batch)) => {
                hold_wakes(|| batch.iter().find_map(|f| live.side.on_frame(f).err()))
            }
            LinkItem::Batch(_, Err(e)) => Some(format!("read failed: {e}")),
            LinkItem::End(_) => Some("the other hub closed the link".into()),
        };
        if let Some(reason) = ended {
            self.link_down(&reason, ctx);
        }
    }

    fn finished(&mut self, _: &mut Context<Self>) {}
}

impl Handler<StopChild> for BridgeDialer {
    type Result = ();

    fn handle(&mut self, _: StopChild, ctx: &mut Context<Self>) {
        if let Some(live) = &self.live {
            let bye = Disconnect {
                reason: "the hub is stopping".into(),
            };
            let _ = live.writer.outbound.lock().push_envelope(&bye);
        }
        self.exit.finished();
        ctx.stop();
    }
}
