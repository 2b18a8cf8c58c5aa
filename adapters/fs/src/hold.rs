//! Holding a shared queue's directory lock across operations (Linux).
//!
//! A process sharing a queue directory locks it around each operation.
//! While it is the only one at work, taking and dropping the lock is most
//! of an operation's cost (two `flock` calls and the generation number's
//! read and write, against one `write()` for the operation itself). So
//! here the lock is kept after an operation, and given up:
//!
//! * at once, at the end of an operation, when another process is waiting
//!   for it: a waiter counts itself in the lock file (bytes 16..24, a
//!   counter in memory shared through a map of the file) before it blocks,
//!   and uncounts itself once it holds the lock;
//! * by the reaper thread (one per process, awake only while a lock is
//!   kept), once the handle has been idle for [`IDLE`]: it sleeps until
//!   then, so a process waiting for an idle handle's lock waits at most
//!   about that long.
//!
//! While the lock was kept, no other process can have written, so the
//! handle reads nothing before its next operation. A waiter killed while
//! counted leaves the counter above zero: every holder then gives the
//! lock up after each operation, as without this module (slower, never
//! wrong).
//!
//! Safety of the map: the lock file is never truncated (every version
//! opens it without truncating, and only this module sets its length, to
//! grow it to [`MAPPED`] bytes before mapping), so the mapped bytes stay
//! backed by the file; the counter is 8-aligned (offset 16 of a
//! page-aligned mapping) and only ever accessed atomically.

#![allow(unsafe_code)]

use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use memmap2::{MmapOptions, MmapRaw};

/// Bytes of the lock file mapped: the generation header, then the
/// waiters counter.
const MAPPED: u64 = 24;
const WAITERS_AT: usize = 16;
/// A kept lock is given up after this long without an operation.
pub(crate) const IDLE: Duration = Duration::from_millis(1);
/// The reaper's shortest sleep while some lock is kept (it sleeps until
/// the first kept lock's [`IDLE`] ends).
const MIN_NAP: Duration = Duration::from_micros(100);

/// What the handle and the reaper share about one kept lock.
#[derive(Debug)]
struct State {
    held: bool,
    busy: bool,
    last: Instant,
}

/// One handle's lock: its file (a duplicate of the storage's lock file
/// handle: the same `flock`), the mapped counter, and whether it is kept.
pub(crate) struct Hold {
    file: File,
    map: MmapRaw,
    state: Mutex<State>,
}

impl std::fmt::Debug for Hold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hold").field("state", &self.state).finish()
    }
}

impl Hold {
    /// Maps the lock file (growing it to [`MAPPED`] bytes first) and
    /// registers the hold with the reaper. Needs no lock: growing only
    /// adds zeros after the generation header, and growing twice is
    /// growing once.
    pub(crate) fn open(lock: &File) -> io::Result<Arc<Hold>> {
        let file = lock.try_clone()?;
        if file.metadata()?.len() < MAPPED {
            file.set_len(MAPPED)?;
        }
        let map = MmapOptions::new().len(MAPPED as usize).map_raw(&file)?;
        let hold = Arc::new(Hold {
            file,
            map,
            state: Mutex::new(State { held: false, busy: false, last: Instant::now() }),
        });
        reaper().register(&hold);
        Ok(hold)
    }

