//! Guards the bound of a bridge link: a peer hub that stops reading (a stopped process whose
//! socket is still open) is taken for frozen once the link owes it `bridge_max_outbound_bytes`:
//! the link is dropped, its memory freed, and the peer told why.

mod support;

use hubwire::bridge::routing::{FullPart, HubId, Interest, InterestUpdate};
use hubwire::hub::HubLimits;
use hubwire::protocol::{kind, Envelope, ErrorCode, ErrorFrame};
use hubwire::pubsub::Pattern;
use support::bridge::*;
use support::hub::{flood_until, free_port};
use support::*;

const BOUND: usize = 256 * 1024;

fn counter(server: &TestServer, name: &str) -> u64 {
    server.registry.snapshot().counter(name, &[]).unwrap_or(0)
}

#[actix_rt::test]
async fn a_peer_hub_that_stops_reading_is_dropped_once_the_link_owes_it_the_bound() {
    let mut config = bridged_hub_config(free_port(), Vec::new(), &secret());
    config.bridge_max_outbound_bytes = BOUND;
    config.send_buffer_bytes = 64 * 1024;
    let hub = TestServer::start(config, |b| b.hub(HubLimits::default())).unwrap();

    // A raw peer plays hub 7, wants everything, and then never reads again.
    let (mut peer, _) = admitted_neighbor(&hub).await;
    peer.send_envelope(&InterestUpdate {
        origin: HubId(7),
        from_seq: 0,
        to_seq: 1,
        add: vec![Interest::plain(Pattern::parse("**").unwrap())],
        remove: Vec::new(),
        full: Some(FullPart {
            after: None,
            last: true,
        }),
    })
    .await;

    let _publisher = flood_until(&hub, "the peer to be taken for frozen", || {
        counter(&hub, "bridge.frozen") > 0
    })
    .await;
    until("the link to be dropped", || gauge(&hub, "bridge.hubs") == 1).await;
    // Its socket is shut though it never read: only the publisher's writer is left.
    until("the link's writer to end", || {
        let stats = hub.registry.snapshot();
        stats.gauge("connections.writers", &[("transport", "tcp")]) == Some(1)
    })
    .await;

    // What the peer finds when it reads again: what the kernel held, perhaps why (if there was
    // room for it before the socket was shut), then the end.
    let mut received = 0usize;
    while let Some(frame) = peer.recv().await {
        received += frame.payload.len() + 6;
        if frame.kind == kind::ERROR {
            let error = ErrorFrame::from_frame(&frame).unwrap();
            assert_eq!(error.code, ErrorCode::Busy);
            assert!(error.message.starts_with("frozen"), "{}", error.message);
        }
    }
    assert!(received > 0, "it got what the kernel held");
}
