//! The store actor: one thread per process that owns the [`Store`] and group-commits.
//!
//! Callers hold a [`StoreHandle`] (cheap to clone) and send it commands over a channel. The
//! thread ([`StoreKeeper`]) blocks for the first command, then drains whatever else is already
//! waiting (up to [`MAX_BATCH_OPS`] ops) with `try_recv`: every [`Op`] submitted while the
//! previous commit was in progress goes into the next single [`Store::apply`], so many callers
//! share one transaction (one fsync for the redb store). Only after that commit is each caller
//! answered, with its own outcomes, or with the batch's error.
//!
//! Reads drained in the same pass are answered after the pass's commit, so a read never sees a
//! state older than a write submitted before it.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::Arc;

use hubwire_core::store::{Op, OpOutcome, PauseState, Store, StoreError};
use tokio::sync::oneshot;

use super::QueueError;

/// The most ops one batch takes, so a flood of callers cannot make one transaction (and the
/// time every caller in it waits) grow without end; the rest go in the next batch.
pub const MAX_BATCH_OPS: usize = 4096;

/// Where a submission's outcomes go: called once, on the store thread, right after the commit.
/// It must be quick (hand the result on; do no work).
pub(crate) type SubmitReply = Box<dyn FnOnce(Result<Vec<OpOutcome>, QueueError>) + Send>;

type ReadFn = Box<dyn FnOnce(&StoreView<'_>) + Send>;

enum Command {
    Submit {
        ops: Vec<Op>,
        reply: SubmitReply,
    },
    Read(ReadFn),
    /// A read that runs before the writes of its pass: it sees the last committed state.
    ReadCommitted(ReadFn),
    Watch {
        queue: String,
        /// Refuse a queue that is registered already (a second sender with one name).
        exclusive: bool,
        reply: SyncSender<Result<Arc<PauseMirror>, QueueError>>,
    },
    Stop(oneshot::Sender<()>),
}

impl Command {
    /// Answers a command that will never run.
    fn refuse(self) {
        match self {
            Command::Submit { reply, .. } => reply(Err(QueueError::Stopped)),
            Command::Watch { reply, .. } => {
                let _ = reply.send(Err(QueueError::Stopped));
            }
            // A read's closure holds its reply channel: dropping it answers `Stopped`.
            Command::Read(_) | Command::ReadCommitted(_) => {}
            Command::Stop(done) => {
                let _ = done.send(());
            }
        }
    }
}

/// A queue's pause state as the store last committed it, published by the store actor for
/// the endpoint (which refuses while receiving is paused) and the workers (which take nothing
/// while processing is paused) to read without a round trip.
#[derive(Debug, Default)]
pub(crate) struct PauseMirror(AtomicU8);

const RECEIVING: u8 = 1;
const PROCESSING: u8 = 2;

impl PauseMirror {
    pub(crate) fn get(&self) -> PauseState {
        let bits = self.0.load(Ordering::Acquire);
        PauseState {
            receiving_paused: bits & RECEIVING != 0,
            processing_paused: bits & PROCESSING != 0,
        }
    }

    fn set(&self, pause: PauseState) {
        let bits = (pause.receiving_paused as u8 * RECEIVING)
            | (pause.processing_paused as u8 * PROCESSING);
        self.0.store(bits, Ordering::Release);
    }
}

/// Items a queue's workers finished since this process started (not persisted).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct QueueTotals {
    /// Items whose handler succeeded and whose removal was committed.
    pub processed: u64,
    /// Items moved to the error queue.
    pub failed: u64,
    /// Requeue operations committed (one per `Requeue` or `RequeueAll` that moved items): a
    /// work dispatcher looks for requeued items only when this changed.
    pub requeued: u64,
}

/// What a read sees on the store thread: the store and the actor's own figures.
pub struct StoreView<'a> {
    store: &'a dyn Store,
    totals: &'a HashMap<String, QueueTotals>,
    watched: &'a HashMap<String, Arc<PauseMirror>>,
}

impl std::fmt::Debug for StoreView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreView")
            .field("queues", &self.watched.len())
            .finish_non_exhaustive()
    }
}

impl StoreView<'_> {
    /// The store, at its last committed state.
    pub fn store(&self) -> &dyn Store {
        self.store
    }

    /// What the workers of `queue` finished since the process started.
    pub fn totals(&self, queue: &str) -> QueueTotals {
        self.totals.get(queue).copied().unwrap_or_default()
    }

    /// Whether a queued route with this key is registered in this process.
    pub fn is_registered(&self, queue: &str) -> bool {
        self.watched.contains_key(queue)
    }

    /// The keys of every queued route registered in this process, sorted.
    pub fn registered(&self) -> Vec<String> {
        let mut names: Vec<String> = self.watched.keys().cloned().collect();
        names.sort();
        names
    }
}

