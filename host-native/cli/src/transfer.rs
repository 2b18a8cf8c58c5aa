//! Moving items: `put` (arguments or NDJSON on stdin), `get`, `ack`,
//! `nack`, and `copy` between any two backends.

use std::io::BufRead;
use std::time::Duration;

use persist_queue::{Durability, Error, Status};
use serde_json::{Value, json};

use crate::address::{At, KindArg, Place};
use crate::inspect::{Listing, counts, listing};
use crate::item::{CodecArg, fields, parse, plain, shown};
use crate::opened::Opened;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The values to put: the arguments, or (none given, or `-`) one per line
/// of standard input (NDJSON; blank lines skipped). A line that starts
/// like JSON and does not parse is an error naming it; nothing is put.
pub(crate) fn values(items: &[String], as_text: bool) -> Result<Vec<Value>, String> {
    if !(items.is_empty() || items == ["-"]) {
        return items.iter().map(|t| parse(t, as_text)).collect();
    }
    let mut out = Vec::new();
    for (n, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line.map_err(err)?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(parse(&line, as_text).map_err(|e| format!("stdin line {}: {e}", n + 1))?);
    }
    Ok(out)
}

/// `pq put`: puts the values in one transaction; prints how many items are
/// ready now (`--json`: ids, duplicates, ready).
pub(crate) fn put(opened: &Opened, values: Vec<Value>, priority: i64, as_json: bool) -> Result<(), String> {
    if values.is_empty() {
        return Err("nothing to put".into());
    }
    let n = values.len();
    let ids = opened.put(&values.into_iter().map(|v| (v, priority)).collect::<Vec<_>>(), None)?;
    let ready = counts(opened)?[0];
    if as_json {
        let dups = if matches!(opened, Opened::File { .. }) {
            0
        } else {
            ids.iter().filter(|i| i.is_none()).count()
        };
        let ids: Vec<Value> = ids.iter().map(|i| i.map_or(Value::Null, |id| json!(id))).collect();
        println!("{}", json!({"put": n - dups, "duplicates": dups, "ids": ids, "ready": ready}));
    } else {
        println!("{ready}");
    }
    Ok(())
}

/// `pq get`: takes up to `n` items (waiting up to `wait` for the first).
/// The file `Queue` confirms them (`task_done`); an ack queue leaves them
/// in flight for `pq ack` / `pq nack`; the other record queues delete
/// them as they are taken. Whether any item was taken.
pub(crate) fn get(opened: &Opened, n: u32, wait: f64, as_json: bool) -> Result<bool, String> {
    let timeout = (wait > 0.0).then(|| Duration::from_secs_f64(wait));
    let mut got: Vec<Value> = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    let codec = opened.codec();
    match opened {
        Opened::File { queue, .. } => {
            for i in 0..n {
                let item = match (i, timeout) {
                    (0, Some(t)) => queue.get_timeout(t),
                    _ => queue.try_get(),
                };
                match item {
                    Ok(bytes) => {
                        got.push(shown(codec, &bytes, fields([])));
                        lines.push(plain(codec, &bytes));
                    }
                    Err(Error::Empty) => break,
                    Err(e) => return Err(err(e)),
                }
            }
            for _ in 0..got.len() {
                queue.task_done().map_err(err)?;
            }
        }
        Opened::Records { records, .. } => {
            let mut deliveries = Vec::new();
            if let Some(t) = timeout {
                match records.get_timeout(t) {
                    Ok(d) => deliveries.push(d),
                    Err(Error::Empty) => {}
                    Err(e) => return Err(err(e)),
                }
            }
            let rest = n.saturating_sub(deliveries.len() as u32);
            if rest > 0 && (timeout.is_none() || !deliveries.is_empty()) {
                deliveries.extend(records.get_many(rest).map_err(err)?);
            }
            for d in deliveries {
                let f = fields([
                    ("id", json!(d.id)),
                    ("priority", json!(d.priority)),
                    ("timestamp", json!(d.timestamp)),
                    ("deliveries", json!(d.deliveries)),
                ]);
                got.push(shown(codec, &d.item, f));
                lines.push(format!("{}\t{}", d.id, plain(codec, &d.item)));
            }
        }
    }
    if as_json {
        println!("{}", Value::Array(got.clone()));
    } else {
        for l in &lines {
            println!("{l}");
        }
    }
    Ok(!got.is_empty())
}

/// How `pq ack` / `pq nack` settle an item.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Settle {
    Ack,
    Fail,
    Nack,
}

/// `pq ack` / `pq nack`: settles in-flight items of an ack queue by id;
/// every id is tried, and any that was not in flight fails the command.
pub(crate) fn settle(opened: &Opened, ids: &[u64], how: Settle, as_json: bool) -> Result<(), String> {
    let Opened::Records { records, .. } = opened else {
        return Err("the file Queue settles on get (task_done): it has no ids to ack".into());
    };
    if !opened.kind().acks() {
        return Err(format!(
            "a {} queue removes an item as `pq get` takes it; ack and nack are for ack queues",
            opened.kind().label()
        ));
    }
    let mut failed = Vec::new();
    let mut results = Vec::new();
    for &id in ids {
        let r = match how {
            Settle::Ack => records.ack(id),
            Settle::Fail => records.ack_failed(id),
            Settle::Nack => records.nack(id),
        };
        results.push(json!({"id": id, "ok": r.is_ok(), "error": r.as_ref().err().map(|e| e.to_string())}));
        if let Err(e) = r {
            failed.push(format!("{id}: {e}"));
        }
    }
    if as_json {
        println!("{}", Value::Array(results));
    }
    if failed.is_empty() { Ok(()) } else { Err(failed.join("; ")) }
}

