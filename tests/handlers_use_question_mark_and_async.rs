//! Guards the handler forms a first service reaches for: a `Serve` implementation that answers
//! a `Result` so `?` converts any error, `?` inside a `Reply::later` future, and handlers that
//! are plain functions (`route_fn`) or async functions (`route_async`), panics included.

mod support;

use std::time::Duration;

use hubwire::prelude::*;
use support::*;

#[derive(Debug, Serialize, Deserialize)]
pub struct Text {
    pub digits: String,
}
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub struct Number {
    pub value: u64,
}

route!(pub Parse = "test.parse", Text => Number);
route!(pub ParseLater = "test.parse_later", Text => Number);
route!(pub ParseFn = "test.parse_fn", Text => Number);
route!(pub ParseAsync = "test.parse_async", Text => Number);

struct Parser;
impl Actor for Parser {
    type Context = Context<Self>;
}

impl Serve<Parse, Result<Number, HandlerError>> for Parser {
    fn serve(&mut self, text: Text, _: &mut Context<Self>) -> Result<Number, HandlerError> {
        Ok(Number {
            value: text.digits.parse()?,
        })
    }
}

impl Serve<ParseLater> for Parser {
    fn serve(&mut self, text: Text, _: &mut Context<Self>) -> Reply<Number> {
        Reply::later(async move {
            tokio::time::sleep(Duration::from_millis(1)).await;
            Ok(Number {
                value: text.digits.parse()?,
            })
        })
    }
}
serve!(Parser: Parse, ParseLater);

fn parse(text: Text) -> Result<Number, HandlerError> {
    if text.digits == "panic" {
        panic!("asked to panic");
    }
    Ok(Number {
        value: text.digits.parse()?,
    })
}

async fn parse_later(text: Text) -> Result<Number, HandlerError> {
    tokio::time::sleep(Duration::from_millis(1)).await;
    parse(text)
}

fn server() -> TestServer {
    TestServer::start(loopback_config(), |b| {
        b.route(Parse, || Parser)
            .route(ParseLater, || Parser)
            .route_fn(ParseFn, parse)
            .route_async(ParseAsync, parse_later)
    })
    .expect("server starts")
}

fn text(digits: &str) -> Text {
    Text {
        digits: digits.into(),
    }
}

/// Asserts that `route` answers "12" with 12 and "twelve" with handler-failure naming the parse
/// error.
async fn answers_and_converts_errors<R>(client: &Client)
where
    R: Route<Request = Text, Reply = Number>,
{
    let ok = recv_or_fail(R::KEY, client.call::<R>(&text("12"))).await;
    assert_eq!(ok.unwrap(), Number { value: 12 }, "{}", R::KEY);
    let err = recv_or_fail(R::KEY, client.call::<R>(&text("twelve")))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::HandlerFailure), "{}", R::KEY);
    assert!(
        err.to_string().contains("invalid digit"),
        "{}: {err}",
        R::KEY
    );
}

/// `?` in `serve` (with a `Result` answer) converts the error into handler-failure.
#[tokio::test]
async fn question_mark_in_serve_answers_handler_failure() {
    let server = server();
    answers_and_converts_errors::<Parse>(&Client::new(server.tcp())).await;
    assert_eq!(server.stats("test.parse").failed, 1);
}

/// `?` in a `Reply::later` future converts the error too.
#[tokio::test]
async fn question_mark_in_a_later_reply_answers_handler_failure() {
    let server = server();
    answers_and_converts_errors::<ParseLater>(&Client::new(server.tcp())).await;
}

/// A plain function serves a route (`route_fn`); its panic is answered and counted.
#[tokio::test]
async fn a_function_serves_a_route_and_its_panic_is_answered() {
    let server = server();
    let client = Client::new(server.tcp());
    answers_and_converts_errors::<ParseFn>(&client).await;
    let err = recv_or_fail("panic", client.call::<ParseFn>(&text("panic")))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("asked to panic"), "{err}");
    assert_eq!(server.stats("test.parse_fn").panicked, 1);
    // The connection and the route still serve.
    answers_and_converts_errors::<ParseFn>(&client).await;
}

/// An async function serves a route (`route_async`).
#[tokio::test]
async fn an_async_function_serves_a_route() {
    let server = server();
    answers_and_converts_errors::<ParseAsync>(&Client::new(server.tcp())).await;
    assert_eq!(server.stats("test.parse_async").succeeded, 1);
}
