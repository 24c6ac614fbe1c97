//! A queued route whose handler writes down the request id with its work: `journal.write`
//! appends `<id> <note>` to a journal file, so a line written twice (a request run again after
//! a crash) shows as the same id twice; a real handler would skip an id it has done. Requests are stored durably and acknowledged `{"id": N}`
//! before the handler runs; a request with `"fail": true` fails every attempt and ends in the
//! error queue. The crash-safety tests drive it (`kill -9` mid-stream, restart, compare the
//! journal with the acknowledged ids).
//!
//! Run: `cargo run --example job_journal`, then
//! `cargo run --bin hubwire -- call tcp://127.0.0.1:7440 journal.write '{"note": "hello"}'`.
//! Settings (in `extra`, e.g. `--set 'extra={"delay_ms": 50}'`):
//! `journal` (the file; default `<data_dir>/journal.log`) and `delay_ms` (work time per request).

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use hubwire::backoff::BackoffPolicy;
use hubwire::prelude::*;

/// A note to write down; `fail` makes every attempt fail.
#[derive(Debug, Serialize, Deserialize)]
pub struct Note {
    pub note: String,
    #[serde(default)]
    pub fail: bool,
}

route!(pub WriteNote = "journal.write", Note => ());

/// Appends one line per request to the journal.
struct Journal {
    path: PathBuf,
    delay: Duration,
}

impl Actor for Journal {
    type Context = Context<Self>;
}

/// One `write` of the whole line with O_APPEND: lines of concurrent workers never mix, and the
/// line is in the file once `write` returns, whatever happens to this process after.
fn append(path: &Path, id: u64, note: &str) -> Result<(), HandlerError> {
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(format!("{id} {note}\n").as_bytes())?;
    Ok(())
}

impl Serve<WriteNote> for Journal {
    fn serve(&mut self, note: Note, _: &mut Context<Self>) -> Reply<()> {
        let id = request_id().unwrap_or_default();
        if note.fail {
            return Reply::err(format!("note {id} asked to fail"));
        }
        if self.delay.is_zero() {
            return append(&self.path, id, &note.note).into();
        }
        let (path, delay) = (self.path.clone(), self.delay);
        Reply::later(async move {
            tokio::time::sleep(delay).await;
            append(&path, id, &note.note)
        })
    }
}

serve!(Journal: WriteNote);

fn main() -> ExitCode {
    App::new("journal")
        .defaults(|config| {
            config.listen = vec!["tcp://127.0.0.1:7440".parse().expect("an address")];
        })
        .queued_with(|config| {
            let path = config
                .extra
                .get("journal")
                .and_then(|v| v.as_str())
                .map(PathBuf::from)
                .unwrap_or_else(|| config.data_dir.join("journal.log"));
            let delay = config
                .extra
                .get("delay_ms")
                .and_then(|v| v.as_u64())
                .map_or(Duration::ZERO, Duration::from_millis);
            QueuedRoute::<WriteNote, Journal>::new(move || Journal {
                path: path.clone(),
                delay,
            })
            .workers(4)
            .max_attempts(3)
            .backoff(BackoffPolicy::exponential(
                Duration::from_millis(50),
                Duration::from_secs(1),
            ))
        })
        .run()
}
