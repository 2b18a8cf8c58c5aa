//! Lending an ack queue to WebAssembly plugins (feature `wasmtime`).
//!
//! A native application owns an [`AckQueue`]; a plugin, a `wasm32-wasip1`
//! module run by wasmtime, puts, gets and acks on it through a small
//! core-module ABI (below), while native threads keep using the same queue.
//! A plugin is untrusted: every pointer and length it passes is checked
//! against its own memory, it can settle only items it was handed, its
//! fuel can be bounded, and when it ends, however it ends (returns, exits,
//! traps, runs out of fuel), every item it had not settled is made ready
//! again. The guest side of the ABI is the `persist-queue-wasi` crate's
//! `host` module.
//!
//! # The ABI
//!
//! Import module `persist_queue`, seven functions (`pq_put`, `pq_get`,
//! `pq_item_len`, `pq_item_read`, `pq_ack`, `pq_nack`, `pq_ack_failed`) and
//! negative error codes ([`code`]): written once, in
//! [`persist_queue_core::plugin_abi`], for this host and for the guest.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use wasmtime::{Caller, Config, Engine, Linker, Memory, Module, Store};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtxBuilder};

use crate::codec::Raw;
use crate::error::{Error, Misconfiguration};
use crate::records::AckQueue;

/// The negative codes the ABI's functions return (the core's, re-exported).
pub use persist_queue_core::plugin_abi::code;
use persist_queue_core::plugin_abi::{MODULE, func};

/// The queue the host lends, bytes in and out.
pub type LentQueue = AckQueue<Vec<u8>, Raw>;

/// A compiled plugin.
#[derive(Clone)]
pub struct Plugin(Module);

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin").finish_non_exhaustive()
    }
}

/// How one run of a plugin ended, and what it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The plugin's exit code (0 when `_start` returned).
    pub exit_code: i32,
    /// Why it was stopped, if it trapped or ran out of fuel.
    pub trap: Option<String>,
    /// Items it put.
    pub put: u64,
    /// Items it acked (or failed, or gave back) itself.
    pub settled: u64,
    /// Items it held when it ended, made ready again by the host.
    pub returned: u64,
    /// What it wrote to its standard output.
    pub stdout: String,
}

/// Runs plugins against one queue. Cheap to clone; each [`PluginHost::start`]
/// is one instance, so threads can run instances concurrently.
#[derive(Clone)]
pub struct PluginHost {
    engine: Engine,
    queue: LentQueue,
    fuel: Option<u64>,
    max_item: usize,
    preopen: Option<(PathBuf, String)>,
}

impl std::fmt::Debug for PluginHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginHost").field("fuel", &self.fuel).field("max_item", &self.max_item).finish()
    }
}

/// One instance's state.
struct Guest {
    wasi: WasiP1Ctx,
    queue: LentQueue,
    max_item: usize,
    /// Items handed to this instance and not settled yet.
    held: HashMap<u64, Vec<u8>>,
    put: u64,
    settled: u64,
}

impl PluginHost {
    /// A host lending `queue`, with no fuel limit and items up to 16 MiB.
    pub fn new(queue: LentQueue) -> Result<PluginHost, Error> {
        let mut config = Config::new();
        config.consume_fuel(true);
        let engine =
            Engine::new(&config).map_err(|e| Error::from(Misconfiguration::Plugin(e.to_string())))?;
        Ok(PluginHost { engine, queue, fuel: None, max_item: 16 << 20, preopen: None })
    }

    /// Stops each instance after `fuel` units (about one per instruction).
    pub fn fuel(mut self, fuel: u64) -> PluginHost {
        self.fuel = Some(fuel);
        self
    }

    /// The largest item a plugin may put.
    pub fn max_item_size(mut self, bytes: usize) -> PluginHost {
        self.max_item = bytes;
        self
    }

    /// Gives instances the host directory `dir` as `guest_path`.
    pub fn preopen(mut self, dir: impl Into<PathBuf>, guest_path: &str) -> PluginHost {
        self.preopen = Some((dir.into(), guest_path.to_string()));
        self
    }

    /// Compiles a plugin: a `wasm32-wasip1` module (binary or text).
    pub fn load(&self, wasm: &[u8]) -> Result<Plugin, Error> {
        Module::new(&self.engine, wasm)
            .map(Plugin)
            .map_err(|e| Error::from(Misconfiguration::Plugin(format!("{e:#}"))))
    }

    /// Runs the plugin's `_start` with `args` (its `argv[1..]`). Whatever
    /// happens inside, the host does not panic and the queue stays intact:
    /// a trap or running out of fuel is reported in [`Report::trap`], and
    /// every item the instance still held is ready again.
    pub fn start(&self, plugin: &Plugin, args: &[&str]) -> Result<Report, Error> {
        let stdout = MemoryOutputPipe::new(1 << 20);
        let mut wasi = WasiCtxBuilder::new();
        let mut argv = vec!["plugin"];
        argv.extend_from_slice(args);
        // File I/O on this thread: the default hands each call to a blocking
        // pool, which cost 100x per small write.
        wasi.args(&argv).stdout(stdout.clone()).inherit_stderr().allow_blocking_current_thread(true);
        if let Some((dir, guest)) = &self.preopen {
            wasi.preopened_dir(dir, guest, FsPerms::ReadWrite)
                .map_err(|e| Error::from(Misconfiguration::Plugin(e.to_string())))?;
        }
        let guest = Guest {
            wasi: wasi.build_p1(),
            queue: self.queue.clone(),
            max_item: self.max_item,
            held: HashMap::new(),
            put: 0,
            settled: 0,
        };
        let mut store = Store::new(&self.engine, guest);
        store
            .set_fuel(self.fuel.unwrap_or(u64::MAX))
            .map_err(|e| Error::from(Misconfiguration::Plugin(e.to_string())))?;
        let outcome = self.call_start(&mut store, plugin);
        // However it ended: what it held is ready again.
        let guest = store.into_data();
        let returned = guest.held.len() as u64;
        for id in guest.held.into_keys() {
            // Fails only if the store fails; the item then stays in flight
            // and the next open's recovery makes it ready.
            let _ = self.queue.nack(id);
        }
        let (exit_code, trap) = match outcome {
            Ok(()) => (0, None),
            Err(e) => match e.downcast_ref::<I32Exit>() {
                Some(I32Exit(code)) => (*code, None),
                None => (-1, Some(format!("{e:#}"))),
            },
        };
        Ok(Report {
            exit_code,
            trap,
            put: guest.put,
            settled: guest.settled,
            returned,
            stdout: String::from_utf8_lossy(&stdout.contents()).into_owned(),
        })
    }

