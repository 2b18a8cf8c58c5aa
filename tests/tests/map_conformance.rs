//! The map contract (persist-queue's `PDict`) on every native map store;
//! the browser stores run the same file in `wasm/tests/conformance.rs`.

use persist_queue_core::Durability;
use persist_queue_core::records::MemoryMap;
use persist_queue_tests::{complete, fresh_table_name, map_contract, servers};

fn sqlite(test: impl AsyncFnOnce(persist_queue_sqlite::SqliteMap)) {
    let dir = tempfile::tempdir().expect("tempdir");
    let map = persist_queue_sqlite::SqliteMap::open(dir.path().join("maps.db"), "m", Durability::Synced)
        .expect("open sqlite map");
    complete(test(map));
}

/// Runs `test` on the map `open` makes on the server at `url`, or skips
/// saying why there is none.
fn on_server<M>(url: Result<String, String>, open: impl FnOnce(&str) -> M, test: impl AsyncFnOnce(M)) {
    match url {
        Ok(url) => complete(test(open(&url))),
        Err(why) => eprintln!("skipped: {why}"),
    }
}

fn postgres(test: impl AsyncFnOnce(persist_queue_postgres::PgMap)) {
    let open = |url: &str| {
        let connect = persist_queue_postgres::Connect::url(url).expect("PG_URL parses");
        persist_queue_postgres::PgMap::open(&connect, &fresh_table_name("m"), Durability::Synced)
            .expect("open postgres map")
    };
    on_server(servers::pg_url(), open, test);
}

fn mysql(test: impl AsyncFnOnce(persist_queue_mysql::MySqlMap)) {
    let open = |url: &str| {
        let connect = persist_queue_mysql::Connect::url(url).expect("MYSQL_URL parses");
        persist_queue_mysql::MySqlMap::open(&connect, &fresh_table_name("m")).expect("open mysql map")
    };
    on_server(servers::mysql_url(), open, test);
}

macro_rules! on_every_map {
    ($($t:ident),*) => {
        $(
            mod $t {
                use super::*;
                #[test]
                fn memory() {
                    complete(map_contract::$t(MemoryMap::default()));
                }
                #[test]
                fn sqlite() {
                    super::sqlite(map_contract::$t);
                }
                #[test]
                fn postgres() {
                    super::postgres(map_contract::$t);
                }
                #[test]
                fn mysql() {
                    super::mysql(map_contract::$t);
                }
            }
        )*
    };
}

on_every_map!(set_get_remove, scans_in_key_byte_order);
