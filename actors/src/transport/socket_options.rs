//! Options set on every accepted TCP socket (from the configuration).

use std::time::Duration;

use hubwire_core::Config;
use socket2::{SockRef, TcpKeepalive};

/// What to set on an accepted TCP socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SocketOptions {
    /// TCP_NODELAY: small replies are not held back.
    pub nodelay: bool,
    /// TCP keepalive idle time; `None` leaves keepalive off.
    pub keepalive: Option<Duration>,
    /// SO_RCVBUF in bytes; `None` keeps the system's.
    pub recv_buffer: Option<usize>,
    /// SO_SNDBUF in bytes; `None` keeps the system's.
    pub send_buffer: Option<usize>,
}

impl From<&Config> for SocketOptions {
    fn from(config: &Config) -> Self {
        let nonzero = |n: usize| (n > 0).then_some(n);
        SocketOptions {
            nodelay: config.tcp_nodelay,
            keepalive: (!config.tcp_keepalive.is_zero()).then_some(config.tcp_keepalive),
            recv_buffer: nonzero(config.recv_buffer_bytes),
            send_buffer: nonzero(config.send_buffer_bytes),
        }
    }
}

impl SocketOptions {
    /// Sets the options on `stream`.
    pub fn apply(&self, stream: &tokio::net::TcpStream) -> std::io::Result<()> {
        stream.set_nodelay(self.nodelay)?;
        let socket = SockRef::from(stream);
        if let Some(idle) = self.keepalive {
            socket.set_tcp_keepalive(&TcpKeepalive::new().with_time(idle))?;
        }
        if let Some(bytes) = self.recv_buffer {
            socket.set_recv_buffer_size(bytes)?;
        }
        if let Some(bytes) = self.send_buffer {
            socket.set_send_buffer_size(bytes)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn configured_options_are_set_on_the_socket() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = tokio::net::TcpStream::connect(listener.local_addr().unwrap());
        let (accepted, _client) = tokio::join!(listener.accept(), client);
        let (stream, _) = accepted.unwrap();
        let config = Config {
            tcp_nodelay: true,
            tcp_keepalive: Duration::from_secs(42),
            recv_buffer_bytes: 64 * 1024,
            send_buffer_bytes: 128 * 1024,
            ..Config::default()
        };
        SocketOptions::from(&config).apply(&stream).unwrap();
        let socket = SockRef::from(&stream);
        assert!(stream.nodelay().unwrap());
        assert!(socket.keepalive().unwrap());
        assert_eq!(socket.keepalive_time().unwrap(), Duration::from_secs(42));
        // Linux doubles the requested size for its own bookkeeping.
        assert!(socket.recv_buffer_size().unwrap() >= 64 * 1024);
        assert!(socket.send_buffer_size().unwrap() >= 128 * 1024);

        let off = SocketOptions::from(&Config {
            tcp_keepalive: Duration::ZERO,
            ..Config::default()
        });
        assert_eq!(
            (off.keepalive, off.recv_buffer, off.send_buffer),
            (None, None, None)
        );
    }
}
