//! The options a NATS client sends in `CONNECT {json}`: what it wants (verbose `+OK`s, echo of
//! its own messages, headers, no-responders) and who it says it is.

use serde::Deserialize;

/// A client's CONNECT options. Fields a client leaves out take NATS's defaults; fields this
/// server does not know are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ConnectOptions {
    /// Answer every operation with `+OK`.
    pub verbose: bool,
    /// Check subjects strictly (accepted; subjects are always checked here).
    pub pedantic: bool,
    /// Deliver the client's own messages to its own subscriptions (NATS's default: yes).
    pub echo: bool,
    /// The client reads HMSG (header blocks).
    pub headers: bool,
    /// The client wants a 503 status message when a request reaches nobody.
    pub no_responders: bool,
    /// The client's name, for logs.
    pub name: Option<String>,
    /// The client library's language.
    pub lang: Option<String>,
    /// The client library's version.
    pub version: Option<String>,
    /// The protocol level (1: the client understands INFO updates).
    pub protocol: Option<u32>,
    /// User name.
    pub user: Option<String>,
    /// Password.
    pub pass: Option<String>,
    /// Token.
    pub auth_token: Option<String>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            verbose: false,
            pedantic: false,
            echo: true,
            headers: false,
            no_responders: false,
            name: None,
            lang: None,
            version: None,
            protocol: None,
            user: None,
            pass: None,
            auth_token: None,
        }
    }
}

/// Why a CONNECT cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// Not a JSON object of options.
    #[error("CONNECT options are not JSON: {0}")]
    Json(String),
    /// `no_responders` without `headers`: the 503 status comes in a header block.
    #[error("no responders requires headers support")]
    NoRespondersWithoutHeaders,
}

impl ConnectOptions {
    /// Reads the JSON of a CONNECT.
    pub fn parse(json: &[u8]) -> Result<ConnectOptions, ConnectError> {
        let options: ConnectOptions =
            serde_json::from_slice(json).map_err(|e| ConnectError::Json(e.to_string()))?;
        if options.no_responders && !options.headers {
            return Err(ConnectError::NoRespondersWithoutHeaders);
        }
        Ok(options)
    }
}
