//! `pq bench --report DIR --compare-persist-queue`: persist-queue 1.1.0's
//! own benchmark workload (`benchmark/run_benchmark.py`: 1000 `'bench%d'`
//! strings; Write, Write/Read with one task_done, Write/Read with
//! task_done each; the queue opened inside the timing) run by Python in
//! the same run as ours, and the ratio per column.

use std::path::Path;
use std::process::Command;

use persist_queue::Durability;

use crate::bench::{BenchArgs, R, Shape, err};
use crate::measure::median;

/// persist-queue's workload, as its benchmark script runs it; prints one
/// JSON object of seconds per column.
const WORKLOAD: &str = r#"
import json, sys, tempfile, time
import persistqueue
count, root = int(sys.argv[1]), sys.argv[2]
def timed(f):
    d = tempfile.mkdtemp(dir=root); t = time.time(); f(d); return time.time() - t
def file_write(d):
    q = persistqueue.Queue(d)
    for i in range(count): q.put('bench%d' % i)
def file_read_one(d):
    q = persistqueue.Queue(d)
    for i in range(count): q.put('bench%d' % i)
    for i in range(count): q.get()
    q.task_done()
def file_read_each(d):
    q = persistqueue.Queue(d)
    for i in range(count): q.put('bench%d' % i)
    for i in range(count): q.get(); q.task_done()
def sql_write(d):
    q = persistqueue.SQLiteQueue(d, auto_commit=False)
    for i in range(count): q.put('bench%d' % i)
def sql_read_one(d):
    q = persistqueue.SQLiteQueue(d, auto_commit=False)
    for i in range(count): q.put('bench%d' % i)
    for i in range(count): q.get()
    q.task_done()
def sql_read_each(d):
    q = persistqueue.SQLiteQueue(d, auto_commit=True)
    for i in range(count): q.put('bench%d' % i)
    for i in range(count): q.get(); q.task_done()
print(json.dumps({"file": [timed(f) for f in (file_write, file_read_one, file_read_each)],
                  "sqlite": [timed(f) for f in (sql_write, sql_read_one, sql_read_each)]}))
"#;

/// A Python that imports persistqueue: `$PQ_PYTHON`, else `python3`.
fn python() -> Option<String> {
    std::env::var("PQ_PYTHON").ok().into_iter().chain(["python3".to_string()]).find(|py| {
        Command::new(py).args(["-c", "import persistqueue"]).output().is_ok_and(|o| o.status.success())
    })
}

/// Runs both workloads `args.rounds` times, alternating; the report's
/// Markdown section (also printed).
pub(crate) fn run(args: &BenchArgs, root: &Path) -> R<String> {
    let Some(py) = python() else {
        let msg = "\n## persist-queue 1.1.0\n\nNot run: no Python that imports persistqueue \
                   (`pip install persist-queue==1.1.0`, or set `$PQ_PYTHON`).\n";
        println!("{msg}");
        return Ok(msg.into());
    };
    std::fs::create_dir_all(root).map_err(err)?;
    let count = args.count;
    let items: Vec<String> = (0..count).map(|i| format!("bench{i}")).collect();
    let shapes = [Shape::Write, Shape::ReadOneDone, Shape::ReadEachDone];
    let (mut theirs, mut ours) = (vec![vec![]; 6], vec![vec![]; 6]);
    let mut n = 0;
    for _ in 0..args.rounds.max(1) {
        let out =
            Command::new(&py).args(["-c", WORKLOAD, &count.to_string()]).arg(root).output().map_err(err)?;
        if !out.status.success() {
            return Err(format!("persist-queue's workload failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(err)?;
        for (k, secs) in v["file"].as_array().into_iter().chain(v["sqlite"].as_array()).flatten().enumerate()
        {
            theirs[k].push(secs.as_f64().unwrap_or(f64::NAN));
        }
        for (k, s) in shapes.iter().enumerate() {
            n += 1;
            // persist-queue's file Queue flushes to the OS per put, fsyncs per chunk: buffered.
            ours[k].push(crate::bench::shape(&root.join(format!("f{n}")), Durability::Buffered, &items, *s)?);
            // Its SQLite queue commits each put (WAL, synchronous=FULL): synced.
            ours[3 + k].push(crate::bench_sqlite::shape(&root.join(format!("s{n}")), count, k)?);
        }
    }
    let names = ["Write", "Write/Read (1 task_done)", "Write/Read (task_done each)"];
    let mut md = format!(
        "\n## persist-queue 1.1.0's benchmark, same run ({count} items, median of {} rounds)\n\n\
         | queue | column | persist-queue 1.1.0 | ours | persist-queue's time / ours |\n|---|---|---:|---:|---:|\n",
        args.rounds.max(1)
    );
    for k in 0..6 {
        let (t, o) = (median(theirs[k].clone()), median(ours[k].clone()));
        let queue = if k < 3 { "file Queue (ours buffered)" } else { "SQLite queue (synced)" };
        md.push_str(&format!("| {queue} | {} | {:.3} s | {:.4} s | {:.2}x |\n", names[k % 3], t, o, t / o));
    }
    println!("{md}");
    Ok(md)
}
