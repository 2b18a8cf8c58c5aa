//! `FaultyStorage`: a storage that keeps the written image and the durable
//! image apart, so tests can cut the power, tear a write at any byte, or
//! fail a chosen write or flush. Semver-exempt (feature `testing`).

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;
use core::fmt;

use crate::memory::MemoryStorage;
use crate::storage::{Blob, Flush, Storage};

/// Errors of [`FaultyStorage`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The simulated machine has crashed: every call fails.
    Crashed,
    /// An injected failure of one write or flush.
    Injected,
    /// Read of a blob that does not exist.
    Missing(Blob),
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Crashed => f.write_str("simulated crash"),
            Fault::Injected => f.write_str("injected I/O failure"),
            Fault::Missing(b) => write!(f, "blob {b} does not exist"),
        }
    }
}

impl core::error::Error for Fault {}

/// Which faults to inject. Writes and flushes are numbered from 1 in the
/// order the storage sees them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FaultPlan {
    /// Crash during this write: an append keeps `torn_keep` bytes of its
    /// data (clamped), a replace/truncate/remove takes effect if
    /// `torn_keep` is odd; then every call fails with [`Fault::Crashed`].
    pub crash_at_write: Option<u64>,
    /// Bytes of the crashing append that reach storage.
    pub torn_keep: usize,
    /// This write fails with [`Fault::Injected`] without taking effect.
    pub fail_write: Option<u64>,
    /// This flush fails with [`Fault::Injected`].
    pub fail_flush: Option<u64>,
}

/// The flush of a [`FaultyStorage`]: the blobs written since the previous
/// flush, as they were when it was taken (`None`: removed). They become
/// durable when the flush completes.
pub struct FaultyFlush {
    snapshot: Vec<(Blob, Option<Vec<u8>>)>,
    fail: bool,
}

impl Flush for FaultyFlush {
    type Error = Fault;
    fn sync(&mut self) -> Result<(), Fault> {
        if self.fail { Err(Fault::Injected) } else { Ok(()) }
    }
}

/// A fault-injecting in-memory storage.
#[derive(Clone, Debug, Default)]
pub struct FaultyStorage {
    written: MemoryStorage,
    durable: BTreeMap<Blob, Vec<u8>>,
    /// Blobs changed since the last flush was taken.
    dirty: BTreeSet<Blob>,
    plan: FaultPlan,
    writes: u64,
    flushes: u64,
    crashed: bool,
}

impl FaultyStorage {
    /// A fresh, empty storage with the given plan.
    pub fn new(plan: FaultPlan) -> Self {
        FaultyStorage { plan, ..Self::default() }
    }

    /// Starts from `image` (everything in it durable), with a new plan.
    pub fn from_image(image: MemoryStorage, plan: FaultPlan) -> Self {
        let durable = image.blobs().clone();
        FaultyStorage { written: image, durable, plan, ..Self::default() }
    }

    /// Writes seen so far (including failed ones).
    pub fn writes(&self) -> u64 {
        self.writes
    }

    /// Flushes taken so far.
    pub fn flushes(&self) -> u64 {
        self.flushes
    }

    /// Whether the planned crash has happened.
    pub fn crashed(&self) -> bool {
        self.crashed
    }

    /// The image a restarted process sees after a process crash: every
    /// write that reached the storage (including a torn one).
    pub fn after_process_crash(self) -> MemoryStorage {
        self.written
    }

    /// The image after a power cut: the durable image, plus, for each blob
    /// that only grew since its last flush, a prefix of the unflushed bytes
    /// chosen from `seed` (writes may reach the disk partly and in any
    /// order). Unflushed creations may vanish; unflushed removals and
    /// replacements are undone.
    pub fn after_power_cut(self, seed: u64) -> MemoryStorage {
        let mut rng = seed;
        let mut out = MemoryStorage::new();
        for (blob, durable) in &self.durable {
            out.set_blob(*blob, durable.clone());
        }
        for (blob, written) in self.written.blobs() {
            let base = self.durable.get(blob);
            let base_len = base.map_or(0, Vec::len);
            let grew = base.is_none_or(|b| written.len() >= b.len() && written.starts_with(b));
            if !grew || written.len() == base_len {
                continue;
            }
            let choice = splitmix(&mut rng);
            if base.is_none() && choice.is_multiple_of(4) {
                continue; // the creation never reached the disk
            }
            let extra = written.len() - base_len;
            let keep = match choice % 3 {
                0 => 0,
                1 => extra,
                _ => (splitmix(&mut rng) as usize) % (extra + 1),
            };
            out.set_blob(*blob, written[..base_len + keep].to_vec());
        }
        out
    }

