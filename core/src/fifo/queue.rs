//! The chunked FIFO queue: one state machine over a [`Storage`].

use alloc::vec::Vec;

use crate::error::{Corruption, CorruptionKind, ReadError, WriteError};
use crate::fifo::config::Config;
use crate::fifo::cursor::Position;
use crate::format::chunk::{self, HeaderProblem};
use crate::format::damage::{self, ChunkBytes};
use crate::format::frame::{self, Layout};
use crate::format::meta::{self, META_COMPACT_AT, MetaHeader};
use crate::format::reader::{Found, Reader};
use crate::storage::{Blob, Flush, Storage};

/// What recovery and skipping have done since the queue was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Bytes cut from torn tails (chunk and metadata) at open.
    pub truncated_bytes: u64,
    /// Damaged records skipped because `skip_corrupted` is on (found at
    /// open in the newest chunk, or when reading). The damaged bytes stay
    /// where they are; the intact records after them are delivered.
    pub skipped_records: u64,
    /// Damaged read checkpoints in the metadata passed over because
    /// `skip_corrupted` is on (the last intact one is in force).
    pub skipped_checkpoints: u64,
    /// The saved read cursor pointed past the data (unsynced data lost in a
    /// power cut under buffered durability) and was moved back to the end.
    pub checkpoint_clamped: bool,
}

/// A flush taken under the queue's lock, to run outside it (group commit).
///
/// Call [`SyncTicket::sync`] without holding the queue, then hand the result
/// to [`ChunkQueue::end_sync`].
pub struct SyncTicket<F> {
    flush: F,
    saved: Position,
    /// Records appended when the ticket was taken: durable once it completes.
    appended: u64,
}

impl<F: Flush> SyncTicket<F> {
    /// Makes everything written before the ticket was taken durable.
    pub fn sync(&mut self) -> Result<(), F::Error> {
        self.flush.sync()
    }
}

/// A persistent FIFO queue of byte records, stored as numbered chunks of
/// `chunk_size` checksummed records plus a metadata blob that holds the read
/// checkpoint (see `FORMAT.md`).
///
/// # Calls and durability
///
/// The `put`/`get`/`task_done` family applies the configured
/// [`crate::Durability`] itself: at `Synced` they flush before returning.
/// Hosts that share flushes between threads use the non-flushing family
/// (`push`, `push_many`, `pop`, `done`, `checkpoint`) and then, if
/// [`ChunkQueue::needs_flush`], `begin_sync` → [`SyncTicket::sync`] (outside
/// their lock) → `end_sync`, before reporting the operation as complete.
///
/// # Delivery
///
/// `pop` advances an in-memory read cursor; the cursor is saved by
/// `checkpoint` (`task_done`, or every `pop` with `autosave`). After a crash
/// the queue restarts from the last saved cursor: items read but not
/// checkpointed are delivered again (at-least-once), checkpointed ones never.
pub struct ChunkQueue<S: Storage> {
    pub(crate) storage: S,
    pub(crate) config: Config,
    pub(crate) header: MetaHeader,
    /// Next write position.
    pub(crate) head: Position,
    /// Next read position (in memory).
    pub(crate) read: Position,
    /// Last checkpoint written to storage.
    pub(crate) saved: Position,
    /// Last checkpoint known durable: chunks before it may be deleted.
    pub(crate) durable_saved: Position,
    /// Lowest chunk number that may still exist.
    pub(crate) oldest_chunk: u64,
    /// Records between `read` and `head`.
    pub(crate) len: u64,
    /// Records put (or recovered) and not yet `task_done`.
    pub(crate) unfinished: u64,
    pub(crate) meta_checkpoints: u32,
    pub(crate) unflushed: bool,
    /// Records appended since open at synced durability, and how many of
    /// them a completed flush covers: the difference are the newest
    /// records, written but not yet durable, which no read returns.
    pub(crate) appended: u64,
    pub(crate) durable_appended: u64,
    pub(crate) poisoned: bool,
    pub(crate) scratch: Vec<u8>,
    pub(crate) reader: Reader,
    pub(crate) stats: Stats,
    /// How the head chunk's frames are laid out (v1 for a head chunk
    /// written by format version 1, v2 otherwise).
    pub(crate) head_layout: Layout,
    /// The layout of the chunk last read from (not the head).
    pub(crate) read_layout: Option<(u64, Layout)>,
    /// Damaged record slots found at open (chunk, from, to): already taken
    /// out of `len` and `stats`, so reading past them counts nothing.
    pub(crate) lost: Vec<(u64, u32, u32)>,
}

