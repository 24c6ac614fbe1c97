//! [`BridgeTarget`]: a hub this hub dials and bridges to, with optional channel filters.

use serde::{Deserialize, Serialize};

use crate::pubsub::{Channel, Pattern};
use crate::Address;

/// A hub to bridge to: in JSON either its URL (`"tcp://10.0.0.2:7500"`) or an object
/// `{"url": ..., "export": [patterns], "import": [patterns]}`. `export` limits what this hub
/// sends over the bridge, `import` what it takes from it; a missing list lets everything
/// through, an empty one nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "TargetForm")]
pub struct BridgeTarget {
    /// The other hub's address.
    #[serde(serialize_with = "url_string")]
    pub url: Address,
    /// Channels that may cross from here to there (`None`: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export: Option<Vec<Pattern>>,
    /// Channels that may cross from there to here (`None`: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import: Option<Vec<Pattern>>,
}

impl BridgeTarget {
    /// A bridge to `url` with no filters.
    pub fn new(url: Address) -> BridgeTarget {
        BridgeTarget {
            url,
            export: None,
            import: None,
        }
    }

    /// Whether a message on `channel` may be sent over this bridge.
    pub fn exports(&self, channel: &Channel) -> bool {
        passes(self.export.as_deref(), channel)
    }

    /// Whether a message on `channel` may be taken from this bridge.
    pub fn imports(&self, channel: &Channel) -> bool {
        passes(self.import.as_deref(), channel)
    }
}

fn passes(filter: Option<&[Pattern]>, channel: &Channel) -> bool {
    filter.is_none_or(|patterns| patterns.iter().any(|p| p.matches(channel)))
}

fn url_string<S: serde::Serializer>(url: &Address, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(url)
}

#[derive(Deserialize)]
#[serde(untagged)]
enum TargetForm {
    Url(String),
    Full {
        url: String,
        #[serde(default)]
        export: Option<Vec<Pattern>>,
        #[serde(default)]
        import: Option<Vec<Pattern>>,
    },
}

impl TryFrom<TargetForm> for BridgeTarget {
    type Error = crate::AddressError;

    fn try_from(form: TargetForm) -> Result<Self, Self::Error> {
        Ok(match form {
            TargetForm::Url(url) => BridgeTarget::new(url.parse()?),
            TargetForm::Full {
                url,
                export,
                import,
            } => BridgeTarget {
                url: url.parse()?,
                export,
                import,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_or_an_object_with_filters() {
        let plain: BridgeTarget = serde_json::from_str(r#""tcp://127.0.0.1:7500""#).unwrap();
        assert_eq!(
            plain,
            BridgeTarget::new("tcp://127.0.0.1:7500".parse().unwrap())
        );
        let filtered: BridgeTarget = serde_json::from_str(
            r#"{"url": "tcp://127.0.0.1:7501", "export": ["sensors/**"], "import": []}"#,
        )
        .unwrap();
        let ch = |s: &str| Channel::parse(s).unwrap();
        assert!(filtered.exports(&ch("sensors/a/temp")));
        assert!(!filtered.exports(&ch("billing/x")));
        assert!(
            !filtered.imports(&ch("sensors/a/temp")),
            "an empty list lets nothing in"
        );
        assert!(plain.exports(&ch("anything")) && plain.imports(&ch("anything")));
        assert!(serde_json::from_str::<BridgeTarget>(r#"{"url": "nope"}"#).is_err());
    }
}

/// A secret from the configuration: kept out of `Debug` output, so it never reaches a log.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps `secret`.
    pub fn new(secret: impl Into<String>) -> Secret {
        Secret(secret.into())
    }

    /// The secret's bytes, for computing proofs.
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}
