//! Guards startup: every configuration mistake gives one clear line naming what is wrong and
//! where it came from, and the process exits non-zero with nothing left listening.

mod support;

use support::process::{run_to_exit, TempDir};

const CONFIG_ERROR: i32 = 2;
const START_ERROR: i32 = 1;

/// A free loopback port (bound and released), to check nothing is left listening on it.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn port_is_free(port: u16) -> bool {
    std::net::TcpListener::bind(("127.0.0.1", port)).is_ok()
}

fn dice(args: &[&str], dir: &TempDir) -> (i32, String) {
    let lock = dir.0.display().to_string();
    let mut all = vec!["--lock-dir", &lock];
    all.extend_from_slice(args);
    let (code, _, stderr) = run_to_exit("dice_server", &all, &[]);
    (code, stderr)
}

fn assert_one_line(stderr: &str, must_contain: &[&str]) {
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line expected: {stderr}");
    for needle in must_contain {
        assert!(
            lines[0].contains(needle),
            "{needle:?} missing from: {}",
            lines[0]
        );
    }
}

/// An unknown key in the config file names the key and the file; nothing binds.
#[test]
fn an_unknown_key_in_the_file_is_refused() {
    let dir = TempDir::new("startup");
    let port = free_port();
    let file = dir.path("dice.json");
    std::fs::write(
        &file,
        format!(r#"{{"listen": ["tcp://127.0.0.1:{port}"], "max_frames": 5}}"#),
    )
    .unwrap();
    let (code, stderr) = dice(&["--config", file.to_str().unwrap()], &dir);
    assert_eq!(code, CONFIG_ERROR);
    assert_one_line(&stderr, &["max_frames", "dice.json"]);
    assert!(port_is_free(port));
}

/// A value of the wrong type names the key, the value and the environment variable.
#[test]
fn a_wrong_type_names_key_value_and_source() {
    let dir = TempDir::new("startup");
    let lock = dir.0.display().to_string();
    let (code, _, stderr) = run_to_exit(
        "dice_server",
        &["--lock-dir", &lock],
        &[("HUBWIRE_MAX_FRAME_DICE", "lots")],
    );
    assert_eq!(code, CONFIG_ERROR);
    assert_one_line(&stderr, &["max_frame", "lots", "HUBWIRE_MAX_FRAME_DICE"]);
}

/// A port out of range and a malformed address URL are refused with what to write instead.
#[test]
fn bad_addresses_are_refused() {
    let dir = TempDir::new("startup");
    let (code, stderr) = dice(&["--listen", "tcp://127.0.0.1:99999"], &dir);
    assert_eq!(code, CONFIG_ERROR);
    assert_one_line(&stderr, &["listen", "99999", "--listen", "port"]);
    let (code, stderr) = dice(&["--listen", "127.0.0.1:7400"], &dir);
    assert_eq!(code, CONFIG_ERROR);
    assert_one_line(&stderr, &["listen", "scheme"]);
}

/// A config file that cannot be read, or is not JSON, is refused naming it.
#[test]
fn an_unreadable_config_file_is_refused() {
    let dir = TempDir::new("startup");
    let missing = dir.path("missing.json");
    let (code, stderr) = dice(&["--config", missing.to_str().unwrap()], &dir);
    assert_eq!(code, CONFIG_ERROR);
    assert_one_line(&stderr, &["cannot read config file", "missing.json"]);
    let broken = dir.path("broken.json");
    std::fs::write(&broken, "{ nope").unwrap();
    let (code, stderr) = dice(&["--config", broken.to_str().unwrap()], &dir);
    assert_eq!(code, CONFIG_ERROR);
    assert_one_line(&stderr, &["broken.json", "not valid JSON"]);
}

/// Two listeners on one address: the second bind fails, and the first is not left listening.
#[test]
fn conflicting_listeners_leave_nothing_half_started() {
    let dir = TempDir::new("startup");
    let port = free_port();
    let address = format!("tcp://127.0.0.1:{port}");
    let (code, stderr) = dice(&["--listen", &address, "--listen", &address], &dir);
    assert_eq!(code, START_ERROR);
    assert_one_line(&stderr, &["cannot listen on", &address]);
    assert!(port_is_free(port));
}

/// A lock directory whose parent does not exist is refused, naming it and the setting.
#[test]
fn an_unusable_lock_directory_is_refused() {
    let dir = TempDir::new("startup");
    let nowhere = dir.path("no/such/dir");
    let (code, _, stderr) = run_to_exit(
        "dice_server",
        &[
            "--lock-dir",
            nowhere.to_str().unwrap(),
            "--listen",
            "tcp://127.0.0.1:0",
        ],
        &[],
    );
    assert_eq!(code, CONFIG_ERROR);
    assert_one_line(&stderr, &["no/such/dir", "lock_dir"]);
    let readonly = dir.path("readonly");
    std::fs::create_dir(&readonly).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&readonly, std::fs::Permissions::from_mode(0o500)).unwrap();
    let probe = readonly.join("probe");
    // Root ignores directory permissions; only check where they apply.
    if std::fs::write(&probe, "x").is_err() {
        let (code, _, stderr) = run_to_exit(
            "dice_server",
            &[
                "--lock-dir",
                readonly.to_str().unwrap(),
                "--listen",
                "tcp://127.0.0.1:0",
            ],
            &[],
        );
        assert_eq!(code, CONFIG_ERROR);
        assert_one_line(&stderr, &["readonly", "lock_dir"]);
    }
    std::fs::set_permissions(&readonly, std::fs::Permissions::from_mode(0o700)).unwrap();
}