impl<S: Storage> ChunkQueue<S> {
    // ---- state -------------------------------------------------------

    /// Items a read may return now: not yet read, and durable at the
    /// queue's durability (at synced, the newest records wait for the flush
    /// that covers them, so no consumer acts on an item a power cut could
    /// erase). `pop`, `get` and `peek` return nothing while this is 0.
    pub fn readable(&self) -> u64 {
        self.len.saturating_sub(self.appended - self.durable_appended)
    }

    /// Items not yet read (`qsize()` in persist-queue), including any
    /// written but not yet durable ([`ChunkQueue::readable`]).
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether no item is waiting to be read.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Items put (or found at open) and not yet confirmed by `task_done`.
    pub fn unfinished(&self) -> u64 {
        self.unfinished
    }

    /// Records per chunk (the stored value for an existing queue).
    pub fn chunk_size(&self) -> u32 {
        self.header.chunk_size
    }

    /// The settings in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Recovery and skip counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Whether a failed write has poisoned the queue.
    pub fn is_poisoned(&self) -> bool {
        self.poisoned
    }

    /// Whether pushing `n` more records flushes inside the push (at
    /// synced durability a full chunk is flushed before the next one
    /// starts): hosts that must not block use this to run such a push
    /// where blocking is allowed.
    pub fn push_flushes(&self, n: u64) -> bool {
        self.config.durability.is_synced()
            && n > 0
            && u64::from(self.head.index) + n > u64::from(self.header.chunk_size)
    }

    /// Whether writes since the last flush must be flushed before the
    /// current operation may report success (synced durability only).
    pub fn needs_flush(&self) -> bool {
        self.config.durability.is_synced() && self.unflushed
    }

    /// The storage, for inspection.
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// Gives the storage back (e.g. to simulate a crash and reopen).
    pub fn into_storage(self) -> S {
        self.storage
    }

    // ---- writes --------------------------------------------------------

    fn writable(&self) -> Result<(), WriteError<S::Error>> {
        if self.poisoned { Err(WriteError::Poisoned) } else { Ok(()) }
    }

    /// Records the outcome of a storage mutation: success marks data to
    /// flush, failure poisons the queue.
    pub(crate) fn mutated<T>(&mut self, r: Result<T, S::Error>) -> Result<T, WriteError<S::Error>> {
        match r {
            Ok(v) => {
                self.unflushed = true;
                Ok(v)
            }
            Err(e) => {
                self.poisoned = true;
                Err(WriteError::Storage(e))
            }
        }
    }

    fn check_size(&self, len: usize) -> Result<(), WriteError<S::Error>> {
        if len > self.config.max_item_size as usize {
            return Err(WriteError::TooLarge { len, max: self.config.max_item_size });
        }
        Ok(())
    }

    /// Starts the next chunk. At synced durability the full chunk is
    /// flushed first, so that only the head chunk can ever hold unflushed
    /// bytes: after a power cut, recovery needs to repair the head only.
    fn rotate(&mut self) -> Result<(), WriteError<S::Error>> {
        if self.needs_flush() {
            self.sync()?;
        }
        let next = self.head.chunk + 1;
        let r = self.storage.append(Blob::Chunk(next), &chunk::encode_header(next));
        self.mutated(r)?;
        self.head = Position::chunk_start(next);
        self.head_layout = Layout::V2 { chunk: next };
        Ok(())
    }

