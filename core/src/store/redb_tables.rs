//! The redb tables of a store file, the record codec, and [`Tables`] over a write transaction.

use std::collections::HashMap;
use std::ops::Bound;

use redb::{ReadableTable, Table, TableDefinition, WriteTransaction};
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::batch::{QueueMeta, Tables};
use super::error::StoreError;
use super::item::{ErroredItem, ItemId, PendingItem};
use super::pending_index::IndexChange;

/// Bump when a record's shape or a table's key changes; older files are then refused.
pub(super) const FORMAT_VERSION: u64 = 1;

/// (queue, id) -> MessagePack [`PendingItem`].
pub(super) const PENDING: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("pending");
/// (queue, id) -> MessagePack [`ErroredItem`].
pub(super) const ERRORS: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("errors");
/// (queue, idempotency key) -> id of the pending or errored item holding it.
pub(super) const IDEMPOTENCY: TableDefinition<(&str, &str), u64> =
    TableDefinition::new("idempotency");
/// queue -> MessagePack [`QueueMeta`] (counts, pause state).
pub(super) const QUEUES: TableDefinition<&str, &[u8]> = TableDefinition::new("queues");
/// [`META_FORMAT`] and [`META_LAST_ID`].
pub(super) const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

/// Key in [`META`]: the layout version of the file.
pub(super) const META_FORMAT: &str = "format_version";
/// Key in [`META`]: the last id given (0 before the first).
pub(super) const META_LAST_ID: &str = "last_id";

/// A key of [`PENDING`] or [`ERRORS`]: (queue, id).
type ItemKey<'a> = (&'a str, u64);

/// The key range of one queue in [`PENDING`] or [`ERRORS`], after `after` if given.
pub(super) fn queue_range(
    queue: &str,
    after: Option<ItemId>,
) -> (Bound<ItemKey<'_>>, Bound<ItemKey<'_>>) {
    let start = match after {
        Some(id) => Bound::Excluded((queue, id.0)),
        None => Bound::Included((queue, 0)),
    };
    (start, Bound::Included((queue, u64::MAX)))
}

pub(super) fn encode<T: Serialize>(what: &'static str, value: &T) -> Result<Vec<u8>, StoreError> {
    rmp_serde::to_vec(value).map_err(|source| StoreError::Encode { what, source })
}

pub(super) fn decode<T: DeserializeOwned>(
    what: &'static str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    rmp_serde::from_slice(bytes).map_err(|source| StoreError::Corrupt { what, source })
}

fn access(e: redb::StorageError) -> StoreError {
    StoreError::database("write")(e)
}

/// Every table of a store, open in one write transaction. The sequence and the queue records
/// are read once and written back by [`RedbTables::finish`], not once per op.
pub(super) struct RedbTables<'txn> {
    pending: Table<'txn, (&'static str, u64), &'static [u8]>,
    errors: Table<'txn, (&'static str, u64), &'static [u8]>,
    idempotency: Table<'txn, (&'static str, &'static str), u64>,
    queues: Table<'txn, &'static str, &'static [u8]>,
    meta: Table<'txn, &'static str, u64>,
    last_id: u64,
    last_id_taken: bool,
    /// Queue records read or changed in this transaction, and whether changed.
    metas: HashMap<String, (QueueMeta, bool)>,
    /// What the transaction changed among pending items, for the store's in-memory index
    /// once it commits.
    index_changes: Vec<IndexChange>,
}

impl<'txn> RedbTables<'txn> {
    /// Opens (creating if new) every table in `txn`.
    pub(super) fn open(txn: &'txn WriteTransaction) -> Result<Self, StoreError> {
        let table = StoreError::database::<redb::TableError>;
        let meta = txn.open_table(META).map_err(table("open table"))?;
        let last_id = meta
            .get(META_LAST_ID)
            .map_err(access)?
            .map_or(0, |v| v.value());
        Ok(Self {
            pending: txn.open_table(PENDING).map_err(table("open table"))?,
            errors: txn.open_table(ERRORS).map_err(table("open table"))?,
            idempotency: txn.open_table(IDEMPOTENCY).map_err(table("open table"))?,
            queues: txn.open_table(QUEUES).map_err(table("open table"))?,
            meta,
            last_id,
            last_id_taken: false,
            metas: HashMap::new(),
            index_changes: Vec::new(),
        })
    }

