//! Listener actors: accept streams (TCP, Unix sockets) and start a connection actor for each on
//! the next I/O thread.

use std::io;
use std::sync::Arc;

use actix::{
    Actor, ActorContext, ArbiterHandle, AsyncContext, Context, Handler, Message, StreamHandler,
};
use futures::stream::{self, BoxStream, StreamExt};
use hubwire_core::Address;
use tokio::io::{AsyncRead, AsyncWrite};

use super::{Connection, ConnectionShared};

/// A stream the listener accepted, still to be opened on its I/O thread.
pub(crate) struct Accepted {
    peer: String,
    open: OpenStream,
}

/// Turns an accepted socket into read and write halves on the thread that will own them.
pub(crate) type OpenStream = Box<
    dyn FnOnce() -> io::Result<(
            Box<dyn AsyncRead + Unpin + Send>,
            Box<dyn AsyncWrite + Unpin + Send>,
        )> + Send,
>;

/// A bound listening socket, before its actor starts.
#[derive(Debug)]
pub enum Bound {
    /// A TCP listener.
    Tcp(tokio::net::TcpListener, bool),
    /// A Unix socket listener and its path (removed when the listener stops).
    Unix(tokio::net::UnixListener, std::path::PathBuf),
}

/// Binds `address`; returns the socket and the address actually bound (port 0 resolved).
pub async fn bind(address: &Address, nodelay: bool) -> io::Result<(Bound, Address)> {
    match address {
        Address::Tcp(addr) => {
            let listener = tokio::net::TcpListener::bind(addr).await?;
            let local = listener.local_addr()?;
            Ok((Bound::Tcp(listener, nodelay), Address::Tcp(local)))
        }
        Address::Unix(path) => {
            let listener = tokio::net::UnixListener::bind(path)?;
            Ok((Bound::Unix(listener, path.clone()), address.clone()))
        }
        Address::Udp(_) => Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "udp:// is not a stream transport",
        )),
    }
}

fn accept_stream(bound: Bound) -> BoxStream<'static, io::Result<Accepted>> {
    match bound {
        Bound::Tcp(listener, nodelay) => stream::unfold(listener, move |listener| async move {
            let accepted = listener.accept().await.and_then(|(stream, peer)| {
                if nodelay {
                    stream.set_nodelay(true)?;
                }
                let std = stream.into_std()?;
                let open: OpenStream = Box::new(move || {
                    let (rd, wr) = tokio::net::TcpStream::from_std(std)?.into_split();
                    Ok((Box::new(rd) as _, Box::new(wr) as _))
                });
                Ok(Accepted {
                    peer: format!("tcp://{peer}"),
                    open,
                })
            });
            Some((accepted, listener))
        })
        .boxed(),
        Bound::Unix(listener, path) => stream::unfold(listener, move |listener| {
            let path = path.clone();
            async move {
                let accepted = listener.accept().await.and_then(|(stream, _)| {
                    let std = stream.into_std()?;
                    let open: OpenStream = Box::new(move || {
                        let (rd, wr) = tokio::net::UnixStream::from_std(std)?.into_split();
                        Ok((Box::new(rd) as _, Box::new(wr) as _))
                    });
                    Ok(Accepted {
                        peer: format!("unix://{}", path.display()),
                        open,
                    })
                });
                Some((accepted, listener))
            }
        })
        .boxed(),
    }
}

/// Asks a listener to stop accepting (connections already open carry on).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct StopListener;

/// Accepts streams on one address and starts a [`Connection`] for each.
pub struct Listener {
    address: Address,
    bound: Option<Bound>,
    unix_path: Option<std::path::PathBuf>,
    io_threads: Vec<ArbiterHandle>,
    next: usize,
    shared: Arc<ConnectionShared>,
}

impl std::fmt::Debug for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listener")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl Listener {
    /// A listener over an already-bound socket.
    pub fn new(
        address: Address,
        bound: Bound,
        io_threads: Vec<ArbiterHandle>,
        shared: Arc<ConnectionShared>,
    ) -> Self {
        let unix_path = match &bound {
            Bound::Unix(_, path) => Some(path.clone()),
            Bound::Tcp(..) => None,
        };
        Listener {
            address,
            bound: Some(bound),
            unix_path,
            io_threads,
            next: 0,
            shared,
        }
    }
}

impl Actor for Listener {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        if let Some(bound) = self.bound.take() {
            ctx.add_stream(accept_stream(bound));
        }
        tracing::info!(address = %self.address, "listening");
    }

    fn stopped(&mut self, _ctx: &mut Context<Self>) {
        if let Some(path) = &self.unix_path {
            let _ = std::fs::remove_file(path);
        }
        tracing::info!(address = %self.address, "stopped listening");
    }
}

impl StreamHandler<io::Result<Accepted>> for Listener {
    fn handle(&mut self, accepted: io::Result<Accepted>, _ctx: &mut Context<Self>) {
        match accepted {
            Ok(Accepted { peer, open }) => {
                let thread = &self.io_threads[self.next % self.io_threads.len()];
                self.next = self.next.wrapping_add(1);
                Connection::start_on(thread, peer, self.shared.clone(), open);
            }
            // Accept errors (a peer that reset before accept, out of descriptors) concern one
            // peer or a moment; the listener carries on.
            Err(e) => tracing::warn!(address = %self.address, error = %e, "accept failed"),
        }
    }

    fn finished(&mut self, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}

impl Handler<StopListener> for Listener {
    type Result = ();

    fn handle(&mut self, _: StopListener, ctx: &mut Context<Self>) {
        ctx.stop();
    }
}
