//! Guards the work dispatcher's `max_connections` on `tls://`: a socket is admitted on its
//! address before its TLS handshake and holds its slot through it, as on the app's listeners,
//! so sockets that never finish a handshake cannot pile up past the bound; once they close,
//! their slots come back. Refused peers' handshakes are bounded the same way.

mod support;

use std::sync::Arc;
use std::time::Duration;

use hubwire::prelude::*;
use hubwire::protocol::ErrorCode;
use hubwire::tls::{ClientAuth, ServerTls, TlsClient};
use hubwire::work::{
    start_dispatcher, DispatcherOptions, LinkOptions, Producer, WorkClientError, WorkQueue,
};
use support::certs::Pki;
use support::{closed_at_once, silent_sockets};

#[actix::test]
async fn sockets_in_their_handshake_count_against_max_connections() {
    let pki = Pki::new("work-ca-slots");
    let config = pki.server_config(&pki.server(&["localhost"]), ClientAuth::None);
    let tls = Arc::new(ServerTls::load(&config).unwrap());
    let options = DispatcherOptions::new("tls://127.0.0.1:0".parse().unwrap())
        .queue(WorkQueue::in_memory("jobs"))
        .tls(tls)
        .max_connections(2);
    let dispatcher = start_dispatcher(options, None).unwrap();
    let port = dispatcher.address.socket_addr().unwrap().port();
    let address: Address = format!("tls://localhost:{port}").parse().unwrap();
    let link = LinkOptions {
        tls: Some(TlsClient::builder().ca_file(pki.ca_file()).build().unwrap()),
        credentials: None,
    };

    // Two sockets that connect and never say a word.
    let silent = silent_sockets(std::net::SocketAddr::from(([127, 0, 0, 1], port)), 2).await;
    match Producer::connect_with(&address, &link).await {
        Err(WorkClientError::Refused {
            code: ErrorCode::Busy,
            message,
        }) => assert!(message.contains("maximum of 2 connections"), "{message}"),
        other => panic!("the third connection was not refused busy: {other:?}"),
    }

    // Closed, they give their slots back: a producer is served again.
    drop(silent);
    let served = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match Producer::connect_with(&address, &link).await {
                Ok(producer) => return producer,
                Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    })
    .await
    .expect("a slot comes back");
    assert_eq!(served.enqueue("jobs", &b"x"[..]).await.unwrap(), 1);
}

/// Refused peers get the handshake to read why, at most 64 at once; past that their sockets
/// are closed at once.
#[actix::test]
async fn refused_peers_in_their_handshake_are_bounded() {
    let pki = Pki::new("work-ca-refusals-bound");
    let config = pki.server_config(&pki.server(&["localhost"]), ClientAuth::None);
    let tls = Arc::new(ServerTls::load(&config).unwrap());
    let allow = hubwire::AllowList::try_from(vec!["192.0.2.7".to_owned()]).unwrap();
    let options = DispatcherOptions::new("tls://127.0.0.1:0".parse().unwrap())
        .queue(WorkQueue::in_memory("jobs"))
        .tls(tls)
        .allow(allow);
    let dispatcher = start_dispatcher(options, None).unwrap();
    let port = dispatcher.address.socket_addr().unwrap().port();
    let at = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let silent = silent_sockets(at, 64).await;
    // Well within the 5 s handshake timeout that holds the others.
    assert!(
        closed_at_once(at, Duration::from_secs(3)).await,
        "a refused peer past the bound was held"
    );

    drop(silent);
    let address: Address = format!("tls://localhost:{port}").parse().unwrap();
    let link = LinkOptions {
        tls: Some(TlsClient::builder().ca_file(pki.ca_file()).build().unwrap()),
        credentials: None,
    };
    let said = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match Producer::connect_with(&address, &link).await {
                Err(WorkClientError::Refused {
                    code: ErrorCode::Denied,
                    message,
                }) => return message,
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    })
    .await
    .expect("a refusal with its reason");
    assert!(said.contains("allow-list"), "{said}");
}
