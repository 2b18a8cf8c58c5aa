//! `Listener`: wakes waiting consumers when another process or machine
//! makes an item ready (`LISTEN` on the table's channel; the table's
//! triggers `NOTIFY` on insert and when an item becomes ready again).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;

use crate::connect::{Connect, table_ident};
use crate::error::PgError;

/// A thread holding one connection that listens on a table's channel and
/// calls `wake` for each notification. It reconnects after a failure (and
/// calls `wake` then too, since notifications may have been missed).
/// Stopped and joined on drop.
#[derive(Debug)]
pub struct Listener {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// How long the thread blocks between checks of the stop flag.
const TICK: Duration = Duration::from_millis(200);

impl Listener {
    /// Starts listening on the table `table`'s channel.
    pub fn spawn(
        connect: &Connect,
        table: &str,
        wake: impl Fn() + Send + 'static,
    ) -> Result<Listener, PgError> {
        let ident = table_ident(table)?;
        let listen = format!("LISTEN \"{ident}\"");
        let connect = connect.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("pq-listen".into())
            .spawn(move || {
                while !stopped.load(Ordering::Relaxed) {
                    let mut client = match connect.open_client(&ident, "") {
                        Ok(c) => c,
                        Err(_) => {
                            std::thread::sleep(TICK);
                            continue;
                        }
                    };
                    if client.batch_execute(&listen).is_err() {
                        continue;
                    }
                    wake();
                    while !stopped.load(Ordering::Relaxed) {
                        let mut notes = client.notifications();
                        let mut iter = notes.timeout_iter(TICK);
                        let got = iter.next();
                        drop(iter);
                        match got {
                            Ok(Some(_)) => {
                                // What else already arrived: one wake-up for a burst.
                                let mut pending = notes.iter();
                                while let Ok(Some(_)) = pending.next() {}
                                wake();
                            }
                            Ok(None) => {}
                            Err(_) => break,
                        }
                        drop(notes);
                        if client.is_closed() {
                            break;
                        }
                    }
                }
            })
            .map_err(PgError::Spawn)?;
        Ok(Listener { stop, thread: Some(thread) })
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
