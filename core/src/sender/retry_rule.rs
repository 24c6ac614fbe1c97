//! [`RetryRule`]: which failed deliveries a sender tries again and which go to errored at once.

use std::collections::HashMap;
use std::sync::Arc;

use crate::client::CallError;
use crate::protocol::ErrorCode;

type Custom = Arc<dyn Fn(&CallError) -> bool + Send + Sync>;

/// Decides whether a failed delivery is retried (after the back-off) or moved to errored at
/// once with the reason.
///
/// The default retries what may go away by itself: every failure of the connection
/// ([`CallError::is_connection_failure`]: refused; reset, closed or told DISCONN during the
/// CONN handshake; connect timeout; lost in flight), the call timeout, and the remote codes
/// `busy`, `paused`, `timeout`, `shutting-down`, `handler-failure` and `unhandled` (and codes
/// this version does not know). It does not retry what will fail the same way every time:
/// `unknown-route`, `invalid-body`, `denied`, `not-found`, protocol-level codes, bytes that are
/// not the protocol, a message too large for the remote, or a body that cannot be encoded.
///
/// ```
/// use hubwire_core::sender::RetryRule;
/// use hubwire_core::protocol::ErrorCode;
/// use hubwire_core::client::CallError;
///
/// // A remote that answers handler-failure for bad data: park it instead of retrying.
/// let rule = RetryRule::default().code(ErrorCode::HandlerFailure, false);
/// let e = CallError::Remote { code: ErrorCode::HandlerFailure, message: "bad".into() };
/// assert!(!rule.retryable(&e));
/// let busy = CallError::Remote { code: ErrorCode::Busy, message: "later".into() };
/// assert!(rule.retryable(&busy));
/// ```
#[derive(Clone, Default)]
pub struct RetryRule {
    /// Remote codes whose answer differs from the default.
    codes: HashMap<ErrorCode, bool>,
    /// Replaces every other decision when set.
    custom: Option<Custom>,
}

impl std::fmt::Debug for RetryRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RetryRule")
            .field("codes", &self.codes)
            .field("custom", &self.custom.is_some())
            .finish()
    }
}

impl RetryRule {
    /// Retries (`true`) or parks (`false`) a remote error with `code`, whatever the default.
    pub fn code(mut self, code: ErrorCode, retry: bool) -> Self {
        self.codes.insert(code, retry);
        self
    }

    /// Decides every failure with `rule` instead.
    pub fn custom(rule: impl Fn(&CallError) -> bool + Send + Sync + 'static) -> Self {
        RetryRule {
            codes: HashMap::new(),
            custom: Some(Arc::new(rule)),
        }
    }

    /// Whether `error` is worth another attempt.
    pub fn retryable(&self, error: &CallError) -> bool {
        if let Some(custom) = &self.custom {
            return custom(error);
        }
        match error {
            // A destination killed mid-handshake is as down as one that refuses: wait for it.
            // (`is_connection_failure` names every variant, so a new one is decided there.)
            e if e.is_connection_failure() => true,
            CallError::Timeout { .. } => true,
            CallError::Remote { code, .. } => self
                .codes
                .get(code)
                .copied()
                .unwrap_or_else(|| retry_by_default(*code)),
            // Too large, bytes that are not the protocol, a body error: the same every time.
            _ => false,
        }
    }
}

