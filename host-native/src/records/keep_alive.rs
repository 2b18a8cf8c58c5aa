//! [`KeepAlive`]: a heartbeat that keeps extending a delivery's lease while
//! its consumer works, from a thread of its own (so it beats while the
//! consumer's thread or task is busy, blocking or async).

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use persist_queue_core::records::{Lease, complete};

use crate::error::{Error, Result};
use crate::records::shared::{Shared, millis};

/// Extends one delivery's lease every third of the queue's lease length,
/// by that length, until dropped or [`KeepAlive::finish`]ed; stops at the
/// first failure (the lease was lost: another consumer has the item).
/// Settle the delivery after dropping it (or before: a beat after the
/// settle fails harmlessly).
#[must_use = "the heartbeat stops when the KeepAlive is dropped"]
pub struct KeepAlive {
    stop: Arc<(Mutex<bool>, Condvar)>,
    beat: Option<JoinHandle<Result<()>>>,
}

impl std::fmt::Debug for KeepAlive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeepAlive").finish_non_exhaustive()
    }
}

impl KeepAlive {
    pub(crate) fn start(shared: Arc<Shared>, id: u64, token: u32) -> KeepAlive {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let lease = shared.retries.lease;
        let every = (lease / 3).max(Duration::from_millis(1));
        let stopping = Arc::clone(&stop);
        let beat = std::thread::spawn(move || {
            let (flag, wake) = &*stopping;
            let mut stopped = flag.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                let (guard, _) = wake.wait_timeout(stopped, every).unwrap_or_else(|e| e.into_inner());
                stopped = guard;
                if *stopped {
                    return Ok(());
                }
                let at = Lease { now: shared.clock.now(), ms: millis(lease) };
                let mut q = shared.queue.lock().unwrap_or_else(|e| e.into_inner());
                complete(q.extend(id, token, at)).map_err(Error::from)?;
            }
        });
        KeepAlive { stop, beat: Some(beat) }
    }

    /// Stops the heartbeat; the first failure of a beat, if one failed
    /// ([`Error::LeaseLost`]: the item is no longer this consumer's).
    pub fn finish(mut self) -> Result<()> {
        self.halt()
    }

    fn halt(&mut self) -> Result<()> {
        let (flag, wake) = &*self.stop;
        *flag.lock().unwrap_or_else(|e| e.into_inner()) = true;
        wake.notify_all();
        match self.beat.take().map(JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(Error::Protocol("the heartbeat thread panicked")),
            None => Ok(()),
        }
    }
}

impl Drop for KeepAlive {
    fn drop(&mut self) {
        let _ = self.halt();
    }
}
