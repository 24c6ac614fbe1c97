//! A dice server: `dice.guess`, `dice.roll` and `dice.roll_times`, each a handler actor.
//!
//! Run: `cargo run --example dice_server` (or `-- --listen tcp://127.0.0.1:7500`).

#[path = "routes/dice.rs"]
mod dice;

use clap::Parser;
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

#[derive(Parser)]
struct Args {
    /// Where to listen (repeatable): tcp://HOST:PORT or unix:///PATH.
    #[arg(long, default_value = dice::DEFAULT_ADDRESS)]
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
        .route::<DiceGuess, _, _>(|| Dice)
        .route::<DiceRoll, _, _>(|| Dice)
        .route::<DiceRollTimes, _, _>(|| Dice)
        .start()
        .await
        .unwrap_or_else(|e| {
            eprintln!("dice_server: {e}");
            std::process::exit(1);
        });
    for address in server.addresses() {
        println!("dice_server listening on {address}");
    }
    let _ = tokio::signal::ctrl_c().await;
    server.stop();
}
