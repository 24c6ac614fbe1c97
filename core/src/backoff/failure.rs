//! [`Failure`]: what went wrong, as far as a back-off policy needs to know.

use std::error::Error;
use std::fmt;

/// A failed attempt as a back-off policy sees it: a message and whether trying again can help.
///
/// A `std::error::Error` does not say whether it is worth retrying, so the caller, who knows the
/// error, decides once when it builds the `Failure`. A `Failure` is also plain owned data (`Clone`,
/// `Send`), so it can cross a mailbox and be stored in an error-queue entry as its last error.
///
/// ```
/// use hubwire_core::backoff::Failure;
///
/// let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
/// let failure = Failure::from_error(&io, true);
/// assert_eq!(failure.message(), "refused");
/// assert!(!Failure::permanent("bad request body").is_retryable());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Kept for the give-up reason and for custom strategies that look at what failed.
    message: String,
    /// `false` makes every policy give up at once: a poison message goes to the error queue on
    /// its first failure instead of looping until the attempts run out.
    retryable: bool,
}

impl Failure {
    /// A failure that may go away by itself (a refused connection, a busy peer, a timeout).
    pub fn retryable(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            retryable: true,
        }
    }

    /// A failure that the same input will always hit again (a malformed message, a missing
    /// route): the policy gives up on it at once.
    pub fn permanent(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            retryable: false,
        }
    }

    /// A failure from an error and its chain of causes, joined as `outer: cause: root`, so the
    /// give-up reason keeps the root cause.
    pub fn from_error(error: &dyn Error, retryable: bool) -> Self {
        let mut message = error.to_string();
        let mut cause = error.source();
        while let Some(inner) = cause {
            message.push_str(": ");
            message.push_str(&inner.to_string());
            cause = inner.source();
        }
        Failure { message, retryable }
    }

    /// What went wrong.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether another attempt can help; policies give up at once when it cannot.
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
