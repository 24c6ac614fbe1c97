//! One connection to a dispatcher, after the CONN handshake: frames in through a reader, frames
//! out through a writer task that writes whatever is queued in one go.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use tokio::io::{AsyncWriteExt, ReadHalf};
use tokio::sync::mpsc;
use tokio_util::codec::FramedRead;

use super::WorkClientError;
use crate::auth::Credentials;
use crate::config::DEFAULT_MAX_FRAME;
use crate::net::{dial, DialOptions, NetStream};
use crate::protocol::{decode_frame, Envelope, Frame, FrameCodec, Hello, PROTOCOL_VERSION};
use crate::stream::exchange_hello_as;
use crate::tls::TlsClient;
use crate::Address;

/// How a producer or a worker reaches its dispatcher beyond the address: the TLS settings for
/// a `tls://` address, and the credentials for a dispatcher with users (sent as AUTH with the
/// CONN, AUTH_OK awaited, as every hubwire client does).
#[derive(Debug, Clone, Default)]
pub struct LinkOptions {
    /// For `tls://`: the roots trusted and the client certificate (default: the system roots).
    pub tls: Option<TlsClient>,
    /// User and password, or a token.
    pub credentials: Option<Credentials>,
}

/// Frames read from the dispatcher: those that came with its CONN first (FramedRead reads the
/// socket before it decodes what it was given, so it only ever gets a partial frame).
#[derive(Debug)]
pub(super) struct FrameReader {
    early: VecDeque<Frame>,
    framed: FramedRead<ReadHalf<NetStream>, FrameCodec>,
}

/// Where frames for the dispatcher go; the writer task ends when every sender is dropped, or
/// at an empty frame (shut the write side down).
#[derive(Debug, Clone)]
pub(super) struct FrameSender(mpsc::UnboundedSender<Bytes>);

impl FrameSender {
    /// Queues one envelope; false once the connection is gone.
    pub(super) fn send(&self, envelope: &impl Envelope) -> bool {
        match envelope.to_frame_bytes() {
            Ok(bytes) => self.0.send(bytes).is_ok(),
            Err(_) => false,
        }
    }

    /// Writes what is queued, then shuts the write side down.
    pub(super) fn shutdown(&self) {
        let _ = self.0.send(Bytes::new());
    }
}

/// Dials `address` and says CONN as `agent`.
pub(super) async fn open(
    address: &Address,
    agent: &str,
    options: &LinkOptions,
) -> Result<(FrameReader, FrameSender), WorkClientError> {
    let dial_options = DialOptions {
        tls: options.tls.clone(),
        ..DialOptions::default()
    };
    let stream = dial(address, &dial_options).await?;
    let (mut rd, mut wr) = tokio::io::split(stream);
    let hello = Hello {
        version: PROTOCOL_VERSION,
        agent: agent.to_owned(),
        max_frame: DEFAULT_MAX_FRAME as u32,
        max_in_flight: 0,
    };
    let credentials = options.credentials.as_ref();
    let (_theirs, rest) = exchange_hello_as(
        &mut rd,
        &mut wr,
        &hello,
        credentials,
        DEFAULT_MAX_FRAME,
        "dispatcher",
    )
    .await?;
    let mut rest = rest;
    let mut early = VecDeque::new();
    while let Some(frame) = decode_frame(&mut rest, DEFAULT_MAX_FRAME)? {
        early.push_back(frame);
    }
    let mut framed = FramedRead::new(
        rd,
        FrameCodec {
            max_frame: DEFAULT_MAX_FRAME,
        },
    );
    framed.read_buffer_mut().extend_from_slice(&rest);
    let reader = FrameReader { early, framed };
    let (tx, mut rx) = mpsc::unbounded_channel::<Bytes>();
    tokio::spawn(async move {
        let mut out = BytesMut::new();
        while let Some(first) = rx.recv().await {
            let mut shut = first.is_empty();
            out.extend_from_slice(&first);
            while let Ok(more) = rx.try_recv() {
                shut |= more.is_empty();
                out.extend_from_slice(&more);
            }
            if wr.write_all(&out).await.is_err() {
                return;
            }
            out.clear();
            if shut {
                let _ = wr.shutdown().await;
                return;
            }
        }
        let _ = wr.shutdown().await;
    });
    Ok((reader, FrameSender(tx)))
}

/// The next frame, `None` at the end of the stream or a broken one.
pub(super) async fn next_frame(reader: &mut FrameReader) -> Option<Frame> {
    if let Some(frame) = reader.early.pop_front() {
        return Some(frame);
    }
    match reader.framed.next().await {
        Some(Ok(frame)) => Some(frame),
        _ => None,
    }
}
