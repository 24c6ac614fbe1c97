//! Routes: a key, a request type and a reply type, declared once and shared by server and client.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// A declared route. Use [`route!`](crate::route!) rather than implementing it by hand.
pub trait Route: 'static {
    /// The route key (`"dice.roll"`): dotted words of letters, digits, `_` and `-`.
    const KEY: &'static str;
    /// Whether calling twice has the same effect as calling once; only then may a client resend a
    /// request whose reply it did not get (over UDP, say).
    const IDEMPOTENT: bool = false;
    /// What the caller sends.
    type Request: Serialize + DeserializeOwned + Send + 'static;
    /// What the handler answers.
    type Reply: Serialize + DeserializeOwned + Send + 'static;
}

/// Declares a route: a unit struct that implements [`Route`].
///
/// ```
/// use serde::{Deserialize, Serialize};
/// #[derive(Serialize, Deserialize)]
/// pub struct Roll { pub sides: u32 }
/// #[derive(Serialize, Deserialize)]
/// pub struct Rolled { pub result: u32 }
/// hubwire_core::route!(
///     /// Rolls a die.
///     pub DiceRoll = "dice.roll", Roll => Rolled
/// );
/// use hubwire_core::Route;
/// assert_eq!(DiceRoll::KEY, "dice.roll");
/// ```
#[macro_export]
macro_rules! route {
    ($(#[$meta:meta])* $vis:vis $name:ident = $key:literal, $req:ty => $rep:ty $(, idempotent = $idem:literal)?) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, Default)]
        $vis struct $name;
        impl $crate::Route for $name {
            const KEY: &'static str = $key;
            $(const IDEMPOTENT: bool = $idem;)?
            type Request = $req;
            type Reply = $rep;
        }
    };
}

/// Why a string is not a route key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("route key {0:?} is not valid: use dotted words of letters, digits, '_' and '-' (\"dice.roll\")")]
pub struct InvalidRouteKey(pub String);

/// Checks that `key` is dotted words of letters, digits, `_` and `-`.
pub fn validate_route_key(key: &str) -> Result<(), InvalidRouteKey> {
    let word_ok = |w: &str| {
        !w.is_empty()
            && w.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    if key.len() <= 255 && key.split('.').all(word_ok) {
        Ok(())
    } else {
        Err(InvalidRouteKey(key.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_keys_are_dotted_words() {
        for ok in ["echo", "dice.roll", "hubwire.queue.data", "a-b_c.9"] {
            assert!(validate_route_key(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            ".",
            "dice.",
            ".roll",
            "dice roll",
            "dice..roll",
            "dice/roll",
        ] {
            assert!(validate_route_key(bad).is_err(), "{bad}");
        }
    }
}