    /// Appends the frames in `scratch`, `records` of them, to the head chunk.
    fn append_scratch(&mut self, records: u32) -> Result<(), WriteError<S::Error>> {
        if records == 0 {
            return Ok(());
        }
        let r = self.storage.append(Blob::Chunk(self.head.chunk), &self.scratch);
        self.mutated(r)?;
        self.head.index += records;
        self.head.offset += self.scratch.len() as u64;
        self.len += u64::from(records);
        self.unfinished += u64::from(records);
        if self.config.durability.is_synced() {
            self.appended += u64::from(records);
        } else {
            // Buffered: visible as soon as written (that is its promise).
            self.durable_appended = self.appended;
        }
        self.scratch.clear();
        Ok(())
    }

    /// Appends one item without flushing.
    pub fn push(&mut self, payload: &[u8]) -> Result<(), WriteError<S::Error>> {
        self.writable()?;
        self.check_size(payload.len())?;
        if self.head.index >= self.header.chunk_size {
            self.rotate()?;
        }
        self.scratch.clear();
        frame::encode_in(&mut self.scratch, self.head_layout, self.head.index, payload);
        self.append_scratch(1)
    }

    /// Appends many items, one storage append per chunk touched, without
    /// flushing. Sizes are checked first: on `TooLarge` nothing is written.
    pub fn push_many<P: AsRef<[u8]>>(&mut self, payloads: &[P]) -> Result<(), WriteError<S::Error>> {
        self.writable()?;
        for p in payloads {
            self.check_size(p.as_ref().len())?;
        }
        self.scratch.clear();
        let mut pending = 0u32;
        for p in payloads {
            if self.head.index + pending >= self.header.chunk_size {
                self.append_scratch(pending)?;
                pending = 0;
                self.rotate()?;
            }
            frame::encode_in(&mut self.scratch, self.head_layout, self.head.index + pending, p.as_ref());
            pending += 1;
        }
        self.append_scratch(pending)
    }

    /// Saves the read cursor (without flushing) and, at buffered
    /// durability, deletes the chunks it has passed.
    pub fn checkpoint(&mut self) -> Result<(), WriteError<S::Error>> {
        self.writable()?;
        self.normalize_read();
        if self.read == self.saved {
            return Ok(());
        }
        if self.meta_checkpoints >= META_COMPACT_AT {
            let bytes = meta::encode(&self.header, &self.read);
            let r = self.storage.replace(Blob::Meta, &bytes);
            self.mutated(r)?;
            self.meta_checkpoints = 1;
        } else {
            self.scratch.clear();
            meta::encode_checkpoint(&mut self.scratch, &self.read);
            let r = self.storage.append(Blob::Meta, &self.scratch);
            self.mutated(r)?;
            self.meta_checkpoints += 1;
        }
        self.saved = self.read;
        if !self.config.durability.is_synced() {
            self.durable_saved = self.saved;
            self.remove_consumed()?;
        }
        Ok(())
    }

    /// Confirms one item (persist-queue's `task_done` without the flush):
    /// decrements the unfinished count and saves the read cursor.
    ///
    /// Like persist-queue, the checkpoint covers *every* item read so far,
    /// not only the caller's; use an ack queue for per-item confirmation.
    pub fn done(&mut self) -> Result<(), WriteError<S::Error>> {
        self.writable()?;
        if self.unfinished == 0 {
            return Err(WriteError::TaskDoneTooMany);
        }
        self.unfinished -= 1;
        self.checkpoint()
    }

    /// Deletes chunks entirely before the durable checkpoint.
    fn remove_consumed(&mut self) -> Result<(), WriteError<S::Error>> {
        while self.oldest_chunk < self.durable_saved.chunk {
            let r = self.storage.remove(Blob::Chunk(self.oldest_chunk));
            self.mutated(r)?;
            self.oldest_chunk += 1;
        }
        Ok(())
    }

