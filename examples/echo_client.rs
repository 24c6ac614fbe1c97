//! Sends a message to the echo server and prints the reply.
//!
//! Run: `cargo run --example echo_client -- "hello"`, or over another transport:
//! `--address udp://127.0.0.1:7411`, `--address unix:///tmp/hubwire-echo.sock`.

#[path = "routes/echo.rs"]
mod echo;

use clap::Parser;
use echo::{Echo, Message};
use hubwire::prelude::*;

#[derive(Parser)]
struct Args {
    /// The echo server: tcp://, udp:// or unix://.
    #[arg(long, default_value = echo::DEFAULT_ADDRESS)]
    address: Address,
    /// What to send.
    #[arg(default_value = "hello, hubwire")]
    message: String,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), CallError> {
    let args = Args::parse();
    let client = Client::new(args.address);
    let reply = client
        .call::<Echo>(&Message {
            message: args.message,
        })
        .await?;
    println!("{}", reply.message);
    Ok(())
}
