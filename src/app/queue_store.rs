//! Opening an application's queue store: one per app instance, as the configuration says.

use std::path::PathBuf;

use hubwire_actors::queue::StoreHandle;
use hubwire_core::config::QueueStoreKind;
use hubwire_core::store::{MemoryStore, RedbStore, Store};
use hubwire_core::Config;

/// Where the queue store of app `name`, instance `instance`, lives with `queue_store = redb`.
pub fn queue_store_path(config: &Config, name: &str, instance: &str) -> PathBuf {
    config
        .data_dir
        .join(format!("{name}.{instance}.queues.redb"))
}

/// Opens the queue store the configuration names and starts the actor that owns it. The
/// caller holds the instance lock, so no other process of this instance has the file open.
pub fn open_queue_store(
    config: &Config,
    name: &str,
    instance: &str,
) -> Result<StoreHandle, String> {
    let store: Box<dyn Store> = match config.queue_store {
        QueueStoreKind::Memory => Box::new(MemoryStore::new()),
        QueueStoreKind::Redb => {
            let path = queue_store_path(config, name, instance);
            std::fs::create_dir_all(&config.data_dir).map_err(|e| {
                format!("cannot create data_dir {}: {e}", config.data_dir.display())
            })?;
            let store = RedbStore::open(&path)
                .map_err(|e| format!("cannot open the queue store {}: {e}", path.display()))?;
            tracing::debug!(path = %path.display(), "queue store open");
            Box::new(store)
        }
    };
    StoreHandle::start(store).map_err(|e| e.to_string())
}
