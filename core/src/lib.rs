//! hubwire-core: the plain parts of hubwire, with no actix in sight.
//!
//! # Layout
//! - [`protocol`]: wire protocol v1: frames, envelopes, the error-code table (normative text in
//!   `docs/protocol.md`, test vectors in `docs/protocol-vectors.json`).
//! - [`address`]: addresses as URLs (`tcp://`, `tls://`, `udp://`, `unix://`), hosts by IP
//!   literal or by name.
//! - [`net`]: dialling: host names resolved at each connect, each address tried, TLS.
//! - [`tls`]: TLS settings of diallers and listeners (rustls), PEM files, peer identities.
//! - [`websocket`]: WebSocket (`ws://`, `wss://`) as a byte stream of frames, one per binary
//!   message; the upgrade with its path and browser-origin checks.
//! - [`allow`]: the allow-list of peers (addresses, ranges, uids), deny by default.
//! - [`auth`]: users (argon2 password hashes, tokens, TLS identities), their permissions over
//!   routes and channels, and the delay that slows failing addresses: the hook every
//!   front-end calls.
//! - [`config`]: the plain [`Config`] struct with documented defaults.
//! - [`route`](mod@route): a route declared once (key, request type, reply type) for server and client.
//! - [`body`]: request and reply values as MessagePack bodies.
//! - [`session`]: the server side of a connection as a sans-IO state machine (frames and the
//!   time in, steps out): handshake, served kinds, timers, the PING barrier.
//! - [`stream`]: frame batches per read and batched writes, shared by client and server; the
//!   outbound bound (back-pressure on the reader, cut-offs), stall watch, allocator trims.
//! - [`client`]: the typed client (plain tokio).
//! - [`compression`]: stream compression negotiated in the handshake (zstd, gzip), bounded.
//! - [`supervision`]: restart strategies, policies and the sliding-window restart intensity.
//! - [`stats`]: the stats registry: counters, gauges and latency histograms any part registers,
//!   recorded per thread without contention and read as one serializable snapshot.
//! - [`cache`]: a bounded least-recently-used map with expiry and counters, time passed in.
//! - [`pubsub`]: channels, wildcard subscription patterns, the subscription trie with its
//!   immutable snapshots, the per-reader match cache, and the hub's table (`HubTable`).
//! - [`bridge`]: routing among bridged hubs: link-state adverts, per-origin trees, interest.
//! - [`backoff`]: the one back-off policy for restarts, retries and reconnects: presets, limits,
//!   jitter and time passed in.
//! - [`spoke`]: the plain layers of a spoke (a hub client): link, subscription list, calls.
//! - [`store`]: the durable store of queued endpoints (pending and error queues, idempotency
//!   keys, pause states) on redb, or in memory; group-committed batches of operations.
//! - [`work`]: the network work queue's bookkeeping: queues, workers with credit, leases with
//!   deadlines, acks, redelivery, the dispatch policies; time passed in.
//! - `sync`: the locks and atomics threads share on the outbound path, std's or (under
//!   `--cfg hubwire_loom`) loom's for the concurrency models (`docs/concurrency.md`).
//!
//! Logic lives here so that it is unit- and property-tested without an actor system; the
//! `hubwire-actors` crate owns these values inside actors.
#![warn(missing_docs)]
#![warn(missing_debug_implementations)]
#![deny(unused_must_use)]

pub mod address;
pub mod allow;
pub mod auth;
pub mod backoff;
pub mod body;
pub mod bridge;
pub mod cache;
pub mod client;
pub mod compression;
pub mod config;
pub mod nats;
pub mod net;
pub mod protocol;
pub mod pubsub;
pub mod route;
pub mod sender;
pub mod session;
pub mod spoke;
pub mod stats;
pub mod store;
pub mod stream;
pub mod supervision;
mod sync;
pub mod tls;
pub mod websocket;
pub mod work;

pub use address::{Address, AddressError};
pub use allow::{AllowEntry, AllowList, BadAllowEntry};
pub use body::{decode_body, encode_body, BodyError};
pub use config::Config;
pub use route::{validate_route_key, InvalidRouteKey, Route};
