//! A TLS stream whose accepted writes always reach the socket.
//!
//! A TLS stream takes bytes, encrypts them and writes the records to the socket; when the socket
//! is full it still reports the bytes as written and keeps the records until the next write or
//! flush. hubwire's writers (the outbound buffer's writer task, and `flush_now`, which writes a
//! lone frame with a waker that does nothing) never flush a stream: on plain sockets there is
//! nothing to flush. So this wrapper flushes after every write, and when the socket cannot take
//! the records yet, a small task of its own finishes the flush; meanwhile further writes wait
//! (their task is woken when the flush is done).

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{ready, Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A stream (a TLS one) that flushes what it accepts. Split it with `tokio::io::split` as any
/// other stream.
#[derive(Debug)]
pub struct WriteThrough<S> {
    shared: Arc<Shared<S>>,
}

#[derive(Debug)]
struct Shared<S> {
    io: Mutex<S>,
    /// A flush task is running: writes wait for it.
    flushing: AtomicBool,
    /// The task whose write waits for the flush task.
    waiting: Mutex<Option<Waker>>,
}

impl<S> WriteThrough<S> {
    /// Wraps `io`.
    pub fn new(io: S) -> Self {
        WriteThrough {
            shared: Arc::new(Shared {
                io: Mutex::new(io),
                flushing: AtomicBool::new(false),
                waiting: Mutex::new(None),
            }),
        }
    }

    /// Runs `f` on the stream (to read its TLS session, say).
    pub fn with_inner<T>(&self, f: impl FnOnce(&S) -> T) -> T {
        f(&self.shared.lock())
    }
}

impl<S> Shared<S> {
    fn lock(&self) -> MutexGuard<'_, S> {
        self.io.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a flush task is running; if so, `cx` is woken when it is done.
    fn wait_for_flush(&self, cx: &Context<'_>) -> bool {
        if !self.flushing.load(Ordering::Acquire) {
            return false;
        }
        *self.waiting.lock().unwrap_or_else(PoisonError::into_inner) = Some(cx.waker().clone());
        // The task may have finished before the waker was stored.
        self.flushing.load(Ordering::Acquire)
    }
}

impl<S: AsyncWrite + Unpin + Send + 'static> WriteThrough<S> {
    /// Finishes a flush the socket could not take now, on a task of its own.
    fn flush_later(&self) {
        self.shared.flushing.store(true, Ordering::Release);
        let shared = self.shared.clone();
        tokio::spawn(async move {
            let _ = std::future::poll_fn(|cx| Pin::new(&mut *shared.lock()).poll_flush(cx)).await;
            shared.flushing.store(false, Ordering::Release);
            let waiting = shared
                .waiting
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take();
            if let Some(waker) = waiting {
                waker.wake();
            }
        });
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WriteThrough<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.shared.lock()).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin + Send + 'static> AsyncWrite for WriteThrough<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.shared.wait_for_flush(cx) {
            return Poll::Pending;
        }
        let mut io = self.shared.lock();
        // What an earlier write left goes first.
        ready!(Pin::new(&mut *io).poll_flush(cx))?;
        let n = ready!(Pin::new(&mut *io).poll_write(cx, buf))?;
        match Pin::new(&mut *io).poll_flush(cx) {
            Poll::Ready(Ok(())) => {}
            // The next write or flush reports it.
            Poll::Ready(Err(_)) => {}
            Poll::Pending => {
                drop(io);
                self.flush_later();
            }
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.shared.wait_for_flush(cx) {
            return Poll::Pending;
        }
        Pin::new(&mut *self.shared.lock()).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.shared.wait_for_flush(cx) {
            return Poll::Pending;
        }
        Pin::new(&mut *self.shared.lock()).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Wake;

    /// A writer that takes bytes into a buffer but delivers them only when flushed, and can
    /// only flush when told the socket is writable.
    #[derive(Default)]
    struct Buffering {
        buffered: Vec<u8>,
        delivered: Vec<u8>,
        writable: bool,
        flush_waker: Option<Waker>,
    }

    impl AsyncWrite for Buffering {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.get_mut().buffered.extend_from_slice(buf);
            Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            let me = self.get_mut();
            if me.buffered.is_empty() {
                return Poll::Ready(Ok(()));
            }
            if !me.writable {
                me.flush_waker = Some(cx.waker().clone());
                return Poll::Pending;
            }
            let bytes = std::mem::take(&mut me.buffered);
            me.delivered.extend(bytes);
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.poll_flush(cx)
        }
    }

    struct Noop;
    impl Wake for Noop {
        fn wake(self: Arc<Self>) {}
    }

    #[tokio::test]
    async fn bytes_accepted_while_the_socket_is_full_are_delivered_without_another_write() {
        let mut stream = WriteThrough::new(Buffering::default());
        let waker = Waker::from(Arc::new(Noop));
        let mut cx = Context::from_waker(&waker);
        // Written with a waker that does nothing, as flush_now does, while the socket is full.
        let written = Pin::new(&mut stream).poll_write(&mut cx, b"frame");
        assert!(matches!(written, Poll::Ready(Ok(5))));
        assert!(stream.shared.flushing.load(Ordering::Acquire));
        // The socket drains; nobody writes again, and the bytes still arrive.
        let wake = {
            let mut io = stream.shared.lock();
            io.writable = true;
            io.flush_waker.take()
        };
        if let Some(wake) = wake {
            wake.wake();
        }
        tokio::time::timeout(std::time::Duration::from_secs(5), async {
            while stream.shared.flushing.load(Ordering::Acquire) {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the flush task finishes");
        assert_eq!(stream.with_inner(|io| io.delivered.clone()), b"frame");
    }
}
