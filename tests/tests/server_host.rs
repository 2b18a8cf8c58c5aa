//! What only the server stores have: names checked against each server's
//! identifier rules, items of 16 MiB, PDict on a server, wake-ups from
//! another handle (another connection, as from another machine), and the
//! URL forms. Needs `PG_URL` / `MYSQL_URL` (see `persist_queue_tests::servers`).

use std::time::{Duration, Instant};

use persist_queue::{AckQueue, Error, PDict, PriorityQueue, Raw, UniqueQueue};
use persist_queue_tests::{fresh_table_name, servers};

fn each_server(test: impl Fn(&str)) {
    let urls = servers::configured();
    if urls.is_empty() {
        eprintln!("skipped: no PG_URL / MYSQL_URL");
    }
    for url in urls {
        test(&url);
    }
}

#[test]
fn hostile_names_and_ids_stay_inert() {
    each_server(|url| {
        for name in ["a`b", "x\"; DROP TABLE t; --", "", "sp ace", "3 OR 1=1", "ü"] {
            let r = AckQueue::server(url).name(name).open::<u32>();
            assert!(matches!(r, Err(Error::InvalidConfig(_))), "{name:?} must be refused on {url}");
        }
        // A name the rule allows but the table prefix makes longer than the
        // server's identifiers (PostgreSQL: 63 bytes) opens, under a table
        // name cut the core's way, never into another queue's table; one
        // past the rule's limit is refused.
        let long = fresh_table_name("n") + &"n".repeat(64);
        let r = UniqueQueue::server(url).name(&long[..60]).open::<u32>();
        assert!(r.is_ok(), "{url}: a 60-byte name: {:?}", r.err());
        let r = UniqueQueue::server(url).name(&long[..65]).open::<u32>();
        assert!(matches!(r, Err(Error::InvalidConfig(_))), "{url}: too long a name");
        let q = AckQueue::server(url).name(fresh_table_name("inj").as_str()).open::<u32>().expect("open");
        q.put(&1).expect("put");
        assert!(q.get_id(u64::MAX).expect("get_id").is_none());
        assert!(matches!(q.ack(u64::MAX), Err(Error::UnknownId(_))));
        assert_eq!(q.len().expect("len"), 1, "nothing else changed");
    });
}

#[test]
fn items_of_16_mib() {
    each_server(|url| {
        let q = AckQueue::server(url)
            .name(fresh_table_name("big").as_str())
            .codec(Raw)
            .open::<Vec<u8>>()
            .expect("open");
        let item: Vec<u8> = (0..16 << 20).map(|i: u32| (i % 251) as u8).collect();
        q.put(&item).expect("put 16 MiB");
        let d = q.get().expect("get");
        assert!(d.item == item, "{url}: the 16 MiB item comes back intact");
        q.ack(&d).expect("ack");
    });
}

#[test]
fn priority_and_unique_on_servers() {
    each_server(|url| {
        let p = PriorityQueue::server(url)
            .name(fresh_table_name("prio").as_str())
            .open::<String>()
            .expect("open");
        for (item, prio) in [("low", 9), ("high", -5), ("mid", 0), ("high2", -5)] {
            p.put(&item.to_string(), prio).expect("put");
        }
        let order: Vec<String> = (0..4).map(|_| p.get().expect("get").item).collect();
        assert_eq!(order, ["high", "high2", "mid", "low"], "{url}");
        let u =
            UniqueQueue::server(url).name(fresh_table_name("uniq").as_str()).open::<String>().expect("open");
        assert!(u.put(&"a".into()).expect("put").is_some());
        assert!(u.put(&"a".into()).expect("put").is_none(), "{url}: duplicate refused");
        let many = u.put_many(&["b".into(), "a".into(), "b".into(), "c".into()]).expect("put_many");
        assert_eq!(many.iter().map(Option::is_some).collect::<Vec<_>>(), [true, false, false, true], "{url}");
    });
}

