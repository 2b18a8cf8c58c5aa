//! The crash-state explorer for the filesystem adapter (the ALICE and
//! CrashMonkey idea): a workload runs on a traced [`FsStorage`], which
//! records its file-system calls ([`Call`]); the explorer then rebuilds,
//! for every point the machine could have lost power, each state the POSIX
//! contract allows the disk to be left in, opens the queue on it and checks
//! the invariants.
//!
//! What a crash may leave, per file and per directory:
//! * a file holds what it held at its last `fdatasync`, plus any *prefix*
//!   of the writes since (in order), the last of them possibly torn at a
//!   512-byte sector or extended with zeros (the size reached the disk, the
//!   data did not) — the *ordered* states, which recovery must open
//!   cleanly;
//! * or those writes with one of them missing while later ones arrived
//!   (the page cache writes back in any order) — the *reordered* states;
//! * the directory holds the names it held at its last `fsync`, plus any
//!   prefix of the creates, renames and removals since (a journaling
//!   filesystem commits them in order).
//!
//! The invariants, on every state: the queue opens and hands out items as
//! written, in order; every item whose synced `put` returned before the
//! crash is there, and none whose `task_done` returned comes back. A
//! reordered state may instead be reported as `Corrupted` (valid frames
//! after a hole look like damage, not a torn tail): safe, never silent,
//! and counted apart as a false alarm.

use std::collections::BTreeMap;
use std::path::Path;

use persist_queue_core::{ChunkQueue, Config, Durability, ReadError};
use persist_queue_fs::{Call, FsStorage};

/// A mark the workload sets: `put` of item `n` returned.
pub fn put_returned(n: u32) -> u64 {
    u64::from(n)
}

/// A mark the workload sets: `task_done` returned with the first `n` items
/// done.
pub fn done_returned(n: u32) -> u64 {
    1 << 32 | u64::from(n)
}

/// A mark the workload sets: `get` returned the first `n` items (a
/// `task_done` that is under way may make them done at any point).
pub fn got_returned(n: u32) -> u64 {
    2 << 32 | u64::from(n)
}

/// The item number `n` of a workload: says which it is, and is long
/// enough (100 to 1,400 bytes) that its frames cross sectors.
pub fn item(n: u32) -> Vec<u8> {
    let mut v = n.to_le_bytes().to_vec();
    v.extend((0..100 + (n * 331) % 1300).map(|j| (n.wrapping_mul(31).wrapping_add(j)) as u8));
    v
}

/// The number of `bytes` if it is an item as [`item`] writes it.
pub fn index_of(bytes: &[u8]) -> Option<u32> {
    let n = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?);
    (bytes == item(n).as_slice()).then_some(n)
}

const SECTOR: u64 = 512;

/// One write to a file since its last `fdatasync`.
#[derive(Clone, Debug)]
enum Write {
    /// `data` at `offset` (an append).
    At { offset: u64, data: Vec<u8> },
    /// The length set.
    Len(u64),
}

/// A file: its bytes now, at its last `fdatasync`, and the writes between.
#[derive(Clone, Debug, Default)]
struct Inode {
    now: Vec<u8>,
    durable: Vec<u8>,
    pending: Vec<Write>,
}

/// A change to the directory since its last `fsync`.
#[derive(Clone, Debug)]
enum DirOp {
    Link(String, usize),
    Unlink(String),
}

/// The disk as the calls so far left it.
#[derive(Clone, Debug, Default)]
struct Disk {
    inodes: Vec<Inode>,
    names: BTreeMap<String, usize>,
    durable_names: BTreeMap<String, usize>,
    pending_dir: Vec<DirOp>,
}

