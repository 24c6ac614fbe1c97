//! Guards `hubwire call`: JSON in, JSON out, and a distinct exit code for success, remote error,
//! timeout, cannot-connect and bad input.

#[path = "../../tests/support/mod.rs"]
mod support;

use std::process::{Command, Output};

use hubwire_cli::{
    EXIT_CANNOT_CONNECT, EXIT_CONNECTION_LOST, EXIT_OK, EXIT_REMOTE_ERROR, EXIT_TIMEOUT, EXIT_USAGE,
};
use support::*;

fn hubwire(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hubwire"))
        .args(args)
        .output()
        .expect("hubwire runs")
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("exited normally")
}

/// A successful call prints the reply as JSON and exits 0.
#[test]
fn a_successful_call_prints_json_and_exits_zero() {
    let server = TestServer::with_test_routes(loopback_config());
    let address = server.tcp().to_string();
    let out = hubwire(&["call", &address, "test.echo", r#"{"message":"hi"}"#]);
    assert_eq!(code(&out), EXIT_OK, "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        r#"{"message":"hi"}"#
    );
}

/// `hubwire call` works on every transport.
#[test]
fn calls_work_over_unix_sockets_and_udp() {
    let mut config = loopback_and_unix_config();
    config.listen.push("udp://127.0.0.1:0".parse().unwrap());
    let server = TestServer::with_test_routes(config);
    for address in [server.unix(), server.udp()] {
        let out = hubwire(&[
            "call",
            &address.to_string(),
            "test.echo",
            r#"{"message":"via"}"#,
        ]);
        assert_eq!(code(&out), EXIT_OK, "{address}: {out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            r#"{"message":"via"}"#
        );
    }
}

/// A remote error prints its code and message and exits with the remote-error code.
#[test]
fn a_remote_error_prints_code_and_message() {
    let server = TestServer::with_test_routes(loopback_config());
    let address = server.tcp().to_string();
    let out = hubwire(&["call", &address, "test.fail", r#""no luck""#]);
    assert_eq!(code(&out), EXIT_REMOTE_ERROR, "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("handler-failure") && stderr.contains("no luck"),
        "{stderr}"
    );
    let out = hubwire(&["call", &address, "no.route"]);
    assert_eq!(code(&out), EXIT_REMOTE_ERROR, "{out:?}");
}

/// A JSON value of the wrong type is answered `invalid-body` naming the field and the type the
/// route expects, not a MessagePack marker.
#[test]
fn a_wrong_json_type_names_the_field_and_the_expected_type() {
    let server = TestServer::with_test_routes(loopback_config());
    let address = server.tcp().to_string();
    let out = hubwire(&["call", &address, "test.echo", r#"{"message": 7}"#]);
    assert_eq!(code(&out), EXIT_REMOTE_ERROR, "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("invalid-body")
            && stderr.contains("message: invalid type: integer `7`, expected a string"),
        "{stderr}"
    );
}

/// No reply within --timeout exits with the timeout code.
#[test]
fn a_slow_reply_exits_with_the_timeout_code() {
    let server = TestServer::with_test_routes(loopback_config());
    let address = server.tcp().to_string();
    let out = hubwire(&["call", &address, "test.delay", "5000", "--timeout", "0.2"]);
    assert_eq!(code(&out), EXIT_TIMEOUT, "{out:?}");
}

/// Nobody listening exits with the cannot-connect code.
#[test]
fn nobody_listening_exits_with_the_cannot_connect_code() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = hubwire(&["call", &format!("tcp://127.0.0.1:{port}"), "test.echo"]);
    assert_eq!(code(&out), EXIT_CANNOT_CONNECT, "{out:?}");
}

/// A server that drops the connection in the handshake (closed at once, closed after reading
/// the CONN, reset) exits with the cannot-connect code too: nothing was sent. A peer that
/// answers with bytes that are not a CONN broke the protocol: the connection-lost code.
#[test]
fn a_dropped_handshake_is_cannot_connect_and_a_wrong_answer_a_protocol_error() {
    use std::io::{Read, Write};
    /// What the server does with the connection it accepted.
    type Answer = fn(std::net::TcpStream);
    let cases: [(&str, Answer, i32); 4] = [
        ("closed at once", |_| {}, EXIT_CANNOT_CONNECT),
        (
            "closed after the CONN",
            |mut peer| {
                let _ = peer.read(&mut [0; 4096]);
            },
            EXIT_CANNOT_CONNECT,
        ),
        (
            "reset after the CONN",
            |mut peer| {
                let _ = peer.read(&mut [0; 4096]);
                // Linger 0: the close sends a reset.
                socket2::SockRef::from(&peer)
                    .set_linger(Some(std::time::Duration::ZERO))
                    .unwrap();
            },
            EXIT_CANNOT_CONNECT,
        ),
        (
            "a frame that is not a CONN",
            |mut peer| {
                let _ = peer.read(&mut [0; 4096]);
                let _ = peer.write_all(&[0, 0, 0, 3, 1, 2, 3]);
            },
            EXIT_CONNECTION_LOST,
        ),
    ];
    for (what, answer, expected) in cases {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = format!("tcp://{}", listener.local_addr().unwrap());
        let server = std::thread::spawn(move || {
            let (peer, _) = listener.accept().unwrap();
            answer(peer);
        });
        let out = hubwire(&["call", &address, "test.echo", "--timeout", "5"]);
        server.join().unwrap();
        assert_eq!(code(&out), expected, "{what}: {out:?}");
    }
}

/// Malformed JSON or a malformed address is refused before anything is sent.
#[test]
fn bad_input_exits_with_the_usage_code() {
    let out = hubwire(&["call", "tcp://127.0.0.1:1", "test.echo", "{oops"]);
    assert_eq!(code(&out), EXIT_USAGE, "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid JSON"));
    let out = hubwire(&["call", "127.0.0.1:1", "test.echo"]);
    assert_eq!(code(&out), EXIT_USAGE, "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("scheme"));
}
