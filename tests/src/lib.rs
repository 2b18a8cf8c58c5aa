//! # persist-queue-tests
//!
//! The conformance suite, written once and run against every backend: each
//! behaviour is a generic function over a [`Harness`] (the backend), a
//! serializer and an item type, and [`queue_conformance!`] expands them
//! into `#[test]`s for one backend in one line:
//!
//! ```ignore
//! persist_queue_tests::queue_conformance!(filesystem, persist_queue_tests::FsHarness);
//! ```
//!
//! Crash tests live in `tests/`: `crash_sim.rs` (seeded power cuts and torn
//! writes on the fault-injecting storage) and `crash_kill.rs` (a child
//! process killed with SIGKILL).

pub mod behaviour;
pub mod contract;
pub mod cut_proxy;
pub mod explorer;
pub mod gated;
pub mod harness;
pub mod item;
pub mod map_contract;
pub mod record_store;
pub mod record_suite;
pub mod seeds;
pub mod server_run;
pub mod servers;
pub mod suite;
pub mod table_contract;
pub mod table_harness;

pub use crate::harness::{FsHarness, Harness, MemoryHarness, SharedMemory};
pub use crate::item::Item;
pub use crate::table_harness::{
    LogFsHarness, LogMemoryHarness, MemoryTableHarness, MySql8Harness, MySqlHarness, MySqlHarnessOf,
    PgHarness, SharedTable, SqliteHarness, TableHarness, fresh_table_name, skipped,
};
pub use persist_queue;
pub use persist_queue_core::records::complete;

/// The clock and lease of tests and helper processes that are not about
/// leases: an hour, so no claim expires while they run.
pub const LONG_LEASE: persist_queue_core::records::Lease =
    persist_queue_core::records::Lease { now: 1_000_000, ms: 3_600_000 };

/// Expands the record-store contract test and the record-queue suite for
/// one record store, given its [`TableHarness`] (the test names come from
/// [`with_record_test_names!`], the one list every runner uses).
#[macro_export]
macro_rules! record_conformance {
    ($name:ident, $harness:ty) => {
        mod $name {
            use $crate::__record_tests;
            $crate::with_record_test_names!(__record_tests { $harness; });
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __record_tests {
    ($h:ty; suite: $($t:ident),* ; contract: $($c:ident),* $(,)?) => {
        $(
            #[test]
            fn $t() {
                if $crate::skipped::<$h>() {
                    return;
                }
                $crate::complete($crate::record_suite::$t::<$h>())
            }
        )*
        $(
            #[test]
            fn $c() {
                if $crate::skipped::<$h>() {
                    return;
                }
                $crate::complete(async {
                    let harness = <$h as $crate::TableHarness>::new();
                    let table = $crate::TableHarness::open(&harness).await;
                    $crate::table_contract::$c(table).await
                })
            }
        )*
    };
}

/// Expands the whole suite into tests for one backend.
#[macro_export]
macro_rules! queue_conformance {
    ($name:ident, $harness:ty) => {
        mod $name {
            $crate::__codec_tests!(postcard, $harness, $crate::persist_queue::Postcard, String);
            $crate::__codec_tests!(json, $harness, $crate::persist_queue::Json, String);
            $crate::__codec_tests!(msgpack, $harness, $crate::persist_queue::MessagePack, String);
            $crate::__codec_tests!(cbor, $harness, $crate::persist_queue::Cbor, String);
            $crate::__codec_tests!(raw, $harness, $crate::persist_queue::Raw, Vec<u8>);

            #[test]
            fn threads_4x4_100k() {
                $crate::suite::threads_4x4::<$harness, $crate::persist_queue::Postcard, String>(100_000)
            }
            $crate::__backend_tests!(
                $harness;
                wrong_type_is_kept,
                codec_mismatch,
                invalid_config,
                synced_producers,
                async_tokio,
                async_smol
            );
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __codec_tests {
    ($m:ident, $h:ty, $c:ty, $i:ty) => {
        mod $m {
            $crate::__tests!(
                $h, $c, $i;
                open_close_single,
                empty,
                full,
                open_close_1000,
                partial_write,
                random_read_write,
                multi_threaded,
                garbage_on_head,
                task_done_too_many_times,
                get_timeout,
                put_nowait,
                put_maxsize_reached,
                put_timeout_reached,
                put_block_and_wait,
                clear_tail_file,
                drop_releases,
                autosave_get,
                autosave_join,
                restart_semantics,
                peek,
                put_many,
                close_wakes_waiters,
                too_large,
                stored_chunk_size_wins,
                corrupted_record,
                corrupted_head_at_open
            );
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __tests {
    ($h:ty, $c:ty, $i:ty; $($t:ident),* $(,)?) => {
        $(
            #[test]
            fn $t() {
                $crate::suite::$t::<$h, $c, $i>()
            }
        )*
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __backend_tests {
    ($h:ty; $($t:ident),* $(,)?) => {
        $(
            #[test]
            fn $t() {
                $crate::behaviour::$t::<$h>()
            }
        )*
    };
}