impl Disk {
    fn apply(&mut self, call: &Call) {
        match call {
            Call::Create(name) => match self.names.get(name) {
                // O_TRUNC of a file that exists: emptied, same inode.
                Some(&ino) => self.write(ino, Write::Len(0)),
                None => {
                    self.inodes.push(Inode::default());
                    let ino = self.inodes.len() - 1;
                    self.names.insert(name.clone(), ino);
                    self.pending_dir.push(DirOp::Link(name.clone(), ino));
                }
            },
            Call::Append(name, data) => {
                if let Some(&ino) = self.names.get(name) {
                    let offset = self.inodes[ino].now.len() as u64;
                    self.write(ino, Write::At { offset, data: data.clone() });
                }
            }
            Call::SetLen(name, len) => {
                if let Some(&ino) = self.names.get(name) {
                    self.write(ino, Write::Len(*len));
                }
            }
            Call::SyncData(name) => {
                if let Some(&ino) = self.names.get(name) {
                    let i = &mut self.inodes[ino];
                    i.durable = i.now.clone();
                    i.pending.clear();
                }
            }
            Call::Rename(from, to) => {
                if let Some(ino) = self.names.remove(from) {
                    self.names.insert(to.clone(), ino);
                    self.pending_dir.push(DirOp::Unlink(from.clone()));
                    self.pending_dir.push(DirOp::Link(to.clone(), ino));
                }
            }
            Call::Unlink(name) => {
                if self.names.remove(name).is_some() {
                    self.pending_dir.push(DirOp::Unlink(name.clone()));
                }
            }
            Call::SyncDir => {
                self.durable_names = self.names.clone();
                self.pending_dir.clear();
            }
            Call::Mark(_) => {}
        }
    }

    fn write(&mut self, ino: usize, w: Write) {
        let i = &mut self.inodes[ino];
        apply_write(&mut i.now, &w);
        i.pending.push(w);
    }
}

fn apply_write(bytes: &mut Vec<u8>, w: &Write) {
    match w {
        Write::At { offset, data } => {
            let end = *offset as usize + data.len();
            if bytes.len() < end {
                bytes.resize(end, 0);
            }
            bytes[*offset as usize..end].copy_from_slice(data);
        }
        Write::Len(len) => bytes.resize(*len as usize, 0),
    }
}

/// Which bytes a file holds in one crash state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Version {
    /// The first `n` pending writes.
    Prefix(usize),
    /// The first `n`, then `sectors` sectors of write `n` (an append).
    Torn { n: usize, sectors: u64 },
    /// The first `n`, then write `n`'s length but zeros for its data.
    Zeroed(usize),
    /// The first `n` but write `missing`, which left a hole.
    Reordered { n: usize, missing: usize },
}

impl Version {
    fn reordered(self) -> bool {
        matches!(self, Version::Reordered { .. })
    }
}

fn versions(i: &Inode) -> Vec<Version> {
    let m = i.pending.len();
    let mut out: Vec<Version> = (0..=m).map(Version::Prefix).collect();
    let mut len = i.durable.len() as u64;
    for (n, w) in i.pending.iter().enumerate() {
        if let Write::At { offset, data } = w {
            let end = offset + data.len() as u64;
            // Sector boundaries inside the write.
            let first = offset / SECTOR + 1;
            for b in first..end.div_ceil(SECTOR) {
                out.push(Version::Torn { n, sectors: b - offset / SECTOR });
            }
            if end > len {
                out.push(Version::Zeroed(n));
            }
            for missing in 0..n {
                if matches!(i.pending[missing], Write::At { .. }) {
                    out.push(Version::Reordered { n: n + 1, missing });
                }
            }
            len = len.max(end);
        } else if let Write::Len(l) = w {
            len = *l;
        }
    }
    out
}

fn bytes_of(i: &Inode, v: Version) -> Vec<u8> {
    let mut b = i.durable.clone();
    let (n, last) = match v {
        Version::Prefix(n) | Version::Reordered { n, .. } => (n, None),
        Version::Torn { n, .. } | Version::Zeroed(n) => (n, Some(v)),
    };
    for (k, w) in i.pending.iter().take(n).enumerate() {
        match (v, w) {
            (Version::Reordered { missing, .. }, Write::At { offset, data }) if k == missing => {
                // Its size may have reached the disk through a later write;
                // its data did not.
                apply_write(&mut b, &Write::At { offset: *offset, data: vec![0; data.len()] });
            }
            _ => apply_write(&mut b, w),
        }
    }
    if let (Some(last), Some(Write::At { offset, data })) = (last, i.pending.get(n)) {
        match last {
            Version::Torn { sectors, .. } => {
                let keep = ((offset / SECTOR + sectors) * SECTOR - offset).min(data.len() as u64);
                apply_write(&mut b, &Write::At { offset: *offset, data: data[..keep as usize].to_vec() });
            }
            _ => apply_write(&mut b, &Write::At { offset: *offset, data: vec![0; data.len()] }),
        }
    }
    b
}

