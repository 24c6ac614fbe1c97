//! [`RedbStore`]: the durable store, one redb file, one fsync per batch.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use redb::{
    Database, DatabaseError, Key, ReadOnlyTable, ReadableDatabase, ReadableTable, TableDefinition,
    TableError, Value,
};
use serde::de::DeserializeOwned;

use super::batch::{apply_op, QueueMeta};
use super::error::StoreError;
use super::item::{ErroredItem, ItemId, PauseState, PendingItem};
use super::op::{Op, OpOutcome};
use super::pending_index::{IndexChange, PendingIndex};
use super::pick::Pick;
use super::redb_tables::{
    decode, queue_range, RedbTables, ERRORS, FORMAT_VERSION, META, META_FORMAT, PENDING, QUEUES,
};
use super::Store;

/// The durable store: every batch is one redb write transaction, committed with
/// `Durability::Immediate` (fsynced) before [`Store::apply`] returns. A crash loses at most
/// the batch being applied, which nobody has been told about yet.
///
/// ```
/// use hubwire_core::store::{Op, RedbStore, Store};
///
/// let dir = std::env::temp_dir().join(format!("hubwire-doc-{}", std::process::id()));
/// let mut store = RedbStore::open(dir.join("queues.redb"))?;
/// let enqueue = Op::Enqueue {
///     queue: "jobs".into(),
///     route: "jobs.run".into(),
///     body: b"\x90".to_vec().into(),
///     headers: vec![("trace".into(), "abc".into())],
///     idempotency_key: Some("client-7".into()),
///     now_ms: 1_000,
///     max_pending: 1_000,
///     group: None,
/// };
/// store.apply(vec![enqueue.clone(), enqueue])?; // one commit; the second is a duplicate
/// drop(store);
///
/// let store = RedbStore::open(dir.join("queues.redb"))?; // as after a crash
/// assert_eq!(store.all_pending("jobs")?.len(), 1);
/// # drop(store);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), hubwire_core::store::StoreError>(())
/// ```
#[derive(Debug)]
pub struct RedbStore {
    db: Database,
    path: PathBuf,
    /// Write transactions committed by this instance (opening a new file makes one).
    commits: u64,
    /// The pending items' ids, next attempt times and groups, kept in step with the table on
    /// every commit: picks walk this instead of decoding records.
    pub(super) index: PendingIndex,
    /// A test sets this to make the batch fail before its op at that index.
    #[cfg(test)]
    pub(super) fail_before_op: Option<usize>,
}

