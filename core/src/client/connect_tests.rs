//! A server that accepts and then drops the connection before answering CONN (closed or
//! reset) is a failure to connect, as a refused connect is: the request was not sent, and a
//! queued sender retries it.

use std::time::Duration;

use super::*;
use crate::sender::RetryRule;

/// A listener that accepts one connection and drops it at once; with `reset`, with a zero
/// linger, so the drop is a reset instead of a close.
async fn drops_one_connection(reset: bool) -> Address {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = Address::tcp(listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        if reset {
            socket2::SockRef::from(&stream)
                .set_linger(Some(Duration::ZERO))
                .unwrap();
        }
        drop(stream);
    });
    address
}

#[tokio::test]
async fn a_connection_dropped_during_the_handshake_is_a_retryable_failure_to_connect() {
    for reset in [false, true] {
        let address = drops_one_connection(reset).await;
        let error = Client::connect(address, ClientOptions::default())
            .await
            .expect_err("no CONN came back");
        assert!(
            matches!(error, CallError::Connect { .. }),
            "reset {reset}: {error:?}"
        );
        assert!(error.never_sent(), "reset {reset}: {error}");
        assert!(error.is_connection_failure(), "reset {reset}: {error}");
        assert!(
            RetryRule::default().retryable(&error),
            "reset {reset}: {error}"
        );
    }
}
