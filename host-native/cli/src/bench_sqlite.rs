//! `pq bench`, SQLite section: the record queues beside raw rusqlite at the
//! same pragmas (WAL, `synchronous=FULL`), measured in the same run.

use std::path::Path;
use std::time::{Duration, Instant};

use persist_queue::{AckQueue, Durability, FifoQueue, PriorityQueue, UniqueQueue};
use rusqlite::{Connection, params};

use crate::bench::{BenchArgs, R, err, row};
use crate::measure::concurrent_rate;
use crate::measure::{median, rate_for, thousands};

fn raw(path: &Path) -> R<Connection> {
    let c = Connection::open(path).map_err(err)?;
    c.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
    c.pragma_update(None, "synchronous", "FULL").map_err(err)?;
    c.execute_batch(
        "CREATE TABLE IF NOT EXISTS q (id INTEGER PRIMARY KEY AUTOINCREMENT, payload BLOB NOT NULL, status INTEGER NOT NULL)",
    )
    .map_err(err)?;
    Ok(c)
}

/// Raw autocommit INSERT loop: the per-commit ceiling.
fn raw_insert(path: &Path, window: Duration) -> R<f64> {
    let c = raw(path)?;
    let mut stmt = c.prepare("INSERT INTO q (payload, status) VALUES (?1, 1)").map_err(err)?;
    let mut i = 0u64;
    Ok(rate_for(window, || {
        i += 1;
        let _ = stmt.execute(params![format!("bench{i}").into_bytes()]);
        1
    }))
}

/// Raw put + claim + ack per item, each an autocommit statement.
fn raw_cycle(path: &Path, window: Duration) -> R<f64> {
    let c = raw(path)?;
    let mut ins = c.prepare("INSERT INTO q (payload, status) VALUES (?1, 1)").map_err(err)?;
    let mut claim = c
        .prepare("UPDATE q SET status = 2 WHERE id = (SELECT id FROM q WHERE status = 1 ORDER BY id LIMIT 1) RETURNING id")
        .map_err(err)?;
    let mut ack = c.prepare("UPDATE q SET status = 5 WHERE id = ?1").map_err(err)?;
    let mut i = 0u64;
    Ok(rate_for(window, || {
        i += 1;
        let _ = ins.execute(params![format!("bench{i}").into_bytes()]);
        if let Ok(id) = claim.query_row([], |r| r.get::<_, i64>(0)) {
            let _ = ack.execute([id]);
        }
        1
    }))
}

/// Which store the record-queue rows run on.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Store {
    Sqlite,
    Files,
}

fn ack_builder(store: Store, dir: &Path) -> persist_queue::RecordBuilder<persist_queue::AckKind> {
    match store {
        Store::Sqlite => AckQueue::builder(dir),
        Store::Files => AckQueue::files(dir),
    }
}

fn ack_puts(store: Store, dir: &Path, threads: usize, window: Duration) -> R<f64> {
    let q = ack_builder(store, dir).open::<String>().map_err(err)?;
    Ok(concurrent_rate(threads, window, |t, n| q.put(&format!("bench{t}-{n}")).is_ok()))
}

fn async_ack_puts(store: Store, dir: &Path, tasks: usize, window: Duration) -> R<f64> {
    let q = ack_builder(store, dir).open::<String>().map_err(err)?.to_async();
    crate::measure::async_rate(tasks, window, move |t, n| {
        let q = q.clone();
        async move { q.put(format!("bench{t}-{n}"), 0).await.is_ok() }
    })
}

/// Rows: 256 async tasks putting (synced) against 64 threads, same round.
fn async_rows(
    store: Store,
    label: &str,
    args: &BenchArgs,
    fresh: &mut dyn FnMut() -> std::path::PathBuf,
) -> R<()> {
    let window = Duration::from_secs_f64(args.seconds);
    let (mut rates, mut ratios) = (vec![], vec![]);
    for _ in 0..args.rounds.max(1) {
        let threads = ack_puts(store, &fresh(), 64, window)?;
        let tasks = async_ack_puts(store, &fresh(), 256, window)?;
        rates.push(tasks);
        ratios.push(tasks / threads);
    }
    row(
        &format!("{label} put, 256 async tasks (tokio, 2 workers)"),
        median(rates),
        &format!("{:.2}x 64 threads", median(ratios)),
    );
    Ok(())
}

