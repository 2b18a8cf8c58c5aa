//! Seeing inside a queue without changing it: `ls`, `stat`, `peek`,
//! `list`, `dump`.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::ValueEnum;
use persist_queue::persist_queue_core::{CHUNK_VERSION, META_VERSION};
use persist_queue::{Durability, Status};
use serde_json::{Value, json};

use crate::address::{At, Place};
use crate::item::{fields, opt, plain, shown};
use crate::opened::Opened;

/// A status to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum StatusArg {
    /// Waiting to be delivered.
    Ready,
    /// Delivered, not settled: in flight (leased).
    Unacked,
    /// Put or nacked with a delay, not yet due.
    Delayed,
    /// Acked, kept until purged (ack queues).
    Acked,
    /// Failed for good (`ack --failed`), kept until purged.
    Failed,
}

impl StatusArg {
    fn matches(self, s: Status) -> bool {
        matches!(
            (self, s),
            (StatusArg::Ready, Status::Ready)
                | (StatusArg::Unacked, Status::Unacked)
                | (StatusArg::Delayed, Status::Delayed)
                | (StatusArg::Acked, Status::Acked)
                | (StatusArg::Failed, Status::AckFailed)
        )
    }
}

/// A status as shown.
pub(crate) fn status_name(s: Status) -> &'static str {
    match s {
        Status::Ready => "ready",
        Status::Unacked => "unacked",
        Status::Delayed => "delayed",
        Status::Acked => "acked",
        Status::AckFailed => "failed",
    }
}

/// One stored item as listed.
pub(crate) struct Listing {
    /// Its id (record queues), or its place from the head (file `Queue`).
    pub(crate) id: u64,
    pub(crate) status: Status,
    pub(crate) priority: i64,
    /// When it was put (ms since the epoch; record queues only).
    pub(crate) timestamp: Option<u64>,
    pub(crate) bytes: Vec<u8>,
}

impl Listing {
    /// The JSON object of the item: id (or position), status, priority,
    /// timestamp, and `item` (decoded) or `hex`.
    pub(crate) fn json(&self, opened: &Opened) -> Value {
        let key = if matches!(opened, Opened::File { .. }) { "position" } else { "id" };
        let mut f = fields([(key, json!(self.id)), ("status", json!(status_name(self.status)))]);
        if let Some(ts) = self.timestamp {
            f.insert("priority".into(), json!(self.priority));
            f.insert("timestamp".into(), json!(ts));
        }
        shown(opened.codec(), &self.bytes, f)
    }
}

/// Up to `limit` items (0: all) whose status is `status` (any if `None`),
/// in the queue's order.
pub(crate) fn listing(
    opened: &Opened,
    status: Option<StatusArg>,
    limit: usize,
) -> Result<Vec<Listing>, String> {
    let limit = if limit == 0 { usize::MAX } else { limit };
    match opened {
        Opened::File { queue, .. } => {
            if status.is_some_and(|s| s != StatusArg::Ready) {
                return Ok(Vec::new()); // the file Queue holds waiting items only
            }
            let items = queue.peek_many(limit).map_err(|e| e.to_string())?;
            Ok(items
                .into_iter()
                .enumerate()
                .map(|(i, bytes)| Listing {
                    id: i as u64,
                    status: Status::Ready,
                    priority: 0,
                    timestamp: None,
                    bytes,
                })
                .collect())
        }
        Opened::Records { records, .. } => Ok(records
            .queue()
            .map_err(|e| e.to_string())?
            .into_iter()
            .filter(|e| status.is_none_or(|s| s.matches(e.status)))
            .take(limit)
            .map(|e| Listing {
                id: e.id,
                status: e.status,
                priority: e.priority,
                timestamp: Some(e.timestamp),
                bytes: e.item,
            })
            .collect()),
    }
}

/// Prints items: one JSON array, or a line each (`id status item`).
pub(crate) fn print_listing(opened: &Opened, items: &[Listing], as_json: bool) {
    if as_json {
        let all: Vec<Value> = items.iter().map(|l| l.json(opened)).collect();
        println!("{}", Value::Array(all));
    } else {
        for l in items {
            println!("{}\t{}\t{}", l.id, status_name(l.status), plain(opened.codec(), &l.bytes));
        }
    }
}

/// Prints items as `get` does: one JSON array, or a line each (the item;
/// a record queue's with its id first).
pub(crate) fn print_items(opened: &Opened, items: &[Listing], as_json: bool) {
    if as_json {
        return print_listing(opened, items, true);
    }
    for l in items {
        match opened {
            Opened::File { .. } => println!("{}", plain(opened.codec(), &l.bytes)),
            Opened::Records { .. } => println!("{}\t{}", l.id, plain(opened.codec(), &l.bytes)),
        }
    }
}

