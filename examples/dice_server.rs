//! A dice server: `dice.guess` and `dice.roll` answer at once; `dice.roll_times` is a queued
//! route: each request is stored, answered `{"id": N}`, and rolled later by a worker. A roll
//! whose total is below 60% of the most it could be counts as a failure, is retried twice,
//! then waits in the error queue (`hubwire queue errors tcp://127.0.0.1:7400 dice.roll_times`).
//!
//! Run: `cargo run --example dice_server` (or `-- --listen tcp://127.0.0.1:7401`; `-- --help`
//! lists every flag of the application base).

#[path = "routes/dice.rs"]
mod dice;

use std::process::ExitCode;
use std::time::Duration;

use dice::{DiceGuess, DiceRoll, DiceRollTimes, Guess, Roll, RollTimes, Rolled, Total};
use hubwire::backoff::BackoffPolicy;
use hubwire::prelude::*;

/// The most dice one roll_times call may roll, so one request cannot hog the handler.
const MAX_DICE: u32 = 10_000;

/// One actor type serves all three routes: one instance answers `dice.guess` and `dice.roll`
/// (registered together with `routes`), and the queued `dice.roll_times` has two worker
/// instances of its own. It holds nothing but a random source.
struct Dice;

impl Actor for Dice {
    type Context = Context<Self>;
}

impl Serve<DiceGuess> for Dice {
    fn serve(&mut self, _: (), _: &mut Context<Self>) -> Reply<Guess> {
        Reply::ok(Guess {
            number: fastrand::u32(0..=9),
        })
    }
}

// A `Result` answer lets `?` and `Err(..)` work as in any function.
impl Serve<DiceRoll, Result<Rolled, HandlerError>> for Dice {
    fn serve(&mut self, roll: Roll, _: &mut Context<Self>) -> Result<Rolled, HandlerError> {
        if roll.sides == 0 {
            return Err(HandlerError::invalid_request("sides must be at least 1"));
        }
        Ok(Rolled {
            result: fastrand::u32(1..=roll.sides),
        })
    }
}

impl Serve<DiceRollTimes> for Dice {
    fn serve(&mut self, roll: RollTimes, _: &mut Context<Self>) -> Reply<Total> {
        if roll.sides == 0 || roll.how_many == 0 || roll.how_many > MAX_DICE {
            // Invalid input is not retried: it goes to the error queue at once.
            let message = format!("sides must be at least 1 and how_many from 1 to {MAX_DICE}");
            return Err(HandlerError::invalid_request(message)).into();
        }
        let total: u64 = (0..roll.how_many)
            .map(|_| u64::from(fastrand::u32(1..=roll.sides)))
            .sum();
        let most = u64::from(roll.sides) * u64::from(roll.how_many);
        // The stored item's id: the same on every attempt, what a real handler would use to
        // do its work once.
        let id = request_id().unwrap_or_default();
        if total * 10 < most * 6 {
            return Reply::err(format!(
                "rolled {total} of at most {most}: below 60%, so this roll counts as a failure"
            ));
        }
        tracing::info!(id, total, most, "rolled");
        Reply::ok(Total { total })
    }
}

serve!(Dice: DiceGuess, DiceRoll, DiceRollTimes);

fn main() -> ExitCode {
    // Flags, environment, --config file and defaults; lock; logging; hubwire.* endpoints;
    // graceful shutdown on SIGINT/SIGTERM: all from the application base.
    App::new("dice")
        .routes((DiceGuess, DiceRoll), || Dice)
        .queued(
            QueuedRoute::<DiceRollTimes, Dice>::new(|| Dice)
                .workers(2)
                .max_attempts(3)
                .backoff(BackoffPolicy::exponential(
                    Duration::from_millis(200),
                    Duration::from_secs(2),
                )),
        )
        .run()
}
