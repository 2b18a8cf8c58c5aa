//! Reading what a store answered: each operation's [`Outcome`] checked
//! against the plan's contract (a store answering something else is a
//! [`RecordError::Protocol`] error, never a guess).

use alloc::vec::Vec;

use crate::records::plan::{Counts, Outcome};
use crate::records::record::{Record, Status};
use crate::records::record_error::RecordError;

/// Per id of a batch: settled, or why not.
pub type Settled<E> = Vec<Result<(), RecordError<E>>>;

/// The ids an insert assigned (`None`: a duplicate, skipped).
pub fn read_inserted<E>(o: Outcome, n: usize) -> Result<Vec<Option<u64>>, RecordError<E>> {
    match o {
        Outcome::Inserted(ids) if ids.len() == n => Ok(ids),
        _ => Err(RecordError::Protocol("insert must answer one slot per record")),
    }
}

/// Records read or claimed.
pub fn read_records<E>(o: Outcome) -> Result<Vec<Record>, RecordError<E>> {
    match o {
        Outcome::Records(r) => Ok(r),
        _ => Err(RecordError::Protocol("expected records")),
    }
}

/// Per id, whether settling it succeeded.
pub fn read_settled<E>(ids: &[u64], o: Outcome) -> Result<Settled<E>, RecordError<E>> {
    read_settled_from(ids, o, Status::Unacked)
}

/// Per id, whether its status was `from` (the transition applied to it):
/// [`read_settled`] for items the store holds as `from`.
pub fn read_settled_from<E>(ids: &[u64], o: Outcome, from: Status) -> Result<Settled<E>, RecordError<E>> {
    let Outcome::Before(before) = o else {
        return Err(RecordError::Protocol("transition must answer Before"));
    };
    if before.len() != ids.len() {
        return Err(RecordError::Protocol("transition must answer one slot per id"));
    }
    Ok(ids
        .iter()
        .zip(before)
        .map(|(&id, b)| match b {
            None => Err(RecordError::UnknownId(id)),
            Some(s) if s == from => Ok(()),
            Some(status) => Err(RecordError::NotInFlight { id, status }),
        })
        .collect())
}

/// Per delivery `(id, token)`, whether settling it under its lease
/// succeeded: the record was in flight under that token.
pub fn read_leases<E>(leases: &[(u64, u32)], o: Outcome) -> Result<Settled<E>, RecordError<E>> {
    let Outcome::Leases(before) = o else {
        return Err(RecordError::Protocol("settle must answer Leases"));
    };
    if before.len() != leases.len() {
        return Err(RecordError::Protocol("settle must answer one slot per delivery"));
    }
    Ok(leases
        .iter()
        .zip(before)
        .map(|(&(id, token), b)| match b {
            None => Err(RecordError::UnknownId(id)),
            Some((Status::Unacked, d)) if d == token => Ok(()),
            Some((Status::Acked | Status::AckFailed, d)) if d == token => {
                Err(RecordError::NotInFlight { id, status: b.map_or(Status::Acked, |(s, _)| s) })
            }
            Some(_) => Err(RecordError::LeaseLost { id, token }),
        })
        .collect())
}

/// Records counted per status.
pub fn read_counts<E>(o: Outcome) -> Result<Counts, RecordError<E>> {
    match o {
        Outcome::Counts(c) => Ok(c),
        _ => Err(RecordError::Protocol("expected counts")),
    }
}

/// A number of records changed or deleted.
pub fn read_count<E>(o: Outcome) -> Result<u64, RecordError<E>> {
    match o {
        Outcome::Count(n) => Ok(n),
        _ => Err(RecordError::Protocol("expected a count")),
    }
}
