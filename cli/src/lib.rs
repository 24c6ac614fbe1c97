//! The `hubwire` command line: subcommands as plain functions that return an exit code.
//!
//! A crate of its own so that services depending on `hubwire` do not build clap's command, the
//! benchmarks or the NATS client; `src/main.rs` is the `hubwire` binary, this library lets tests
//! drive the subcommands.
//!
//! # Layout
//! - `server`: how a subcommand finds its server (`--server`, `HUBWIRE_URL`, a first word).
//! - `call`: `hubwire call`, and JSON to and from MessagePack bodies.
//! - `queue`: `hubwire queue` and `hubwire sender`.
//! - `hub`: `hubwire hub`, a pub/sub hub as an application.
//! - `passwd`: `hubwire passwd`, password hashes and tokens for the config's users.
//! - `pubsub`: `hubwire pub`, `sub`, `rpc` and `reply`, a spoke from the shell.
//! - `spotty`: `hubwire spotty-spoke`, a recovery drill for a hub.
//! - `bench`: `hubwire bench` and its modes.
//! - `work`: `hubwire work enqueue|stats|workers`, a work queue from the shell.
#![warn(missing_docs)]
#![warn(missing_debug_implementations)]
#![deny(unused_must_use)]

mod bench;
mod call;
mod hub;
mod passwd;
pub mod present;
mod pubsub;
mod queue;
mod server;
mod spotty;
mod tls;
mod work;

pub use bench::{bench, BenchArgs};
pub use call::{call, call_route, CallArgs, RouteCall};
pub use hub::{hub, HubArgs, DEFAULT_HUB_ADDRESS};
pub use passwd::{passwd, PasswdArgs};
pub use present::Show;
pub use pubsub::{publish, reply, rpc, subscribe, HubTarget, PubArgs, ReplyArgs, RpcArgs, SubArgs};
pub use queue::{operate, Family, QueueArgs, QueueOperation};
pub use server::{address_and_credentials, AuthArgs, ServerArg, SERVER_ENV};
pub use spotty::{spotty_spoke, SpottyArgs};
pub use tls::TlsArgs;
pub use work::{work, WorkArgs, WorkOperation};

use clap::{Parser, Subcommand};

/// Exit code: the command did what was asked.
pub const EXIT_OK: i32 = 0;
/// Exit code: bad input to the command itself (unreadable JSON, a malformed address).
pub const EXIT_USAGE: i32 = 2;
/// Exit code: the server answered with an error code (printed with its message).
pub const EXIT_REMOTE_ERROR: i32 = 3;
/// Exit code: no reply within the timeout.
pub const EXIT_TIMEOUT: i32 = 4;
/// Exit code: the server could not be reached.
pub const EXIT_CANNOT_CONNECT: i32 = 5;
/// Exit code: the connection broke while waiting, or the server broke the protocol.
pub const EXIT_CONNECTION_LOST: i32 = 6;

/// hubwire: call and operate hubwire services from the shell.
#[derive(Debug, Parser)]
#[command(name = "hubwire", version, about, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

const EXIT_CODES_HELP: &str = "Exit codes: 0 success, 2 bad arguments or input, 3 remote error \
(code and message printed), 4 timeout, 5 cannot connect, 6 connection lost or protocol error.";

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Call a route: JSON in, the reply printed as JSON.
    #[command(after_help = EXIT_CODES_HELP)]
    Call(CallArgs),
    /// Measure hubwire under load: requests, queued routes and senders, pub/sub, bridges and
    /// memory bounds, each beside a floor or a nats-server.
    Bench(BenchArgs),
    /// Ask a hubwire application whether it is serving (calls hubwire.health).
    #[command(after_help = EXIT_CODES_HELP)]
    Health(StandardArgs),
    /// Print a hubwire application's figures: a table of those that are not zero, or with
    /// --json everything as JSON (calls hubwire.stats).
    #[command(after_help = EXIT_CODES_HELP)]
    Stats(StatsArgs),
    /// Operate an application's queued routes: figures, error queue, requeue, pause.
    #[command(after_help = EXIT_CODES_HELP)]
    Queue(QueueArgs),
    /// Operate an application's senders: figures, errored queue, requeue, pause sending.
    #[command(after_help = EXIT_CODES_HELP)]
    Sender(QueueArgs),
    /// Run a pub/sub hub (tcp://127.0.0.1:7500 unless --listen says otherwise).
    Hub(Box<HubArgs>),
    /// Publish to a hub: a JSON body, raw text or stdin, once or repeatedly.
    #[command(after_help = EXIT_CODES_HELP)]
    Pub(PubArgs),
    /// Subscribe to patterns on a hub and print each message as a JSON line (connection
    /// changes on stderr).
    #[command(after_help = EXIT_CODES_HELP)]
    Sub(SubArgs),
    /// Call a service over pub/sub and print its reply as JSON.
    #[command(after_help = EXIT_CODES_HELP)]
    Rpc(RpcArgs),
    /// Answer calls on a channel from the shell: echo, a fixed body, or a command's output.
    #[command(after_help = EXIT_CODES_HELP)]
    Reply(ReplyArgs),
    /// Print the argon2 hash of a password read from stdin, for a user's password_hash in the
    /// config (or, with --token, a new token and its token_sha256).
    Passwd(PasswdArgs),
    /// Connect, subscribe, check and disconnect over and over (cleanly and abruptly): a drill
    /// for a hub's recovery and leaks.
    SpottySpoke(SpottyArgs),
    /// A work queue from the shell: enqueue items, print dispatcher and worker figures.
    #[command(after_help = EXIT_CODES_HELP)]
    Work(WorkArgs),
}

