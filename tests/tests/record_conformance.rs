//! The record-store contract and the record-queue suite on every table.

persist_queue_tests::record_conformance!(memory, persist_queue_core::records::MemoryTable::new);
