//! The echo route, shared by `echo_server` and `echo_client`.
#![allow(dead_code)]

use serde::{Deserialize, Serialize};

/// A message, echoed back unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub message: String,
}

hubwire::route!(pub Echo = "echo", Message => Message, idempotent = true);

/// Where the echo client calls unless told otherwise.
pub const DEFAULT_ADDRESS: &str = "tcp://127.0.0.1:7410";
/// Where the echo server listens unless told otherwise: every transport at once.
pub const DEFAULT_LISTEN: [&str; 3] = [
    "tcp://127.0.0.1:7410",
    "udp://127.0.0.1:7411",
    "unix:///tmp/hubwire-echo.sock",
];
