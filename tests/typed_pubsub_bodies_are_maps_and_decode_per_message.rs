//! Guards typed pub/sub: a typed publish reaches a typed subscription as the value, encoded as a
//! map with field names (what `hubwire sub` turns into a JSON object); a body of another type
//! is reported as that message's error and the subscription goes on; typed calls and providers
//! carry values both ways, with undecodable requests and answers named.

mod support;

use std::time::Duration;

use bytes::Bytes;
use hubwire::prelude::*;
use support::hub::{hub, ready_spoke};
use support::recv_or_fail;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Reading {
    room: String,
    celsius: f32,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Doubled {
    twice: f32,
}

fn channel(name: &str) -> Channel {
    Channel::parse(name).unwrap()
}

fn pattern(text: &str) -> Pattern {
    Pattern::parse(text).unwrap()
}

/// A typed value arrives decoded, its body a map keyed by field names; a body of another type
/// is one error, and the next good message still arrives.
#[actix::test]
async fn typed_subscriptions_decode_each_message_and_report_bad_ones() {
    let hub = hub();
    let spoke = ready_spoke(hub.tcp(), "typed").await;
    let mut readings = spoke
        .subscribe_typed::<Reading>(pattern("rooms/*/temp"))
        .await
        .unwrap();
    let kitchen = Reading {
        room: "kitchen".into(),
        celsius: 21.5,
    };
    spoke
        .publish_typed(channel("rooms/kitchen/temp"), &kitchen)
        .await
        .unwrap();
    spoke
        .publish(channel("rooms/attic/temp"), Bytes::from_static(b"\x2a"))
        .await
        .unwrap();
    spoke
        .publish_typed(channel("rooms/hall/temp"), &kitchen)
        .await
        .unwrap();

    let first = recv_or_fail("a reading", readings.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.value, kitchen);
    let as_json: serde_json::Value =
        serde_json::to_value(rmpv::decode::read_value(&mut &first.delivery.body[..]).unwrap())
            .unwrap();
    assert_eq!(
        as_json,
        serde_json::json!({"room": "kitchen", "celsius": 21.5})
    );

    let bad = recv_or_fail("the bad body", readings.recv())
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(bad.delivery.channel.to_string(), "rooms/attic/temp");
    assert!(bad.to_string().contains("rooms/attic/temp"), "{bad}");
    assert!(bad.to_string().contains("Reading"), "{bad}");

    let third = recv_or_fail("the next reading", readings.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(third.delivery.channel.to_string(), "rooms/hall/temp");
}

/// A typed call reaches a typed provider and comes back typed; `?` and typed errors reach the
/// caller with their code.
#[actix::test]
async fn typed_calls_and_providers_carry_values_both_ways() {
    let hub = hub();
    let spoke = ready_spoke(hub.tcp(), "rpc").await;
    spoke
        .provide_typed(pattern("svc/double"), |reading: Reading| async move {
            if reading.celsius < -273.15 {
                return Err(HandlerError::invalid_request("below absolute zero"));
            }
            Ok(Doubled {
                twice: reading.celsius * 2.0,
            })
        })
        .await
        .unwrap();
    let timeout = Duration::from_secs(5);
    let reading = Reading {
        room: "lab".into(),
        celsius: 4.0,
    };
    let doubled: Doubled = spoke
        .call_typed(channel("svc/double"), &reading, timeout)
        .await
        .unwrap();
    assert_eq!(doubled, Doubled { twice: 8.0 });

    let cold = Reading {
        room: "lab".into(),
        celsius: -300.0,
    };
    let err = spoke
        .call_typed::<_, Doubled>(channel("svc/double"), &cold, timeout)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InvalidBody), "{err}");
    assert!(err.to_string().contains("absolute zero"), "{err}");

    // A request of the wrong type never reaches the handler.
    let err = spoke
        .call_typed::<_, Doubled>(channel("svc/double"), &"not a reading", timeout)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InvalidBody), "{err}");
    assert!(err.to_string().contains("Reading"), "{err}");

    // An answer of the wrong type is named as such.
    let err = spoke
        .call_typed::<_, String>(channel("svc/double"), &reading, timeout)
        .await
        .unwrap_err();
    assert!(matches!(err, RpcError::InvalidReply { .. }), "{err}");
}
