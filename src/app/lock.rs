//! The single-instance lock: one lock file per (app, instance), holding the owner's PID.
//!
//! The lock is an advisory `flock` on the file, which the kernel drops when the process dies, so
//! a lock left by a dead process is simply taken over; the PID inside is only for the message.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds it.
    #[error("{app} instance {instance} is already running (PID {pid}, lock file {path}); stop it first, or start another instance with --instance")]
    AlreadyRunning {
        /// The application.
        app: String,
        /// The instance.
        instance: String,
        /// The holder's PID, as written in the file.
        pid: String,
        /// The lock file.
        path: PathBuf,
    },
    /// The lock directory is missing or not writable.
    #[error("cannot use lock directory {dir}: {source} (set lock_dir, --lock-dir or HUBWIRE_LOCK_DIR to a writable directory)")]
    Directory {
        /// The directory.
        dir: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
}

/// A held lock; dropping it releases the lock and removes the file.
#[derive(Debug)]
pub struct InstanceLock {
    file: File,
    path: PathBuf,
}

impl InstanceLock {
    /// Takes the lock of `app` instance `instance` in `dir`. The directory is created if its
    /// parent exists.
    pub fn acquire(dir: &Path, app: &str, instance: &str) -> Result<InstanceLock, LockError> {
        let dir_error = |source| LockError::Directory {
            dir: dir.to_owned(),
            source,
        };
        if !dir.is_dir() {
            std::fs::create_dir(dir).map_err(dir_error)?;
        }
        let path = dir.join(format!("{app}-{instance}.lock"));
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(dir_error)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut pid = String::new();
                let _ = file.read_to_string(&mut pid);
                return Err(LockError::AlreadyRunning {
                    app: app.to_owned(),
                    instance: instance.to_owned(),
                    pid: pid.trim().to_owned(),
                    path,
                });
            }
            Err(TryLockError::Error(e)) => return Err(dir_error(e)),
        }
        file.set_len(0).map_err(dir_error)?;
        file.rewind().map_err(dir_error)?;
        writeln!(file, "{}", std::process::id()).map_err(dir_error)?;
        file.sync_all().map_err(dir_error)?;
        Ok(InstanceLock { file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for InstanceLock {
    fn drop(&mut self) {
        // Remove first, then unlock: a newcomer never sees our file unlocked.
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("hubwire-lock-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_second_holder_is_refused_with_the_pid_and_the_lock_is_released_on_drop() {
        let dir = temp_dir("second");
        let first = InstanceLock::acquire(&dir, "dice", "a").unwrap();
        let err = InstanceLock::acquire(&dir, "dice", "a")
            .unwrap_err()
            .to_string();
        assert!(err.contains(&std::process::id().to_string()), "{err}");
        assert!(err.contains("already running"), "{err}");
        // Another instance is independent.
        let other = InstanceLock::acquire(&dir, "dice", "b").unwrap();
        drop(first);
        drop(other);
        InstanceLock::acquire(&dir, "dice", "a").unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_stale_lock_file_is_taken_over() {
        let dir = temp_dir("stale");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("dice-a.lock"), "999999\n").unwrap();
        let lock = InstanceLock::acquire(&dir, "dice", "a").unwrap();
        let pid = std::fs::read_to_string(lock.path()).unwrap();
        assert_eq!(pid.trim(), std::process::id().to_string());
        drop(lock);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_lock_dir_under_a_missing_parent_is_an_error_naming_it() {
        let dir = std::env::temp_dir().join("hubwire-no-such-parent-dir/locks");
        let err = InstanceLock::acquire(&dir, "dice", "a")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("hubwire-no-such-parent-dir") && err.contains("lock_dir"),
            "{err}"
        );
    }
}
