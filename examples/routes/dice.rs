//! The dice routes, declared once and shared by `dice_server` and `dice_client`.
#![allow(dead_code)]

use serde::{Deserialize, Serialize};

/// A guess from 0 to 9.
#[derive(Debug, Serialize, Deserialize)]
pub struct Guess {
    pub number: u32,
}

/// Roll one die of `sides` sides.
#[derive(Debug, Serialize, Deserialize)]
pub struct Roll {
    pub sides: u32,
}

/// The face rolled, from 1 to `sides`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Rolled {
    pub result: u32,
}

/// Roll `how_many` dice of `sides` sides.
#[derive(Debug, Serialize, Deserialize)]
pub struct RollTimes {
    pub sides: u32,
    pub how_many: u32,
}

/// The sum of the faces rolled.
#[derive(Debug, Serialize, Deserialize)]
pub struct Total {
    pub total: u64,
}

hubwire::route!(pub DiceGuess = "dice.guess", () => Guess);
hubwire::route!(pub DiceRoll = "dice.roll", Roll => Rolled);
hubwire::route!(pub DiceRollTimes = "dice.roll_times", RollTimes => Total);

/// Where the dice server listens unless told otherwise.
pub const DEFAULT_ADDRESS: &str = "tcp://127.0.0.1:7400";
