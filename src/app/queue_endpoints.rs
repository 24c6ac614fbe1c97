//! The `hubwire.queue.*` operator endpoints: thin wrappers over [`QueueAdmin`], with the admin
//! allow-list guarding every change.

use hubwire_actors::handler::HandlerError;
use hubwire_actors::queue::{PauseChange, QueueAdmin, QueueError};
use hubwire_actors::routing::AsyncFnEndpoint;
use hubwire_actors::transport::Peer;
use hubwire_actors::ServerBuilder;
use hubwire_core::protocol::ErrorCode;
use hubwire_core::store::ItemId;
use hubwire_core::{AllowList, Route};

use crate::standard::{
    BulkReply, ErrorEntry, ErrorPage, QueueClear, QueueDataRoute, QueueErrors, QueueInspect,
    QueueList, QueuePause, QueuePop, QueueRequeue, QueueRequeueAll,
};

/// Error ids per page when the request names no limit.
const DEFAULT_PAGE: usize = 100;

/// Refuses a change from a peer outside `admin_allow`.
fn require_admin(peer: &Peer, admin: &AllowList, route: &str) -> Result<(), HandlerError> {
    if peer.allowed_by(admin) {
        return Ok(());
    }
    tracing::warn!(%peer, route, "non-admin peer tried to change a queue");
    Err(HandlerError {
        code: ErrorCode::Denied,
        message: format!(
            "{route} changes a queue: it is for admin peers (admin_allow), and {peer} is not one"
        ),
    })
}

/// Adds every `hubwire.queue.*` endpoint to `builder`.
pub(crate) fn add_queue_endpoints(
    builder: ServerBuilder,
    queues: QueueAdmin,
    admin: AllowList,
) -> ServerBuilder {
    let registry = builder.registry().clone();
    let q = queues.clone();
    let list = AsyncFnEndpoint::<QueueList>::new(&registry, move |(), _| {
        let q = q.clone();
        async move { q.queues().await.map_err(QueueError::answer) }
    });
    let q = queues.clone();
    let data = AsyncFnEndpoint::<QueueDataRoute>::new(&registry, move |request, _| {
        let q = q.clone();
        async move { q.data(&request.queue).await.map_err(QueueError::answer) }
    });
    let q = queues.clone();
    let errors = AsyncFnEndpoint::<QueueErrors>::new(&registry, move |request, _| {
        let q = q.clone();
        async move {
            let limit = request.limit.map_or(DEFAULT_PAGE, |n| n as usize);
            let page = q
                .error_ids(&request.queue, request.after.map(ItemId), limit)
                .await
                .map_err(QueueError::answer)?;
            Ok(ErrorPage {
                ids: page.ids.into_iter().map(|id| id.0).collect(),
                next: page.next.map(|id| id.0),
            })
        }
    });
    let q = queues.clone();
    let inspect = AsyncFnEndpoint::<QueueInspect>::new(&registry, move |request, _| {
        let q = q.clone();
        async move {
            let item = q
                .inspect(&request.queue, ItemId(request.id))
                .await
                .map_err(QueueError::answer)?;
            Ok(ErrorEntry::from(item))
        }
    });
    let (q, a) = (queues.clone(), admin.clone());
    let pop = AsyncFnEndpoint::<QueuePop>::new(&registry, move |request, peer| {
        let (q, allowed) = (q.clone(), require_admin(&peer, &a, QueuePop::KEY));
        async move {
            allowed?;
            let item = q
                .pop(&request.queue, ItemId(request.id))
                .await
                .map_err(QueueError::answer)?;
            tracing::info!(queue = request.queue, id = request.id, %peer, "popped from the error queue");
            Ok(ErrorEntry::from(item))
        }
    });
    let (q, a) = (queues.clone(), admin.clone());
    let requeue = AsyncFnEndpoint::<QueueRequeue>::new(&registry, move |request, peer| {
        let (q, allowed) = (q.clone(), require_admin(&peer, &a, QueueRequeue::KEY));
        async move {
            allowed?;
            q.requeue(&request.queue, ItemId(request.id))
                .await
                .map_err(QueueError::answer)?;
            tracing::info!(queue = request.queue, id = request.id, %peer, "requeued");
            Ok(())
        }
    });
    let (q, a) = (queues.clone(), admin.clone());
    let requeue_all = AsyncFnEndpoint::<QueueRequeueAll>::new(&registry, move |request, peer| {
        let (q, allowed) = (q.clone(), require_admin(&peer, &a, QueueRequeueAll::KEY));
        async move {
            allowed?;
            let count = match request.up_to {
                Some(id) => q.requeue_up_to(&request.queue, ItemId(id)).await,
                None => q.requeue_all(&request.queue).await,
            }
            .map_err(QueueError::answer)?;
            tracing::info!(queue = request.queue, count, up_to = request.up_to, %peer, "requeued in bulk");
            Ok(BulkReply {
                count,
                up_to: request.up_to,
            })
        }
    });
    let (q, a) = (queues.clone(), admin.clone());
    let clear = AsyncFnEndpoint::<QueueClear>::new(&registry, move |request, peer| {
        let (q, allowed) = (q.clone(), require_admin(&peer, &a, QueueClear::KEY));
        async move {
            allowed?;
            let count = match request.up_to {
                Some(id) => q.clear_up_to(&request.queue, ItemId(id)).await,
                None => q.clear_all(&request.queue).await,
            }
            .map_err(QueueError::answer)?;
            tracing::info!(queue = request.queue, count, up_to = request.up_to, %peer, "cleared the error queue");
            Ok(BulkReply {
                count,
                up_to: request.up_to,
            })
        }
    });
    let (q, a) = (queues, admin);
    let pause = AsyncFnEndpoint::<QueuePause>::new(&registry, move |request, peer| {
        let (q, allowed) = (q.clone(), require_admin(&peer, &a, QueuePause::KEY));
        async move {
            allowed?;
            let change = PauseChange {
                receiving: request.receiving,
                processing: request.processing,
            };
            let state = q
                .pause(&request.queue, change)
                .await
                .map_err(QueueError::answer)?;
            tracing::info!(
                queue = request.queue,
                receiving_paused = state.receiving_paused,
                processing_paused = state.processing_paused,
                %peer,
                "pause changed"
            );
            Ok(state)
        }
    });
    builder
        .endpoint(list)
        .endpoint(data)
        .endpoint(errors)
        .endpoint(inspect)
        .endpoint(pop)
        .endpoint(requeue)
        .endpoint(requeue_all)
        .endpoint(clear)
        .endpoint(pause)
}
