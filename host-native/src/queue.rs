//! `Queue`: the thread-safe, blocking handle.

use crate::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::marker::PhantomData;
use std::path::Path;
use std::time::Duration;

use event_listener::Event;
use persist_queue_core::{ChunkQueue, Config, Durability, Stats};
use persist_queue_fs::FsStorage;

use crate::builder::QueueBuilder;
use crate::codec::{Codec, Postcard};
use crate::commit::GroupCommit;
use crate::error::{Error, Result};
use crate::queue_storage::QueueStorage;
use crate::telemetry::QueueMetrics;
use crate::wait::{Deadline, wait_once};

pub(crate) struct State<S: QueueStorage> {
    pub(crate) core: ChunkQueue<S>,
    max_size: u64,
    closed: bool,
    /// Writes that need a flush are numbered; a flush begun after write
    /// `n` makes `synced_seq >= n`.
    written_seq: u64,
    synced_seq: u64,
    /// Threads blocked in `get` / `put`: notify only when someone waits
    /// (a `Condvar` notify is a syscall even with no waiter).
    getters: usize,
    putters: usize,
}

/// What an append left to do ([`Queue::append`]).
pub(crate) enum Appended {
    /// Nothing: the items are stored per the durability.
    Done,
    /// Flush (shared) past write number `seq`, then they are.
    Flush(u64),
    /// Nothing was appended: it would have flushed inside.
    WouldBlock,
}

pub(crate) struct Shared<S: QueueStorage> {
    state: Mutex<State<S>>,
    not_empty: Condvar,
    not_full: Condvar,
    all_done: Condvar,
    /// Flushes shared by concurrent writers: the work is a write's number.
    commit: GroupCommit<u64, ()>,
    metrics: QueueMetrics,
    /// Wakes async waiters on every change.
    pub(crate) events: Event,
    pub(crate) durability: Durability,
    #[cfg_attr(not(feature = "async"), allow(dead_code))]
    pub(crate) autosave: bool,
}

impl<S: QueueStorage> Shared<S> {
    fn lock(&self) -> MutexGuard<'_, State<S>> {
        // A panic while holding the lock cannot leave the core half-updated
        // in a way that matters: failed storage calls poison the core itself.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One group commit's flush, for writes numbered `seqs`: nothing if an
    /// earlier flush covered them all; else a flush of everything written
    /// so far, the queue's lock released while it runs. Then the items it
    /// made readable wake the getters.
    fn flush_for(&self, seqs: &[u64]) -> Result<Vec<()>> {
        let answers = vec![(); seqs.len()];
        let mut st = self.lock();
        if seqs.iter().all(|&s| s <= st.synced_seq) {
            return Ok(answers);
        }
        if st.core.is_poisoned() {
            return Err(Error::Poisoned);
        }
        let target = st.written_seq;
        let mut ticket = st.core.begin_sync()?;
        drop(st);
        let ran = ticket.sync();
        let mut st = self.lock();
        st.core.end_sync(ticket, ran)?;
        st.synced_seq = st.synced_seq.max(target);
        // The flush made the puts it covers readable: only now may a
        // consumer take them (`ChunkQueue::readable`).
        if st.getters > 0 && st.core.readable() > 0 {
            self.not_empty.notify_all();
        }
        drop(st);
        self.events.notify(usize::MAX);
        Ok(answers)
    }
}

/// A persistent FIFO queue of `T` (persist-queue's `Queue`), stored in a
/// directory. A cheap `Clone` handle: share it between threads.
///
/// Items are encoded by `C` ([`Postcard`] unless the builder says
/// otherwise); the storage is a directory ([`FsStorage`]) unless opened
/// with [`QueueBuilder::open_with`].
///
/// # Delivery and durability
///
/// `get` hands out items in order; the read position is saved by
/// [`Queue::task_done`] (or by every `get` with `autosave`). After a crash,
/// items got but not yet confirmed come back (at-least-once). Like
/// persist-queue, `task_done` confirms *every* item got so far, by any
/// thread. `put` returns once the item is in the OS (buffered) or on disk
/// (synced); concurrent synced puts share one flush.
pub struct Queue<T, C = Postcard, S: QueueStorage = FsStorage> {
    pub(crate) shared: Arc<Shared<S>>,
    pub(crate) codec: C,
    _item: PhantomData<fn(T) -> T>,
}

