//! The layering order, scoping, and the errors each bad input gives.

use std::io::Write;
use std::time::Duration;

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn flag(key: &str, text: &str) -> (String, String, String) {
    (key.into(), text.into(), format!("--{key}"))
}

fn file_with(json: &str) -> tempfile_path::TempFile {
    tempfile_path::TempFile::new(json)
}

/// A tiny self-deleting temporary file (no extra crate for one helper).
mod tempfile_path {
    use std::path::PathBuf;

    pub struct TempFile(pub PathBuf);

    impl TempFile {
        pub fn new(text: &str) -> Self {
            use std::sync::atomic::{AtomicU32, Ordering};
            static N: AtomicU32 = AtomicU32::new(0);
            let path = std::env::temp_dir().join(format!(
                "hubwire-config-test-{}-{}.json",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            let mut f = std::fs::File::create(&path).unwrap();
            super::Write::write_all(&mut f, text.as_bytes()).unwrap();
            TempFile(path)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
}

#[test]
fn defaults_then_file_then_env_then_flags() {
    let file = file_with(r#"{"max_frame": 2000, "idle_timeout_ms": 1000, "log_level": "debug"}"#);
    let layered = load(
        "dice",
        "a",
        Some(&file.0),
        &env(&[
            ("HUBWIRE_IDLE_TIMEOUT_MS", "2000"),
            ("HUBWIRE_LOG_LEVEL", "warn"),
        ]),
        &[flag("log_level", "error")],
    )
    .unwrap();
    let c = &layered.config;
    assert_eq!(c.max_frame, 2000);
    assert_eq!(c.idle_timeout, Duration::from_millis(2000));
    assert_eq!(c.log_level, "error");
    assert_eq!(c.io_threads, 0);
    assert_eq!(layered.sources["max_frame"], Source::File(file.0.clone()));
    assert_eq!(
        layered.sources["idle_timeout_ms"],
        Source::Env("HUBWIRE_IDLE_TIMEOUT_MS".into())
    );
    assert_eq!(
        layered.sources["log_level"],
        Source::Flag("--log_level".into())
    );
    assert_eq!(layered.sources["io_threads"], Source::Default);
    let described = layered.describe();
    assert!(
        described.contains("max_frame") && described.contains("(file "),
        "{described}"
    );
}

#[test]
fn the_most_specific_environment_variable_wins() {
    let vars = env(&[
        ("HUBWIRE_MAX_FRAME", "1000"),
        ("HUBWIRE_MAX_FRAME_DICE", "2000"),
        ("HUBWIRE_MAX_FRAME_DICE_B", "3000"),
    ]);
    let frame = |instance| {
        load("dice", instance, None, &vars, &[])
            .unwrap()
            .config
            .max_frame
    };
    assert_eq!(frame("b"), 3000);
    assert_eq!(frame("a"), 2000);
    let other = load("echo", "a", None, &vars, &[])
        .unwrap()
        .config
        .max_frame;
    assert_eq!(other, 1000);
}

#[test]
fn lists_and_addresses_read_from_text() {
    let layered = load(
        "dice",
        "a",
        None,
        &env(&[("HUBWIRE_LISTEN", "tcp://127.0.0.1:1, udp://127.0.0.1:2")]),
        &[flag("allow", "10.0.0.0/8,uid:7")],
    )
    .unwrap();
    assert_eq!(layered.config.listen.len(), 2);
    let allow = layered.config.allow.unwrap();
    assert!(allow.allows_ip("10.1.2.3".parse().unwrap()));
    assert!(allow.allows_uid(7));
}

#[test]
fn an_unknown_key_in_the_file_is_named_with_a_hint() {
    let file = file_with(r#"{"max_frames": 10}"#);
    let err = load("d", "a", Some(&file.0), &[], &[])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("\"max_frames\"") && err.contains("max_frame\"?"),
        "{err}"
    );
    assert!(err.contains("file"), "{err}");
}

#[test]
fn a_wrong_type_names_key_value_and_source() {
    let file = file_with(r#"{"max_frame": "big"}"#);
    let err = load("d", "a", Some(&file.0), &[], &[])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("max_frame") && err.contains("\"big\"") && err.contains("file"),
        "{err}"
    );
    let err = load(
        "d",
        "a",
        None,
        &env(&[("HUBWIRE_TCP_NODELAY", "maybe")]),
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("tcp_nodelay") && err.contains("HUBWIRE_TCP_NODELAY"),
        "{err}"
    );
}

#[test]
fn a_port_out_of_range_and_a_malformed_address_are_refused() {
    for bad in [
        "tcp://127.0.0.1:70000",
        "127.0.0.1:7400",
        "tcp://no where:1",
    ] {
        let err = load("d", "a", None, &[], &[flag("listen", bad)])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("listen") && err.contains("--listen"),
            "{bad}: {err}"
        );
    }
}

#[test]
fn a_value_out_of_range_names_its_source() {
    let err = load("d", "a", None, &env(&[("HUBWIRE_MAX_FRAME", "10")]), &[])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("max_frame") && err.contains("HUBWIRE_MAX_FRAME") && err.contains("64"),
        "{err}"
    );
}

#[test]
fn an_unreadable_or_malformed_file_is_an_error() {
    let missing = std::env::temp_dir().join("hubwire-no-such-config.json");
    let err = load("d", "a", Some(&missing), &[], &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot read config file"), "{err}");
    let file = file_with("{ not json");
    let err = load("d", "a", Some(&file.0), &[], &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("not valid JSON"), "{err}");
    let file = file_with("[1, 2]");
    let err = load("d", "a", Some(&file.0), &[], &[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("object"), "{err}");
}

#[test]
fn an_optional_path_reads_as_a_string_and_null_unsets_it() {
    let layered = load("d", "a", None, &[], &[flag("log_file", "/var/log/d.log")]).unwrap();
    assert_eq!(
        layered.config.log_file.unwrap().to_str(),
        Some("/var/log/d.log")
    );
    let layered = load("d", "a", None, &env(&[("HUBWIRE_LOG_FILE", "null")]), &[]).unwrap();
    assert_eq!(layered.config.log_file, None);
}

#[test]
fn extra_is_handed_through_as_json() {
    let file = file_with(r#"{"extra": {"greeting": "hi", "n": 3}}"#);
    let layered = load("d", "a", Some(&file.0), &[], &[]).unwrap();
    assert_eq!(layered.config.extra["greeting"], "hi");
}