/// What a committed op changes in the actor's own figures and mirrors.
enum Effect {
    Processed(String),
    Failed(String),
    Requeued(String),
    Pause(String, PauseState),
}

impl Effect {
    fn of(op: &Op) -> Option<Effect> {
        match op {
            Op::Complete { queue, .. } => Some(Effect::Processed(queue.clone())),
            Op::Fail { queue, .. } => Some(Effect::Failed(queue.clone())),
            Op::Requeue { queue, .. } | Op::RequeueAll { queue, .. } => {
                Some(Effect::Requeued(queue.clone()))
            }
            Op::SetPause { queue, pause } => Some(Effect::Pause(queue.clone(), *pause)),
            _ => None,
        }
    }
}

/// The thread side of the store actor: owns the store, its figures and the pause mirrors.
struct StoreKeeper {
    store: Box<dyn Store>,
    totals: HashMap<String, QueueTotals>,
    watched: HashMap<String, Arc<PauseMirror>>,
}

impl StoreKeeper {
    fn run(mut self, commands: Receiver<Command>) {
        let mut stopping = None;
        while stopping.is_none() {
            let Ok(first) = commands.recv() else { break };
            let mut writes = Vec::new();
            let mut early = Vec::new();
            let mut later = Vec::new();
            let mut ops = 0;
            let mut next = Some(first);
            while let Some(command) = next.take() {
                match command {
                    Command::Submit { ops: batch, reply } => {
                        ops += batch.len();
                        writes.push((batch, reply));
                    }
                    Command::Stop(done) => {
                        stopping = Some(done);
                        break;
                    }
                    Command::ReadCommitted(read) => early.push(read),
                    other => later.push(other),
                }
                if ops >= MAX_BATCH_OPS {
                    break;
                }
                next = commands.try_recv().ok();
            }
            // Reads of the committed state first: they need not wait for this pass's fsync.
            for read in early {
                self.answer(Command::Read(read));
            }
            self.commit(writes);
            for command in later {
                self.answer(command);
            }
        }
        // Whatever was sent after the stop is answered, not left hanging.
        drop(self.store);
        for command in commands.try_iter() {
            command.refuse();
        }
        drop(commands);
        if let Some(done) = stopping {
            let _ = done.send(());
        }
    }

    /// Applies every submission of a pass as one batch and answers each caller.
    fn commit(&mut self, writes: Vec<(Vec<Op>, SubmitReply)>) {
        if writes.is_empty() {
            return;
        }
        let mut sizes = Vec::with_capacity(writes.len());
        let mut replies = Vec::with_capacity(writes.len());
        let mut all = Vec::new();
        for (ops, reply) in writes {
            sizes.push(ops.len());
            replies.push(reply);
            all.extend(ops);
        }
        let effects: Vec<Option<Effect>> = all.iter().map(Effect::of).collect();
        match self.store.apply(all) {
            Ok(outcomes) => {
                for (effect, outcome) in effects.into_iter().zip(&outcomes) {
                    let took = matches!(outcome, OpOutcome::Done)
                        || matches!(outcome, OpOutcome::Count(n) if *n > 0);
                    if let (Some(effect), true) = (effect, took) {
                        self.record(effect);
                    }
                }
                let mut outcomes = outcomes.into_iter();
                for (size, reply) in sizes.into_iter().zip(replies) {
                    reply(Ok(outcomes.by_ref().take(size).collect()));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, callers = replies.len(), "a queue store batch failed");
                let e = QueueError::from(e);
                for reply in replies {
                    reply(Err(e.clone()));
                }
            }
        }
    }

    fn record(&mut self, effect: Effect) {
        match effect {
            Effect::Processed(queue) => self.totals.entry(queue).or_default().processed += 1,
            Effect::Failed(queue) => self.totals.entry(queue).or_default().failed += 1,
            Effect::Requeued(queue) => self.totals.entry(queue).or_default().requeued += 1,
            Effect::Pause(queue, pause) => {
                if let Some(mirror) = self.watched.get(&queue) {
                    mirror.set(pause);
                }
            }
        }
    }

    fn answer(&mut self, command: Command) {
        match command {
            Command::Read(read) | Command::ReadCommitted(read) => read(&StoreView {
                store: &*self.store,
                totals: &self.totals,
                watched: &self.watched,
            }),
            Command::Watch {
                queue,
                exclusive,
                reply,
            } => {
                if exclusive && self.watched.contains_key(&queue) {
                    let _ = reply.send(Err(QueueError::AlreadyRunning { queue }));
                    return;
                }
                let answer = self
                    .store
                    .pause(&queue)
                    .map_err(QueueError::from)
                    .map(|pause| {
                        let mirror = self.watched.entry(queue).or_default();
                        mirror.set(pause);
                        mirror.clone()
                    });
                let _ = reply.send(answer);
            }
            Command::Submit { .. } | Command::Stop(_) => unreachable!("handled in the pass"),
        }
    }
}

