//! Guards the `hubwire health` and `hubwire stats` commands: they call the standard endpoints
//! of a running application and print JSON.

#[path = "../../tests/support/mod.rs"]
mod support;

use std::process::Command;

use support::process::{AppProcess, TempDir};

fn dice(dir: &TempDir) -> AppProcess {
    let lock = dir.0.display().to_string();
    let args = ["--lock-dir", lock.as_str(), "--listen", "tcp://127.0.0.1:0"];
    AppProcess::start("dice_server", &args, &[], 1)
}

/// `hubwire health` and `hubwire stats` call the endpoints from the shell.
#[test]
fn the_health_and_stats_commands_print_json() {
    let dir = TempDir::new("endpoints");
    let app = dice(&dir);
    let address = app.address("tcp").to_string();
    for (command, needle) in [("health", "\"status\":\"ok\""), ("stats", "\"counters\"")] {
        let out = Command::new(env!("CARGO_BIN_EXE_hubwire"))
            .args([command, &address])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(needle), "{text}");
        serde_json::from_str::<serde_json::Value>(text.trim()).expect("JSON");
    }
}
