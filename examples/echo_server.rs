//! An echo server: route `echo` answers with the message it was sent.
//!
//! Run: `cargo run --example echo_server`: TCP on 7410, UDP on 7411 and a Unix socket at
//! /tmp/hubwire-echo.sock, all served by one handler (or `-- --listen URL`, repeatable).

#[path = "routes/echo.rs"]
mod echo;

use clap::Parser;
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

#[derive(Parser)]
struct Args {
    /// Where to listen (repeatable): tcp://HOST:PORT, udp://HOST:PORT or unix:///PATH.
    #[arg(long, default_values = echo::DEFAULT_LISTEN)]
    listen: Vec<Address>,
}

#[actix::main]
async fn main() {
    let args = Args::parse();
    for address in &args.listen {
        // A socket file left by an earlier run that was killed; the application base will do
        // this under its single-instance lock.
        if let Address::Unix(path) = address {
            let _ = std::fs::remove_file(path);
        }
    }
    let config = Config {
        listen: args.listen,
        ..Config::default()
    };
    let server = Server::builder(config)
        .route::<Echo, _, _>(|| Echoer)
        .start()
        .await
        .unwrap_or_else(|e| {
            eprintln!("echo_server: {e}");
            std::process::exit(1);
        });
    for address in server.addresses() {
        println!("echo_server listening on {address}");
    }
    let _ = tokio::signal::ctrl_c().await;
    server.stop();
}
