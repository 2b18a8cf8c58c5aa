//! The log table's rows in memory: one [`Row`] per stored record, in pages
//! of consecutive ids.
//!
//! Ids are handed out in order, and a queue stores and deletes them mostly
//! in order, so a page of 64 slots is dense: a row costs its 56 bytes and
//! almost nothing else (a B-tree map costs about twice that at its usual
//! fill). A page goes when its last row does. What few records have, a
//! lease or delay end (`visible_at`) and a unique key, is kept beside the
//! pages, by id.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;

use super::entry::Loc;
use crate::records::record::Status;

/// Slots per page.
const PAGE: u64 = 64;

/// What the log table holds in memory about one record (its payload stays
/// on storage).
#[derive(Clone, Debug)]
pub(super) struct Row {
    pub(super) status: Status,
    pub(super) deliveries: u32,
    /// Bytes of the entry holding the payload (for compaction decisions).
    pub(super) size: u32,
    pub(super) priority: i64,
    pub(super) timestamp: u64,
    pub(super) payload_at: Loc,
    /// The chunk of its last `Put` (its whole state): replay must start
    /// at or before it.
    pub(super) since: u64,
}

struct Page {
    slots: [Option<Row>; PAGE as usize],
    used: u32,
}

impl Page {
    fn new() -> Box<Page> {
        Box::new(Page { slots: core::array::from_fn(|_| None), used: 0 })
    }
}

/// Every row, by id, with the `visible_at` and unique key of those that
/// have one.
#[derive(Default)]
pub(super) struct Rows {
    /// Every page but the newest.
    pages: BTreeMap<u64, Box<Page>>,
    /// The newest page, where inserts go (kept out of the map: an insert
    /// does not walk the tree). `None` only when there are no pages.
    tail: Option<(u64, Box<Page>)>,
    len: usize,
    /// Leased and delayed records' `visible_at` (0, the default, is not kept).
    visible_at: BTreeMap<u64, u64>,
    /// Live records' unique keys.
    keys: BTreeMap<u64, [u8; 32]>,
}

fn place(id: u64) -> (u64, usize) {
    (id / PAGE, (id % PAGE) as usize)
}

