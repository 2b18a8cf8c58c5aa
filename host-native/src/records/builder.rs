//! `RecordBuilder`: where a record queue lives and how it behaves.

use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use persist_queue_core::Durability;
use persist_queue_core::records::{
    Backoff, Kind, Lease, Order, RecordQueue, complete, store_name, valid_name,
};

use crate::codec::{Codec, Postcard};
use crate::error::{Error, Misconfiguration, Result};
use crate::records::catalog::QueueKind;
use crate::records::handle::Records;
use crate::records::server::ServerOptions;
use crate::records::shared::{DEFAULT_LEASE, Retries, millis};
use crate::records::store::{RecordStore, SharedTable};
use crate::telemetry::QueueMetrics;

/// Refuses a name the core does not accept ([`valid_name`]): names become
/// table and directory names.
pub(crate) fn check_name(what: &'static str, name: &str) -> Result<()> {
    if valid_name(name) {
        Ok(())
    } else {
        Err(Misconfiguration::Name { what, name: name.to_string() }.into())
    }
}

/// The directory of the store `store` (a [`store_name`]) under `dir`. A
/// queue created before names were case-insensitive lives under its name
/// as given (`legacy`): it is renamed to the store name, once; if both
/// exist, the two queues are reported, never merged or picked between.
fn store_dir(dir: &Path, store: &str, legacy: &str) -> Result<PathBuf> {
    let path = dir.join(store);
    if legacy == store || path.exists() {
        let old = dir.join(legacy);
        if legacy != store && old.exists() && !same_dir(&old, &path) {
            return Err(Misconfiguration::CaseConflict {
                first: old.display().to_string(),
                second: path.display().to_string(),
            }
            .into());
        }
        return Ok(path);
    }
    let old = dir.join(legacy);
    if old.is_dir() {
        std::fs::rename(&old, &path)?;
    }
    Ok(path)
}

