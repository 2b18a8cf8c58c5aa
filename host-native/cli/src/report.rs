//! `pq bench --report DIR`: every backend available here at both
//! durabilities, each beside a raw baseline of its own medium measured in
//! the same run, with put latency percentiles; synced throughput against
//! producer count; written as `DIR/report.md` and SVG charts
//! (`throughput.svg`, `producers.svg`, `latency.svg`).

use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use persist_queue::{AckQueue, Durability, Queue, QueueBuilder};

use crate::bench::{BenchArgs, R, err};
use crate::measure::thousands;

/// One measured row: ours and its baseline, both with per-operation
/// latencies.
pub(crate) struct Measured {
    /// The backend (`files Queue`, `SQLite AckQueue`, ...).
    pub(crate) backend: String,
    pub(crate) durability: Durability,
    pub(crate) ours: Timing,
    /// What the baseline is.
    pub(crate) baseline_name: &'static str,
    pub(crate) baseline: Timing,
}

/// A timed loop: operations per second and each operation's latency.
pub(crate) struct Timing {
    pub(crate) rate: f64,
    /// Microseconds, sorted.
    pub(crate) latencies: Vec<f64>,
}

impl Timing {
    /// The `p`-th percentile latency in microseconds (`p` in 0..=100).
    pub(crate) fn percentile(&self, p: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((p / 100.0) * (self.latencies.len() - 1) as f64).round() as usize;
        self.latencies[i.min(self.latencies.len() - 1)]
    }
}

