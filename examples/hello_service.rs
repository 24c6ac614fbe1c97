//! A first service: one route, `hello.greet`, served by an actor that counts its greetings.
//!
//! Run: `cargo run --example hello_service`, then `cargo run --example hello_client`.

#[path = "routes/hello.rs"]
mod hello;

use hello::{Greet, Greeting, Hello};
use hubwire::prelude::*;

/// The actor's state lives in it; requests come one at a time, so no lock is needed.
struct Greeter {
    greeted: u64,
}

impl Actor for Greeter {
    type Context = Context<Self>;
}

impl Serve<Hello, Result<Greeting, HandlerError>> for Greeter {
    fn serve(&mut self, greet: Greet, _: &mut Context<Self>) -> Result<Greeting, HandlerError> {
        if greet.name.trim().is_empty() {
            return Err(HandlerError::invalid_request("name must not be empty"));
        }
        self.greeted += 1;
        Ok(Greeting {
            text: format!("Hello, {}!", greet.name),
            count: self.greeted,
        })
    }
}

serve!(Greeter: Hello);

fn main() -> std::process::ExitCode {
    App::new("hello")
        .defaults(|config| config.listen = vec![hello::ADDRESS.parse().expect("an address")])
        .route(Hello, || Greeter { greeted: 0 })
        .run()
}
