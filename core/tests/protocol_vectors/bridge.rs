//! The bridge kinds (64-70): their fields, and the proofs against the MAC inputs that section
//! 11 of `docs/protocol.md` describes.

use super::*;

/// [`check_fields`] for the bridge kinds (section 11 of `docs/protocol.md`).
pub(super) fn check_bridge_fields(f: &Obj<'_>, frame: &Frame) -> Bytes {
    let name = f.vector;
    match frame.kind {
        kind::BRIDGE_HELLO => {
            f.has_exactly(&["hub", "nonce_hex", "name"]);
            let expected = BridgeHello {
                hub: f.hub("hub"),
                nonce: f.nonce("nonce_hex"),
                name: f.str("name").to_owned(),
            };
            decode_and_encode(name, frame, expected)
        }
        kind::BRIDGE_CHALLENGE => {
            f.has_exactly(&["hub", "nonce_hex"]);
            let expected = BridgeChallenge {
                hub: f.hub("hub"),
                nonce: f.nonce("nonce_hex"),
            };
            decode_and_encode(name, frame, expected)
        }
        kind::BRIDGE_PROOF => {
            f.has_exactly(&["mac_hex"]);
            decode_and_encode(
                name,
                frame,
                BridgeProof {
                    mac: f.hex("mac_hex"),
                },
            )
        }
        kind::BRIDGE_LINK_STATE => {
            f.has_exactly(&["origin", "seq", "neighbors"]);
            let neighbors = f
                .array("neighbors")
                .iter()
                .map(|v| HubId(v.as_u64().expect("a neighbor is an unsigned integer")))
                .collect();
            let expected = LinkState {
                origin: f.hub("origin"),
                seq: f.u64("seq"),
                neighbors,
            };
            decode_and_encode(name, frame, expected)
        }
        kind::BRIDGE_INTEREST => {
            f.has_exactly(&["origin", "from_seq", "to_seq", "add", "remove", "full"]);
            let full = match f.get("full") {
                Value::Null => None,
                _ => {
                    let part = f.obj("full");
                    part.has_exactly(&["after", "last"]);
                    let after = match part.get("after") {
                        Value::Null => None,
                        _ => Some(part.obj("after").interest()),
                    };
                    Some(FullPart {
                        after,
                        last: part.bool("last"),
                    })
                }
            };
            let expected = InterestUpdate {
                origin: f.hub("origin"),
                from_seq: f.u64("from_seq"),
                to_seq: f.u64("to_seq"),
                add: f.interests("add"),
                remove: f.interests("remove"),
                full,
            };
            // A valid vector is also a well-formed update, not one a hub drops as invalid.
            expected
                .validate()
                .unwrap_or_else(|e| panic!("{name}: not a well-formed update: {e}"));
            decode_and_encode(name, frame, expected)
        }
        kind::BRIDGE_RESYNC => {
            f.has_exactly(&["origin"]);
            let expected = BridgeResync {
                origin: f.hub("origin"),
            };
            decode_and_encode(name, frame, expected)
        }
        kind::BRIDGE_MESSAGE => {
            f.has_exactly(&["origin", "seq", "hops", "picks", "publish"]);
            let picks = f
                .objs("picks")
                .iter()
                .map(|pick| {
                    pick.has_exactly(&["group", "hub"]);
                    (pick.str("group").to_owned(), pick.hub("hub"))
                })
                .collect();
            let expected = BridgeMessage {
                origin: f.hub("origin"),
                seq: f.u64("seq"),
                hops: f.u8("hops"),
                picks,
                publish: f.obj("publish").publish(),
            };
            decode_and_encode(name, frame, expected)
        }
        other => panic!("{name}: kind {other} has no envelope"),
    }
}

/// Guards the admission proof: each proof vector's MAC is HMAC-SHA256 under its secret of the
/// input section 11 describes, built here from its ids and nonces, and is what
/// `LinkParties::proof` gives for them; it checks for its own role only.
#[test]
fn bridge_proof_vectors_are_the_macs_of_their_link_parties() {
    let vectors = load();
    let mut roles = BTreeSet::new();
    for map in &vectors.valid {
        let v = obj(map);
        if v.u16("kind") != kind::BRIDGE_PROOF {
            continue;
        }
        let mac = v.obj("fields").hex("mac_hex");
        let of = v.obj("proof_of");
        of.has_exactly(&[
            "secret",
            "role",
            "dialer_hub",
            "dialer_nonce_hex",
            "listener_hub",
            "listener_nonce_hex",
            "mac_input_hex",
        ]);
        let secret = of.str("secret").as_bytes();
        let dialer = (of.hub("dialer_hub"), of.nonce("dialer_nonce_hex"));
        let listener = (of.hub("listener_hub"), of.nonce("listener_nonce_hex"));
        // The label, then the other side's nonce and id, then the sender's own.
        let (role, other_role, label, first, second) = match of.str("role") {
            "dialer" => (
                Role::Dialer,
                Role::Listener,
                "hubwire bridge dialer v1",
                listener,
                dialer,
            ),
            "listener" => (
                Role::Listener,
                Role::Dialer,
                "hubwire bridge listener v1",
                dialer,
                listener,
            ),
            other => panic!("{}: role {other:?}", v.vector),
        };
        let mut input = label.as_bytes().to_vec();
        for (hub, nonce) in [first, second] {
            input.extend_from_slice(&nonce);
            input.extend_from_slice(&hub.0.to_be_bytes());
        }
        assert_eq!(
            hex::encode(&input),
            of.str("mac_input_hex"),
            "{}: MAC input",
            v.vector
        );
        let mut hmac = Hmac::<sha2::Sha256>::new_from_slice(secret).expect("any key length");
        hmac.update(&input);
        assert_eq!(
            hmac.finalize().into_bytes().as_slice(),
            mac.as_slice(),
            "{}: HMAC-SHA256 of the MAC input",
            v.vector
        );
        let parties = LinkParties { dialer, listener };
        assert_eq!(
            parties.proof(secret, role),
            mac,
            "{}: LinkParties::proof",
            v.vector
        );
        assert!(parties.verify(secret, role, &mac), "{}", v.vector);
        assert!(
            !parties.verify(secret, other_role, &mac),
            "{}: a proof must not check for the other role",
            v.vector
        );
        roles.insert(of.str("role"));
    }
    assert_eq!(
        roles,
        BTreeSet::from(["dialer", "listener"]),
        "proof vectors of both roles"
    );
}