/// Runs `op` until `window` has passed (at least `min_ops` times), timing
/// each call.
pub(crate) fn timed(window: Duration, min_ops: usize, mut op: impl FnMut(u64) -> R<()>) -> R<Timing> {
    let start = Instant::now();
    let mut latencies = Vec::new();
    let mut n = 0u64;
    while start.elapsed() < window || latencies.len() < min_ops {
        let t = Instant::now();
        op(n)?;
        latencies.push(t.elapsed().as_secs_f64() * 1e6);
        n += 1;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    Ok(Timing { rate, latencies })
}

/// A raw append of `len`-byte records, `fdatasync` after each if synced.
fn raw_append(dir: &Path, len: usize, d: Durability, window: Duration) -> R<Timing> {
    std::fs::create_dir_all(dir).map_err(err)?;
    let path = dir.join("raw-append");
    let mut file = OpenOptions::new().create(true).append(true).open(&path).map_err(err)?;
    let record = vec![0x5a_u8; len];
    let t = timed(window, 100, |_| {
        file.write_all(&record).map_err(err)?;
        if d.is_synced() {
            file.sync_data().map_err(err)?;
        }
        Ok(())
    })?;
    std::fs::remove_file(&path).map_err(err)?;
    Ok(t)
}

/// Raw rusqlite autocommit INSERTs at the queue's pragmas.
fn raw_sqlite(dir: &Path, d: Durability, window: Duration) -> R<Timing> {
    std::fs::create_dir_all(dir).map_err(err)?;
    let c = rusqlite::Connection::open(dir.join("raw.db")).map_err(err)?;
    c.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
    c.pragma_update(None, "synchronous", if d.is_synced() { "FULL" } else { "NORMAL" }).map_err(err)?;
    c.execute_batch(
        "CREATE TABLE IF NOT EXISTS q (id INTEGER PRIMARY KEY AUTOINCREMENT, payload BLOB NOT NULL)",
    )
    .map_err(err)?;
    let mut stmt = c.prepare("INSERT INTO q (payload) VALUES (?1)").map_err(err)?;
    timed(window, 100, |i| stmt.execute([format!("bench{i}").into_bytes()]).map(|_| ()).map_err(err))
}

fn durabilities() -> [Durability; 2] {
    [Durability::Buffered, Durability::Synced]
}

/// The rows: each backend at each durability, beside its baseline.
fn measure_rows(args: &BenchArgs, root: &Path) -> R<Vec<Measured>> {
    let window = Duration::from_secs_f64(args.seconds);
    let mut rows = Vec::new();
    let mut n = 0;
    let mut fresh = || {
        n += 1;
        root.join(format!("r{n}"))
    };
    // Bytes per record on disk for the file stores ('bench%d' strings).
    let frame = persist_queue::persist_queue_core::FRAME_V2_HEADER_LEN + 10;
    for d in durabilities() {
        let baseline = raw_append(&fresh(), frame, d, window)?;
        let q: Queue<String> = QueueBuilder::new(fresh()).durability(d).open().map_err(err)?;
        let ours = timed(window, 100, |i| q.put(&format!("bench{i}")).map_err(err))?;
        let baseline_name =
            if d.is_synced() { "raw append + fdatasync" } else { "raw append, write() per record" };
        rows.push(Measured { backend: "file Queue".into(), durability: d, ours, baseline_name, baseline });

        let baseline = raw_sqlite(&fresh(), d, window)?;
        let q: AckQueue<String> = AckQueue::builder(fresh()).durability(d).open().map_err(err)?;
        let ours = timed(window, 100, |i| q.put(&format!("bench{i}")).map(|_| ()).map_err(err))?;
        let baseline_name = "raw rusqlite autocommit INSERT";
        rows.push(Measured {
            backend: "SQLite AckQueue".into(),
            durability: d,
            ours,
            baseline_name,
            baseline,
        });

        let baseline = raw_append(&fresh(), 48, d, window)?;
        let q: AckQueue<String> = AckQueue::files(fresh()).durability(d).open().map_err(err)?;
        let ours = timed(window, 100, |i| q.put(&format!("bench{i}")).map(|_| ()).map_err(err))?;
        let baseline_name =
            if d.is_synced() { "raw append + fdatasync" } else { "raw append, write() per record" };
        rows.push(Measured {
            backend: "plain-files AckQueue".into(),
            durability: d,
            ours,
            baseline_name,
            baseline,
        });
    }
    #[cfg(feature = "servers")]
    for (server, url) in crate::bench::server_urls(args) {
        let (baseline, ours) = crate::bench_server::timed_puts(server, &url, window)?;
        let baseline_name = "raw client autocommit INSERT";
        rows.push(Measured {
            backend: format!("{server} AckQueue"),
            durability: Durability::Synced,
            ours,
            baseline_name,
            baseline,
        });
    }
    Ok(rows)
}

/// Synced puts per second with `n` producer threads, per store.
pub(crate) struct Producers {
    pub(crate) backend: &'static str,
    /// (producers, items/s).
    pub(crate) points: Vec<(usize, f64)>,
}

fn measure_producers(args: &BenchArgs, root: &Path) -> R<Vec<Producers>> {
    let window = Duration::from_secs_f64(args.seconds);
    let mut counts: Vec<usize> = vec![1, 2, 4, 8, args.threads];
    counts.sort_unstable();
    counts.dedup();
    let mut file = Producers { backend: "file Queue", points: Vec::new() };
    let mut sqlite = Producers { backend: "SQLite AckQueue", points: Vec::new() };
    for (i, &n) in counts.iter().enumerate() {
        let q: Queue<String> = QueueBuilder::new(root.join(format!("p{i}")))
            .durability(Durability::Synced)
            .open()
            .map_err(err)?;
        file.points.push((
            n,
            crate::measure::concurrent_rate(n, window, |t, k| q.put(&format!("w{t}-{k}")).is_ok()),
        ));
        let q: AckQueue<String> = AckQueue::builder(root.join(format!("s{i}"))).open().map_err(err)?;
        sqlite.points.push((
            n,
            crate::measure::concurrent_rate(n, window, |t, k| q.put(&format!("w{t}-{k}")).is_ok()),
        ));
    }
    Ok(vec![file, sqlite])
}

fn markdown(rows: &[Measured], producers: &[Producers], compare: &str) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# pq bench report\n");
    let _ = writeln!(
        md,
        "Every row beside a raw baseline of its own medium, measured in the same run just before it \
         (this kind of disk changes speed several-fold within minutes: compare the ratios). \
         Latencies are per put, in microseconds.\n"
    );
    let _ = writeln!(md, "![items/s per backend](throughput.svg)\n");
    let _ = writeln!(
        md,
        "| backend | durability | items/s | baseline | baseline items/s | ratio | p50 µs | p99 µs | p999 µs | baseline p50 / p99 / p999 µs |"
    );
    let _ = writeln!(md, "|---|---|---:|---|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {:.2}x | {:.1} | {:.1} | {:.1} | {:.1} / {:.1} / {:.1} |",
            r.backend,
            r.durability.name(),
            thousands(r.ours.rate),
            r.baseline_name,
            thousands(r.baseline.rate),
            r.ours.rate / r.baseline.rate,
            r.ours.percentile(50.0),
            r.ours.percentile(99.0),
            r.ours.percentile(99.9),
            r.baseline.percentile(50.0),
            r.baseline.percentile(99.0),
            r.baseline.percentile(99.9),
        );
    }
    let _ =
        writeln!(md, "\n## Synced puts against producer threads\n\n![synced throughput](producers.svg)\n");
    let _ = writeln!(md, "| backend | producers | items/s | vs 1 producer |");
    let _ = writeln!(md, "|---|---:|---:|---:|");
    for p in producers {
        let one = p.points.first().map_or(f64::NAN, |x| x.1);
        for (n, rate) in &p.points {
            let _ = writeln!(md, "| {} | {n} | {} | {:.2}x |", p.backend, thousands(*rate), rate / one);
        }
    }
    let _ = writeln!(md, "\n## Put latency distribution\n\n![latency](latency.svg)\n");
    md.push_str(compare);
    md
}

/// Runs the report into `dir`; prints where it went.
pub(crate) fn write(args: &BenchArgs, dir: &Path, root: &Path) -> R<()> {
    std::fs::create_dir_all(dir).map_err(err)?;
    let rows = measure_rows(args, &root.join("rows"))?;
    let producers = measure_producers(args, &root.join("producers"))?;
    let compare = if args.compare_persist_queue {
        crate::compare::run(args, &root.join("compare"))?
    } else {
        String::new()
    };
    crate::chart::throughput(&dir.join("throughput.svg"), &rows)?;
    crate::chart::producers(&dir.join("producers.svg"), &producers)?;
    crate::chart::latency(&dir.join("latency.svg"), &rows)?;
    std::fs::write(dir.join("report.md"), markdown(&rows, &producers, &compare)).map_err(err)?;
    println!("report: {}", dir.join("report.md").display());
    Ok(())
}
