//! `pq bench`: persist-queue's benchmark table for the filesystem queue,
//! plus throughput rows, each beside a raw-disk baseline measured in the
//! same run (this machine's disk speed swings 10x within minutes, so only
//! same-run ratios mean anything).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Args;
use persist_queue::{Codec, Durability, Postcard, Queue, QueueBuilder, Raw};

use crate::baseline;
use crate::measure::{concurrent_rate, median, resident_memory, thousands};

/// Options of `pq bench`.
#[derive(Args, Clone, Debug)]
pub(crate) struct BenchArgs {
    /// Items per scenario of persist-queue's benchmark table.
    #[arg(default_value_t = 1000)]
    pub(crate) count: usize,
    /// Items for the buffered throughput rows.
    #[arg(long, default_value_t = 1_000_000)]
    pub(crate) ops: u64,
    /// Seconds per synced throughput measurement.
    #[arg(long, default_value_t = 1.0)]
    pub(crate) seconds: f64,
    /// Rounds per measurement; medians are reported.
    #[arg(long, default_value_t = 3)]
    pub(crate) rounds: usize,
    /// Producer threads for the group-commit row.
    #[arg(long, default_value_t = 8)]
    pub(crate) threads: usize,
    /// Directory for the queues (default: the system temp directory).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Also queue this many items and report the process's resident memory.
    #[arg(long)]
    large: Option<u64>,
    /// Items queued for the `AckQueue::files` depth rows (0: skip them).
    #[arg(long, default_value_t = 10_000_000)]
    pub(crate) files_depth: u64,
    /// Items queued for the priority-queue get row.
    #[arg(long, default_value_t = 1_000_000)]
    pub(crate) sqlite_items: u64,
    /// Skip the SQLite section.
    #[arg(long)]
    no_sqlite: bool,
    /// Also run the PostgreSQL section on this server (default: `$PG_URL`).
    #[arg(long)]
    pg: Option<String>,
    /// Also run the MySQL / MariaDB section on this server (default:
    /// `$MYSQL_URL`).
    #[arg(long)]
    mysql: Option<String>,
    /// Run only the server sections.
    #[arg(long)]
    servers_only: bool,
    /// Run only the WebAssembly section.
    #[arg(long)]
    wasi_only: bool,
    /// Write a report instead: every backend and durability beside its
    /// raw baseline, latency percentiles and SVG charts, into this
    /// directory (`report.md`, `*.svg`).
    #[arg(long)]
    report: Option<PathBuf>,
    /// With `--report`: also run persist-queue 1.1.0's benchmark workload
    /// (when Python and the package are importable: `$PQ_PYTHON` or
    /// `python3`) and give our time's ratio per column.
    #[arg(long)]
    pub(crate) compare_persist_queue: bool,
}

pub(crate) type R<T> = Result<T, String>;

pub(crate) fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

struct Scratch {
    root: tempfile::TempDir,
    n: usize,
}

impl Scratch {
    fn fresh(&mut self) -> PathBuf {
        self.n += 1;
        self.root.path().join(format!("q{}", self.n))
    }
}

fn open<T, C: Codec<T>>(dir: &Path, durability: Durability, codec: C) -> R<Queue<T, C>> {
    QueueBuilder::new(dir).durability(durability).codec(codec).open().map_err(err)
}

/// One of the item kinds the benchmark runs with.
pub(crate) trait Kind: Send + Sync + Clone + 'static {
    type C: Codec<Self>;
    fn name() -> &'static str;
    fn codec() -> Self::C;
    fn make(i: usize) -> Self;
}

impl Kind for String {
    type C = Postcard;
    fn name() -> &'static str {
        "'bench%d' strings (postcard)"
    }
    fn codec() -> Postcard {
        Postcard
    }
    fn make(i: usize) -> String {
        format!("bench{i}")
    }
}

impl Kind for Vec<u8> {
    type C = Raw;
    fn name() -> &'static str {
        "100-byte items (raw)"
    }
    fn codec() -> Raw {
        Raw
    }
    fn make(i: usize) -> Vec<u8> {
        let mut v = vec![0x61; 100];
        v[..8].copy_from_slice(&(i as u64).to_le_bytes());
        v
    }
}

