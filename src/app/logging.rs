//! Logging: `tracing` events to the console and/or a daily-rotated file, human or JSON, with a
//! filter that can be changed while the application runs.

use std::sync::{Arc, Mutex};

use hubwire_core::config::LogFormat;
use hubwire_core::Config;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, reload, EnvFilter, Layer, Registry};

/// Why logging could not start.
#[derive(Debug, thiserror::Error)]
pub enum LoggingError {
    /// The filter does not parse.
    #[error("log_level {0:?} is not a valid filter: {1} (use error, warn, info, debug, trace, or directives like info,hubwire_actors=debug)")]
    BadFilter(String, String),
    /// The log file's directory cannot be used.
    #[error("cannot log to {0}: {1}")]
    File(String, String),
}

/// Changes the log filter at run time, and tells the current one.
#[derive(Clone)]
pub struct LogLevel {
    handle: reload::Handle<EnvFilter, Registry>,
    current: Arc<Mutex<String>>,
}

impl std::fmt::Debug for LogLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogLevel")
            .field("current", &self.get())
            .finish()
    }
}

impl LogLevel {
    /// The filter in force.
    pub fn get(&self) -> String {
        self.current.lock().expect("log level lock").clone()
    }

    /// Replaces the filter.
    pub fn set(&self, filter: &str) -> Result<(), LoggingError> {
        let parsed = EnvFilter::try_new(filter)
            .map_err(|e| LoggingError::BadFilter(filter.to_owned(), e.to_string()))?;
        self.handle
            .reload(parsed)
            .map_err(|e| LoggingError::BadFilter(filter.to_owned(), e.to_string()))?;
        *self.current.lock().expect("log level lock") = filter.to_owned();
        tracing::info!(filter, "log level changed");
        Ok(())
    }
}

/// Keeps the file writer flushing; drop it last, at exit, to flush what is buffered.
pub struct LoggingGuard(#[allow(dead_code)] Option<tracing_appender::non_blocking::WorkerGuard>);

impl std::fmt::Debug for LoggingGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoggingGuard")
    }
}

/// Starts logging as `config` says (`RUST_LOG`, when set, overrides `log_level`).
pub fn init(config: &Config) -> Result<(LogLevel, LoggingGuard), LoggingError> {
    let filter_text = std::env::var("RUST_LOG").unwrap_or_else(|_| config.log_level.clone());
    let filter = EnvFilter::try_new(&filter_text)
        .map_err(|e| LoggingError::BadFilter(filter_text.clone(), e.to_string()))?;
    let (filter, handle) = reload::Layer::new(filter);
    let json = config.log_format == LogFormat::Json;
    let console = config.log_console.then(|| {
        let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
        let layer = fmt::layer().with_writer(std::io::stderr).with_ansi(ansi);
        if json {
            layer.json().boxed()
        } else {
            layer.boxed()
        }
    });
    let (file, guard) = match &config.log_file {
        Some(path) => {
            let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
            let dir = dir.unwrap_or_else(|| std::path::Path::new("."));
            let name = path.file_name().ok_or_else(|| {
                LoggingError::File(path.display().to_string(), "no file name".into())
            })?;
            std::fs::create_dir_all(dir)
                .map_err(|e| LoggingError::File(path.display().to_string(), e.to_string()))?;
            let appender = tracing_appender::rolling::daily(dir, name);
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let layer = fmt::layer().with_writer(writer).with_ansi(false);
            let layer = if json {
                layer.json().boxed()
            } else {
                layer.boxed()
            };
            (Some(layer), Some(guard))
        }
        None => (None, None),
    };
    // A second initialisation in one process (tests) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(console)
        .with(file)
        .try_init();
    Ok((
        LogLevel {
            handle,
            current: Arc::new(Mutex::new(filter_text)),
        },
        LoggingGuard(guard),
    ))
}
