//! Guards what every application serves and records: `hubwire.health`, `hubwire.stats` (uptime,
//! connections per transport, per-route calls, errors by code, latency percentiles, refusals,
//! denied peers), `hubwire.log.level` (admin peers only for changes), and logs written as JSON lines to a file with request spans.

mod support;

use hubwire::prelude::*;
use hubwire::protocol::{Envelope, Headers, Request, Response};
use hubwire::standard::{Health, LogLevel, LogLevelRequest, Stats};
use support::process::{AppProcess, TempDir};
use support::*;

#[derive(Serialize, Deserialize)]
struct Roll {
    sides: u32,
}
#[derive(Debug, Serialize, Deserialize)]
struct Rolled {
    result: u32,
}
route!(DiceRoll = "dice.roll", Roll => Rolled);

fn dice(dir: &TempDir, extra: &[&str]) -> AppProcess {
    let lock = dir.0.display().to_string();
    let mut args = vec!["--lock-dir", lock.as_str(), "--listen", "tcp://127.0.0.1:0"];
    args.extend_from_slice(extra);
    AppProcess::start("dice_server", &args, &[], 1)
}

/// Health answers with the app, instance and uptime; stats reports every figure it promises.
#[tokio::test]
async fn health_and_stats_report_the_service() {
    let dir = TempDir::new("endpoints");
    let app = dice(
        &dir,
        &[
            "--instance",
            "s1",
            "--allow",
            "127.0.0.1",
            "--set",
            "max_connections_per_peer=8",
        ],
    );
    let client = Client::new(app.address("tcp"));
    let health = client.call::<Health>(&()).await.unwrap();
    assert_eq!(
        (
            health.status.as_str(),
            health.app.as_str(),
            health.instance.as_str()
        ),
        ("ok", "dice", "s1")
    );

    client.call::<DiceRoll>(&Roll { sides: 6 }).await.unwrap();
    let err = client
        .call::<DiceRoll>(&Roll { sides: 0 })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InvalidBody));
    let mut stranger = Raw::connect_from(&app.address("tcp"), "127.0.0.2").await;
    stranger.expect_closed().await;

    let stats = client.call::<Stats>(&()).await.unwrap();
    let s = &stats.stats;
    let route = [("route", "dice.roll")];
    assert!(stats.uptime_ms > 0);
    assert_eq!(s.counter("requests.succeeded", &route), Some(1));
    assert_eq!(s.counter("requests.failed", &route), Some(1));
    assert_eq!(
        s.counter("requests.errors", &[("code", "invalid-body")]),
        Some(1)
    );
    let latency = s.histogram("requests.latency", &route).expect("latency");
    assert_eq!(latency.count, 2);
    assert!(latency.p50_micros <= latency.p99_micros && latency.p99_micros <= latency.max_micros);
    assert!(
        s.gauge("connections.open", &[("transport", "tcp")])
            .unwrap()
            >= 1
    );
    assert_eq!(s.counter("peers.denied", &[("transport", "tcp")]), Some(1));
    assert_eq!(
        s.counter("connections.refused", &[("transport", "tcp")]),
        Some(0)
    );
}

