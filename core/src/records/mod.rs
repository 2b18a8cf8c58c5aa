//! Record-store queues: one row per item, with a status. The model, the
//! contract every record store implements ([`Plan`] → [`Table`] →
//! [`Outcome`]), and the rules of the queue kinds.

pub(crate) mod backoff;
pub(crate) mod driver;
#[cfg(feature = "testing")]
pub(crate) mod full_table;
pub(crate) mod id_ranges;
pub(crate) mod index;
pub(crate) mod kind;
pub(crate) mod log;
pub(crate) mod map;
pub(crate) mod memory_table;
pub(crate) mod name;
pub(crate) mod order;
pub(crate) mod outcome;
pub(crate) mod plan;
pub(crate) mod record;
pub(crate) mod record_error;
pub mod server;
pub mod sql;
pub(crate) mod unique;

/// Steps of the unit tests' random model checks (fewer under Miri, which
/// interprets them).
#[cfg(test)]
pub(crate) const MODEL_STEPS: usize = if cfg!(miri) { 400 } else { 20_000 };

/// The unit tests' random numbers (xorshift64): the next one from `state`.
#[cfg(test)]
pub(crate) fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

pub use backoff::Backoff;
pub use driver::{RecordQueue, Stats, complete};
#[cfg(feature = "testing")]
pub use full_table::{FullError, FullTable};
pub use kind::{Kind, Put, Verdict};
pub use log::{LogConfig, LogError, LogTable};
pub use map::{MapOutcome, MapPlan, MapTable, MemoryMap};
pub use memory_table::MemoryTable;
pub use name::{NAME_MAX, STORE_NAME_MAX, fit_identifier, store_name, valid_name, valid_store_name};
pub use order::{Order, OrderKey};
pub use outcome::{
    Settled, read_count, read_counts, read_inserted, read_leases, read_records, read_settled,
    read_settled_from,
};
pub use plan::{
    Claimed, Counts, Lease, Outcome, Plan, Table, Target, inserted_ids, purge_selection, settle_steps,
    settled_status, transition_steps,
};
pub use record::{NewRecord, Record, Status, StatusSet};
pub use record_error::RecordError;
pub use unique::unique_key;
