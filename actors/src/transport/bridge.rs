//! The bridge side of a connection on a hub: a peer hub that dialed this one is admitted
//! (challenge-response on the shared secret), registered with the bridge table, and from then
//! on its frames go to a [`LinkSide`], like those of a link this hub dialed.

use std::sync::Arc;
use std::time::Instant;

use actix::{ActorFutureExt, AsyncContext, Context, WrapFuture};
use hubwire_core::protocol::{kind, ErrorCode, Frame};

use super::Connection;
use crate::bridge::{
    on_hello, on_proof, FrameSink, LinkSide, LinkStats, LinkUp, Listening, Step, ADMISSION_TIMEOUT,
    LINK_PING_EVERY,
};

/// Where a connection is in being a bridge link.
pub(super) enum BridgeEnd {
    /// Challenged (at the instant given); waiting for the dialer's proof.
    Challenged(Listening, Instant),
    /// Admitted; waiting for the table to register the link. Frames that come meanwhile wait.
    Registering(Vec<Frame>),
    /// A live link.
    Linked(Box<LinkSide>, Instant),
}

impl Connection {
    /// Whether `frame` is the bridge's to handle: any bridge kind, and every frame of a
    /// connection that is (becoming) a bridge link.
    pub(super) fn on_bridge_frame(&mut self, frame: Frame, ctx: &mut Context<Self>) {
        let bridges = self.shared.hub.as_ref().and_then(|hub| hub.bridges());
        let step = match self.bridge.take() {
            None if frame.kind == kind::BRIDGE_HELLO => on_hello(bridges, &frame),
            None => Step::Refuse(
                ErrorCode::Protocol,
                format!("{} before BRIDGE_HELLO", kind::name(frame.kind)),
            ),
            Some(BridgeEnd::Challenged(state, _)) if frame.kind == kind::BRIDGE_PROOF => {
                match bridges {
                    Some(bridges) => on_proof(bridges, state, &frame),
                    None => Step::Refuse(ErrorCode::Denied, "this hub takes no bridges".into()),
                }
            }
            Some(BridgeEnd::Challenged(..)) => Step::Refuse(
                ErrorCode::Protocol,
                format!("{} instead of BRIDGE_PROOF", kind::name(frame.kind)),
            ),
            Some(BridgeEnd::Registering(mut early)) => {
                early.push(frame);
                self.bridge = Some(BridgeEnd::Registering(early));
                return;
            }
            Some(BridgeEnd::Linked(mut side, pinged)) => {
                let outcome = side.on_frame(&frame);
                self.bridge = Some(BridgeEnd::Linked(side, pinged));
                if let Err(reason) = outcome {
                    tracing::info!(peer = %self.peer, %reason, "bridge link ends");
                    self.close(ctx);
                }
                return;
            }
        };
        match step {
            Step::Challenge(challenge, state) => {
                self.write_envelope(&challenge);
                self.bridge = Some(BridgeEnd::Challenged(state, Instant::now()));
            }
            Step::Admit { proof, peer, name } => {
                self.write_envelope(&proof);
                self.register_link(peer, name, ctx);
            }
            Step::Refuse(code, message) => self.fail(ctx, code, message),
        }
    }

    fn register_link(
        &mut self,
        peer: hubwire_core::bridge::HubId,
        name: String,
        ctx: &mut Context<Self>,
    ) {
        let Some(hub) = self.shared.hub.clone() else {
            return;
        };
        let Some(bridges) = hub.bridges().cloned() else {
            return;
        };
        let sink = bridges.bounded(self.replies.clone());
        let stats = LinkStats::new(bridges.registry(), &format!("from {name}"));
        let up = LinkUp {
            peer,
            dialed_by: peer,
            sink: sink.clone() as Arc<dyn FrameSink>,
            stats: stats.clone(),
            filter: None,
        };
        self.bridge = Some(BridgeEnd::Registering(Vec::new()));
        let answer = bridges.table().send(up).into_actor(self);
        ctx.spawn(answer.map(move |answer, this, ctx| {
            let early = match this.bridge.take() {
                Some(BridgeEnd::Registering(early)) => early,
                _ => return,
            };
            match answer {
                Ok(Ok(link_no)) => {
                    let side = LinkSide::new(peer, link_no, hub, sink, stats);
                    this.bridge = Some(BridgeEnd::Linked(Box::new(side), Instant::now()));
                    for frame in early {
                        if this.closed {
                            break;
                        }
                        this.on_bridge_frame(frame, ctx);
                    }
                }
                Ok(Err(refused)) => this.fail(ctx, ErrorCode::Denied, refused),
                Err(_) => this.close(ctx),
            }
        }));
    }

    /// On the timeout check: PINGs a live link every [`LINK_PING_EVERY`], and closes one that
    /// stopped answering.
    /// Also ends an admission the dialer stalled.
    pub(super) fn bridge_keepalive(&mut self, ctx: &mut Context<Self>) {
        if let Some(BridgeEnd::Challenged(_, since)) = &self.bridge {
            if since.elapsed() >= ADMISSION_TIMEOUT {
                let message = format!("no BRIDGE_PROOF within {ADMISSION_TIMEOUT:?}");
                return self.fail(ctx, ErrorCode::Timeout, message);
            }
        }
        let Some(BridgeEnd::Linked(side, pinged)) = &mut self.bridge else {
            return;
        };
        if pinged.elapsed() < LINK_PING_EVERY {
            return;
        }
        *pinged = Instant::now();
        if let Err(reason) = side.keepalive() {
            tracing::info!(peer = %self.peer, %reason, "bridge link ends");
            self.close(ctx);
        }
    }

    /// The connection is gone: so is its link.
    pub(super) fn bridge_closed(&mut self) {
        if let Some(BridgeEnd::Linked(side, _)) = self.bridge.take() {
            side.down();
        }
    }
}