/// The default for a remote error code.
fn retry_by_default(code: ErrorCode) -> bool {
    match code {
        ErrorCode::Busy
        | ErrorCode::Paused
        | ErrorCode::Timeout
        | ErrorCode::ShuttingDown
        | ErrorCode::HandlerFailure
        | ErrorCode::Unhandled
        | ErrorCode::Other(_) => true,
        ErrorCode::Protocol
        | ErrorCode::VersionMismatch
        | ErrorCode::FrameTooLarge
        | ErrorCode::UnknownKind
        | ErrorCode::Denied
        | ErrorCode::InvalidBody
        | ErrorCode::UnknownRoute
        | ErrorCode::NotFound => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ProtocolError;
    use std::time::Duration;

    fn remote(code: ErrorCode) -> CallError {
        CallError::Remote {
            code,
            message: String::new(),
        }
    }

    #[test]
    fn the_default_retries_what_may_go_away_and_parks_what_will_not() {
        let rule = RetryRule::default();
        let address: crate::Address = "tcp://127.0.0.1:1".parse().unwrap();
        let transient = [
            CallError::Connect {
                address: address.clone(),
                source: std::io::ErrorKind::ConnectionRefused.into(),
            },
            CallError::ConnectTimeout {
                address,
                after: Duration::from_secs(1),
            },
            CallError::Timeout {
                route: "r".into(),
                after: Duration::from_secs(1),
            },
            CallError::ConnectionLost {
                reason: "reset".into(),
            },
            remote(ErrorCode::Busy),
            remote(ErrorCode::Paused),
            remote(ErrorCode::ShuttingDown),
            remote(ErrorCode::HandlerFailure),
            remote(ErrorCode::Other(4242)),
        ];
        for e in &transient {
            assert!(rule.retryable(e), "{e}");
        }
        for code in [
            ErrorCode::UnknownRoute,
            ErrorCode::InvalidBody,
            ErrorCode::Denied,
            ErrorCode::NotFound,
        ] {
            assert!(!rule.retryable(&remote(code)), "{code}");
        }
    }

    #[test]
    fn every_connection_failure_is_retried_whatever_the_codes_say() {
        // Busy parked by choice: a connection failure is retried all the same.
        let rule = RetryRule::default().code(ErrorCode::Busy, false);
        let address: crate::Address = "tcp://127.0.0.1:1".parse().unwrap();
        let broken = |kind: std::io::ErrorKind| CallError::Connect {
            address: address.clone(),
            source: kind.into(),
        };
        let failures = [
            broken(std::io::ErrorKind::ConnectionRefused),
            // The destination accepted, then reset, closed or dropped us mid-handshake.
            broken(std::io::ErrorKind::ConnectionReset),
            broken(std::io::ErrorKind::UnexpectedEof),
            broken(std::io::ErrorKind::BrokenPipe),
            broken(std::io::ErrorKind::ConnectionAborted),
            CallError::ConnectTimeout {
                address: address.clone(),
                after: Duration::from_secs(5),
            },
            CallError::ConnectionLost {
                reason: "the connection ended before the reply".into(),
            },
            // However a broken stream comes to light, it is the connection's failure.
            CallError::Protocol(ProtocolError::Io(
                std::io::ErrorKind::ConnectionReset.into(),
            )),
            CallError::Protocol(ProtocolError::Truncated { buffered: 3 }),
        ];
        for e in &failures {
            assert!(e.is_connection_failure(), "{e}");
            assert!(rule.retryable(e), "{e}");
        }
        let garbled = CallError::Protocol(ProtocolError::UnexpectedKind {
            expected: crate::protocol::kind::CONN,
            got: crate::protocol::kind::PING,
        });
        let too_large = CallError::TooLarge { size: 10, max: 5 };
        for e in [&garbled, &too_large, &remote(ErrorCode::Busy)] {
            assert!(!e.is_connection_failure(), "{e}");
            assert!(!rule.retryable(e), "{e}");
        }
    }

    #[test]
    fn a_sender_can_change_the_rule() {
        let rule = RetryRule::default()
            .code(ErrorCode::Busy, false)
            .code(ErrorCode::UnknownRoute, true);
        assert!(!rule.retryable(&remote(ErrorCode::Busy)));
        assert!(rule.retryable(&remote(ErrorCode::UnknownRoute)));
        let never = RetryRule::custom(|_| false);
        let lost = CallError::ConnectionLost { reason: "x".into() };
        assert!(!never.retryable(&lost));
    }
}
