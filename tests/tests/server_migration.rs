//! Online migration: a table of schema version 1 (before leases) is in use
//! by processes of that version — producers inserting, consumers claiming
//! and acking with version 1's statements — when a process of this version
//! opens it and migrates it (under the server's schema lock, in one
//! transaction) and starts consuming beside them. The old processes keep
//! running; no item is lost, none is delivered twice (an item an old
//! consumer claimed holds no lease, so this version never takes it back
//! while that consumer works). A process older than the table's schema is
//! refused with `SchemaTooNew` (on SQLite too). On PostgreSQL and MariaDB.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use persist_queue::{AckQueue, Error, mysql, postgres};
use persist_queue_tests::{fresh_table_name, servers};

const PER_PRODUCER: usize = 600;
const PRODUCERS: usize = 2;

/// The item as this version's postcard codec reads a `String`.
fn postcard(s: &str) -> Vec<u8> {
    assert!(s.len() < 128, "one-byte length");
    let mut v = vec![s.len() as u8];
    v.extend_from_slice(s.as_bytes());
    v
}

/// Version 1's statements, as its processes send them.
trait OldProcess: Send {
    fn put(&mut self, item: &str);
    /// Claims the first ready item and acks it; its text.
    fn take(&mut self) -> Option<String>;
}

type Seen = Arc<Mutex<HashMap<String, usize>>>;

fn see(seen: &Seen, item: String) {
    *seen.lock().expect("seen").entry(item).or_default() += 1;
}

