//! The command-line flags every hubwire application takes.

use std::path::PathBuf;

use clap::Args;

/// Flags of a hubwire application (flatten them into your own `clap` parser, or let
/// [`App::run`](crate::App::run) parse them).
#[derive(Clone, Debug, Default, Args)]
pub struct AppArgs {
    /// Instance id: several instances of one application run side by side, each with its own
    /// lock, data and (through the environment) settings.
    #[arg(short = 'i', long, default_value = "main")]
    pub instance: String,
    /// A JSON configuration file (never searched for: only this file is read).
    #[arg(short = 'c', long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Where to listen (repeatable): tcp://HOST:PORT, tls://HOST:PORT, udp://HOST:PORT,
    /// unix:///PATH, ws://HOST:PORT[/PATH] or wss://HOST:PORT[/PATH].
    #[arg(long, value_name = "URL")]
    pub listen: Vec<String>,
    /// Peers allowed to connect (repeatable): an IP, a CIDR range, loopback, uid:N or uid:self.
    #[arg(long, value_name = "PEER")]
    pub allow: Vec<String>,
    /// Peers allowed to call state-changing endpoints (repeatable), written as for --allow.
    #[arg(long, value_name = "PEER")]
    pub admin_allow: Vec<String>,
    /// Directory of single-instance lock files.
    #[arg(long, value_name = "DIR")]
    pub lock_dir: Option<String>,
    /// Directory of durable data.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<String>,
    /// Log level or tracing directives (info, debug, info,hubwire_actors=debug).
    #[arg(long, value_name = "FILTER")]
    pub log_level: Option<String>,
    /// Log format: human or json.
    #[arg(long, value_name = "FORMAT")]
    pub log_format: Option<String>,
    /// Also log to this file, rotated daily.
    #[arg(long, value_name = "PATH")]
    pub log_file: Option<String>,
    /// Set any configuration key (repeatable): --set max_frame=2097152.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Print the effective configuration with the source of each value, and exit.
    #[arg(long)]
    pub print_config: bool,
}

impl AppArgs {
    /// The flags as `(key, text, flag as written)` for [`load`](super::load), in order; a
    /// malformed `--set` comes back as an error message.
    pub fn flag_values(&self) -> Result<Vec<(String, String, String)>, String> {
        let mut out = Vec::new();
        let mut push = |key: &str, text: String, flag: &str| {
            out.push((key.to_owned(), text, flag.to_owned()));
        };
        for (key, list, flag) in [
            ("listen", &self.listen, "--listen"),
            ("allow", &self.allow, "--allow"),
            ("admin_allow", &self.admin_allow, "--admin-allow"),
        ] {
            if !list.is_empty() {
                push(key, list.join(","), flag);
            }
        }
        for (key, value, flag) in [
            ("lock_dir", &self.lock_dir, "--lock-dir"),
            ("data_dir", &self.data_dir, "--data-dir"),
            ("log_level", &self.log_level, "--log-level"),
            ("log_format", &self.log_format, "--log-format"),
            ("log_file", &self.log_file, "--log-file"),
        ] {
            if let Some(value) = value {
                push(key, value.clone(), flag);
            }
        }
        for item in &self.set {
            let (key, value) = item
                .split_once('=')
                .ok_or_else(|| format!("--set {item:?}: write it as KEY=VALUE"))?;
            push(key.trim(), value.to_owned(), &format!("--set {key}"));
        }
        Ok(out)
    }
}
