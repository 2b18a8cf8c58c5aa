//! # persist-queue
//!
//! Persistent, crash-safe queues for Rust: the queue to reach for when an
//! item must survive `kill -9` or a power cut. A re-implementation of
//! Python's [persist-queue](https://pypi.org/project/persist-queue/) that
//! keeps its API names, fixes its bugs, and is much faster. This crate is
//! the front of every queue kind: the rules live in [`persist_queue_core`]
//! (no I/O), the stores in the adapter crates; here are the thread-safe
//! handles, blocking and async, the serializers and one typed [`Error`].
//!
//! What it is not: a message broker (no network protocol of its own: a
//! queue is a directory, a database file, or a table on *your* PostgreSQL
//! or MySQL server), and not a browser library (that is the npm package
//! `persist-queue-wasm`, the same core compiled to WebAssembly).
//!
//! | persist-queue (Python) | here |
//! |---|---|
//! | `Queue` (files, FIFO, `task_done`) | [`Queue`] (one process per directory) |
//! | `SQLiteQueue`, `FIFOSQLiteQueue` / `FILOSQLiteQueue` | [`FifoQueue`] / [`FiloQueue`] |
//! | `SQLiteAckQueue`, `FIFOSQLiteAckQueue` / `FILOSQLiteAckQueue`, `UniqueAckQ` | [`AckQueue`] (`.filo()`, `.unique()` on its builder) |
//! | `PriorityQueue` | [`PriorityQueue`] |
//! | `UniqueQ` | [`UniqueQueue`] |
//! | `PDict` | [`PDict`] |
//! | `MySQLQueue` (and PostgreSQL, which persist-queue lacks) | any record kind with `::server(url)` |
//! | `AsyncQueue`, `AsyncSQLiteQueue` ... | [`AsyncQueue`], [`AsyncRecords`], [`AsyncPDict`]: a twin of every blocking method |
//! | (none) | [`plugin::PluginHost`]: lend an ack queue to a WebAssembly plugin (feature `wasmtime`) |
//!
//! ## The chunk FIFO: [`Queue`]
//!
//! Checksummed records in numbered chunk files; torn writes cut back on
//! open, damage reported as [`Error::Corrupted`] (or skipped and counted).
//! `task_done` confirms every item got so far. A directory is opened by one
//! process at a time (it is locked); the record queues are the
//! multi-process ones.
//!
//! ```
//! use persist_queue::{Durability, Queue};
//!
//! let dir = tempfile::tempdir()?;
//! let q: Queue<String> = Queue::builder(dir.path()).durability(Durability::Synced).open()?;
//! q.put(&"hello".to_string())?; // on disk when this returns
//! let item = q.get()?;
//! q.task_done()?; // confirmed: never delivered again
//! assert_eq!(item, "hello");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Record queues: one row per item, each settled on its own
//!
//! On SQLite (`builder(dir)`: `dir/data.db`), plain files (`files(dir)`),
//! a database server (`server(url)`) or memory (`in_memory()`), shared by
//! processes. Names are one rule everywhere (1 to 64 of `A-Z a-z 0-9 _`,
//! case-insensitive).
//!
//! [`AckQueue`]: at-least-once; a get leases the item to its consumer
//! (30 s by default, [`DEFAULT_LEASE`]), and an item neither settled nor
//! extended by then is delivered again, to any consumer, with no restart.
//!
//! ```
//! use persist_queue::AckQueue;
//!
//! let dir = tempfile::tempdir()?;
//! let jobs: AckQueue<String> = AckQueue::builder(dir.path()).name("uploads").open()?;
//! jobs.put(&"upload 1".to_string())?;
//! let d = jobs.get()?; // in flight until settled
//! jobs.ack(&d)?; // or nack(&d) to give it back, ack_failed(&d) for never again
//! assert_eq!(jobs.acked_count()?, 1);
//! # Ok::<(), persist_queue::Error>(())
//! ```
//!
//! [`PriorityQueue`]: lowest priority first, ties oldest first.
//!
//! ```
//! use persist_queue::PriorityQueue;
//!
//! let dir = tempfile::tempdir()?;
//! let q: PriorityQueue<String> = PriorityQueue::files(dir.path()).open()?;
//! q.put(&"later".to_string(), 5)?;
//! q.put(&"first".to_string(), 1)?;
//! assert_eq!(q.get()?.item, "first");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`UniqueQueue`]: refuses an item equal to one still queued (equal by a
//! canonical form, whatever the serializer).
//!
//! ```
//! use persist_queue::UniqueQueue;
//!
//! let q: UniqueQueue<String> = UniqueQueue::in_memory().open()?;
//! assert!(q.put(&"crawl /a".to_string())?.is_some());
//! assert!(q.put(&"crawl /a".to_string())?.is_none(), "already queued");
//! # Ok::<(), persist_queue::Error>(())
//! ```
//!
//! [`FifoQueue`] and [`FiloQueue`]: persist-queue's SQLite queues; a `get`
//! removes the item unless the builder says `auto_commit(false)`.
//!
//! ```
//! use persist_queue::{FifoQueue, FiloQueue};
//!
//! let fifo: FifoQueue<u32> = FifoQueue::in_memory().open()?;
//! let filo: FiloQueue<u32> = FiloQueue::in_memory().open()?;
//! for i in 1..=2 {
//!     fifo.put(&i)?;
//!     filo.put(&i)?;
//! }
//! assert_eq!((fifo.get()?.item, filo.get()?.item), (1, 2));
//! # Ok::<(), persist_queue::Error>(())
//! ```
//!
//! ## Leases, fencing, retries, dead letters, delays
//!
//! Settling a [`Delivery`] is fenced by its lease: once the lease ended and
//! another consumer took the item, [`Error::LeaseLost`]. `extend` is the
//! heartbeat ([`KeepAlive`] beats from a thread until dropped);
//! `max_attempts` turns an item that keeps failing into a dead
//! letter; a [`Backoff`] delays each nack; [`PutOptions`] delays a put;
//! [`QueueStats`] counts it all. Embedded stores reckon leases on this
//! machine's clock, servers on theirs.
//!
//! ```
//! use std::time::Duration;
//! use persist_queue::{AckQueue, Error, PutOptions};
//!
//! let q: AckQueue<String> = AckQueue::in_memory().lease(Duration::from_millis(50)).max_attempts(2).open()?;
//! q.put_with(&"tomorrow".to_string(), PutOptions::delayed(Duration::from_secs(86_400)))?;
//! q.put(&"now".to_string())?;
//! let slow = q.get()?;
//! assert_eq!(slow.item, "now", "the delayed item is not due");
//! std::thread::sleep(Duration::from_millis(80)); // the lease ends
//! let again = q.get()?; // delivered again, token 2
//! assert!(matches!(q.ack(&slow), Err(Error::LeaseLost { .. })), "the late ack is refused");
//! q.nack(&again)?; // its last attempt: a dead letter
//! assert_eq!(q.dead_letters()?.len(), 1);
//! let s = q.stats()?;
//! assert_eq!((s.ready, s.delayed, s.dead), (0, 1, 1));
//! # Ok::<(), persist_queue::Error>(())
//! ```
//!
//! ## [`PDict`]: a persistent map
//!
//! ```
//! use persist_queue::PDict;
//!
//! let dir = tempfile::tempdir()?;
//! let d: PDict<String, u64> = PDict::open(dir.path())?;
//! d.insert(&"visits".to_string(), &41)?;
//! assert_eq!(d.get(&"visits".to_string())?, Some(41));
//! # Ok::<(), persist_queue::Error>(())
//! ```
//!
//! ## Servers: PostgreSQL and MySQL / MariaDB
//!
//! Every record kind and `PDict` with `::server(url)` (features `postgres`,
//! `mysql`): claims are atomic on the server, so no item reaches two
//! consumers on any number of machines. A connection lost while a commit
//! was on its way is [`Error::CommitUnknown`]; a server unreachable for
//! the whole retry window is [`Error::Unavailable`] (nothing changed).
//!
//! ```no_run
//! use persist_queue::{AckQueue, Error};
//!
//! let q: AckQueue<String> =
//!     AckQueue::server("postgresql://postgres@127.0.0.1:5432/postgres").name("mail").open()?;
//! match q.put(&"welcome mail".to_string()) {
//!     Ok(_) | Err(Error::CommitUnknown(_)) => {} // CommitUnknown: it may be stored; check before re-sending
//!     Err(Error::Unavailable(e)) => eprintln!("server down, nothing queued: {e}"),
//!     Err(e) => return Err(e),
//! }
//! # Ok::<(), persist_queue::Error>(())
//! ```
//!
//! TLS (rustls) is `require` by default for any host that is not loopback;
//! `sslmode` / `ssl-mode` in the URL or [`ServerOptions::tls`] choose
//! ([`TlsMode`]), with a CA file and a client certificate if asked.
//! [`ServerOptions`] also sets the pool size, timeouts, retry window,
//! application name and PostgreSQL schema. `put_in` / `put_many_in` /
//! `ack_in` run in a transaction of the caller's own ([`CallerTransaction`]:
//! the re-exported `persist_queue::{postgres, mysql, rusqlite}` crates'
//! transactions): the outbox pattern.
//!
//! ```no_run
//! # #[cfg(feature = "postgres")] {
//! use std::time::Duration;
//! use persist_queue::{AckQueue, ServerOptions, TlsMode, postgres};
//!
//! let options = ServerOptions::default()
//!     .tls(TlsMode::VerifyFull)
//!     .ca_file("/etc/ssl/db-ca.pem")
//!     .statement_timeout(Duration::from_secs(5));
//! let q: AckQueue<String> =
//!     AckQueue::server("postgresql://app@db.example.com/shop").name("mail").server_options(options).open()?;
//! // The application's own connection and transaction (its own TLS setup).
//! let mut client = postgres::Client::connect("host=db.example.com user=app dbname=shop", postgres::NoTls)
//!     .expect("connect");
//! let mut tx = client.transaction().expect("begin");
//! tx.execute("INSERT INTO orders (what) VALUES ($1)", &[&"book"]).expect("order");
//! q.put_in(&mut tx, &"mail the confirmation".to_string())?;
//! tx.commit().expect("commit"); // the order and the mail, or neither
//! # }
//! # Ok::<(), persist_queue::Error>(())
//! ```
//!
//! ## Async
//!
//! `to_async()` on any handle: futures that work on tokio, smol or any
//! other executor, one per blocking method.
//!
//! ```
//! # #[cfg(feature = "async")]
//! # fn main() -> Result<(), persist_queue::Error> {
//! use persist_queue::AckQueue;
//!
//! let q = AckQueue::in_memory().open::<String>()?.to_async();
//! smol::block_on(async {
//!     q.put("job".to_string(), 0).await?;
//!     let d = q.get().await?;
//!     q.ack(d.id).await
//! })
//! # }
//! # #[cfg(not(feature = "async"))]
//! # fn main() {}
//! ```
//!
//! ## Plugins
//!
//! With feature `wasmtime`, [`plugin::PluginHost`] runs `wasm32-wasip1`
//! modules (built with the `persist-queue-wasi` guest SDK) against one of
//! your ack queues: every pointer a plugin passes is checked, and whatever
//! it held when it ends, traps or runs out of fuel is ready again.
//!
//! ```no_run
//! # #[cfg(feature = "wasmtime")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use persist_queue::plugin::PluginHost;
//! use persist_queue::{AckQueue, Raw};
//!
//! let queue = AckQueue::builder("jobs").codec(Raw).open::<Vec<u8>>()?;
//! let host = PluginHost::new(queue)?.fuel(10_000_000);
//! let plugin = host.load(&std::fs::read("plugin.wasm")?)?;
//! let report = host.start(&plugin, &["consume"])?;
//! println!("the plugin settled {} items; {} it held are ready again", report.settled, report.returned);
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "wasmtime"))]
//! # fn main() {}
//! ```
//!
//! ## Metrics
//!
//! With feature `metrics` (default), every queue reports to the
//! [`metrics`](https://docs.rs/metrics) facade: counters of puts, gets,
//! acks, nacks and failures, histograms of flush latency and group-commit
//! batch size, and a depth gauge, labelled `queue` and `kind`. Install a
//! recorder (Prometheus: `examples/prometheus.rs`) before opening queues;
//! without one each is a no-op.
//!
//! ## Errors and durability
//!
//! One typed [`Error`]: [`Error::Corrupted`] (one shape on every store),
//! [`Error::InvalidConfig`] with a [`Misconfiguration`], each store's own
//! error kept in [`StoreError`] and reachable through `source()`. Named
//! [`Durability`]: `Buffered` survives a process crash, `Synced` survives
//! power loss and shares each disk flush between concurrent writers (group
//! commit). Serializers: [`Postcard`] (default), [`Json`], [`MessagePack`],
//! [`Cbor`] and [`Raw`] bytes. The on-disk format is documented byte by
//! byte in `core/FORMAT.md`.

