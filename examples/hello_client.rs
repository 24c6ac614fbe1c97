//! A first client: calls `hello.greet` on the `hello_service` example.
//!
//! Run: `cargo run --example hello_client -- Ada` (with `hello_service` running).

#[path = "routes/hello.rs"]
mod hello;

use hello::{Greet, Hello};
use hubwire::prelude::*;

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let name = std::env::args().nth(1).unwrap_or_else(|| "world".into());
    let client = Client::new(hello::ADDRESS.parse().expect("an address"));
    match client.call::<Hello>(&Greet { name }).await {
        Ok(greeting) => {
            println!("{} (greeting number {})", greeting.text, greeting.count);
            std::process::ExitCode::SUCCESS
        }
        // Says what went wrong: not running (connect), a refused name (invalid-body), ...
        Err(e) => {
            eprintln!("hello_client: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