fn ack_cycle(store: Store, dir: &Path, window: Duration) -> R<f64> {
    let q = ack_builder(store, dir).open::<String>().map_err(err)?;
    let mut i = 0u64;
    let mut failed = None;
    let rate = rate_for(window, || {
        i += 1;
        let r = q.put(&format!("bench{i}")).and_then(|_| q.get()).and_then(|d| q.ack(&d));
        if let Err(e) = r {
            failed = Some(e.to_string());
        }
        1
    });
    failed.map_or(Ok(rate), Err)
}

/// `consumers` threads doing get + ack (synced) on a queue filled first;
/// deliveries per second.
fn consumer_rate(store: Store, dir: &Path, consumers: usize, window: Duration) -> R<f64> {
    let q = ack_builder(store, dir).open::<String>().map_err(err)?;
    for chunk in 0..40 {
        let items: Vec<String> = (0..1_000).map(|i| format!("bench{chunk}-{i}")).collect();
        q.put_many(&items).map_err(err)?;
    }
    Ok(concurrent_rate(consumers, window, |_, _| q.try_get().and_then(|d| q.ack(&d)).is_ok()))
}

/// put_many / get_many / ack_many of 1,000 at synced durability.
fn batches(store: Store, dir: &Path, rounds: usize) -> R<(f64, f64, f64)> {
    batch_rates(&ack_builder(store, dir).open::<String>().map_err(err)?, rounds)
}

/// Items/s of put_many, get_many and ack_many of 1,000 on `q`,
/// `rounds * 5` times each.
pub(crate) fn batch_rates(q: &AckQueue<String>, rounds: usize) -> R<(f64, f64, f64)> {
    let items: Vec<String> = (0..1000).map(|i| format!("bench{i}")).collect();
    let (mut put_s, mut get_s, mut ack_s) = (0.0, 0.0, 0.0);
    for _ in 0..rounds.max(1) * 5 {
        let t = Instant::now();
        q.put_many(&items).map_err(err)?;
        put_s += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let got = q.get_many(1000).map_err(err)?;
        get_s += t.elapsed().as_secs_f64();
        let ids: Vec<u64> = got.iter().map(|d| d.id).collect();
        let t = Instant::now();
        q.ack_many(&ids).map_err(err)?;
        ack_s += t.elapsed().as_secs_f64();
    }
    let n = (rounds.max(1) * 5 * 1000) as f64;
    Ok((n / put_s, n / get_s, n / ack_s))
}

/// The three batch rows.
fn batch_rows(store: Store, dir: &Path, rounds: usize) -> R<()> {
    let (p, g, k) = batches(store, dir, rounds)?;
    row("put_many of 1,000", p, "");
    row("get_many of 1,000", g, "");
    row("ack_many of 1,000", k, "");
    Ok(())
}

/// `n` (item, priority) pairs, priorities pseudo-random in 0..1000.
fn priority_items(n: u64) -> impl Iterator<Item = (String, i64)> {
    let mut rng = 0x9E37_79B9_u64;
    (0..n).map(move |i| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (format!("bench{i}"), (rng % 1000) as i64)
    })
}

/// Takes items with `take` until the window ends or it finds none; the
/// rate.
fn drain_rate(window: Duration, mut take: impl FnMut() -> R<bool>) -> R<f64> {
    let start = Instant::now();
    let mut got = 0u64;
    while start.elapsed() < window && take()? {
        got += 1;
    }
    Ok(got as f64 / start.elapsed().as_secs_f64())
}

/// Gets per second from a priority queue holding `n` items (buffered, so
/// the figure is the index, not the disk).
fn priority_gets(dir: &Path, n: u64, window: Duration) -> R<f64> {
    let q = PriorityQueue::builder(dir).durability(Durability::Buffered).open::<String>().map_err(err)?;
    let items: Vec<(String, i64)> = priority_items(n).collect();
    for part in items.chunks(10_000) {
        q.put_many_with_priority(part).map_err(err)?;
    }
    drain_rate(window, || match q.try_get() {
        Ok(_) => Ok(true),
        Err(persist_queue::Error::Empty) => Ok(false),
        Err(e) => Err(e.to_string()),
    })
}

