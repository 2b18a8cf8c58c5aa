//! Opening a queue: create it, or load the checkpoint and repair the head
//! chunk after a crash.

use alloc::string::String;
use alloc::vec::Vec;

use crate::chunk::{self, CHUNK_HEADER_LEN, HeaderProblem};
use crate::config::Config;
use crate::cursor::Position;
use crate::error::{Corruption, CorruptionKind, OpenError};
use crate::frame::{FRAME_HEADER_LEN, FrameHeader};
use crate::meta::{self, MetaHeader};
use crate::queue::{ChunkQueue, Stats};
use crate::reader::{Found, Reader};
use crate::storage::{Blob, Storage};

type Open<T, E> = Result<T, OpenError<E>>;

fn corrupted<T, E>(blob: Blob, offset: u64, kind: CorruptionKind) -> Open<T, E> {
    Err(OpenError::Corrupted(Corruption { blob, offset, kind }))
}

impl<S: Storage> ChunkQueue<S> {
    /// Opens the queue held by `storage`, creating it if the storage is
    /// empty.
    ///
    /// Recovery: a torn tail of the newest chunk or of the metadata (a crash
    /// in the middle of an append) is cut back to the last whole record;
    /// chunks left behind by an interrupted cleanup are deleted. Damage
    /// anywhere else is reported as [`OpenError::Corrupted`] naming the blob
    /// and offset (or skipped and counted with `skip_corrupted`).
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
            poisoned: false,
            scratch: Vec::new(),
            reader: Reader::default(),
            stats: Stats::default(),
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
        if (meta.valid_len as u64) < meta_size {
            self.storage.truncate(Blob::Meta, meta.valid_len as u64).map_err(OpenError::Storage)?;
            self.stats.truncated_bytes += meta_size - meta.valid_len as u64;
            self.unflushed = true;
        }
        let saved = meta.checkpoint;

        // Chunks: delete those before the checkpoint (an interrupted
        // cleanup), require the rest to be contiguous.
        let mut chunks: Vec<u64> = self
            .storage
            .list()
            .map_err(OpenError::Storage)?
            .into_iter()
            .filter_map(|b| if let Blob::Chunk(n) = b { Some(n) } else { None })
            .collect();
        chunks.sort_unstable();
        for &n in chunks.iter().filter(|&&n| n < saved.chunk) {
            self.storage.remove(Blob::Chunk(n)).map_err(OpenError::Storage)?;
        }
        chunks.retain(|&n| n >= saved.chunk);
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
        self.unfinished = self.len;
        Ok(())
    }

    /// Finds the end of the newest chunk, cutting a torn tail.
    fn scan_head(&mut self, h: u64) -> Open<Position, S::Error> {
        let blob = Blob::Chunk(h);
        let size = self.storage.size(blob).map_err(OpenError::Storage)?.unwrap_or(0);
        let header =
            self.reader.bytes(&mut self.storage, h, 0, CHUNK_HEADER_LEN).map_err(OpenError::Storage)?;
        match chunk::check_header(&header, h) {
            Ok(()) => {}
            // A torn creation: the header was never wholly written (short,
            // or zero-filled by the filesystem), so no record follows it.
            Err(HeaderProblem::Short) | Err(HeaderProblem::Damaged) if header.iter().all(|&b| b == 0) => {
                self.rewrite_header(h, size)?;
                return Ok(Position::chunk_start(h));
            }
            Err(HeaderProblem::Short) => {
                self.rewrite_header(h, size)?;
                return Ok(Position::chunk_start(h));
            }
            Err(p) => return corrupted(blob, 0, CorruptionKind::ChunkHeader(p)),
        }
        let mut pos = Position::chunk_start(h);
        loop {
            match self.reader.frame(&mut self.storage, h, pos.offset).map_err(OpenError::Storage)? {
                Found::Record(_, len) => {
                    pos.index += 1;
                    pos.offset += len;
                }
                Found::End => break,
                Found::Invalid => {
                    let after = self.records_after_damage(h, pos.offset, size)?;
                    if after > 0 {
                        if !self.config.skip_corrupted {
                            return corrupted(blob, pos.offset, CorruptionKind::Record);
                        }
                        self.stats.skipped_records += 1 + after;
                    }
                    break;
                }
            }
        }
        if pos.index > self.header.chunk_size {
            return corrupted(blob, pos.offset, CorruptionKind::Overfull);
        }
        if size > pos.offset {
            self.storage.truncate(blob, pos.offset).map_err(OpenError::Storage)?;
            self.stats.truncated_bytes += size - pos.offset;
            self.unflushed = true;
            self.reader.reset();
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

    /// How many valid records follow an invalid one at `offset`, chaining
    /// from its declared length. Zero means the damage is a torn tail.
    fn records_after_damage(&mut self, h: u64, offset: u64, size: u64) -> Open<u64, S::Error> {
        let raw =
            self.reader.bytes(&mut self.storage, h, offset, FRAME_HEADER_LEN).map_err(OpenError::Storage)?;
        let Ok(hb) = <[u8; FRAME_HEADER_LEN]>::try_from(raw.as_slice()) else {
            return Ok(0);
        };
        let mut at = offset + FrameHeader::parse(hb).frame_len();
        let mut count = 0;
        while at < size {
            match self.reader.frame(&mut self.storage, h, at).map_err(OpenError::Storage)? {
                Found::Record(_, len) => {
                    count += 1;
                    at += len;
                }
                _ => break,
            }
        }
        Ok(count)
    }
}