/// Old producers and consumers run; midway this version opens (migrates)
/// and consumes too; at the end every item was taken exactly once.
fn upgrade_under_load(url: &str, table: &str, name: &str, old: impl Fn() -> Box<dyn OldProcess>) {
    let seen: Seen = Arc::default();
    let produced = Arc::new(AtomicBool::new(false));
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let mut proc = old();
            std::thread::spawn(move || {
                for i in 0..PER_PRODUCER {
                    proc.put(&format!("p{p}-{i}"));
                }
            })
        })
        .collect();
    let old_consumers: Vec<_> = (0..2)
        .map(|_| {
            let (mut proc, seen, produced) = (old(), Arc::clone(&seen), Arc::clone(&produced));
            std::thread::spawn(move || {
                loop {
                    match proc.take() {
                        Some(item) => see(&seen, item),
                        None if produced.load(Ordering::SeqCst) => return,
                        None => std::thread::sleep(Duration::from_millis(2)),
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    // This version opens the table in use: it migrates it.
    let q = AckQueue::server(url).name(name).open::<String>().expect("open and migrate under load");
    let new_consumers: Vec<_> = (0..2)
        .map(|_| {
            let (q, seen, produced) = (q.clone(), Arc::clone(&seen), Arc::clone(&produced));
            std::thread::spawn(move || {
                loop {
                    match q.try_get() {
                        Ok(d) => {
                            q.ack(&d).expect("ack");
                            see(&seen, d.item);
                        }
                        Err(Error::Empty) if produced.load(Ordering::SeqCst) => return,
                        Err(Error::Empty) => std::thread::sleep(Duration::from_millis(2)),
                        Err(e) => panic!("a new consumer: {e}"),
                    }
                }
            })
        })
        .collect();
    for p in producers {
        p.join().expect("producer");
    }
    produced.store(true, Ordering::SeqCst);
    for c in old_consumers.into_iter().chain(new_consumers) {
        c.join().expect("consumer");
    }
    let seen = seen.lock().expect("seen");
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "{table}: delivered more than once: {twice:?}");
    for p in 0..PRODUCERS {
        for i in 0..PER_PRODUCER {
            assert!(seen.contains_key(&format!("p{p}-{i}")), "{table}: p{p}-{i} was lost");
        }
    }
    assert_eq!(q.unack_count().expect("count") + q.ready_count().expect("count"), 0);
}

// ---------- PostgreSQL ----------

struct OldPg(postgres::Client, String);

impl OldProcess for OldPg {
    fn put(&mut self, item: &str) {
        let sql =
            format!("INSERT INTO {} (payload, priority, status, timestamp) VALUES ($1, 0, 1, 0)", self.1);
        self.0.execute(&sql, &[&postcard(item)]).expect("v1 put");
    }
    fn take(&mut self) -> Option<String> {
        let t = &self.1;
        let claim = format!(
            "UPDATE {t} SET status = 2, deliveries = deliveries + 1 WHERE id = ANY(ARRAY(
                 SELECT id FROM {t} WHERE status = 1 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED))
             RETURNING id, payload"
        );
        let row = self.0.query(&claim, &[]).expect("v1 claim").into_iter().next()?;
        let (id, payload): (i64, Vec<u8>) = (row.get(0), row.get(1));
        let acked =
            self.0.execute(&format!("UPDATE {t} SET status = 5 WHERE id = $1 AND status = 2"), &[&id]);
        assert_eq!(acked.expect("v1 ack"), 1, "an old consumer's item was taken from it");
        Some(String::from_utf8(payload[1..].to_vec()).expect("text"))
    }
}

#[test]
fn postgres_upgrades_under_load() {
    let Ok(url) = servers::pg_url() else { return eprintln!("skipped: no PG_URL") };
    let name = fresh_table_name("mig");
    let ident = format!("ack_queue_{name}");
    let t = format!("\"{ident}\"");
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("admin");
    // What version 1 created.
    admin
        .batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS pq_schema (name TEXT PRIMARY KEY, version INTEGER NOT NULL);
             CREATE OR REPLACE FUNCTION pq_notify() RETURNS trigger LANGUAGE plpgsql AS
                 $$ BEGIN PERFORM pg_notify(TG_TABLE_NAME, ''); RETURN NULL; END $$;
             CREATE TABLE {t} (
                 id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, payload BYTEA NOT NULL,
                 priority BIGINT NOT NULL DEFAULT 0, status SMALLINT NOT NULL, timestamp BIGINT NOT NULL,
                 deliveries INTEGER NOT NULL DEFAULT 0, unique_key BYTEA);
             CREATE INDEX ON {t} (status, id);
             CREATE UNIQUE INDEX ON {t} (unique_key) WHERE unique_key IS NOT NULL;
             CREATE TRIGGER pq_put AFTER INSERT ON {t} FOR EACH STATEMENT EXECUTE FUNCTION pq_notify();
             CREATE TRIGGER pq_ready AFTER UPDATE OF status ON {t} FOR EACH ROW
                 WHEN (NEW.status = 1) EXECUTE FUNCTION pq_notify();
             INSERT INTO pq_schema VALUES ('{ident}', 1);"
        ))
        .expect("a version 1 table");
    let old = || -> Box<dyn OldProcess> {
        Box::new(OldPg(postgres::Client::connect(&url, postgres::NoTls).expect("old process"), t.clone()))
    };
    upgrade_under_load(&url, &t, &name, old);
    let version: i32 =
        admin.query_one("SELECT version FROM pq_schema WHERE name = $1", &[&ident]).expect("version").get(0);
    assert_eq!(version, persist_queue_postgres::SCHEMA_VERSION);

    // A table a newer version migrated: this version refuses it, clearly.
    admin.execute("UPDATE pq_schema SET version = version + 1 WHERE name = $1", &[&ident]).expect("newer");
    match AckQueue::server(url.as_str()).name(name.as_str()).open::<String>() {
        Err(Error::SchemaTooNew { found, supported, .. }) => assert_eq!(found, supported + 1),
        Err(e) => panic!("a newer schema must be SchemaTooNew, not {e}"),
        Ok(_) => panic!("a table of a newer schema must be refused"),
    }
}

// ---------- MySQL / MariaDB ----------

struct OldMy(mysql::Conn, String);