/// The same with raw rusqlite (baseline P): one `(status, priority, id)`
/// index, each get a `BEGIN IMMEDIATE` select + delete, `synchronous=NORMAL`.
fn raw_priority_gets(path: &Path, n: u64, window: Duration) -> R<f64> {
    let c = Connection::open(path).map_err(err)?;
    c.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
         CREATE TABLE q (id INTEGER PRIMARY KEY, payload BLOB NOT NULL, priority INTEGER NOT NULL, status INTEGER NOT NULL);
         CREATE INDEX q_ready ON q (status, priority, id);",
    )
    .map_err(err)?;
    c.execute_batch("BEGIN").map_err(err)?;
    {
        let mut ins =
            c.prepare("INSERT INTO q (payload, priority, status) VALUES (?1, ?2, 1)").map_err(err)?;
        for (item, prio) in priority_items(n) {
            ins.execute(params![item.into_bytes(), prio]).map_err(err)?;
        }
    }
    c.execute_batch("COMMIT").map_err(err)?;
    let mut next =
        c.prepare("SELECT id, payload FROM q WHERE status = 1 ORDER BY priority, id LIMIT 1").map_err(err)?;
    let mut del = c.prepare("DELETE FROM q WHERE id = ?1").map_err(err)?;
    drain_rate(window, || {
        c.execute_batch("BEGIN IMMEDIATE").map_err(err)?;
        let id = next.query_row([], |r| r.get::<_, i64>(0)).ok();
        if let Some(id) = id {
            del.execute([id]).map_err(err)?;
        }
        c.execute_batch("COMMIT").map_err(err)?;
        Ok(id.is_some())
    })
}

fn unique_puts(dir: &Path, window: Duration) -> R<f64> {
    let q = UniqueQueue::builder(dir).open::<String>().map_err(err)?;
    let mut i = 0u64;
    Ok(rate_for(window, || {
        i += 1;
        let _ = q.put(&format!("bench{i}"));
        1
    }))
}

/// persist-queue's SQLite row: Write (auto_commit off), Write/Read with
/// one task_done (auto_commit off), Write/Read with task_done each
/// (auto_commit on); queue opened inside the timing.
pub(crate) fn shape(dir: &Path, count: usize, column: usize) -> R<f64> {
    let start = Instant::now();
    let q = FifoQueue::builder(dir).auto_commit(column == 2).open::<String>().map_err(err)?;
    for i in 0..count {
        q.put(&format!("bench{i}")).map_err(err)?;
    }
    if column >= 1 {
        for _ in 0..count {
            q.get().map_err(err)?;
            if column == 2 {
                q.task_done().map_err(err)?;
            }
        }
        q.task_done().map_err(err)?;
    }
    Ok(start.elapsed().as_secs_f64())
}

