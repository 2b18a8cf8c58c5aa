//! Server settings a user passes as typed options: the schema the table
//! lives in, the name the server shows, a statement timeout that turns a
//! blocked statement into an error instead of a hang, and the retry window
//! after which an unreachable server is `Unavailable`. Needs `PG_URL` /
//! `MYSQL_URL`.

use std::time::{Duration, Instant};

use persist_queue::{AckQueue, Error, ServerOptions, mysql, postgres};
use persist_queue_tests::{fresh_table_name, servers};

#[test]
fn postgres_schema_name_and_statement_timeout() {
    let Ok(url) = servers::pg_url() else { return eprintln!("skipped: no PG_URL") };
    let name = fresh_table_name("opt");
    let schema = format!("s_{name}");
    let options = ServerOptions::default()
        .schema(&schema)
        .application_name(format!("billing {name}"))
        .statement_timeout(Duration::from_millis(300));
    let q = AckQueue::server(url.as_str())
        .name(name.as_str())
        .server_options(options)
        .open::<String>()
        .expect("open");
    q.put(&"a".to_string()).expect("put");

    let mut dba = postgres::Client::connect(&url, postgres::NoTls).expect("admin");
    let found: i64 = dba
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1 AND table_name LIKE $2",
            &[&schema, &format!("%{name}")],
        )
        .expect("catalog")
        .get(0);
    assert_eq!(found, 1, "the table lives in the schema asked for");
    let named: i64 = dba
        .query_one(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1",
            &[&format!("billing {name}")],
        )
        .expect("activity")
        .get(0);
    assert!(named >= 1, "the server shows the application name");

    // A DBA locks the table: the put is cancelled by its timeout, an error,
    // and nothing is stored.
    let table: String = dba
        .query_one(
            "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) FROM information_schema.tables
             WHERE table_schema = $1 AND table_name LIKE $2",
            &[&schema, &format!("%{name}")],
        )
        .expect("table")
        .get(0);
    let mut lock = dba.transaction().expect("begin");
    lock.batch_execute(&format!("LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")).expect("lock");
    let start = Instant::now();
    let put = q.put(&"blocked".to_string());
    assert!(put.is_err(), "a blocked put fails at its statement timeout: {put:?}");
    assert!(start.elapsed() < Duration::from_secs(10), "not a hang: {:?}", start.elapsed());
    lock.rollback().expect("unlock");
    assert_eq!(q.len().expect("len"), 1, "the cancelled put stored nothing");
}

#[test]
fn mysql_statement_timeout_and_pool() {
    use mysql::prelude::Queryable;
    let Ok(url) = servers::mysql_url() else { return eprintln!("skipped: no MYSQL_URL") };
    let name = fresh_table_name("opt");
    let options = ServerOptions::default().statement_timeout(Duration::from_millis(300)).pool_size(2);
    let q = AckQueue::server(url.as_str())
        .name(name.as_str())
        .server_options(options)
        .open::<String>()
        .expect("open");
    q.put(&"a".to_string()).expect("put");
    assert!(
        AckQueue::server(url.as_str())
            .server_options(ServerOptions::default().schema("x"))
            .open::<String>()
            .is_err(),
        "MySQL has no schemas: refused"
    );

    // A DBA locks the table: a count waits for the lock, and the
    // statement timeout ends the wait with an error instead of a hang.
    let mut dba = mysql::Conn::new(mysql::Opts::from_url(&url).expect("url")).expect("admin");
    let tables: Vec<String> = dba
        .exec("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE ?", (
            format!("%{name}"),
        ))
        .expect("catalog");
    dba.query_drop(format!("LOCK TABLES `{}` WRITE", tables[0])).expect("lock");
    let start = Instant::now();
    let counted = q.len();
    assert!(start.elapsed() < Duration::from_secs(10), "not a hang: {:?}", start.elapsed());
    assert!(counted.is_err(), "a statement waiting past its timeout fails: {counted:?}");
    dba.query_drop("UNLOCK TABLES").expect("unlock");
    assert_eq!(q.len().expect("len"), 1);
}

#[test]
fn an_unreachable_server_is_unavailable_after_the_window() {
    let options = ServerOptions::default()
        .retry_for(Duration::from_millis(300))
        .connect_timeout(Duration::from_secs(1));
    for url in ["postgresql://u@127.0.0.1:1/db", "mysql://u@127.0.0.1:1/db"] {
        let start = Instant::now();
        match AckQueue::server(url).server_options(options.clone()).open::<String>() {
            Err(Error::Unavailable(_)) => {}
            other => panic!("{url}: {other:?}"),
        }
        assert!(start.elapsed() < Duration::from_secs(5), "{url}: the window is the one asked for");
    }
}
