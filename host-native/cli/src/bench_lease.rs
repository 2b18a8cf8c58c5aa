//! The lease rows of `pq bench`: what leases and delays cost a claim, on
//! SQLite and plain files. A claim with many delayed items queued beside
//! one with none (the claim must not scan records that are not due), and
//! how long after a lease ends a waiting get has the item again.

use std::path::Path;
use std::time::{Duration, Instant};

use persist_queue::{AckQueue, Durability, PutOptions, RecordBuilder};

use crate::bench::{BenchArgs, R, err, row};
use crate::bench_sqlite::Store;
use crate::measure::{median, rate_for, thousands};

fn builder(store: Store, dir: &Path) -> RecordBuilder<persist_queue::AckKind> {
    let b = match store {
        Store::Sqlite => AckQueue::builder(dir),
        Store::Files => AckQueue::files(dir),
    };
    b.durability(Durability::Buffered)
}

/// Items/s of get + ack (buffered) on a queue holding enough ready items,
/// and `delayed` items not due for a day.
fn get_ack(store: Store, dir: &Path, delayed: u64, window: Duration) -> R<f64> {
    let q = builder(store, dir).open::<String>().map_err(err)?;
    let later = PutOptions::delayed(Duration::from_secs(86_400));
    let items: Vec<String> = (0..10_000).map(|i| format!("later{i}")).collect();
    for _ in 0..delayed / 10_000 {
        q.put_many_with(&items, later).map_err(err)?;
    }
    let ready: Vec<String> = (0..200_000).map(|i| format!("bench{i}")).collect();
    q.put_many(&ready).map_err(err)?;
    let mut failed = None;
    let rate = rate_for(window, || {
        match q.try_get().and_then(|d| q.ack(&d)) {
            Ok(()) => 1,
            // More than 200,000 in the window: more (its time counted).
            Err(persist_queue::Error::Empty) => match q.put_many(&ready) {
                Ok(_) => 0,
                Err(e) => {
                    failed = Some(e.to_string());
                    1
                }
            },
            Err(e) => {
                failed = Some(e.to_string());
                1
            }
        }
    });
    failed.map_or(Ok(rate), Err)
}

/// Milliseconds from a lease's end to a waiting get holding the item, per
/// trial (a 200 ms lease).
fn redelivery_ms(store: Store, dir: &Path, trials: usize) -> R<f64> {
    let lease = Duration::from_millis(200);
    let q = builder(store, dir).lease(lease).open::<String>().map_err(err)?;
    let mut late = Vec::with_capacity(trials);
    for i in 0..trials {
        q.put(&format!("job{i}")).map_err(err)?;
        let d = q.get().map_err(err)?;
        let taken = Instant::now();
        let again = q.get_timeout(Duration::from_secs(5)).map_err(err)?;
        let after = taken.elapsed().saturating_sub(lease);
        q.ack(&again).map_err(err)?;
        drop(d);
        late.push(after.as_secs_f64() * 1e3);
    }
    Ok(median(late))
}

/// The lease rows for `store`.
pub(crate) fn rows(args: &BenchArgs, store: Store, fresh: &mut dyn FnMut() -> std::path::PathBuf) -> R<()> {
    let window = Duration::from_secs_f64(args.seconds);
    let delayed = (args.sqlite_items / 10_000).max(1) * 10_000;
    let mut none = Vec::new();
    let mut many = Vec::new();
    for _ in 0..args.rounds.max(1) {
        none.push(get_ack(store, &fresh(), 0, window)?);
        many.push(get_ack(store, &fresh(), delayed, window)?);
    }
    let ratios: Vec<f64> = none.iter().zip(&many).map(|(n, m)| m / n).collect();
    let (label, unit) = match store {
        Store::Sqlite => ("AckQueue", "L"),
        Store::Files => ("AckQueue::files", "LF"),
    };
    row(&format!("{label} get + ack, buffered, none delayed (baseline {unit})"), median(none), "1.00");
    row(
        &format!("{label} get + ack, buffered, {} delayed queued", thousands(delayed as f64)),
        median(many),
        &format!("{:.2}x {unit}", median(ratios)),
    );
    let ms = redelivery_ms(store, &fresh(), 5)?;
    println!(
        "{label}: a waiting get had a 200 ms lease's item {ms:.1} ms after the lease ended (median of 5)"
    );
    Ok(())
}