/// Runs the SQLite section.
pub(crate) fn measure(args: &BenchArgs, fresh: &mut dyn FnMut() -> std::path::PathBuf) -> R<()> {
    let window = Duration::from_secs_f64(args.seconds);
    println!("## SQLite record queues (synced = WAL + synchronous=FULL), 'bench%d' strings");
    println!();
    let mut cols = [vec![], vec![], vec![]];
    for _ in 0..args.rounds.max(1) {
        for (c, col) in cols.iter_mut().enumerate() {
            col.push(shape(&fresh(), args.count, c)?);
        }
    }
    let [a, b, c] = cols.map(median);
    println!(
        "persist-queue's SQLite row, {} items, synced: {:.0} / {:.0} / {:.0} ms",
        args.count,
        a * 1e3,
        b * 1e3,
        c * 1e3
    );
    println!();
    crate::bench::table_header();
    let shared = std::cell::RefCell::new(&mut *fresh);
    crate::bench::group_commit_rows(
        args,
        || raw_insert(&(shared.borrow_mut())().with_extension("db"), window),
        |threads| ack_puts(Store::Sqlite, &(shared.borrow_mut())(), threads, window),
        ["raw rusqlite autocommit INSERT (baseline S)", "AckQueue put, 1 thread", "threads"],
        ["S", "1 thread"],
    )?;
    crate::bench::writers_at_the_limit(args, "AckQueue", 48, &mut || (shared.borrow_mut())(), |dir, n| {
        ack_puts(Store::Sqlite, dir, n, window)
    })?;
    let raw_c = raw_cycle(&fresh().with_extension("db"), window)?;
    let ours_c = ack_cycle(Store::Sqlite, &fresh(), window)?;
    row("raw rusqlite insert + claim + ack, autocommit (baseline C)", raw_c, "1.00");
    row("AckQueue put + get + ack", ours_c, &format!("{:.2}x C", ours_c / raw_c));
    let (mut one, mut four, mut ratios) = (vec![], vec![], vec![]);
    for _ in 0..args.rounds.max(1) {
        let o = consumer_rate(Store::Sqlite, &fresh(), 1, window)?;
        let f = consumer_rate(Store::Sqlite, &fresh(), 4, window)?;
        one.push(o);
        four.push(f);
        ratios.push(f / o);
    }
    row("AckQueue get + ack, 1 consumer thread", median(one), "1.00");
    row(
        "AckQueue get + ack, 4 consumer threads (acks share flushes)",
        median(four),
        &format!("{:.2}x 1 consumer", median(ratios)),
    );
    async_rows(Store::Sqlite, "AckQueue", args, fresh)?;
    batch_rows(Store::Sqlite, &fresh(), args.rounds)?;
    let u = unique_puts(&fresh(), window)?;
    let s2 = raw_insert(&fresh().with_extension("db"), window)?;
    row("UniqueQueue put, 1 thread", u, &format!("{:.2}x S", u / s2));
    let queued = thousands(args.sqlite_items as f64);
    let raw_p = raw_priority_gets(&fresh().with_extension("db"), args.sqlite_items, window)?;
    let pg = priority_gets(&fresh(), args.sqlite_items, window)?;
    row(&format!("raw rusqlite priority claim, {queued} queued (baseline P)"), raw_p, "1.00");
    row(&format!("PriorityQueue get, {queued} queued (buffered)"), pg, &format!("{:.2}x P", pg / raw_p));
    crate::bench_lease::rows(args, Store::Sqlite, fresh)?;
    println!();
    Ok(())
}

/// The plain-files record queues (the file-based ack queue), beside the
/// raw append + fdatasync loop (F).
pub(crate) fn measure_files(args: &BenchArgs, fresh: &mut dyn FnMut() -> std::path::PathBuf) -> R<()> {
    let window = Duration::from_secs_f64(args.seconds);
    println!("## Plain-files record queues (AckQueue::files, synced), 'bench%d' strings");
    println!();
    crate::bench::table_header();
    let shared = std::cell::RefCell::new(&mut *fresh);
    crate::bench::group_commit_rows(
        args,
        || {
            let dir = (shared.borrow_mut())();
            std::fs::create_dir_all(&dir).map_err(err)?;
            crate::baseline::fdatasync_loop(&dir, 48, window).map_err(err)
        },
        |threads| ack_puts(Store::Files, &(shared.borrow_mut())(), threads, window),
        ["raw append + fdatasync per record (baseline F)", "AckQueue::files put, 1 thread", "threads"],
        ["F", "1 thread"],
    )?;
    crate::bench::writers_at_the_limit(
        args,
        "AckQueue::files",
        48,
        &mut || (shared.borrow_mut())(),
        |dir, n| ack_puts(Store::Files, dir, n, window),
    )?;
    let c = ack_cycle(Store::Files, &(shared.borrow_mut())(), window)?;
    row("AckQueue::files put + get + ack", c, "");
    async_rows(Store::Files, "AckQueue::files", args, &mut || (shared.borrow_mut())())?;
    batch_rows(Store::Files, &(shared.borrow_mut())(), args.rounds)?;
    crate::bench_lease::rows(args, Store::Files, &mut || (shared.borrow_mut())())?;
    println!();
    Ok(())
}