impl<T, C: Clone, S: QueueStorage> Clone for Queue<T, C, S> {
    fn clone(&self) -> Self {
        Queue { shared: Arc::clone(&self.shared), codec: self.codec.clone(), _item: PhantomData }
    }
}

impl<T, C, S: QueueStorage> std::fmt::Debug for Queue<T, C, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let st = self.lock();
        f.debug_struct("Queue")
            .field("len", &st.core.len())
            .field("durability", &self.shared.durability)
            .field("closed", &st.closed)
            .finish()
    }
}

impl<T> Queue<T, Postcard, FsStorage>
where
    Postcard: Codec<T>,
{
    /// Opens (or creates) the queue in directory `path` with the defaults:
    /// postcard, buffered durability, unbounded, 10,000 items per chunk.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        QueueBuilder::new(path).open()
    }
}

impl Queue<(), Postcard, FsStorage> {
    /// A builder for the queue in directory `path`.
    pub fn builder(path: impl AsRef<Path>) -> QueueBuilder<Postcard> {
        QueueBuilder::new(path)
    }
}

impl<T, C, S: QueueStorage> Queue<T, C, S> {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State<S>> {
        self.shared.lock()
    }
}

impl<T, C: Codec<T>, S: QueueStorage> Queue<T, C, S> {
    /// `label`: the queue's name in metrics (its directory).
    pub(crate) fn from_parts(
        storage: S,
        config: Config,
        max_size: u64,
        codec: C,
        label: &str,
    ) -> Result<Self> {
        let durability = config.durability;
        let autosave = config.autosave;
        let core = ChunkQueue::open(storage, config)?;
        let state =
            State { core, max_size, closed: false, written_seq: 0, synced_seq: 0, getters: 0, putters: 0 };
        let shared = Shared {
            state: Mutex::new(state),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
            all_done: Condvar::new(),
            commit: GroupCommit::new(QueueMetrics::new(label, "file")),
            metrics: QueueMetrics::new(label, "file"),
            events: Event::new(),
            durability,
            autosave,
        };
        Ok(Queue { shared: Arc::new(shared), codec, _item: PhantomData })
    }

    // ---- waiting and flushing ------------------------------------------------

    fn getters(st: &mut State<S>) -> &mut usize {
        &mut st.getters
    }

    fn putters(st: &mut State<S>) -> &mut usize {
        &mut st.putters
    }

    /// Returns once a flush begun after write `seq` has completed: one
    /// caller flushes (without the queue lock) for every concurrent one
    /// ([`GroupCommit`]).
    fn commit(&self, seq: u64) -> Result<()> {
        self.shared.commit.submit(seq, |batch| self.shared.flush_for(&batch))
    }

    /// [`Self::commit`] for async callers: joins the same batches; a
    /// batch an async caller leads is flushed by one detached
    /// blocking-pool task.
    #[cfg(feature = "async")]
    pub(crate) async fn commit_async(&self, seq: u64) -> Result<()> {
        self.shared.commit.submit_on_pool(seq, &self.shared, |s| &s.commit, Shared::flush_for).await
    }

    /// After a mutation: flush (shared) if the durability asks for it.
    fn settle(&self, mut st: MutexGuard<'_, State<S>>) -> Result<()> {
        if st.core.needs_flush() {
            st.written_seq += 1;
            let seq = st.written_seq;
            drop(st);
            self.commit(seq)?;
        }
        Ok(())
    }

    fn wake(&self) {
        self.shared.events.notify(usize::MAX);
    }

    // ---- put ----------------------------------------------------------------

    pub(crate) fn put_bytes(&self, bytes: &[u8], wait: Deadline) -> Result<()> {
        self.put_many_bytes(std::slice::from_ref(&bytes), wait)
    }

    /// Appends `item`, waiting for space while the queue holds `max_size`
    /// items. Returns once the item is stored per the durability.
    pub fn put(&self, item: &T) -> Result<()> {
        self.put_bytes(&self.codec.encode(item)?, Deadline::Never)
    }

    /// Like [`Queue::put`], but gives up with [`Error::Full`] after
    /// `timeout`.
    pub fn put_timeout(&self, item: &T, timeout: Duration) -> Result<()> {
        self.put_bytes(&self.codec.encode(item)?, Deadline::after(timeout))
    }

