//! The conformance suite on every backend: one line each.

persist_queue_tests::queue_conformance!(memory, persist_queue_tests::MemoryHarness);
persist_queue_tests::queue_conformance!(filesystem, persist_queue_tests::FsHarness);
