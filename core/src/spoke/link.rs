//! One connection of a spoke to its hub: socket, CONN handshake, outbound buffer and writer
//! task, and the frames read, a batch per read.

use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};

use super::{SpokeError, SpokeOptions};
use crate::protocol::{Hello, PROTOCOL_VERSION};
use crate::stream::{self, FrameBatches, HandshakeError, HandshakeOffer, Handshaken, Outbound};
use crate::Address;

/// The read half of a link's stream, whatever the transport.
pub type LinkReader = Box<dyn AsyncRead + Send + Unpin>;

/// A connection that finished its handshake.
pub struct Link {
    /// Frames for the hub are appended here; the writer task writes them.
    pub outbound: Arc<Outbound>,
    /// The hub's frames, every whole frame of a read in one batch.
    pub frames: FrameBatches<LinkReader>,
    /// What the hub said in its CONN frame.
    pub hub: Hello,
    writer: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("hub", &self.hub)
            .finish_non_exhaustive()
    }
}

impl Link {
    /// Splits the link into what the owner keeps (the outbound buffer, the writer) and the
    /// frames it reads.
    pub fn split(self) -> (LinkWriter, FrameBatches<LinkReader>, Hello) {
        let writer = LinkWriter {
            outbound: self.outbound,
            writer: self.writer,
        };
        (writer, self.frames, self.hub)
    }
}

/// The write side of a link. Dropping it writes what is queued, then shuts the write side.
#[derive(Debug)]
pub struct LinkWriter {
    /// Frames for the hub are appended here.
    pub outbound: Arc<Outbound>,
    writer: tokio::task::JoinHandle<()>,
}

impl LinkWriter {
    /// Stops writing at once (the hub is taken for dead: a write could hang until the
    /// operating system gives up).
    pub fn abort(self) {
        self.outbound.lock().close();
        self.writer.abort();
    }
}

impl Drop for LinkWriter {
    fn drop(&mut self) {
        self.outbound.lock().close();
    }
}

/// Connects to the hub at `address` and runs the CONN handshake, within the connect timeout.
/// Call it inside a tokio runtime: the link's writer task is spawned on it.
pub async fn connect(address: &Address, options: &SpokeOptions) -> Result<Link, SpokeError> {
    let attempt = async {
        let stream = crate::net::dial(address, &options.dial_options())
            .await
            .map_err(|e| match e {
                crate::net::DialError::NotAStream(_) => SpokeError::NotAStream(address.clone()),
                e if e.kind() == std::io::ErrorKind::TimedOut => SpokeError::ConnectTimeout {
                    address: address.clone(),
                    after: options.connect_timeout,
                },
                e => SpokeError::Connect {
                    address: address.clone(),
                    source: e.into_io(),
                },
            })?;
        handshake(stream, address, options).await
    };
    tokio::time::timeout(options.connect_timeout, attempt)
        .await
        .map_err(|_| SpokeError::ConnectTimeout {
            address: address.clone(),
            after: options.connect_timeout,
        })?
}

async fn handshake<S>(
    stream: S,
    address: &Address,
    options: &SpokeOptions,
) -> Result<Link, SpokeError>
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (rd, wr) = tokio::io::split(stream);
    let hello = Hello {
        version: PROTOCOL_VERSION,
        agent: options.agent.clone(),
        max_frame: options.max_frame as u32,
        max_in_flight: 0,
    };
    let offer = HandshakeOffer {
        credentials: options.credentials.as_ref(),
        compression: crate::compression::offer_for(address, &options.compression),
    };
    let Handshaken {
        hello: hub,
        rd,
        wr,
        buf,
        ..
    } = stream::handshake(rd, wr, &hello, offer, options.max_frame, "hub")
        .await
        .map_err(|e| match e {
            HandshakeError::Refused { code, message } => SpokeError::Handshake { code, message },
            HandshakeError::Lost(source) => SpokeError::Connect {
                address: address.clone(),
                source: crate::net::explain_tls_alert(source),
            },
            HandshakeError::Protocol(e) => SpokeError::from(e),
        })?;
    let rd: LinkReader = Box::new(rd);
    let outbound = Arc::new(Outbound::default());
    let writes = outbound.clone();
    let writer = tokio::spawn(async move {
        if let Err(e) = writes.write_to(wr).await {
            tracing::debug!(error = %e, "spoke: write to the hub failed");
        }
    });
    Ok(Link {
        outbound,
        frames: FrameBatches::with_buffer(rd, buf, options.max_frame),
        hub,
        writer,
    })
}