    fn call_start(&self, store: &mut Store<Guest>, plugin: &Plugin) -> wasmtime::Result<()> {
        let mut linker: Linker<Guest> = Linker::new(&self.engine);
        wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |g: &mut Guest| &mut g.wasi)?;
        add_queue(&mut linker)?;
        let instance = linker.instantiate(&mut *store, &plugin.0)?;
        instance.get_typed_func::<(), ()>(&mut *store, "_start")?.call(&mut *store, ())
    }
}

fn memory(caller: &mut Caller<'_, Guest>) -> Option<Memory> {
    caller.get_export("memory").and_then(|e| e.into_memory())
}

/// `ptr..ptr + len` inside a memory of `size` bytes, or `None`.
fn span(ptr: i32, len: i32, size: usize) -> Option<std::ops::Range<usize>> {
    let start = usize::try_from(ptr).ok()?;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    (end <= size).then_some(start..end)
}

fn settle(caller: &mut Caller<'_, Guest>, id: i64, how: fn(&LentQueue, u64) -> crate::Result<()>) -> i32 {
    let Ok(id) = u64::try_from(id) else { return code::NOT_HELD as i32 };
    let guest = caller.data_mut();
    if !guest.held.contains_key(&id) {
        return code::NOT_HELD as i32;
    }
    match how(&guest.queue, id) {
        Ok(()) => {
            guest.held.remove(&id);
            guest.settled += 1;
            0
        }
        Err(_) => code::STORE as i32,
    }
}

fn add_queue(linker: &mut Linker<Guest>) -> wasmtime::Result<()> {
    const M: &str = MODULE;
    linker.func_wrap(M, func::PUT, |mut caller: Caller<'_, Guest>, ptr: i32, len: i32| -> i64 {
        if usize::try_from(len).is_ok_and(|l| l > caller.data().max_item) {
            return code::TOO_LARGE;
        }
        let Some(mem) = memory(&mut caller) else { return code::BAD_MEMORY };
        let data = mem.data(&caller);
        let Some(range) = span(ptr, len, data.len()) else { return code::BAD_MEMORY };
        let item = data[range].to_vec();
        let guest = caller.data_mut();
        match guest.queue.put(&item) {
            Ok(id) => {
                guest.put += 1;
                id as i64
            }
            Err(_) => code::STORE,
        }
    })?;
    linker.func_wrap(M, func::GET, |mut caller: Caller<'_, Guest>, timeout_ms: i32| -> i64 {
        let wait = Duration::from_millis(u64::try_from(timeout_ms).unwrap_or(0));
        let guest = caller.data_mut();
        match guest.queue.get_timeout(wait) {
            Ok(d) => {
                guest.held.insert(d.id, d.item);
                d.id as i64
            }
            Err(Error::Empty) => code::EMPTY,
            Err(_) => code::STORE,
        }
    })?;
    linker.func_wrap(M, func::ITEM_LEN, |caller: Caller<'_, Guest>, id: i64| -> i64 {
        u64::try_from(id)
            .ok()
            .and_then(|id| caller.data().held.get(&id))
            .map_or(code::NOT_HELD, |item| item.len() as i64)
    })?;
    linker.func_wrap(
        M,
        func::ITEM_READ,
        |mut caller: Caller<'_, Guest>, id: i64, ptr: i32, cap: i32| -> i64 {
            let Some(item) = u64::try_from(id).ok().and_then(|id| caller.data().held.get(&id)).cloned()
            else {
                return code::NOT_HELD;
            };
            let Some(mem) = memory(&mut caller) else { return code::BAD_MEMORY };
            let data = mem.data_mut(&mut caller);
            match span(ptr, cap, data.len()) {
                Some(range) if range.len() >= item.len() => {
                    data[range.start..range.start + item.len()].copy_from_slice(&item);
                    item.len() as i64
                }
                _ => code::BAD_MEMORY,
            }
        },
    )?;
    linker.func_wrap(M, func::ACK, |mut caller: Caller<'_, Guest>, id: i64| -> i32 {
        settle(&mut caller, id, |q, id| q.ack(id))
    })?;
    linker.func_wrap(M, func::NACK, |mut caller: Caller<'_, Guest>, id: i64| -> i32 {
        settle(&mut caller, id, |q, id| q.nack(id))
    })?;
    linker.func_wrap(M, func::ACK_FAILED, |mut caller: Caller<'_, Guest>, id: i64| -> i32 {
        settle(&mut caller, id, |q, id| q.ack_failed(id))
    })?;
    Ok(())
}
