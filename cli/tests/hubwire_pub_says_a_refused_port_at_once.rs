//! Guards the first error a newcomer meets from the shell: `hubwire pub` to a port where no hub
//! listens fails at once, well inside its timeout, and says the connection was refused.

use std::process::Command;
use std::time::{Duration, Instant};

use hubwire_cli::EXIT_CANNOT_CONNECT;

#[test]
fn pub_to_a_refused_port_fails_at_once_and_says_refused() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("tcp://{}", listener.local_addr().unwrap());
    drop(listener);

    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_hubwire"))
        .args([
            "pub",
            "rooms/kitchen/temp",
            "21",
            "-s",
            &address,
            "--timeout",
            "30",
        ])
        .output()
        .expect("hubwire runs");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(out.status.code(), Some(EXIT_CANNOT_CONNECT), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(stderr.contains("refused"), "{stderr}");
}
