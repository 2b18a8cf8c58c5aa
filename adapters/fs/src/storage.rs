//! `FsStorage`: blobs as files in one directory.

use std::collections::{BTreeSet, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use persist_queue_core::{Blob, Durability, Locked, Storage};

use crate::flush::{FsFlush, sync_dir};
use crate::generation::Generation;
#[cfg(target_os = "linux")]
use crate::hold::Hold;
#[cfg(target_os = "linux")]
use crate::mapped::Mapped;
use crate::positioned::read_at;
use crate::reserve::Reserve;
use crate::trace::{Call, Trace};

/// Open file handles kept at most (the head chunk is always kept).
const MAX_OPEN: usize = 8;
const LOCK_FILE: &str = "lock";
const META_TMP: &str = "meta.tmp";

/// Adds the operation and path to an I/O error, keeping its kind.
pub(crate) fn context(e: io::Error, op: &str, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{op} {}: {e}", path.display()))
}

/// A queue directory. See the crate docs for what each durability level
/// does on disk.
#[derive(Debug)]
pub struct FsStorage {
    dir: PathBuf,
    durability: Durability,
    files: HashMap<Blob, Arc<File>>,
    /// Blobs written since the last flush.
    dirty: BTreeSet<Blob>,
    dir_dirty: bool,
    last_appended: Option<Blob>,
    /// The chunk being filled, memory-mapped (Linux, buffered durability).
    #[cfg(target_os = "linux")]
    mapped: Option<(Blob, Mapped)>,
    /// Whether to map chunks (turned off if `fallocate` is refused).
    map_chunks: bool,
    /// Synced: whether chunks are filled inside written zeros
    /// ([`FsStorage::presized`]), and the one being filled.
    presize: bool,
    reserve: Option<Reserve>,
    /// Shared by processes: the lock is taken per operation, not at open.
    shared: bool,
    lock: File,
    /// Shared: the lock file's counter, telling whether another process
    /// held the lock since this handle did.
    generation: Generation,
    /// Shared, Linux: the lock kept across operations while no other
    /// process wants it.
    #[cfg(target_os = "linux")]
    hold: Option<Arc<Hold>>,
    trace: Option<Trace>,
}

impl FsStorage {
    /// Opens (creating if needed) the queue directory `dir` and locks it.
    /// Leftover temp files from a crash are deleted.
    ///
    /// # Errors
    ///
    /// `dir` exists and is not a directory (`NotADirectory`), another
    /// process holds the queue (`WouldBlock`), or any I/O error, each with
    /// the path in its message.
    pub fn open(dir: impl AsRef<Path>, durability: Durability) -> io::Result<FsStorage> {
        Self::open_mode(dir.as_ref(), durability, false)
    }

    /// Opens the directory for use by several processes at once: the
    /// directory lock is taken by [`Storage::lock`] around each operation
    /// instead of for as long as the storage is open, and chunks are never
    /// memory-mapped. Each lock counts itself in the `lock` file (a
    /// generation number, `FORMAT.md`): while no other process took the
    /// lock in between, open files and what was read stay valid; otherwise
    /// cached file handles are dropped (another process may have replaced
    /// or removed a file) and the lock answers [`Locked::MaybeChanged`].
    /// Every process sharing the directory must be of a version that
    /// counts.
    pub fn open_shared(dir: impl AsRef<Path>, durability: Durability) -> io::Result<FsStorage> {
        Self::open_mode(dir.as_ref(), durability, true)
    }

    fn open_mode(dir: &Path, durability: Durability, shared: bool) -> io::Result<FsStorage> {
        let dir = dir.to_path_buf();
        if dir.exists() && !dir.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                format!("{} exists and is not a directory", dir.display()),
            ));
        }
        let created = !dir.exists();
        fs::create_dir_all(&dir).map_err(|e| context(e, "create directory", &dir))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(|e| context(e, "open", &lock_path))?;
        match if shared { Ok(()) } else { lock.try_lock() } {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    format!("queue {} is open in another process", dir.display()),
                ));
            }
            Err(fs::TryLockError::Error(e)) if no_file_locks(&e) => {}
            Err(fs::TryLockError::Error(e)) => return Err(context(e, "lock", &lock_path)),
        }
        // A leftover temp file is harmless (the next replace overwrites it);
        // only an owner may delete it (another process may be writing it).
        let tmp = dir.join(META_TMP);
        match if shared { Ok(()) } else { fs::remove_file(&tmp) } {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(context(e, "remove", &tmp)),
        }
        if created
            && durability.is_synced()
            && let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty())
        {
            sync_dir(parent)?;
        }
        #[cfg(target_os = "linux")]
        let hold =
            if shared { Some(Hold::open(&lock).map_err(|e| context(e, "map", &lock_path))?) } else { None };
        Ok(FsStorage {
            dir,
            durability,
            files: HashMap::new(),
            dirty: BTreeSet::new(),
            dir_dirty: created,
            last_appended: None,
            #[cfg(target_os = "linux")]
            mapped: None,
            map_chunks: cfg!(target_os = "linux") && !durability.is_synced() && !shared,
            presize: false,
            reserve: None,
            shared,
            lock,
            generation: Generation::default(),
            #[cfg(target_os = "linux")]
            hold,
            trace: None,
        })
    }

    /// At synced durability, fills each chunk inside zeros written ahead
    /// of its data (64 KiB, doubling up to 4 MiB at a time), so that a
    /// flush writes the new records alone instead of also committing a
    /// larger file size: a synced put then costs an overwrite in place and
    /// one `fdatasync`. The zeros are cut when the next chunk is started
    /// (durably, before the next chunk exists) or the storage dropped;
    /// after a crash, recovery cuts them (zeros to the end of the newest
    /// chunk are a tail no put returned for). Appends to that chunk are
    /// written behind: kept in memory (reads and `size` see them) until
    /// the next `begin_flush` writes them with one positioned write, so a
    /// batch of N synced puts costs one `write` and one `fdatasync`. A
    /// process crash before that loses only puts that had not returned.
    /// Not used when shared by processes, traced, or at buffered
    /// durability (where chunks are memory-mapped instead, with the same
    /// reserve).
    pub fn presized(mut self) -> FsStorage {
        self.presize = self.durability.is_synced() && !self.shared && self.trace.is_none();
        self
    }

    /// Records every file-system call from now on into `trace`, for the
    /// crash-state explorer. Memory maps and [`FsStorage::presized`] chunks
    /// are turned off, so every append is a call.
    pub fn traced(mut self, trace: Trace) -> FsStorage {
        self.map_chunks = false;
        self.presize = false;
        self.trace = Some(trace);
        self
    }

    /// Records the call `f` makes, if tracing.
    fn note(&self, f: impl FnOnce(String) -> Call, path: &Path) {
        if let Some(t) = &self.trace {
            t.push(f(path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()));
        }
    }

    /// The queue directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The durability this storage was opened for.
    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// The path of `blob`'s file.
    pub fn path_of(&self, blob: Blob) -> PathBuf {
        self.dir.join(blob.to_string())
    }

    fn handle(&mut self, blob: Blob, create: bool) -> io::Result<Arc<File>> {
        if let Some(f) = self.files.get(&blob) {
            return Ok(Arc::clone(f));
        }
        let path = self.path_of(blob);
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(create)
            .open(&path)
            .map_err(|e| context(e, "open", &path))?;
        if create && file.metadata().map(|m| m.len() == 0).unwrap_or(true) {
            self.dir_dirty = true;
            self.note(Call::Create, &path);
            if matches!(blob, Blob::Chunk(_)) {
                // A new chunk's name is made durable at once, at every
                // durability: `meta` may name the chunk in a checkpoint
                // before the next flush, and after a power cut a `meta`
                // naming a chunk the directory lost leaves the queue
                // unreadable (found by the crash-state explorer). One
                // directory `fsync` per chunk (10,000 items by default).
                sync_dir(&self.dir)?;
                self.note(|_| Call::SyncDir, &path);
            }
        }
        if self.files.len() >= MAX_OPEN {
            let keep = self.last_appended;
            self.files.retain(|b, _| Some(*b) == keep);
        }
        let file = Arc::new(file);
        self.files.insert(blob, Arc::clone(&file));
        Ok(file)
    }

    /// The mapped chunk, if `blob` is it.
    #[cfg(target_os = "linux")]
    fn mapped(&mut self, blob: Blob) -> Option<&mut Mapped> {
        match &mut self.mapped {
            Some((b, m)) if *b == blob => Some(m),
            _ => None,
        }
    }

    /// Unmaps `blob` if it is mapped (which cuts its zero-filled reserve).
    fn unmap(&mut self, blob: Blob) {
        #[cfg(target_os = "linux")]
        if matches!(self.mapped, Some((b, _)) if b == blob) {
            self.mapped = None;
        }
        let _ = blob;
    }

    /// Takes the directory lock (shared mode). `Ok(true)`: it was kept
    /// since this handle's last operation ([`Hold`], Linux).
    fn take_lock(&self) -> io::Result<bool> {
        #[cfg(target_os = "linux")]
        if let Some(h) = &self.hold {
            return h.enter();
        }
        match self.lock.lock() {
            Err(e) if !no_file_locks(&e) => Err(e),
            _ => Ok(false),
        }
    }

    /// Gives the directory lock up at once (after a failure under it).
    fn give_up_lock(&self) {
        #[cfg(target_os = "linux")]
        if let Some(h) = &self.hold {
            h.give_up();
            return;
        }
        let _ = self.lock.unlock();
    }

    /// The chunk being filled inside its zeros, if `blob` is it.
    fn reserve(&self, blob: Blob) -> Option<&Reserve> {
        self.reserve.as_ref().filter(|r| r.blob == blob)
    }

    /// Cuts the zeros of the chunk being filled, durably, and stops
    /// filling it: no chunk but the newest ever ends in zeros.
    fn leave_reserve(&mut self) -> io::Result<()> {
        if let Some(r) = self.reserve.take() {
            let path = self.path_of(r.blob);
            r.close().map_err(|e| context(e, "truncate and fdatasync", &path))?;
        }
        Ok(())
    }

    /// Appends inside written zeros (see [`FsStorage::presized`]).
    /// `Ok(false)` when not in use.
    fn append_reserved(&mut self, blob: Blob, data: &[u8]) -> io::Result<bool> {
        if !self.presize || !matches!(blob, Blob::Chunk(_)) {
            return Ok(false);
        }
        let path = self.path_of(blob);
        if self.reserve(blob).is_none() {
            self.leave_reserve()?;
            // Created (and its name made durable) as any chunk is.
            self.handle(blob, true)?;
            let file = OpenOptions::new().write(true).open(&path).map_err(|e| context(e, "open", &path))?;
            self.reserve = Some(Reserve::open(blob, file).map_err(|e| context(e, "stat", &path))?);
        }
        if let Some(r) = &mut self.reserve {
            r.append(data).map_err(|e| context(e, "write to", &path))?;
        }
        self.last_appended = Some(blob);
        self.dirty.insert(blob);
        Ok(true)
    }

    /// Appends through a memory map (the chunk being filled is mapped; the
    /// previous one is unmapped). `Ok(false)` when mapping is not in use:
    /// not Linux, synced durability, or a filesystem without `fallocate`.
    fn append_mapped(&mut self, blob: Blob, data: &[u8]) -> io::Result<bool> {
        if !self.map_chunks || !matches!(blob, Blob::Chunk(_)) {
            return Ok(false);
        }
        #[cfg(target_os = "linux")]
        {
            if self.mapped(blob).is_none() {
                self.mapped = None;
                let file = self.handle(blob, true)?;
                match Mapped::open(file) {
                    Ok(m) => self.mapped = Some((blob, m)),
                    Err(e) if e.kind() == io::ErrorKind::Unsupported || e.raw_os_error() == Some(95) => {
                        self.map_chunks = false;
                        return Ok(false);
                    }
                    Err(e) => return Err(context(e, "map", &self.path_of(blob))),
                }
            }
            let path = self.path_of(blob);
            if let Some(m) = self.mapped(blob) {
                m.append(data).map_err(|e| context(e, "append to", &path))?;
                self.last_appended = Some(blob);
                self.dirty.insert(blob);
                return Ok(true);
            }
        }
        let _ = data;
        Ok(false)
    }
}

