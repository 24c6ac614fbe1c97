//! One way to give a server: `--server/-s URL` on every subcommand that talks to one, else the
//! `HUBWIRE_URL` environment variable (as `NATS_URL` for `nats`), else the subcommand's default.
//! Subcommands that took the address as their first argument still do (when the words are one
//! more than the subcommand needs, or for `call`, when the first has a `:` or a `/`, which a
//! route key never has).

use hubwire_core::auth::{split_userinfo, Credentials};

/// The environment variable that names the server when `--server` does not.
pub const SERVER_ENV: &str = "HUBWIRE_URL";

/// The `--server` flag.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServerArg {
    /// The server: tcp://HOST:PORT, tls://HOST:PORT, udp://HOST:PORT or unix:///PATH
    /// (default: $HUBWIRE_URL).
    #[arg(
        short = 's',
        long = "server",
        alias = "address",
        value_name = "URL",
        global = true
    )]
    pub server: Option<String>,
    /// How to check a tls:// server, and the certificate to show it.
    #[command(flatten)]
    pub tls: super::tls::TlsArgs,
    /// Who to authenticate as, on a server with users.
    #[command(flatten)]
    pub auth: AuthArgs,
}

/// `--user`, `--password`, `--token`: credentials for a server with users. The URL's user
/// info (`tcp://alice:s3cret@host:7400`, `tcp://TOKEN@host:7400`) wins over these flags, and
/// the flags over `HUBWIRE_USER`, `HUBWIRE_PASSWORD` and `HUBWIRE_TOKEN`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AuthArgs {
    /// The user name to authenticate as (with --password).
    #[arg(long, value_name = "NAME", global = true)]
    pub user: Option<String>,
    /// The user's password (prefer HUBWIRE_PASSWORD: a flag shows in the process list).
    #[arg(long, value_name = "PASSWORD", global = true)]
    pub password: Option<String>,
    /// A token to authenticate with (prefer HUBWIRE_TOKEN).
    #[arg(long, value_name = "TOKEN", global = true)]
    pub token: Option<String>,
}

impl AuthArgs {
    /// The credentials the flags give, else the environment's; `None` when neither gives any.
    pub fn credentials(&self) -> Option<Credentials> {
        let flags = Credentials {
            user: self.user.clone(),
            password: self.password.clone(),
            token: self.token.clone(),
        };
        if flags.is_empty() {
            Credentials::from_env()
        } else {
            Some(flags)
        }
    }
}

/// A server's address without its user info, and the credentials to present: the URL's user
/// info, else `fallback` (the flags or the environment).
pub fn address_and_credentials(
    url: &str,
    fallback: Option<Credentials>,
) -> (String, Option<Credentials>) {
    let (address, from_url) = split_userinfo(url);
    (address, from_url.or(fallback))
}

impl ServerArg {
    /// The server's address: the positional `address` or `--server` (not both, unless they
    /// agree), else `HUBWIRE_URL`, else `default`; an error message when none gives one.
    pub fn resolve(&self, address: Option<&str>, default: Option<&str>) -> Result<String, String> {
        match (address, self.server.as_deref()) {
            (Some(a), Some(s)) if a != s => {
                return Err(format!(
                    "two servers given ({a} and --server {s}): give one"
                ))
            }
            (Some(a), _) | (None, Some(a)) => return Ok(a.to_owned()),
            (None, None) => {}
        }
        if let Some(url) = std::env::var(SERVER_ENV)
            .ok()
            .filter(|v| !v.trim().is_empty())
        {
            return Ok(url.trim().to_owned());
        }
        default.map(str::to_owned).ok_or_else(|| {
            format!("no server given: pass --server URL (or -s URL), or set {SERVER_ENV}")
        })
    }
}

/// Whether a command-line word is meant as a server address rather than a route key (dotted
/// words of letters, digits, `_` and `-`): `127.0.0.1:7400` counts, to be refused with the
/// reason (no scheme) rather than called as a route.
pub fn is_address(word: &str) -> bool {
    word.contains([':', '/'])
}

/// Splits `words` into a leading address (when there is one more word than `needed`, or
/// the first word is an address) and the `needed` words after it.
pub fn split_address(words: &[String], needed: usize) -> Result<(Option<&str>, &[String]), String> {
    match words.len() {
        n if n == needed + 1 => Ok((Some(words[0].as_str()), &words[1..])),
        n if n == needed => Ok((None, words)),
        n => Err(format!(
            "expected {needed} argument{} after an optional server address, got {n}",
            if needed == 1 { "" } else { "s" }
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_leading_word_is_the_address_only_when_one_word_is_extra() {
        let w = words(&["tcp://h:1", "q", "7"]);
        assert_eq!(split_address(&w, 2).unwrap().0, Some("tcp://h:1"));
        let w = words(&["q", "7"]);
        assert_eq!(split_address(&w, 2).unwrap(), (None, &w[..]));
        assert!(split_address(&words(&["q"]), 2).is_err());
    }

    #[test]
    fn the_positional_address_and_the_flag_must_agree() {
        let flag = ServerArg {
            server: Some("tcp://a:1".into()),
            ..ServerArg::default()
        };
        assert_eq!(flag.resolve(None, None).unwrap(), "tcp://a:1");
        assert_eq!(flag.resolve(Some("tcp://a:1"), None).unwrap(), "tcp://a:1");
        assert!(flag.resolve(Some("tcp://b:1"), None).is_err());
    }
}
