//! Puts and acks inside a transaction of the caller's own, on the caller's
//! own connection to the queue's database: the outbox pattern. The item
//! exists if and only if the caller's other writes commit; an ack commits
//! with the results it stands for.
//!
//! The transactions are the client crates' own types, re-exported so the
//! versions match: [`crate::rusqlite`], [`crate::postgres`],
//! [`crate::mysql`]. These clients are blocking, so the methods have no
//! async twins: from async code, run the transaction in
//! `spawn_blocking` as with any blocking client.

use persist_queue_core::records::{Outcome, Plan, Put, Verdict, read_inserted, read_leases};
use serde::Serialize;

use crate::codec::Codec;
use crate::error::{Error, Misconfiguration, Result};
use crate::records::delivery::{Delivery, PutOptions};
use crate::records::handle::Records;
use crate::records::shared::millis;
use crate::records::store::RecordStore;

/// A transaction of the caller's own: `&mut tx` of
/// [`rusqlite::Transaction`](crate::rusqlite::Transaction) (SQLite queues),
/// [`postgres::Transaction`](crate::postgres::Transaction) (PostgreSQL) or
/// [`mysql::Transaction`](crate::mysql::Transaction) (MySQL / MariaDB)
/// converts into one.
#[non_exhaustive]
pub enum CallerTransaction<'t, 'c> {
    /// On a connection to the queue's SQLite database file.
    #[cfg(feature = "sqlite")]
    Sqlite(&'t persist_queue_sqlite::rusqlite::Transaction<'c>),
    /// On a connection to the queue's PostgreSQL database.
    #[cfg(feature = "postgres")]
    Postgres(&'t mut persist_queue_postgres::postgres::Transaction<'c>),
    /// On a connection to the queue's MySQL / MariaDB database.
    #[cfg(feature = "mysql")]
    MySql(&'t mut persist_queue_mysql::mysql::Transaction<'c>),
}

impl CallerTransaction<'_, '_> {
    fn store(&self) -> &'static str {
        match *self {
            #[cfg(feature = "sqlite")]
            CallerTransaction::Sqlite(_) => "SQLite",
            #[cfg(feature = "postgres")]
            CallerTransaction::Postgres(_) => "PostgreSQL",
            #[cfg(feature = "mysql")]
            CallerTransaction::MySql(_) => "MySQL",
        }
    }
}

#[cfg(feature = "sqlite")]
impl<'t, 'c> From<&'t mut persist_queue_sqlite::rusqlite::Transaction<'c>> for CallerTransaction<'t, 'c> {
    fn from(tx: &'t mut persist_queue_sqlite::rusqlite::Transaction<'c>) -> Self {
        CallerTransaction::Sqlite(tx)
    }
}

#[cfg(feature = "sqlite")]
impl<'t, 'c> From<&'t persist_queue_sqlite::rusqlite::Transaction<'c>> for CallerTransaction<'t, 'c> {
    fn from(tx: &'t persist_queue_sqlite::rusqlite::Transaction<'c>) -> Self {
        CallerTransaction::Sqlite(tx)
    }
}

#[cfg(feature = "postgres")]
impl<'t, 'c> From<&'t mut persist_queue_postgres::postgres::Transaction<'c>> for CallerTransaction<'t, 'c> {
    fn from(tx: &'t mut persist_queue_postgres::postgres::Transaction<'c>) -> Self {
        CallerTransaction::Postgres(tx)
    }
}

#[cfg(feature = "mysql")]
impl<'t, 'c> From<&'t mut persist_queue_mysql::mysql::Transaction<'c>> for CallerTransaction<'t, 'c> {
    fn from(tx: &'t mut persist_queue_mysql::mysql::Transaction<'c>) -> Self {
        CallerTransaction::MySql(tx)
    }
}

/// The queue's table as the caller's connection names it.
enum TableRef {
    #[cfg(feature = "sqlite")]
    Sqlite(persist_queue_sqlite::SqliteTableRef),
    #[cfg(feature = "postgres")]
    Postgres(persist_queue_postgres::PgTableRef),
    #[cfg(feature = "mysql")]
    MySql(persist_queue_mysql::MySqlTableRef),
}

impl<T, C: Codec<T>> Records<T, C> {
    /// Puts `item` in the caller's transaction `tx` (a connection of the
    /// caller's own to the queue's database): it exists, and can be
    /// delivered, only once `tx` commits, and never if it rolls back. One
    /// statement in `tx` (PostgreSQL: one round trip; MySQL: one once the
    /// connection's statement cache holds it). Waiting consumers learn of
    /// it at the commit on PostgreSQL (the table's `NOTIFY` is
    /// transactional), at their next poll on MySQL (≤ 50 ms) and SQLite
    /// (≤ 20 ms). A unique queue's duplicate is [`Error::Duplicate`], and
    /// leaves `tx` usable. The queue's own handle is not locked meanwhile.
    pub fn put_in<'t, 'c: 't>(&self, tx: impl Into<CallerTransaction<'t, 'c>>, item: &T) -> Result<u64>
    where
        T: Serialize,
    {
        self.put_in_with(tx, item, PutOptions::default())
    }

