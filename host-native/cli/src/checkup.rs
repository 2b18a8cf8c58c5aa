//! `pq verify` (every record and checksum, each problem with its place)
//! and `pq repair` (what cannot be read moved aside, never deleted; a
//! queue left that opens and delivers every readable item in order).

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use persist_queue::persist_queue_core::records::store_name;
use persist_queue::persist_queue_core::{Audit, FindingKind, audit};
use persist_queue::{Durability, Error, FsStorage, QueueBuilder};
use serde_json::{Value, json};

use crate::address::{At, Listed, Place};
use crate::inspect::listing;
use crate::item::CodecArg;
use crate::opened::{Opened, create_file_queue};

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The directory holding a file-backed queue's blobs, if it has one (the
/// file `Queue`'s directory, or a plain-files record queue's store).
fn blob_dir(place: &Place, listed: &Listed) -> Option<PathBuf> {
    let dir = place.dir()?;
    Some(match listed.kind.record_kind() {
        None => dir.to_path_buf(),
        Some(kind) => dir.join(store_name(kind.prefix(), &listed.name)),
    })
}

fn kind_name(k: FindingKind) -> String {
    match k {
        FindingKind::Damaged => "damaged".into(),
        FindingKind::TornTail => "torn tail (cut at open: never acknowledged)".into(),
        FindingKind::TornBeforeNewest => "torn tail before the newest chunk".into(),
        FindingKind::Header(p) => format!("chunk header: {p:?}"),
        FindingKind::MissingChunk => "missing chunk".into(),
    }
}

/// What a verification found.
struct Report {
    /// Problems: blob (file), offset, length, what; and whether damage.
    problems: Vec<(String, u64, u64, String, bool)>,
    chunks: u64,
    frames: u64,
    /// Items read through the queue (every one decoded as stored).
    items: u64,
}

impl Report {
    fn damaged(&self) -> bool {
        self.problems.iter().any(|p| p.4)
    }

    fn json(&self, at: &At, listed: &Listed) -> Value {
        let problems: Vec<Value> = self
            .problems
            .iter()
            .map(|(blob, offset, len, what, damage)| {
                json!({"file": blob, "offset": offset, "len": len, "kind": what, "damage": damage})
            })
            .collect();
        json!({
            "location": at.location, "kind": listed.kind.label(), "name": listed.name,
            "ok": !self.damaged(), "chunks": self.chunks, "frames": self.frames, "items": self.items,
            "problems": problems,
        })
    }
}

fn push_audit(report: &mut Report, dir: &Path, a: &Audit) {
    report.chunks = a.chunks;
    report.frames = a.frames;
    for f in &a.findings {
        let file = dir.join(f.blob.to_string()).display().to_string();
        report.problems.push((file, f.offset, f.len, kind_name(f.kind), f.kind.is_damage()));
    }
}

