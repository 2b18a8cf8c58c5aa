//! # persist-queue-wasi
//!
//! persist-queue for WebAssembly plugins (`wasm32-wasip1`), two ways:
//!
//! 1. **Queues on WASI's filesystem.** Every queue of `persist-queue` (the
//!    FIFO [`Queue`] and the record queues with `::files(dir)`:
//!    [`AckQueue`], [`PriorityQueue`], ...) works in a guest, in a directory
//!    the host preopened, in **the same on-disk format** as natively: a
//!    queue written by a plugin opens natively, and the reverse. Build
//!    `persist-queue` without default features (its async faces need an OS
//!    poller WASI does not have); this crate re-exports it that way.
//!
//!    Durability under WASI: a synced put ends with `fd_sync` on the chunk
//!    (`fdatasync`/`fsync` on the host file) and metadata is replaced by
//!    write + `fd_sync` + `path_rename`, as natively. What WASI cannot give:
//!    file locks (a directory must be used by one instance or process at a
//!    time, and nothing enforces it) and a directory `fsync` (a created or
//!    renamed file is durable once the host filesystem commits its journal,
//!    within seconds on ext4), and memory-mapped chunks (buffered puts are
//!    one `fd_write` each).
//!
//! 2. **A queue the host lends** ([`host`]): a native application runs the
//!    plugin with `persist_queue::plugin::PluginHost` and lends it one of its
//!    own ack queues; the plugin puts, gets and acks through a small ABI,
//!    while native threads use the same queue. Items the plugin holds when
//!    it ends, traps or runs out of fuel are ready again.
//!
//! ```no_run
//! use persist_queue_wasi::host::HostQueue;
//! use std::time::Duration;
//!
//! // Inside a plugin: take jobs from the host's queue and ack them.
//! let jobs = HostQueue;
//! while let Ok(job) = jobs.get(Duration::from_millis(100)) {
//!     println!("job {}: {} bytes", job.id, job.payload.len());
//!     jobs.ack(&job).expect("ack");
//! }
//! ```

pub mod host;

pub use persist_queue::{
    AckQueue, Delivery, Durability, Error, FifoQueue, FiloQueue, Json, PDict, Postcard, PriorityQueue, Queue,
    QueueBuilder, Raw, UniqueQueue,
};
