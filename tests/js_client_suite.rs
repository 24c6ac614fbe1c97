//! Guards the JavaScript client (`clients/js`): builds it with the TypeScript compiler and runs
//! its `node --test` suites (protocol vectors, calls, pub/sub, connection life, WebSocket, the
//! browser page over ws:// and wss://, the work-queue producer and worker) against the
//! `hubwire` binary and the example servers cargo built.
//! Needs Node and Chromium: `bash .ci/setup` installs them (and the npm packages).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The whole suite's bound: every JS test has its own timeouts well under this.
const SUITE_LIMIT: Duration = Duration::from_secs(15 * 60);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn require_command(program: &str, what: &str) {
    let found = Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        found,
        "{what} is missing: `{program} --version` failed. Run `bash .ci/setup` first"
    );
}

fn chromium() -> PathBuf {
    let path = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.exists(),
        "Chromium is missing at {} (the browser test needs Debian's chromium): run `bash .ci/setup`, \
         or set CHROMIUM to its path",
        path.display()
    );
    path
}

/// Runs `program args` in `dir`, failing the test with its output unless it succeeds in time.
fn run(dir: &Path, program: &str, args: &[&str], env: &[(&str, &Path)], limit: Duration) -> String {
    let mut command = Command::new(program);
    command
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`{program} {}` took over {limit:?}:\n{}\n{}",
                args.join(" "),
                out.join().unwrap(),
                err.join().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (out, err) = (out.join().unwrap(), err.join().unwrap());
    assert!(
        status.success(),
        "`{program} {}` failed ({status}):\n{out}\n{err}",
        args.join(" ")
    );
    out
}

#[test]
fn the_javascript_client_passes_its_node_and_browser_suites() {
    require_command("node", "Node.js");
    let browser = chromium();
    let js = repo().join("clients").join("js");
    assert!(
        js.join("node_modules")
            .join("@msgpack")
            .join("msgpack")
            .exists(),
        "clients/js/node_modules is missing: run `bash .ci/setup` (it runs `npm ci` there)"
    );
    // The examples the suites start, built by `cargo test` for this package; the `hubwire`
    // command beside them (built by `cargo test --workspace`, or `cargo build -p hubwire-cli`).
    let exe = std::env::current_exe().expect("test binary path");
    let debug_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    let examples = debug_dir.join("examples");
    for name in [
        "dice_server",
        "echo_server",
        "graceful_shutdown",
        "work_dispatcher",
    ] {
        assert!(
            examples.join(name).exists(),
            "example {name} is not built in {}: run `cargo test -p hubwire` (or --workspace)",
            examples.display()
        );
    }
    let hubwire = debug_dir.join("hubwire");
    assert!(
        hubwire.exists(),
        "the hubwire command is not built at {}: run `cargo test --workspace`, or \
         `cargo build -p hubwire-cli --bin hubwire` first",
        hubwire.display()
    );

    run(
        &js,
        "node",
        &["scripts/build.mjs"],
        &[],
        Duration::from_secs(300),
    );
    let report = run(
        &js,
        "node",
        &[
            "--test",
            "--test-concurrency=1",
            "--test-reporter=spec",
            "test/",
        ],
        &[
            ("HUBWIRE_BIN", &hubwire),
            ("HUBWIRE_EXAMPLES_DIR", &examples),
            ("CHROMIUM", &browser),
        ],
        SUITE_LIMIT,
    );
    // A suite that ran nothing must not pass for one that ran everything.
    let count = |label: &str| -> usize {
        report
            .lines()
            .find_map(|line| line.trim().strip_prefix(&format!("\u{2139} {label} ")))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no `{label}` count in the report:\n{report}"))
    };
    assert!(count("tests") >= 100, "too few JS tests ran:\n{report}");
    assert_eq!(count("fail"), 0, "{report}");
    println!("{report}");
}
