//! The record-store contract and the record-queue suite (the same source
//! files as every native store) on IndexedDB and localStorage, in headless
//! Chromium.

#![cfg(target_arch = "wasm32")]
#![allow(missing_docs)]

use persist_queue_core::Durability;
use persist_queue_core::records::{LogTable, Order};
use persist_queue_indexeddb::IdbTable;
use persist_queue_local_storage::LocalStorage;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[path = "../../tests/src/map_contract.rs"]
#[allow(dead_code, unreachable_pub)]
mod map_contract;
#[path = "../../tests/src/record_store.rs"]
#[allow(dead_code, unreachable_pub)]
mod record_store;
#[path = "../../tests/src/record_suite.rs"]
#[allow(dead_code, unreachable_pub)]
mod record_suite;
#[path = "../../tests/src/table_contract.rs"]
#[allow(dead_code, unreachable_pub)]
mod table_contract;

use record_store::TableHarness;

/// A queue name no other test (or earlier run) uses.
fn fresh(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!("{prefix}_{}_{}", js_sys::Date::now() as u64, NEXT.fetch_add(1, Ordering::Relaxed))
}

/// An IndexedDB table opened for a FIFO queue (`PRIORITY` false: synced,
/// no priority bound kept) or a priority queue (true: relaxed, puts keep
/// the bound priority claims seek from).
struct Idb<const PRIORITY: bool>(String);

impl<const PRIORITY: bool> TableHarness for Idb<PRIORITY> {
    type T = IdbTable;
    fn new() -> Self {
        Idb(fresh(if PRIORITY { "idbp" } else { "idb" }))
    }
    async fn open(&self) -> IdbTable {
        let (durability, order) = if PRIORITY {
            (Durability::Buffered, Order::Priority)
        } else {
            (Durability::Synced, Order::Fifo)
        };
        IdbTable::open(&self.0, durability, order).await.expect("open IndexedDB table")
    }
}

struct Ls(String);

impl TableHarness for Ls {
    type T = LogTable<LocalStorage>;
    fn new() -> Self {
        Ls(fresh("ls"))
    }
    async fn open(&self) -> Self::T {
        persist_queue_local_storage::open_table(&self.0, Durability::Buffered)
            .expect("open localStorage table")
    }
}

macro_rules! browser_conformance {
    ($m:ident, $h:ty) => {
        mod $m {
            use super::*;
            crate::with_record_test_names!(browser_conformance { @tests $h; });
        }
    };
    (@tests $h:ty; suite: $($t:ident),* ; contract: $($c:ident),* $(,)?) => {
        $(
            #[wasm_bindgen_test]
            async fn $t() {
                record_suite::$t::<$h>().await
            }
        )*
        $(
            #[wasm_bindgen_test]
            async fn $c() {
                let h = <$h as TableHarness>::new();
                table_contract::$c(h.open().await).await
            }
        )*
    };
}

browser_conformance!(indexeddb, Idb<false>);
browser_conformance!(indexeddb_priority, Idb<true>);
browser_conformance!(local_storage, Ls);

macro_rules! map_conformance {
    ($($t:ident),*) => {
        mod maps {
            use super::*;
            $(
                mod $t {
                    use super::*;
                    #[wasm_bindgen_test]
                    async fn indexeddb() {
                        let m = persist_queue_indexeddb::IdbMap::open(&fresh("map"), Durability::Synced).await;
                        map_contract::$t(m.expect("open IndexedDB map")).await
                    }
                    #[wasm_bindgen_test]
                    async fn local_storage() {
                        let m = persist_queue_local_storage::LsMap::open(&fresh("map"));
                        map_contract::$t(m.expect("open localStorage map")).await
                    }
                }
            )*
        }
    };
}

map_conformance!(set_get_remove, scans_in_key_byte_order);
