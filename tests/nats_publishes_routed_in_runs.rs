//! Guards the routing of many publishes read at once (the hub routes a run of publishes to one
//! subject together): every subscriber, NATS client or hubwire spoke, gets each message once,
//! in the order sent, whatever breaks the run (another subject, a request, headers); an
//! `UNSUB` maximum reached in the middle of a run ends the subscription exactly there; and a
//! publisher with echo off gets none of its own messages.

/// Hubs with a `nats://` listener and NATS clients of them (a module of its own, not in
/// `support`: only the tests that speak NATS build it).
#[path = "support/nats.rs"]
mod nats_support;
mod support;

use hubwire::pubsub::Pattern;
use nats_support::*;
use support::hub::ready_spoke;
use support::*;

/// Messages in the burst.
const BURST: usize = 300;

/// One message of the burst: its subject, reply subject, header block and payload.
struct Sent {
    subject: &'static str,
    reply: Option<&'static str>,
    headers: Option<&'static str>,
    payload: String,
}

/// The burst: a run to `runs.a`, broken by one message to `runs.b`, a request, and one with
/// headers; payloads of different sizes.
fn burst() -> Vec<Sent> {
    (0..BURST)
        .map(|i| {
            let payload = format!("m{i}{}", "x".repeat(i % 7));
            let (subject, reply, headers) = match i {
                100 => ("runs.b", None, None),
                150 => ("runs.a", Some("answers.here"), None),
                200 => ("runs.a", None, Some("NATS/1.0\r\nk: v\r\n\r\n")),
                _ => ("runs.a", None, None),
            };
            Sent {
                subject,
                reply,
                headers,
                payload,
            }
        })
        .collect()
}

/// The burst as one write, then a PING.
fn wire(sent: &[Sent]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in sent {
        let reply = m.reply.map(|r| format!(" {r}")).unwrap_or_default();
        let line = match m.headers {
            Some(h) => format!(
                "HPUB {}{reply} {} {}\r\n{h}",
                m.subject,
                h.len(),
                h.len() + m.payload.len()
            ),
            None => format!("PUB {}{reply} {}\r\n", m.subject, m.payload.len()),
        };
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(m.payload.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"PING\r\n");
    out
}

/// What a subscriber reading headers gets for `m` on `sid`: its line and the bytes after it.
fn expected(m: &Sent, sid: u32) -> (String, String) {
    let reply = m.reply.map(|r| format!(" {r}")).unwrap_or_default();
    match m.headers {
        Some(h) => (
            format!(
                "HMSG {} {sid}{reply} {} {}",
                m.subject,
                h.len(),
                h.len() + m.payload.len()
            ),
            format!("{h}{}\r\n", m.payload),
        ),
        None => (
            format!("MSG {} {sid}{reply} {}", m.subject, m.payload.len()),
            format!("{}\r\n", m.payload),
        ),
    }
}

/// The next message: its line and the bytes after it.
async fn read_msg(raw: &mut RawNats) -> (String, String) {
    let line = raw.line().await.expect("a MSG");
    let size: usize = line.rsplit(' ').next().unwrap().parse().unwrap();
    let rest = String::from_utf8(raw.bytes(size + 2).await).unwrap();
    (line, rest)
}

#[actix::test]
async fn a_burst_of_publishes_reaches_every_subscriber_once_in_order() {
    let hub = nats_hub();
    let spoke = ready_spoke(hub.tcp(), "spoke").await;
    let (_sid, mut on_spoke) = spoke
        .subscribe(Pattern::parse("runs/*").unwrap())
        .await
        .unwrap();

    // Sid 1 gets every `runs.a`; sid 2 any `runs.*`, but only five messages.
    let mut subscriber = RawNats::connect(&hub).await;
    subscriber
        .send(
            b"CONNECT {\"headers\":true}\r\nSUB runs.a 1\r\nSUB runs.* 2\r\nUNSUB 2 5\r\nPING\r\n",
        )
        .await;
    assert_eq!(subscriber.line().await.as_deref(), Some("PONG"));
    // The publisher subscribes to its own subject, with echo off.
    let mut publisher = RawNats::connect(&hub).await;
    publisher
        .send(b"CONNECT {\"echo\":false,\"headers\":true}\r\nSUB runs.a 7\r\nPING\r\n")
        .await;
    assert_eq!(publisher.line().await.as_deref(), Some("PONG"));

    let sent = burst();
    publisher.send(&wire(&sent)).await;
    assert_eq!(
        publisher.line().await.as_deref(),
        Some("PONG"),
        "the publisher gets none of its own messages"
    );

    let mut want = Vec::new();
    let mut on_sid_2 = 0;
    for m in &sent {
        if m.subject == "runs.a" {
            want.push(expected(m, 1));
        }
        if on_sid_2 < 5 {
            want.push(expected(m, 2));
            on_sid_2 += 1;
        }
    }
    for (at, want) in want.iter().enumerate() {
        assert_eq!(&read_msg(&mut subscriber).await, want, "message {at}");
    }
    subscriber.send(b"PING\r\n").await;
    assert_eq!(
        subscriber.line().await.as_deref(),
        Some("PONG"),
        "nothing more: sid 2 ended after its fifth"
    );

    for (at, m) in sent.iter().enumerate() {
        let got = recv_or_fail("a message on the spoke", on_spoke.recv())
            .await
            .unwrap();
        assert_eq!(got.channel.as_str(), m.subject.replace('.', "/"), "{at}");
        assert_eq!(&got.body[..], m.payload.as_bytes(), "{at}");
        assert_eq!(got.headers.get("k"), m.headers.map(|_| "v"), "{at}");
    }
}