    fn begin_write(&mut self, blob: Blob) -> Result<bool, Fault> {
        if self.crashed {
            return Err(Fault::Crashed);
        }
        self.dirty.insert(blob);
        self.writes += 1;
        if self.plan.fail_write == Some(self.writes) {
            return Err(Fault::Injected);
        }
        Ok(self.plan.crash_at_write == Some(self.writes))
    }

    fn crash(&mut self) -> Fault {
        self.crashed = true;
        Fault::Crashed
    }
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn lift(e: crate::memory::MissingBlob) -> Fault {
    Fault::Missing(e.0)
}

impl Storage for FaultyStorage {
    type Error = Fault;
    type Flush = FaultyFlush;

    fn list(&mut self) -> Result<Vec<Blob>, Fault> {
        if self.crashed {
            return Err(Fault::Crashed);
        }
        self.written.list().map_err(lift)
    }

    fn size(&mut self, blob: Blob) -> Result<Option<u64>, Fault> {
        if self.crashed {
            return Err(Fault::Crashed);
        }
        self.written.size(blob).map_err(lift)
    }

    fn read(&mut self, blob: Blob, offset: u64, buf: &mut [u8]) -> Result<usize, Fault> {
        if self.crashed {
            return Err(Fault::Crashed);
        }
        self.written.read(blob, offset, buf).map_err(lift)
    }

    fn append(&mut self, blob: Blob, data: &[u8]) -> Result<(), Fault> {
        if self.begin_write(blob)? {
            let keep = self.plan.torn_keep.min(data.len());
            self.written.append(blob, &data[..keep]).map_err(lift)?;
            return Err(self.crash());
        }
        self.written.append(blob, data).map_err(lift)
    }

    fn truncate(&mut self, blob: Blob, len: u64) -> Result<(), Fault> {
        if self.begin_write(blob)? {
            if !self.plan.torn_keep.is_multiple_of(2) {
                self.written.truncate(blob, len).map_err(lift)?;
            }
            return Err(self.crash());
        }
        self.written.truncate(blob, len).map_err(lift)
    }

    fn replace(&mut self, blob: Blob, data: &[u8]) -> Result<(), Fault> {
        if self.begin_write(blob)? {
            if !self.plan.torn_keep.is_multiple_of(2) {
                self.written.replace(blob, data).map_err(lift)?;
            }
            return Err(self.crash());
        }
        self.written.replace(blob, data).map_err(lift)
    }

    fn remove(&mut self, blob: Blob) -> Result<(), Fault> {
        if self.begin_write(blob)? {
            if !self.plan.torn_keep.is_multiple_of(2) {
                self.written.remove(blob).map_err(lift)?;
            }
            return Err(self.crash());
        }
        self.written.remove(blob).map_err(lift)
    }

    fn begin_flush(&mut self) -> Result<FaultyFlush, Fault> {
        if self.crashed {
            return Err(Fault::Crashed);
        }
        self.flushes += 1;
        let snapshot = core::mem::take(&mut self.dirty)
            .into_iter()
            .map(|b| (b, self.written.blob(b).map(<[u8]>::to_vec)))
            .collect();
        Ok(FaultyFlush { snapshot, fail: self.plan.fail_flush == Some(self.flushes) })
    }

    fn end_flush(&mut self, flush: FaultyFlush) {
        for (blob, bytes) in flush.snapshot {
            match bytes {
                Some(b) => self.durable.insert(blob, b),
                None => self.durable.remove(&blob),
            };
        }
    }
}
