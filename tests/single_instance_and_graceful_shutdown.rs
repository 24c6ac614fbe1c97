//! Guards the application lifecycle with real processes and real signals: one running instance
//! per (app, instance), a stale lock taken over, stale socket files removed, and graceful
//! shutdown on SIGTERM and SIGINT (requests in flight finish, peers get DISCONN, what is still in
//! flight at the deadline gets shutting-down, exit 0, lock released).

mod support;

use std::time::Duration;

use hubwire::prelude::*;
use hubwire::protocol::kind;
use support::process::{run_to_exit, AppProcess, TempDir};
use support::*;

route!(SlowSleep = "slow.sleep", SleepFor => Slept);

#[derive(Debug, Serialize, Deserialize)]
struct SleepFor {
    ms: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Slept {
    slept_ms: u64,
}

fn slow(dir: &TempDir, extra: &[&str]) -> AppProcess {
    let lock = dir.0.display().to_string();
    let mut args = vec!["--lock-dir", lock.as_str(), "--listen", "tcp://127.0.0.1:0"];
    args.extend_from_slice(extra);
    let listeners = args.iter().filter(|a| **a == "--listen").count();
    AppProcess::start("graceful_shutdown", &args, &[], listeners)
}

/// A second start of the same instance fails at once naming the running PID; another instance
/// starts; after the first stops, the instance starts again.
#[test]
fn a_second_start_of_one_instance_fails_naming_the_pid() {
    let dir = TempDir::new("lock");
    let mut first = slow(&dir, &[]);
    let lock = dir.0.display().to_string();
    let (code, _, stderr) = run_to_exit(
        "graceful_shutdown",
        &["--lock-dir", &lock, "--listen", "tcp://127.0.0.1:0"],
        &[],
    );
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains(&first.child.id().to_string()), "{stderr}");
    assert!(stderr.contains("already running"), "{stderr}");

    let other = slow(&dir, &["--instance", "two"]);
    drop(other);

    first.signal(libc::SIGTERM);
    assert!(first.wait().success());
    assert!(
        !dir.path("slow-main.lock").exists(),
        "the lock file was removed"
    );
    let again = slow(&dir, &[]);
    drop(again);
}

/// A lock left by a killed process is taken over, and its stale socket file is removed.
#[test]
fn a_stale_lock_and_socket_file_are_taken_over() {
    let dir = TempDir::new("lock");
    let socket = dir.path("slow.sock");
    let unix = format!("unix://{}", socket.display());
    let mut first = slow(&dir, &["--listen", &unix]);
    first.signal(libc::SIGKILL);
    let _ = first.wait();
    assert!(socket.exists(), "a killed process leaves its socket file");
    assert!(dir.path("slow-main.lock").exists(), "and its lock file");
    let second = slow(&dir, &["--listen", &unix]);
    assert!(second.addresses.iter().any(|a| a.scheme() == "unix"));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "socket files are the owner's only by default");
}

/// SIGTERM: a request in flight still gets its answer, an idle peer gets DISCONN, new
/// connections are not accepted, and the process exits 0.
#[tokio::test]
async fn sigterm_lets_requests_in_flight_finish() {
    let dir = TempDir::new("shutdown");
    let mut app = slow(&dir, &[]);
    let address = app.address("tcp");
    let client = Client::new(address.clone());
    let in_flight = {
        let client = client.clone();
        tokio::spawn(async move { client.call::<SlowSleep>(&SleepFor { ms: 700 }).await })
    };
    let mut idle = Raw::handshake(&address).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    app.signal(libc::SIGTERM);

    assert_eq!(idle.recv().await.expect("DISCONN").kind, kind::DISCONN);
    let reply = recv_or_fail("the slow reply", in_flight).await.unwrap();
    assert_eq!(
        reply.unwrap().slept_ms,
        700,
        "the request in flight finished"
    );
    assert!(app.wait().success(), "exit 0");
    assert!(
        tokio::net::TcpStream::connect(address.socket_addr().unwrap())
            .await
            .is_err()
    );
}

/// Past the shutdown deadline, what is still in flight is answered shutting-down; SIGINT works
/// like SIGTERM.
#[tokio::test]
async fn requests_past_the_shutdown_deadline_get_shutting_down() {
    let dir = TempDir::new("shutdown");
    let mut app = slow(&dir, &["--set", "shutdown_timeout_ms=300"]);
    let client = Client::new(app.address("tcp"));
    let in_flight = {
        let client = client.clone();
        tokio::spawn(async move { client.call::<SlowSleep>(&SleepFor { ms: 8_000 }).await })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    app.signal(libc::SIGINT);
    let err = recv_or_fail("the answer", in_flight)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.code(), Some(ErrorCode::ShuttingDown), "{err}");
    assert!(app.wait().success());
}