/// Bytes one item takes in a chunk file (frame header + payload).
fn frame_len<K: Kind>() -> usize {
    persist_queue::persist_queue_core::FRAME_V2_HEADER_LEN
        + K::codec().encode(&K::make(1000)).map_or(0, |b| b.len())
}

// ---- persist-queue's table -------------------------------------------------

/// The three columns of persist-queue's table.
#[derive(Clone, Copy)]
pub(crate) enum Shape {
    /// COUNT puts.
    Write,
    /// COUNT puts, COUNT gets, one task_done.
    ReadOneDone,
    /// COUNT puts, then COUNT times get + task_done.
    ReadEachDone,
}

/// Seconds for one column, the queue opened inside the timing.
pub(crate) fn shape<K: Kind>(dir: &Path, d: Durability, items: &[K], shape: Shape) -> R<f64> {
    let start = Instant::now();
    let q = open::<K, _>(dir, d, K::codec())?;
    for i in items {
        q.put(i).map_err(err)?;
    }
    match shape {
        Shape::Write => {}
        Shape::ReadOneDone => {
            for _ in items {
                q.get().map_err(err)?;
            }
            q.task_done().map_err(err)?;
        }
        Shape::ReadEachDone => {
            for _ in items {
                q.get().map_err(err)?;
                q.task_done().map_err(err)?;
            }
        }
    }
    let expected = if matches!(shape, Shape::Write) { items.len() as u64 } else { 0 };
    if q.len() != expected {
        return Err(format!("queue holds {} items, expected {expected}", q.len()));
    }
    Ok(start.elapsed().as_secs_f64())
}

fn table(args: &BenchArgs, scratch: &mut Scratch) -> R<()> {
    let items: Vec<String> = (0..args.count).map(String::make).collect();
    println!(
        "## persist-queue's benchmark table: {} items 'bench%d', queue opened inside the timing",
        args.count
    );
    println!("(persist-queue 1.1.0 takes about 0.85-1.5 s per column on this kind of machine)");
    println!();
    println!("| durability | Write | Write/Read (1 task_done) | Write/Read (task_done each) |");
    println!("|---|---:|---:|---:|");
    for d in [Durability::Buffered, Durability::Synced] {
        let rounds = if d.is_synced() { 1 } else { args.rounds.max(1) };
        let mut cols = [vec![], vec![], vec![]];
        for _ in 0..rounds {
            for (col, s) in cols.iter_mut().zip([Shape::Write, Shape::ReadOneDone, Shape::ReadEachDone]) {
                col.push(shape(&scratch.fresh(), d, &items, s)?);
            }
        }
        let [a, b, c] = cols.map(median);
        println!("| {} | {:.2} ms | {:.2} ms | {:.2} ms |", d.name(), a * 1e3, b * 1e3, c * 1e3);
    }
    println!();
    Ok(())
}

// ---- throughput -------------------------------------------------------------

