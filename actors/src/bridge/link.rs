//! [`LinkSide`]: one end of a live bridge link, whichever hub dialed: it reads the link's
//! frames (messages forwarded at once, control frames to the table), keeps it alive with
//! PINGs and measures the round trip.

use std::sync::Arc;
use std::time::Instant;

use hubwire_core::bridge::{HubId, InterestUpdate, LinkState};
use hubwire_core::protocol::{
    kind, BridgeResync, Disconnect, Envelope, ErrorFrame, Frame, Ping, Pong, ProtocolError,
};

use super::sink::{BoundedSink, FrameSink};
use super::stats::LinkStats;
use super::table::{Control, FromLink, LinkDown};
use crate::hub::Hub;

/// How often each end PINGs the other.
pub use hubwire_core::session::LINK_PING_EVERY;

/// PINGs unanswered before the link is taken for dead.
pub const LINK_MAX_PINGS_OUT: u32 = 3;

/// Why a link ends.
pub type LinkEnd = String;

/// One end of a registered bridge link.
pub struct LinkSide {
    /// The hub at the other end.
    pub peer: HubId,
    /// The table's number for this link.
    pub link_no: u64,
    hub: Hub,
    sink: Arc<BoundedSink>,
    stats: LinkStats,
    pings_out: u32,
    ping_sent: Option<(u64, Instant)>,
    next_nonce: u64,
}

impl std::fmt::Debug for LinkSide {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LinkSide")
            .field("peer", &self.peer)
            .field("link_no", &self.link_no)
            .finish_non_exhaustive()
    }
}

impl LinkSide {
    /// The end of link `link_no` to `peer` on `hub` (whose bridges registered it).
    pub fn new(
        peer: HubId,
        link_no: u64,
        hub: Hub,
        sink: Arc<BoundedSink>,
        stats: LinkStats,
    ) -> LinkSide {
        LinkSide {
            peer,
            link_no,
            hub,
            sink,
            stats,
            pings_out: 0,
            ping_sent: None,
            next_nonce: 0,
        }
    }

    /// Handles one frame from the peer; an error ends the link.
    pub fn on_frame(&mut self, frame: &Frame) -> Result<(), LinkEnd> {
        self.pings_out = 0;
        let Some(bridges) = self.hub.bridges() else {
            return Err("this hub has no bridges".into());
        };
        let bad = |e: ProtocolError| format!("bad {} frame: {e}", kind::name(frame.kind));
        let control = match frame.kind {
            kind::BRIDGE_MESSAGE => {
                return bridges.on_message(&self.hub, self.peer, frame).map_err(bad)
            }
            kind::BRIDGE_LINK_STATE => {
                Control::LinkState(LinkState::from_frame(frame).map_err(bad)?)
            }
            kind::BRIDGE_INTEREST => {
                Control::Interest(InterestUpdate::from_frame(frame).map_err(bad)?)
            }
            kind::BRIDGE_RESYNC => {
                Control::Resync(BridgeResync::from_frame(frame).map_err(bad)?.origin)
            }
            kind::PING => {
                let Ping { nonce } = Ping::from_frame(frame).map_err(bad)?;
                if let Ok(pong) = (Pong { nonce }).to_frame_bytes() {
                    self.sink.push_urgent(&pong);
                }
                return Ok(());
            }
            kind::PONG => {
                let Pong { nonce } = Pong::from_frame(frame).map_err(bad)?;
                if let Some((sent_nonce, at)) = self.ping_sent {
                    if sent_nonce == nonce {
                        self.stats.rtt_us.set(at.elapsed().as_micros() as i64);
                        self.ping_sent = None;
                    }
                }
                return Ok(());
            }
            kind::ERROR => {
                let error = ErrorFrame::from_frame(frame).map_err(bad)?;
                return Err(format!(
                    "the peer hub said: {} ({})",
                    error.message, error.code
                ));
            }
            kind::DISCONN => {
                let reason = Disconnect::from_frame(frame)
                    .map(|d| d.reason)
                    .unwrap_or_default();
                return Err(format!("the peer hub disconnected: {reason}"));
            }
            other => {
                return Err(format!(
                    "frame kind {other} ({}) is not served on a bridge link",
                    kind::name(other)
                ))
            }
        };
        bridges.table().do_send(FromLink {
            peer: self.peer,
            link_no: self.link_no,
            control,
        });
        Ok(())
    }

    /// Call every [`LINK_PING_EVERY`]: sends a PING, or ends the link when too many went
    /// unanswered.
    pub fn keepalive(&mut self) -> Result<(), LinkEnd> {
        if self.sink.is_frozen() {
            return Err("the peer hub is frozen: it read nothing while owed the bound".into());
        }
        if self.pings_out >= LINK_MAX_PINGS_OUT {
            return Err(format!(
                "the peer hub answered none of {LINK_MAX_PINGS_OUT} PINGs"
            ));
        }
        self.pings_out += 1;
        self.next_nonce += 1;
        let nonce = self.next_nonce;
        if let Ok(ping) = (Ping { nonce }).to_frame_bytes() {
            if self.sink.push_urgent(&ping) {
                self.ping_sent = Some((nonce, Instant::now()));
            }
        }
        Ok(())
    }

    /// The link is gone: tell the table.
    pub fn down(&self) {
        LinkSide::down_of(&self.hub, self.peer, self.link_no);
    }

    /// Tells `hub`'s table that link `link_no` to `peer` is gone.
    pub fn down_of(hub: &Hub, peer: HubId, link_no: u64) {
        if let Some(bridges) = hub.bridges() {
            bridges.table().do_send(LinkDown { peer, link_no });
        }
    }
}