    /// [`Self::put_in`] with a delay and a priority.
    pub fn put_in_with<'t, 'c: 't>(
        &self,
        tx: impl Into<CallerTransaction<'t, 'c>>,
        item: &T,
        options: PutOptions,
    ) -> Result<u64>
    where
        T: Serialize,
    {
        let encoded = self.encode_puts(&[(item, options.priority)], millis(options.delay))?;
        self.insert_in(tx.into(), &encoded)?.pop().flatten().ok_or(Error::Duplicate)
    }

    /// Puts many items in the caller's transaction `tx` (see
    /// [`Self::put_in`]); per item its id, `None` for a unique queue's
    /// duplicate.
    pub fn put_many_in<'t, 'c: 't>(
        &self,
        tx: impl Into<CallerTransaction<'t, 'c>>,
        items: &[T],
    ) -> Result<Vec<Option<u64>>>
    where
        T: Serialize,
    {
        let pairs: Vec<(&T, i64)> = items.iter().map(|i| (i, 0)).collect();
        let encoded = self.encode_puts(&pairs, 0)?;
        self.insert_in(tx.into(), &encoded)
    }

    /// Acks `delivery` in the caller's transaction `tx`, so that the
    /// results it stands for and the ack commit together: if `tx` rolls
    /// back, the item stays in flight and is delivered again when its lease
    /// ends. Fenced by the delivery's lease ([`Error::LeaseLost`] if it
    /// ended and the item was taken back: roll `tx` back then).
    pub fn ack_in<'t, 'c: 't>(
        &self,
        tx: impl Into<CallerTransaction<'t, 'c>>,
        delivery: &Delivery<T>,
    ) -> Result<()> {
        let lease = [(delivery.id, delivery.deliveries)];
        let plan = self.kind().settle_lease_plan(lease.to_vec(), Verdict::Ack, self.shared.clock.now(), 0);
        let outcome = self.execute_in(tx.into(), &plan)?;
        read_leases::<Error>(&lease, outcome)?
            .pop()
            .unwrap_or(Err(persist_queue_core::records::RecordError::Protocol("empty settle")))?;
        Ok(())
    }

    fn insert_in(
        &self,
        tx: CallerTransaction<'_, '_>,
        encoded: &[crate::records::shared::OwnedPut],
    ) -> Result<Vec<Option<u64>>> {
        let puts: Vec<Put<'_>> = encoded.iter().map(crate::records::shared::OwnedPut::as_put).collect();
        let plan = self.kind().put_plan(&puts, self.shared.clock.now());
        Ok(read_inserted::<Error>(self.execute_in(tx, &plan)?, puts.len())?)
    }

    /// Runs `plan` in `tx`: the queue's table is looked up under the
    /// queue's lock, which is released before `tx` runs anything (a
    /// statement of `tx` may wait for another transaction, which may wait
    /// for this queue).
    fn execute_in(&self, tx: CallerTransaction<'_, '_>, plan: &Plan) -> Result<Outcome> {
        let table = match self.lock().table() {
            #[cfg(feature = "sqlite")]
            RecordStore::Sqlite(t) => Some(TableRef::Sqlite(t.table_ref())),
            #[cfg(feature = "postgres")]
            RecordStore::Postgres(t) => Some(TableRef::Postgres(t.table_ref())),
            #[cfg(feature = "mysql")]
            RecordStore::MySql(t) => Some(TableRef::MySql(t.table_ref())),
            _ => None,
        };
        let mismatch =
            |tx: &CallerTransaction<'_, '_>| Misconfiguration::Transaction { transaction: tx.store() };
        match (tx, table) {
            #[cfg(feature = "sqlite")]
            (CallerTransaction::Sqlite(tx), Some(TableRef::Sqlite(t))) => {
                Ok(persist_queue_sqlite::execute_in(tx, &t, plan)?)
            }
            #[cfg(feature = "postgres")]
            (CallerTransaction::Postgres(tx), Some(TableRef::Postgres(t))) => {
                Ok(persist_queue_postgres::execute_in(tx, &t, plan)?)
            }
            #[cfg(feature = "mysql")]
            (CallerTransaction::MySql(tx), Some(TableRef::MySql(t))) => {
                Ok(persist_queue_mysql::execute_in(tx, &t, plan)?)
            }
            #[allow(unreachable_patterns)]
            (tx, _) => Err(mismatch(&tx).into()),
        }
    }
}
