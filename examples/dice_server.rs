//! A dice server: `dice.guess`, `dice.roll` and `dice.roll_times`, each a handler actor.
//!
//! Run: `cargo run --example dice_server` (or `-- --listen tcp://127.0.0.1:7500`; `-- --help`
//! lists every flag of the application base).

#[path = "routes/dice.rs"]
mod dice;

use std::process::ExitCode;

use dice::{DiceGuess, DiceRoll, DiceRollTimes, Guess, Roll, RollTimes, Rolled, Total};
use hubwire::prelude::*;

/// The most dice one roll_times call may roll, so one request cannot hog the handler.
const MAX_DICE: u32 = 10_000;

/// One actor serves all three routes; it holds nothing but a random source.
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

impl Serve<DiceRoll> for Dice {
    fn serve(&mut self, roll: Roll, _: &mut Context<Self>) -> Reply<Rolled> {
        if roll.sides == 0 {
            return Err(HandlerError::invalid_request("sides must be at least 1")).into();
        }
        Reply::ok(Rolled {
            result: fastrand::u32(1..=roll.sides),
        })
    }
}

impl Serve<DiceRollTimes> for Dice {
    fn serve(&mut self, roll: RollTimes, _: &mut Context<Self>) -> Reply<Total> {
        if roll.sides == 0 || roll.how_many == 0 || roll.how_many > MAX_DICE {
            let message = format!("sides must be at least 1 and how_many from 1 to {MAX_DICE}");
            return Err(HandlerError::invalid_request(message)).into();
        }
        let total = (0..roll.how_many)
            .map(|_| u64::from(fastrand::u32(1..=roll.sides)))
            .sum();
        Reply::ok(Total { total })
    }
}

serve!(Dice: DiceGuess, DiceRoll, DiceRollTimes);

fn main() -> ExitCode {
    // Flags, environment, --config file and defaults; lock; logging; hubwire.* endpoints;
    // graceful shutdown on SIGINT/SIGTERM: all from the application base.
    App::new("dice")
        .route::<DiceGuess, _, _>(|| Dice)
        .route::<DiceRoll, _, _>(|| Dice)
        .route::<DiceRollTimes, _, _>(|| Dice)
        .run()
}
