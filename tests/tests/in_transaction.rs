//! The outbox pattern: a put (or an ack) in the application's own
//! transaction commits or rolls back with the application's writes — on
//! SQLite (a `rusqlite::Transaction` on the queue's file), PostgreSQL and
//! MariaDB (their clients' transactions). Rollback: no item; commit:
//! exactly one, delivered; a consumer never sees an uncommitted item; an
//! ack rolled back leaves the item in flight, a stale one is refused. On
//! PostgreSQL a put adds one round trip to the transaction. Server parts
//! need `PG_URL` / `MYSQL_URL`.

use std::time::Duration;

use persist_queue::{AckQueue, Error, UniqueQueue, mysql, postgres, rusqlite};
use persist_queue_tests::cut_proxy::{CutProxy, authority};
use persist_queue_tests::{fresh_table_name, servers};

type Q = AckQueue<String>;

/// What each database's own transaction does, behind one face: `write`
/// the application's row, then `put` (the queue's part) in the same
/// transaction, then commit or roll back.
trait Db {
    fn orders(&mut self) -> i64;
    fn in_tx(&mut self, commit: bool, body: &mut dyn FnMut(&mut dyn Tx));
}

trait Tx {
    fn write_order(&mut self);
    fn put(&mut self, q: &Q, item: &str) -> Result<u64, Error>;
    fn ack(&mut self, q: &Q, d: &persist_queue::Delivery<String>) -> Result<(), Error>;
}

/// The contract, the same on every database. `one_writer`: SQLite, where
/// every operation of the queue's own handles waits for the caller's open
/// write transaction (one writer per file), so a consumer thread waits
/// through it instead of looking.
fn outbox(db: &mut dyn Db, q: &Q, consumer: &Q, one_writer: bool) {
    // Rolled back: neither the order nor the item exists.
    db.in_tx(false, &mut |tx| {
        tx.write_order();
        tx.put(q, "rolled back").expect("put_in");
    });
    assert_eq!(db.orders(), 0);
    assert!(matches!(consumer.try_get(), Err(Error::Empty)), "a rolled-back put is never delivered");

    // Committed: both exist; before the commit a consumer sees nothing. A
    // consumer already waiting gets the item once the commit is made.
    let waiting = {
        let consumer = consumer.clone();
        std::thread::spawn(move || consumer.get_timeout(Duration::from_secs(20)))
    };
    db.in_tx(true, &mut |tx| {
        tx.write_order();
        tx.put(q, "mail order 1").expect("put_in");
        std::thread::sleep(Duration::from_millis(100));
        if !one_writer {
            assert_eq!(consumer.ready_count().expect("count"), 0, "an uncommitted put is invisible");
            assert!(matches!(consumer.try_get(), Err(Error::Empty)), "an uncommitted put is never delivered");
        }
        assert!(!waiting.is_finished(), "the waiting consumer got nothing before the commit");
    });
    assert_eq!(db.orders(), 1);
    let d = waiting.join().expect("consumer thread").expect("the committed item");
    assert_eq!(d.item, "mail order 1");
    assert!(matches!(consumer.try_get(), Err(Error::Empty)), "exactly one item");

    // An ack in a transaction that rolls back leaves the item in flight;
    // committed, it is acked.
    db.in_tx(false, &mut |tx| tx.ack(q, &d).expect("ack_in"));
    assert_eq!(q.unack_count().expect("count"), 1, "a rolled-back ack leaves the item in flight");
    db.in_tx(true, &mut |tx| {
        tx.write_order();
        tx.ack(q, &d).expect("ack_in");
    });
    assert_eq!((q.unack_count().expect("count"), q.acked_count().expect("count")), (0, 1));
    // A second ack of the same delivery is refused, and changes nothing.
    db.in_tx(false, &mut |tx| {
        assert!(matches!(tx.ack(q, &d), Err(Error::NotInFlight { .. } | Error::LeaseLost { .. })));
    });
}

// ---------- SQLite ----------

