//! Group commit of puts: puts made while another put's transaction runs
//! (JavaScript issuing several without awaiting each) wait for the queue,
//! and the first of them to get it writes them all in one transaction.
//! An IndexedDB transaction costs about 0.65 ms before any flush, and one
//! flush per transaction when strict (browser-anchors.md), so N waiting
//! puts cost one transaction, not N.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen::JsValue;

use crate::item::Encoded;

/// One caller's outcome: the ids of its items, or the batch's error.
pub(crate) type Answer = Result<Vec<Option<u64>>, JsValue>;

/// Where a caller finds its answer once a leader wrote its items.
#[derive(Default)]
pub(crate) struct Slot(RefCell<Option<Answer>>);

impl Slot {
    /// The answer, if a leader already wrote this caller's items.
    pub(crate) fn take(&self) -> Option<Answer> {
        self.0.borrow_mut().take()
    }
}

/// One caller's items (encoded, with their priority) and its slot.
pub(crate) type Waiting = (Vec<(Encoded, i64)>, Rc<Slot>);

/// Items waiting for a transaction.
#[derive(Default)]
pub(crate) struct Pending(RefCell<Vec<Waiting>>);

impl Pending {
    /// Adds a caller's items; its answer will be in the returned slot.
    pub(crate) fn push(&self, items: Vec<(Encoded, i64)>) -> Rc<Slot> {
        let slot = Rc::new(Slot::default());
        self.0.borrow_mut().push((items, Rc::clone(&slot)));
        slot
    }

    /// Everything waiting, for the leader to write in one transaction.
    pub(crate) fn take_all(&self) -> Vec<Waiting> {
        std::mem::take(&mut *self.0.borrow_mut())
    }
}

/// Hands each caller its share of the batch's answer (`ids` in the order
/// of `batch`), and returns `own`'s.
pub(crate) fn answer(batch: &[Waiting], ids: &Answer, own: &Rc<Slot>) -> Answer {
    let mut at = 0;
    let mut mine = None;
    for (items, slot) in batch {
        let share = match ids {
            Ok(ids) => Ok(ids[at..at + items.len()].to_vec()),
            Err(e) => Err(e.clone()),
        };
        at += items.len();
        if Rc::ptr_eq(slot, own) {
            mine = Some(share);
        } else {
            *slot.0.borrow_mut() = Some(share);
        }
    }
    mine.unwrap_or_else(|| Err(crate::error::js_error("Protocol", "a put was left out of its batch")))
}