    /// A fully read chunk is left for the next one once that exists.
    fn normalize_read(&mut self) {
        if self.read.index >= self.header.chunk_size && self.read.chunk < self.head.chunk {
            self.read = Position::chunk_start(self.read.chunk + 1);
        }
    }

    // ---- flushing ------------------------------------------------------

    /// Takes a flush of everything written so far (no I/O). See
    /// [`SyncTicket`].
    pub fn begin_sync(&mut self) -> Result<SyncTicket<S::Flush>, WriteError<S::Error>> {
        self.writable()?;
        let r = self.storage.begin_flush();
        let flush = match r {
            Ok(f) => f,
            Err(e) => {
                self.poisoned = true;
                return Err(WriteError::Storage(e));
            }
        };
        self.unflushed = false;
        Ok(SyncTicket { flush, saved: self.saved, appended: self.appended })
    }

    /// Completes a flush. On failure the queue is poisoned: the state on
    /// disk is unknown until it is reopened.
    pub fn end_sync(
        &mut self,
        ticket: SyncTicket<S::Flush>,
        result: Result<(), S::Error>,
    ) -> Result<(), WriteError<S::Error>> {
        if let Err(e) = result {
            self.poisoned = true;
            return Err(WriteError::Storage(e));
        }
        self.writable()?;
        self.storage.end_flush(ticket.flush);
        self.durable_appended = self.durable_appended.max(ticket.appended);
        let s = ticket.saved;
        if (s.chunk, s.index) > (self.durable_saved.chunk, self.durable_saved.index) {
            self.durable_saved = s;
        }
        self.remove_consumed()
    }

    /// Flushes everything written so far, in place.
    pub fn sync(&mut self) -> Result<(), WriteError<S::Error>> {
        let mut ticket = self.begin_sync()?;
        let r = ticket.sync();
        self.end_sync(ticket, r)
    }

    fn sync_if_needed(&mut self) -> Result<(), WriteError<S::Error>> {
        if self.needs_flush() { self.sync() } else { Ok(()) }
    }

    /// Puts one item, flushed per the configured durability.
    pub fn put(&mut self, payload: &[u8]) -> Result<(), WriteError<S::Error>> {
        self.push(payload)?;
        self.sync_if_needed()
    }

    /// Puts many items with one flush (per the configured durability).
    pub fn put_many<P: AsRef<[u8]>>(&mut self, payloads: &[P]) -> Result<(), WriteError<S::Error>> {
        self.push_many(payloads)?;
        self.sync_if_needed()
    }

    /// `done` + flush per the configured durability.
    pub fn task_done(&mut self) -> Result<(), WriteError<S::Error>> {
        self.done()?;
        self.sync_if_needed()
    }

    // ---- reads ---------------------------------------------------------

    /// The frame layout of chunk `n`, from its header (cached). A damaged
    /// header is `Corrupted`, or with `skip_corrupted` the layout is taken
    /// from the frames that follow it.
    fn layout_of(&mut self, n: u64) -> Result<Layout, ReadError<S::Error>> {
        if n == self.head.chunk {
            return Ok(self.head_layout);
        }
        if let Some((c, l)) = self.read_layout
            && c == n
        {
            return Ok(l);
        }
        let h = self
            .reader
            .bytes(&mut self.storage, n, 0, chunk::CHUNK_HEADER_LEN)
            .map_err(ReadError::Storage)?;
        let layout = match chunk::check_header(&h, n) {
            Ok(l) => l,
            Err(p) if matches!(p, HeaderProblem::Version(_)) || !self.config.skip_corrupted => {
                return Err(ReadError::Corrupted(Corruption {
                    blob: Blob::Chunk(n),
                    offset: 0,
                    kind: CorruptionKind::ChunkHeader(p),
                }));
            }
            Err(_) => self.guess_layout(n).map_err(ReadError::Storage)?,
        };
        self.read_layout = Some((n, layout));
        Ok(layout)
    }