/// `pq copy`: every item of `src` into `dst` (created, and empty unless
/// `append`), in id order, with its priority and ack state: an item in
/// flight, acked or failed in an ack queue is so in an ack queue `dst`;
/// other kinds get live items only (in-flight ones as ready). The source
/// is not changed.
pub(crate) fn copy(
    src: &At,
    dst: &At,
    codec: Option<CodecArg>,
    append: bool,
    as_json: bool,
) -> Result<(), String> {
    let from = Opened::open(src, codec, Durability::Buffered, false)?;
    let items = listing(&from, None, 0)?;
    let dst = At {
        location: dst.location.clone(),
        name: dst.name.clone().or_else(|| src_name(&from)),
        kind: dst.kind.or(Some(match from.kind() {
            // A file Queue's items go to a FIFO record queue where no directory is.
            KindArg::File if Place::parse(&dst.location).dir().is_none() => KindArg::Fifo,
            k => k,
        })),
    };
    let to = Opened::open(&dst, Some(from.codec()), Durability::Synced, true)?;
    if !append && counts(&to)?.iter().any(|&c| c > 0) {
        return Err(format!("{} already holds items (use --append to add to them)", dst.location));
    }
    let keeps_states = to.kind().acks() && from.kind().acks();
    let chosen: Vec<&Listing> = items.iter().filter(|l| keeps_states || l.status.is_live()).collect();
    let skipped = items.len() - chosen.len();
    let values = chosen
        .iter()
        .map(|l| {
            from.codec().decode(&l.bytes).map(|v| (v, l.priority)).ok_or_else(|| {
                format!(
                    "item {} does not decode as {}: pq copies items it can read (give --codec)",
                    l.id,
                    from.codec().name()
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let rows: Vec<Row> = values.into_iter().zip(&chosen).map(|((v, p), l)| (v, p, l.status)).collect();
    let written = write_rows(&to, &rows, keeps_states)?;
    let (copied, states) = (written.stored, written.states);
    if as_json {
        println!(
            "{}",
            json!({
                "copied": copied,
                "skipped": skipped,
                "duplicates": rows.len() - copied,
                "unacked": states[0], "acked": states[1], "failed": states[2],
                "to": {"location": dst.location, "kind": to.kind().label(), "name": dst.name},
            })
        );
    } else {
        println!(
            "copied {copied} items to {} ({} {}); {skipped} done items not copied",
            dst.location,
            to.kind().label(),
            dst.name.as_deref().unwrap_or("default")
        );
    }
    Ok(())
}

/// An item to write: its value, priority and status.
pub(crate) type Row = (Value, i64, Status);

/// What [`write_rows`] stored.
pub(crate) struct Written {
    /// Items stored (a unique queue skips duplicates).
    pub(crate) stored: usize,
    /// Of them, left in flight, acked, failed.
    pub(crate) states: [u64; 3],
}

/// Writes `rows` into `to` in order (a transaction per 1,000: a failure
/// leaves a prefix of them, in order), then, with
/// `keep_states` (both ends ack queues), gives each its status: an
/// in-flight, acked or failed item is claimed by id and settled so.
pub(crate) fn write_rows(to: &Opened, rows: &[Row], keep_states: bool) -> Result<Written, String> {
    let values: Vec<(Value, i64)> = rows.iter().map(|(v, p, _)| (v.clone(), *p)).collect();
    // One transaction per thousand: a bar that moves, memory that stays flat.
    let ids = to.put(&values, Some(1000))?;
    let mut states = [0u64; 3];
    if let Opened::Records { records, .. } = to
        && keep_states
    {
        for ((_, _, status), id) in rows.iter().zip(&ids) {
            let Some(id) = *id else { continue };
            let slot = match status {
                // A delayed item arrives ready: the copy is due at once.
                Status::Ready | Status::Delayed => continue,
                Status::Unacked => 0,
                Status::Acked => 1,
                Status::AckFailed => 2,
            };
            records.get_id(id).map_err(err)?.ok_or_else(|| format!("item {id} was taken meanwhile"))?;
            match status {
                Status::Acked => records.ack(id).map_err(err)?,
                Status::AckFailed => records.ack_failed(id).map_err(err)?,
                _ => {}
            }
            states[slot] += 1;
        }
    }
    let stored = match to {
        Opened::File { .. } => rows.len(),
        Opened::Records { .. } => ids.iter().filter(|i| i.is_some()).count(),
    };
    Ok(Written { stored, states })
}

/// The source queue's name, for a destination not named.
fn src_name(opened: &Opened) -> Option<String> {
    match opened {
        Opened::Records { name, .. } => Some(name.clone()),
        Opened::File { .. } => None,
    }
}
