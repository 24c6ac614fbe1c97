//! Graceful shutdown: requests in flight finish when the application is asked to stop.
//!
//! Run: `cargo run --example graceful_shutdown`, then in another shell
//! `cargo run --bin hubwire -- call tcp://127.0.0.1:7430 slow.sleep '{"ms": 3000}'` and press
//! Ctrl-C in the first: the call still gets its answer, then the server exits 0. With
//! `--set shutdown_timeout_ms=500`, the call is answered `shutting-down` after half a second.

use std::process::ExitCode;
use std::time::Duration;

use hubwire::prelude::*;

/// Sleep this long, then answer.
#[derive(Debug, Serialize, Deserialize)]
pub struct Sleep {
    pub ms: u64,
}

/// How long was slept.
#[derive(Debug, Serialize, Deserialize)]
pub struct Slept {
    pub slept_ms: u64,
}

route!(pub SlowSleep = "slow.sleep", Sleep => Slept);

struct Sleeper;

impl Actor for Sleeper {
    type Context = Context<Self>;
}

impl Serve<SlowSleep> for Sleeper {
    fn serve(&mut self, sleep: Sleep, _: &mut Context<Self>) -> Reply<Slept> {
        // Waits without blocking the thread, so the actor keeps taking requests meanwhile.
        Reply::later(async move {
            tokio::time::sleep(Duration::from_millis(sleep.ms)).await;
            Ok(Slept { slept_ms: sleep.ms })
        })
    }
}

serve!(Sleeper: SlowSleep);

fn main() -> ExitCode {
    App::new("slow")
        .defaults(|config| {
            config.listen = vec!["tcp://127.0.0.1:7430".parse().expect("an address")];
        })
        .route(SlowSleep, || Sleeper)
        .run()
}