/// Whether `a` and `b` are one directory (a case-insensitive filesystem).
fn same_dir(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// A record queue type: its kind, and how to wrap the shared handle.
pub trait QueueType {
    /// The queue type for items `T` encoded by `C`.
    type Q<T, C>;
    /// The kind this type opens by default.
    const KIND: Kind;
    /// Wraps the shared handle.
    fn wrap<T, C>(records: Records<T, C>) -> Self::Q<T, C>;
}

/// The queue type of a queue whose kind is chosen at run time
/// ([`RecordBuilder::kind`]): `RecordBuilder::<AnyQueue>::files(dir)`
/// opens a [`Records`] handle (an ack queue unless `kind` says otherwise).
#[derive(Debug)]
pub struct AnyQueue;

impl QueueType for AnyQueue {
    type Q<T, C> = Records<T, C>;
    const KIND: Kind = Kind::ACK;
    fn wrap<T, C>(records: Records<T, C>) -> Records<T, C> {
        records
    }
}

#[derive(Clone, Debug)]
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
pub(crate) enum Location {
    Sqlite {
        dir: PathBuf,
        file: String,
    },
    Files {
        dir: PathBuf,
    },
    Memory(SharedTable),
    /// A database server.
    Server(crate::records::server::ServerAddress),
}

/// Settings of a record queue; start from `AckQueue::builder(dir)` (or
/// `PriorityQueue`, `UniqueQueue`, `FifoQueue`, `FiloQueue`).
#[derive(Debug)]
#[must_use]
pub struct RecordBuilder<K, C = Postcard> {
    location: Location,
    server_options: ServerOptions,
    name: String,
    durability: Durability,
    auto_resume: bool,
    auto_commit: bool,
    skip_corrupted: bool,
    lease: Duration,
    max_attempts: u32,
    backoff: Backoff,
    kind: Kind,
    codec: C,
    _kind: PhantomData<fn() -> K>,
}

impl<K, C: Clone> Clone for RecordBuilder<K, C> {
    fn clone(&self) -> Self {
        RecordBuilder {
            location: self.location.clone(),
            server_options: self.server_options.clone(),
            name: self.name.clone(),
            durability: self.durability,
            auto_resume: self.auto_resume,
            auto_commit: self.auto_commit,
            skip_corrupted: self.skip_corrupted,
            lease: self.lease,
            max_attempts: self.max_attempts,
            backoff: self.backoff,
            kind: self.kind,
            codec: self.codec.clone(),
            _kind: PhantomData,
        }
    }
}

impl<K: QueueType> RecordBuilder<K, Postcard> {
    /// A queue in the SQLite database `dir/data.db` (the directory is
    /// created), named `default`.
    pub fn sqlite(dir: impl AsRef<Path>) -> Self {
        Self::with_store(Location::Sqlite { dir: dir.as_ref().to_path_buf(), file: "data.db".into() })
    }

    /// A queue in the directory `dir` as plain files (the core's record
    /// log, no SQLite). Several processes may share it: each operation
    /// locks the directory and first reads what the others appended (or,
    /// when the lock's generation number says no other process held it
    /// since, reads nothing). About 57 bytes of memory per stored item;
    /// payloads stay on disk.
    pub fn files(dir: impl AsRef<Path>) -> Self {
        Self::with_store(Location::Files { dir: dir.as_ref().to_path_buf() })
    }

    /// A queue on a database server, shared by processes on any number of
    /// machines: `postgresql://user:password@host:5432/db` (feature
    /// `postgres`) or `mysql://user:password@host:3306/db` (feature `mysql`;
    /// MySQL 8 or MariaDB 10.6+). Claims are atomic on the server (`FOR
    /// UPDATE SKIP LOCKED`): no item reaches two consumers. A waiting `get`
    /// wakes on a put from anywhere within milliseconds on PostgreSQL
    /// (`LISTEN/NOTIFY`) and within 50 ms on MySQL (polling, 2 ms doubling
    /// to 50 ms). Leases are reckoned on the server's clock, so consumers
    /// on machines with skewed clocks agree.
    ///
    /// `at` is a URL (`&str`/`String`) or persist-queue's parameters,
    /// [`ServerAddress::mysql`](crate::ServerAddress::mysql)`(host, user,
    /// passwd, db_name, port)`.
    #[doc(alias = "MySQLQueue")]
    pub fn server(at: impl Into<crate::records::server::ServerAddress>) -> Self {
        Self::with_store(Location::Server(at.into()))
    }

    /// A queue in memory: shared by the handles of this queue, gone with
    /// the process.
    pub fn in_memory() -> Self {
        Self::with_store(Location::Memory(SharedTable::default()))
    }

    fn with_store(location: Location) -> Self {
        RecordBuilder {
            location,
            name: "default".into(),
            durability: Durability::Synced,
            auto_resume: false,
            auto_commit: true,
            skip_corrupted: false,
            lease: DEFAULT_LEASE,
            max_attempts: 0,
            backoff: Backoff::None,
            kind: K::KIND,
            codec: Postcard,
            server_options: ServerOptions::default(),
            _kind: PhantomData,
        }
    }
}

impl<K: QueueType, C> RecordBuilder<K, C> {
    /// How a server queue talks to its server: TLS, timeouts, names, the
    /// schema (see [`ServerOptions`]); ignored by the embedded stores.
    pub fn server_options(mut self, options: ServerOptions) -> Self {
        self.server_options = options;
        self
    }

    /// The queue's name (`[A-Za-z0-9_]{1,64}`; default `default`). Queues
    /// of different names or kinds share one database file.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The database file's name inside the directory (default `data.db`).
    pub fn db_file_name(mut self, file: impl Into<String>) -> Self {
        if let Location::Sqlite { file: f, .. } = &mut self.location {
            *f = file.into();
        }
        self
    }

    /// `Synced` (default, like persist-queue's SQLite queues: each commit
    /// is fsynced) or `Buffered` (survives a process crash; faster).
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// persist-queue's recovery (default off): make every item in flight
    /// ready again at open, including those that live consumers in other
    /// processes hold. Leases make it unneeded: an item whose consumer
    /// died comes back when its lease ends ([`Self::lease`]), and never
    /// while its consumer holds it.
    pub fn auto_resume(mut self, on: bool) -> Self {
        self.auto_resume = on;
        self
    }

    /// How long a get leases an item to its consumer (default 30 s,
    /// [`crate::DEFAULT_LEASE`]): unless it is settled or extended
    /// ([`Records::extend`](crate::Records::extend)) before then, it is
    /// delivered again, and the first consumer's late settle is refused
    /// with [`Error::LeaseLost`] once another delivery took over. Embedded
    /// stores reckon it on this machine's clock (held from going
    /// backwards), servers on theirs.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Deliveries an item may have (default 0: no limit): an item nacked
    /// on its last attempt, or whose last lease ends, becomes a dead letter
    /// ([`Records::dead_letters`](crate::Records::dead_letters)) instead of
    /// being delivered again. An item that does not decode as the queue's
    /// type spends no attempt.
    pub fn max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n;
        self
    }

    /// How long a nacked delivery waits before it is due again (default
    /// [`Backoff::None`]: at once, persist-queue's nack).
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Plain queues: delete an item as it is taken (default on,
    /// at-most-once), or only on `task_done` (off, at-least-once). Ack
    /// queues ignore it.
    pub fn auto_commit(mut self, on: bool) -> Self {
        self.auto_commit = on;
        self
    }

    /// Plain-files store: open a log with damaged entries by skipping them
    /// (the plan each one belongs to is dropped; the damaged bytes stay on
    /// disk) instead of failing with [`Error::Corrupted`] (default off).
    /// A torn tail left by a crash is always repaired; this is for damage.
    pub fn skip_corrupted(mut self, on: bool) -> Self {
        self.skip_corrupted = on;
        self
    }

    /// Newest first (FILO) instead of oldest first.
    pub fn filo(mut self) -> Self {
        self.kind.order = Order::Filo;
        self
    }

    /// Refuse an item equal to one already waiting or in flight.
    pub fn unique(mut self) -> Self {
        self.kind.unique = true;
        self
    }

    /// Any kind, chosen at run time (tools: [`QueueKind::from_store_name`]
    /// says which a listed store is). With [`AnyQueue`], `open` returns the
    /// [`Records`] handle.
    pub fn kind(mut self, kind: QueueKind) -> Self {
        self.kind = kind.kind();
        self
    }

    /// The serializer (default [`Postcard`]).
    pub fn codec<C2>(self, codec: C2) -> RecordBuilder<K, C2> {
        RecordBuilder {
            location: self.location,
            server_options: self.server_options,
            name: self.name,
            durability: self.durability,
            auto_resume: self.auto_resume,
            auto_commit: self.auto_commit,
            skip_corrupted: self.skip_corrupted,
            lease: self.lease,
            max_attempts: self.max_attempts,
            backoff: self.backoff,
            kind: self.kind,
            codec,
            _kind: PhantomData,
        }
    }

    /// The table name: persist-queue's per-class prefix, then the name
    /// ([`store_name`]: lowercase).
    fn table_name(&self) -> String {
        store_name(self.prefix(), &self.name)
    }

    /// persist-queue's per-class table prefix.
    fn prefix(&self) -> &'static str {
        QueueKind::of(self.kind).prefix()
    }

    /// Opens (creating if needed) the queue.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidConfig`] for a name that is not
    /// `[A-Za-z0-9_]{1,64}`; storage errors otherwise.
    pub fn open<T>(self) -> Result<K::Q<T, C>>
    where
        C: Codec<T>,
    {
        check_name("queue", &self.name)?;
        let table = match &self.location {
            Location::Memory(m) => RecordStore::Memory(SharedTable(Arc::clone(&m.0))),
            Location::Files { dir } => {
                let legacy = format!("{}_{}", self.prefix(), self.name);
                let path = store_dir(dir, &self.table_name(), &legacy)?;
                let storage =
                    persist_queue_fs::FsStorage::open_shared(path, self.durability).map_err(|e| {
                        if e.kind() == std::io::ErrorKind::NotADirectory {
                            Misconfiguration::NotADirectory(e.to_string()).into()
                        } else {
                            Error::Io(e)
                        }
                    })?;
                let config = persist_queue_core::records::LogConfig {
                    skip_corrupted: self.skip_corrupted,
                    ..Default::default()
                };
                let table =
                    persist_queue_core::records::LogTable::open_shared(storage, self.durability, config)?;
                RecordStore::Files(Box::new(table))
            }
            #[cfg(feature = "sqlite")]
            Location::Sqlite { dir, file } => {
                std::fs::create_dir_all(dir)?;
                // Indexed for the kind's order only: one index less per write.
                let t = persist_queue_sqlite::SqliteTable::open_for(
                    dir.join(file),
                    &self.table_name(),
                    self.durability,
                    self.kind.order,
                )?;
                RecordStore::Sqlite(Box::new(t))
            }
            #[cfg(not(feature = "sqlite"))]
            Location::Sqlite { .. } => {
                return Err(Misconfiguration::NotBuilt("sqlite").into());
            }
            Location::Server(url) => {
                let legacy = format!("{}_{}", self.prefix(), self.name);
                let (table, poll, listen) = crate::records::server::open_table(
                    url,
                    &self.server_options,
                    &self.table_name(),
                    &legacy,
                    self.durability,
                    self.kind.order,
                )?;
                let queue = self.open_queue(table)?;
                let retries = self.retries();
                let records = Records::new(
                    queue,
                    self.auto_commit,
                    self.durability.is_synced(),
                    true,
                    self.codec,
                    poll,
                    QueueMetrics::new(&self.name.to_ascii_lowercase(), QueueKind::of(self.kind).label()),
                    retries,
                );
                if let Some(listen) = listen {
                    records.listen_later(listen);
                }
                return Ok(K::wrap(records));
            }
        };
        let queue = self.open_queue(table)?;
        let synced = self.durability.is_synced();
        let retries = self.retries();
        Ok(K::wrap(Records::new(
            queue,
            self.auto_commit,
            synced,
            false,
            self.codec,
            crate::records::shared::POLL,
            QueueMetrics::new(&self.name.to_ascii_lowercase(), QueueKind::of(self.kind).label()),
            retries,
        )))
    }

    /// The core's queue over `table`, recovered as configured.
    fn open_queue(&self, table: RecordStore) -> Result<RecordQueue<RecordStore>> {
        let lease = Lease { now: crate::records::shared::now_ms(), ms: millis(self.lease) };
        let mut queue = complete(RecordQueue::open(table, self.kind, self.auto_resume, lease))?;
        queue.set_max_attempts(self.max_attempts);
        Ok(queue)
    }

    fn retries(&self) -> Retries {
        Retries { lease: self.lease, backoff: self.backoff }
    }
}
