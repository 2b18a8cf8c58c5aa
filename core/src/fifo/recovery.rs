//! Opening a queue: create it, or load the checkpoint and repair the head
//! chunk after a crash.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::{Corruption, CorruptionKind, OpenError};
use crate::fifo::config::Config;
use crate::fifo::cursor::Position;
use crate::fifo::queue::{ChunkQueue, Stats};
use crate::format::chunk::{self, CHUNK_HEADER_LEN, HeaderProblem};
use crate::format::damage::{self, ChunkBytes, Tail};
use crate::format::frame::Layout;
use crate::format::meta::{self, MetaHeader};
use crate::format::reader::{Found, Reader};
use crate::storage::{Blob, Storage};

type Open<T, E> = Result<T, OpenError<E>>;

fn corrupted<T, E>(blob: Blob, offset: u64, kind: CorruptionKind) -> Open<T, E> {
    Err(OpenError::Corrupted(Corruption { blob, offset, kind }))
}

impl<S: Storage> ChunkQueue<S> {
    /// Opens the queue held by `storage`, creating it if the storage is
    /// empty.
    ///
    /// Recovery: a torn tail of the newest chunk or of the metadata (a write
    /// cut short by a crash: never acknowledged) is cut back to the last
    /// whole record; chunks left behind by an interrupted cleanup are
    /// deleted. Any other damage (see `damage.rs` for how the two
    /// are told apart) is reported as [`OpenError::Corrupted`] naming the
    /// blob and offset; with `skip_corrupted` the damaged records are
    /// skipped and counted, the damaged bytes are left in place, and every
    /// intact record after them is kept.
    pub fn open(mut storage: S, config: Config) -> Open<Self, S::Error> {
        config.validate().map_err(OpenError::InvalidConfig)?;
        let meta_size = storage.size(Blob::Meta).map_err(OpenError::Storage)?;
        let mut q = ChunkQueue {
            header: MetaHeader { chunk_size: config.chunk_size, codec: config.codec.clone() },
            storage,
            config,
            head: Position::chunk_start(0),
            read: Position::chunk_start(0),
            saved: Position::chunk_start(0),
            durable_saved: Position::chunk_start(0),
            oldest_chunk: 0,
            len: 0,
            unfinished: 0,
            meta_checkpoints: 1,
            unflushed: false,
            appended: 0,
            durable_appended: 0,
            poisoned: false,
            scratch: Vec::new(),
            reader: Reader::default(),
            stats: Stats::default(),
            head_layout: Layout::V2 { chunk: 0 },
            read_layout: None,
            lost: Vec::new(),
        };
        match meta_size {
            None => q.create()?,
            Some(size) => q.recover(size)?,
        }
        if q.config.durability.is_synced() && q.unflushed {
            q.sync().map_err(|e| match e {
                crate::WriteError::Storage(e) => OpenError::Storage(e),
                _ => OpenError::Corrupted(Corruption {
                    blob: Blob::Meta,
                    offset: 0,
                    kind: CorruptionKind::Missing,
                }),
            })?;
        }
        Ok(q)
    }

    fn create(&mut self) -> Open<(), S::Error> {
        let blobs = self.storage.list().map_err(OpenError::Storage)?;
        if let Some(b) = blobs.iter().find(|b| matches!(b, Blob::Chunk(_))) {
            // Chunks without metadata: not a queue we can read safely.
            return corrupted(*b, 0, CorruptionKind::Missing);
        }
        // Metadata first: a crash before chunk 0 exists is repaired on open.
        let bytes = meta::encode(&self.header, &Position::chunk_start(0));
        self.storage.replace(Blob::Meta, &bytes).map_err(OpenError::Storage)?;
        self.storage.append(Blob::Chunk(0), &chunk::encode_header(0)).map_err(OpenError::Storage)?;
        self.unflushed = true;
        Ok(())
    }

