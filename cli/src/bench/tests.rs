//! `hubwire bench` request, floor and compare: flags, request bodies, the comparison table
//! and short in-process runs.

use super::*;
use crate::{Cli, Command};
use clap::Parser;
use hubwire_core::decode_body;

#[test]
fn the_echo_body_carries_size_chars_and_other_routes_a_bin_of_size_bytes() {
    for size in [0, 1, 31, 32, 128, 255, 256, 70_000] {
        let body = request_body("echo", size);
        let back: EchoMessage = decode_body(&body).unwrap();
        assert_eq!(back.message.len(), size);
        assert!(back.message.is_ascii());
        let bin = request_body("blob.put", size);
        let header = match size {
            0..=255 => 2,
            256..=65_535 => 3,
            _ => 5,
        };
        assert_eq!(bin.len(), size + header, "size {size}");
        let back: serde_bytes_like::Blob = rmp_serde::from_slice(&bin).unwrap();
        assert_eq!(back.0.len(), size);
    }
    // 1 fixmap + 8 "message" + 2 str8 header + 128 chars.
    assert_eq!(request_body("echo", 128).len(), 139);
}

/// Reads a MessagePack bin without the serde_bytes crate.
mod serde_bytes_like {
    pub struct Blob(pub Vec<u8>);
    impl<'de> serde::Deserialize<'de> for Blob {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl serde::de::Visitor<'_> for V {
                type Value = Blob;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("bytes")
                }
                fn visit_bytes<E>(self, v: &[u8]) -> Result<Blob, E> {
                    Ok(Blob(v.to_vec()))
                }
            }
            d.deserialize_bytes(V)
        }
    }
}

#[test]
fn io_spin_us_is_taken_before_or_after_the_mode() {
    for args in [
        &["hubwire", "bench", "--io-spin-us", "0", "rpc"][..],
        &["hubwire", "bench", "rpc", "--io-spin-us", "0"][..],
    ] {
        let cli = Cli::try_parse_from(args).unwrap();
        let Command::Bench(bench) = cli.command else {
            panic!("not bench");
        };
        assert_eq!(bench.io_spin_us, Some(0), "{args:?}");
    }
    let cli = Cli::try_parse_from(["hubwire", "bench", "rpc"]).unwrap();
    let Command::Bench(bench) = cli.command else {
        panic!("not bench");
    };
    assert_eq!(bench.io_spin_us, None, "the configuration's default");
    assert!(Cli::try_parse_from(["hubwire", "bench", "rpc", "--io-spin-us", "-1"]).is_err());
}

#[test]
fn flags_parse_and_bad_ones_are_refused() {
    let cli = Cli::try_parse_from([
        "hubwire",
        "bench",
        "compare",
        "--transport",
        "unix",
        "--depth",
        "64",
    ])
    .unwrap();
    let Command::Bench(BenchArgs {
        mode: BenchMode::Compare(load),
        ..
    }) = cli.command
    else {
        panic!("not bench compare");
    };
    let plan = load.plan().unwrap();
    assert_eq!(plan.transport, Transport::Unix);
    assert_eq!((plan.clients, plan.depth, plan.size), (1, 64, 128));
    assert_eq!(plan.duration, Duration::from_secs(5));
    assert_eq!(plan.warmup, Duration::from_secs(1));

    let bad = |edit: fn(&mut LoadArgs)| {
        let mut load = load.clone();
        edit(&mut load);
        load.plan().is_err()
    };
    assert!(bad(|l| l.clients = 0));
    assert!(bad(|l| l.depth = 0));
    assert!(bad(|l| l.duration = 0.0));
    assert!(bad(|l| l.warmup = -1.0));
    assert!(bad(|l| l.duration = f64::NAN));
    assert!(bad(|l| l.size = DEFAULT_MAX_FRAME));
    assert!(!bad(|l| l.warmup = 0.0));
}

#[test]
fn the_table_gives_hubwire_over_floor() {
    let report = |completed: u64, p50: u64| Report {
        completed,
        window: Duration::from_secs(1),
        p50_ns: Some(p50),
        p99_ns: Some(p50 * 2),
        max_ns: Some(p50 * 10),
        mean_ns: Some(p50),
        errors: Default::default(),
    };
    let table = compare_table(&report(40_000, 20_000), &report(10_000, 50_000));
    let row = |name: &str| {
        table
            .lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap()
            .to_owned()
    };
    assert!(row("requests/s").contains("0.25"), "{table}");
    assert!(row("latency p50").contains("2.50"), "{table}");
    assert!(row("latency p50").contains("20.0 µs"), "{table}");
}

/// Both loads, very briefly, over both transports: they run, count, and clean up.
#[tokio::test]
async fn short_runs_of_floor_and_hubwire_complete_requests() {
    for transport in [Transport::Tcp, Transport::Unix] {
        let load = LoadArgs {
            transport,
            size: 16,
            clients: 2,
            depth: 4,
            duration: 0.2,
            warmup: 0.0,
        };
        let floor = bench_floor(&load).await.unwrap();
        assert!(floor.completed > 0, "{transport:?}: {floor:?}");
        assert_eq!(floor.error_total(), 0, "{transport:?}: {floor:?}");
        let request = RequestArgs {
            load,
            address: None,
            route: "echo".into(),
            timeout: 5.0,
            tls: crate::TlsArgs::default(),
            wire: Default::default(),
        };
        let hub = bench_request(&request).await.unwrap();
        assert!(hub.completed > 0, "{transport:?}: {hub:?}");
        assert_eq!(hub.error_total(), 0, "{transport:?}: {hub:?}");
    }
}
