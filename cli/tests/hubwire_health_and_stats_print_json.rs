//! Guards the `hubwire health` and `hubwire stats` commands: they call the standard endpoints
//! of a running application and print JSON (`stats --json`), or for `stats` a table of the
//! figures that are not zero.

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
    let cases = [
        (vec!["health", &address], "\"status\":\"ok\""),
        (vec!["stats", "--json", &address], "\"counters\""),
    ];
    for (args, needle) in cases {
        let out = Command::new(env!("CARGO_BIN_EXE_hubwire"))
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(needle), "{text}");
        serde_json::from_str::<serde_json::Value>(text.trim()).expect("JSON");
    }
}

/// Without `--json`, `hubwire stats` is a table of what is not zero: a served call shows, a
/// route never called does not.
#[test]
fn the_stats_command_prints_a_table_of_figures_that_are_not_zero() {
    let dir = TempDir::new("stats-table");
    let app = dice(&dir);
    let address = app.address("tcp").to_string();
    let hubwire = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_hubwire"))
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    hubwire(&["call", &address, "dice.roll", r#"{"sides": 6}"#]);
    let table = hubwire(&["stats", &address]);
    assert!(table.starts_with("dice (instance main), up "), "{table}");
    let row = table
        .lines()
        .find(|line| line.starts_with("requests.succeeded{route=dice.roll}"))
        .unwrap_or_else(|| panic!("no row for the call:\n{table}"));
    assert_eq!(row.split_whitespace().last(), Some("1"), "{row}");
    assert!(table.contains("\nlatency (µs) "), "{table}");
    assert!(
        !table.contains("dice.guess"),
        "a route never called shows nothing:\n{table}"
    );
}
