//! The operator endpoints of queued routes (`hubwire.queue.*`) and of senders
//! (`hubwire.sender.*`): thin wrappers over [`QueueAdmin`], one definition for both families,
//! with the admin allow-list guarding every change.

use hubwire_actors::handler::HandlerError;
use hubwire_actors::queue::{PauseChange, QueueAdmin, QueueError};
use hubwire_actors::routing::AsyncFnEndpoint;
use hubwire_actors::transport::Peer;
use hubwire_actors::ServerBuilder;
use hubwire_core::protocol::ErrorCode;
use hubwire_core::store::ItemId;
use hubwire_core::{AllowList, Route};

use hubwire_actors::queue::QueueData;
use hubwire_core::store::PauseState;

use crate::standard::{
    BulkReply, BulkRequest, ErrorEntry, ErrorPage, ErrorPageRequest, PauseRequest, QueueClear,
    QueueDataRoute, QueueErrors, QueueInspect, QueueItem, QueueList, QueueName, QueuePause,
    QueuePop, QueueRequeue, QueueRequeueAll, SenderClear, SenderData, SenderErrors, SenderInspect,
    SenderList, SenderPause, SenderPop, SenderRequeue, SenderRequeueAll,
};

/// The routes of one family of operator endpoints.
pub(crate) trait AdminFamily {
    /// What one of its queues is called in messages ("a queue", "a sender").
    const WHAT: &'static str;
    type List: Route<Request = (), Reply = Vec<String>>;
    type Data: Route<Request = QueueName, Reply = QueueData>;
    type Errors: Route<Request = ErrorPageRequest, Reply = ErrorPage>;
    type Inspect: Route<Request = QueueItem, Reply = ErrorEntry>;
    type Pop: Route<Request = QueueItem, Reply = ErrorEntry>;
    type Requeue: Route<Request = QueueItem, Reply = ()>;
    type RequeueAll: Route<Request = BulkRequest, Reply = BulkReply>;
    type Clear: Route<Request = BulkRequest, Reply = BulkReply>;
    type Pause: Route<Request = PauseRequest, Reply = PauseState>;
}

/// `hubwire.queue.*`: the queues of queued routes.
pub(crate) struct Queues;

impl AdminFamily for Queues {
    const WHAT: &'static str = "a queue";
    type List = QueueList;
    type Data = QueueDataRoute;
    type Errors = QueueErrors;
    type Inspect = QueueInspect;
    type Pop = QueuePop;
    type Requeue = QueueRequeue;
    type RequeueAll = QueueRequeueAll;
    type Clear = QueueClear;
    type Pause = QueuePause;
}

/// `hubwire.sender.*`: the queues of senders.
pub(crate) struct Senders;

impl AdminFamily for Senders {
    const WHAT: &'static str = "a sender";
    type List = SenderList;
    type Data = SenderData;
    type Errors = SenderErrors;
    type Inspect = SenderInspect;
    type Pop = SenderPop;
    type Requeue = SenderRequeue;
    type RequeueAll = SenderRequeueAll;
    type Clear = SenderClear;
    type Pause = SenderPause;
}

/// Error ids per page when the request names no limit.
const DEFAULT_PAGE: usize = 100;

/// Refuses a change from a peer outside `admin_allow`.
fn require_admin<F: AdminFamily>(
    peer: &Peer,
    admin: &AllowList,
    route: &str,
) -> Result<(), HandlerError> {
    if peer.allowed_by(admin) {
        return Ok(());
    }
    tracing::warn!(%peer, route, "non-admin peer tried to change {}", F::WHAT);
    Err(HandlerError {
        code: ErrorCode::Denied,
        message: format!(
            "{route} changes {}: it is for admin peers (admin_allow), and {peer} is not one",
            F::WHAT
        ),
    })
}

/// Adds every endpoint of family `F` to `builder`.
pub(crate) fn add_admin_endpoints<F: AdminFamily>(
    builder: ServerBuilder,
    queues: QueueAdmin,
    admin: AllowList,
) -> ServerBuilder {
    let registry = builder.registry().clone();
    let q = queues.clone();
    let list = AsyncFnEndpoint::<F::List>::new(&registry, move |(), _| {
        let q = q.clone();
        async move { q.queues().await.map_err(QueueError::answer) }
    });
    let q = queues.clone();
    let data = AsyncFnEndpoint::<F::Data>::new(&registry, move |request, _| {
        let q = q.clone();
        async move { q.data(&request.queue).await.map_err(QueueError::answer) }
    });
    let q = queues.clone();
    let errors = AsyncFnEndpoint::<F::Errors>::new(&registry, move |request, _| {
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
    let inspect = AsyncFnEndpoint::<F::Inspect>::new(&registry, move |request, _| {
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
    let pop = AsyncFnEndpoint::<F::Pop>::new(&registry, move |request, peer| {
        let (q, allowed) = (q.clone(), require_admin::<F>(&peer, &a, F::Pop::KEY));
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
    let requeue = AsyncFnEndpoint::<F::Requeue>::new(&registry, move |request, peer| {
        let (q, allowed) = (q.clone(), require_admin::<F>(&peer, &a, F::Requeue::KEY));
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
    let requeue_all = AsyncFnEndpoint::<F::RequeueAll>::new(&registry, move |request, peer| {
        let (q, allowed) = (q.clone(), require_admin::<F>(&peer, &a, F::RequeueAll::KEY));
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
    let clear = AsyncFnEndpoint::<F::Clear>::new(&registry, move |request, peer| {
        let (q, allowed) = (q.clone(), require_admin::<F>(&peer, &a, F::Clear::KEY));
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
    let pause = AsyncFnEndpoint::<F::Pause>::new(&registry, move |request, peer| {
        let (q, allowed) = (q.clone(), require_admin::<F>(&peer, &a, F::Pause::KEY));
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
