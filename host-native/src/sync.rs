//! The locks and condition variables of the blocking [`crate::Queue`]:
//! std's, or loom's when its model checker explores every interleaving
//! (`RUSTFLAGS="--cfg pq_loom"`, `tests/loom.rs`).

#[cfg(pq_loom)]
pub(crate) use loom::sync::{Arc, Condvar, Mutex, MutexGuard};
#[cfg(not(pq_loom))]
pub(crate) use std::sync::{Arc, Condvar, Mutex, MutexGuard};
