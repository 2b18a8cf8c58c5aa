//! The guest side of a queue the host lends (see `persist_queue::plugin`
//! for the host side): put, get, ack, nack and ack_failed on bytes, over
//! the ABI written once in [`persist_queue_core::plugin_abi`]. On a native
//! target (not WebAssembly) there is no host, and every call returns
//! [`HostError::NoHost`].

use std::time::Duration;

use persist_queue_core::plugin_abi::{MODULE, code, func, same_name};

/// An item the host handed to this plugin: it is this plugin's until it is
/// acked, nacked or failed, or until the plugin ends (then the host makes
/// it ready again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The item's id in the host's queue.
    pub id: u64,
    /// The item.
    pub payload: Vec<u8>,
}

/// Why a call to the host failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HostError {
    /// No item came before the timeout.
    Empty,
    /// The host refused a pointer or length (a bug in this crate if it
    /// happens).
    BadMemory,
    /// The id is not an item this plugin holds.
    NotHeld,
    /// The host's queue failed; nothing changed.
    Store,
    /// The item is larger than the host allows.
    TooLarge,
    /// Not running under a host that lends a queue.
    NoHost,
    /// A code this version does not know.
    Other(i64),
}

impl std::fmt::Display for HostError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for HostError {}

fn check(answer: i64) -> Result<u64, HostError> {
    match answer {
        0.. => Ok(answer as u64),
        code::EMPTY => Err(HostError::Empty),
        code::BAD_MEMORY => Err(HostError::BadMemory),
        code::NOT_HELD => Err(HostError::NotHeld),
        code::STORE => Err(HostError::Store),
        code::TOO_LARGE => Err(HostError::TooLarge),
        code::NO_HOST => Err(HostError::NoHost),
        other => Err(HostError::Other(other)),
    }
}

// The import block below must spell the module and function names as
// literals; these checks fail the build if they drift from the ABI (each
// names the imported function itself, so the name checked is the name
// imported).
const _: () = assert!(same_name(MODULE, "persist_queue"));
macro_rules! imports_are {
    ($($name:ident = $abi:path),* $(,)?) => {
        $(const _: () = {
            let _ = sys::$name;
            assert!(same_name(stringify!($name), $abi), "an import name differs from plugin_abi::func");
        };)*
    };
}
imports_are!(
    pq_put = func::PUT,
    pq_get = func::GET,
    pq_item_len = func::ITEM_LEN,
    pq_item_read = func::ITEM_READ,
    pq_ack = func::ACK,
    pq_nack = func::NACK,
    pq_ack_failed = func::ACK_FAILED,
);

// The imports: the host checks every pointer and length against this
// instance's memory, so reading through them cannot go wrong; the one that
// writes (`pq_item_read`) stays `unsafe`, as it writes where it is told.
#[cfg(target_family = "wasm")]
#[allow(unsafe_code)]
mod sys {
    #[link(wasm_import_module = "persist_queue")]
    unsafe extern "C" {
        pub(crate) safe fn pq_put(ptr: i32, len: i32) -> i64;
        pub(crate) safe fn pq_get(timeout_ms: i32) -> i64;
        pub(crate) safe fn pq_item_len(id: i64) -> i64;
        pub(crate) fn pq_item_read(id: i64, ptr: i32, cap: i32) -> i64;
        pub(crate) safe fn pq_ack(id: i64) -> i32;
        pub(crate) safe fn pq_nack(id: i64) -> i32;
        pub(crate) safe fn pq_ack_failed(id: i64) -> i32;
    }
}

#[cfg(not(target_family = "wasm"))]
#[allow(unsafe_code)]
mod sys {
    use persist_queue_core::plugin_abi::code::NO_HOST;
    pub(crate) fn pq_put(_: i32, _: i32) -> i64 {
        NO_HOST
    }
    pub(crate) fn pq_get(_: i32) -> i64 {
        NO_HOST
    }
    pub(crate) fn pq_item_len(_: i64) -> i64 {
        NO_HOST
    }
    /// # Safety
    ///
    /// None needed natively (there is no host); `unsafe` to match the
    /// WebAssembly import.
    pub(crate) unsafe fn pq_item_read(_: i64, _: i32, _: i32) -> i64 {
        NO_HOST
    }
    pub(crate) fn pq_ack(_: i64) -> i32 {
        NO_HOST as i32
    }
    pub(crate) fn pq_nack(_: i64) -> i32 {
        NO_HOST as i32
    }
    pub(crate) fn pq_ack_failed(_: i64) -> i32 {
        NO_HOST as i32
    }
}

/// The queue the host lends this plugin.
#[derive(Debug, Clone, Copy, Default)]
pub struct HostQueue;

impl HostQueue {
    /// Puts an item; its id.
    pub fn put(&self, item: &[u8]) -> Result<u64, HostError> {
        let len = i32::try_from(item.len()).map_err(|_| HostError::TooLarge)?;
        check(sys::pq_put(item.as_ptr() as usize as i32, len))
    }

    /// Takes the next item, waiting up to `timeout` for one.
    pub fn get(&self, timeout: Duration) -> Result<Job, HostError> {
        let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
        let id = check(sys::pq_get(ms))?;
        let len = check(sys::pq_item_len(id as i64))? as usize;
        let mut payload = vec![0u8; len];
        let cap = i32::try_from(len).map_err(|_| HostError::TooLarge)?;
        let ptr = payload.as_mut_ptr() as usize as i32;
        // SAFETY: `ptr..ptr + cap` is `payload`, owned and writable here.
        #[allow(unsafe_code)]
        let n = check(unsafe { sys::pq_item_read(id as i64, ptr, cap) })? as usize;
        payload.truncate(n);
        Ok(Job { id, payload })
    }

    /// Marks a job done.
    pub fn ack(&self, job: &Job) -> Result<(), HostError> {
        check(i64::from(sys::pq_ack(job.id as i64))).map(drop)
    }

    /// Gives a job back: ready again, at its place in the order.
    pub fn nack(&self, job: &Job) -> Result<(), HostError> {
        check(i64::from(sys::pq_nack(job.id as i64))).map(drop)
    }

    /// Marks a job failed for good.
    pub fn ack_failed(&self, job: &Job) -> Result<(), HostError> {
        check(i64::from(sys::pq_ack_failed(job.id as i64))).map(drop)
    }
}
