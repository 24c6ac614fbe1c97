//! `hubwire call ADDRESS ROUTE [JSON]`.

use std::time::Duration;

use bytes::Bytes;
use hubwire_core::client::{CallError, Client, ClientOptions};
use hubwire_core::protocol::Headers;
use hubwire_core::Address;

use super::present::Show;
use super::server::{is_address, ServerArg};
use super::{
    EXIT_CANNOT_CONNECT, EXIT_CONNECTION_LOST, EXIT_OK, EXIT_REMOTE_ERROR, EXIT_TIMEOUT, EXIT_USAGE,
};

/// Arguments of `hubwire call`.
#[derive(Debug, clap::Args)]
pub struct CallArgs {
    /// The server's address (unless --server or HUBWIRE_URL gives it), the route key (such as
    /// dice.roll), and the request body as JSON (default: null, for routes that take no input).
    #[arg(value_name = "[ADDRESS] ROUTE [JSON]", required = true, num_args = 1..=3)]
    pub words: Vec<String>,
    /// Where the server is.
    #[command(flatten)]
    pub server: ServerArg,
    /// Seconds to wait for the reply (also sent as the request's deadline).
    #[arg(long, default_value_t = 10.0)]
    pub timeout: f64,
    /// A request header (repeatable), such as -H idempotency-key=order-17.
    #[arg(short = 'H', long = "header", value_name = "NAME=VALUE")]
    pub headers: Vec<String>,
}

impl CallArgs {
    /// The call the words describe: `ADDRESS ROUTE JSON`, `ADDRESS ROUTE` (a first word with
    /// `://` is an address), `ROUTE JSON` or `ROUTE`.
    fn route_call(self) -> Result<RouteCall, String> {
        let mut words = self.words.into_iter();
        let first = words.next().expect("clap requires a route");
        let rest: Vec<String> = words.collect();
        let (address, route, json) = match (is_address(&first) || rest.len() == 2, rest.len()) {
            (true, 0) => return Err(format!("{first} is an address: name a route after it")),
            (true, _) => {
                let mut rest = rest.into_iter();
                (Some(first), rest.next().expect("a route"), rest.next())
            }
            (false, _) => (None, first, rest.into_iter().next()),
        };
        Ok(RouteCall {
            address: self.server.resolve(address.as_deref(), None)?,
            route,
            json,
            timeout: self.timeout,
            headers: self.headers,
            credentials: self.server.auth.credentials(),
            tls: self.server.tls,
            show: Show::Json,
        })
    }
}

/// One call of a route, as `hubwire call`, `health`, `stats`, `queue` and `sender` make it.
#[derive(Debug)]
pub struct RouteCall {
    /// Server address: tcp://HOST:PORT, tls://HOST:PORT, udp://HOST:PORT or unix:///PATH.
    pub address: String,
    /// Route key, such as dice.roll.
    pub route: String,
    /// Request body as JSON (default: null).
    pub json: Option<String>,
    /// Seconds to wait for the reply (also sent as the request's deadline).
    pub timeout: f64,
    /// Request headers as `NAME=VALUE`.
    pub headers: Vec<String>,
    /// For a tls:// server: the CA file and client certificate.
    pub tls: crate::TlsArgs,
    /// How the reply is printed.
    pub show: crate::present::Show,
    /// For a server with users, unless the address's user info gives them.
    pub credentials: Option<hubwire_core::auth::Credentials>,
}

/// `NAME=VALUE` pairs to request headers.
pub(crate) fn parse_headers(pairs: &[String]) -> Result<Headers, String> {
    let mut headers = Headers::new();
    for pair in pairs {
        match pair.split_once('=') {
            Some((name, value)) if !name.trim().is_empty() => {
                headers.insert(name.trim(), value);
            }
            _ => return Err(format!("header {pair:?}: write it as NAME=VALUE")),
        }
    }
    Ok(headers)
}

/// JSON text to a MessagePack body.
pub fn json_to_body(json: &str) -> Result<Bytes, String> {
    let mut out = Vec::new();
    let mut de = serde_json::Deserializer::from_str(json);
    let mut ser = rmp_serde::Serializer::new(&mut out).with_struct_map();
    serde_transcode::transcode(&mut de, &mut ser).map_err(|e| format!("invalid JSON: {e}"))?;
    de.end().map_err(|e| format!("invalid JSON: {e}"))?;
    Ok(Bytes::from(out))
}