    fn waiters(&self) -> &AtomicU64 {
        // SAFETY: the mapping is MAPPED (24) bytes long and page-aligned,
        // so offset 16 is in bounds and 8-aligned; the file is never cut
        // below MAPPED bytes (see the module docs), and the bytes are only
        // accessed through this atomic.
        unsafe { &*self.map.as_mut_ptr().add(WAITERS_AT).cast::<AtomicU64>() }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the lock for an operation. `Ok(true)`: it was kept since this
    /// handle's last operation (nobody else can have written).
    pub(crate) fn enter(&self) -> io::Result<bool> {
        let mut s = self.state();
        if s.held {
            s.busy = true;
            return Ok(true);
        }
        self.waiters().fetch_add(1, Ordering::SeqCst);
        let locked = self.file.lock();
        self.waiters().fetch_sub(1, Ordering::SeqCst);
        locked?;
        s.held = true;
        s.busy = true;
        Ok(false)
    }

    /// Ends an operation: the lock is given up now if another process
    /// waits for it, else kept for the next operation (the reaper gives it
    /// up after [`IDLE`]).
    pub(crate) fn leave(&self) {
        let mut s = self.state();
        s.busy = false;
        s.last = Instant::now();
        let reaper = reaper();
        if self.waiters().load(Ordering::SeqCst) > 0 || !reaper.running.load(Ordering::SeqCst) {
            self.release(&mut s);
            return;
        }
        drop(s);
        reaper.kept();
    }

    /// Gives the lock up now (before a failed operation is retried, or a
    /// handle that must not keep it).
    pub(crate) fn give_up(&self) {
        let mut s = self.state();
        s.busy = false;
        self.release(&mut s);
    }

    fn release(&self, s: &mut State) {
        if s.held {
            let _ = self.file.unlock();
            s.held = false;
        }
    }

    /// The reaper's look: gives the lock up if it is kept, idle, and
    /// either idle for long or wanted. When to look again if it is still
    /// kept.
    fn look(&self) -> Option<Instant> {
        let Ok(mut s) = self.state.try_lock() else { return Some(Instant::now() + MIN_NAP) };
        if !s.held {
            return None;
        }
        if s.busy {
            return Some(Instant::now() + IDLE);
        }
        if s.last.elapsed() >= IDLE || self.waiters().load(Ordering::SeqCst) > 0 {
            self.release(&mut s);
            return None;
        }
        Some(s.last + IDLE)
    }
}

/// The process's one reaper: the holds it watches, and a wake-up for
/// when one is kept.
struct Reaper {
    holds: Mutex<Vec<Weak<Hold>>>,
    wake: Condvar,
    /// The thread runs (it could not be started: no lock is ever kept).
    running: AtomicBool,
    /// The thread may go to sleep until woken: set before it looks at the
    /// holds, cleared when it found one kept (then it looks again soon).
    sleeping: AtomicBool,
}

fn reaper() -> &'static Reaper {
    static REAPER: OnceLock<&'static Reaper> = OnceLock::new();
    REAPER.get_or_init(|| {
        let r: &'static Reaper = Box::leak(Box::new(Reaper {
            holds: Mutex::new(Vec::new()),
            wake: Condvar::new(),
            running: AtomicBool::new(true),
            sleeping: AtomicBool::new(false),
        }));
        if std::thread::Builder::new().name("pq-lock-reaper".into()).spawn(move || r.watch()).is_err() {
            r.running.store(false, Ordering::SeqCst);
        }
        r
    })
}

impl Reaper {
    fn register(&self, hold: &Arc<Hold>) {
        self.holds.lock().unwrap_or_else(|e| e.into_inner()).push(Arc::downgrade(hold));
    }

    /// A lock is kept (its `held` already set): make sure the reaper is
    /// watching. It is woken only if it may be asleep: it says so before
    /// it looks at the holds, so either it sees this one kept, or this
    /// sees it sleeping and wakes it (under the list's mutex, which it
    /// holds from then until it waits).
    fn kept(&self) {
        if self.sleeping.load(Ordering::SeqCst) {
            let _list = self.holds.lock().unwrap_or_else(|e| e.into_inner());
            self.wake.notify_one();
        }
    }

    fn watch(&self) {
        let mut list = self.holds.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            self.sleeping.store(true, Ordering::SeqCst);
            list.retain(|w| w.strong_count() > 0);
            let next = list.iter().filter_map(Weak::upgrade).filter_map(|h| h.look()).min();
            if next.is_some() {
                self.sleeping.store(false, Ordering::SeqCst);
            }
            list = match next {
                Some(at) => {
                    let nap = at.saturating_duration_since(Instant::now()).max(MIN_NAP);
                    self.wake.wait_timeout(list, nap).unwrap_or_else(|e| e.into_inner()).0
                }
                None => self.wake.wait(list).unwrap_or_else(|e| e.into_inner()),
            };
        }
    }
}
