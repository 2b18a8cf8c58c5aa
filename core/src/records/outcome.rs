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
