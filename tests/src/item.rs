//! Item types the suite puts, one per serializer family.

use std::fmt::Debug;

/// An item the suite can make from a number and recognise again.
pub trait Item: Clone + PartialEq + Debug + Send + Sync + 'static {
    /// The `i`-th item (persist-queue's tests use `'var%d'`).
    fn make(i: usize) -> Self;
}

impl Item for String {
    fn make(i: usize) -> String {
        format!("var{i}")
    }
}

impl Item for Vec<u8> {
    fn make(i: usize) -> Vec<u8> {
        format!("var{i}").into_bytes()
    }
}