/// Counts by status: ready, unacked, acked, failed.
pub(crate) fn counts(opened: &Opened) -> Result<[u64; 4], String> {
    match opened {
        Opened::File { queue, .. } => {
            // Got and not confirmed: delivered again after a restart.
            let ready = queue.len();
            Ok([ready, queue.unfinished_tasks().saturating_sub(ready), 0, 0])
        }
        Opened::Records { records, .. } => {
            let e = |r: persist_queue::Result<u64>| r.map_err(|e| e.to_string());
            Ok([
                e(records.ready_count())?,
                e(records.unack_count())?,
                e(records.acked_count())?,
                e(records.ack_failed_count())?,
            ])
        }
    }
}

fn counts_json(c: [u64; 4]) -> Value {
    json!({"ready": c[0], "unacked": c[1], "acked": c[2], "failed": c[3]})
}

/// `pq ls`: the queues a location holds, with their counts.
pub(crate) fn ls(location: &str, as_json: bool) -> Result<(), String> {
    let place = Place::parse(location);
    if !matches!(place, Place::Server(_)) && !Path::new(location).exists() {
        return Err(format!("{location}: no such file or directory"));
    }
    let mut rows = Vec::new();
    for listed in place.queues()? {
        let opened = Opened::open_listed(&place, &listed, None, Durability::Buffered, false)?;
        rows.push((listed, counts(&opened)?));
    }
    if as_json {
        let all: Vec<Value> = rows
            .iter()
            .map(|(l, c)| json!({"kind": l.kind.label(), "name": l.name, "counts": counts_json(*c)}))
            .collect();
        println!("{}", Value::Array(all));
    } else {
        println!("kind\tname\tready\tunacked\tacked\tfailed");
        for (l, c) in rows {
            println!("{}\t{}\t{}\t{}\t{}\t{}", l.kind.label(), l.name, c[0], c[1], c[2], c[3]);
        }
    }
    Ok(())
}

/// Bytes under `path` (a file, or a directory's files, recursively).
fn size_on_disk(path: &Path) -> u64 {
    let Ok(meta) = std::fs::metadata(path) else { return 0 };
    if meta.is_file() {
        return meta.len();
    }
    std::fs::read_dir(path)
        .map(|entries| entries.filter_map(Result::ok).map(|e| size_on_disk(&e.path())).sum())
        .unwrap_or(0)
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// `pq stat`: kind, counts by status, ages, bytes on disk, format.
pub(crate) fn stat(at: &At, opened: &Opened, as_json: bool) -> Result<(), String> {
    let c = counts(opened)?;
    let mut out = fields([
        ("location", json!(at.location)),
        ("kind", json!(opened.kind().label())),
        ("codec", json!(opened.codec().name())),
        ("counts", counts_json(c)),
    ]);
    match opened {
        Opened::File { queue, dir, .. } => {
            out.insert("name".into(), json!("default"));
            out.insert("store".into(), json!("files"));
            out.insert("format".into(), json!(format!("chunk v{CHUNK_VERSION}, meta v{META_VERSION}")));
            out.insert("chunk_size".into(), json!(queue.chunk_size()));
            out.insert("bytes_on_disk".into(), json!(size_on_disk(dir)));
            out.insert("oldest_age_ms".into(), Value::Null);
            out.insert("newest_age_ms".into(), Value::Null);
        }
        Opened::Records { records, place, name, kind, durability, .. } => {
            out.insert("name".into(), json!(name));
            let (store, bytes) = match place {
                Place::Dir(d) => {
                    let store = persist_queue::persist_queue_core::records::store_name(kind.prefix(), name);
                    ("plain-files record log", Some(size_on_disk(&d.join(store))))
                }
                Place::Sqlite(f) => {
                    let wal = f.with_extension(format!(
                        "{}-wal",
                        f.extension().and_then(|e| e.to_str()).unwrap_or_default()
                    ));
                    ("sqlite", Some(size_on_disk(f) + size_on_disk(&wal)))
                }
                Place::Server(url) if url.starts_with("mysql") || url.starts_with("mariadb") => {
                    ("mysql", None)
                }
                Place::Server(_) => ("postgresql", None),
            };
            out.insert("store".into(), json!(store));
            out.insert("durability".into(), json!(durability.name()));
            out.insert("bytes_on_disk".into(), opt(bytes));
            let live: Vec<u64> = records
                .queue()
                .map_err(|e| e.to_string())?
                .into_iter()
                .filter(|e| e.status.is_live())
                .map(|e| e.timestamp)
                .collect();
            let now = now_ms();
            let age = |t: Option<&u64>| opt(t.map(|t| now.saturating_sub(*t)));
            out.insert("oldest_age_ms".into(), age(live.iter().min()));
            out.insert("newest_age_ms".into(), age(live.iter().max()));
        }
    }
    let out = Value::Object(out);
    if as_json {
        println!("{out}");
    } else if let Value::Object(map) = &out {
        for (k, v) in map {
            println!("{k}: {v}");
        }
    }
    Ok(())
}