/// Arguments of the subcommands that call one standard endpoint.
#[derive(Debug, clap::Args)]
pub struct StandardArgs {
    /// The application's address (unless --server or HUBWIRE_URL gives it).
    #[arg(value_name = "ADDRESS")]
    pub address: Option<String>,
    /// Where the application is.
    #[command(flatten)]
    pub server: ServerArg,
    /// Seconds to wait for the reply.
    #[arg(long, default_value_t = 10.0)]
    pub timeout: f64,
}

/// Arguments of `hubwire stats`.
#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    /// Where the application is.
    #[command(flatten)]
    pub standard: StandardArgs,
    /// Print every figure as JSON (zeros included), for scripts.
    #[arg(long)]
    pub json: bool,
}

impl StandardArgs {
    fn call(self, route: &str) -> Result<RouteCall, String> {
        Ok(RouteCall {
            address: self.server.resolve(self.address.as_deref(), None)?,
            route: route.to_owned(),
            json: None,
            timeout: self.timeout,
            headers: Vec::new(),
            credentials: self.server.auth.credentials(),
            tls: self.server.tls,
            show: Show::Json,
        })
    }
}

/// Calls standard endpoint `route` for `hubwire health` and `hubwire stats`, printing the
/// reply as `show` says.
async fn standard(command: &str, route: &str, args: StandardArgs, show: Show) -> i32 {
    match args.call(route) {
        Ok(call) => call_route(RouteCall { show, ..call }).await,
        Err(e) => {
            eprintln!("hubwire {command}: {e}");
            EXIT_USAGE
        }
    }
}

/// Parses the arguments and runs the subcommand; returns the process exit code.
pub fn run() -> std::process::ExitCode {
    let cli = Cli::parse();
    // A hub is an application: it runs its own actix system.
    let command = match cli.command {
        Command::Hub(args) => return hub(*args),
        // A spoke is an actor: these run in an actix system of their own.
        Command::Pub(args) => return exit_code(publish(args)),
        Command::Sub(args) => return exit_code(subscribe(args)),
        Command::Rpc(args) => return exit_code(rpc(args)),
        Command::Reply(args) => return exit_code(reply(args)),
        Command::SpottySpoke(args) => return exit_code(spotty_spoke(args)),
        Command::Passwd(args) => return exit_code(passwd(args)),
        other => other,
    };
    exit_code(run_command(command))
}

fn exit_code(code: i32) -> std::process::ExitCode {
    std::process::ExitCode::from(u8::try_from(code).unwrap_or(1))
}

/// Runs a subcommand that works in one async runtime; returns its exit code.
fn run_command(command: Command) -> i32 {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hubwire: cannot start the async runtime: {e}");
            return 1;
        }
    };
    match command {
        Command::Hub(_)
        | Command::Pub(_)
        | Command::Sub(_)
        | Command::Rpc(_)
        | Command::Reply(_)
        | Command::Passwd(_)
        | Command::SpottySpoke(_) => {
            unreachable!("run starts these itself")
        }
        Command::Call(args) => runtime.block_on(call(args)),
        Command::Bench(args) => runtime.block_on(bench(args)),
        Command::Health(args) => {
            runtime.block_on(standard("health", "hubwire.health", args, Show::Json))
        }
        Command::Stats(args) => {
            let show = match args.json {
                true => Show::Json,
                false => Show::Text(Box::new(|stats| present::stats_table(&stats))),
            };
            runtime.block_on(standard("stats", "hubwire.stats", args.standard, show))
        }
        Command::Queue(args) => runtime.block_on(operate(Family::Queue, args)),
        Command::Sender(args) => runtime.block_on(operate(Family::Sender, args)),
        Command::Work(args) => runtime.block_on(work(args)),
    }
}
