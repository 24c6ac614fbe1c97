//! Calls the dice server's three routes with the typed client (`dice.roll_times` is queued: it
//! answers with an id).
//!
//! Run: `cargo run --example dice_client` (or `-- --address tcp://127.0.0.1:7401`).

#[path = "routes/dice.rs"]
mod dice;

use clap::Parser;
use dice::{DiceGuess, DiceRoll, DiceRollTimes, Roll, RollTimes};
use hubwire::prelude::*;

#[derive(Parser)]
struct Args {
    /// The dice server.
    #[arg(long, default_value = dice::DEFAULT_ADDRESS)]
    address: Address,
    /// Sides of the dice to roll.
    #[arg(long, default_value_t = 6)]
    sides: u32,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), CallError> {
    let args = Args::parse();
    let client = Client::new(args.address);
    let guess = client.call::<DiceGuess>(&()).await?;
    println!("dice.guess      -> {}", guess.number);
    let rolled = client.call::<DiceRoll>(&Roll { sides: args.sides }).await?;
    println!("dice.roll       -> {}", rolled.result);
    let times = RollTimes {
        sides: args.sides,
        how_many: 10,
    };
    // A queued route answers with the id it stored the request under; the roll happens later.
    let queued = client.call::<Enqueue<DiceRollTimes>>(&times).await?;
    println!("dice.roll_times -> queued as {} (10 dice)", queued.id);
    match client.call::<DiceRoll>(&Roll { sides: 0 }).await {
        Err(e) => println!("dice.roll with 0 sides -> {e}"),
        Ok(r) => println!("dice.roll with 0 sides unexpectedly gave {}", r.result),
    }
    Ok(())
}