/// Walks the queue: its blobs' frames and checksums (file-backed queues),
/// the SQLite file's pages (`PRAGMA integrity_check`), then every item
/// through the queue itself (its metadata, cursor and statuses).
fn check(place: &Place, listed: &Listed, codec: Option<CodecArg>) -> Result<Report, String> {
    let mut report = Report { problems: Vec::new(), chunks: 0, frames: 0, items: 0 };
    if let Some(dir) = blob_dir(place, listed) {
        let mut storage = if listed.kind.record_kind().is_some() {
            FsStorage::open_shared(&dir, Durability::Buffered)
        } else {
            FsStorage::open(&dir, Durability::Buffered)
        }
        .map_err(err)?;
        push_audit(&mut report, &dir, &audit(&mut storage).map_err(err)?);
    }
    if let Place::Sqlite(file) = place {
        let conn = rusqlite::Connection::open_with_flags(file, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(err)?;
        let mut stmt = conn.prepare("PRAGMA integrity_check").map_err(err)?;
        let lines: Vec<String> =
            stmt.query_map([], |r| r.get(0)).map_err(err)?.collect::<Result<_, _>>().map_err(err)?;
        for line in lines.into_iter().filter(|l| l != "ok") {
            report.problems.push((file.display().to_string(), 0, 0, line, true));
        }
    }
    // Through the queue: what a consumer would meet.
    match Opened::open_listed(place, listed, codec, Durability::Buffered, false)
        .and_then(|q| listing(&q, None, 0).map(|items| (q, items)))
    {
        Ok((q, items)) => {
            report.items = items.len() as u64;
            // SQLite and servers keep no checksum of an item's bytes: with
            // --codec, an item that no longer decodes is reported.
            if let Some(codec) = codec.filter(|_| !matches!(q, Opened::File { .. })) {
                for l in items.iter().filter(|l| codec.decode(&l.bytes).is_none()) {
                    let what = format!("item {} does not decode as {}", l.id, codec.name());
                    report.problems.push((place_name(place, listed), 0, l.bytes.len() as u64, what, true));
                }
            }
        }
        Err(e) => {
            let known = report.damaged();
            // Damage the walk already placed is reported once.
            if !known {
                report.problems.push((
                    place_name(place, listed),
                    0,
                    0,
                    format!("reading the queue: {e}"),
                    true,
                ));
            }
        }
    }
    Ok(report)
}

fn place_name(place: &Place, listed: &Listed) -> String {
    match place {
        Place::Dir(d) => blob_dir(place, listed).unwrap_or_else(|| d.clone()).display().to_string(),
        Place::Sqlite(f) => f.display().to_string(),
        Place::Server(_) => format!("{} {}", listed.kind.label(), listed.name),
    }
}

fn print_report(report: &Report, at: &At, listed: &Listed, as_json: bool) {
    if as_json {
        println!("{}", report.json(at, listed));
        return;
    }
    for (file, offset, len, what, damage) in &report.problems {
        let tag = if *damage { "DAMAGE" } else { "note" };
        println!("{tag}\t{file}\toffset {offset}\t{len} bytes\t{what}");
    }
    let walked = if report.chunks > 0 {
        format!("{} chunks, {} frames, ", report.chunks, report.frames)
    } else {
        String::new()
    };
    println!(
        "{}: {walked}{} items readable; {}",
        at.location,
        report.items,
        match (report.damaged(), report.chunks > 0) {
            (false, _) => "ok",
            (true, true) => "DAMAGED (`pq repair --apply` moves it aside)",
            (true, false) => "DAMAGED (this store's damage is listed above; pq repairs file-backed queues)",
        }
    );
}

/// `pq verify`: whether the queue is whole (exit code 4 when not).
pub(crate) fn verify(at: &At, codec: Option<CodecArg>, as_json: bool) -> Result<bool, String> {
    let (place, listed) = at.select(false)?;
    let report = check(&place, &listed, codec)?;
    print_report(&report, at, &listed, as_json);
    Ok(!report.damaged())
}

fn stamp() -> String {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    format!("{}-{:09}", d.as_secs(), d.subsec_nanos())
}

/// The blob files (`meta`, `c0000000001` ...) of `dir`.
fn blob_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(err)? {
        let entry = entry.map_err(err)?;
        let name = entry.file_name();
        if name.to_str().and_then(persist_queue::persist_queue_core::Blob::parse).is_some() {
            out.push(entry.path());
        }
    }
    out.sort();
    Ok(out)
}

/// Copies every blob file of `from` into `to` (created).
fn copy_blobs(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(err)?;
    for f in blob_files(from)? {
        std::fs::copy(&f, to.join(f.file_name().unwrap_or_default())).map_err(err)?;
    }
    Ok(())
}

/// `pq repair`: a dry run unless `apply`. An error when the queue is
/// still damaged afterwards, or is a store pq cannot repair.
pub(crate) fn repair(at: &At, apply: bool, as_json: bool) -> Result<(), String> {
    let (place, listed) = at.select(false)?;
    let report = check(&place, &listed, None)?;
    let Some(dir) = blob_dir(&place, &listed) else {
        print_report(&report, at, &listed, as_json);
        if report.damaged() {
            return Err(match place {
                Place::Sqlite(_) => {
                    "damaged SQLite pages: pq cannot rebuild them (sqlite3's `.recover` can); nothing changed"
                        .into()
                }
                _ => "a server's tables are the server's to repair; nothing changed".into(),
            });
        }
        return Ok(());
    };
    if !report.damaged() {
        let msg = "nothing to repair (a torn tail is cut when the queue opens)";
        if as_json {
            println!("{}", json!({"repaired": false, "ok": true, "message": msg}));
        } else {
            println!("{msg}");
        }
        return Ok(());
    }
    let aside = dir.join("corrupted").join(stamp());
    let outcome = match listed.kind.record_kind() {
        None => rebuild_file_queue(&dir, &aside, apply)?,
        Some(_) => compact_record_log(&place, &listed, &dir, &aside, apply)?,
    };
    let after = if apply { Some(check(&place, &listed, None)?) } else { None };
    let whole = after.as_ref().is_none_or(|r| !r.damaged());
    if as_json {
        println!(
            "{}",
            json!({
                "applied": apply, "problems": report.json(at, &listed)["problems"],
                "kept_items": outcome.kept, "aside": aside.display().to_string(),
                "ok": whole && apply,
            })
        );
    } else {
        print_report(&report, at, &listed, false);
        let verb = if apply { "moved" } else { "would move" };
        println!(
            "{verb} the damaged files' bytes aside to {} and {} {} readable items in order{}",
            aside.display(),
            if apply { "kept" } else { "keep" },
            outcome.kept,
            if apply { "" } else { " (dry run: add --apply)" }
        );
    }
    if !whole {
        return Err("the queue is still damaged after repair".into());
    }
    Ok(())
}

