//! Guards the first errors a newcomer meets: a spoke's `ready()` against a port nobody listens
//! on says the connection was refused, at once; a client or spoke that reaches a server which
//! is not hubwire (an HTTP server answering "HTTP/1.1 400 ...") is told so, instead of a frame
//! length made of the letters "HTTP".

mod support;

use std::time::{Duration, Instant};

use hubwire::prelude::*;
use support::hub::quick_spoke_options;
use support::{recv_or_fail, Echo, Message};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A loopback address where nothing listens (bound, then closed).
fn refused_address() -> Address {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("tcp://127.0.0.1:{port}").parse().unwrap()
}

/// A loopback server that answers every connection like an HTTP server does to bytes it does
/// not understand, then closes it.
async fn http_server() -> Address {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = [0u8; 512];
            let _ = socket.read(&mut request).await;
            let answer =
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            let _ = socket.write_all(answer).await;
        }
    });
    format!("tcp://127.0.0.1:{port}").parse().unwrap()
}

fn spoke_of(address: Address) -> Spoke {
    SpokeSpec::new(address)
        .options(quick_spoke_options())
        .start(&StatsRegistry::new())
        .0
}

/// `ready` fails at once, naming the refusal, well before its timeout.
#[actix::test]
async fn ready_against_a_refused_port_says_refused_at_once() {
    let spoke = spoke_of(refused_address());
    let started = Instant::now();
    let err = recv_or_fail("ready", spoke.ready(Duration::from_secs(30)))
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(err, SpokeError::Connect { .. }), "{err}");
    assert!(err.to_string().to_lowercase().contains("refused"), "{err}");
}

/// The typed client names a peer that answers in HTTP.
#[tokio::test]
async fn a_client_names_a_peer_that_is_not_hubwire() {
    let address = http_server().await;
    let client = Client::new(address);
    let hello = Message {
        message: "hi".into(),
    };
    let err = recv_or_fail("call", client.call::<Echo>(&hello))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("not a hubwire server"), "{text}");
    assert!(text.contains("HTTP/1.1 400 Bad Request"), "{text}");
    assert!(!text.contains("frame length"), "{text}");
}

/// So does a spoke's `ready`.
#[actix::test]
async fn a_spoke_names_a_peer_that_is_not_a_hub() {
    let spoke = spoke_of(http_server().await);
    let err = recv_or_fail("ready", spoke.ready(Duration::from_secs(30)))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not a hubwire hub"), "{err}");
    assert!(err.to_string().contains("an HTTP server"), "{err}");
}
