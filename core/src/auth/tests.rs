//! Users, permissions and the throttle, without a server.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use super::*;
use crate::pubsub::{Channel, Pattern};

fn cheap_hash(password: &str) -> String {
    hash_password_with(password, 8, 1)
}

fn spec(json: serde_json::Value) -> UserSpec {
    serde_json::from_value(json).expect("a user spec")
}

fn users(list: Vec<(&str, UserSpec)>) -> Result<Users, UsersError> {
    Users::from_specs(list.into_iter().map(|(n, s)| (n.to_owned(), s)))
}

#[test]
fn a_password_is_checked_against_its_argon2_hash() {
    let alice = spec(serde_json::json!({"password_hash": cheap_hash("wonderland")}));
    let users = users(vec![("alice", alice)]).unwrap();
    let ok = users.authenticate(&Credentials::password("alice", "wonderland"));
    assert_eq!(ok.unwrap().name(), "alice");
    let wrong = users.authenticate(&Credentials::password("alice", "looking-glass"));
    assert_eq!(wrong.unwrap_err(), AuthFailure::BadPassword("alice".into()));
    let unknown = users.authenticate(&Credentials::password("bob", "wonderland"));
    assert_eq!(unknown.unwrap_err(), AuthFailure::UnknownUser("bob".into()));
    let none = users.authenticate(&Credentials::default());
    assert_eq!(none.unwrap_err(), AuthFailure::Missing);
    // The peer cannot tell a wrong name from a wrong password.
    assert_eq!(
        AuthFailure::UnknownUser("bob".into()).message(),
        AuthFailure::BadPassword("alice".into()).message()
    );
}

#[test]
fn a_token_names_its_user() {
    let svc = spec(serde_json::json!({"token_sha256": token_sha256("t0ken")}));
    let users = users(vec![("svc", svc)]).unwrap();
    assert_eq!(
        users
            .authenticate(&Credentials::token("t0ken"))
            .unwrap()
            .name(),
        "svc"
    );
    assert_eq!(
        users
            .authenticate(&Credentials::token("other"))
            .unwrap_err(),
        AuthFailure::BadToken
    );
    let mut named_wrong = Credentials::token("t0ken");
    named_wrong.user = Some("alice".into());
    assert_eq!(
        users.authenticate(&named_wrong).unwrap_err(),
        AuthFailure::BadToken
    );
}

#[test]
fn plain_text_passwords_and_bad_hashes_are_refused_at_load() {
    let plain = spec(serde_json::json!({"password": "hunter2"}));
    let err = users(vec![("alice", plain)]).unwrap_err();
    assert!(
        err.to_string().contains("plain-text passwords are refused"),
        "{err}"
    );
    assert!(err.to_string().contains("hubwire passwd"), "{err}");
    let plain_token = spec(serde_json::json!({"token": "abc"}));
    let err = users(vec![("svc", plain_token)]).unwrap_err();
    assert!(
        err.to_string().contains("plain-text tokens are refused"),
        "{err}"
    );
    let not_phc = spec(serde_json::json!({"password_hash": "hunter2"}));
    let err = users(vec![("alice", not_phc)]).unwrap_err();
    assert!(err.to_string().contains("not a PHC hash"), "{err}");
    let nothing = spec(serde_json::json!({}));
    let err = users(vec![("alice", nothing)]).unwrap_err();
    assert!(err.to_string().contains("no way to authenticate"), "{err}");
    let bad_token = spec(serde_json::json!({"token_sha256": "abc"}));
    assert!(users(vec![("svc", bad_token)]).is_err());
    let bad_perm =
        spec(serde_json::json!({"tls_identity": "x", "permissions": {"call": ["a..b"]}}));
    let err = users(vec![("x", bad_perm)]).unwrap_err();
    assert!(err.to_string().contains("a..b"), "{err}");
}

#[test]
fn tls_identities_map_to_users() {
    let dev = spec(serde_json::json!({"tls_identity": "device-17"}));
    let users = users(vec![("device", dev)]).unwrap();
    assert_eq!(users.by_tls_identity("device-17").unwrap().name(), "device");
    assert!(users.by_tls_identity("device-18").is_none());
}

fn perms(json: serde_json::Value) -> Permissions {
    Permissions::from_spec(&serde_json::from_value(json).unwrap()).unwrap()
}

