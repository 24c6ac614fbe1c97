//! Guards the handler contract: typed replies, handler errors as handler-failure with the
//! handler's message, invalid bodies naming the route, unknown routes, panics caught and counted
//! with the route still serving, and registration errors at start.

mod support;

use hubwire::prelude::*;
use support::*;

/// A typed request gets its typed reply.
#[tokio::test]
async fn a_typed_call_gets_its_typed_reply() {
    let server = TestServer::with_test_routes(loopback_config());
    let client = Client::new(server.tcp());
    let hello = Message {
        message: "hello".into(),
    };
    assert_eq!(client.call::<Echo>(&hello).await.unwrap(), hello);
    assert_eq!(server.stats("test.echo").succeeded, 1);
}

/// A handler's error reaches the caller as handler-failure with the handler's message.
#[tokio::test]
async fn a_handler_error_reaches_the_caller_with_its_message() {
    let server = TestServer::with_test_routes(loopback_config());
    let client = Client::new(server.tcp());
    let err = client.call::<Fail>(&"disk full".into()).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::HandlerFailure));
    assert!(err.to_string().contains("disk full"), "{err}");
    assert_eq!(server.stats("test.fail").failed, 1);
}

/// A panic becomes a handler-failure reply, is counted, and the route keeps serving.
#[tokio::test]
async fn a_panicking_handler_answers_handler_failure_and_keeps_serving() {
    let server = TestServer::with_test_routes(loopback_config());
    let client = Client::new(server.tcp());
    for round in 0..3 {
        let err = client
            .call::<Panic>(&format!("boom {round}"))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(ErrorCode::HandlerFailure));
        assert!(err.to_string().contains(&format!("boom {round}")), "{err}");
    }
    assert_eq!(server.stats("test.panic").panicked, 3);
    // The server still answers (each test route has an actor of its own).
    let ok = Message {
        message: "still here".into(),
    };
    assert_eq!(client.call::<Echo>(&ok).await.unwrap(), ok);
}

/// A body that does not decode into the route's request type gets invalid-body naming the route.
#[tokio::test]
async fn a_body_of_the_wrong_type_gets_invalid_body_naming_the_route() {
    let server = TestServer::with_test_routes(loopback_config());
    let client = Client::new(server.tcp());
    // test.echo wants {message: str}; send a number instead.
    let body = hubwire_core::encode_body(&42u32).unwrap();
    let err = client
        .call_raw("test.echo", body, Default::default(), PATIENCE)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InvalidBody));
    assert!(err.to_string().contains("test.echo"), "{err}");
    assert_eq!(server.stats("test.echo").invalid_body, 1);
    assert_eq!(server.stats("test.echo").dispatched, 0);
}

/// An unknown route gets unknown-route naming it.
#[tokio::test]
async fn an_unknown_route_gets_unknown_route() {
    let server = TestServer::with_test_routes(loopback_config());
    let client = Client::new(server.tcp());
    let err = client
        .call_raw(
            "no.such.route",
            Default::default(),
            Default::default(),
            PATIENCE,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::UnknownRoute));
    assert!(err.to_string().contains("no.such.route"), "{err}");
}

/// Registering a route key twice is a startup error naming the key.
#[test]
fn registering_a_route_twice_fails_at_start() {
    let err = TestServer::start(loopback_config(), |b| {
        b.route(Echo, || TestHandler).route(Echo, || TestHandler)
    })
    .err()
    .expect("start fails");
    assert!(err.contains("test.echo") && err.contains("twice"), "{err}");
}

route!(BadKey = "not a key", () => ());
impl Serve<BadKey> for TestHandler {
    fn serve(&mut self, _: (), _: &mut Context<Self>) -> Reply<()> {
        Reply::ok(())
    }
}
serve!(TestHandler: BadKey);

/// A malformed route key is a startup error, and nothing is left listening.
#[test]
fn a_malformed_route_key_fails_at_start() {
    let err = TestServer::start(loopback_config(), |b| b.route(BadKey, || TestHandler))
        .err()
        .expect("start fails");
    assert!(err.contains("not a key"), "{err}");
}