    /// Like [`Queue::put`], but fails with [`Error::Full`] at once
    /// (persist-queue's `put_nowait`).
    #[doc(alias = "put_nowait")]
    pub fn try_put(&self, item: &T) -> Result<()> {
        self.put_bytes(&self.codec.encode(item)?, Deadline::Now)
    }

    /// Appends every item with one write per chunk and one flush: the fast
    /// way to put many. Waits until there is room for all of them; a batch
    /// larger than `max_size` fails with [`Error::Full`].
    pub fn put_many(&self, items: &[T]) -> Result<()> {
        let encoded = items.iter().map(|i| self.codec.encode(i)).collect::<Result<Vec<_>>>()?;
        self.put_many_bytes(&encoded, Deadline::Never)
    }

    pub(crate) fn put_many_bytes<B: AsRef<[u8]>>(&self, encoded: &[B], wait: Deadline) -> Result<()> {
        match self.append(encoded, wait, false)? {
            Appended::Flush(seq) => self.commit(seq),
            Appended::Done | Appended::WouldBlock => Ok(()),
        }
    }

    /// Appends `encoded` once there is room for all of them (waiting per
    /// `wait`; a batch larger than `max_size` is [`Error::Full`]), without
    /// flushing: what is left to do is returned. With `inline_only`, an
    /// append that would flush inside (a full chunk at synced durability)
    /// is not done: [`Appended::WouldBlock`].
    pub(crate) fn append<B: AsRef<[u8]>>(
        &self,
        encoded: &[B],
        wait: Deadline,
        inline_only: bool,
    ) -> Result<Appended> {
        let n = encoded.len() as u64;
        let mut st = self.lock();
        loop {
            if st.closed {
                return Err(Error::Closed);
            }
            if st.max_size == 0 || st.core.len() + n <= st.max_size {
                break;
            }
            if n > st.max_size {
                return Err(Error::Full);
            }
            st = wait_once(&self.shared.not_full, st, wait, None, Some(Self::putters)).ok_or(Error::Full)?;
        }
        if inline_only && st.core.push_flushes(n) {
            return Ok(Appended::WouldBlock);
        }
        match encoded {
            [one] => st.core.push(one.as_ref())?,
            many => st.core.push_many(many)?,
        }
        self.shared.metrics.put(encoded.len());
        self.shared.metrics.depth(st.core.len());
        // At synced the items are readable once their flush completes, and
        // the flush wakes the getters ([`Shared::flush_for`]).
        if st.getters > 0 && st.core.readable() > 0 {
            if n == 1 { self.shared.not_empty.notify_one() } else { self.shared.not_empty.notify_all() }
        }
        self.wake();
        if st.core.needs_flush() {
            st.written_seq += 1;
            return Ok(Appended::Flush(st.written_seq));
        }
        Ok(Appended::Done)
    }

    // ---- get ----------------------------------------------------------------

    pub(crate) fn get_item(&self, wait: Deadline) -> Result<T> {
        let mut st = self.lock();
        loop {
            if st.closed {
                return Err(Error::Closed);
            }
            if st.core.readable() > 0 {
                let codec = &self.codec;
                match st.core.pop_map(|b| codec.decode(&b))? {
                    Some(Ok(item)) => {
                        self.shared.metrics.got(1);
                        self.shared.metrics.depth(st.core.len());
                        if st.putters > 0 {
                            self.shared.not_full.notify_one();
                        }
                        self.wake();
                        self.settle(st)?;
                        return Ok(item);
                    }
                    Some(Err(e)) => return Err(e),
                    None => continue,
                }
            }
            st =
                wait_once(&self.shared.not_empty, st, wait, None, Some(Self::getters)).ok_or(Error::Empty)?;
        }
    }

    /// Takes the next item, waiting for one.
    pub fn get(&self) -> Result<T> {
        self.get_item(Deadline::Never)
    }

    /// Takes the next item, or fails with [`Error::Empty`] after `timeout`.
    pub fn get_timeout(&self, timeout: Duration) -> Result<T> {
        self.get_item(Deadline::after(timeout))
    }

