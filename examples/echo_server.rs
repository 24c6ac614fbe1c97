//! An echo server: route `echo` answers with the message it was sent.
//!
//! Run: `cargo run --example echo_server`: TCP on 7410, UDP on 7411 and a Unix socket at
//! /tmp/hubwire-echo.sock, all served by one handler (or `-- --listen URL`, repeatable).

#[path = "routes/echo.rs"]
mod echo;

use std::process::ExitCode;

use echo::{Echo, Message};
use hubwire::prelude::*;

struct Echoer;

impl Actor for Echoer {
    type Context = Context<Self>;
}

impl Serve<Echo> for Echoer {
    fn serve(&mut self, message: Message, _: &mut Context<Self>) -> Reply<Message> {
        Reply::ok(message)
    }
}

serve!(Echoer: Echo);

fn main() -> ExitCode {
    App::new("echo")
        .defaults(|config| {
            config.listen = echo::DEFAULT_LISTEN
                .iter()
                .map(|url| url.parse().expect("a valid default address"))
                .collect();
        })
        .route(Echo, || Echoer)
        .run()
}
