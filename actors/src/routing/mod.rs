//! Routing: the table from route keys to handler endpoints, read by every connection.

mod async_fn_endpoint;
mod blocking_endpoint;
mod endpoint;
mod fn_endpoint;
mod stats;
mod table;

pub use async_fn_endpoint::{AnswerFuture, AsyncEndpointFn, AsyncFnEndpoint};
pub use blocking_endpoint::BlockingEndpoint;
pub use endpoint::{Incoming, Refusal, RouteEndpoint, TypedEndpoint};
pub use fn_endpoint::{EndpointFn, FnEndpoint};
pub use stats::{count_error, RouteStats, RouteStatsSnapshot};
pub use table::{DuplicateRoute, RouteTable};