    fn recover(&mut self, meta_size: u64) -> Open<(), S::Error> {
        let mut bytes = alloc::vec![0; usize::try_from(meta_size).unwrap_or(0)];
        let n = self.storage.read(Blob::Meta, 0, &mut bytes).map_err(OpenError::Storage)?;
        bytes.truncate(n);
        let meta = match meta::decode(&bytes) {
            Ok(m) => m,
            Err(p) => return corrupted(Blob::Meta, 0, CorruptionKind::Meta(p)),
        };
        if !self.config.codec.is_empty()
            && !meta.header.codec.is_empty()
            && meta.header.codec != self.config.codec
        {
            return Err(OpenError::CodecMismatch {
                stored: meta.header.codec.clone(),
                requested: self.config.codec.clone(),
            });
        }
        if meta.header.chunk_size == 0 {
            return corrupted(Blob::Meta, 0, CorruptionKind::Meta(meta::MetaProblem::Damaged));
        }
        self.header = MetaHeader { chunk_size: meta.header.chunk_size, codec: meta.header.codec.clone() };
        if self.config.codec.is_empty() {
            self.config.codec = String::from(meta.header.codec.as_str());
        }
        self.config.chunk_size = meta.header.chunk_size;
        self.meta_checkpoints = meta.checkpoints;
        if let Some((offset, ranges)) = meta.damaged {
            if !self.config.skip_corrupted {
                return corrupted(Blob::Meta, offset as u64, CorruptionKind::Record);
            }
            self.stats.skipped_checkpoints += ranges;
        }
        if (meta.valid_len as u64) < meta_size {
            self.storage.truncate(Blob::Meta, meta.valid_len as u64).map_err(OpenError::Storage)?;
            self.stats.truncated_bytes += meta_size - meta.valid_len as u64;
            self.unflushed = true;
        }
        let saved = meta.checkpoint;

        // Chunks: delete those before the checkpoint (an interrupted
        // cleanup), require the rest to be contiguous.
        let chunks = chunk::chunks_from(&mut self.storage, saved.chunk).map_err(OpenError::Storage)?;
        let head_chunk = match chunks.last() {
            Some(&h) => h,
            None if saved == Position::chunk_start(saved.chunk) => {
                // Crash between writing the metadata and creating the chunk.
                self.storage
                    .append(Blob::Chunk(saved.chunk), &chunk::encode_header(saved.chunk))
                    .map_err(OpenError::Storage)?;
                self.unflushed = true;
                saved.chunk
            }
            None => return corrupted(Blob::Chunk(saved.chunk), 0, CorruptionKind::Missing),
        };
        for (expected, &found) in (saved.chunk..).zip(chunks.iter()) {
            if expected != found {
                return corrupted(Blob::Chunk(expected), 0, CorruptionKind::Missing);
            }
        }

        self.head = self.scan_head(head_chunk)?;
        let mut saved = saved;
        if saved.chunk == self.head.chunk && saved.index > self.head.index {
            saved = self.head;
            self.stats.checkpoint_clamped = true;
        }
        self.saved = saved;
        self.durable_saved = saved;
        self.read = saved;
        self.oldest_chunk = saved.chunk;
        self.len = saved.records_until(&self.head, self.header.chunk_size);
        // Damaged slots skipped at open are not waiting items.
        let lost: u64 = self
            .lost
            .iter()
            .filter(|(c, _, _)| *c == saved.chunk || saved.chunk < self.head.chunk)
            .map(|&(_, a, b)| {
                u64::from(b.saturating_sub(a.max(if saved.chunk == self.head.chunk {
                    saved.index
                } else {
                    0
                })))
            })
            .sum();
        self.lost.retain(|&(_, _, b)| saved.chunk < self.head.chunk || b > saved.index);
        self.stats.skipped_records += lost;
        self.len = self.len.saturating_sub(lost);
        self.unfinished = self.len;
        Ok(())
    }

    /// Finds the end of the newest chunk, cutting a torn tail (and only
    /// that): damage is reported, or skipped without cutting anything.
    fn scan_head(&mut self, h: u64) -> Open<Position, S::Error> {
        let blob = Blob::Chunk(h);
        let size = self.storage.size(blob).map_err(OpenError::Storage)?.unwrap_or(0);
        let header =
            self.reader.bytes(&mut self.storage, h, 0, CHUNK_HEADER_LEN).map_err(OpenError::Storage)?;
        let layout = match chunk::check_header(&header, h) {
            Ok(layout) => layout,
            Err(p @ HeaderProblem::Version(_)) => return corrupted(blob, 0, CorruptionKind::ChunkHeader(p)),
            Err(p) => {
                // A torn creation: the header was never wholly written (cut
                // short, or zero-filled by the filesystem) and nothing but
                // zeros follows it, so no record was ever put here.
                let mut src = ChunkBytes { reader: &mut self.reader, storage: &mut self.storage, chunk: h };
                let torn = p == HeaderProblem::Short
                    || (header.iter().all(|&b| b == 0)
                        && damage::zeros(&mut src, CHUNK_HEADER_LEN as u64, size)
                            .map_err(OpenError::Storage)?);
                if torn {
                    self.rewrite_header(h, size)?;
                    self.head_layout = Layout::V2 { chunk: h };
                    return Ok(Position::chunk_start(h));
                }
                if !self.config.skip_corrupted {
                    return corrupted(blob, 0, CorruptionKind::ChunkHeader(p));
                }
                // Leave the header as it is; read the records after it.
                self.guess_layout(h).map_err(OpenError::Storage)?
            }
        };
        self.head_layout = layout;
        let mut pos = Position::chunk_start(h);
        loop {
            match self.reader.frame(&mut self.storage, h, pos.offset, layout).map_err(OpenError::Storage)? {
                Found::Record(_, len, index) if index.is_none_or(|i| i == pos.index) => {
                    pos.index += 1;
                    pos.offset += len;
                    continue;
                }
                _ => {}
            }
            let mut src = ChunkBytes { reader: &mut self.reader, storage: &mut self.storage, chunk: h };
            match damage::classify(&mut src, pos.offset, size, layout, pos.index)
                .map_err(OpenError::Storage)?
            {
                Tail::Clean => break,
                Tail::Torn => {
                    self.storage.truncate(blob, pos.offset).map_err(OpenError::Storage)?;
                    self.stats.truncated_bytes += size - pos.offset;
                    self.unflushed = true;
                    self.reader.reset();
                    break;
                }
                Tail::Damaged { resume } => {
                    if !self.config.skip_corrupted {
                        return corrupted(blob, pos.offset, CorruptionKind::Record);
                    }
                    // Skip the damaged slots; keep their bytes and go on
                    // after them (new records are appended after all of it).
                    let (offset, index) = match resume {
                        Some((o, Some(i))) => (o, i),
                        // v1 frames do not say their slot: count one.
                        Some((o, None)) => (o, pos.index + 1),
                        None => (size, pos.index + 1),
                    };
                    self.lost.push((h, pos.index, index));
                    pos = Position { chunk: h, index, offset };
                }
            }
        }
        if pos.index > self.header.chunk_size {
            return corrupted(blob, pos.offset, CorruptionKind::Overfull);
        }
        Ok(pos)
    }

    fn rewrite_header(&mut self, h: u64, size: u64) -> Open<(), S::Error> {
        self.storage.truncate(Blob::Chunk(h), 0).map_err(OpenError::Storage)?;
        self.storage.append(Blob::Chunk(h), &chunk::encode_header(h)).map_err(OpenError::Storage)?;
        self.stats.truncated_bytes += size;
        self.unflushed = true;
        self.reader.reset();
        Ok(())
    }
}
