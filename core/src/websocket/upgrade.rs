//! The server's side of the HTTP upgrade: the path and the origin are checked, the `hubwire`
//! subprotocol agreed to when asked for, and the message size bounded by the frame size.

use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{header, HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::Error as WsError;

use super::{config, OriginPolicy, WebSocketBytes, SUBPROTOCOL};

/// What a listener asks of an upgrade request.
#[derive(Clone, Debug)]
pub struct UpgradeSettings {
    /// The browser origins let in.
    pub origins: OriginPolicy,
    /// The one path served; empty or `/` serves every path.
    pub path: String,
    /// The largest frame, hence message (plus the 4-byte length), accepted.
    pub max_frame: usize,
}

/// Why an upgrade did not happen.
#[derive(Debug, thiserror::Error)]
pub enum UpgradeError {
    /// The request was answered with an HTTP error (403 for an origin not allowed, 404 for
    /// another path) and the connection closed.
    #[error("upgrade refused with HTTP {status}: {reason}")]
    Refused {
        /// The HTTP status sent.
        status: u16,
        /// Why, as sent in the response's body.
        reason: String,
    },
    /// The request was not a WebSocket upgrade, or the socket failed.
    #[error("no WebSocket upgrade: {0}")]
    Handshake(#[source] WsError),
}

impl UpgradeError {
    /// Whether the request came from a browser page whose origin is not allowed.
    pub fn is_origin_refused(&self) -> bool {
        matches!(self, UpgradeError::Refused { status: 403, .. })
    }
}

/// Answers the upgrade request on `stream` (plain or TLS) and returns the WebSocket as frame
/// bytes. The caller bounds the time it may take (the handshake timeout). The HTTP request
/// itself is bounded by the WebSocket library (64 KiB, 124 headers).
pub async fn accept<S>(
    stream: S,
    settings: &UpgradeSettings,
) -> Result<WebSocketBytes<S>, UpgradeError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    // The shape of the callback (its large error type included) is the WebSocket library's.
    #[allow(clippy::result_large_err)]
    let check = |request: &Request, response: Response| answer(settings, request, response);
    match tokio_tungstenite::accept_hdr_async_with_config(
        stream,
        check,
        Some(config(settings.max_frame)),
    )
    .await
    {
        Ok(ws) => Ok(WebSocketBytes::new(ws)),
        Err(WsError::Http(response)) => Err(UpgradeError::Refused {
            status: response.status().as_u16(),
            reason: response
                .body()
                .as_deref()
                .map(|body| String::from_utf8_lossy(body).into_owned())
                .unwrap_or_default(),
        }),
        Err(e) => Err(UpgradeError::Handshake(e)),
    }
}

/// The answer to an upgrade request: the switch, or an HTTP error that says why not.
#[allow(clippy::result_large_err)] // the WebSocket library's callback type
fn answer(
    settings: &UpgradeSettings,
    request: &Request,
    mut response: Response,
) -> Result<Response, ErrorResponse> {
    let path = request.uri().path();
    if !serves_path(&settings.path, path) {
        let reason = format!(
            "no WebSocket is served at {path:?}: this listener serves {:?}",
            settings.path
        );
        return Err(refusal(StatusCode::NOT_FOUND, reason));
    }
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
    if let Err(refused) = settings.origins.check(origin.as_deref()) {
        return Err(refusal(StatusCode::FORBIDDEN, refused.to_string()));
    }
    if asks_for_subprotocol(request) {
        response.headers_mut().insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static(SUBPROTOCOL),
        );
    }
    Ok(response)
}

/// Whether a listener on `served` (empty or `/`: every path) serves a request for `path`.
fn serves_path(served: &str, path: &str) -> bool {
    served.is_empty() || served == "/" || served == path
}

/// Whether the client listed the `hubwire` subprotocol.
fn asks_for_subprotocol(request: &Request) -> bool {
    request
        .headers()
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|list| list.split(','))
        .any(|name| name.trim() == SUBPROTOCOL)
}

fn refusal(status: StatusCode, reason: String) -> ErrorResponse {
    let mut response = ErrorResponse::new(Some(reason));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(path: &str, origins: &[&str]) -> UpgradeSettings {
        UpgradeSettings {
            origins: OriginPolicy::new(origins).unwrap(),
            path: path.to_owned(),
            max_frame: 1024,
        }
    }

    fn request(path: &str, headers: &[(&str, &str)]) -> Request {
        let mut builder = Request::builder().uri(path);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap()
    }

    #[test]
    fn paths_are_served_as_the_address_says() {
        assert!(serves_path("", "/anything"));
        assert!(serves_path("/", "/anything"));
        assert!(serves_path("/hubwire", "/hubwire"));
        assert!(!serves_path("/hubwire", "/other"));
        let refused = answer(
            &settings("/hubwire", &[]),
            &request("/x", &[]),
            Response::new(()),
        )
        .unwrap_err();
        assert_eq!(refused.status(), StatusCode::NOT_FOUND);
        assert!(refused.body().as_deref().unwrap().contains("/hubwire"));
        let query = request("/hubwire?token=1", &[]);
        assert!(answer(&settings("/hubwire", &[]), &query, Response::new(())).is_ok());
    }

    #[test]
    fn origins_not_listed_get_403_and_programs_pass() {
        let s = settings("", &["http://localhost:8080"]);
        let browser = request("/", &[("Origin", "https://evil.example")]);
        let refused = answer(&s, &browser, Response::new(())).unwrap_err();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        let allowed = request("/", &[("Origin", "http://localhost:8080")]);
        assert!(answer(&s, &allowed, Response::new(())).is_ok());
        assert!(answer(&s, &request("/", &[]), Response::new(())).is_ok());
    }

    #[test]
    fn the_subprotocol_is_agreed_to_only_when_asked_for() {
        let s = settings("", &[]);
        let asked = request("/", &[("Sec-WebSocket-Protocol", "other, hubwire")]);
        let response = answer(&s, &asked, Response::new(())).unwrap();
        assert_eq!(
            response.headers()[header::SEC_WEBSOCKET_PROTOCOL],
            "hubwire"
        );
        let plain = answer(&s, &request("/", &[]), Response::new(())).unwrap();
        assert!(plain
            .headers()
            .get(header::SEC_WEBSOCKET_PROTOCOL)
            .is_none());
    }
}