impl OldProcess for OldMy {
    fn put(&mut self, item: &str) {
        use mysql::prelude::Queryable;
        let sql =
            format!("INSERT INTO {} (payload, priority, status, timestamp) VALUES (?, 0, 1, 0)", self.1);
        self.0.exec_drop(sql, (postcard(item),)).expect("v1 put");
    }
    fn take(&mut self) -> Option<String> {
        use mysql::prelude::Queryable;
        let t = self.1.clone();
        let mut tx = self.0.start_transaction(mysql::TxOpts::default()).expect("begin");
        let row: Option<(u64, Vec<u8>)> = tx
            .query_first(format!(
                "SELECT id, payload FROM {t} FORCE INDEX (ready) WHERE status = 1 ORDER BY id LIMIT 1
                 FOR UPDATE SKIP LOCKED"
            ))
            .expect("v1 claim");
        let Some((id, payload)) = row else {
            tx.rollback().expect("rollback");
            return None;
        };
        tx.exec_drop(format!("UPDATE {t} SET status = 2, deliveries = deliveries + 1 WHERE id = ?"), (id,))
            .expect("v1 claim");
        tx.commit().expect("commit");
        self.0
            .exec_drop(format!("UPDATE {t} SET status = 5 WHERE id = ? AND status = 2"), (id,))
            .expect("v1 ack");
        assert_eq!(self.0.affected_rows(), 1, "an old consumer's item was taken from it");
        Some(String::from_utf8(payload[1..].to_vec()).expect("text"))
    }
}

#[test]
fn mysql_upgrades_under_load() {
    use mysql::prelude::Queryable;
    let Ok(url) = servers::mysql_url() else { return eprintln!("skipped: no MYSQL_URL") };
    let name = fresh_table_name("mig");
    let ident = format!("ack_queue_{name}");
    let t = format!("`{ident}`");
    let opts = || mysql::Opts::from_url(&url).expect("url");
    let mut admin = mysql::Conn::new(opts()).expect("admin");
    admin
        .query_drop(
            "CREATE TABLE IF NOT EXISTS pq_schema (name VARCHAR(64) PRIMARY KEY, version INT NOT NULL) ENGINE=InnoDB",
        )
        .expect("pq_schema");
    admin
        .query_drop(format!(
            "CREATE TABLE {t} (
                 id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, payload LONGBLOB NOT NULL,
                 priority BIGINT NOT NULL DEFAULT 0, status SMALLINT NOT NULL, timestamp BIGINT UNSIGNED NOT NULL,
                 deliveries INT UNSIGNED NOT NULL DEFAULT 0, unique_key VARBINARY(32) NULL,
                 UNIQUE KEY unique_key (unique_key), KEY ready (status, id)) ENGINE=InnoDB"
        ))
        .expect("a version 1 table");
    admin.exec_drop("INSERT INTO pq_schema VALUES (?, 1)", (&ident,)).expect("version 1");
    let old = || -> Box<dyn OldProcess> {
        Box::new(OldMy(mysql::Conn::new(opts()).expect("old process"), t.clone()))
    };
    upgrade_under_load(&url, &t, &name, old);
    let version: Option<i32> =
        admin.exec_first("SELECT version FROM pq_schema WHERE name = ?", (&ident,)).expect("version");
    assert_eq!(version, Some(persist_queue_mysql::SCHEMA_VERSION));
    admin.exec_drop("UPDATE pq_schema SET version = version + 1 WHERE name = ?", (&ident,)).expect("newer");
    match AckQueue::server(url.as_str()).name(name.as_str()).open::<String>() {
        Err(Error::SchemaTooNew { found, supported, .. }) => assert_eq!(found, supported + 1),
        Err(e) => panic!("a newer schema must be SchemaTooNew, not {e}"),
        Ok(_) => panic!("a table of a newer schema must be refused"),
    }
}

// ---------- SQLite ----------

#[test]
fn a_newer_sqlite_table_is_refused_as_schema_too_new() {
    let dir = tempfile::tempdir().expect("dir");
    drop(AckQueue::<String>::open(dir.path()).expect("create"));
    let db = persist_queue::rusqlite::Connection::open(dir.path().join("data.db")).expect("db");
    db.execute("UPDATE pq_schema SET version = version + 1", []).expect("a newer version's table");
    match AckQueue::<String>::open(dir.path()) {
        Err(Error::SchemaTooNew { found, supported, .. }) => assert_eq!(found, supported + 1),
        Err(e) => panic!("a newer schema must be SchemaTooNew, not {e}"),
        Ok(_) => panic!("a table of a newer schema must be refused"),
    }
}
