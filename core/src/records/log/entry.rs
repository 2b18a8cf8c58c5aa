//! One logged change ([`Entry`]), where it lies ([`Loc`]), and how an
//! entry read back or just written changes the rows and the index.

use alloc::vec::Vec;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};

use super::LogTable;
use super::error::LogError;
use super::rows::Row;
use crate::format::frame::Layout;
use crate::format::reader::Found;
use crate::records::record::Status;
use crate::storage::Storage;

/// One logged change. `P` is how a payload is held: its bytes, or
/// [`Skipped`] where only the change matters (replay).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum Entry<P = Vec<u8>> {
    /// A record's whole state (insert, restore, snapshot).
    Put {
        id: u64,
        status: u8,
        priority: i64,
        timestamp: u64,
        deliveries: u32,
        key: Option<[u8; 32]>,
        payload: P,
    },
    /// A status change.
    Status { id: u64, status: u8, deliveries: u32 },
    /// A deletion.
    Delete { id: u64 },
    /// A new payload.
    Update { id: u64, key: Option<[u8; 32]>, payload: P },
    /// The end of one plan: its entries take effect.
    Commit { next_id: u64 },
    /// A status change that ends at a time: a lease, a delay, or a record
    /// made ready (meta version 2).
    Timed { id: u64, status: u8, deliveries: u32, visible_at: u64 },
    /// A record's whole state with its `visible_at` (meta version 2).
    PutTimed {
        id: u64,
        status: u8,
        priority: i64,
        timestamp: u64,
        deliveries: u32,
        visible_at: u64,
        key: Option<[u8; 32]>,
        payload: P,
    },
}

/// A payload read past without copying it (replay needs only where it is).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Skipped;

impl<'de> Deserialize<'de> for Skipped {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <&'de [u8]>::deserialize(d).map(|_| Skipped)
    }
}

impl<P> Entry<P> {
    /// Whether a reader of meta version 1 would not know this entry.
    pub(super) fn is_v2(&self) -> bool {
        matches!(self, Entry::Timed { .. } | Entry::PutTimed { .. })
    }
}

