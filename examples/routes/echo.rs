//! The echo route, shared by `echo_server` and `echo_client`.
#![allow(dead_code)]

use serde::{Deserialize, Serialize};

/// A message, echoed back unchanged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub message: String,
}

hubwire::route!(pub Echo = "echo", Message => Message, idempotent = true);

/// Where the echo server listens unless told otherwise.
pub const DEFAULT_ADDRESS: &str = "tcp://127.0.0.1:7410";
