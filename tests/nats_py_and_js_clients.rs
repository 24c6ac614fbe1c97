//! Guards the hub's `nats://` listener with the official Python (`nats-py`) and JavaScript
//! (npm `nats`) clients, unchanged: `tests/nats_py/check_hub.py` and
//! `tests/nats_js/check_hub.mjs` run against a hub on a free loopback port, next to a hubwire
//! spoke that provides `svc/double` and `svc/fail` (so requests cross to hubwire); and
//! `check_auth.py` and `check_auth.mjs` against a hub with users (passwords, tokens, refusals
//! and permission violations). The clients are installed by `.ci/setup`; a missing tool or
//! package fails with what to run, never skips.

/// Hubs with a `nats://` listener and NATS clients of them (a module of its own, not in
/// `support`: only the tests that speak NATS build it).
#[path = "support/nats.rs"]
mod nats_support;
mod support;

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use bytes::Bytes;
use hubwire::protocol::ErrorCode;
use hubwire::pubsub::Pattern;
use hubwire::spoke::Spoke;
use nats_support::*;
use std::io::Read;
use std::process::{Child, Command};
use support::hub::ready_spoke;
use support::*;

/// How long one client's whole script may take.
const SCRIPT_TIME: Duration = Duration::from_secs(120);

/// A spoke on `hub` that answers `svc/double` with the number doubled and `svc/fail` with an
/// invalid-body error.
async fn providers(hub: &TestServer) -> Spoke {
    let spoke = ready_spoke(hub.tcp(), "providers").await;
    spoke
        .provide(
            Pattern::parse("svc/double").unwrap(),
            |request| async move {
                let n: i64 = std::str::from_utf8(&request.body)
                    .ok()
                    .and_then(|s| s.trim().parse().ok())
                    .ok_or((ErrorCode::InvalidBody, "not a number".to_owned()))?;
                Ok(Bytes::from((n * 2).to_string()))
            },
        )
        .await
        .unwrap();
    spoke
        .provide(Pattern::parse("svc/fail").unwrap(), |_| async move {
            Err((ErrorCode::InvalidBody, "always fails".to_owned()))
        })
        .await
        .unwrap();
    spoke
}

/// Kills the child when the test ends, however it ends.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs `program args` (killed if the test ends first) and fails the test with its output
/// unless it exits 0 within [`SCRIPT_TIME`] with every check `ok`.
async fn run_script(program: &str, args: &[&str], missing: &str) {
    run_script_with_checks(program, args, missing, 5).await;
}

/// [`run_script`] for a script with at least `checks` checks.
async fn run_script_with_checks(program: &str, args: &[&str], missing: &str, checks: usize) {
    let child = Command::new(program)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}. {missing}"));
    let mut child = KillOnDrop(child);
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < SCRIPT_TIME,
            "{program} {args:?} did not finish in {SCRIPT_TIME:?}"
        );
        // The hub runs on its own thread; this one only waits for the script.
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let (mut stdout, mut stderr) = (String::new(), String::new());
    child
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        status.success(),
        "{program} {args:?} failed ({status}):\n{stdout}\n{stderr}\n{missing}"
    );
    assert!(!stdout.contains("FAILED"), "{stdout}");
    assert!(
        stdout.lines().filter(|l| l.starts_with("ok ")).count() >= checks,
        "{stdout}"
    );
}

/// Fails the test, saying what to run, unless python3 imports nats-py.
fn require_nats_py() {
    let installed = std::process::Command::new("python3")
        .args(["-c", "import nats"])
        .status();
    assert!(
        installed.is_ok_and(|s| s.success()),
        "python3 with nats-py is needed: run `bash .ci/setup` (pip install -r tests/nats_py/requirements.txt)"
    );
}

/// Fails the test, saying what to run, unless the npm package `nats` is installed.
fn require_nats_js() {
    let modules = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/nats_js/node_modules/nats");
    assert!(
        modules.is_dir(),
        "the npm package `nats` is needed in tests/nats_js: run `bash .ci/setup` (npm ci there)"
    );
}

#[actix::test]
async fn nats_py_pub_sub_queue_groups_requests_headers_drain_and_echo() {
    require_nats_py();
    let hub = nats_hub();
    let _providers = providers(&hub).await;
    run_script(
        "python3",
        &["tests/nats_py/check_hub.py", &hub.nats_url()],
        "Install the client with `bash .ci/setup`.",
    )
    .await;
}

#[actix::test]
async fn nats_js_pub_sub_queue_groups_requests_headers_drain_and_echo() {
    require_nats_js();
    let hub = nats_hub();
    let _providers = providers(&hub).await;
    run_script(
        "node",
        &["tests/nats_js/check_hub.mjs", &hub.nats_url()],
        "Node.js and `bash .ci/setup` are needed.",
    )
    .await;
}

/// A hub whose `nats://` listener has the users of `check_auth.py` and `check_auth.mjs`:
/// `writer` (password `quill`) may publish and subscribe under `news`; `reader` (token
/// `reader-token-0123456789`) may only subscribe under `news`.
fn hub_with_users() -> TestServer {
    let mut config = nats_hub_config(0, 0);
    config.users = std::collections::BTreeMap::from([
        (
            "writer".to_owned(),
            serde_json::from_value(serde_json::json!({
                "password_hash": hubwire::auth::hash_password_with("quill", 8, 1),
                "permissions": {"publish": ["news/**"], "subscribe": ["news/**"]}
            }))
            .unwrap(),
        ),
        (
            "reader".to_owned(),
            serde_json::from_value(serde_json::json!({
                "token_sha256": hubwire::auth::token_sha256("reader-token-0123456789"),
                "permissions": {"subscribe": ["news/**"]}
            }))
            .unwrap(),
        ),
    ]);
    config.auth_failure_delay = Duration::from_millis(1);
    start_nats_hub(config)
}

#[actix::test]
async fn nats_py_with_users_passwords_tokens_and_permission_violations() {
    require_nats_py();
    let hub = hub_with_users();
    run_script_with_checks(
        "python3",
        &["tests/nats_py/check_auth.py", &hub.nats_url()],
        "Install the client with `bash .ci/setup`.",
        3,
    )
    .await;
}

#[actix::test]
async fn nats_js_with_users_passwords_tokens_and_permission_violations() {
    require_nats_js();
    let hub = hub_with_users();
    run_script_with_checks(
        "node",
        &["tests/nats_js/check_auth.mjs", &hub.nats_url()],
        "Node.js and `bash .ci/setup` are needed.",
        3,
    )
    .await;
}