#[test]
fn pdict_on_servers() {
    each_server(|url| {
        let name = fresh_table_name("d");
        let d = PDict::server(url).name(name.as_str()).open::<String, u32>().expect("open");
        assert_eq!(d.insert(&"a".into(), &1).expect("insert"), None);
        assert_eq!(d.insert(&"a".into(), &2).expect("overwrite"), Some(1));
        for i in 0..300u32 {
            d.insert(&format!("k{i:03}"), &i).expect("insert");
        }
        let all: Vec<(String, u32)> = d.iter().collect::<Result<_, _>>().expect("iterate");
        assert_eq!(all.len(), 301);
        assert!(all.windows(2).all(|w| w[0].0 < w[1].0), "{url}: in key order");
        assert_eq!(d.remove(&"a".into()).expect("remove"), Some(2));
        drop(d);
        let again = PDict::server(url).name(name.as_str()).open::<String, u32>().expect("reopen");
        assert_eq!(again.len().expect("len"), 300, "{url}: survives a reopen");
    });
}

/// A waiting `get` wakes on a put made through another connection (as from
/// another machine): on PostgreSQL by NOTIFY, on MySQL by polling at most
/// 50 ms apart. Bound generously (the machine is noisy); PostgreSQL's
/// fallback poll is 250 ms, so waking well before it proves the NOTIFY.
#[test]
fn a_put_elsewhere_wakes_a_waiting_get() {
    each_server(|url| {
        let name = fresh_table_name("wake");
        let waiter =
            AckQueue::server(url).name(name.as_str()).auto_resume(false).open::<u64>().expect("open");
        let other = AckQueue::server(url).name(name.as_str()).auto_resume(false).open::<u64>().expect("open");
        // Let the waiter settle into its longest poll interval.
        let t = std::thread::spawn(move || {
            let d = waiter.get_timeout(Duration::from_secs(10)).expect("woken");
            (d.item, Instant::now())
        });
        std::thread::sleep(Duration::from_millis(600));
        other.put(&7).expect("put");
        let put_at = Instant::now();
        let (item, woke_at) = t.join().expect("waiter");
        assert_eq!(item, 7);
        let latency = woke_at.saturating_duration_since(put_at);
        eprintln!("{url}: woke {latency:?} after the put returned");
        assert!(latency < Duration::from_millis(200), "{url}: woke after {latency:?}");
    });
}

#[test]
fn bad_urls_are_config_errors() {
    for url in ["redis://localhost", "postgresql://[bad", "mysql://user@:notaport/db"] {
        let r = AckQueue::server(url).open::<u32>();
        assert!(matches!(r, Err(Error::InvalidConfig(_))), "{url}: {r:?}");
    }
}

/// persist-queue's parameters (`MySQLQueue(host, user, passwd, db_name,
/// port)`) reach the same server and queue as the URL, and a printed
/// address never shows the password.
#[test]
fn parameters_like_persist_queue() {
    use persist_queue::{ServerAddress, ServerKind};
    each_server(|url| {
        // scheme://user[:password]@host:port/db
        let (scheme, rest) = url.split_once("://").expect("scheme");
        let (cred, place) = rest.rsplit_once('@').expect("user@host");
        let (user, password) = cred.split_once(':').unwrap_or((cred, ""));
        let (hostport, db) = place.split_once('/').expect("/db");
        let (host, port) = hostport.rsplit_once(':').expect("host:port");
        let port: u16 = port.parse().expect("port");
        let at = if scheme.starts_with("postgres") {
            ServerAddress::postgres(host, user, password, db, port)
        } else {
            ServerAddress::mysql(host, user, password, db, port)
        };
        let name = fresh_table_name("params");
        let by_params =
            AckQueue::server(at.clone()).name(name.as_str()).open::<u32>().expect("open by params");
        by_params.put(&5).expect("put");
        let by_url = AckQueue::server(url).name(name.as_str()).open::<u32>().expect("open by URL");
        assert_eq!(by_url.get().expect("same queue").item, 5);
        let kind = if scheme.starts_with("postgres") { ServerKind::Postgres } else { ServerKind::MySql };
        assert_eq!(at.kind().expect("kind"), kind);
    });
    let secret = ServerAddress::mysql("db.example", "app", "s3cret-pw", "jobs", 3306);
    assert!(!format!("{secret:?}").contains("s3cret-pw"));
    let url: ServerAddress = "postgresql://app:s3cret-pw@db.example:5432/jobs".into();
    assert!(!format!("{url:?}").contains("s3cret-pw"), "{url:?}");
}
