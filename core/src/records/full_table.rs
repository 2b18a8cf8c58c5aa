//! `FullTable`: a record store at its quota, for tests. It runs the plans
//! that only delete or only read, and refuses every other (as IndexedDB in
//! Chromium does over its quota), so the drain rules
//! ([`crate::records::RecordQueue::claim_held`], deleting acks) are
//! tested on every table. Semver-exempt (feature `testing`).

use core::fmt;

use crate::records::plan::{Outcome, Plan, Table};

/// Errors of [`FullTable`].
#[derive(Debug, PartialEq, Eq)]
pub enum FullError<E> {
    /// The store is at its quota: the plan would write.
    Full,
    /// The table underneath failed.
    Table(E),
}

impl<E: fmt::Display> fmt::Display for FullError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FullError::Full => f.write_str("the store is at its quota"),
            FullError::Table(e) => e.fmt(f),
        }
    }
}

/// A table that, while [`FullTable::full`] is set, runs only the plans
/// that delete or read.
#[derive(Debug)]
pub struct FullTable<T> {
    /// The table underneath.
    pub inner: T,
    /// At its quota now.
    pub full: bool,
}

impl<T> FullTable<T> {
    /// `inner`, not full.
    pub fn new(inner: T) -> Self {
        FullTable { inner, full: false }
    }
}

impl<T: Table> Table for FullTable<T> {
    type Error = FullError<T::Error>;

    async fn execute(&mut self, plan: &Plan) -> Result<Outcome, Self::Error> {
        if self.full && !plan.only_deletes() {
            return Err(FullError::Full);
        }
        self.inner.execute(plan).await.map_err(FullError::Table)
    }

    fn only_deletes(error: &Self::Error) -> bool {
        matches!(error, FullError::Full)
    }
}