impl Rows {
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.len
    }

    fn page(&self, page: u64) -> Option<&Page> {
        match &self.tail {
            Some((n, p)) if *n == page => Some(p),
            _ => self.pages.get(&page).map(|p| &**p),
        }
    }

    fn page_mut(&mut self, page: u64) -> Option<&mut Page> {
        match &mut self.tail {
            Some((n, p)) if *n == page => Some(p),
            _ => self.pages.get_mut(&page).map(|p| &mut **p),
        }
    }

    pub(super) fn get(&self, id: u64) -> Option<&Row> {
        let (page, slot) = place(id);
        self.page(page)?.slots[slot].as_ref()
    }

    pub(super) fn get_mut(&mut self, id: u64) -> Option<&mut Row> {
        let (page, slot) = place(id);
        self.page_mut(page)?.slots[slot].as_mut()
    }

    /// Record `id`'s `visible_at` (0 when it has none).
    pub(super) fn visible_at(&self, id: u64) -> u64 {
        self.visible_at.get(&id).copied().unwrap_or(0)
    }

    /// Sets record `id`'s `visible_at` (0 clears it).
    pub(super) fn set_visible_at(&mut self, id: u64, at: u64) {
        if at == 0 {
            self.visible_at.remove(&id);
        } else {
            self.visible_at.insert(id, at);
        }
    }

    /// Record `id`'s unique key.
    pub(super) fn key(&self, id: u64) -> Option<[u8; 32]> {
        self.keys.get(&id).copied()
    }

    /// Sets record `id`'s unique key (`None` clears it).
    pub(super) fn set_key(&mut self, id: u64, key: Option<[u8; 32]>) {
        match key {
            Some(k) => self.keys.insert(id, k),
            None => self.keys.remove(&id),
        };
    }

    /// Stores `row` as record `id` (with no `visible_at` or key: set them
    /// after); the row it replaces, if any.
    pub(super) fn insert(&mut self, id: u64, row: Row) -> Option<Row> {
        let (page, slot) = place(id);
        if self.tail.as_ref().is_none_or(|(n, _)| page > *n)
            && let Some((n, p)) = self.tail.replace((page, Page::new()))
        {
            self.pages.insert(n, p);
        }
        let p = match &mut self.tail {
            Some((n, p)) if *n == page => p,
            _ => self.pages.entry(page).or_insert_with(Page::new),
        };
        let old = p.slots[slot].replace(row);
        if old.is_none() {
            p.used += 1;
            self.len += 1;
        }
        self.visible_at.remove(&id);
        self.keys.remove(&id);
        old
    }

    /// Forgets record `id`; its row, if it had one.
    pub(super) fn remove(&mut self, id: u64) -> Option<Row> {
        let (page, slot) = place(id);
        let p = self.page_mut(page)?;
        let old = p.slots[slot].take()?;
        p.used -= 1;
        if p.used == 0 {
            if self.tail.as_ref().is_some_and(|(n, _)| *n == page) {
                self.tail = self.pages.pop_last();
            } else {
                self.pages.remove(&page);
            }
        }
        self.len -= 1;
        self.visible_at.remove(&id);
        self.keys.remove(&id);
        Some(old)
    }

    pub(super) fn clear(&mut self) {
        *self = Rows::default();
    }

    /// Every row with its id, lowest id first (`.rev()`: highest first).
    pub(super) fn iter(&self) -> impl DoubleEndedIterator<Item = (u64, &Row)> + '_ {
        let tail = self.tail.iter().map(|(n, p)| (*n, &**p));
        self.pages.iter().map(|(&n, p)| (n, &**p)).chain(tail).flat_map(|(page, p)| {
            p.slots
                .iter()
                .enumerate()
                .filter_map(move |(slot, r)| r.as_ref().map(|r| (page * PAGE + slot as u64, r)))
        })
    }

    pub(super) fn values(&self) -> impl Iterator<Item = &Row> + '_ {
        self.iter().map(|(_, r)| r)
    }

    pub(super) fn keys(&self) -> impl Iterator<Item = u64> + '_ {
        self.iter().map(|(id, _)| id)
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::{Row, Rows};
    use crate::records::log::entry::Loc;
    use crate::records::record::Status;

    fn row(n: u64) -> Row {
        Row {
            status: Status::Ready,
            deliveries: 0,
            size: 1,
            priority: 0,
            timestamp: n,
            payload_at: Loc { chunk: 0, offset: n },
            since: 0,
        }
    }

    #[test]
    fn rows_are_found_iterated_in_id_order_and_pages_go_with_their_last_row() {
        let mut rows = Rows::default();
        for id in [5, 700, 1, 64, 63] {
            assert!(rows.insert(id, row(id)).is_none());
        }
        rows.set_visible_at(700, 9);
        rows.set_key(1, Some([3; 32]));
        assert_eq!(rows.len(), 5);
        assert_eq!(rows.keys().collect::<Vec<_>>(), [1, 5, 63, 64, 700]);
        assert_eq!(rows.iter().rev().map(|(id, _)| id).collect::<Vec<_>>(), [700, 64, 63, 5, 1]);
        assert_eq!((rows.visible_at(700), rows.visible_at(5), rows.key(1)), (9, 0, Some([3; 32])));
        assert!(rows.insert(5, row(50)).is_some(), "a replaced row");
        assert_eq!(rows.get(5).map(|r| r.timestamp), Some(50));
        assert_eq!(rows.remove(700).map(|r| r.timestamp), Some(700));
        assert_eq!(rows.visible_at(700), 0, "its side data goes with it");
        assert_eq!(rows.pages.len() + usize::from(rows.tail.is_some()), 2, "700's page is gone");
        assert!(rows.remove(700).is_none());
        assert_eq!(rows.len(), 4);
        assert_eq!(size_of::<Option<Row>>(), 56, "the figure the docs give");
    }

    #[test]
    fn rows_hold_what_a_map_holds_through_random_inserts_and_removes() {
        let (mut rows, mut map) = (Rows::default(), alloc::collections::BTreeMap::new());
        let mut x = 0x853C_49E6_748F_EA9Bu64;
        for _ in 0..crate::records::MODEL_STEPS {
            let x = crate::records::xorshift(&mut x);
            let id = x % 500;
            if x & (1 << 40) == 0 {
                assert_eq!(rows.insert(id, row(id)).is_some(), map.insert(id, ()).is_some());
            } else {
                assert_eq!(rows.remove(id).is_some(), map.remove(&id).is_some());
            }
            assert_eq!(rows.len(), map.len());
        }
        assert_eq!(rows.keys().collect::<Vec<_>>(), map.keys().copied().collect::<Vec<_>>());
        assert_eq!(
            rows.iter().rev().map(|(id, _)| id).collect::<Vec<_>>(),
            map.keys().rev().copied().collect::<Vec<_>>()
        );
    }
}