/// Binding a non-loopback address with no explicit allow-list is refused, saying how to allow.
#[test]
fn an_open_address_needs_an_explicit_allow_list() {
    let dir = TempDir::new("startup");
    let (code, stderr) = dice(&["--listen", "tcp://0.0.0.0:0"], &dir);
    assert_eq!(code, START_ERROR);
    assert_one_line(&stderr, &["0.0.0.0", "--allow"]);
}

/// `--print-config` shows every key with its value and where it came from.
#[test]
fn print_config_shows_each_value_and_its_source() {
    let dir = TempDir::new("startup");
    let file = dir.path("dice.json");
    std::fs::write(&file, r#"{"idle_timeout_ms": 1234}"#).unwrap();
    let lock = dir.0.display().to_string();
    let (code, stdout, _) = run_to_exit(
        "dice_server",
        &[
            "--lock-dir",
            &lock,
            "--config",
            file.to_str().unwrap(),
            "--set",
            "max_frame=2048",
            "--print-config",
        ],
        &[("HUBWIRE_IO_THREADS_DICE_MAIN", "1")],
    );
    assert_eq!(code, 0);
    let line = |key: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(&format!("{key} ")))
            .unwrap_or_else(|| panic!("{key} missing: {stdout}"))
            .to_owned()
    };
    assert!(line("max_frame").contains("2048") && line("max_frame").contains("--set max_frame"));
    assert!(
        line("idle_timeout_ms").contains("1234") && line("idle_timeout_ms").contains("dice.json")
    );
    assert!(line("io_threads").contains("HUBWIRE_IO_THREADS_DICE_MAIN"));
    assert!(line("tcp_nodelay").contains("(default)"));
    assert!(line("lock_dir").contains("--lock-dir"));
}

/// A regular file at a `unix://` listen path is not taken for a stale socket: it is left alone
/// and the start fails, naming the path.
#[test]
fn a_file_at_a_socket_path_is_not_deleted() {
    let dir = TempDir::new("startup");
    let path = dir.path("precious.txt");
    std::fs::write(&path, "keep me").unwrap();
    let unix = format!("unix://{}", path.display());
    let (code, stderr) = dice(&["--listen", &unix], &dir);
    assert_eq!(code, START_ERROR);
    assert_one_line(&stderr, &["cannot listen on", "precious.txt"]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me");
}
