//! A call's answers go back to the caller's hub even before the caller's inbox interest has
//! spread: the hub that took the call over a bridge addresses the answers to the call's origin
//! hub. So a caller that calls the moment it connects gets its answer, however far the
//! provider is.

mod support;

use std::time::Duration;

use bytes::Bytes;
use hubwire::bridge::routing::HubId;
use hubwire::protocol::{
    kind, BridgeMessage, Envelope, Headers, Message, MessageFlags, Ping, Publish, Subscribe,
};
use hubwire::pubsub::{Channel, Pattern};
use support::bridge::*;
use support::hub::*;
use support::*;

fn channel(s: &str) -> Channel {
    Channel::parse(s).unwrap()
}

fn publish(on: &str, flags: MessageFlags, reply_to: Option<&str>, body: &'static [u8]) -> Publish {
    Publish {
        channel: channel(on),
        flags,
        reply_to: reply_to.map(channel),
        headers: Headers::new(),
        body: Bytes::from_static(body),
    }
}

/// The next BRIDGE_MESSAGE the hub sends its raw peer (interest, adverts and pings skipped).
async fn next_bridge_message(peer: &mut Raw) -> BridgeMessage {
    recv_or_fail("a message over the bridge", async {
        loop {
            let frame = peer.recv().await.expect("the link stays up");
            if frame.kind == kind::BRIDGE_MESSAGE {
                return BridgeMessage::from_frame(&frame).unwrap();
            }
        }
    })
    .await
}

/// A raw peer plays hub 7, which has announced no interest at all: the answer to its call
/// still comes back over the link, addressed to it, while a publish on a channel nobody
/// beyond the link wants does not cross.
#[tokio::test]
async fn an_answer_goes_back_to_the_calling_hub_before_its_interest_is_known() {
    let hub = bridged_hub(ports(1)[0], &[]);
    let mut provider = Raw::handshake(&hub.tcp()).await;
    provider
        .send_envelope(&Subscribe::new(1, Pattern::parse("svc").unwrap()))
        .await;
    provider.send_envelope(&Ping { nonce: 1 }).await;
    while provider.recv().await.expect("a PONG").kind != kind::PONG {}

    let (mut peer, hub_id) = admitted_neighbor(&hub).await;

    let call = publish("svc", MessageFlags::REQUEST, Some("_inbox/far/1"), b"hi");
    peer.send_envelope(&BridgeMessage {
        origin: HubId(7),
        seq: 1,
        hops: 0,
        picks: Vec::new(),
        publish: call,
    })
    .await;
    let request = recv_or_fail("the call to reach the provider", async {
        loop {
            let frame = provider.recv().await.expect("the provider stays connected");
            if frame.kind == kind::MESSAGE {
                return Message::from_frame(&frame).unwrap();
            }
        }
    })
    .await;
    assert_eq!(request.reply_to, Some(channel("_inbox/far/1")));

    // First a publish nobody beyond the link wants (if it crossed, it would come first).
    let unwanted = publish("_inbox/far/2", MessageFlags::NONE, None, b"no");
    provider.send_envelope(&unwanted).await;
    let answer = MessageFlags::ACK.union(MessageFlags::REPLY);
    provider
        .send_envelope(&publish("_inbox/far/1", answer, None, b"ho"))
        .await;

    let back = next_bridge_message(&mut peer).await;
    assert_eq!(back.publish.channel, channel("_inbox/far/1"));
    assert_eq!(back.publish.flags, answer);
    assert_eq!(&back.publish.body[..], b"ho");
    assert_eq!(back.origin, hub_id);
    assert_eq!(
        back.picks,
        vec![(String::new(), HubId(7))],
        "addressed to hub 7"
    );
}

/// In a chain A-B-C with a provider on C, callers that connect to A and call at once are
/// answered on their first call: their inboxes are not yet known on C, two hops away.
#[actix::test]
async fn new_callers_two_hops_away_are_answered_on_their_first_call() {
    let Chain {
        ports: _,
        a,
        b: _b,
        c,
    } = chain().await;
    let provider = ready_spoke(c.tcp(), "provider").await;
    provider
        .provide(Pattern::parse("svc/echo").unwrap(), |request| async move {
            Ok(request.body)
        })
        .await
        .unwrap();
    // Once one caller is answered, the provider is known on A.
    let first = ready_spoke(a.tcp(), "first caller").await;
    call_until_answered(&first, "svc/echo").await;

    for n in 0..5 {
        let caller = ready_spoke(a.tcp(), &format!("new caller {n}")).await;
        let reply = caller
            .call(
                channel("svc/echo"),
                Bytes::from_static(b"at once"),
                Duration::from_secs(2),
            )
            .await
            .unwrap_or_else(|e| panic!("new caller {n}'s first call: {e}"));
        assert_eq!(&reply[..], b"at once");
    }
}
