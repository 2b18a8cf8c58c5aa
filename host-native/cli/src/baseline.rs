//! The machine's own limits, measured in the same run as the queue: a raw
//! append loop with `fdatasync` per record (or per N records), the same
//! loop overwriting a file of zeros in place (no size to commit), and a
//! raw buffered append loop with one `write()` per record. Records have
//! the queue's frame size.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use crate::measure::rate_for;

/// Appends + `fdatasync` per record for `window`; records per second.
pub(crate) fn fdatasync_loop(dir: &Path, record_len: usize, window: Duration) -> std::io::Result<f64> {
    batched_fdatasync_loop(dir, record_len, 1, window)
}

/// Rounds of `batch` appends (one `write()` each, as `batch` writers
/// would) and one `fdatasync`, for `window`: the limit of group commit for
/// `batch` writers; records per second.
pub(crate) fn batched_fdatasync_loop(
    dir: &Path,
    record_len: usize,
    batch: usize,
    window: Duration,
) -> std::io::Result<f64> {
    let path = dir.join("raw-fdatasync");
    let mut file = OpenOptions::new().create(true).append(true).open(&path)?;
    let record = vec![0x5a_u8; record_len];
    let mut failed = None;
    let rate = rate_for(window, || {
        if failed.is_some() {
            return batch as u64;
        }
        let written = (0..batch).try_for_each(|_| file.write_all(&record));
        if let Err(e) = written.and_then(|()| file.sync_data()) {
            failed = Some(e);
        }
        batch as u64
    });
    std::fs::remove_file(&path)?;
    failed.map_or(Ok(rate), Err)
}

/// Records written in place over a file of zeros (written and flushed
/// first), one `fdatasync` each, for `window`: a flush that commits no new
/// file size, the best a synced put can do; records per second.
pub(crate) fn overwrite_fdatasync_loop(
    dir: &Path,
    record_len: usize,
    window: Duration,
) -> std::io::Result<f64> {
    use std::io::{Seek, SeekFrom};
    const FILE: u64 = 16 << 20;
    let path = dir.join("raw-overwrite");
    let mut file = OpenOptions::new().create(true).truncate(true).read(true).write(true).open(&path)?;
    let zeros = vec![0_u8; 1 << 20];
    for _ in 0..FILE / (1 << 20) {
        file.write_all(&zeros)?;
    }
    file.sync_all()?;
    let record = vec![0x5a_u8; record_len];
    let (mut at, mut failed) = (0u64, None);
    let rate = rate_for(window, || {
        if failed.is_some() {
            return 1;
        }
        if at + record_len as u64 > FILE {
            at = 0;
        }
        let written = file.seek(SeekFrom::Start(at)).and_then(|_| file.write_all(&record));
        if let Err(e) = written.and_then(|()| file.sync_data()) {
            failed = Some(e);
        }
        at += record_len as u64;
        1
    });
    drop(file);
    std::fs::remove_file(&path)?;
    failed.map_or(Ok(rate), Err)
}

/// `count` appends, one `write()` each, no sync; records per second.
pub(crate) fn buffered_loop(dir: &Path, record_len: usize, count: u64) -> std::io::Result<f64> {
    let path = dir.join("raw-buffered");
    let mut file = OpenOptions::new().create(true).append(true).open(&path)?;
    let record = vec![0x5a_u8; record_len];
    let start = std::time::Instant::now();
    for _ in 0..count {
        file.write_all(&record)?;
    }
    let rate = count as f64 / start.elapsed().as_secs_f64();
    drop(file);
    std::fs::remove_file(&path)?;
    Ok(rate)
}