impl RedbStore {
    /// Opens the store file at `path`, creating it (and its directory) if missing. A file left
    /// by a crash is repaired by redb first, which reads the whole file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let db = Database::create(&path).map_err(|e| match e {
            DatabaseError::DatabaseAlreadyOpen => StoreError::InUse { path: path.clone() },
            source => StoreError::Open {
                path: path.clone(),
                source,
            },
        })?;
        let mut store = Self {
            db,
            path,
            commits: 0,
            index: PendingIndex::default(),
            #[cfg(test)]
            fail_before_op: None,
        };
        store.check_format()?;
        store.load_index()?;
        Ok(store)
    }

    /// Reads every pending item once, at open, into the in-memory index.
    fn load_index(&mut self) -> Result<(), StoreError> {
        let mut changes = Vec::new();
        let pending = self.table(PENDING)?;
        for entry in pending.iter().map_err(StoreError::database("read"))? {
            let (_, value) = entry.map_err(StoreError::database("read"))?;
            let item: PendingItem = decode("pending item", value.value())?;
            changes.push(IndexChange::put(&item));
        }
        self.index.apply(changes);
        Ok(())
    }

    /// The store file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Accepts a file stamped with this build's format; stamps a new one.
    fn check_format(&mut self) -> Result<(), StoreError> {
        let found = match self.table(META) {
            Ok(meta) => {
                let stamp = meta
                    .get(META_FORMAT)
                    .map_err(StoreError::database("read"))?;
                Some(stamp.map_or(0, |v| v.value()))
            }
            Err(StoreError::Database {
                source: redb::Error::TableDoesNotExist(_),
                ..
            }) => None,
            Err(e) => return Err(e),
        };
        match found {
            Some(FORMAT_VERSION) => Ok(()),
            Some(found) => Err(StoreError::Format {
                path: self.path.clone(),
                found,
                expected: FORMAT_VERSION,
            }),
            None => self.write(|tables| tables.stamp_format()),
        }
    }

    /// Runs `f` in one write transaction and commits it; on any error nothing is written.
    fn write<R>(
        &mut self,
        f: impl FnOnce(&mut RedbTables<'_>) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let txn = self
            .db
            .begin_write()
            .map_err(StoreError::database("begin a write"))?;
        let mut tables = RedbTables::open(&txn)?;
        let result = f(&mut tables)?; // dropping an uncommitted transaction aborts it
        let changes = tables.finish()?;
        txn.commit().map_err(StoreError::database("commit"))?;
        self.commits += 1;
        self.index.apply(changes);
        Ok(result)
    }

    /// One table in a fresh read transaction (the table keeps the snapshot alive).
    fn table<K: Key + 'static, V: Value + 'static>(
        &self,
        definition: TableDefinition<K, V>,
    ) -> Result<ReadOnlyTable<K, V>, StoreError> {
        let txn = self
            .db
            .begin_read()
            .map_err(StoreError::database("begin a read"))?;
        txn.open_table(definition)
            .map_err(StoreError::database::<TableError>("open table"))
    }

    /// The pending items `ids` of `queue`, in that order (an id the table lacks is skipped).
    fn read_pending(&self, queue: &str, ids: &[ItemId]) -> Result<Vec<PendingItem>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let pending = self.table(PENDING)?;
        let mut items = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(record) = pending
                .get((queue, id.0))
                .map_err(StoreError::database("read"))?
            {
                items.push(decode("pending item", record.value())?);
            }
        }
        Ok(items)
    }

    fn queue_meta(&self, queue: &str) -> Result<QueueMeta, StoreError> {
        let queues = self.table(QUEUES)?;
        let found = queues.get(queue).map_err(StoreError::database("read"))?;
        found.map_or(Ok(QueueMeta::default()), |v| {
            decode("queue record", v.value())
        })
    }

    /// Walks one queue's records in `table`, ascending, after `after`, handing `visit` each id
    /// and undecoded record until it says stop (false).
    fn scan(
        &self,
        table: TableDefinition<(&str, u64), &[u8]>,
        queue: &str,
        after: Option<ItemId>,
        mut visit: impl FnMut(ItemId, &[u8]) -> Result<bool, StoreError>,
    ) -> Result<(), StoreError> {
        let read = StoreError::database::<redb::StorageError>;
        let table = self.table(table)?;
        for entry in table
            .range(queue_range(queue, after))
            .map_err(read("read"))?
        {
            let (key, value) = entry.map_err(read("read"))?;
            if !visit(ItemId(key.value().1), value.value())? {
                break;
            }
        }
        Ok(())
    }

    /// Up to `limit` decoded items of one queue's `table` after `after`, ascending.
    fn page<T: DeserializeOwned>(
        &self,
        table: TableDefinition<(&str, u64), &[u8]>,
        what: &'static str,
        queue: &str,
        after: Option<ItemId>,
        limit: usize,
    ) -> Result<Vec<T>, StoreError> {
        let mut items = Vec::new();
        if limit > 0 {
            self.scan(table, queue, after, |_, record| {
                items.push(decode(what, record)?);
                Ok(items.len() < limit)
            })?;
        }
        Ok(items)
    }
}

