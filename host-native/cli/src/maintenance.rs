//! Keeping a queue small: `compact`, `clear-acked`, `purge`.

use persist_queue::Error;
use serde_json::json;

use crate::opened::Opened;

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// `pq compact`: gives unused space back to the filesystem while the
/// queue stays usable by others (VACUUM, log compaction).
pub(crate) fn compact(opened: &Opened, as_json: bool) -> Result<(), String> {
    let done = match opened {
        Opened::Records { records, .. } => {
            records.shrink_disk_usage().map_err(err)?;
            "compacted"
        }
        Opened::File { .. } => "nothing to compact: a file Queue deletes each chunk once it is read",
    };
    if as_json {
        println!("{}", json!({"done": done}));
    } else {
        println!("{done}");
    }
    Ok(())
}

/// `pq clear-acked`: deletes acked items (and failed ones with
/// `failed`), newest first, keeping the `keep_latest` newest.
pub(crate) fn clear_acked(
    opened: &Opened,
    keep_latest: u64,
    failed: bool,
    as_json: bool,
) -> Result<(), String> {
    let Opened::Records { records, .. } = opened else {
        return Err("the file Queue keeps no acked items".into());
    };
    let n = records.clear_acked_data(0, keep_latest, failed).map_err(err)?;
    if as_json {
        println!("{}", json!({"deleted": n}));
    } else {
        println!("deleted {n} items");
    }
    Ok(())
}

/// `pq purge --yes`: deletes every item, in flight and done included.
pub(crate) fn purge(opened: &Opened, as_json: bool) -> Result<(), String> {
    let mut n = 0u64;
    match opened {
        Opened::File { queue, .. } => loop {
            match queue.try_get() {
                Ok(_) => {
                    queue.task_done().map_err(err)?;
                    n += 1;
                }
                Err(Error::Empty) => break,
                Err(e) => return Err(err(e)),
            }
        },
        Opened::Records { records, .. } => {
            records.resume_unack_tasks().map_err(err)?;
            let progress = crate::progress::bar(records.len().map_err(err)?, "purging");
            loop {
                let batch = records.get_many(1000).map_err(err)?;
                if batch.is_empty() {
                    break;
                }
                let ids: Vec<u64> = batch.iter().map(|d| d.id).collect();
                if records.kind().keep_done {
                    records.ack_many(&ids).map_err(err)?;
                }
                n += ids.len() as u64;
                progress.inc(ids.len() as u64);
            }
            progress.finish_and_clear();
            records.clear_acked_data(0, 0, true).map_err(err)?;
            // Items not yet due are not taken by a get.
            n += records.purge_status(persist_queue::Status::Delayed).map_err(err)?;
        }
    }
    if as_json {
        println!("{}", json!({"deleted_live": n}));
    } else {
        println!("purged: {n} waiting or in-flight items deleted, done items cleared");
    }
    Ok(())
}
