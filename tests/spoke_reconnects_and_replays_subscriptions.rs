//! Guards the spoke, the client side of a hub: a publish reaches another spoke's subscription;
//! after the hub restarts on the same port the spoke reconnects by itself and its whole
//! subscription list works again; calls are answered by providers, with typed outcomes for no
//! responders, remote errors and timeouts (acknowledged or not), many calls in flight on one
//! spoke each get their own reply, and each call to a provider group reaches one member.
//! Confirming subscriptions publishes nothing that a `**` subscriber would see.

mod support;

use std::time::Duration;

use bytes::Bytes;
use hubwire::protocol::{ErrorCode, MessageFlags};
use hubwire::pubsub::{Channel, Pattern};
use hubwire::spoke::{Delivery, PublishOptions, RpcError, SpokeEvent, SubscribeOptions};
use support::hub::{free_port, hub, hub_on, ready_spoke, wait_event};
use support::*;
use tokio::sync::mpsc;

fn channel(s: &str) -> Channel {
    Channel::parse(s).unwrap()
}

fn pattern(s: &str) -> Pattern {
    Pattern::parse(s).unwrap()
}

async fn next(rx: &mut mpsc::Receiver<Delivery>) -> Delivery {
    recv_or_fail("a message", rx.recv())
        .await
        .expect("the subscription is open")
}

#[actix::test]
async fn a_publish_reaches_another_spokes_subscription() {
    let server = hub();
    let a = ready_spoke(server.tcp(), "a").await;
    let b = ready_spoke(server.tcp(), "b").await;
    let (sid, mut temps) = a.subscribe(pattern("rooms/*/temp")).await.unwrap();

    b.publish(channel("rooms/kitchen/temp"), Bytes::from_static(b"21"))
        .await
        .unwrap();
    let got = next(&mut temps).await;
    assert_eq!(got.sid, sid);
    assert_eq!(got.channel.as_str(), "rooms/kitchen/temp");
    assert_eq!(&got.body[..], b"21");

    // No echo: a's own publish skips a's subscription; the next one arrives.
    let no_echo = PublishOptions {
        no_echo: true,
        ..Default::default()
    };
    a.publish_with(
        channel("rooms/hall/temp"),
        Bytes::from_static(b"mine"),
        no_echo,
    )
    .await
    .unwrap();
    b.publish(channel("rooms/hall/temp"), Bytes::from_static(b"19"))
        .await
        .unwrap();
    assert_eq!(&next(&mut temps).await.body[..], b"19");

    // Unsubscribed: the receiver ends once the spoke forgets it.
    a.unsubscribe(sid).await.unwrap();
    b.publish(channel("rooms/kitchen/temp"), Bytes::from_static(b"22"))
        .await
        .unwrap();
    assert!(recv_or_fail("the end of the subscription", temps.recv())
        .await
        .is_none());
}

#[actix::test]
async fn subscribing_and_flushing_publish_nothing_a_catch_all_subscriber_would_see() {
    let server = hub();
    let watcher = ready_spoke(server.tcp(), "watcher").await;
    let (_, mut everything) = watcher.subscribe(pattern("**")).await.unwrap();

    // A second spoke comes up (its list replayed behind a PING), subscribes and flushes: all
    // of it is confirmed by PONGs, none of it is a message on some channel.
    let other = ready_spoke(server.tcp(), "other").await;
    other.subscribe(pattern("rooms/*/temp")).await.unwrap();
    other.flush(Duration::from_secs(5)).await.unwrap();
    other
        .publish(channel("rooms/kitchen/temp"), Bytes::from_static(b"21"))
        .await
        .unwrap();

    let first = next(&mut everything).await;
    assert_eq!(first.channel.as_str(), "rooms/kitchen/temp");
}

#[actix::test]
async fn a_spoke_reconnects_after_the_hub_restarts_and_its_subscriptions_work_again() {
    let port = free_port();
    let server = hub_on(port);
    let subscriber = ready_spoke(server.tcp(), "subscriber").await;
    let publisher = ready_spoke(server.tcp(), "publisher").await;
    let mut events = subscriber.events();
    let (_, mut one) = subscriber.subscribe(pattern("a/*")).await.unwrap();
    let (_, mut two) = subscriber.subscribe(pattern("b/**")).await.unwrap();
    subscriber
        .provide(
            pattern("svc/echo"),
            |request| async move { Ok(request.body) },
        )
        .await
        .unwrap();

    drop(server);
    let down = wait_event(&mut events, "the disconnect", |e| {
        matches!(e, SpokeEvent::Disconnected { .. })
    })
    .await;
    assert!(!subscriber.readiness().ready, "{down:?}");

    let server = hub_on(port);
    let again = wait_event(&mut events, "the reconnect", |e| {
        matches!(e, SpokeEvent::Connected { .. })
    })
    .await;
    assert_eq!(again, SpokeEvent::Connected { first: false });
    // The whole list: the call inbox, two subscriptions and the provider.
    let replayed = wait_event(&mut events, "the replay", |e| {
        matches!(e, SpokeEvent::Subscribed { .. })
    })
    .await;
    assert_eq!(replayed, SpokeEvent::Subscribed { subscriptions: 4 });
    assert_eq!(subscriber.readiness().connections, 2);

    publisher.ready(PATIENCE).await.unwrap();
    publisher
        .publish(channel("a/x"), Bytes::from_static(b"one"))
        .await
        .unwrap();
    publisher
        .publish(channel("b/y/z"), Bytes::from_static(b"two"))
        .await
        .unwrap();
    assert_eq!(&next(&mut one).await.body[..], b"one");
    assert_eq!(&next(&mut two).await.body[..], b"two");
    let echoed = publisher
        .call(channel("svc/echo"), Bytes::from_static(b"hi"), PATIENCE)
        .await
        .unwrap();
    assert_eq!(&echoed[..], b"hi");
    drop(server);
}

