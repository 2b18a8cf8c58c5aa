//! What a record store under test provides. Kept apart from the harnesses
//! (which need SQLite, servers, threads), so that a WebAssembly guest can
//! include `record_suite.rs` and `table_contract.rs` unchanged with this
//! file as its `table_harness` module. The suite is async so that the
//! same source also runs on IndexedDB in a browser; on a synchronous table
//! its futures are ready at once ([`persist_queue_core::records::complete`]).

use core::future::Future;

use persist_queue_core::records::Table;

/// One record store under test.
pub trait TableHarness: Sized {
    /// The table type.
    type T: Table;
    /// A fresh, empty location.
    fn new() -> Self;
    /// The table at this location (again after a drop: a restart).
    fn open(&self) -> impl Future<Output = Self::T>;
    /// Why this store cannot be tested here (no server configured), if so.
    fn unavailable() -> Option<String> {
        None
    }
    /// The store reckons leases and delays on its own clock (SQL servers)
    /// instead of the plans' `now`: the lease tests then wait for real.
    const OWN_CLOCK: bool = false;
    /// Lets `ms` of real time pass (stores with their own clock; a no-op
    /// for the others, whose clock the tests move).
    fn pause(_ms: u64) -> impl Future<Output = ()> {
        core::future::ready(())
    }
    /// The clock's reading when a lease test starts (ms): any value for the
    /// stores that take the plans' `now`, the real time for the others.
    fn start_time() -> u64 {
        5_000_000
    }
}

/// Whether `H`'s tests skip here (saying why on stderr).
pub fn skipped<H: TableHarness>() -> bool {
    match H::unavailable() {
        Some(why) => {
            eprintln!("skipped: {why}");
            true
        }
        None => false,
    }
}