    /// Takes the next item, or fails with [`Error::Empty`] at once
    /// (persist-queue's `get_nowait`).
    #[doc(alias = "get_nowait")]
    pub fn try_get(&self) -> Result<T> {
        self.get_item(Deadline::Now)
    }

    /// The next item, without taking it (`None` when empty).
    pub fn peek(&self) -> Result<Option<T>> {
        let mut st = self.lock();
        if st.closed {
            return Err(Error::Closed);
        }
        match st.core.peek()? {
            Some(bytes) => self.codec.decode(&bytes).map(Some),
            None => Ok(None),
        }
    }

    /// Up to `n` items from the next on, oldest first, without taking any.
    /// A damaged record is [`Error::Corrupted`] (even with
    /// `skip_corrupted`: a listing moves nothing past damage).
    pub fn peek_many(&self, n: usize) -> Result<Vec<T>> {
        let mut st = self.lock();
        if st.closed {
            return Err(Error::Closed);
        }
        let items = st.core.peek_many(n)?;
        drop(st);
        items.iter().map(|bytes| self.codec.decode(bytes)).collect()
    }

    // ---- confirmation ---------------------------------------------------------

    /// Confirms one item: decrements the unfinished count (waking
    /// [`Queue::join`] at zero) and saves the read position, so every item
    /// got so far is not delivered again after a restart.
    ///
    /// # Errors
    ///
    /// [`Error::TaskDoneTooMany`] when every put item is already confirmed.
    pub fn task_done(&self) -> Result<()> {
        let mut st = self.lock();
        if st.closed {
            return Err(Error::Closed);
        }
        st.core.done()?;
        self.shared.metrics.acked(1);
        if st.core.unfinished() == 0 {
            self.shared.all_done.notify_all();
        }
        self.wake();
        self.settle(st)
    }

    /// Blocks until every item put (or recovered at open) has been
    /// confirmed by `task_done`, or the queue is closed.
    pub fn join(&self) {
        let mut st = self.lock();
        while st.core.unfinished() > 0 && !st.closed {
            st = self.shared.all_done.wait(st).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Flushes everything written so far to disk, whatever the durability.
    pub fn sync(&self) -> Result<()> {
        let mut st = self.lock();
        st.written_seq += 1;
        let seq = st.written_seq;
        drop(st);
        self.commit(seq)
    }

    /// Closes the queue for every handle: waiting calls return
    /// [`Error::Closed`], later calls too. Stored items stay on disk; the
    /// files are released when the last handle is dropped.
    pub fn close(&self) {
        let mut st = self.lock();
        st.closed = true;
        drop(st);
        self.shared.not_empty.notify_all();
        self.shared.not_full.notify_all();
        self.shared.all_done.notify_all();
        self.wake();
    }

    // ---- state -------------------------------------------------------------

    /// The `max_size` in force (0: unbounded).
    #[cfg_attr(not(feature = "async"), allow(dead_code))]
    pub(crate) fn max_size(&self) -> u64 {
        self.lock().max_size
    }

    /// Items not yet got (persist-queue's `qsize()`).
    #[doc(alias = "qsize")]
    pub fn len(&self) -> u64 {
        self.lock().core.len()
    }

    /// Whether no item waits to be got.
    #[doc(alias = "empty")]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether `put` would wait (only with a `max_size`).
    #[doc(alias = "full")]
    pub fn is_full(&self) -> bool {
        let st = self.lock();
        st.max_size > 0 && st.core.len() >= st.max_size
    }

    /// Items put and not yet confirmed by `task_done`.
    pub fn unfinished_tasks(&self) -> u64 {
        self.lock().core.unfinished()
    }

    /// Whether [`Queue::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.lock().closed
    }

    /// Recovery and skip counters since open.
    pub fn stats(&self) -> Stats {
        self.lock().core.stats()
    }

    /// The durability in force.
    pub fn durability(&self) -> Durability {
        self.shared.durability
    }

    /// The name of the serializer the queue's items were written with
    /// (`postcard`, `json`, ...; empty for a queue created by
    /// [`QueueBuilder::open_bytes`](crate::QueueBuilder::open_bytes)).
    pub fn codec_name(&self) -> String {
        self.lock().core.config().codec.clone()
    }

    /// Items per chunk file (the stored value for an existing queue).
    pub fn chunk_size(&self) -> u32 {
        self.lock().core.chunk_size()
    }
}
