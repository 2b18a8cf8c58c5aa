//! Many connections opening one new database file at once: every open
//! succeeds. Turning a fresh file's journal into WAL needs the file to
//! itself, and SQLite answers "database is locked" at once there instead of
//! running the busy handler; the opener must wait and retry.

use persist_queue_core::Durability;
use persist_queue_sqlite::SqliteTable;

#[test]
fn sixteen_threads_open_one_fresh_database_at_once() {
    for round in 0..20 {
        let tmp = tempfile::tempdir().expect("tmp");
        let path = tmp.path().join("data.db");
        let barrier = std::sync::Barrier::new(16);
        std::thread::scope(|s| {
            let opens: Vec<_> = (0..16)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        SqliteTable::open(&path, "default", Durability::Synced).map(drop)
                    })
                })
                .collect();
            for open in opens {
                let result = open.join().expect("opener");
                assert!(result.is_ok(), "round {round}: an open failed: {:?}", result.err());
            }
        });
    }
}
