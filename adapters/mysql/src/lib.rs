//! # persist-queue-mysql
//!
//! The MySQL 8 / MariaDB (≥ 10.6) record store of persist-queue: every
//! queue kind (FIFO, FILO, priority, unique, ack) and `PDict` on a server
//! that producers and consumers on many machines share.
//!
//! What it is:
//! - one InnoDB table per queue (`id BIGINT UNSIGNED AUTO_INCREMENT`,
//!   `payload LONGBLOB`: items up to the server's `max_allowed_packet`,
//!   `priority`, `status`, `timestamp`, `deliveries`, `unique_key`), indexed
//!   for the queue's order, created on first open and versioned in
//!   `pq_schema`;
//! - claims as `SELECT … FOR UPDATE SKIP LOCKED` then `UPDATE`/`DELETE` by
//!   primary key in one transaction (MariaDB's one-statement `DELETE … WHERE
//!   id = (subquery)` scans the whole table, so it is not used): consumers
//!   never receive the same item;
//! - batched puts as one multi-row `INSERT … RETURNING` on MariaDB (one row
//!   per statement on MySQL, which has no `RETURNING`);
//! - durability: InnoDB's flush setting is server-wide, so a session cannot
//!   choose it. Opening at [`Durability::Synced`] checks that the server
//!   flushes every commit (`innodb_flush_log_at_trx_commit = 1`) and refuses
//!   otherwise ([`MySqlError::NotDurable`]);
//! - one round trip per put and per ack (autocommit statements), two per
//!   claim;
//! - faults handled by rule: a plan that failed before its commit was sent,
//!   or that the server answered it rolled back (connection lost, server
//!   restarting, deadlock, lock wait timeout), is retried on a new
//!   connection; a connection lost while a commit may have happened is
//!   [`MySqlError::CommitUnknown`], never retried;
//! - TLS with rustls ([`Connect`]: `ssl-mode` `DISABLED`, `REQUIRED`,
//!   `VERIFY_CA`, `VERIFY_IDENTITY` or the `sslmode` spellings; `PREFERRED`
//!   is refused, a silent fall-back to plain text; `ssl-ca`, `ssl-cert`,
//!   `ssl-key`). The default is plain text on a loopback host and
//!   `REQUIRED` on any other; a failed handshake is
//!   [`MySqlError::TlsHandshake`], a plain login the server refused
//!   [`MySqlError::RefusedPlain`];
//! - settings: pool size (default 10), connect and statement timeouts
//!   (MariaDB `max_statement_time`, MySQL `max_execution_time`), the retry
//!   window (default 30 s), the application name (the connection attribute
//!   `program_name`); statements carry `/* persist-queue */` after the table
//!   name, so a DBA finds them in the processlist;
//! - puts and acks inside a transaction of the caller's own
//!   ([`execute_in`] on a [`MySqlTableRef`]): the outbox pattern;
//! - MySQL 8 (no `RETURNING`): one row per statement, a path the
//!   conformance suite also runs forced on MariaDB
//!   ([`Connect::without_returning`]); no MySQL 8 server installs on the
//!   machines CI runs on, so it is not run against one.
//!
//! What it is not: a notifier. MySQL has no `LISTEN`; a waiting `get` polls
//! with a bounded back-off (2 ms doubling to 50 ms), so it sees a put from
//! another machine within about 50 ms.
//!
//! [`Durability::Synced`]: persist_queue_core::Durability::Synced
//!
//! ```no_run
//! use persist_queue_core::Durability;
//! use persist_queue_core::records::{Kind, Lease, Put, RecordQueue, Verdict, complete};
//! use persist_queue_mysql::{Connect, MySqlTable};
//!
//! let connect = Connect::url("mysql://root@127.0.0.1:3306/pq_test")?;
//! let table = MySqlTable::open(&connect, "ack_queue_jobs", Durability::Synced, Kind::ACK.order)?;
//! // A claim leases its item for 30 s (the host's clock; servers use their own).
//! let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
//! let lease = Lease { now, ms: 30_000 };
//! let mut q = complete(RecordQueue::open(table, Kind::ACK, false, lease)).expect("open");
//! complete(q.put(Put::new(b"job"), lease.now)).expect("put");
//! let job = complete(q.get(false, lease)).expect("get").expect("an item");
//! complete(q.settle_leased(&[(job.id, job.deliveries)], Verdict::Ack, lease.now, 0)).expect("ack");
//! # Ok::<(), persist_queue_mysql::MySqlError>(())
//! ```

mod adopt;
mod catalog;
mod connect;
mod error;
mod in_transaction;
mod map;
mod session;
mod table;

pub use crate::adopt::adopt_table;
pub use crate::catalog::table_names;
pub use crate::connect::Connect;
pub use crate::error::MySqlError;
pub use crate::in_transaction::{MySqlTableRef, execute_in};
pub use crate::map::MySqlMap;
pub use crate::table::{MySqlTable, SCHEMA_VERSION};
/// The client crate whose [`mysql::Transaction`] [`execute_in`] takes.
pub use mysql;