#[actix::test]
async fn a_call_is_answered_by_its_provider() {
    let server = hub();
    let provider = ready_spoke(server.tcp(), "provider").await;
    let caller = ready_spoke(server.tcp(), "caller").await;
    provider
        .provide(pattern("svc/upper"), |request| async move {
            Ok(Bytes::from(request.body.to_ascii_uppercase()))
        })
        .await
        .unwrap();
    // A provider that answers later: ACK first, then REPLY.
    provider
        .provide(pattern("svc/later"), |request| async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(request.body)
        })
        .await
        .unwrap();
    let reply = caller
        .call(channel("svc/upper"), Bytes::from_static(b"dice"), PATIENCE)
        .await
        .unwrap();
    assert_eq!(&reply[..], b"DICE");
    let reply = caller
        .call(channel("svc/later"), Bytes::from_static(b"soon"), PATIENCE)
        .await
        .unwrap();
    assert_eq!(&reply[..], b"soon");
}

#[actix::test]
async fn each_call_goes_to_one_member_of_a_provider_group() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    const CALLS: usize = 60;
    let server = hub();
    let served: Vec<Arc<AtomicUsize>> = (0..3).map(|_| Arc::default()).collect();
    let mut members = Vec::new();
    for (i, count) in served.iter().enumerate() {
        let member = ready_spoke(server.tcp(), &format!("member{i}")).await;
        let count = count.clone();
        let options = SubscribeOptions {
            group: Some("dice".into()),
            ..SubscribeOptions::default()
        };
        member
            .provide_with(pattern("svc/roll"), options, move |_| {
                count.fetch_add(1, Ordering::SeqCst);
                async move { Ok(Bytes::from(format!("member{i}"))) }
            })
            .await
            .unwrap();
        members.push(member);
    }
    let caller = ready_spoke(server.tcp(), "caller").await;
    let mut answered_by = std::collections::HashSet::new();
    for _ in 0..CALLS {
        let reply = caller
            .call(channel("svc/roll"), Bytes::new(), PATIENCE)
            .await
            .expect("one member answers");
        answered_by.insert(reply);
    }
    let total: usize = served.iter().map(|c| c.load(Ordering::SeqCst)).sum();
    assert_eq!(total, CALLS, "each call served once, not once per member");
    assert_eq!(answered_by.len(), 3, "every member takes a share");
}

#[actix::test]
async fn a_call_nobody_provides_gets_no_responders() {
    let server = hub();
    let caller = ready_spoke(server.tcp(), "caller").await;
    let err = caller
        .call(channel("svc/nobody"), Bytes::new(), PATIENCE)
        .await
        .unwrap_err();
    assert!(matches!(err, RpcError::NoResponders { .. }), "{err}");
    assert_eq!(err.code(), Some(ErrorCode::UnknownRoute));
}

#[actix::test]
async fn a_remote_error_is_typed_and_a_panic_is_a_handler_failure() {
    let server = hub();
    let provider = ready_spoke(server.tcp(), "provider").await;
    let caller = ready_spoke(server.tcp(), "caller").await;
    provider
        .provide(pattern("svc/strict"), |_| async move {
            Err((
                ErrorCode::InvalidBody,
                "sides must be at least 2".to_owned(),
            ))
        })
        .await
        .unwrap();
    provider
        .provide(pattern("svc/broken"), |_| async move {
            if true {
                panic!("boom");
            }
            Ok(Bytes::new())
        })
        .await
        .unwrap();
    let err = caller
        .call(channel("svc/strict"), Bytes::new(), PATIENCE)
        .await
        .unwrap_err();
    match err {
        RpcError::Remote { code, message, .. } => {
            assert_eq!(code, ErrorCode::InvalidBody);
            assert_eq!(message, "sides must be at least 2");
        }
        other => panic!("expected a remote error, got {other}"),
    }
    let err = caller
        .call(channel("svc/broken"), Bytes::new(), PATIENCE)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::HandlerFailure), "{err}");
    // The provider still serves.
    let err = caller
        .call(channel("svc/strict"), Bytes::new(), PATIENCE)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InvalidBody), "{err}");
}