    /// The layout of a chunk whose header is damaged: v2 if a v2 frame of
    /// that chunk is found after the header, v1 otherwise.
    pub(crate) fn guess_layout(&mut self, n: u64) -> Result<Layout, S::Error> {
        let v2 = Layout::V2 { chunk: n };
        let size = self.storage.size(Blob::Chunk(n))?.unwrap_or(0);
        let mut src = ChunkBytes { reader: &mut self.reader, storage: &mut self.storage, chunk: n };
        let from = chunk::CHUNK_HEADER_LEN as u64;
        let found = damage::resync(&mut src, from, size, v2, 0)?;
        Ok(if found.is_some() { v2 } else { Layout::V1 })
    }

    /// The record at `pos` (moving to the next chunk at a chunk's end) and
    /// the position after it.
    fn locate(&mut self, pos: Position) -> Result<(Vec<u8>, Position), ReadError<S::Error>> {
        let mut pos = pos;
        if pos.index >= self.header.chunk_size {
            pos = Position::chunk_start(pos.chunk + 1);
        }
        let layout = self.layout_of(pos.chunk)?;
        match self
            .reader
            .frame(&mut self.storage, pos.chunk, pos.offset, layout)
            .map_err(ReadError::Storage)?
        {
            Found::Record(payload, len, index) if index.is_none_or(|i| i == pos.index) => Ok((
                payload.to_vec(),
                Position { chunk: pos.chunk, index: pos.index + 1, offset: pos.offset + len },
            )),
            _ => Err(ReadError::Corrupted(Corruption {
                blob: Blob::Chunk(pos.chunk),
                offset: pos.offset,
                kind: CorruptionKind::Record,
            })),
        }
    }

    /// Skips the damaged records at the read cursor: up to the next valid
    /// frame of the same chunk (found by resynchronising; v2 frames say
    /// their slot, so exactly the damaged slots are counted), or the rest
    /// of the chunk when nothing valid follows. Intact records after the
    /// damage are delivered; the damaged bytes are left as they are.
    fn skip_damaged(&mut self) -> Result<(), ReadError<S::Error>> {
        let mut start = self.read;
        if start.index >= self.header.chunk_size {
            start = Position::chunk_start(start.chunk + 1);
        }
        let in_head = start.chunk >= self.head.chunk;
        if in_head && start.index >= self.head.index {
            self.len = 0; // nothing left to read: the counts were off
            return Ok(());
        }
        let end = if in_head {
            self.head
        } else {
            Position { chunk: start.chunk, index: self.header.chunk_size, offset: 0 }
        };
        let layout = match self.layout_of(start.chunk) {
            Ok(l) => Some(l),
            Err(ReadError::Corrupted(_)) => None, // a newer version: skip the chunk
            Err(e) => return Err(e),
        };
        let mut after = end;
        if let Some(layout) = layout {
            let size = self.storage.size(Blob::Chunk(start.chunk)).map_err(ReadError::Storage)?.unwrap_or(0);
            let mut src =
                ChunkBytes { reader: &mut self.reader, storage: &mut self.storage, chunk: start.chunk };
            let hit = damage::resync(&mut src, start.offset + 1, size, layout, start.index + 1)
                .map_err(ReadError::Storage)?;
            if let Some((offset, index)) = hit {
                let index = match index {
                    Some(i) => i,
                    // v1: count the frames from there to the chunk's end.
                    None => {
                        let rest =
                            self.frames_from(start.chunk, offset, layout).map_err(ReadError::Storage)?;
                        end.index.saturating_sub(rest).max(start.index + 1)
                    }
                };
                if index > start.index && index <= end.index {
                    after = Position { chunk: start.chunk, index, offset };
                }
            }
        }
        let slots = u64::from(after.index.saturating_sub(start.index));
        let counted = self.counted_at_open(start.chunk, start.index, after.index);
        self.stats.skipped_records += slots - counted;
        self.len = self.len.saturating_sub(slots - counted);
        self.read = after;
        Ok(())
    }

