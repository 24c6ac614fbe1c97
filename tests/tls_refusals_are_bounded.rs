//! Guards what refused peers cost a `tls://` listener: a refused peer is given the handshake
//! that lets it read why, but at most 64 such handshakes run at once per listener; past that a
//! refused peer's socket is closed at once, so a flood of refused connects that never finish
//! their handshake holds no more than the bound. Once they go, refusals are answered again.

mod support;

use std::time::Duration;

use hubwire::prelude::*;
use hubwire::tls::TlsClient;
use support::certs::Pki;
use support::{closed_at_once, recv_or_fail, silent_sockets, Echo, Message, TestServer};

/// Refused peers answered at once (`MAX_ANSWERING` in the transport).
const ANSWERED: usize = 64;

#[actix::test]
async fn refused_peers_in_their_handshake_are_bounded() {
    let pki = Pki::new("refusals-ca");
    let mut config = pki.tls_only_config("127.0.0.1");
    // Long enough that a socket waiting for its handshake stands out from one closed at once.
    config.handshake_timeout = Duration::from_secs(20);
    let entries = vec!["192.0.2.7".to_owned()];
    config.allow = Some(hubwire::AllowList::try_from(entries).unwrap());
    let server = TestServer::with_test_routes(config);
    let at = server.tls_address().socket_addr().unwrap();

    // Refused peers that never start their handshake fill the bound...
    let silent = silent_sockets(at, ANSWERED).await;
    // ...so the next one is closed at once, not held for the handshake timeout.
    assert!(
        closed_at_once(at, Duration::from_secs(5)).await,
        "a refused peer past the bound was held"
    );

    // Gone, they give their places back: a refused client reads why again.
    drop(silent);
    let client = Client::with_options(
        server.tls_address(),
        ClientOptions {
            tls: Some(TlsClient::builder().ca_file(pki.ca_file()).build().unwrap()),
            ..ClientOptions::default()
        },
    );
    let said = recv_or_fail("a refusal with its reason", async {
        loop {
            let answer = client
                .call::<Echo>(&Message {
                    message: "let me in".into(),
                })
                .await;
            match answer {
                Err(e) if e.code() == Some(ErrorCode::Denied) => return e.to_string(),
                _ => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    })
    .await;
    assert!(said.contains("allow-list"), "{said}");
}
