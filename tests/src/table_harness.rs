//! Record stores the record suite runs on: a fresh location per `new`,
//! and the same location again on each `open` (a restart).

use std::sync::{Arc, Mutex};

use persist_queue_core::records::{MemoryTable, Outcome, Plan, Table};

pub use crate::record_store::{TableHarness, skipped};

/// The wall clock (ms since the Unix epoch).
fn real_now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// A table name no other test (or earlier run) uses: `<prefix>_<pid>_<n>_<time>`.
pub fn fresh_table_name(prefix: &str) -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros());
    format!("{prefix}_{}_{n}_{}", std::process::id(), t % 1_000_000_000_000)
}

/// A PostgreSQL table on the server `PG_URL` names.
#[derive(Debug)]
pub struct PgHarness {
    name: String,
}

impl TableHarness for PgHarness {
    type T = persist_queue_postgres::PgTable;
    fn new() -> Self {
        PgHarness { name: fresh_table_name("t") }
    }
    async fn open(&self) -> Self::T {
        let connect = persist_queue_postgres::Connect::url(&crate::servers::pg_url().expect("PG_URL"))
            .expect("PG_URL parses");
        persist_queue_postgres::PgTable::open(
            &connect,
            &self.name,
            persist_queue_core::Durability::Buffered,
            persist_queue_core::records::Order::Fifo,
        )
        .expect("open postgres table")
    }
    fn unavailable() -> Option<String> {
        crate::servers::pg_url().err()
    }
    const OWN_CLOCK: bool = true;
    async fn pause(ms: u64) {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
    fn start_time() -> u64 {
        real_now_ms()
    }
}

/// A table shared with its harness, so it outlives the queue using it.
#[derive(Debug, Default)]
pub struct SharedTable<T>(pub Arc<Mutex<T>>);

impl<T> Clone for SharedTable<T> {
    fn clone(&self) -> Self {
        SharedTable(Arc::clone(&self.0))
    }
}

impl<T: Table> Table for SharedTable<T> {
    type Error = T::Error;
    fn execute(&mut self, plan: &Plan) -> impl Future<Output = Result<Outcome, T::Error>> {
        // Native tables answer at once: the lock is not held across an
        // await.
        let mut table = self.0.lock().unwrap_or_else(|e| e.into_inner());
        std::future::ready(persist_queue_core::records::complete(table.execute(plan)))
    }
}

/// The in-memory reference table.
#[derive(Debug, Default)]
pub struct MemoryTableHarness(SharedTable<MemoryTable>);

impl TableHarness for MemoryTableHarness {
    type T = SharedTable<MemoryTable>;
    fn new() -> Self {
        Self::default()
    }
    async fn open(&self) -> Self::T {
        self.0.clone()
    }
}

/// A SQLite table in a fresh database file.
#[derive(Debug)]
pub struct SqliteHarness {
    _tmp: tempfile::TempDir,
    path: std::path::PathBuf,
}

impl TableHarness for SqliteHarness {
    type T = persist_queue_sqlite::SqliteTable;
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tmp");
        let path = tmp.path().join("data.db");
        SqliteHarness { _tmp: tmp, path }
    }
    async fn open(&self) -> Self::T {
        persist_queue_sqlite::SqliteTable::open(
            &self.path,
            "queue_default",
            persist_queue_core::Durability::Buffered,
        )
        .expect("open sqlite table")
    }
}

/// The core's log table over a byte storage in memory (reopenable).
#[derive(Debug, Default)]
pub struct LogMemoryHarness(crate::harness::SharedMemory);

impl TableHarness for LogMemoryHarness {
    type T = persist_queue_core::records::LogTable<crate::harness::SharedMemory>;
    fn new() -> Self {
        Self::default()
    }
    async fn open(&self) -> Self::T {
        persist_queue_core::records::LogTable::open(self.0.clone(), persist_queue_core::Durability::Buffered)
            .expect("open log table")
    }
}

/// The core's log table on the filesystem: the file-based record queues.
#[derive(Debug)]
pub struct LogFsHarness {
    _tmp: tempfile::TempDir,
    dir: std::path::PathBuf,
}

impl TableHarness for LogFsHarness {
    type T = persist_queue_core::records::LogTable<persist_queue_fs::FsStorage>;
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = tmp.path().join("records");
        LogFsHarness { _tmp: tmp, dir }
    }
    async fn open(&self) -> Self::T {
        let d = persist_queue_core::Durability::Synced;
        let storage = persist_queue_fs::FsStorage::open(&self.dir, d).expect("open dir");
        persist_queue_core::records::LogTable::open(storage, d).expect("open log table")
    }
}

/// A MySQL / MariaDB table on the server `MYSQL_URL` names; `RETURNING`:
/// whether batched puts may use MariaDB's `INSERT … RETURNING` (off: the
/// statements a MySQL 8 server gets, run on MariaDB).
#[derive(Debug)]
pub struct MySqlHarnessOf<const RETURNING: bool> {
    name: String,
}

/// MySQL / MariaDB as the server offers it.
pub type MySqlHarness = MySqlHarnessOf<true>;

/// MySQL 8's statement path (no `RETURNING`), forced on MariaDB: no MySQL 8
/// server installs from this machine's package registries.
pub type MySql8Harness = MySqlHarnessOf<false>;

impl<const RETURNING: bool> TableHarness for MySqlHarnessOf<RETURNING> {
    type T = persist_queue_mysql::MySqlTable;
    fn new() -> Self {
        MySqlHarnessOf { name: fresh_table_name("t") }
    }
    async fn open(&self) -> Self::T {
        let connect = persist_queue_mysql::Connect::url(&crate::servers::mysql_url().expect("MYSQL_URL"))
            .expect("MYSQL_URL parses");
        let connect = if RETURNING { connect } else { connect.without_returning() };
        persist_queue_mysql::MySqlTable::open(
            &connect,
            &self.name,
            persist_queue_core::Durability::Synced,
            persist_queue_core::records::Order::Fifo,
        )
        .expect("open mysql table")
    }
    fn unavailable() -> Option<String> {
        crate::servers::mysql_url().err()
    }
    const OWN_CLOCK: bool = true;
    async fn pause(ms: u64) {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
    fn start_time() -> u64 {
        real_now_ms()
    }
}
