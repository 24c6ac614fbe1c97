//! A WebSocket peer for tests, written with tokio-tungstenite (not hubwire's own dialer): it
//! sends each frame as one binary message and sees every message the server sends, pings,
//! closes and HTTP refusals included.
//!
//! Included by the WebSocket tests only (`#[path = "support/websocket.rs"] mod ws;`), so that
//! the other test binaries do not build a WebSocket client.
#![allow(dead_code)]

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use hubwire::net::{dial, DialOptions, NetStream};
use hubwire::protocol::{
    kind, Envelope, ErrorFrame, Frame, Headers, Hello, Request, Response, PROTOCOL_VERSION,
};
use hubwire::tls::TlsClient;
use hubwire::Address;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

use crate::support::recv_or_fail;

/// A raw WebSocket client of a hubwire server.
pub struct WsPeer {
    pub ws: WebSocketStream<NetStream>,
}

/// What a peer saw last: a frame, or the close (its code) or the end.
#[derive(Debug, PartialEq)]
pub enum Seen {
    Frame(Frame),
    Close(Option<u16>),
    End,
}

/// The request of `url`, with an `Origin` header when one is given.
fn request(
    url: &str,
    origin: Option<&str>,
) -> tokio_tungstenite::tungstenite::handshake::client::Request {
    let mut request = url.into_client_request().expect("a WebSocket URL");
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("Origin", HeaderValue::from_str(origin).unwrap());
    }
    request
}

impl WsPeer {
    /// Opens `address` (`ws://`; `wss://` with `tls` trusting the test CA), asking for `path`,
    /// with an `Origin` when given. `Err` carries what the upgrade met (an HTTP refusal).
    pub async fn open(
        address: &Address,
        path: &str,
        origin: Option<&str>,
        tls: Option<TlsClient>,
    ) -> Result<WsPeer, WsError> {
        // The TCP (and TLS) part by hubwire's dialer as a `tcp://`/`tls://` address, the
        // WebSocket by tungstenite.
        let hp = address.host_port().expect("an IP address").to_string();
        let (under, scheme) = if address.uses_tls() {
            (format!("tls://{hp}"), "wss")
        } else {
            (format!("tcp://{hp}"), "ws")
        };
        let options = DialOptions {
            tls,
            ..DialOptions::default()
        };
        let stream = recv_or_fail("connect", dial(&under.parse().unwrap(), &options))
            .await
            .expect("the socket connects");
        let url = format!("{scheme}://{hp}{path}");
        let upgrade = tokio_tungstenite::client_async(request(&url, origin), stream);
        let (ws, _) = recv_or_fail("the upgrade", upgrade).await?;
        Ok(WsPeer { ws })
    }

    /// Opens `address` at `/` with no origin, as a program would.
    pub async fn connect(address: &Address) -> WsPeer {
        WsPeer::open(address, "/", None, None)
            .await
            .expect("the upgrade succeeds")
    }

    /// Opens and completes the CONN handshake.
    pub async fn handshake(address: &Address) -> WsPeer {
        let mut peer = WsPeer::connect(address).await;
        peer.hello().await;
        peer
    }

    /// Sends CONN and checks the server's CONN.
    pub async fn hello(&mut self) {
        self.send_envelope(&Hello {
            version: PROTOCOL_VERSION,
            agent: "ws-test".into(),
            max_frame: 1 << 20,
            max_in_flight: 0,
        })
        .await;
        match self.next().await {
            Seen::Frame(frame) => assert_eq!(frame.kind, kind::CONN, "the server answers CONN"),
            other => panic!("expected CONN, saw {other:?}"),
        }
    }

    /// Sends one message.
    pub async fn send(&mut self, message: Message) {
        recv_or_fail("a send", self.ws.send(message))
            .await
            .expect("the message is sent");
    }

    /// Sends `envelope` as one binary message.
    pub async fn send_envelope(&mut self, envelope: &impl Envelope) {
        let frame = envelope.to_frame_bytes().unwrap();
        self.send(Message::Binary(Bytes::copy_from_slice(&frame)))
            .await;
    }

    /// Calls `route` with the MessagePack of `value`; the RESPONSE, or the ERROR.
    pub async fn call<T: serde::Serialize>(
        &mut self,
        id: u64,
        route: &str,
        value: &T,
    ) -> Result<Response, ErrorFrame> {
        self.send_envelope(&Request {
            id,
            route: route.into(),
            headers: Headers::new(),
            body: hubwire::encode_body(value).unwrap(),
        })
        .await;
        match self.next().await {
            Seen::Frame(frame) if frame.kind == kind::RESPONSE => {
                Ok(Response::from_frame(&frame).unwrap())
            }
            Seen::Frame(frame) if frame.kind == kind::ERROR => {
                Err(ErrorFrame::from_frame(&frame).unwrap())
            }
            other => panic!("expected an answer to request {id}, saw {other:?}"),
        }
    }

    /// The next frame, close or end; pings and pongs are skipped. Each binary message must be
    /// exactly one frame.
    pub async fn next(&mut self) -> Seen {
        recv_or_fail("a message", async {
            loop {
                match self.ws.next().await {
                    Some(Ok(Message::Binary(data))) => {
                        let mut buf = bytes::BytesMut::from(&data[..]);
                        let frame = hubwire::protocol::decode_frame(&mut buf, usize::MAX)
                            .expect("a frame")
                            .expect("a whole frame");
                        assert!(buf.is_empty(), "one frame per binary message");
                        return Seen::Frame(frame);
                    }
                    Some(Ok(Message::Close(close))) => {
                        return Seen::Close(close.map(|c| u16::from(c.code)));
                    }
                    Some(Ok(Message::Text(text))) => panic!("the server sent text: {text}"),
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => return Seen::End,
                }
            }
        })
        .await
    }

    /// The next frame, which must be an ERROR.
    pub async fn expect_error(&mut self) -> ErrorFrame {
        match self.next().await {
            Seen::Frame(frame) if frame.kind == kind::ERROR => {
                ErrorFrame::from_frame(&frame).unwrap()
            }
            other => panic!("expected an ERROR frame, saw {other:?}"),
        }
    }

    /// Waits for the close and returns its code (DISCONN frames before it are skipped).
    pub async fn expect_close(&mut self) -> Option<u16> {
        loop {
            match self.next().await {
                Seen::Frame(frame) if frame.kind == kind::DISCONN => {}
                Seen::Close(code) => return code,
                other => panic!("expected a close, saw {other:?}"),
            }
        }
    }
}

/// The close code number of `code`, for comparisons.
pub fn code(code: CloseCode) -> u16 {
    code.into()
}
