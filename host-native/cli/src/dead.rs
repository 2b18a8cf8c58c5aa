//! `pq dead`: a record queue's dead letters (items failed for good by a
//! consumer, or out of attempts): list them, put them back, delete them.

use persist_queue::Status;
use serde_json::json;

use crate::bench::err;
use crate::inspect::{StatusArg, listing, print_listing};
use crate::opened::Opened;

fn records(opened: &Opened) -> Result<&persist_queue::Records<Vec<u8>, persist_queue::Raw>, String> {
    match opened {
        Opened::Records { records, .. } => Ok(records),
        Opened::File { .. } => Err("the file Queue has no dead letters (it has no ack states)".into()),
    }
}

/// `pq dead list`.
pub(crate) fn list(opened: &Opened, as_json: bool) -> Result<bool, String> {
    records(opened)?;
    let items = listing(opened, Some(StatusArg::Failed), 0)?;
    print_listing(opened, &items, as_json);
    Ok(!items.is_empty())
}

/// `pq dead requeue [IDS]` (none: every dead letter).
pub(crate) fn requeue(opened: &Opened, ids: &[u64], as_json: bool) -> Result<(), String> {
    let r = records(opened)?;
    let n = if ids.is_empty() { r.requeue_all_dead() } else { r.requeue_dead(ids) }.map_err(err)?;
    if as_json {
        println!("{}", json!({"requeued": n}));
    } else {
        println!("requeued {n} dead letters: ready again, their attempts counted from 0");
    }
    if !ids.is_empty() && n < ids.len() as u64 {
        return Err(format!("{} of the ids given were not dead letters", ids.len() as u64 - n));
    }
    Ok(())
}

/// `pq dead purge --yes`.
pub(crate) fn purge(opened: &Opened, as_json: bool) -> Result<(), String> {
    let n = records(opened)?.purge_status(Status::AckFailed).map_err(err)?;
    if as_json {
        println!("{}", json!({"purged": n}));
    } else {
        println!("deleted {n} dead letters");
    }
    Ok(())
}
