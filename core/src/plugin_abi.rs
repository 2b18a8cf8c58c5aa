//! The ABI between a native host that lends an ack queue to a WebAssembly
//! plugin (`persist_queue::plugin`) and the plugin's side
//! (`persist_queue_wasi::host`): the import module, the function names and
//! signatures, and the codes they return. Written once here; both sides
//! use these names (the guest's import block must spell them as literals,
//! and checks at compile time that they are these).
//!
//! | function | returns |
//! |---|---|
//! | `pq_put(ptr: i32, len: i32) -> i64` | the new item's id, or an error code |
//! | `pq_get(timeout_ms: i32) -> i64` | the id of an item now held by this instance, or an error code ([`code::EMPTY`] after the timeout) |
//! | `pq_item_len(id: i64) -> i64` | the held item's length |
//! | `pq_item_read(id: i64, ptr: i32, cap: i32) -> i64` | bytes copied (all of them, or [`code::BAD_MEMORY`] if `cap` is too small) |
//! | `pq_ack(id: i64) -> i32`, `pq_nack(id)`, `pq_ack_failed(id)` | `0`, or an error code |
//!
//! Every error code is negative; a non-negative `i64` is an id or a
//! length.

/// The import module every function lives in.
pub const MODULE: &str = "persist_queue";

/// The function names, in the order of the table above.
pub mod func {
    /// `pq_put(ptr: i32, len: i32) -> i64`.
    pub const PUT: &str = "pq_put";
    /// `pq_get(timeout_ms: i32) -> i64`.
    pub const GET: &str = "pq_get";
    /// `pq_item_len(id: i64) -> i64`.
    pub const ITEM_LEN: &str = "pq_item_len";
    /// `pq_item_read(id: i64, ptr: i32, cap: i32) -> i64`.
    pub const ITEM_READ: &str = "pq_item_read";
    /// `pq_ack(id: i64) -> i32`.
    pub const ACK: &str = "pq_ack";
    /// `pq_nack(id: i64) -> i32`.
    pub const NACK: &str = "pq_nack";
    /// `pq_ack_failed(id: i64) -> i32`.
    pub const ACK_FAILED: &str = "pq_ack_failed";
    /// Every function, for checks that each side has all of them.
    pub const ALL: [&str; 7] = [PUT, GET, ITEM_LEN, ITEM_READ, ACK, NACK, ACK_FAILED];
}

/// The negative codes the functions return.
pub mod code {
    /// No item came before the timeout.
    pub const EMPTY: i64 = -1;
    /// A pointer or length outside the plugin's memory (or too small a
    /// buffer).
    pub const BAD_MEMORY: i64 = -2;
    /// The id is not an item this instance holds.
    pub const NOT_HELD: i64 = -3;
    /// The queue's store failed (the item is unchanged).
    pub const STORE: i64 = -4;
    /// The item is larger than the host allows.
    pub const TOO_LARGE: i64 = -5;
    /// Not a host code: what the guest library answers when it runs
    /// natively, with no host to lend a queue.
    pub const NO_HOST: i64 = -100;
}

/// Whether two strings are equal, in a `const` context (the guest checks
/// its literal import names against [`func`] with it).
pub const fn same_name(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_and_codes_are_negative_and_distinct() {
        assert!(
            same_name(func::PUT, "pq_put") && !same_name(func::PUT, "pq_pu") && !same_name("pq_a", "pq_b")
        );
        let codes =
            [code::EMPTY, code::BAD_MEMORY, code::NOT_HELD, code::STORE, code::TOO_LARGE, code::NO_HOST];
        for (i, c) in codes.iter().enumerate() {
            assert!(*c < 0);
            assert!(!codes[..i].contains(c));
        }
    }
}
