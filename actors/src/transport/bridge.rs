//! The bridge side of a connection on a hub, carried out: the session's [`BridgeEnd`] admits
//! a peer hub that dialed this one (challenge-response on the shared secret); here the link is
//! registered with the bridge table, and from then on its frames go to its [`LinkSide`], like
//! those of a link this hub dialed.
//!
//! [`BridgeEnd`]: hubwire_core::session::BridgeEnd

use std::sync::Arc;
use std::time::Instant;

use actix::{ActorFutureExt, AsyncContext, Context, WrapFuture};
use hubwire_core::protocol::{ErrorCode, Frame};
use hubwire_core::session::{BridgeKeys, BridgeStep, BridgeTick};

use super::Connection;
use crate::bridge::{fresh_nonce, FrameSink, LinkSide, LinkStats, LinkUp};

impl Connection {
    /// A bridge frame, or any frame of a connection that is (becoming) a bridge link.
    pub(super) fn on_bridge_frame(&mut self, frame: Frame, ctx: &mut Context<Self>) {
        let bridges = self.shared.hub.as_ref().and_then(|hub| hub.bridges());
        let keys = bridges.map(|bridges| BridgeKeys {
            me: bridges.me(),
            secret: bridges.secret().expose(),
        });
        let now = Instant::now();
        match self.bridge.on_frame(frame, keys, fresh_nonce(), now) {
            BridgeStep::Nothing => {}
            BridgeStep::Challenge(challenge) => self.write_envelope(&challenge),
            BridgeStep::Register { proof, peer, name } => {
                self.write_envelope(&proof);
                self.register_link(peer, name, ctx);
            }
            BridgeStep::Link(frame) => {
                let ended = self
                    .bridge
                    .link_mut()
                    .and_then(|l| l.on_frame(&frame).err());
                if let Some(reason) = ended {
                    tracing::info!(peer = %self.peer, %reason, "bridge link ends");
                    self.close(ctx);
                }
            }
            BridgeStep::Refuse(code, message) => self.fail(ctx, code, message),
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
        let answer = bridges.table().send(up).into_actor(self);
        ctx.spawn(answer.map(move |answer, this, ctx| match answer {
            Ok(Ok(link_no)) => {
                let side = LinkSide::new(peer, link_no, hub, sink, stats);
                let early = this.bridge.linked(Box::new(side), Instant::now());
                for frame in early {
                    if this.closed {
                        break;
                    }
                    this.on_bridge_frame(frame, ctx);
                }
            }
            Ok(Err(refused)) => this.fail(ctx, ErrorCode::Denied, refused),
            Err(_) => this.close(ctx),
        }));
    }

    /// On the timeout check: the live link's keepalive (which ends a link that stopped
    /// answering), and the end of an admission the dialer stalled.
    pub(super) fn bridge_keepalive(&mut self, ctx: &mut Context<Self>) {
        match self.bridge.on_tick(Instant::now()) {
            BridgeTick::Nothing => {}
            BridgeTick::Refuse(code, message) => self.fail(ctx, code, message),
            BridgeTick::Keepalive => {
                let ended = self.bridge.link_mut().and_then(|l| l.keepalive().err());
                if let Some(reason) = ended {
                    tracing::info!(peer = %self.peer, %reason, "bridge link ends");
                    self.close(ctx);
                }
            }
        }
    }

    /// The connection is gone: so is its link.
    pub(super) fn bridge_closed(&mut self) {
        if let Some(side) = self.bridge.end() {
            side.down();
        }
    }
}
