//! The clients of a work-queue dispatcher, in plain tokio: a [`Producer`] that enqueues items
//! and gets their ids once stored, and a [`Worker`] that takes items, runs an async function on
//! each, keeps its leases extended while it runs, and drains on shutdown.
//!
//! ```no_run
//! # async fn demo() -> Result<(), hubwire_core::work::WorkClientError> {
//! use std::time::Duration;
//! use hubwire_core::work::{Job, JobOutcome, Producer, Worker, WorkerOptions};
//!
//! let address: hubwire_core::Address = "tcp://127.0.0.1:7500".parse().unwrap();
//! let producer = Producer::connect(&address).await?;
//! let id = producer.enqueue("mail.send", b"hello".to_vec()).await?;
//!
//! let worker = Worker::connect(&address, WorkerOptions::new(["mail.send"]).credit(8)).await?;
//! let drain = worker.drain_handle();
//! tokio::spawn(async move {
//!     tokio::time::sleep(Duration::from_secs(60)).await;
//!     drain.drain(); // finish what is held, take nothing new, then disconnect
//! });
//! worker
//!     .run(|job: Job| async move {
//!         println!("item {} ({} bytes)", job.id, job.body.len());
//!         JobOutcome::Done
//!     })
//!     .await?;
//! # let _ = id; Ok(()) }
//! ```

mod error;
mod link;
mod producer;
mod worker;

pub use error::WorkClientError;
pub use link::LinkOptions;
pub use producer::Producer;
pub use worker::{DrainHandle, Job, JobOutcome, Worker, WorkerOptions};
