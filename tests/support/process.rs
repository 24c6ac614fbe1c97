//! Runs an example application as a real process, reads where it listens, signals it.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use hubwire::Address;

use super::PATIENCE;

/// The path of a built example of the `hubwire` package. `cargo test` builds a package's
/// examples before it runs its tests; the `hubwire` command's tests (package `hubwire-cli`)
/// share this module and find them built by `cargo test --workspace`.
pub fn example_path(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let debug_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    let path = debug_dir.join("examples").join(name);
    assert!(
        path.exists(),
        "example {name} is not built at {}: run `cargo test --workspace`, or \
         `cargo build -p hubwire --examples` before `cargo test -p hubwire-cli`",
        path.display()
    );
    path
}

/// A fresh, empty directory under the temporary directory (removed on drop).
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("hubwire-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An application process; killed on drop if still running.
pub struct AppProcess {
    pub child: Child,
    pub addresses: Vec<Address>,
    stderr: mpsc::Receiver<String>,
    /// The process's `data_dir`, unless the test chose one.
    _data: Option<TempDir>,
}

/// Points `command`'s `data_dir` at a fresh temporary directory unless `env` names one, so no
/// test leaves a queue store in the working directory.
fn private_data_dir(command: &mut Command, env: &[(&str, &str)]) -> Option<TempDir> {
    if env.iter().any(|(k, _)| *k == "HUBWIRE_DATA_DIR") {
        return None;
    }
    let dir = TempDir::new("data");
    command.env("HUBWIRE_DATA_DIR", &dir.0);
    Some(dir)
}

fn lines_of(pipe: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl AppProcess {
    /// Starts example `name` with `args` and waits until it has printed `listeners` addresses.
    pub fn start(name: &str, args: &[&str], env: &[(&str, &str)], listeners: usize) -> AppProcess {
        AppProcess::start_program(&example_path(name), args, env, listeners)
    }

    /// Starts the program at `path` (an example, or the `hubwire` command with its
    /// subcommand in `args`) as [`start`](Self::start) does.
    pub fn start_program(
        path: &std::path::Path,
        args: &[&str],
        env: &[(&str, &str)],
        listeners: usize,
    ) -> AppProcess {
        let name = path.display().to_string();
        let mut command = Command::new(path);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let data = private_data_dir(&mut command, env);
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("the example runs");
        let stdout = lines_of(child.stdout.take().unwrap());
        let stderr = lines_of(child.stderr.take().unwrap());
        let mut addresses = Vec::new();
        let deadline = Instant::now() + PATIENCE;
        while addresses.len() < listeners {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = stdout.recv_timeout(left).unwrap_or_else(|_| {
                let _ = child.kill();
                let errors: Vec<String> = stderr.try_iter().collect();
                panic!("{name} did not start: {errors:?}")
            });
            if let Some((_, address)) = line.split_once(" listening on ") {
                addresses.push(address.parse().expect("a printed address"));
            }
        }
        AppProcess {
            child,
            addresses,
            stderr,
            _data: data,
        }
    }

    /// The first address of `scheme`.
    pub fn address(&self, scheme: &str) -> Address {
        self.addresses
            .iter()
            .find(|a| a.scheme() == scheme)
            .cloned()
            .expect("an address of that scheme")
    }

    /// Sends `signal` (libc::SIGTERM, libc::SIGINT).
    pub fn signal(&self, signal: i32) {
        // SAFETY: kill has no memory-safety preconditions.
        unsafe {
            libc::kill(self.child.id() as i32, signal);
        }
    }

    /// Waits for the process to exit.
    pub fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the process did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Everything written to standard error so far.
    pub fn stderr(&self) -> Vec<String> {
        self.stderr.try_iter().collect()
    }
}

impl Drop for AppProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs example `name` to completion (it must fail or exit by itself) and returns its exit code
/// and standard error.
pub fn run_to_exit(name: &str, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut command = Command::new(example_path(name));
    command.args(args).stdin(Stdio::null());
    let _data = private_data_dir(&mut command, env);
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command.output().expect("the example runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}