fn buffered_put<K: Kind>(dir: &Path, n: u64) -> R<f64> {
    let q = open::<K, _>(dir, Durability::Buffered, K::codec())?;
    let items: Vec<K> = (0..1000).map(K::make).collect();
    let start = Instant::now();
    for i in 0..n {
        q.put(&items[(i % 1000) as usize]).map_err(err)?;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

fn buffered_put_get<K: Kind>(dir: &Path, n: u64) -> R<f64> {
    let q = open::<K, _>(dir, Durability::Buffered, K::codec())?;
    let items: Vec<K> = (0..1000).map(K::make).collect();
    let start = Instant::now();
    for i in 0..n {
        q.put(&items[(i % 1000) as usize]).map_err(err)?;
    }
    for _ in 0..n {
        q.get().map_err(err)?;
    }
    q.task_done().map_err(err)?;
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

fn synced_put<K: Kind>(dir: &Path, threads: usize, window: Duration) -> R<f64> {
    let q = open::<K, _>(dir, Durability::Synced, K::codec())?;
    Ok(concurrent_rate(threads, window, |t, n| q.put(&K::make(t * 1_000_000 + n as usize)).is_ok()))
}

/// The header of every rows table.
pub(crate) fn table_header() {
    println!("| row | items/s | ratio to its baseline (same run) |");
    println!("|---|---:|---:|");
}

/// One row of a rows table.
pub(crate) fn row(name: &str, rate: f64, ratio: &str) {
    println!("| {name} | {} | {ratio} |", thousands(rate));
}

fn throughput<K: Kind>(args: &BenchArgs, scratch: &mut Scratch) -> R<()> {
    let flen = frame_len::<K>();
    let window = Duration::from_secs_f64(args.seconds);
    println!("## Throughput, {}: {} bytes per record on disk", K::name(), flen);
    println!();
    table_header();
    let (mut raw_b, mut put_b, mut pg_b) = (vec![], vec![], vec![]);
    for _ in 0..args.rounds.max(1) {
        raw_b.push(baseline::buffered_loop(scratch.root.path(), flen, args.ops).map_err(err)?);
        put_b.push(buffered_put::<K>(&scratch.fresh(), args.ops)?);
        pg_b.push(buffered_put_get::<K>(&scratch.fresh(), args.ops)?);
    }
    let ratios_put: Vec<f64> = put_b.iter().zip(&raw_b).map(|(p, r)| p / r).collect();
    let ratios_pg: Vec<f64> = pg_b.iter().zip(&raw_b).map(|(p, r)| p / r).collect();
    row("raw append, one write() per record (baseline B)", median(raw_b), "1.00");
    row("buffered put", median(put_b), &format!("{:.2}x B", median(ratios_put)));
    row("buffered put then get, 1 task_done", median(pg_b), &format!("{:.2}x B", median(ratios_pg)));

    let window2 = window;
    let root = scratch.root.path().to_path_buf();
    group_commit_rows(
        args,
        || baseline::fdatasync_loop(&root, flen, window2).map_err(err),
        |threads| synced_put::<K>(&scratch.fresh(), threads, window),
        ["raw append + fdatasync per record (baseline F)", "synced put, 1 producer", "producers"],
        ["F", "1-producer"],
    )?;
    writers_at_the_limit(args, "Queue", flen, &mut || scratch.fresh(), |dir, threads| {
        synced_put::<K>(dir, threads, window)
    })?;
    let (mut ones, mut ratios) = (vec![], vec![]);
    for _ in 0..args.rounds.max(1) {
        let before = baseline::overwrite_fdatasync_loop(&root, flen, window).map_err(err)?;
        let one = synced_put::<K>(&scratch.fresh(), 1, window)?;
        let after = baseline::overwrite_fdatasync_loop(&root, flen, window).map_err(err)?;
        ones.push(one);
        ratios.push(one / ((before + after) / 2.0));
    }
    row(
        "synced put, 1 writer (chunks filled inside written zeros)",
        median(ones),
        &format!("{:.2}x raw: overwrite in place + fdatasync", median(ratios)),
    );
    let (mut tasks, mut ratios) = (vec![], vec![]);
    for _ in 0..args.rounds.max(1) {
        let threads = synced_put::<K>(&scratch.fresh(), 64, window)?;
        let rate = async_synced_put::<K>(&scratch.fresh(), 256, window)?;
        tasks.push(rate);
        ratios.push(rate / threads);
    }
    row(
        "synced put, 256 async tasks (tokio, 2 worker threads)",
        median(tasks),
        &format!("{:.2}x 64 threads", median(ratios)),
    );
    let (mut put_us, mut handoff_us) = (vec![], vec![]);
    for _ in 0..args.rounds.max(1) {
        let (p, h) = synced_handoff::<K>(&scratch.fresh(), 100)?;
        put_us.push(p);
        handoff_us.push(h);
    }
    let ratios: Vec<f64> = handoff_us.iter().zip(&put_us).map(|(h, p)| h / p).collect();
    row(
        "synced put to a waiting get (hand-off; the get returns only once the put is durable)",
        1e6 / median(handoff_us),
        &format!("{:.2}x the put's own latency (>= 1: never before durable)", median(ratios)),
    );
    println!();
    Ok(())
}

/// `tasks` tokio tasks putting synced on one queue's async face for
/// `window`; puts per second.
fn async_synced_put<K: Kind>(dir: &Path, tasks: usize, window: Duration) -> R<f64> {
    let q = open::<K, _>(dir, Durability::Synced, K::codec())?.to_async();
    crate::measure::async_rate(tasks, window, move |t, n| {
        let q = q.clone();
        async move { q.put(&K::make(t * 1_000_000 + n as usize)).await.is_ok() }
    })
}

/// Synced puts by N = 1, 8 and 64 writers, each beside a raw loop that
/// appends N records of `record_len` bytes and flushes once (what one
/// group commit of N writers can at best cost), measured around it in the
/// same round; `label` names the queue. Each measurement gets a `fresh`
/// directory.
pub(crate) fn writers_at_the_limit(
    args: &BenchArgs,
    label: &str,
    record_len: usize,
    fresh: &mut dyn FnMut() -> PathBuf,
    mut writers: impl FnMut(&Path, usize) -> R<f64>,
) -> R<()> {
    let window = Duration::from_secs_f64(args.seconds);
    let raw = |n: usize, fresh: &mut dyn FnMut() -> PathBuf| -> R<f64> {
        let dir = fresh();
        std::fs::create_dir_all(&dir).map_err(err)?;
        baseline::batched_fdatasync_loop(&dir, record_len, n, window).map_err(err)
    };
    for n in [1, 8, 64] {
        let (mut rates, mut ratios) = (vec![], vec![]);
        for _ in 0..args.rounds.max(1) {
            let before = raw(n, fresh)?;
            let ours = writers(&fresh(), n)?;
            let after = raw(n, fresh)?;
            rates.push(ours);
            ratios.push(ours / ((before + after) / 2.0));
        }
        row(
            &format!("{label} synced put, {n} writer(s)"),
            median(rates),
            &format!("{:.2}x raw: {n} appends, one fdatasync", median(ratios)),
        );
    }
    Ok(())
}

/// Median microseconds of a synced put (call to return) and of its
/// hand-off (the put's call to a waiting get's return), `n` items one at
/// a time.
fn synced_handoff<K: Kind>(dir: &Path, n: usize) -> R<(f64, f64)> {
    let q = open::<K, _>(dir, Durability::Synced, K::codec())?;
    let getter = {
        let q = q.clone();
        std::thread::spawn(move || {
            (0..n).map(|_| q.get().map(|_| Instant::now()).map_err(err)).collect::<R<Vec<Instant>>>()
        })
    };
    let (mut starts, mut puts) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        // Let the getter wait first, as a consumer of an idle queue does.
        std::thread::sleep(Duration::from_millis(1));
        let t = Instant::now();
        q.put(&K::make(i)).map_err(err)?;
        puts.push(t.elapsed().as_secs_f64() * 1e6);
        starts.push(t);
    }
    let got = getter.join().map_err(|_| "the getter panicked".to_string())??;
    let handoffs: Vec<f64> = got.iter().zip(&starts).map(|(g, s)| (*g - *s).as_secs_f64() * 1e6).collect();
    Ok((median(puts), median(handoffs)))
}

/// Rounds of: baseline, 1 writer, `args.threads` writers, baseline again
/// (the baseline around each round, since the disk's speed drifts); prints
/// the medians and same-round ratios. `labels`: baseline row, 1-writer row,
/// noun for the N-writer row; `units`: baseline letter, N-writer ratio
/// unit.
pub(crate) fn group_commit_rows(
    args: &BenchArgs,
    mut baseline: impl FnMut() -> R<f64>,
    mut writers: impl FnMut(usize) -> R<f64>,
    labels: [&str; 3],
    units: [&str; 2],
) -> R<()> {
    let (mut base, mut one, mut many, mut r1, mut rn) = (vec![], vec![], vec![], vec![], vec![]);
    for _ in 0..args.rounds.max(1) {
        let b1 = baseline()?;
        let o = writers(1)?;
        let m = writers(args.threads)?;
        let b = (b1 + baseline()?) / 2.0;
        base.push(b);
        one.push(o);
        many.push(m);
        r1.push(o / b);
        rn.push(m / o);
    }
    row(labels[0], median(base), "1.00");
    row(labels[1], median(one), &format!("{:.2}x {}", median(r1), units[0]));
    let name = format!("{} put, {} {}", labels[1].split(' ').next().unwrap_or(""), args.threads, labels[2]);
    row(&name, median(many), &format!("{:.2}x {}", median(rn), units[1]));
    Ok(())
}

fn large(n: u64, scratch: &mut Scratch) -> R<()> {
    let before = resident_memory();
    let q = open::<String, _>(&scratch.fresh(), Durability::Buffered, Postcard)?;
    let start = Instant::now();
    for i in 0..n {
        q.put(&format!("bench{i}")).map_err(err)?;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "## Memory: {} items queued in {:.1} s ({}/s)",
        thousands(n as f64),
        secs,
        thousands(n as f64 / secs)
    );
    match (before, resident_memory()) {
        (Some((b, _)), Some((now, peak))) => println!(
            "resident: {:.1} MB before, {:.1} MB now, {:.1} MB peak; len = {}",
            b as f64 / 1e6,
            now as f64 / 1e6,
            peak as f64 / 1e6,
            q.len()
        ),
        _ => println!("resident memory: not available on this OS"),
    }
    println!();
    Ok(())
}

/// The servers to measure: `--pg` / `--mysql`, else `$PG_URL` / `$MYSQL_URL`.
fn servers(args: &BenchArgs) -> [(&'static str, Option<String>); 2] {
    let env = |var: &str| std::env::var(var).ok().filter(|v| !v.is_empty());
    [
        ("PostgreSQL", args.pg.clone().or_else(|| env("PG_URL")).filter(|u| !u.is_empty())),
        ("MySQL / MariaDB", args.mysql.clone().or_else(|| env("MYSQL_URL")).filter(|u| !u.is_empty())),
    ]
}

/// The servers configured, with their URLs.
#[cfg(feature = "servers")]
pub(crate) fn server_urls(args: &BenchArgs) -> Vec<(&'static str, String)> {
    servers(args).into_iter().filter_map(|(s, url)| url.map(|u| (s, u))).collect()
}

/// Runs the benchmark and prints Markdown tables.
pub(crate) fn measure(args: &BenchArgs) -> R<()> {
    let root = match &args.dir {
        Some(d) => tempfile::tempdir_in(d),
        None => tempfile::tempdir(),
    }
    .map_err(err)?;
    println!("# pq bench: filesystem queue in {}", root.path().display());
    println!();
    let mut scratch = Scratch { root, n: 0 };
    if let Some(dir) = &args.report {
        return crate::report::write(args, dir, scratch.root.path());
    }
    let servers = servers(args);
    if args.wasi_only {
        return wasi_rows(args, &mut scratch);
    }
    if args.servers_only {
        return server_rows(args, &servers);
    }
    table(args, &mut scratch)?;
    throughput::<String>(args, &mut scratch)?;
    throughput::<Vec<u8>>(args, &mut scratch)?;
    wasi_rows(args, &mut scratch)?;
    server_rows(args, &servers)?;
    if !args.no_sqlite {
        crate::bench_sqlite::measure(args, &mut || scratch.fresh())?;
        crate::bench_sqlite::measure_files(args, &mut || scratch.fresh())?;
    }
    crate::bench_depth::rows(args, &mut || scratch.fresh())?;
    if let Some(n) = args.large {
        large(n, &mut scratch)?;
    }
    Ok(())
}

/// The WebAssembly section (feature `wasi`), when the guests are built.
#[cfg(feature = "wasi")]
fn wasi_rows(args: &BenchArgs, scratch: &mut Scratch) -> R<()> {
    match crate::bench_wasi::guests() {
        Some(guests) => {
            let n = (args.ops as usize / 10).max(1000);
            crate::bench_wasi::measure(&guests, &mut || scratch.fresh(), n, args.rounds)
        }
        None => {
            println!("(WebAssembly rows skipped: build the guests first, see README)\n");
            Ok(())
        }
    }
}

#[cfg(not(feature = "wasi"))]
fn wasi_rows(_: &BenchArgs, _: &mut Scratch) -> R<()> {
    println!(
        "(WebAssembly rows: not built; run `cargo run --release -p persist-queue-cli --features wasi -- bench`)\n"
    );
    Ok(())
}

/// The server sections (feature `servers`), for the servers given.
#[cfg(feature = "servers")]
fn server_rows(args: &BenchArgs, servers: &[(&str, Option<String>)]) -> R<()> {
    for (server, url) in servers {
        if let Some(url) = url {
            crate::bench_server::measure(args, server, url)?;
        }
    }
    Ok(())
}

#[cfg(not(feature = "servers"))]
fn server_rows(_: &BenchArgs, servers: &[(&str, Option<String>)]) -> R<()> {
    if servers.iter().any(|(_, url)| url.is_some()) {
        println!(
            "(server rows: not built; run `cargo run --release -p persist-queue-cli --features servers -- bench --pg URL --mysql URL`)\n"
        );
    }
    Ok(())
}
