//! Bridge admission: both hubs prove they know the shared secret, without sending it.
//!
//! Each side sends a fresh random nonce; each proof is the HMAC-SHA256, under the secret, of a
//! role label, both nonces and both hub ids, in an order that differs by role. So a proof is
//! good for one link attempt and one direction only: it cannot be replayed on another link or
//! reflected back to its sender. The dialer proves first, so a listener never hands a MAC to
//! a peer that has not shown it knows the secret. Proofs are compared in constant time.
//!
//! This admits peers; it does not encrypt the link (TLS comes in a later issue).

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::HubId;
use crate::protocol::Nonce;

/// Which end of a link a proof speaks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The hub that dialed.
    Dialer,
    /// The hub that accepted.
    Listener,
}

/// The two sides of one link attempt.
#[derive(Clone, Copy, Debug)]
pub struct LinkParties {
    /// The dialer's id and nonce.
    pub dialer: (HubId, Nonce),
    /// The listener's id and nonce.
    pub listener: (HubId, Nonce),
}

impl LinkParties {
    /// The proof `role` sends on this link, under `secret`.
    pub fn proof(&self, secret: &[u8], role: Role) -> Vec<u8> {
        self.mac(secret, role).finalize().into_bytes().to_vec()
    }

    /// Whether `proof` is `role`'s proof on this link under `secret` (in constant time).
    pub fn verify(&self, secret: &[u8], role: Role, proof: &[u8]) -> bool {
        self.mac(secret, role).verify_slice(proof).is_ok()
    }

    fn mac(&self, secret: &[u8], role: Role) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes a key of any length");
        let (label, first, second) = match role {
            Role::Dialer => (&b"hubwire bridge dialer v1"[..], self.listener, self.dialer),
            Role::Listener => (
                &b"hubwire bridge listener v1"[..],
                self.dialer,
                self.listener,
            ),
        };
        mac.update(label);
        for (hub, nonce) in [first, second] {
            mac.update(&nonce);
            mac.update(&hub.0.to_be_bytes());
        }
        mac
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parties() -> LinkParties {
        LinkParties {
            dialer: (HubId(1), [1; 16]),
            listener: (HubId(2), [2; 16]),
        }
    }

    #[test]
    fn a_proof_checks_only_under_the_same_secret_role_and_link() {
        let link = parties();
        let proof = link.proof(b"correct horse", Role::Dialer);
        assert_eq!(proof.len(), 32);
        assert!(link.verify(b"correct horse", Role::Dialer, &proof));
        assert!(!link.verify(b"wrong secret", Role::Dialer, &proof));
        assert!(
            !link.verify(b"correct horse", Role::Listener, &proof),
            "a dialer's proof cannot be reflected as the listener's"
        );
        let mut other = parties();
        other.listener.1 = [3; 16];
        assert!(
            !other.verify(b"correct horse", Role::Dialer, &proof),
            "a proof is good for its own nonces only"
        );
        assert!(!link.verify(b"correct horse", Role::Dialer, &proof[..31]));
    }
}
