//! The route table: an immutable map from route key to endpoint, shared by every connection.

use std::collections::HashMap;
use std::sync::Arc;

use super::RouteEndpoint;

/// A route key registered twice.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("route {0:?} is registered twice: each route key has exactly one handler")]
pub struct DuplicateRoute(pub String);

/// Route keys to endpoints. Built once at start and read without locks by every connection.
#[derive(Default)]
pub struct RouteTable {
    routes: HashMap<&'static str, Arc<dyn RouteEndpoint>>,
}

impl std::fmt::Debug for RouteTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.routes.keys()).finish()
    }
}

impl RouteTable {
    /// Adds an endpoint; a key already present is an error.
    pub fn insert(&mut self, endpoint: Arc<dyn RouteEndpoint>) -> Result<(), DuplicateRoute> {
        let key = endpoint.key();
        if self.routes.contains_key(key) {
            return Err(DuplicateRoute(key.to_owned()));
        }
        self.routes.insert(key, endpoint);
        Ok(())
    }

    /// The endpoint of `key`.
    pub fn get(&self, key: &str) -> Option<&Arc<dyn RouteEndpoint>> {
        self.routes.get(key)
    }

    /// Every route key, sorted.
    pub fn keys(&self) -> Vec<&'static str> {
        let mut keys: Vec<_> = self.routes.keys().copied().collect();
        keys.sort_unstable();
        keys
    }
}