/// The handle to the process's store actor: cheap to clone, one per caller.
///
/// Every method sends its command when called (so calls made one after another reach the store
/// in that order) and returns a `'static` future of the answer.
#[derive(Clone)]
pub struct StoreHandle {
    commands: Sender<Command>,
}

impl std::fmt::Debug for StoreHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreHandle").finish_non_exhaustive()
    }
}

impl StoreHandle {
    /// Starts the store actor on a thread of its own (`hubwire-store`), owning `store`. It
    /// needs no actix system. It runs until [`stop`](Self::stop) or until every handle is gone.
    pub fn start(store: Box<dyn Store>) -> Result<StoreHandle, QueueError> {
        let (commands, inbox) = mpsc::channel();
        let keeper = StoreKeeper {
            store,
            totals: HashMap::new(),
            watched: HashMap::new(),
        };
        std::thread::Builder::new()
            .name("hubwire-store".into())
            .spawn(move || keeper.run(inbox))
            .map_err(|e| QueueError::Spawn(Arc::new(e)))?;
        Ok(StoreHandle { commands })
    }

    fn send(&self, command: Command) {
        if let Err(mpsc::SendError(command)) = self.commands.send(command) {
            command.refuse();
        }
    }

    /// Submits `ops` for the next batch; `reply` gets their outcomes after the commit.
    pub(crate) fn submit_with(&self, ops: Vec<Op>, reply: SubmitReply) {
        self.send(Command::Submit { ops, reply });
    }

    /// Submits `ops` for the next batch (shared with every other caller's); answers with one
    /// outcome per op, in order, once the batch is committed.
    pub fn submit(
        &self,
        ops: Vec<Op>,
    ) -> impl Future<Output = Result<Vec<OpOutcome>, QueueError>> + 'static {
        let (tx, rx) = oneshot::channel();
        self.submit_with(
            ops,
            Box::new(move |result| {
                let _ = tx.send(result);
            }),
        );
        async move { rx.await.unwrap_or(Err(QueueError::Stopped)) }
    }

    /// Runs `read` on the store thread, after every op submitted before it is committed.
    pub fn read<T: Send + 'static>(
        &self,
        read: impl FnOnce(&StoreView<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> impl Future<Output = Result<T, QueueError>> + 'static {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Read(Box::new(move |view| {
            let _ = tx.send(read(view).map_err(QueueError::from));
        })));
        async move { rx.await.unwrap_or(Err(QueueError::Stopped)) }
    }

    /// Runs `read` on the store thread before the writes of the pass it lands in: it sees the
    /// last committed state, without waiting for that pass's commit, but not necessarily ops
    /// submitted just before it. For workers looking for ready items, which hold the ids whose
    /// results are not committed yet.
    pub fn read_committed<T: Send + 'static>(
        &self,
        read: impl FnOnce(&StoreView<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> impl Future<Output = Result<T, QueueError>> + 'static {
        let (tx, rx) = oneshot::channel();
        self.send(Command::ReadCommitted(Box::new(move |view| {
            let _ = tx.send(read(view).map_err(QueueError::from));
        })));
        async move { rx.await.unwrap_or(Err(QueueError::Stopped)) }
    }

    /// Transactions the store has committed ([`Store::commits`]).
    pub fn commits(&self) -> impl Future<Output = Result<u64, QueueError>> + 'static {
        self.read(|view| Ok(view.store().commits()))
    }

    /// Stops the actor once the commands sent before this one are answered; the future ends
    /// when the store is closed (its file free to open again). Later commands answer
    /// [`QueueError::Stopped`].
    pub fn stop(&self) -> impl Future<Output = ()> + 'static {
        let (tx, rx) = oneshot::channel();
        self.send(Command::Stop(tx));
        async move {
            let _ = rx.await;
        }
    }

    /// Registers queue `queue` and returns its pause mirror, set from the store. Blocks the
    /// calling thread until the store thread answers: called once per queued route while the
    /// server is built, so that no request is taken before the persisted pause state is known.
    pub(crate) fn watch_blocking(&self, queue: &str) -> Result<Arc<PauseMirror>, QueueError> {
        self.watch(queue, false)
    }

    /// As [`watch_blocking`](Self::watch_blocking), refusing a queue something in this
    /// process registered already ([`QueueError::AlreadyRunning`]).
    pub(crate) fn watch_exclusive_blocking(
        &self,
        queue: &str,
    ) -> Result<Arc<PauseMirror>, QueueError> {
        self.watch(queue, true)
    }

    fn watch(&self, queue: &str, exclusive: bool) -> Result<Arc<PauseMirror>, QueueError> {
        let (tx, rx) = mpsc::sync_channel(1);
        self.send(Command::Watch {
            queue: queue.to_owned(),
            exclusive,
            reply: tx,
        });
        rx.recv().unwrap_or(Err(QueueError::Stopped))
    }
}
