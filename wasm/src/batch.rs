//! Group commit of puts in the browser: the core's protocol
//! ([`persist_queue_core::group_commit`], the same one the native host
//! uses), single-threaded. Puts made while another put's transaction runs
//! (JavaScript issuing several without awaiting each) queue their items;
//! the first of them to get the queue's lock is the leader and writes them
//! all in one transaction. An IndexedDB transaction costs about 0.65 ms
//! before any flush, and one flush per transaction when strict
//! (browser-anchors.md), so N waiting puts cost one transaction, not N.

use std::cell::RefCell;

use persist_queue_core::group_commit::{Batch, Batches, Ticket};
use wasm_bindgen::JsValue;

use crate::item::Encoded;

/// One caller's items: encoded, with their priority.
pub(crate) type Items = Vec<(Encoded, i64)>;

/// One caller's answer: the ids of its items, or the batch's error.
pub(crate) type Answer = Result<Vec<Option<u64>>, JsValue>;

/// The puts waiting for a transaction, and answers waiting for callers.
#[derive(Default)]
pub(crate) struct Pending(RefCell<Batches<Items, Vec<Option<u64>>, JsValue>>);

impl Pending {
    /// Queues a caller's items.
    pub(crate) fn enqueue(&self, items: Items) -> Ticket {
        self.0.borrow_mut().enqueue(items)
    }

    /// The caller's answer, if a leader already wrote its items.
    pub(crate) fn answer(&self, ticket: &Ticket) -> Option<Answer> {
        self.0.borrow_mut().answer(ticket)
    }

    /// Everything waiting, for the leader to write in one transaction.
    pub(crate) fn begin(&self) -> (Batch, Vec<Items>) {
        self.0.borrow_mut().begin()
    }

    /// Hands each caller its share of `ids` (one per item of `works`, in
    /// order) and returns the leader's.
    pub(crate) fn finish(&self, batch: Batch, mine: &Ticket, works: &[Items], ids: Answer) -> Answer {
        let total: usize = works.iter().map(Vec::len).sum();
        let ids = ids.and_then(|ids| {
            if ids.len() == total {
                Ok(ids)
            } else {
                Err(crate::error::js_error("Protocol", "the store answered for a different number of items"))
            }
        });
        let shares = ids.map(|ids| {
            let mut at = 0;
            works
                .iter()
                .map(|items| {
                    let share = ids[at..at + items.len()].to_vec();
                    at += items.len();
                    share
                })
                .collect()
        });
        self.0.borrow_mut().finish(batch, mine, shares, Clone::clone, || {
            crate::error::js_error("Protocol", "a put was left out of its batch")
        })
    }
}
