//! Guards queued senders over TLS: a sender given a CA file delivers to a `tls://` destination
//! named by host name.

mod support;

use std::time::Duration;

use hubwire::prelude::*;
use hubwire::queue::{QueueAdmin, StoreHandle};
use hubwire::sender::{Destination, SenderSpec};
use hubwire::stats::StatsRegistry;
use hubwire::store::MemoryStore;
use hubwire::tls::TlsClient;
use support::certs::Pki;
use support::{recv_or_fail, Message, TestServer};

#[actix::test]
async fn a_sender_delivers_to_a_tls_destination() {
    let pki = Pki::new("test-ca");
    let config = pki.tls_only_config("localhost");
    let server = TestServer::with_test_routes(config);
    let port = server.tls_address().socket_addr().unwrap().port();
    let address: Address = format!("tls://localhost:{port}").parse().unwrap();

    let store = StoreHandle::start(Box::new(MemoryStore::new())).unwrap();
    let tls = TlsClient::builder().ca_file(pki.ca_file()).build().unwrap();
    let (sender, _supervisor) = SenderSpec::new("over-tls", Destination::new(address, "test.echo"))
        .tls(tls)
        .start(&store, &StatsRegistry::new())
        .unwrap();
    let message = Message {
        message: "sealed".into(),
    };
    sender.send(&message).await.unwrap();
    let admin = QueueAdmin::senders(store.clone());
    recv_or_fail("the delivery", async {
        while admin.data("over-tls").await.unwrap().processed < 1 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert_eq!(server.stats("test.echo").succeeded, 1);
}
