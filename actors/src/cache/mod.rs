//! A least-recently-used cache that handlers share: one [`CacheActor`] owns an
//! [`LruStore`](hubwire_core::cache::LruStore), and every handler holds a [`Cache`] handle to it.
//!
//! ```text
//! handler actor (I/O thread 1) ──┐  Cache<K, V> (clones of one handle)
//! handler actor (I/O thread 2) ──┼──────────────────────────────────────> CacheActor<K, V>
//! handler actor (I/O thread n) ──┘  CacheGet / CachePut / CachePop / ...   └── LruStore<K, V>
//! ```
//!
//! The actor takes one message at a time, so the store needs no lock and its counters (hits,
//! misses, evictions, expirations) see every call. It reads the time from a [`Clock`]:
//! [`SystemClock`] unless told otherwise, a [`ManualClock`] in tests, so expiry is checked
//! without sleeping. Two handlers that miss the same key at once both compute the value (there
//! is no single-flight); the later `put` wins.
//!
//! Start the cache inside the actix system, then hand a clone to each handler through its
//! factory and await it inside `Reply::later`:
//!
//! ```
//! use std::num::NonZeroUsize;
//! use std::time::Duration;
//! use hubwire_actors::actix::{Actor, Context};
//! use hubwire_actors::cache::Cache;
//! use hubwire_actors::handler::{Reply, Serve};
//!
//! hubwire_core::route!(pub Square = "math.square", u64 => u64);
//!
//! struct Squarer {
//!     cache: Cache<u64, u64>,
//! }
//! impl Actor for Squarer { type Context = Context<Self>; }
//! impl Serve<Square> for Squarer {
//!     fn serve(&mut self, n: u64, _: &mut Context<Self>) -> Reply<u64> {
//!         let (cached, cache) = (self.cache.get(n), self.cache.clone());
//!         Reply::later(async move {
//!             if let Some(square) = cached.await? {
//!                 return Ok(square);
//!             }
//!             let square = n * n; // stands for costly work
//!             cache.put(n, square, None).await?;
//!             Ok(square)
//!         })
//!     }
//! }
//! hubwire_actors::serve!(Squarer: Square);
//!
//! hubwire_actors::actix::System::new().block_on(async {
//!     let cache = Cache::<u64, u64>::start(
//!         NonZeroUsize::new(1024).unwrap(),
//!         Some(Duration::from_secs(60)),
//!     );
//!     // A server would take `.route(Square, move || Squarer { cache: cache.clone() })`.
//!     assert_eq!(cache.put(3, 9, None).await.unwrap(), None);
//!     assert_eq!(cache.get(3).await.unwrap(), Some(9));
//!     assert_eq!(cache.stats().await.unwrap().counters.hits, 1);
//! });
//! ```

mod actor;
mod clock;
mod error;
mod handle;
mod message;
mod series;

pub use actor::CacheActor;
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::CacheError;
pub use handle::Cache;
pub use hubwire_core::cache::{CacheCounters, CacheStatsSnapshot};
pub use message::{CacheGet, CachePeek, CachePop, CachePut, CacheStats};