#[actix::test]
async fn a_call_times_out_acknowledged_or_not() {
    let server = hub();
    let provider = ready_spoke(server.tcp(), "provider").await;
    let caller = ready_spoke(server.tcp(), "caller").await;
    // Acknowledged, never answered.
    provider
        .provide(pattern("svc/stuck"), |_| std::future::pending())
        .await
        .unwrap();
    // A plain subscriber takes the call and never acknowledges it.
    let (_, mut deaf) = provider.subscribe(pattern("svc/deaf")).await.unwrap();

    let quick = Duration::from_millis(200);
    let err = caller
        .call(channel("svc/stuck"), Bytes::new(), quick)
        .await
        .unwrap_err();
    assert!(
        matches!(err, RpcError::TooSlow { after, .. } if after == quick),
        "{err}"
    );
    let err = caller
        .call(channel("svc/deaf"), Bytes::new(), quick)
        .await
        .unwrap_err();
    assert!(matches!(err, RpcError::NotAcknowledged { .. }), "{err}");
    let seen = next(&mut deaf).await;
    assert!(seen.flags.contains(MessageFlags::REQUEST));
    assert!(seen.reply_to.is_some());
}

#[actix::test]
async fn many_calls_in_flight_are_matched_to_their_callers() {
    let server = hub();
    let provider = ready_spoke(server.tcp(), "provider").await;
    let caller = ready_spoke(server.tcp(), "caller").await;
    // Answers in the reverse order of arrival: the body says how long to wait.
    provider
        .provide(pattern("svc/wait"), |request| async move {
            let ms = u64::from(request.body[0]);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Ok(request.body)
        })
        .await
        .unwrap();
    let calls = (0u8..20).map(|i| {
        let caller = caller.clone();
        async move {
            let body = Bytes::from(vec![100 - 5 * i, i]);
            let reply = caller
                .call(channel("svc/wait"), body.clone(), PATIENCE)
                .await
                .unwrap();
            assert_eq!(reply, body, "call {i} got another call's reply");
        }
    });
    recv_or_fail("20 calls", futures::future::join_all(calls)).await;
}

#[actix::test]
async fn a_refused_subscription_fails_and_leaves_the_list() {
    let server = hub();
    let spoke = ready_spoke(server.tcp(), "spoke").await;
    let options = hubwire::spoke::SubscribeOptions {
        group: Some("bad\u{7}group".into()),
        no_retained: false,
    };
    let err = spoke
        .subscribe_with(pattern("a"), options)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            hubwire::spoke::SpokeError::Refused {
                code: ErrorCode::InvalidBody,
                ..
            }
        ),
        "{err}"
    );
    // Still connected and serving.
    let (_, mut rx) = spoke.subscribe(pattern("a")).await.unwrap();
    spoke
        .publish(channel("a"), Bytes::from_static(b"ok"))
        .await
        .unwrap();
    assert_eq!(&next(&mut rx).await.body[..], b"ok");
}

/// A "hub" that finishes the handshake and then never answers: the keepalive finds it dead.
#[actix::test]
async fn a_silent_hub_is_found_dead_by_keepalive_and_left() {
    use hubwire::protocol::{decode_frame, Envelope, Hello, PROTOCOL_VERSION};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address: hubwire::Address = format!("tcp://{}", listener.local_addr().unwrap())
        .parse()
        .unwrap();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = bytes::BytesMut::new();
            while decode_frame(&mut buf, 1 << 20).unwrap().is_none() {
                if socket.read_buf(&mut buf).await.unwrap_or(0) == 0 {
                    break;
                }
            }
            let hello = Hello {
                version: PROTOCOL_VERSION,
                agent: "silent".into(),
                max_frame: 1 << 20,
                max_in_flight: 0,
            };
            let _ = socket.write_all(&hello.to_frame_bytes().unwrap()).await;
            held.push(socket); // reads nothing more, answers nothing
        }
    });
    let options = hubwire::spoke::SpokeOptions {
        ping_every: Duration::from_millis(50),
        max_pings_out: 2,
        ..support::hub::quick_spoke_options()
    };
    let (spoke, _supervisor) = hubwire::spoke::SpokeSpec::new(address)
        .options(options)
        .start(&hubwire::stats::StatsRegistry::new());
    let mut events = spoke.events();
    let down = wait_event(&mut events, "the keepalive's verdict", |e| {
        matches!(e, SpokeEvent::Disconnected { .. })
    })
    .await;
    let SpokeEvent::Disconnected { reason } = down else {
        unreachable!()
    };
    assert!(reason.contains("PINGs"), "{reason}");
    // It keeps trying: a later connection is made.
    wait_event(&mut events, "a reconnect", |e| {
        *e == SpokeEvent::Connected { first: false }
    })
    .await;
    silent.abort();
}
