//! Guards bridges at their edges: admission refuses a wrong or missing secret and a hub that
//! would bridge to itself; a chain whose middle hub is killed and restarted recovers
//! subscriptions and calls without any client action, and cutting it again and again leaks
//! nothing; a call whose path breaks midway fails typed; a provider group spanning hubs prefers a local member; channel filters limit what
//! crosses each way; each bridge's figures are in the stats.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hubwire::bridge::routing::auth::{LinkParties, Role};
use hubwire::bridge::routing::HubId;
use hubwire::protocol::{
    kind, BridgeChallenge, BridgeHello, BridgeProof, Envelope, ErrorCode, ErrorFrame,
};
use hubwire::pubsub::{Channel, Pattern};
use hubwire::spoke::{Delivery, RpcError, SubscribeOptions};
use support::bridge::*;
use support::hub::{hub, ready_spoke};
use support::*;
use tokio::sync::mpsc;

fn channel(s: &str) -> Channel {
    Channel::parse(s).unwrap()
}

fn pattern(s: &str) -> Pattern {
    Pattern::parse(s).unwrap()
}

/// Says BRIDGE_HELLO on a raw connection; answers the hub's reply.
async fn hello(raw: &mut Raw, nonce: [u8; 16]) -> hubwire::protocol::Frame {
    raw.send_envelope(&BridgeHello {
        hub: HubId(42),
        nonce,
        name: "test".into(),
    })
    .await;
    recv_or_fail("the hub's answer", raw.recv())
        .await
        .expect("an answer")
}

fn denied(frame: &hubwire::protocol::Frame) -> String {
    assert_eq!(frame.kind, kind::ERROR, "{frame:?}");
    let error = ErrorFrame::from_frame(frame).unwrap();
    assert_eq!(error.code, ErrorCode::Denied);
    error.message
}

#[tokio::test]
async fn a_wrong_secret_is_refused_and_a_hub_without_one_takes_no_bridges() {
    let p = ports(1);
    let guarded = bridged_hub(p[0], &[]);
    let mut raw = Raw::handshake(&guarded.tcp()).await;
    let challenge = hello(&mut raw, [1; 16]).await;
    let challenge = BridgeChallenge::from_frame(&challenge).expect("a challenge");
    let parties = LinkParties {
        dialer: (HubId(42), [1; 16]),
        listener: (challenge.hub, challenge.nonce),
    };
    raw.send_envelope(&BridgeProof {
        mac: parties.proof(b"not the secret", Role::Dialer),
    })
    .await;
    let refusal = recv_or_fail("the refusal", raw.recv()).await.unwrap();
    assert!(denied(&refusal).contains("wrong bridge secret"));
    raw.expect_closed().await;

    let plain = hub();
    let mut raw = Raw::handshake(&plain.tcp()).await;
    let refusal = hello(&mut raw, [2; 16]).await;
    assert!(denied(&refusal).contains("no bridge_secret"));
    raw.expect_closed().await;
}

#[actix::test]
async fn a_dialer_with_the_wrong_secret_makes_no_link_and_a_hub_never_bridges_to_itself() {
    let p = ports(3);
    let guarded = bridged_hub(p[0], &[]);
    let intruder = bridged_hub_with(p[1], &[p[0]], "some other secret");
    let lonely = bridged_hub(p[2], &[p[2]]);
    // Long enough for many attempts at the tests' quick back-off.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let to_guarded = format!("tcp://127.0.0.1:{}", p[0]);
    assert_eq!(bridge_figure(&intruder, "bridge.up", &to_guarded), 0);
    assert_eq!(
        gauge(&guarded, "bridge.hubs"),
        1,
        "the guarded hub reaches only itself"
    );
    let to_itself = format!("tcp://127.0.0.1:{}", p[2]);
    assert_eq!(bridge_figure(&lonely, "bridge.up", &to_itself), 0);
    assert_eq!(gauge(&lonely, "bridge.hubs"), 1);
}

