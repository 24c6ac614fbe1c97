//! [`Credentials`]: what a client presents in its AUTH frame.

use std::fmt;

/// A user name and password, or a token (or, rarely, both: the token then names the user and
/// the name must agree). Never printed: `Debug` shows which parts are there, not their values.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// The user name.
    pub user: Option<String>,
    /// The user's password (checked against its argon2 hash).
    pub password: Option<String>,
    /// A token (checked against the SHA-256 of the tokens in the config).
    pub token: Option<String>,
}

impl Credentials {
    /// A user name and password.
    pub fn password(user: impl Into<String>, password: impl Into<String>) -> Self {
        Credentials {
            user: Some(user.into()),
            password: Some(password.into()),
            token: None,
        }
    }

    /// A token.
    pub fn token(token: impl Into<String>) -> Self {
        Credentials {
            token: Some(token.into()),
            ..Credentials::default()
        }
    }

    /// Whether nothing is given.
    pub fn is_empty(&self) -> bool {
        self.user.is_none() && self.password.is_none() && self.token.is_none()
    }

    /// Credentials from the environment: `HUBWIRE_USER`, `HUBWIRE_PASSWORD`, `HUBWIRE_TOKEN`
    /// (`None` when none of them is set).
    pub fn from_env() -> Option<Credentials> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let found = Credentials {
            user: var("HUBWIRE_USER"),
            password: var("HUBWIRE_PASSWORD"),
            token: var("HUBWIRE_TOKEN"),
        };
        (!found.is_empty()).then_some(found)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden = |present: bool| if present { "<given>" } else { "<none>" };
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &hidden(self.password.is_some()))
            .field("token", &hidden(self.token.is_some()))
            .finish()
    }
}

/// Splits the credentials out of a URL's user info: `tcp://alice:s3cret@host:7400` gives
/// `tcp://host:7400` and the user and password; `tcp://TOKEN@host:7400` (no `:`) a token.
/// `%XX` escapes are decoded (a `@` or `:` in a password is written `%40`, `%3A`). A URL
/// without user info comes back as it is, with `None`.
pub fn split_userinfo(url: &str) -> (String, Option<Credentials>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_owned(), None);
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return (url.to_owned(), None);
    };
    let (userinfo, host) = (&rest[..at], &rest[at + 1..]);
    let credentials = match userinfo.split_once(':') {
        Some((user, password)) => {
            Credentials::password(percent_decode(user), percent_decode(password))
        }
        None => Credentials::token(percent_decode(userinfo)),
    };
    (format!("{scheme}://{host}"), Some(credentials))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| text.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
