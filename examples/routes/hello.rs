//! The `hello.greet` route, shared by `hello_service` and `hello_client`.
#![allow(dead_code)]

use serde::{Deserialize, Serialize};

/// Who to greet.
#[derive(Debug, Serialize, Deserialize)]
pub struct Greet {
    pub name: String,
}

/// The greeting, and how many the service has made.
#[derive(Debug, Serialize, Deserialize)]
pub struct Greeting {
    pub text: String,
    pub count: u64,
}

hubwire::route!(pub Hello = "hello.greet", Greet => Greeting);

/// Where the service listens and the client calls.
pub const ADDRESS: &str = "tcp://127.0.0.1:7460";