#[test]
fn routes_are_granted_by_pattern_and_operator_changes_need_admin() {
    let p = perms(serde_json::json!({"call": ["dice.*", "hubwire.**"]}));
    assert!(p.check_call("dice.roll", b"").is_ok());
    assert_eq!(
        p.check_call("coin.flip", b""),
        Err(Denied::Call("coin.flip".into()))
    );
    assert_eq!(
        p.check_call("dice.roll.many", b""),
        Err(Denied::Call("dice.roll.many".into()))
    );
    assert!(p.check_call("hubwire.stats", b"").is_ok());
    assert!(p.check_call("hubwire.queue.list", b"").is_ok());
    assert_eq!(
        p.check_call("hubwire.queue.clear", b""),
        Err(Denied::Admin("hubwire.queue.clear".into()))
    );
    // Reading the log level is not a change; setting it is.
    let read = rmp_serde::to_vec_named(&serde_json::json!({"level": null})).unwrap();
    let set = rmp_serde::to_vec_named(&serde_json::json!({"level": "debug"})).unwrap();
    assert!(p.check_call("hubwire.log.level", &read).is_ok());
    assert!(p.check_call("hubwire.log.level", b"").is_ok());
    assert!(p.check_call("hubwire.log.level", &set).is_err());
    let admin = perms(serde_json::json!({"call": ["**"], "admin": true}));
    assert!(admin.check_call("hubwire.log.level", &set).is_ok());
    assert!(Permissions::default()
        .check_call("hubwire.health", b"")
        .is_err());
}

#[test]
fn channels_are_granted_by_pattern_and_inboxes_need_no_grant() {
    let p = perms(serde_json::json!({"publish": ["sensors/*/temp"], "subscribe": ["sensors/**"]}));
    let ch = |c: &str| Channel::parse(c).unwrap();
    let pat = |c: &str| Pattern::parse(c).unwrap();
    assert!(p.check_publish(&ch("sensors/kitchen/temp"), false).is_ok());
    assert_eq!(
        p.check_publish(&ch("sensors/kitchen/door"), false),
        Err(Denied::Publish("sensors/kitchen/door".into()))
    );
    assert!(p.check_subscribe(&pat("sensors/*/temp")).is_ok());
    assert!(p.check_subscribe(&pat("sensors/**")).is_ok());
    assert_eq!(
        p.check_subscribe(&pat("**")),
        Err(Denied::Subscribe("**".into()))
    );
    assert!(p.check_subscribe(&pat("alarms/*")).is_err());
    let token = "5f3a".repeat(8);
    assert!(p
        .check_subscribe(&pat(&format!("_inbox/{token}/*")))
        .is_ok());
    assert!(
        p.check_subscribe(&pat("_inbox/*/*")).is_err(),
        "not someone else's inbox"
    );
    assert!(p.check_subscribe(&pat("_inbox/**")).is_err());
    let reply = ch(&format!("_inbox/{token}/7"));
    assert!(p.check_publish(&reply, true).is_ok(), "an answer to a call");
    assert!(
        p.check_publish(&reply, false).is_err(),
        "not a plain publish"
    );
}

#[test]
fn failures_earn_a_growing_bounded_delay() {
    let limits = ThrottleLimits {
        base: Duration::from_millis(100),
        max: Duration::from_millis(350),
        addresses: 2,
        forget_after: Duration::from_secs(60),
    };
    let mut t = FailureThrottle::new(limits);
    let now = Instant::now();
    let a: IpAddr = "192.0.2.1".parse().unwrap();
    assert_eq!(t.wait(a, now), Duration::ZERO);
    assert_eq!(t.failed(a, now), Duration::from_millis(100));
    assert_eq!(t.wait(a, now), Duration::from_millis(100));
    assert_eq!(
        t.wait(a, now + Duration::from_millis(40)),
        Duration::from_millis(60)
    );
    assert_eq!(t.failed(a, now), Duration::from_millis(200));
    assert_eq!(t.failed(a, now), Duration::from_millis(350), "capped");
    assert_eq!(t.failed(a, now), Duration::from_millis(350));
    assert_eq!(t.failures(a, now), 4);
    // Forgotten after a quiet minute, and on success.
    assert_eq!(t.failures(a, now + Duration::from_secs(61)), 0);
    t.failed(a, now);
    t.succeeded(a);
    assert_eq!(t.wait(a, now), Duration::ZERO);
    // Bounded: a third address pushes out the least recent.
    for last in 1..=3u8 {
        t.failed(IpAddr::from([198, 51, 100, last]), now);
    }
    assert_eq!(t.len(), 2);
    assert_eq!(t.failures(IpAddr::from([198, 51, 100, 1]), now), 0);
    assert_eq!(t.failures(IpAddr::from([198, 51, 100, 3]), now), 1);
}

#[test]
fn credentials_never_print_secrets() {
    let shown = format!("{:?}", Credentials::password("alice", "hunter2"));
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("alice"));
}

#[test]
fn credentials_come_out_of_a_urls_user_info() {
    let (url, c) = split_userinfo("tcp://alice:p%40ss%3Aw@hub.internal:7400");
    assert_eq!(url, "tcp://hub.internal:7400");
    assert_eq!(c, Some(Credentials::password("alice", "p@ss:w")));
    let (url, c) = split_userinfo("tls://t0ken@[::1]:7443");
    assert_eq!(url, "tls://[::1]:7443");
    assert_eq!(c, Some(Credentials::token("t0ken")));
    let (url, c) = split_userinfo("unix:///run/a@b.sock");
    assert_eq!((url.as_str(), c), ("unix:///run/a@b.sock", None));
    assert_eq!(split_userinfo("tcp://127.0.0.1:1").1, None);
}
