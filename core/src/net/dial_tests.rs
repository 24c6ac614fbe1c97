//! Every address of a name is tried in turn (IPv6 included), and a dial that fails says what
//! failed.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::time::Instant;

use super::dial::connect_any;
use super::{dial, DialError, DialOptions};
use crate::address::HostPort;
use crate::Address;

/// A loopback address nothing listens on.
async fn closed(ip: &str) -> SocketAddr {
    let listener = TcpListener::bind((ip, 0)).await.unwrap();
    listener.local_addr().unwrap()
}

fn name() -> HostPort {
    "tcp://several.example:1"
        .parse::<Address>()
        .unwrap()
        .host_port()
        .unwrap()
        .clone()
}

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(5)
}

#[tokio::test]
async fn the_next_address_is_tried_when_one_refuses() {
    let live = TcpListener::bind("[::1]:0").await.unwrap();
    let addrs = [closed("127.0.0.1").await, live.local_addr().unwrap()];
    let stream = connect_any(&name(), &addrs, soon()).await.unwrap();
    assert_eq!(stream.peer_addr().unwrap(), addrs[1]);
}

#[tokio::test]
async fn when_every_address_fails_each_reason_is_given() {
    let addrs = [closed("127.0.0.1").await, closed("::1").await];
    let err = connect_any(&name(), &addrs, soon()).await.unwrap_err();
    let DialError::AllFailed { host, failures } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(host, "several.example");
    assert!(failures
        .iter()
        .all(|f| matches!(f, DialError::Refused { .. })));
    let text = err.to_string();
    for addr in addrs {
        assert!(
            text.contains(&format!("{addr} refused the connection")),
            "{text}"
        );
    }
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
}

#[tokio::test]
async fn a_udp_address_is_not_dialled_as_a_stream() {
    let udp: Address = "udp://127.0.0.1:9".parse().unwrap();
    let err = dial(&udp, &DialOptions::default()).await.unwrap_err();
    assert!(matches!(err, DialError::NotAStream(_)), "{err:?}");
}
