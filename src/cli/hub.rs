//! `hubwire hub`: a pub/sub hub as an application: loopback by default, `--listen URL`
//! (repeatable) or a config file, with everything the application base gives (lock, logging,
//! standard endpoints, graceful shutdown).

use std::process::ExitCode;

use hubwire_actors::hub::HubLimits;

use crate::config::AppArgs;
use crate::App;

/// Where `hubwire hub` listens unless told otherwise.
pub const DEFAULT_HUB_ADDRESS: &str = "tcp://127.0.0.1:7500";

/// Arguments of `hubwire hub`: the application base's flags.
#[derive(Debug, clap::Args)]
pub struct HubArgs {
    /// The application's flags (`--listen`, `--config`, `--instance`, `--set`, ...).
    #[command(flatten)]
    pub app: AppArgs,
}

/// Runs a hub until SIGINT or SIGTERM; the application base's exit codes.
pub fn hub(args: HubArgs) -> ExitCode {
    App::new("hub")
        .defaults(|config| {
            config.listen = vec![DEFAULT_HUB_ADDRESS.parse().expect("a valid address")];
        })
        .setup(|builder, config| builder.hub(HubLimits::from(config)))
        .run_with(args.app)
}
