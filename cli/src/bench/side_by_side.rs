//! What `hubwire bench pubsub`, `rpc` and `bridge` share: the run's flags and timing, the
//! clients' runtimes, the body every message carries and the side-by-side table of hubwire's
//! figures, NATS's and their ratio.

use std::time::Duration;

use bytes::Bytes;
use tokio::runtime::Handle;

use super::stats::{human_ns, thousands, Window};
use super::Failure;

/// After the window, a subscriber that has heard nothing for this long has everything it will get.
pub(super) const DRAIN_IDLE: Duration = Duration::from_millis(500);
/// How long a connect, a handshake or one call may take.
pub(super) const PATIENCE: Duration = Duration::from_secs(5);

/// What both modes share: where NATS is, how long, how many client threads.
#[derive(Debug, Clone, clap::Args)]
pub struct SideBySideArgs {
    /// Also run every workload against the nats-server at this URL (nats://127.0.0.1:PORT) and
    /// print the ratio hubwire/NATS per row (with async-nats, and for `bench bridge`, a build
    /// with `--features nats-bench`).
    #[arg(long)]
    pub nats: Option<String>,
    /// Seconds measured per row.
    #[arg(long, default_value_t = 3.0)]
    pub duration: f64,
    /// Seconds of load before measuring starts.
    #[arg(long, default_value_t = 1.0)]
    pub warmup: f64,
    /// Threads of the clients' runtime.
    #[arg(long, default_value_t = 2)]
    pub client_threads: usize,
}

/// Which NATS client a row's clients use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum NatsClient {
    /// The bench's own (`lean_nats.rs`): reads in place, allocates nothing per message, so
    /// the server is what is measured.
    Lean,
    /// `async-nats`, the Rust client: what its users see, the client's cost included (most of
    /// the CPU on a small machine).
    AsyncNats,
}

impl NatsClient {
    /// How the run's header line names it.
    pub fn name(self) -> &'static str {
        match self {
            NatsClient::Lean => "the lean NATS client",
            NatsClient::AsyncNats => "async-nats",
        }
    }
}

/// Where a row's clients connect: publishers and callers to `near`, subscribers and providers to
/// `far`. The same server for `bench pubsub` and `bench rpc`; two bridged hubs (or two
/// clustered nats-servers) for `bench bridge`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Ends<T> {
    /// Where publishers and callers connect.
    pub near: T,
    /// Where subscribers and providers connect.
    pub far: T,
}

impl<T: Clone + PartialEq> Ends<T> {
    /// Both ends on one server.
    pub fn one(at: T) -> Ends<T> {
        Ends {
            near: at.clone(),
            far: at,
        }
    }

    /// Whether messages cross from one server to another (so interest must cross first).
    pub fn across(&self) -> bool {
        self.near != self.far
    }
}

impl<T: Copy> Copy for Ends<T> {}

/// Checked timing of a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Timing {
    pub warmup: Duration,
    pub duration: Duration,
}

impl Timing {
    pub fn window(&self) -> Window {
        Window::starting_now(self.warmup, self.duration)
    }
}

impl SideBySideArgs {
    /// The timing, checked, for a run whose NATS rows use async-nats (`bench bridge`).
    pub(super) fn check(&self) -> Result<Timing, String> {
        self.check_with(self.nats.is_some())
    }

    /// The timing, checked; `async_nats`: whether the run uses async-nats, which only a build
    /// with `--features nats-bench` has (the lean client is always there).
    pub(super) fn check_with(&self, async_nats: bool) -> Result<Timing, String> {
        let ok =
            |v: f64, zero_ok: bool| v.is_finite() && (v > 0.0 || zero_ok && v == 0.0) && v < 1e5;
        if !ok(self.duration, false) || !ok(self.warmup, true) {
            return Err("--duration and --warmup must be positive numbers of seconds".into());
        }
        if self.client_threads == 0 {
            return Err("--client-threads must be at least 1".into());
        }
        if async_nats && !cfg!(feature = "nats-bench") {
            return Err("async-nats needs a build with `--features nats-bench`".into());
        }
        Ok(Timing {
            warmup: Duration::from_secs_f64(self.warmup),
            duration: Duration::from_secs_f64(self.duration),
        })
    }
}

/// One row of a side-by-side table.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Row {
    pub name: String,
    pub unit: &'static str,
    pub hub: f64,
    pub nats: Option<f64>,
    /// Extra words after the figures (drops, errors).
    pub note: String,
    /// Whether a higher figure is better (rates) or a lower one (latencies).
    pub higher_is_better: bool,
}

/// hubwire over NATS, two decimals; `-` when there is nothing to divide by.
pub(super) fn ratio(hub: f64, nats: Option<f64>) -> String {
    match nats {
        Some(n) if n > 0.0 && hub.is_finite() => format!("{:.2}", hub / n),
        _ => "-".into(),
    }
}

pub(super) fn figure(unit: &str, value: f64) -> String {
    if unit == "ns" {
        human_ns(Some(value as u64))
    } else {
        thousands(value)
    }
}

/// The table: each row's hubwire figure, NATS's, and hubwire/NATS.
pub(super) fn side_by_side(rows: &[Row]) -> String {
    let mut out = format!(
        "  {:<28}{:>14}{:>14}{:>12}  {}\n",
        "row", "hubwire", "NATS", "hub/NATS", "notes"
    );
    for row in rows {
        let nats = row.nats.map_or("-".into(), |n| figure(row.unit, n));
        let better = if row.higher_is_better {
            "higher is better"
        } else {
            "lower is better"
        };
        out.push_str(&format!(
            "  {:<28}{:>14}{:>14}{:>12}  {better}{}{}\n",
            row.name,
            figure(row.unit, row.hub),
            nats,
            ratio(row.hub, row.nats),
            if row.note.is_empty() { "" } else { "; " },
            row.note
        ));
    }
    out
}

/// The body of `size` bytes every publish and call carries.
pub(super) fn body(size: usize) -> Bytes {
    Bytes::from((0..size).map(|i| (i % 251) as u8).collect::<Vec<_>>())
}

/// Runs the future `make` returns on a fresh multi-thread runtime of `threads` threads, on its
/// own thread, so the clients do not share the command's one thread; `make` gets the handle of a
/// second runtime of as many threads for subscribers, so they get their share of the CPU however
/// many publisher tasks there are.
pub(super) async fn on_client_runtime<T, F, Fut>(threads: usize, make: F) -> Result<T, Failure>
where
    F: FnOnce(Handle) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<T, Failure>>,
    T: Send + 'static,
{
    let (done, result) = tokio::sync::oneshot::channel();
    let build = |name: &str| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name(name)
            .enable_all()
            .build()
            .map_err(|e| Failure::new(1, format!("cannot start the clients: {e}")))
    };
    let (main, subscribers) = (build("bench-clients")?, build("bench-subscribers")?);
    std::thread::Builder::new()
        .name("hubwire-bench-clients".into())
        .spawn(move || {
            let outcome = main.block_on(make(subscribers.handle().clone()));
            subscribers.shutdown_background();
            main.shutdown_background();
            let _ = done.send(outcome);
        })
        .map_err(|e| Failure::new(1, format!("cannot start the clients: {e}")))?;
    result
        .await
        .map_err(|_| Failure::new(1, "the clients' thread failed"))?
}