impl Store for RedbStore {
    fn apply(&mut self, ops: Vec<Op>) -> Result<Vec<OpOutcome>, StoreError> {
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        #[cfg(test)]
        let fail_before = self.fail_before_op.take();
        #[cfg(not(test))]
        let fail_before: Option<usize> = None;
        self.write(|tables| {
            let mut outcomes = Vec::with_capacity(ops.len());
            for (index, op) in ops.into_iter().enumerate() {
                if fail_before == Some(index) {
                    return Err(StoreError::Database {
                        action: "injected fault",
                        source: redb::Error::Corrupted("failure injected by a test".into()),
                    });
                }
                outcomes.push(apply_op(tables, op)?);
            }
            Ok(outcomes)
        })
    }

    fn next_ready(
        &self,
        queue: &str,
        now_ms: u64,
        exclude: &HashSet<ItemId>,
        limit: usize,
    ) -> Result<Vec<PendingItem>, StoreError> {
        let mut pick = Pick::new(now_ms, exclude, limit);
        if limit > 0 {
            self.index.pick(queue, &mut pick);
        }
        self.read_pending(queue, &pick.chosen)
    }

    fn next_ready_in_groups(
        &self,
        queue: &str,
        now_ms: u64,
        exclude: &HashSet<ItemId>,
        limit: usize,
        errored_blocks: bool,
    ) -> Result<Vec<PendingItem>, StoreError> {
        let mut blocked = HashSet::new();
        if errored_blocks {
            self.scan(ERRORS, queue, None, |_, record| {
                let errored: ErroredItem = decode("errored item", record)?;
                blocked.extend(errored.item.group);
                Ok(true)
            })?;
        }
        let mut pick = Pick::new(now_ms, exclude, limit).in_groups(blocked);
        if limit > 0 {
            self.index.pick(queue, &mut pick);
        }
        self.read_pending(queue, &pick.chosen)
    }

    fn pending_count(&self, queue: &str) -> Result<u64, StoreError> {
        Ok(self.queue_meta(queue)?.pending)
    }

    fn retry_count(&self, queue: &str) -> Result<u64, StoreError> {
        Ok(self.queue_meta(queue)?.retrying)
    }

    fn error_count(&self, queue: &str) -> Result<u64, StoreError> {
        Ok(self.queue_meta(queue)?.errors)
    }

    fn errors(
        &self,
        queue: &str,
        after: Option<ItemId>,
        limit: usize,
    ) -> Result<Vec<ErroredItem>, StoreError> {
        self.page(ERRORS, "errored item", queue, after, limit)
    }

    fn error(&self, queue: &str, id: ItemId) -> Result<Option<ErroredItem>, StoreError> {
        let errors = self.table(ERRORS)?;
        let found = errors
            .get((queue, id.0))
            .map_err(StoreError::database("read"))?;
        found.map(|v| decode("errored item", v.value())).transpose()
    }

    fn pause(&self, queue: &str) -> Result<PauseState, StoreError> {
        Ok(self.queue_meta(queue)?.pause)
    }

    fn queues(&self) -> Result<Vec<String>, StoreError> {
        let read = StoreError::database::<redb::StorageError>;
        let queues = self.table(QUEUES)?;
        let mut names = Vec::new();
        for entry in queues.iter().map_err(read("read"))? {
            names.push(entry.map_err(read("read"))?.0.value().to_owned());
        }
        Ok(names)
    }

    fn max_error_id(&self, queue: &str) -> Result<Option<ItemId>, StoreError> {
        let read = StoreError::database::<redb::StorageError>;
        let errors = self.table(ERRORS)?;
        let last = errors
            .range(queue_range(queue, None))
            .map_err(read("read"))?
            .next_back();
        last.map(|entry| Ok(ItemId(entry.map_err(read("read"))?.0.value().1)))
            .transpose()
    }

    fn all_pending(&self, queue: &str) -> Result<Vec<PendingItem>, StoreError> {
        self.page(PENDING, "pending item", queue, None, usize::MAX)
    }

    fn commits(&self) -> u64 {
        self.commits
    }
}
