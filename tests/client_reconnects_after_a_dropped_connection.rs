//! Guards the client's connection handling: a call in flight when the connection drops fails
//! with connection-lost, and the next call opens a new connection.

mod support;

use std::time::Duration;

use hubwire::prelude::*;
use support::*;

/// After the server closes an idle connection, the next call reconnects by itself.
#[tokio::test]
async fn the_next_call_reconnects_after_the_server_closed_the_connection() {
    let config = Config {
        idle_timeout: Duration::from_millis(100),
        ..loopback_config()
    };
    let server = TestServer::with_test_routes(config);
    let client = Client::new(server.tcp());
    let m = Message {
        message: "one".into(),
    };
    assert_eq!(client.call::<Echo>(&m).await.unwrap(), m);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(client.call::<Echo>(&m).await.unwrap(), m);
}

/// A server that goes away mid-call gives connection-lost; a new server on the same address is
/// reached by the next call.
#[tokio::test]
async fn a_dropped_connection_fails_calls_in_flight_and_the_next_call_reconnects() {
    let server = TestServer::with_test_routes(loopback_config());
    let address = server.tcp();
    let client = Client::new(address.clone());
    let in_flight = {
        let client = client.clone();
        tokio::spawn(async move { client.call::<Delay>(&5_000).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(server);
    let err = recv_or_fail("the call to fail", in_flight)
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, CallError::ConnectionLost { .. }), "{err}");

    let err = client
        .call::<Echo>(&Message {
            message: "x".into(),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, CallError::Connect { .. }),
        "nobody listens now: {err}"
    );

    let config = Config {
        listen: vec![address],
        ..loopback_config()
    };
    let _again = TestServer::with_test_routes(config);
    let m = Message {
        message: "back".into(),
    };
    assert_eq!(client.call::<Echo>(&m).await.unwrap(), m);
}
