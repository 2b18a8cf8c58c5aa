//! The `Storage` contract on every storage.

use persist_queue_core::{Durability, FaultPlan, FaultyStorage, MemoryStorage};
use persist_queue_fs::FsStorage;
use persist_queue_tests::contract::storage_contract;

#[test]
fn memory() {
    storage_contract(MemoryStorage::new());
}

#[test]
fn faulty_without_faults() {
    storage_contract(FaultyStorage::new(FaultPlan::default()));
}

#[test]
fn filesystem_buffered() {
    let dir = tempfile::tempdir().expect("tmp");
    storage_contract(FsStorage::open(dir.path().join("q"), Durability::Buffered).expect("open"));
}

#[test]
fn filesystem_synced() {
    let dir = tempfile::tempdir().expect("tmp");
    storage_contract(FsStorage::open(dir.path().join("q"), Durability::Synced).expect("open"));
}
