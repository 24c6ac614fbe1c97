//! Guards the application's supervision tree: a listener that fails is restarted and its port
//! answers again (connections already open carry on), the failure and restart are counted; and a
//! crash loop that reaches the root shuts the application down with a non-zero exit and a log
//! line naming the child and its last failure.

mod support;

use std::time::Duration;

use hubwire::prelude::*;
use hubwire::standard::{FailListener, FailListenerRequest};
use support::process::{AppProcess, TempDir};
use support::*;

fn series(server: &TestServer, name: &str, supervisor: &str, child: &str) -> u64 {
    server
        .registry
        .snapshot()
        .counter(name, &[("supervisor", supervisor), ("child", child)])
        .unwrap_or(0)
}

/// A failed listener is restarted; its port serves new connections again.
#[tokio::test]
async fn a_failed_listener_is_restarted_and_its_port_answers_again() {
    let server = TestServer::with_test_routes(loopback_and_unix_config());
    let tcp = server.tcp();
    let open = Client::new(tcp.clone());
    let m = Message {
        message: "before".into(),
    };
    assert_eq!(open.call::<Echo>(&m).await.unwrap(), m);

    assert!(
        server.faults.fail_listener(&tcp, 0).await,
        "a listener to fail"
    );
    // The connection opened before keeps working: it is not the listener's.
    assert_eq!(open.call::<Echo>(&m).await.unwrap(), m);
    // New connections are accepted again once the listener is back.
    let again = recv_or_fail("the port to answer again", async {
        loop {
            let fresh = Client::new(tcp.clone());
            if let Ok(reply) = fresh.call::<Echo>(&m).await {
                return reply;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert_eq!(again, m);
    let child = tcp.to_string();
    assert_eq!(
        series(&server, "supervisor.failures", "listeners.tcp", &child),
        1
    );
    assert_eq!(
        series(&server, "supervisor.restarts", "listeners.tcp", &child),
        1
    );
    // The Unix listener, a sibling under another supervisor, was not touched.
    assert_eq!(
        series(
            &server,
            "supervisor.starts",
            "listeners.unix",
            &server.unix().to_string()
        ),
        1
    );
    let m = Message {
        message: "unix".into(),
    };
    assert_eq!(
        Client::new(server.unix()).call::<Echo>(&m).await.unwrap(),
        m
    );
}

/// A listener whose restarts keep failing exhausts its supervisor, then the root: the process
/// shuts down in order, says which child failed and why, and exits 4.
#[tokio::test]
async fn a_crash_loop_at_the_root_stops_the_application_with_a_non_zero_exit() {
    let dir = TempDir::new("escalation");
    let lock = dir.0.display().to_string();
    let mut app = AppProcess::start(
        "graceful_shutdown",
        &[
            "--lock-dir",
            &lock,
            "--listen",
            "tcp://127.0.0.1:0",
            "--set",
            "fault_injection=true",
        ],
        &[],
        1,
    );
    let address = app.address("tcp");
    let client = Client::new(address.clone());
    let request = FailListenerRequest {
        address: address.to_string(),
        failing_restarts: 1_000,
    };
    assert!(
        client
            .call::<FailListener>(&request)
            .await
            .unwrap()
            .requested
    );
    let status = app.wait();
    assert_eq!(status.code(), Some(4), "{:?}", app.stderr());
    let stderr = app.stderr().join("\n");
    assert!(
        stderr.contains("gave up") && stderr.contains("listeners.tcp"),
        "{stderr}"
    );
    assert!(stderr.contains("fault injection"), "{stderr}");
}

/// The fault endpoint exists only when `fault_injection` is on.
#[tokio::test]
async fn fault_injection_is_off_by_default() {
    let dir = TempDir::new("escalation");
    let lock = dir.0.display().to_string();
    let app = AppProcess::start(
        "graceful_shutdown",
        &["--lock-dir", &lock, "--listen", "tcp://127.0.0.1:0"],
        &[],
        1,
    );
    let client = Client::new(app.address("tcp"));
    let request = FailListenerRequest {
        address: app.address("tcp").to_string(),
        failing_restarts: 1,
    };
    let err = client.call::<FailListener>(&request).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::UnknownRoute));
}

/// A restarted listener still counts the connections its predecessor left open: the per-peer
/// limit holds across the restart, and a connection closing afterwards frees its place.
#[tokio::test]
async fn connection_limits_hold_across_a_listener_restart() {
    use hubwire::protocol::kind;
    let config = Config {
        max_connections_per_peer: 2,
        ..loopback_config()
    };
    let server = TestServer::with_test_routes(config);
    let tcp = server.tcp();
    let mut first = Raw::connect_from(&tcp, "127.0.0.1").await;
    assert_eq!(first.hello().await.unwrap().kind, kind::CONN);
    let mut second = Raw::connect_from(&tcp, "127.0.0.1").await;
    assert_eq!(second.hello().await.unwrap().kind, kind::CONN);

    assert!(server.faults.fail_listener(&tcp, 0).await);
    // Wait until the new incarnation has started (its start is counted after it is running), so
    // no connection below can land in the old socket's backlog.
    let child = tcp.to_string();
    recv_or_fail("the restart", async {
        while series(&server, "supervisor.starts", "listeners.tcp", &child) < 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    let mut third = Raw::connect_from(&tcp, "127.0.0.1").await;
    let refused = third.expect_error().await;
    assert_eq!(
        refused.code,
        ErrorCode::Busy,
        "the old connections still count"
    );

    drop(first);
    let freed = recv_or_fail("the freed place", async {
        loop {
            let mut raw = Raw::connect_from(&tcp, "127.0.0.1").await;
            if raw.hello().await.map(|f| f.kind) == Some(kind::CONN) {
                return raw;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    drop(freed);
    drop(second);
}