impl Entry {
    /// A record's whole state, in the entry of the oldest version that
    /// holds it.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn put(
        id: u64,
        status: Status,
        priority: i64,
        timestamp: u64,
        deliveries: u32,
        visible_at: u64,
        key: Option<[u8; 32]>,
        payload: Vec<u8>,
    ) -> Entry {
        let status = status.code();
        if visible_at == 0 {
            Entry::Put { id, status, priority, timestamp, deliveries, key, payload }
        } else {
            Entry::PutTimed { id, status, priority, timestamp, deliveries, visible_at, key, payload }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Loc {
    pub(super) chunk: u64,
    pub(super) offset: u64,
}

fn status(code: u8) -> Status {
    Status::from_code(code).unwrap_or(Status::Ready)
}

/// An entry read from the log, its frame length and (v2) frame number.
pub(super) type Framed<P> = (Entry<P>, u64, Option<u32>);

impl<S: Storage> LogTable<S> {
    pub(super) fn unindex(&mut self, id: u64) {
        if let Some(r) = self.rows.get(id) {
            self.index.remove(id, r.priority, self.rows.key(id), self.rows.visible_at(id));
        }
    }

    pub(super) fn index(&mut self, id: u64) {
        if let Some(r) = self.rows.get(id) {
            self.index.add(id, r.status, r.priority, self.rows.key(id), self.rows.visible_at(id));
        }
    }

    pub(super) fn apply<P>(&mut self, e: &Entry<P>, at: Loc, size: u64) {
        let size = u32::try_from(size).unwrap_or(u32::MAX);
        match e {
            Entry::Put { id, status: s, priority, timestamp, deliveries, key, .. } => {
                self.insert_row(*id, status(*s), *priority, *timestamp, *deliveries, 0, *key, at, size);
            }
            Entry::PutTimed { id, status: s, priority, timestamp, deliveries, visible_at, key, .. } => {
                let status = status(*s);
                let visible_at = if status.is_timed() { *visible_at } else { 0 };
                self.insert_row(*id, status, *priority, *timestamp, *deliveries, visible_at, *key, at, size);
            }
            Entry::Status { id, status: s, deliveries } => self.apply_status(*id, status(*s), *deliveries, 0),
            Entry::Timed { id, status: s, deliveries, visible_at } => {
                self.apply_status(*id, status(*s), *deliveries, *visible_at);
            }
            Entry::Delete { id } => {
                self.unindex(*id);
                if let Some(old) = self.rows.remove(*id) {
                    self.live = self.live.saturating_sub(u64::from(old.size));
                }
            }
            Entry::Update { id, key, .. } => {
                self.unindex(*id);
                if let Some(r) = self.rows.get_mut(*id) {
                    self.live = self.live.saturating_sub(u64::from(r.size)) + u64::from(size);
                    r.payload_at = at;
                    r.size = size;
                    self.rows.set_key(*id, *key);
                }
                self.index(*id);
            }
            Entry::Commit { next_id } => self.next_id = self.next_id.max(*next_id),
        }
    }

    /// Stores record `id`'s whole state, its payload in the entry at `at`.
    #[allow(clippy::too_many_arguments)]
    fn insert_row(
        &mut self,
        id: u64,
        status: Status,
        priority: i64,
        timestamp: u64,
        deliveries: u32,
        visible_at: u64,
        key: Option<[u8; 32]>,
        at: Loc,
        size: u32,
    ) {
        // One page lookup: the row replaced (rare) is unindexed after.
        let (old_key, old_at) = (self.rows.key(id), self.rows.visible_at(id));
        let row = Row { status, deliveries, size, priority, timestamp, payload_at: at, since: at.chunk };
        if let Some(old) = self.rows.insert(id, row) {
            self.index.remove(id, old.priority, old_key, old_at);
            self.live = self.live.saturating_sub(u64::from(old.size));
        }
        self.live += u64::from(size);
        self.rows.set_visible_at(id, visible_at);
        self.rows.set_key(id, key);
        self.index.add(id, status, priority, key, visible_at);
        self.next_id = self.next_id.max(id);
    }

    fn apply_status(&mut self, id: u64, status: Status, deliveries: u32, visible_at: u64) {
        self.unindex(id);
        if let Some(r) = self.rows.get_mut(id) {
            r.status = status;
            r.deliveries = deliveries;
            self.rows.set_visible_at(id, if status.is_timed() { visible_at } else { 0 });
            if !status.is_live() {
                self.rows.set_key(id, None);
            }
        }
        self.index(id);
    }

    /// The entry at `at` of a chunk laid out in `layout`, its frame length
    /// and (v2) frame number; `None` where no valid frame is.
    pub(super) fn read_entry_in<P: DeserializeOwned>(
        &mut self,
        at: Loc,
        layout: Layout,
    ) -> Result<Option<Framed<P>>, LogError<S::Error>> {
        match self.reader.frame(&mut self.storage, at.chunk, at.offset, layout).map_err(LogError::Storage)? {
            Found::Record(bytes, len, index) => match postcard::from_bytes::<Entry<P>>(bytes) {
                Ok(e) => Ok(Some((e, len, index))),
                Err(_) => Ok(None),
            },
            Found::Stop => Ok(None),
        }
    }

    /// The entry at `at` (a location the index holds).
    pub(super) fn read_entry(&mut self, at: Loc) -> Result<Option<(Entry, u64)>, LogError<S::Error>> {
        let layout = self.layout(at.chunk);
        Ok(self.read_entry_in(at, layout)?.map(|(e, len, _)| (e, len)))
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec;

    use super::*;
    use crate::records::log::test_support::{SMALL, fresh};

    fn with_empty_payload(e: Entry) -> Entry {
        match e {
            Entry::Put { id, status, priority, timestamp, deliveries, key, .. } => {
                Entry::Put { id, status, priority, timestamp, deliveries, key, payload: vec![] }
            }
            Entry::Update { id, key, .. } => Entry::Update { id, key, payload: vec![] },
            other => other,
        }
    }

    fn skipped_as_empty(e: Entry<Skipped>) -> Entry {
        match e {
            Entry::Put { id, status, priority, timestamp, deliveries, key, .. } => {
                Entry::Put { id, status, priority, timestamp, deliveries, key, payload: vec![] }
            }
            Entry::Update { id, key, .. } => Entry::Update { id, key, payload: vec![] },
            Entry::Status { id, status, deliveries } => Entry::Status { id, status, deliveries },
            Entry::Delete { id } => Entry::Delete { id },
            Entry::Commit { next_id } => Entry::Commit { next_id },
            Entry::Timed { id, status, deliveries, visible_at } => {
                Entry::Timed { id, status, deliveries, visible_at }
            }
            Entry::PutTimed { id, status, priority, timestamp, deliveries, visible_at, key, .. } => {
                Entry::PutTimed {
                    id,
                    status,
                    priority,
                    timestamp,
                    deliveries,
                    visible_at,
                    key,
                    payload: vec![],
                }
            }
        }
    }

    #[test]
    fn every_entry_round_trips_through_its_encoding() {
        let entries = [
            Entry::Put {
                id: 3,
                status: 1,
                priority: -4,
                timestamp: 9,
                deliveries: 2,
                key: Some([5; 32]),
                payload: vec![1, 2, 3],
            },
            Entry::Status { id: 3, status: 2, deliveries: 1 },
            Entry::Delete { id: 3 },
            Entry::Update { id: 3, key: None, payload: vec![] },
            Entry::Commit { next_id: 11 },
        ];
        for e in entries {
            let bytes = postcard::to_allocvec(&e).expect("encode");
            assert_eq!(postcard::from_bytes::<Entry>(&bytes).expect("decode"), e);
            let skipped = postcard::from_bytes::<Entry<Skipped>>(&bytes).expect("decode, payload skipped");
            assert_eq!(
                postcard::to_allocvec(&skipped_as_empty(skipped)).expect("encode"),
                postcard::to_allocvec(&with_empty_payload(e)).expect("encode"),
                "the same change, without its payload"
            );
        }
    }

    #[test]
    fn applying_entries_changes_rows_index_and_live_bytes() {
        let mut t = fresh(SMALL);
        let at = Loc { chunk: 0, offset: 100 };
        let put: Entry = Entry::Put {
            id: 5,
            status: 0,
            priority: 0,
            timestamp: 1,
            deliveries: 0,
            key: None,
            payload: vec![],
        };
        t.apply(&put, at, 40);
        assert_eq!((t.rows.len(), t.live, t.next_id), (1, 40, 5));
        t.apply(&Entry::<Vec<u8>>::Status { id: 5, status: Status::Unacked.code(), deliveries: 1 }, at, 10);
        let row = t.rows.get(5).expect("row");
        assert_eq!(
            (row.status, row.deliveries, t.live),
            (Status::Unacked, 1, 40),
            "a status change keeps the payload"
        );
        t.apply(&Entry::Update { id: 5, key: None, payload: vec![9] }, Loc { chunk: 1, offset: 24 }, 30);
        assert_eq!((t.rows.get(5).expect("row").payload_at.chunk, t.live), (1, 30));
        t.apply(&Entry::<Vec<u8>>::Delete { id: 5 }, at, 8);
        assert_eq!((t.rows.len(), t.live), (0, 0));
        t.apply(&Entry::<Vec<u8>>::Commit { next_id: 12 }, at, 8);
        assert_eq!(t.next_id, 12, "ids are never reused, even after deletes");
    }
}