/// What the explorer found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Explored {
    /// Points where the power could have been lost (between two calls).
    pub crash_points: u64,
    /// Crash states opened and checked.
    pub states: u64,
    /// Reordered states reported as `Corrupted` (safe false alarms).
    pub false_alarms: u64,
    /// Ordered states reported as `Corrupted` where that is allowed (not
    /// `strict`): safe, but the queue needs `skip_corrupted` to open.
    pub reported: u64,
    /// Invariants broken, described (empty: none).
    pub violations: Vec<String>,
}

/// What the workload had been told when the power went.
#[derive(Clone, Debug, Default)]
struct Marks {
    /// Items whose put returned.
    returned: Vec<u32>,
    /// Items before this one are done (their task_done returned).
    done: u32,
    /// Items before this one were got (they may be done).
    got: u32,
}

/// Explores every crash state of `calls` (a traced workload on a queue
/// opened with `config`, marks set with [`put_returned`],
/// [`got_returned`] and [`done_returned`]), materialising each in
/// `scratch`. `strict`: an ordered state must open cleanly (synced
/// durability); otherwise it may instead be reported as `Corrupted`
/// (buffered: a full chunk is not flushed before the next, so a power cut
/// can tear a chunk that is no longer the newest), never silently lose.
pub fn explore(calls: &[Call], config: &Config, scratch: &Path, strict: bool) -> Explored {
    let mut found = Explored::default();
    let mut disk = Disk::default();
    let mut marks = Marks::default();
    for k in 0..=calls.len() {
        found.crash_points += 1;
        check_point(&disk, &marks, config, scratch, strict, &mut found);
        let Some(call) = calls.get(k) else { break };
        if let Call::Mark(m) = call {
            match m >> 32 {
                0 => marks.returned.push(*m as u32),
                1 => marks.done = *m as u32,
                _ => marks.got = *m as u32,
            }
        }
        disk.apply(call);
    }
    found
}

fn check_point(
    disk: &Disk,
    marks: &Marks,
    config: &Config,
    scratch: &Path,
    strict: bool,
    found: &mut Explored,
) {
    let moving: Vec<usize> = (0..disk.inodes.len()).filter(|&i| !disk.inodes[i].pending.is_empty()).collect();
    for dir_prefix in 0..=disk.pending_dir.len() {
        let mut names = disk.durable_names.clone();
        for op in &disk.pending_dir[..dir_prefix] {
            match op {
                DirOp::Link(n, ino) => {
                    names.insert(n.clone(), *ino);
                }
                DirOp::Unlink(n) => {
                    names.remove(n);
                }
            }
        }
        // One file at a time through all its versions; the others at
        // their two extremes (nothing or everything since their sync).
        let mut combos: Vec<BTreeMap<usize, Version>> = Vec::new();
        for &focus in &moving {
            let others: Vec<usize> = moving.iter().copied().filter(|&i| i != focus).collect();
            for v in versions(&disk.inodes[focus]) {
                for mask in 0..(1u32 << others.len().min(3)) {
                    let mut c = BTreeMap::from([(focus, v)]);
                    for (bit, &o) in others.iter().enumerate() {
                        let all = if bit < 3 { mask >> bit & 1 == 1 } else { true };
                        c.insert(o, Version::Prefix(if all { disk.inodes[o].pending.len() } else { 0 }));
                    }
                    combos.push(c);
                }
            }
        }
        if combos.is_empty() {
            combos.push(BTreeMap::new());
        }
        for combo in combos {
            let files: Vec<(String, Vec<u8>)> = names
                .iter()
                .map(|(n, &ino)| {
                    let v =
                        combo.get(&ino).copied().unwrap_or(Version::Prefix(disk.inodes[ino].pending.len()));
                    (n.clone(), bytes_of(&disk.inodes[ino], v))
                })
                .collect();
            let reordered = combo.values().any(|v| v.reordered());
            found.states += 1;
            let broken = match check_state(&files, marks, config, scratch, strict) {
                Ok(()) => None,
                Err(Outcome::Corrupted(_)) if reordered => {
                    found.false_alarms += 1;
                    None
                }
                Err(Outcome::Corrupted(_)) if !strict => {
                    found.reported += 1;
                    None
                }
                Err(Outcome::Corrupted(c)) => Some(format!("an ordered crash state reported as damage: {c}")),
                Err(Outcome::Failed(f)) => Some(f),
            };
            if let Some(b) = broken
                && found.violations.len() < 20
            {
                let names: Vec<&String> = names.keys().collect();
                found.violations.push(format!(
                    "{b} (crash point {}, names {names:?}, files {combo:?}, directory prefix {dir_prefix} of {:?})",
                    found.crash_points - 1,
                    disk.pending_dir
                ));
            }
        }
    }
}

