//! A record of the file-system calls an [`crate::FsStorage`] makes once
//! [`crate::FsStorage::traced`], so a crash-state explorer can rebuild
//! every state a crash may leave on disk (`tests/src/explorer.rs`). An
//! untraced storage records nothing. Semver-exempt.
//!
//! Names are the files' names inside the queue directory. The calls are
//! the ones whose effect on disk matters after a crash: what a file holds
//! (`Create`, `Append`, `SetLen`), which names exist (`Create`, `Rename`,
//! `Unlink`), and the barriers (`SyncData` of a file, `SyncDir`).

use std::sync::{Arc, Mutex};

/// One call, as the explorer replays it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    /// The file was created empty, or emptied if it existed
    /// (`O_CREAT | O_TRUNC`; a create of a file that exists, without
    /// truncating, is not recorded).
    Create(String),
    /// Bytes written at the end of the file.
    Append(String, Vec<u8>),
    /// The file's length set (`ftruncate`).
    SetLen(String, u64),
    /// `fdatasync` of the file returned: its data up to here is durable.
    SyncData(String),
    /// `rename(from, to)`, replacing `to`.
    Rename(String, String),
    /// The name removed.
    Unlink(String),
    /// `fsync` of the queue directory returned: the names up to here are
    /// durable.
    SyncDir,
    /// A mark the workload sets between calls (e.g. "put 7 returned").
    Mark(u64),
}

/// The calls so far, shared by the storage, its flushes and the workload.
#[derive(Clone, Debug, Default)]
pub struct Trace(Arc<Mutex<Vec<Call>>>);

impl Trace {
    /// A new, empty trace.
    pub fn new() -> Trace {
        Trace::default()
    }

    /// Records `call`.
    pub fn push(&self, call: Call) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(call);
    }

    /// The calls recorded so far.
    pub fn calls(&self) -> Vec<Call> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