#[actix::test]
async fn the_middle_of_a_chain_restarts_again_and_again_and_everything_recovers_without_leaks() {
    // A and C dial B.
    let Chain {
        ports: p,
        a,
        mut b,
        c,
    } = chain().await;
    let near = ready_spoke(a.tcp(), "near").await;
    let far = ready_spoke(c.tcp(), "far").await;
    let (_, mut news) = far.subscribe(pattern("news/**")).await.unwrap();
    far.provide(
        pattern("svc/echo"),
        |request| async move { Ok(request.body) },
    )
    .await
    .unwrap();
    probe(&near, "news/first", &mut news).await;
    assert_eq!(&call_until_answered(&near, "svc/echo").await[..], b"hi");
    for cut in 0..4 {
        drop(b);
        until("A and C to lose B", || {
            gauge(&a, "bridge.hubs") == 1 && gauge(&c, "bridge.hubs") == 1
        })
        .await;
        b = bridged_hub(p[1], &[]);
        converged(&[&a, &b, &c]).await;
        // No client did anything: the spokes on A and C never lost their hubs.
        probe(&near, &format!("news/after/{cut}"), &mut news).await;
        assert_eq!(&call_until_answered(&near, "svc/echo").await[..], b"hi");
    }
    // Every dead incarnation of B is forgotten after the grace; B keeps no subscription.
    until("the dead B's to be pruned", || {
        gauge(&a, "bridge.known_hubs") == 3 && gauge(&c, "bridge.known_hubs") == 3
    })
    .await;
    assert_eq!(gauge(&b, "hub.subscriptions"), 0);
    assert_eq!(gauge(&b, "hub.connections"), 0);
    let a_to_b = format!("tcp://127.0.0.1:{}", p[1]);
    assert_eq!(bridge_figure(&a, "bridge.up", &a_to_b), 1);
    assert_eq!(bridge_figure(&a, "bridge.reconnects", &a_to_b), 4);
    until("a round trip measured", || {
        bridge_figure(&a, "bridge.rtt_us", &a_to_b) > 0
    })
    .await;
}

#[actix::test]
async fn a_call_whose_path_breaks_midway_fails_typed_instead_of_hanging() {
    // A and C dial B.
    let Chain { ports: _, a, b, c } = chain().await;
    let caller = ready_spoke(a.tcp(), "caller").await;
    let provider = ready_spoke(c.tcp(), "provider").await;
    let (started_tx, mut started) = mpsc::channel::<()>(4);
    provider
        .provide(pattern("svc/slow"), move |request| {
            let started = started_tx.clone();
            async move {
                if &request.body[..] == b"slow" {
                    let _ = started.send(()).await;
                    tokio::time::sleep(Duration::from_millis(700)).await;
                }
                Ok(request.body)
            }
        })
        .await
        .unwrap();
    call_until_answered(&caller, "svc/slow").await;
    let call = caller.call(
        channel("svc/slow"),
        Bytes::from_static(b"slow"),
        Duration::from_millis(1500),
    );
    let cut = async {
        recv_or_fail("the provider to start", started.recv()).await;
        // Time for its acknowledgement to cross both bridges.
        tokio::time::sleep(Duration::from_millis(200)).await;
        drop(b);
    };
    let (outcome, ()) = tokio::join!(call, cut);
    // Acknowledged before the cut; the reply had no path back.
    let err = outcome.expect_err("no reply crosses a cut chain");
    assert!(matches!(err, RpcError::TooSlow { .. }), "{err}");
}

