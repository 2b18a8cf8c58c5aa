//! `pq bench`'s rows for `AckQueue::files` holding many items (buffered):
//! memory per queued item, reopen time, and get + ack against a raw
//! `write()` loop, at 10,000 items and at `--files-depth`.
//!
//! Each depth is filled, then measured in a fresh child process (`pq
//! files-depth`), so the resident memory counted is the queue's alone:
//! nothing freed by earlier rows is reused for it.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use persist_queue::{AckQueue, Durability};

use crate::bench::{BenchArgs, err, row, table_header};
use crate::measure::{median, resident_memory, thousands};

type R<T> = Result<T, String>;

/// Gets and acks measured per depth (at most: every item of a smaller
/// queue).
const CYCLES: u64 = 10_000;

/// What one child reports about a queue of `len` items.
struct Depth {
    len: u64,
    reopen_s: f64,
    bytes_per_item: f64,
    get_ack_per_s: f64,
}

/// The section: 10,000 items, then `args.files_depth` (0: skipped).
pub(crate) fn rows(args: &BenchArgs, fresh: &mut dyn FnMut() -> std::path::PathBuf) -> R<()> {
    if args.files_depth == 0 {
        return Ok(());
    }
    println!("## AckQueue::files with many items queued (buffered), 'bench%d' strings");
    println!();
    let mut depths = Vec::new();
    for n in [10_000.min(args.files_depth), args.files_depth] {
        if depths.iter().any(|d: &Depth| d.len == n) {
            continue;
        }
        let dir = fresh();
        fill(&dir, n)?;
        let mut raw = Vec::new();
        let mut got = Vec::new();
        for _ in 0..args.rounds.max(1) {
            raw.push(crate::baseline::buffered_loop(&dir, 24, CYCLES.min(n)).map_err(err)?);
            got.push(measure_child(&dir)?);
        }
        let d = median_depth(got);
        let raw = median(raw);
        println!(
            "{} queued: reopen {:.2} s, {:.1} bytes of memory per item; get + ack {} /s = {:.2}x a raw write() loop ({} /s)",
            thousands(d.len as f64),
            d.reopen_s,
            d.bytes_per_item,
            thousands(d.get_ack_per_s),
            d.get_ack_per_s / raw,
            thousands(raw)
        );
        depths.push(d);
        std::fs::remove_dir_all(&dir).map_err(err)?;
    }
    println!();
    table_header();
    for d in &depths {
        row(&format!("get + ack, {} queued", thousands(d.len as f64)), d.get_ack_per_s, "see above");
    }
    if let [small, large] = depths.as_slice() {
        row(
            &format!("get + ack at {} against 10,000 queued", thousands(large.len as f64)),
            large.get_ack_per_s,
            &format!("{:.2}x", large.get_ack_per_s / small.get_ack_per_s),
        );
    }
    println!();
    Ok(())
}

fn median_depth(v: Vec<Depth>) -> Depth {
    let len = v.first().map_or(0, |d| d.len);
    let pick = |f: fn(&Depth) -> f64| median(v.iter().map(f).collect());
    Depth {
        len,
        reopen_s: pick(|d| d.reopen_s),
        bytes_per_item: pick(|d| d.bytes_per_item),
        get_ack_per_s: pick(|d| d.get_ack_per_s),
    }
}

fn open(dir: &Path) -> R<AckQueue<String>> {
    AckQueue::files(dir).durability(Durability::Buffered).open().map_err(err)
}

fn fill(dir: &Path, n: u64) -> R<()> {
    let q = open(dir)?;
    let mut i = 0;
    while i < n {
        let items: Vec<String> = (i..n.min(i + 1000)).map(|k| format!("bench{k}")).collect();
        q.put_many(&items).map_err(err)?;
        i += items.len() as u64;
    }
    Ok(())
}

fn measure_child(dir: &Path) -> R<Depth> {
    let exe = std::env::current_exe().map_err(err)?;
    let out = Command::new(exe).arg("files-depth").arg(dir).output().map_err(err)?;
    if !out.status.success() {
        return Err(format!("pq files-depth failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |name: &str| -> R<f64> {
        text.split_whitespace()
            .find_map(|w| w.strip_prefix(name).and_then(|v| v.strip_prefix('=')))
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("pq files-depth said {text:?}"))
    };
    Ok(Depth {
        len: field("len")? as u64,
        reopen_s: field("reopen_s")?,
        bytes_per_item: field("bytes_per_item")?,
        get_ack_per_s: field("get_ack_per_s")?,
    })
}

/// `pq files-depth DIR` (the child): opens the queue, then gets and acks
/// up to [`CYCLES`] items, and prints what it measured. The items it took are
/// put back, so the next round finds the same depth.
pub(crate) fn measure(dir: &Path) -> R<()> {
    let before = resident_memory().map_or(0, |(now, _)| now);
    let start = Instant::now();
    let q = open(dir)?;
    let reopen_s = start.elapsed().as_secs_f64();
    let after = resident_memory().map_or(0, |(now, _)| now);
    let len = q.len().map_err(err)?;
    let cycles = CYCLES.min(len);
    let start = Instant::now();
    let mut taken = Vec::with_capacity(cycles as usize);
    for _ in 0..cycles {
        let d = q.get().map_err(err)?;
        q.ack(&d).map_err(err)?;
        taken.push(d.item);
    }
    let get_ack_per_s = cycles as f64 / start.elapsed().as_secs_f64();
    q.put_many(&taken).map_err(err)?;
    q.purge_status(persist_queue::Status::Acked).map_err(err)?;
    let bytes_per_item = after.saturating_sub(before) as f64 / len.max(1) as f64;
    println!("len={len} reopen_s={reopen_s} bytes_per_item={bytes_per_item} get_ack_per_s={get_ack_per_s}");
    Ok(())
}