/// WASI has no file locks: there, a queue directory must be used by one
/// process (one WebAssembly instance) at a time, and nothing enforces it.
fn no_file_locks(e: &io::Error) -> bool {
    cfg!(target_os = "wasi") && e.kind() == io::ErrorKind::Unsupported
}

impl Storage for FsStorage {
    type Error = io::Error;
    type Flush = FsFlush;

    fn list(&mut self) -> io::Result<Vec<Blob>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(|e| context(e, "list", &self.dir))? {
            let entry = entry.map_err(|e| context(e, "list", &self.dir))?;
            if let Some(blob) = entry.file_name().to_str().and_then(Blob::parse) {
                out.push(blob);
            }
        }
        Ok(out)
    }

    fn size(&mut self, blob: Blob) -> io::Result<Option<u64>> {
        #[cfg(target_os = "linux")]
        if let Some(m) = self.mapped(blob) {
            return Ok(Some(m.len()));
        }
        if let Some(r) = self.reserve(blob) {
            return Ok(Some(r.len()));
        }
        if let Some(f) = self.files.get(&blob) {
            return f.metadata().map(|m| Some(m.len()));
        }
        let path = self.path_of(blob);
        match fs::metadata(&path) {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(context(e, "stat", &path)),
        }
    }

    fn read(&mut self, blob: Blob, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        // A mapped file is longer than its data: never read the reserve.
        #[cfg(target_os = "linux")]
        let buf = match self.mapped(blob) {
            Some(m) => {
                let avail = usize::try_from(m.len().saturating_sub(offset)).unwrap_or(usize::MAX);
                let n = buf.len().min(avail);
                &mut buf[..n]
            }
            None => buf,
        };
        // Nor the zeros ahead of a presized chunk's data; its bytes not
        // yet written come from memory.
        let (buf, len) = match self.reserve(blob) {
            Some(r) => {
                let avail = usize::try_from(r.len().saturating_sub(offset)).unwrap_or(usize::MAX);
                let n = buf.len().min(avail);
                let in_file = r.read_pending(offset, &mut buf[..n]);
                (&mut buf[..in_file], n)
            }
            None => {
                let n = buf.len();
                (buf, n)
            }
        };
        let file = self.handle(blob, false)?;
        let mut done = 0;
        while done < buf.len() {
            let n = read_at(&file, &mut buf[done..], offset + done as u64)
                .map_err(|e| context(e, "read", &self.path_of(blob)))?;
            if n == 0 {
                break;
            }
            done += n;
        }
        Ok(if done == buf.len() { len } else { done })
    }

    fn append(&mut self, blob: Blob, data: &[u8]) -> io::Result<()> {
        if self.append_mapped(blob, data)? || self.append_reserved(blob, data)? {
            return Ok(());
        }
        let file = self.handle(blob, true)?;
        (&*file).write_all(data).map_err(|e| context(e, "append to", &self.path_of(blob)))?;
        self.note(|n| Call::Append(n, data.to_vec()), &self.path_of(blob));
        self.last_appended = Some(blob);
        self.dirty.insert(blob);
        Ok(())
    }

    fn truncate(&mut self, blob: Blob, len: u64) -> io::Result<()> {
        self.unmap(blob);
        if self.reserve(blob).is_some() {
            self.leave_reserve()?;
        }
        let file = self.handle(blob, false)?;
        file.set_len(len).map_err(|e| context(e, "truncate", &self.path_of(blob)))?;
        self.note(|n| Call::SetLen(n, len), &self.path_of(blob));
        self.dirty.insert(blob);
        Ok(())
    }

    fn replace(&mut self, blob: Blob, data: &[u8]) -> io::Result<()> {
        let tmp = self.dir.join(META_TMP);
        let target = self.path_of(blob);
        let mut file = File::create(&tmp).map_err(|e| context(e, "create", &tmp))?;
        self.note(Call::Create, &tmp);
        file.write_all(data).map_err(|e| context(e, "write", &tmp))?;
        self.note(|n| Call::Append(n, data.to_vec()), &tmp);
        // At every durability: a rename can reach the disk before the
        // data it names, leaving an empty `meta` after a power cut (found
        // by the crash-state explorer, tests/tests/crash_states.rs). A
        // replace is rare (creation, meta compaction), so this costs
        // little.
        file.sync_data().map_err(|e| context(e, "fdatasync", &tmp))?;
        self.note(Call::SyncData, &tmp);
        drop(file);
        // The old handle refers to the replaced file: forget it first
        // (Windows cannot rename over an open file).
        self.unmap(blob);
        self.files.remove(&blob);
        fs::rename(&tmp, &target).map_err(|e| context(e, "rename over", &target))?;
        self.note(|n| Call::Rename(META_TMP.to_string(), n), &target);
        self.dirty.insert(blob);
        self.dir_dirty = true;
        Ok(())
    }

    fn remove(&mut self, blob: Blob) -> io::Result<()> {
        self.unmap(blob);
        if self.reserve(blob).is_some()
            && let Some(r) = self.reserve.take()
        {
            r.discard();
        }
        self.files.remove(&blob);
        self.dirty.remove(&blob);
        if self.last_appended == Some(blob) {
            self.last_appended = None;
        }
        let path = self.path_of(blob);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(context(e, "remove", &path)),
        }
        self.note(Call::Unlink, &path);
        self.dir_dirty = true;
        Ok(())
    }

    fn lock(&mut self) -> io::Result<Locked> {
        if !self.shared {
            return Ok(Locked::Unchanged);
        }
        let path = self.dir.join(LOCK_FILE);
        if self.take_lock().map_err(|e| context(e, "lock", &path))? {
            // Kept since this handle's last operation: nobody else wrote.
            return Ok(Locked::Unchanged);
        }
        let changed = match self.generation.enter(&self.lock) {
            Ok(changed) => changed,
            Err(e) => {
                self.give_up_lock();
                return Err(context(e, "count a hold of", &path));
            }
        };
        if !changed {
            return Ok(Locked::Unchanged);
        }
        // Another process may have replaced or removed any file.
        self.files.clear();
        self.last_appended = None;
        Ok(Locked::MaybeChanged)
    }

    fn unlock(&mut self) {
        if !self.shared {
            return;
        }
        #[cfg(target_os = "linux")]
        if let Some(h) = &self.hold {
            h.leave();
            return;
        }
        let _ = self.lock.unlock();
    }

    fn begin_flush(&mut self) -> io::Result<FsFlush> {
        if let Some(blob) = self.reserve.as_ref().map(|r| r.blob) {
            let path = self.path_of(blob);
            if let Some(r) = &mut self.reserve {
                r.write_pending().map_err(|e| context(e, "write to", &path))?;
            }
        }
        let mut files = Vec::new();
        for blob in std::mem::take(&mut self.dirty) {
            let path = self.path_of(blob);
            match self.handle(blob, false) {
                Ok(f) => files.push((path, f)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        let dir = std::mem::take(&mut self.dir_dirty).then(|| self.dir.clone());
        Ok(FsFlush { files, dir, trace: self.trace.clone() })
    }
}
