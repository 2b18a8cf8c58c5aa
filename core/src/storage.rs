//! The storage contract every log-structured backend implements.

use alloc::vec::Vec;
use core::fmt;

/// What [`Storage::lock`] knows about the other processes sharing a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Locked {
    /// Nobody else held the lock since this handle released it: what the
    /// handle read before still holds.
    Unchanged,
    /// Another holder may have written (or the store cannot tell): read
    /// what changed before relying on what was read before.
    MaybeChanged,
}

/// One named, append-mostly byte sequence in a queue's storage.
///
/// The filesystem maps a blob to a file (`meta`, `c0000000000`, ...; see
/// `FORMAT.md`), other backends to a key or a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Blob {
    /// The queue's metadata: header frame then read-cursor checkpoints.
    Meta,
    /// Chunk number `n`: a header then up to `chunk_size` records.
    Chunk(u64),
}

impl fmt::Display for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Blob::Meta => f.write_str("meta"),
            Blob::Chunk(n) => write!(f, "c{n:010}"),
        }
    }
}

impl Blob {
    /// Parses a name produced by `Display` (`meta`, `c0000000042`).
    /// Anything else (temp files, foreign files) is `None`.
    pub fn parse(name: &str) -> Option<Blob> {
        if name == "meta" {
            return Some(Blob::Meta);
        }
        let digits = name.strip_prefix('c')?;
        if digits.len() < 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok().map(Blob::Chunk)
    }
}

/// Byte storage for the chunked queue.
///
/// The core calls these methods from one thread at a time (the host's lock
/// serialises them); implementations need no internal locking. Every method
/// either succeeds or returns `Err`; after an `Err` from a mutating method the
/// core treats the storage state as unknown and refuses further writes until
/// the queue is reopened.
///
/// **Durability.** Mutations become durable (survive power loss) only when a
/// [`Flush`] taken by [`Storage::begin_flush`] *after* them has completed.
/// Before that they must survive a crash of the calling process if the
/// backend can offer it (the filesystem's page cache does), except in a
/// store that writes appends behind, at the next [`Storage::begin_flush`]
/// (`FsStorage::presized`, used only where nothing is acknowledged before
/// its flush).
pub trait Storage {
    /// The backend's own error, kept intact (I/O, SQL, JS ...).
    type Error: fmt::Debug + fmt::Display;
    /// A detached flush: see [`Storage::begin_flush`].
    type Flush: Flush<Error = Self::Error>;

    /// Every blob that exists, in any order. Unrelated entries (temp files)
    /// are not listed.
    fn list(&mut self) -> Result<Vec<Blob>, Self::Error>;

    /// The length in bytes of `blob`, or `None` if it does not exist.
    fn size(&mut self, blob: Blob) -> Result<Option<u64>, Self::Error>;

    /// Reads up to `buf.len()` bytes of `blob` starting at `offset` and
    /// returns how many were read: fewer only when the blob ends first, `0`
    /// at or past its end. Reading a missing blob is an error.
    fn read(&mut self, blob: Blob, offset: u64, buf: &mut [u8]) -> Result<usize, Self::Error>;

    /// Appends `data` at the end of `blob`, creating it (empty) first if it
    /// does not exist. A process crash during the call leaves a prefix of
    /// `data` (possibly empty) appended; the core detects the torn remainder
    /// by checksum.
    fn append(&mut self, blob: Blob, data: &[u8]) -> Result<(), Self::Error>;

    /// Shortens `blob` to `len` bytes (used to cut a torn tail on recovery).
    fn truncate(&mut self, blob: Blob, len: u64) -> Result<(), Self::Error>;

    /// Replaces the whole content of `blob` atomically: after a crash at any
    /// moment the blob holds either the old content or `data`, never a mix.
    fn replace(&mut self, blob: Blob, data: &[u8]) -> Result<(), Self::Error>;

    /// Deletes `blob`. Deleting a missing blob succeeds. Removal need not be
    /// durable: the core re-deletes leftovers on open.
    fn remove(&mut self, blob: Blob) -> Result<(), Self::Error>;

    /// Captures everything written so far into a [`Flush`] that the caller
    /// may run *without* holding the storage (so other threads keep
    /// appending while the disk flushes: group commit). Cheap: no I/O but
    /// the one write of appends a store wrote behind.
    fn begin_flush(&mut self) -> Result<Self::Flush, Self::Error>;

    /// Called with a flush that completed successfully, to let backends that
    /// track durability (the fault-injecting one) record it. Default: nothing.
    fn end_flush(&mut self, flush: Self::Flush) {
        drop(flush);
    }

    /// For stores shared by several processes: takes an exclusive lock
    /// across processes (blocking until it is free). While it is held,
    /// reads see every write other holders made before releasing it.
    ///
    /// Answers [`Locked::Unchanged`] only when no other holder has taken
    /// the lock since this handle last released it, so everything this
    /// handle read before is still what the store holds; otherwise (or when
    /// it cannot tell, and at the first lock) [`Locked::MaybeChanged`].
    /// Default: nothing to lock, `Unchanged` (a store owned by one process).
    fn lock(&mut self) -> Result<Locked, Self::Error> {
        Ok(Locked::Unchanged)
    }

    /// Releases [`Storage::lock`]. Default: nothing.
    fn unlock(&mut self) {}

    /// Whether the failed write that returned `e` left the storage exactly
    /// as it was (a write refused whole, as localStorage refuses one over
    /// its quota), so the core can go on without a reopen. Default: `false`
    /// (state unknown: the core refuses writes until reopened).
    fn untouched(&self, e: &Self::Error) -> bool {
        let _ = e;
        false
    }

    /// Frees space the storage set aside so that a full store can still
    /// shrink (localStorage keeps a reserve key: at the quota even a
    /// deletion is an append to the log). The core calls it only to retry
    /// a write that deletes, refused [`Storage::untouched`]. `Ok(true)` if
    /// space was freed. Default: nothing set aside.
    fn release_reserve(&mut self) -> Result<bool, Self::Error> {
        Ok(false)
    }

    /// Flushes in place: `begin_flush`, run, `end_flush`.
    fn sync(&mut self) -> Result<(), Self::Error> {
        let mut flush = self.begin_flush()?;
        flush.sync()?;
        self.end_flush(flush);
        Ok(())
    }
}

/// A flush detached from its storage: when [`Flush::sync`] returns `Ok`,
/// every mutation made before the flush was taken is durable (for the
/// filesystem: `fdatasync` of each written file and `fsync` of the
/// directory where it has changed).
pub trait Flush: Send {
    /// The storage's error type.
    type Error;
    /// Makes the captured writes durable. May block for a disk flush.
    fn sync(&mut self) -> Result<(), Self::Error>;
}

/// A flush with nothing to do (in-memory storage, or nothing written).
#[derive(Debug, Default)]
pub struct NoFlush<E>(core::marker::PhantomData<fn() -> E>);

impl<E> NoFlush<E> {
    /// A flush that does nothing.
    pub fn new() -> Self {
        NoFlush(core::marker::PhantomData)
    }
}

impl<E> Flush for NoFlush<E> {
    type Error = E;
    fn sync(&mut self) -> Result<(), E> {
        Ok(())
    }
}