/// Why a state broke an invariant.
enum Outcome {
    Corrupted(String),
    Failed(String),
}

fn check_state(
    files: &[(String, Vec<u8>)],
    marks: &Marks,
    config: &Config,
    scratch: &Path,
    strict: bool,
) -> Result<(), Outcome> {
    let failed = |s: String| Outcome::Failed(s);
    if scratch.exists() {
        std::fs::remove_dir_all(scratch).map_err(|e| failed(e.to_string()))?;
    }
    std::fs::create_dir_all(scratch).map_err(|e| failed(e.to_string()))?;
    for (name, bytes) in files {
        std::fs::write(scratch.join(name), bytes).map_err(|e| failed(e.to_string()))?;
    }
    let mut storage = FsStorage::open(scratch, Durability::Synced).map_err(|e| failed(e.to_string()))?;
    // `pq verify`'s walk of the chunks, before open cuts anything: a synced
    // crash state the queue reads cleanly is no damage to it either. (The
    // walk sees no metadata: a cursor past the data is found by verify's
    // reading through the queue, as here.)
    let audit = persist_queue_core::audit(&mut storage).map_err(|e| failed(e.to_string()))?;
    let corrupted = Outcome::Corrupted;
    let mut q = match ChunkQueue::open(storage, config.clone()) {
        Ok(q) => q,
        Err(persist_queue_core::OpenError::Corrupted(c)) => return Err(corrupted(format!("{c}"))),
        Err(e) => return Err(failed(format!("open: {e}"))),
    };
    let mut got = Vec::new();
    loop {
        match q.get() {
            Ok(Some(bytes)) => match index_of(&bytes) {
                Some(i) => got.push(i),
                None => return Err(failed(format!("garbage item {bytes:?}"))),
            },
            Ok(None) => break,
            Err(ReadError::Corrupted(c)) => return Err(corrupted(format!("{c}"))),
            Err(e) => return Err(failed(format!("get: {e}"))),
        }
    }
    if strict && audit.damaged() {
        return Err(failed(format!(
            "the verify walk reports damage in a synced crash state the queue reads cleanly: {:?}",
            audit.findings
        )));
    }
    if got.windows(2).any(|w| w[0] >= w[1]) {
        return Err(failed(format!("out of order: {got:?}")));
    }
    if let Some(back) = got.iter().find(|&&i| i < marks.done) {
        return Err(failed(format!("item {back} came back after its task_done returned: {got:?}")));
    }
    if let Some(lost) = marks.returned.iter().find(|&&i| i >= marks.got.max(marks.done) && !got.contains(&i))
    {
        return Err(failed(format!("item {lost} lost after its put returned: {got:?}")));
    }
    Ok(())
}