#[cfg(feature = "async")]
mod async_queue;
mod builder;
mod codec;
mod commit;
mod error;
#[cfg(feature = "async")]
mod offload;
#[cfg(feature = "wasmtime")]
pub mod plugin;
mod queue;
mod queue_storage;
mod records;
mod sync;
mod telemetry;
mod wait;

// The chunk FIFO and its storages.
pub use crate::builder::QueueBuilder;
pub use crate::queue::Queue;
pub use crate::queue_storage::{DefaultStorage, InMemory, QueueStorage};
pub use persist_queue_core::{Corruption, CorruptionKind, Durability, Stats};
pub use persist_queue_fs::FsStorage;

// The record queues and the map.
#[doc(hidden)]
pub use crate::records::{AckKind, FifoKind, FiloKind, PriorityKind, UniqueKind};
pub use crate::records::{
    AckQueue, AnyQueue, Delivery, Entry, FifoQueue, FiloQueue, ItemId, PDict, PDictBuilder, PDictIter,
    PriorityQueue, QueueType, RecordBuilder, Records, ServerAddress, ServerKind, ServerOptions, UniqueQueue,
};
// What a place holds.
#[cfg(feature = "sqlite")]
pub use crate::records::queues_in_sqlite;
pub use crate::records::{QueueKind, StoredQueue, queues_in_dir, queues_on_server};
pub use persist_queue_core::records::Status;
// Leases, retries, delays.
pub use crate::records::{DEFAULT_LEASE, KeepAlive, PutOptions, QueueStats};
pub use persist_queue_core::records::Backoff;
pub use persist_queue_core::records::server::TlsMode;
// Puts and acks in the caller's own transaction, and the client crates
// whose transactions they take (re-exported so the versions match).
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub use crate::records::CallerTransaction;
#[cfg(feature = "mysql")]
pub use persist_queue_mysql::mysql;
#[cfg(feature = "postgres")]
pub use persist_queue_postgres::postgres;
#[cfg(feature = "sqlite")]
pub use persist_queue_sqlite::rusqlite;

// The async faces.
#[cfg(feature = "async")]
pub use crate::async_queue::AsyncQueue;
#[cfg(feature = "async")]
pub use crate::records::{AsyncPDict, AsyncRecords};

// Serializers.
#[cfg(feature = "cbor")]
pub use crate::codec::Cbor;
#[cfg(feature = "json")]
pub use crate::codec::Json;
#[cfg(feature = "msgpack")]
pub use crate::codec::MessagePack;
pub use crate::codec::{Codec, Postcard, Raw};

// Errors.
pub use crate::error::{Error, Misconfiguration, Result, StoreError};
pub use persist_queue_core::ConfigError;

pub use persist_queue_core;
pub use persist_queue_fs;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
