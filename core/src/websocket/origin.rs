//! [`OriginPolicy`]: which browser pages may open a WebSocket to a listener.
//!
//! A browser sends the `Origin` of the page that opens a WebSocket and lets any page open one
//! to any host, so a listener that takes every origin can be driven by any site its users
//! visit. Requests without an `Origin` come from programs, not pages, and are not concerned.

/// The origins a listener accepts: none by default; exact origins (`https://app.example.com`,
/// `http://localhost:8080`), `null` (pages from files and sandboxed frames), or `*` for any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OriginPolicy {
    /// Lower-cased; compared whole.
    allowed: Vec<String>,
    any: bool,
}

/// An entry of the origin list that is not an origin.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a browser origin: write scheme://host[:port] with no path (https://app.example.com, http://localhost:8080), \"null\", or \"*\" for any")]
pub struct BadOrigin(pub String);

/// A browser page whose origin is not allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the origin {origin:?} is not allowed to open a WebSocket here: add it to ws_allowed_origins"
)]
pub struct OriginRefused {
    /// The origin the request came with.
    pub origin: String,
}

impl OriginPolicy {
    /// A policy that lets in the `allowed` origins; entries that are not origins are refused.
    pub fn new<S: AsRef<str>>(allowed: &[S]) -> Result<Self, BadOrigin> {
        let mut policy = OriginPolicy::default();
        for entry in allowed {
            let entry = entry.as_ref().trim();
            if entry == "*" {
                policy.any = true;
            } else if is_origin(entry) {
                policy.allowed.push(entry.to_ascii_lowercase());
            } else {
                return Err(BadOrigin(entry.to_owned()));
            }
        }
        Ok(policy)
    }

    /// Whether a request with `origin` (its `Origin` header, if it had one) may upgrade.
    pub fn check(&self, origin: Option<&str>) -> Result<(), OriginRefused> {
        let Some(origin) = origin else {
            return Ok(());
        };
        let trimmed = origin.trim();
        if self.any || self.allowed.iter().any(|a| a.eq_ignore_ascii_case(trimmed)) {
            return Ok(());
        }
        Err(OriginRefused {
            origin: origin.to_owned(),
        })
    }
}

/// `null`, or `scheme://host[:port]` with nothing after.
fn is_origin(entry: &str) -> bool {
    if entry == "null" {
        return true;
    }
    let Some((scheme, rest)) = entry.split_once("://") else {
        return false;
    };
    let scheme_ok = scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    let host_ok = !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~:[]".contains(&b));
    scheme_ok && host_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn requests_without_an_origin_pass_and_pages_need_to_be_listed() {
        let none = OriginPolicy::default();
        assert_eq!(none.check(None), Ok(()));
        let refused = none.check(Some("https://evil.example")).unwrap_err();
        assert!(
            refused.to_string().contains("ws_allowed_origins"),
            "{refused}"
        );
        let some =
            OriginPolicy::new(&["https://App.example.com", "http://localhost:8080"]).unwrap();
        assert_eq!(some.check(Some("https://app.example.com")), Ok(()));
        assert_eq!(some.check(Some("http://localhost:8080")), Ok(()));
        assert!(some.check(Some("http://localhost:8081")).is_err());
        assert!(some
            .check(Some("https://app.example.com.evil.example"))
            .is_err());
        assert!(some.check(Some("null")).is_err());
    }

    #[test]
    fn a_star_lets_every_origin_in_and_null_is_an_origin_of_its_own() {
        let any = OriginPolicy::new(&["*"]).unwrap();
        assert_eq!(any.check(Some("https://whatever.example")), Ok(()));
        let null = OriginPolicy::new(&["null"]).unwrap();
        assert_eq!(null.check(Some("null")), Ok(()));
    }

    #[test]
    fn entries_that_are_not_origins_are_refused() {
        for bad in [
            "localhost:8080",
            "https://a.example/path",
            "https://",
            "",
            "://x",
        ] {
            let err = OriginPolicy::new(&[bad]).unwrap_err();
            assert!(
                err.to_string().contains("not a browser origin"),
                "{bad}: {err}"
            );
        }
        assert!(OriginPolicy::new(&["http://[::1]:8080"]).is_ok());
    }

    proptest! {
        /// A listed origin always passes; any other string passes only when it equals a
        /// listed one ignoring ASCII case.
        #[test]
        fn only_listed_origins_pass(host in "[a-z0-9]{1,12}", other in "\\PC{0,24}") {
            let listed = format!("https://{host}.example");
            let policy = OriginPolicy::new(&[listed.as_str()]).unwrap();
            prop_assert!(policy.check(Some(&listed)).is_ok());
            let passes = policy.check(Some(&other)).is_ok();
            prop_assert_eq!(passes, other.trim().eq_ignore_ascii_case(&listed));
        }
    }
}
