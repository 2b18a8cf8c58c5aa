//! # persist-queue-fs
//!
//! The filesystem [`Storage`] for persist-queue: one directory per queue,
//! holding the metadata file `meta`, chunk files `c0000000000`,
//! `c0000000001`, ... (format: `core/FORMAT.md`) and a `lock` file.
//!
//! What it guarantees, per [`Durability`]:
//!
//! * **Buffered**: each append lands in the kernel's page cache before the
//!   call returns, so it survives a crash of the process. On Linux the
//!   chunk being filled is memory-mapped (blocks reserved with `fallocate`,
//!   so a full disk is an error, not a `SIGBUS`) and an append is a
//!   `memcpy`; elsewhere it is one `write()`. `meta` is replaced by writing
//!   `meta.tmp` in the queue's own directory, `fdatasync`ing it, and
//!   renaming it over (never across devices, persist-queue #46/#59): a
//!   rename may reach the disk before the data it names, and an empty
//!   `meta` would make the whole queue unreadable after a power cut.
//! * **Synced**: additionally, a flush runs `fdatasync` on every file
//!   written since the previous flush and `fsync` on the directory when a
//!   file was created, replaced or removed. Directory `fsync` is done where the OS has
//!   it (Unix); Windows/NTFS journals the rename itself. With
//!   [`FsStorage::presized`] (the file `Queue` uses it) the chunk being
//!   filled is extended by zeros written ahead of its data, so a flush
//!   writes the new records without committing a new file size, and its
//!   appends are written behind: kept in memory (reads see them) until the
//!   next `begin_flush` writes them all with one positioned write.
//!
//! One process at a time: the directory is locked (`File::try_lock`) while
//! a queue is open; a second opener gets [`std::io::ErrorKind::WouldBlock`]
//! with a message naming the directory. [`FsStorage::open_shared`] instead
//! lets several processes share the directory (the plain-files record
//! queues): the lock is taken per operation, a generation number in the
//! `lock` file tells a handle whether anyone else held it since, and on
//! Linux a handle keeps the lock between operations until another process
//! counts itself as waiting or the handle has been idle for 1 ms.
//!
//! ```
//! use persist_queue_core::{ChunkQueue, Config, Durability};
//! use persist_queue_fs::FsStorage;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let storage = FsStorage::open(dir.path(), Durability::Synced).unwrap();
//! let config = Config { durability: Durability::Synced, ..Config::default() };
//! let mut q = ChunkQueue::open(storage, config).unwrap();
//! q.put(b"durable").unwrap(); // on disk when this returns
//! ```

mod flush;
mod generation;
#[cfg(target_os = "linux")]
mod hold;
#[cfg(target_os = "linux")]
mod mapped;
mod positioned;
mod reserve;
mod storage;
pub mod trace;

pub use crate::flush::FsFlush;
pub use crate::storage::FsStorage;
pub use crate::trace::{Call, Trace};
pub use persist_queue_core::{Durability, Locked, Storage};
