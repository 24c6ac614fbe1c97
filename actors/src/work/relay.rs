//! A relay: a worker of its parent dispatcher and a dispatcher for its children, so work flows
//! down a tree of nodes. Each item from the parent goes into the relay's own queue; the relay
//! answers the parent for it when a child has (ack, or the error queue: reject), extending the
//! parent's lease meanwhile. If the relay dies, the parent takes it for lost and delivers what
//! it held to another worker; its children lose their dispatcher.
//!
//! ```text
//!  root dispatcher ──DELIVER──▶ relay's Worker ──RelayItem──▶ relay's Dispatcher ──▶ children
//!        ▲                          │  (waits for the child's answer)        │
//!        └────────── ACK / REJECT ──┘ ◀──────────── Settled ─────────────────┘
//! ```

use actix::Addr;
use hubwire_core::work::{Job, JobOutcome, Settled, WorkClientError, Worker, WorkerOptions};
use hubwire_core::Address;

use super::dispatcher::{Dispatcher, RelayItem};

/// Connects to `parent` as a worker with `options` and relays every item it gets into
/// `queue` of `dispatcher` (an in-memory queue of this process's dispatcher). Returns when the
/// parent goes away (an error) or the worker is drained.
pub async fn run_relay(
    parent: &Address,
    options: WorkerOptions,
    dispatcher: Addr<Dispatcher>,
    queue: String,
) -> Result<(), WorkClientError> {
    let worker = Worker::connect(parent, options).await?;
    worker
        .run(move |job: Job| {
            let (dispatcher, queue) = (dispatcher.clone(), queue.clone());
            async move {
                let item = RelayItem {
                    queue,
                    body: job.body,
                };
                let waiting = match dispatcher.send(item).await {
                    Ok(Ok(waiting)) => waiting,
                    Ok(Err(e)) => {
                        return JobOutcome::Reject {
                            reason: format!("the relay cannot take it: {e}"),
                        }
                    }
                    Err(e) => {
                        return JobOutcome::Retry {
                            delay: std::time::Duration::ZERO,
                            reason: format!("the relay's dispatcher is gone: {e}"),
                        }
                    }
                };
                match waiting.await {
                    Ok(Settled::Dead { reason, .. }) => JobOutcome::Reject { reason },
                    Ok(_) => JobOutcome::Done,
                    Err(_) => JobOutcome::Retry {
                        delay: std::time::Duration::ZERO,
                        reason: "the relay's dispatcher stopped".into(),
                    },
                }
            }
        })
        .await
}
