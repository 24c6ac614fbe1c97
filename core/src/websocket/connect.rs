//! A client's side of the upgrade, over a stream already connected (and TLS-wrapped for
//! `wss://`).

use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{header, HeaderValue};
use tokio_tungstenite::tungstenite::Error as WsError;

use super::{config, WebSocketBytes, SUBPROTOCOL};
use crate::Address;

/// Why a client's upgrade failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The server answered with an HTTP error instead of switching (403: this origin is not
    /// allowed; 404: no WebSocket at this path).
    #[error("the server refused the WebSocket upgrade with HTTP {status}: {reason}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The response's body.
        reason: String,
    },
    /// The handshake failed otherwise (not a WebSocket server, the socket closed).
    #[error("WebSocket handshake failed: {0}")]
    Handshake(#[source] WsError),
}

/// Upgrades `stream`, connected to the `ws://` or `wss://` `address`, to a WebSocket that
/// carries frames of at most `max_frame` bytes each way, asking for the `hubwire` subprotocol.
pub async fn connect<S>(
    stream: S,
    address: &Address,
    max_frame: usize,
) -> Result<WebSocketBytes<S>, ConnectError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let scheme = if address.uses_tls() { "wss" } else { "ws" };
    let host_port = address
        .host_port()
        .map(ToString::to_string)
        .unwrap_or_default();
    let path = match address.web_path() {
        Some(path) if !path.is_empty() => path,
        _ => "/",
    };
    let mut request = format!("{scheme}://{host_port}{path}")
        .into_client_request()
        .map_err(ConnectError::Handshake)?;
    request.headers_mut().insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static(SUBPROTOCOL),
    );
    match tokio_tungstenite::client_async_with_config(request, stream, Some(config(max_frame)))
        .await
    {
        Ok((ws, _)) => Ok(WebSocketBytes::new(ws)),
        Err(WsError::Http(response)) => Err(ConnectError::Refused {
            status: response.status().as_u16(),
            reason: response
                .body()
                .as_deref()
                .map(|body| String::from_utf8_lossy(body).into_owned())
                .unwrap_or_default(),
        }),
        Err(e) => Err(ConnectError::Handshake(e)),
    }
}