struct Rebuilt {
    kept: u64,
}

/// The file `Queue` in `dir`: its readable items (read with
/// `skip_corrupted` from a copy) are written to a new queue, the old blob
/// files are moved to `aside`, and the new ones take their place (`meta`
/// last). The original bytes are in `aside` before anything in `dir`
/// changes.
fn rebuild_file_queue(dir: &Path, aside: &Path, apply: bool) -> Result<Rebuilt, String> {
    let work = dir.with_file_name(format!(
        ".{}.repair-{}",
        dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        stamp()
    ));
    let copy = work.join("copy");
    copy_blobs(dir, &copy)?;
    let q = QueueBuilder::new(&copy).skip_corrupted(true).open_bytes().map_err(err)?;
    let codec = q.codec_name();
    let mut items = Vec::new();
    loop {
        match q.try_get() {
            Ok(item) => items.push(item),
            Err(Error::Empty) => break,
            Err(e) => return Err(format!("reading the readable items: {e}")),
        }
    }
    drop(q);
    let kept = items.len() as u64;
    if apply {
        let rebuilt = work.join("rebuilt");
        let codec = CodecArg::from_name(&codec).unwrap_or(CodecArg::Raw);
        create_file_queue(&rebuilt, codec, Durability::Synced)?;
        let q = QueueBuilder::new(&rebuilt).durability(Durability::Synced).open_bytes().map_err(err)?;
        q.put_many(&items).map_err(err)?;
        q.sync().map_err(err)?;
        drop(q);
        // Hold the queue's lock while its files change.
        let guard = FsStorage::open(dir, Durability::Synced).map_err(err)?;
        std::fs::create_dir_all(aside).map_err(err)?;
        for f in blob_files(dir)? {
            std::fs::rename(&f, aside.join(f.file_name().unwrap_or_default())).map_err(err)?;
        }
        let mut new = blob_files(&rebuilt)?;
        new.sort_by_key(|f| f.file_name().is_some_and(|n| n == "meta"));
        for f in new {
            std::fs::rename(&f, dir.join(f.file_name().unwrap_or_default())).map_err(err)?;
        }
        drop(guard);
    }
    std::fs::remove_dir_all(&work).map_err(err)?;
    Ok(Rebuilt { kept })
}

/// A plain-files record queue: its blob files are copied to `aside`, then
/// the log is opened skipping the damaged plans and compacted: a snapshot
/// of every readable record (same ids, statuses, priorities) replaces the
/// chunks.
fn compact_record_log(
    place: &Place,
    listed: &Listed,
    dir: &Path,
    aside: &Path,
    apply: bool,
) -> Result<Rebuilt, String> {
    let kind = listed.kind.record_kind().ok_or("not a record queue")?;
    let open = || {
        place
            .records(kind, &listed.name, Durability::Synced)
            .skip_corrupted(true)
            .codec(persist_queue::Raw)
            .open::<Vec<u8>>()
            .map_err(err)
    };
    if !apply {
        // Opening with skip_corrupted leaves the damaged bytes where they are.
        let records = open()?;
        let kept = records.queue().map_err(err)?.len() as u64;
        return Ok(Rebuilt { kept });
    }
    copy_blobs(dir, aside)?;
    let records = open()?;
    records.shrink_disk_usage().map_err(err)?;
    let kept = records.queue().map_err(err)?.len() as u64;
    Ok(Rebuilt { kept })
}
