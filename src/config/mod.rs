//! Layered configuration: built-in defaults < a JSON file named with `--config` < environment
//! variables < command-line flags, over the plain [`Config`](hubwire_core::Config).
//!
//! Every value is checked against its key as it is applied, so an error names the key, the value
//! and where it came from, before anything binds. `docs/configuration.md` lists every key.

mod args;
mod env;
mod error;
mod layers;
mod source;

pub use args::AppArgs;
pub use env::{env_var_names, scoped_name};
pub use error::ConfigError;
pub use layers::{load, load_over, Layered};
pub use source::Source;