/// The log level can be read by anyone and changed by admin peers only.
#[tokio::test]
async fn only_admin_peers_change_the_log_level() {
    let dir = TempDir::new("endpoints");
    let app = dice(&dir, &["--allow", "loopback", "--admin-allow", "127.0.0.1"]);
    let admin = Client::new(app.address("tcp"));
    let now = admin
        .call::<LogLevel>(&LogLevelRequest::default())
        .await
        .unwrap();
    assert_eq!(now.level, "info");
    let set = LogLevelRequest {
        level: Some("debug".into()),
    };
    assert_eq!(admin.call::<LogLevel>(&set).await.unwrap().level, "debug");

    // 127.0.0.2 may connect (loopback) but is no admin.
    let mut other = Raw::connect_from(&app.address("tcp"), "127.0.0.2").await;
    other.hello().await.expect("CONN");
    let body = hubwire_core::encode_body(&LogLevelRequest {
        level: Some("trace".into()),
    })
    .unwrap();
    other
        .send_envelope(&Request {
            id: 1,
            route: "hubwire.log.level".into(),
            headers: Headers::new(),
            body,
        })
        .await;
    let err = other.expect_error().await;
    assert_eq!(err.code, ErrorCode::Denied);
    assert!(err.message.contains("admin"), "{}", err.message);
    // Reading is fine for anyone.
    let body = hubwire_core::encode_body(&LogLevelRequest::default()).unwrap();
    other
        .send_envelope(&Request {
            id: 2,
            route: "hubwire.log.level".into(),
            headers: Headers::new(),
            body,
        })
        .await;
    let reply = Response::from_frame(&other.recv().await.unwrap()).unwrap();
    let level: hubwire::standard::LogLevelReply = hubwire_core::decode_body(&reply.body).unwrap();
    assert_eq!(level.level, "debug", "unchanged by the refused request");

    let bad = LogLevelRequest {
        level: Some("loud=[".into()),
    };
    let err = admin.call::<LogLevel>(&bad).await.unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::InvalidBody), "{err}");
}

/// A dice server logging JSON lines to `dice.log` in `dir`, with `extra` flags.
fn dice_logging_json(dir: &TempDir, extra: &[&str]) -> AppProcess {
    let log = dir.path("dice.log").display().to_string();
    let mut args = vec!["--log-file", log.as_str(), "--log-format", "json"];
    args.extend_from_slice(extra);
    dice(dir, &args)
}

/// The one daily file `dice.log.*` in `dir`, as text and as JSON lines.
fn log_lines(dir: &TempDir) -> (String, Vec<serde_json::Value>) {
    let written: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("dice.log"))
        .collect();
    assert_eq!(written.len(), 1, "one daily file");
    let text = std::fs::read_to_string(written[0].path()).unwrap();
    let lines = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    (text, lines)
}

/// With a log file and JSON format, the file holds JSON lines, and request events carry their
/// span's route and id.
#[tokio::test]
async fn logs_go_to_a_file_as_json_lines_with_request_spans() {
    let dir = TempDir::new("logging");
    let mut app = dice_logging_json(&dir, &["--log-level", "debug"]);
    let client = Client::new(app.address("tcp"));
    let _ = client.call::<DiceRoll>(&Roll { sides: 0 }).await;
    app.signal(libc::SIGTERM);
    assert!(app.wait().success());
    let (text, lines) = log_lines(&dir);
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "shutting down"),
        "{text}"
    );
    let in_span = lines
        .iter()
        .find(|l| l["span"]["route"] == "dice.roll")
        .unwrap_or_else(|| panic!("no event in a request span: {text}"));
    assert!(in_span["span"]["id"].is_number(), "{in_span}");
}

/// At the default level (info), events inside a request carry its span: here the warning about a
/// non-admin peer trying to change the log level names the route and the request id.
#[tokio::test]
async fn request_spans_are_on_at_the_default_level() {
    let dir = TempDir::new("logging");
    let mut app = dice_logging_json(&dir, &["--admin-allow", "127.0.0.1"]);
    let mut other = Raw::connect_from(&app.address("tcp"), "127.0.0.2").await;
    other.hello().await.expect("CONN");
    let body = hubwire_core::encode_body(&LogLevelRequest {
        level: Some("trace".into()),
    })
    .unwrap();
    other
        .send_envelope(&Request {
            id: 42,
            route: "hubwire.log.level".into(),
            headers: Headers::new(),
            body,
        })
        .await;
    assert_eq!(other.expect_error().await.code, ErrorCode::Denied);
    app.signal(libc::SIGTERM);
    assert!(app.wait().success());
    let (text, lines) = log_lines(&dir);
    let warned = lines
        .into_iter()
        .find(|l| l["level"] == "WARN" && l["span"]["route"] == "hubwire.log.level")
        .unwrap_or_else(|| panic!("no warning in a request span: {text}"));
    assert_eq!(warned["span"]["id"], 42);
}