/// A MessagePack body to JSON text.
pub fn body_to_json(body: &[u8]) -> Result<String, String> {
    let nil = [0xc0u8];
    let body = if body.is_empty() { &nil[..] } else { body };
    let mut out = Vec::new();
    let mut cursor = std::io::Cursor::new(body);
    let mut de = rmp_serde::Deserializer::new(&mut cursor);
    let mut ser = serde_json::Serializer::new(&mut out);
    serde_transcode::transcode(&mut de, &mut ser)
        .map_err(|e| format!("reply is not representable as JSON: {e}"))?;
    // Text such as "plain words" starts with a valid MessagePack integer ('p'): a body is
    // MessagePack only if one value is all of it.
    if cursor.position() != body.len() as u64 {
        return Err("the body is not one MessagePack value".into());
    }
    String::from_utf8(out).map_err(|e| e.to_string())
}

/// Runs `hubwire call`; returns the exit code.
pub async fn call(args: CallArgs) -> i32 {
    match args.route_call() {
        Ok(call) => call_route(call).await,
        Err(e) => {
            eprintln!("hubwire call: {e}");
            EXIT_USAGE
        }
    }
}

/// Makes one call and prints the reply as JSON; returns the exit code.
pub async fn call_route(args: RouteCall) -> i32 {
    let (address, credentials) =
        crate::address_and_credentials(&args.address, args.credentials.clone());
    let address: Address = match address.parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("hubwire call: {e}");
            return EXIT_USAGE;
        }
    };
    let body = match json_to_body(args.json.as_deref().unwrap_or("null")) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("hubwire call: {e}");
            return EXIT_USAGE;
        }
    };
    let headers = match parse_headers(&args.headers) {
        Ok(headers) => headers,
        Err(e) => {
            eprintln!("hubwire call: {e}");
            return EXIT_USAGE;
        }
    };
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        eprintln!("hubwire call: --timeout must be a positive number of seconds");
        return EXIT_USAGE;
    }
    let timeout = Duration::from_secs_f64(args.timeout);
    let tls = match args.tls.client() {
        Ok(tls) => tls,
        Err(e) => {
            eprintln!("hubwire call: {e}");
            return EXIT_USAGE;
        }
    };
    let options = ClientOptions {
        connect_timeout: timeout,
        tls,
        credentials,
        ..ClientOptions::default()
    };
    let client = Client::with_options(address, options);
    match client.call_raw(&args.route, body, headers, timeout).await {
        Ok(reply) => match body_to_json(&reply.body) {
            Ok(json) => {
                let text = match (args.show, serde_json::from_str(&json)) {
                    (Show::Text(present), Ok(value)) => present(value),
                    _ => json,
                };
                // A reader that went away (`| head`) is not an error of the call.
                use std::io::Write;
                let _ = writeln!(std::io::stdout(), "{}", text.trim_end());
                EXIT_OK
            }
            Err(e) => {
                eprintln!("hubwire call: {e}");
                EXIT_CONNECTION_LOST
            }
        },
        Err(e) => {
            eprintln!("hubwire call: {e}");
            exit_code(&e)
        }
    }
}

/// The exit code for a failed call.
pub fn exit_code(error: &CallError) -> i32 {
    match error {
        CallError::Remote { .. } | CallError::TooLarge { .. } => EXIT_REMOTE_ERROR,
        CallError::Timeout { .. } => EXIT_TIMEOUT,
        CallError::Connect { .. } | CallError::ConnectTimeout { .. } => EXIT_CANNOT_CONNECT,
        CallError::ConnectionLost { .. } | CallError::Protocol(_) | CallError::Body(_) => {
            EXIT_CONNECTION_LOST
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_becomes_msgpack_maps_and_back() {
        let body = json_to_body(r#"{"sides": 6}"#).unwrap();
        assert_eq!(&body[..], &[0x81, 0xa5, b's', b'i', b'd', b'e', b's', 0x06]);
        assert_eq!(body_to_json(&body).unwrap(), r#"{"sides":6}"#);
        assert_eq!(body_to_json(&[]).unwrap(), "null");
        assert!(body_to_json(b"plain words").is_err());
        assert!(json_to_body("{").is_err());
        assert!(json_to_body("1 2").is_err());
    }

    #[test]
    fn headers_are_name_value_pairs() {
        let headers = parse_headers(&["idempotency-key=a=b".into()]).unwrap();
        assert_eq!(headers.idempotency_key(), Some("a=b"));
        assert!(parse_headers(&["novalue".into()]).is_err());
        assert!(parse_headers(&["=x".into()]).is_err());
    }
}