    /// How many of the slots `from..to` of `chunk` open already counted out.
    fn counted_at_open(&self, chunk: u64, from: u32, to: u32) -> u64 {
        self.lost
            .iter()
            .filter(|(c, _, _)| *c == chunk)
            .map(|&(_, a, b)| u64::from(b.min(to).saturating_sub(a.max(from))))
            .sum()
    }

    /// Valid frames chained from `offset` to the end of chunk `n`.
    pub(crate) fn frames_from(&mut self, n: u64, offset: u64, layout: Layout) -> Result<u32, S::Error> {
        let mut at = offset;
        let mut count = 0u32;
        while let Found::Record(_, len, _) = self.reader.frame(&mut self.storage, n, at, layout)? {
            count += 1;
            at += len;
        }
        Ok(count)
    }

    /// Finds the next record and hands it to `f`; the cursor advances only
    /// if `advance` and `f` accepts it (`Ok`).
    fn next<R, X>(
        &mut self,
        advance: bool,
        f: impl FnOnce(Vec<u8>) -> Result<R, X>,
    ) -> Result<Option<Result<R, X>>, ReadError<S::Error>> {
        if self.poisoned {
            return Err(ReadError::Poisoned);
        }
        loop {
            if self.readable() == 0 {
                return Ok(None);
            }
            match self.locate(self.read) {
                Ok((payload, after)) => {
                    let out = f(payload);
                    if advance && out.is_ok() {
                        self.read = after;
                        self.len -= 1;
                    }
                    return Ok(Some(out));
                }
                Err(ReadError::Corrupted(_)) if self.config.skip_corrupted => self.skip_damaged()?,
                Err(e) => return Err(e),
            }
        }
    }

    /// Takes the next item if `f` accepts it (returns `Ok`), without
    /// flushing; a rejected item (say, one that does not decode as the
    /// expected type) stays at the head of the queue. With `autosave` the
    /// cursor is saved (not flushed) after an accepted item.
    pub fn pop_map<R, X>(
        &mut self,
        f: impl FnOnce(Vec<u8>) -> Result<R, X>,
    ) -> Result<Option<Result<R, X>>, ReadError<S::Error>> {
        let out = self.next(true, f)?;
        if matches!(out, Some(Ok(_))) && self.config.autosave {
            self.checkpoint().map_err(ReadError::Write)?;
        }
        Ok(out)
    }

    /// Takes the next item without flushing; with `autosave` the cursor is
    /// saved (not flushed) too.
    pub fn pop(&mut self) -> Result<Option<Vec<u8>>, ReadError<S::Error>> {
        let out = self.pop_map(Ok::<_, core::convert::Infallible>)?;
        Ok(out.and_then(Result::ok))
    }

    /// Takes the next item; with `autosave` at synced durability the saved
    /// cursor is flushed before returning.
    pub fn get(&mut self) -> Result<Option<Vec<u8>>, ReadError<S::Error>> {
        let item = self.pop()?;
        self.sync_if_needed().map_err(ReadError::Write)?;
        Ok(item)
    }

    /// The next item, without taking it.
    pub fn peek(&mut self) -> Result<Option<Vec<u8>>, ReadError<S::Error>> {
        let out = self.next(false, Ok::<_, core::convert::Infallible>)?;
        Ok(out.and_then(Result::ok))
    }

    /// Up to `n` items from the read cursor on, oldest first, without
    /// taking them (tools listing a queue). Damage is reported as
    /// [`ReadError::Corrupted`] even with `skip_corrupted`: skipping moves
    /// the read cursor, and a listing changes nothing.
    pub fn peek_many(&mut self, n: usize) -> Result<Vec<Vec<u8>>, ReadError<S::Error>> {
        if self.poisoned {
            return Err(ReadError::Poisoned);
        }
        let mut out = Vec::new();
        let (mut pos, mut left) = (self.read, self.len);
        while left > 0 && out.len() < n {
            let (payload, after) = self.locate(pos)?;
            out.push(payload);
            pos = after;
            left -= 1;
        }
        Ok(out)
    }
}