struct Sqlite(rusqlite::Connection);

struct SqliteTx<'a>(rusqlite::Transaction<'a>);

impl Tx for SqliteTx<'_> {
    fn write_order(&mut self) {
        self.0.execute("INSERT INTO orders (what) VALUES ('book')", []).expect("order");
    }
    fn put(&mut self, q: &Q, item: &str) -> Result<u64, Error> {
        q.put_in(&mut self.0, &item.to_string())
    }
    fn ack(&mut self, q: &Q, d: &persist_queue::Delivery<String>) -> Result<(), Error> {
        q.ack_in(&mut self.0, d)
    }
}

impl Db for Sqlite {
    fn orders(&mut self) -> i64 {
        self.0.query_row("SELECT count(*) FROM orders", [], |r| r.get(0)).expect("count")
    }
    fn in_tx(&mut self, commit: bool, body: &mut dyn FnMut(&mut dyn Tx)) {
        let mut tx = SqliteTx(self.0.transaction().expect("begin"));
        body(&mut tx);
        if commit { tx.0.commit().expect("commit") } else { tx.0.rollback().expect("rollback") }
    }
}

#[test]
fn sqlite_outbox() {
    let dir = tempfile::tempdir().expect("dir");
    let q = Q::open(dir.path()).expect("queue");
    let consumer = Q::open(dir.path()).expect("a second handle, as another process would");
    let conn = rusqlite::Connection::open(dir.path().join("data.db")).expect("the app's connection");
    conn.busy_timeout(Duration::from_secs(5)).expect("busy timeout");
    conn.execute("CREATE TABLE orders (what TEXT)", []).expect("orders");
    outbox(&mut Sqlite(conn), &q, &consumer, true);
}

#[test]
fn a_duplicate_leaves_the_transaction_usable() {
    let dir = tempfile::tempdir().expect("dir");
    let q = UniqueQueue::<String>::open(dir.path()).expect("queue");
    let mut conn = rusqlite::Connection::open(dir.path().join("data.db")).expect("conn");
    conn.execute("CREATE TABLE orders (what TEXT)", []).expect("orders");
    let tx = conn.transaction().expect("begin");
    q.put_in(&tx, &"once".to_string()).expect("first");
    assert!(matches!(q.put_in(&tx, &"once".to_string()), Err(Error::Duplicate)));
    tx.execute("INSERT INTO orders VALUES ('still usable')", []).expect("the transaction goes on");
    tx.commit().expect("commit");
    assert_eq!(q.len().expect("len"), 1);
}

#[test]
fn a_transaction_of_another_store_is_refused() {
    let Ok(url) = servers::pg_url() else { return eprintln!("skipped: no PG_URL") };
    let q = AckQueue::server(url.as_str())
        .name(fresh_table_name("ot").as_str())
        .open::<String>()
        .expect("a PostgreSQL queue");
    let mut conn = rusqlite::Connection::open_in_memory().expect("conn");
    let tx = conn.transaction().expect("begin");
    match q.put_in(&tx, &"x".to_string()) {
        Err(Error::InvalidConfig(_)) => {}
        other => panic!("an SQLite transaction on a PostgreSQL queue: {other:?}"),
    }
}

// ---------- PostgreSQL ----------

struct Pg(postgres::Client, String);

struct PgTx<'a>(postgres::Transaction<'a>, String);

impl Tx for PgTx<'_> {
    fn write_order(&mut self) {
        self.0.execute(&format!("INSERT INTO {} (what) VALUES ('book')", self.1), &[]).expect("order");
    }
    fn put(&mut self, q: &Q, item: &str) -> Result<u64, Error> {
        q.put_in(&mut self.0, &item.to_string())
    }
    fn ack(&mut self, q: &Q, d: &persist_queue::Delivery<String>) -> Result<(), Error> {
        q.ack_in(&mut self.0, d)
    }
}

