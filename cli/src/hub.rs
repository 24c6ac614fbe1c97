//! `hubwire hub`: a pub/sub hub as an application: loopback by default, `--listen URL`
//! (repeatable) or a config file, with everything the application base gives (lock, logging,
//! standard endpoints, graceful shutdown); `--bridge URL` (repeatable) and `--secret` join it
//! to other hubs; `--cert-file`, `--key-file`, `--ca-file`, `--client-auth` set its TLS, and
//! `--nats-tls` has its `nats://` listeners require it.

use std::path::PathBuf;
use std::process::ExitCode;

use hubwire_actors::hub::HubLimits;

use hubwire::config::AppArgs;
use hubwire::App;

/// Where `hubwire hub` listens unless told otherwise.
pub const DEFAULT_HUB_ADDRESS: &str = "tcp://127.0.0.1:7500";

/// Arguments of `hubwire hub`: the application base's flags, and bridges.
#[derive(Debug, clap::Args)]
pub struct HubArgs {
    /// Bridge to the hub at URL (repeatable); needs a bridge secret.
    #[arg(long = "bridge", value_name = "URL")]
    pub bridges: Vec<String>,
    /// The shared bridge secret (or set bridge_secret in the config, or HUBWIRE_BRIDGE_SECRET,
    /// which keeps it out of the process list).
    #[arg(long, value_name = "SECRET")]
    pub secret: Option<String>,
    /// For tls:// listen addresses (and nats:// ones with --nats-tls): the server's certificate
    /// chain, PEM (with --key-file).
    #[arg(long, value_name = "PEM", requires = "key_file")]
    pub cert_file: Option<PathBuf>,
    /// The private key of --cert-file, PEM.
    #[arg(long, value_name = "PEM", requires = "cert_file")]
    pub key_file: Option<PathBuf>,
    /// CA certificates, PEM: whose client certificates are accepted, and which tls:// bridge
    /// peers are trusted besides the system roots (with --cert-file).
    #[arg(long, value_name = "PEM", requires = "cert_file")]
    pub ca_file: Option<PathBuf>,
    /// Client certificates: none, optional or required (optional and required need --ca-file).
    #[arg(long, value_name = "MODE", requires = "cert_file")]
    pub client_auth: Option<String>,
    /// For nats:// listen addresses: clients must upgrade to TLS after INFO, as with
    /// nats-server's tls block (sets nats_tls). Needs --cert-file and --key-file, or a tls
    /// block in the config.
    #[arg(long)]
    pub nats_tls: bool,
    /// The application's flags (`--listen`, `--config`, `--instance`, `--set`, ...).
    #[command(flatten)]
    pub app: AppArgs,
}

impl HubArgs {
    /// The `tls` block the TLS flags make, as JSON for `--set tls=...`; `None` without them.
    fn tls_setting(&self) -> Option<String> {
        let cert_file = self.cert_file.as_ref()?;
        let mut tls = serde_json::json!({
            "cert_file": cert_file,
            "key_file": self.key_file,
        });
        if let Some(ca_file) = &self.ca_file {
            tls["ca_file"] = serde_json::json!(ca_file);
        }
        if let Some(mode) = &self.client_auth {
            tls["client_auth"] = serde_json::json!(mode);
        }
        Some(tls.to_string())
    }
}

/// Runs a hub until SIGINT or SIGTERM; the application base's exit codes.
pub fn hub(mut args: HubArgs) -> ExitCode {
    // As `--set`s, so they take their place among the flags' layer.
    if !args.bridges.is_empty() {
        args.app
            .set
            .push(format!("bridges={}", args.bridges.join(",")));
    }
    // The whole `tls` block, replacing one from a config file.
    if let Some(tls) = args.tls_setting() {
        args.app.set.push(format!("tls={tls}"));
    }
    if args.nats_tls {
        args.app.set.push("nats_tls=true".to_owned());
    }
    if let Some(secret) = args.secret.take() {
        args.app.set.push(format!("bridge_secret={secret}"));
    }
    App::new("hub")
        .defaults(|config| {
            config.listen = vec![DEFAULT_HUB_ADDRESS.parse().expect("a valid address")];
        })
        .check(stream_listeners_only)
        .setup(|builder, config| builder.hub(HubLimits::from(config)))
        .run_with(args.app)
}

/// A hub keeps each subscriber's subscriptions and its ordered stream of messages on its
/// connection; a datagram socket has neither, so `udp://` is refused with the reason.
fn stream_listeners_only(config: &hubwire::Config) -> Result<(), String> {
    match config.listen.iter().find(|address| !address.is_stream()) {
        Some(address) => Err(format!(
            "cannot listen on {address}: pub/sub needs a stream (a hub keeps each subscriber's \
             subscriptions and message order on its connection, and a datagram has neither); \
             listen on tcp://, tls:// or unix:// instead"
        )),
        None => Ok(()),
    }
}