#[actix::test]
async fn a_provider_group_spanning_hubs_prefers_a_local_member() {
    const CALLS: usize = 40;
    // A and C dial B.
    let Chain { ports: p, a, b, c } = chain().await;
    let served = [Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0))];
    let mut members = Vec::new();
    for (i, hub) in [&a, &c].into_iter().enumerate() {
        let member = ready_spoke(hub.tcp(), &format!("member{i}")).await;
        let count = served[i].clone();
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
    // From B, which has no member: each call goes to one member, on A or on C.
    let from_b = ready_spoke(b.tcp(), "caller on B").await;
    until("both members' interest to reach B", || {
        bridge_figure(
            &b,
            "bridge.interest",
            &format!("from tcp://127.0.0.1:{}", p[0]),
        ) >= 2
            && bridge_figure(
                &b,
                "bridge.interest",
                &format!("from tcp://127.0.0.1:{}", p[2]),
            ) >= 2
    })
    .await;
    // Interest spreads a tick per hop: until B's reply inbox is known on A and on C, an
    // answer from there is lost. Warm up until both members have answered.
    let mut warm = std::collections::HashSet::new();
    while warm.len() < 2 {
        warm.insert(call_until_answered(&from_b, "svc/roll").await);
    }
    served
        .iter()
        .for_each(|count| count.store(0, Ordering::SeqCst));
    let mut answered_by = std::collections::HashSet::new();
    for _ in 0..CALLS {
        let reply = from_b
            .call(channel("svc/roll"), Bytes::new(), PATIENCE)
            .await;
        answered_by.insert(reply.expect("answered by one member"));
    }
    let total = served[0].load(Ordering::SeqCst) + served[1].load(Ordering::SeqCst);
    assert_eq!(total, CALLS, "each call served once across the hubs");
    assert_eq!(answered_by.len(), 2, "both hubs' members take calls from B");
    // From A, which has a member: always that one.
    let from_a = ready_spoke(a.tcp(), "caller on A").await;
    for _ in 0..CALLS {
        let reply = from_a
            .call(channel("svc/roll"), Bytes::new(), PATIENCE)
            .await;
        assert_eq!(&reply.expect("answered")[..], b"member0");
    }
}

#[actix::test]
async fn channel_filters_limit_what_crosses_each_way() {
    let p = ports(2);
    let b = bridged_hub(p[1], &[]);
    let mut filtered = target(p[1]);
    filtered.export = Some(vec![pattern("out/**")]);
    filtered.import = Some(vec![pattern("in/**")]);
    let a = bridged_hub_to(p[0], vec![filtered], &secret());
    converged(&[&a, &b]).await;
    let on_a = ready_spoke(a.tcp(), "on A").await;
    let on_b = ready_spoke(b.tcp(), "on B").await;
    let (_, mut at_a) = on_a.subscribe(pattern("**")).await.unwrap();
    let (_, mut at_b) = on_b.subscribe(pattern("**")).await.unwrap();
    probe(&on_a, "out/probe", &mut at_b).await;
    probe(&on_b, "in/probe", &mut at_a).await;
    // Let the probes settle, and drop the local echoes of each side's own publishes.
    tokio::time::sleep(Duration::from_millis(100)).await;
    while at_a.try_recv().is_ok() {}
    while at_b.try_recv().is_ok() {}
    for (from, on) in [
        (&on_a, "secret/a"),
        (&on_a, "out/end"),
        (&on_b, "other/b"),
        (&on_b, "in/end"),
    ] {
        from.publish(channel(on), Bytes::from_static(b"x"))
            .await
            .unwrap();
    }
    let crossed = |rx: &mut mpsc::Receiver<Delivery>| {
        let mut seen = Vec::new();
        while let Ok(d) = rx.try_recv() {
            seen.push(d.channel.to_string());
        }
        seen
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let at_b = crossed(&mut at_b);
    let at_a = crossed(&mut at_a);
    assert!(at_b.contains(&"out/end".to_string()), "{at_b:?}");
    assert!(
        !at_b.contains(&"secret/a".to_string()),
        "export filter: {at_b:?}"
    );
    assert!(at_a.contains(&"in/end".to_string()), "{at_a:?}");
    assert!(
        !at_a.contains(&"other/b".to_string()),
        "import filter: {at_a:?}"
    );
}
