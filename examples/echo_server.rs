//! An echo server: route `echo` answers with the message it was sent.
//!
//! Run: `cargo run --example echo_server` (or `-- --listen unix:///tmp/echo.sock`).

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
    /// Where to listen (repeatable): tcp://HOST:PORT or unix:///PATH.
    #[arg(long, default_value = echo::DEFAULT_ADDRESS)]
    listen: Vec<Address>,
}

#[actix::main]
async fn main() {
    let args = Args::parse();
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