    /// Writes the format version: a new file is a hubwire store from its first commit.
    pub(super) fn stamp_format(&mut self) -> Result<(), StoreError> {
        self.meta
            .insert(META_FORMAT, FORMAT_VERSION)
            .map_err(access)?;
        Ok(())
    }

    /// Writes the sequence and the changed queue records back, then closes the tables so the
    /// transaction can commit; answers the changes to pending items, for the index.
    pub(super) fn finish(mut self) -> Result<Vec<IndexChange>, StoreError> {
        if self.last_id_taken {
            self.meta
                .insert(META_LAST_ID, self.last_id)
                .map_err(access)?;
        }
        for (queue, (meta, changed)) in &self.metas {
            if *changed {
                let bytes = encode("queue record", meta)?;
                let key = queue.as_str();
                self.queues.insert(key, bytes.as_slice()).map_err(access)?;
            }
        }
        Ok(self.index_changes)
    }
}

impl Tables for RedbTables<'_> {
    fn take_id(&mut self) -> Result<ItemId, StoreError> {
        self.last_id += 1;
        self.last_id_taken = true;
        Ok(ItemId(self.last_id))
    }

    fn meta(&mut self, queue: &str) -> Result<Option<QueueMeta>, StoreError> {
        if let Some((meta, _)) = self.metas.get(queue) {
            return Ok(Some(*meta));
        }
        let Some(stored) = self.queues.get(queue).map_err(access)? else {
            return Ok(None);
        };
        let meta = decode("queue record", stored.value())?;
        drop(stored);
        self.metas.insert(queue.to_owned(), (meta, false));
        Ok(Some(meta))
    }

    fn put_meta(&mut self, queue: &str, meta: QueueMeta) -> Result<(), StoreError> {
        match self.metas.get_mut(queue) {
            Some(cached) => *cached = (meta, true),
            None => {
                self.metas.insert(queue.to_owned(), (meta, true));
            }
        }
        Ok(())
    }

    fn put_pending(&mut self, item: PendingItem) -> Result<(), StoreError> {
        let bytes = encode("pending item", &item)?;
        let key = (item.queue.as_str(), item.id.0);
        self.pending.insert(key, bytes.as_slice()).map_err(access)?;
        self.index_changes.push(IndexChange::put(&item));
        Ok(())
    }

    fn remove_pending(
        &mut self,
        queue: &str,
        id: ItemId,
    ) -> Result<Option<PendingItem>, StoreError> {
        let removed = self.pending.remove((queue, id.0)).map_err(access)?;
        let item = removed
            .map(|v| decode::<PendingItem>("pending item", v.value()))
            .transpose()?;
        if item.is_some() {
            self.index_changes.push(IndexChange::Remove {
                queue: queue.to_owned(),
                id,
            });
        }
        Ok(item)
    }

    fn put_error(&mut self, item: ErroredItem) -> Result<(), StoreError> {
        let bytes = encode("errored item", &item)?;
        let key = (item.item.queue.as_str(), item.item.id.0);
        self.errors.insert(key, bytes.as_slice()).map_err(access)?;
        Ok(())
    }

    fn remove_error(&mut self, queue: &str, id: ItemId) -> Result<Option<ErroredItem>, StoreError> {
        let removed = self.errors.remove((queue, id.0)).map_err(access)?;
        removed
            .map(|v| decode("errored item", v.value()))
            .transpose()
    }

    fn error_ids_up_to(&mut self, queue: &str, up_to: ItemId) -> Result<Vec<ItemId>, StoreError> {
        let range = (queue, 0)..=(queue, up_to.0);
        let mut ids = Vec::new();
        for entry in self.errors.range(range).map_err(access)? {
            let (key, _) = entry.map_err(access)?;
            ids.push(ItemId(key.value().1));
        }
        Ok(ids)
    }

    fn idempotent(&mut self, queue: &str, key: &str) -> Result<Option<ItemId>, StoreError> {
        let found = self.idempotency.get((queue, key)).map_err(access)?;
        Ok(found.map(|v| ItemId(v.value())))
    }

    fn put_idempotent(&mut self, queue: &str, key: &str, id: ItemId) -> Result<(), StoreError> {
        self.idempotency
            .insert((queue, key), id.0)
            .map_err(access)?;
        Ok(())
    }

    fn remove_idempotent(&mut self, queue: &str, key: &str) -> Result<(), StoreError> {
        self.idempotency.remove((queue, key)).map_err(access)?;
        Ok(())
    }
}