impl Db for Pg {
    fn orders(&mut self) -> i64 {
        self.0.query_one(&format!("SELECT count(*) FROM {}", self.1), &[]).expect("count").get(0)
    }
    fn in_tx(&mut self, commit: bool, body: &mut dyn FnMut(&mut dyn Tx)) {
        let mut tx = PgTx(self.0.transaction().expect("begin"), self.1.clone());
        body(&mut tx);
        if commit { tx.0.commit().expect("commit") } else { tx.0.rollback().expect("rollback") }
    }
}

#[test]
fn postgres_outbox() {
    let Ok(url) = servers::pg_url() else { return eprintln!("skipped: no PG_URL") };
    let name = fresh_table_name("outbox");
    let q = AckQueue::server(url.as_str()).name(name.as_str()).open::<String>().expect("queue");
    let consumer = AckQueue::server(url.as_str()).name(name.as_str()).open::<String>().expect("consumer");
    let mut client = postgres::Client::connect(&url, postgres::NoTls).expect("the app's connection");
    let orders = format!("orders_{name}");
    client.batch_execute(&format!("CREATE TABLE {orders} (what TEXT)")).expect("orders");
    outbox(&mut Pg(client, orders), &q, &consumer, false);

    // Round trips: the app's connection goes through a proxy that counts
    // requests; a put adds one to the transaction.
    let proxy = CutProxy::start(&authority(&url), b"").expect("proxy");
    let mut client = postgres::Client::connect(&proxy.url(&url), postgres::NoTls).expect("through the proxy");
    let mut tx = client.transaction().expect("begin");
    q.put_in(&mut tx, &"warm".to_string()).expect("put_in");
    let before = proxy.requests();
    q.put_in(&mut tx, &"counted".to_string()).expect("put_in");
    let added = proxy.requests() - before;
    tx.commit().expect("commit");
    assert_eq!(added, 1, "put_in adds one round trip to the caller's transaction");
}

// ---------- MySQL / MariaDB ----------

struct My(mysql::Conn, String);

struct MyTx<'a>(mysql::Transaction<'a>, String);

impl Tx for MyTx<'_> {
    fn write_order(&mut self) {
        use mysql::prelude::Queryable;
        self.0.query_drop(format!("INSERT INTO {} (what) VALUES ('book')", self.1)).expect("order");
    }
    fn put(&mut self, q: &Q, item: &str) -> Result<u64, Error> {
        q.put_in(&mut self.0, &item.to_string())
    }
    fn ack(&mut self, q: &Q, d: &persist_queue::Delivery<String>) -> Result<(), Error> {
        q.ack_in(&mut self.0, d)
    }
}

impl Db for My {
    fn orders(&mut self) -> i64 {
        use mysql::prelude::Queryable;
        self.0.query_first(format!("SELECT count(*) FROM {}", self.1)).expect("count").unwrap_or(0)
    }
    fn in_tx(&mut self, commit: bool, body: &mut dyn FnMut(&mut dyn Tx)) {
        let mut tx = MyTx(self.0.start_transaction(mysql::TxOpts::default()).expect("begin"), self.1.clone());
        body(&mut tx);
        if commit { tx.0.commit().expect("commit") } else { tx.0.rollback().expect("rollback") }
    }
}

#[test]
fn mysql_outbox() {
    use mysql::prelude::Queryable;
    let Ok(url) = servers::mysql_url() else { return eprintln!("skipped: no MYSQL_URL") };
    let name = fresh_table_name("outbox");
    let q = AckQueue::server(url.as_str()).name(name.as_str()).open::<String>().expect("queue");
    let consumer = AckQueue::server(url.as_str()).name(name.as_str()).open::<String>().expect("consumer");
    let mut conn = mysql::Conn::new(mysql::Opts::from_url(&url).expect("url")).expect("the app's connection");
    let orders = format!("orders_{name}");
    conn.query_drop(format!("CREATE TABLE {orders} (what TEXT) ENGINE=InnoDB")).expect("orders");
    outbox(&mut My(conn, orders), &q, &consumer, false);
}
