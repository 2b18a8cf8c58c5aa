//! The record-store contract and the record-queue suite on every table.

persist_queue_tests::record_conformance!(memory, persist_queue_tests::MemoryTableHarness);
persist_queue_tests::record_conformance!(sqlite, persist_queue_tests::SqliteHarness);
persist_queue_tests::record_conformance!(log_memory, persist_queue_tests::LogMemoryHarness);
persist_queue_tests::record_conformance!(log_files, persist_queue_tests::LogFsHarness);
persist_queue_tests::record_conformance!(postgres, persist_queue_tests::PgHarness);
persist_queue_tests::record_conformance!(mysql, persist_queue_tests::MySqlHarness);
