//! `pq bench --pg URL --mysql URL`: the server-backed ack queue beside a raw
//! client on the same server, same run (both synced: PostgreSQL
//! `synchronous_commit=on`, InnoDB flushing every commit).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use persist_queue::{AckQueue, Durability};
use persist_queue_mysql::mysql;
use persist_queue_postgres::postgres;

use crate::bench::{BenchArgs, R, err, row};
use crate::measure::{median, rate_for};

/// A raw client of one server: the per-statement ceilings.
trait Raw {
    /// A fresh table `q` with `n` ready rows.
    fn reset(&mut self, n: u64) -> R<()>;
    /// One autocommit single-row INSERT.
    fn insert(&mut self, i: u64) -> R<()>;
    /// One claim of the first ready row (the server's one-statement form
    /// where it has one), then its ack as one UPDATE.
    fn claim_ack(&mut self) -> R<bool>;
    /// One transaction of the application's: a row of its own, then the
    /// outbox row — the queue's item (`put_in`) with `put`, else a second
    /// raw INSERT (a hand-written outbox table) — then COMMIT.
    fn outbox(&mut self, i: u64, put: Option<&AckQueue<String>>) -> R<()>;
    /// Drops the raw table and the queue tables `tables` made.
    fn clean(&mut self, tables: &[String]) -> R<()>;
}

struct RawPg(postgres::Client, postgres::Statement, postgres::Statement, postgres::Statement);

impl RawPg {
    fn connect(url: &str) -> R<RawPg> {
        // With the URL's TLS and settings, as the queue connects.
        let mut c = persist_queue_postgres::Connect::url(url).and_then(|c| c.client()).map_err(err)?;
        c.batch_execute(
            "DROP TABLE IF EXISTS pq_bench_raw;
             CREATE TABLE pq_bench_raw (id BIGSERIAL PRIMARY KEY, payload BYTEA NOT NULL, status SMALLINT NOT NULL);
             CREATE INDEX ON pq_bench_raw (status, id);",
        )
        .map_err(err)?;
        let ins = c.prepare("INSERT INTO pq_bench_raw (payload, status) VALUES ($1, 1)").map_err(err)?;
        let claim = c
            .prepare(
                "UPDATE pq_bench_raw SET status = 2 WHERE id = (SELECT id FROM pq_bench_raw WHERE status = 1
                 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id, payload",
            )
            .map_err(err)?;
        let ack = c.prepare("UPDATE pq_bench_raw SET status = 5 WHERE id = $1").map_err(err)?;
        Ok(RawPg(c, ins, claim, ack))
    }
}

impl Raw for RawPg {
    fn outbox(&mut self, i: u64, put: Option<&AckQueue<String>>) -> R<()> {
        let mut tx = self.0.transaction().map_err(err)?;
        tx.execute(&self.1, &[&format!("bench{i}").into_bytes()]).map_err(err)?;
        match put {
            Some(q) => drop(q.put_in(&mut tx, &format!("bench{i}")).map_err(err)?),
            None => drop(tx.execute(&self.1, &[&format!("bench{i}").into_bytes()]).map_err(err)?),
        }
        tx.commit().map_err(err)
    }
    fn reset(&mut self, n: u64) -> R<()> {
        self.0.batch_execute("TRUNCATE pq_bench_raw").map_err(err)?;
        let payloads: Vec<Vec<u8>> = (0..n).map(|i| format!("bench{i}").into_bytes()).collect();
        self.0
            .execute(
                "INSERT INTO pq_bench_raw (payload, status) SELECT p, 1 FROM UNNEST($1::bytea[]) AS p",
                &[&payloads],
            )
            .map_err(err)?;
        Ok(())
    }
    fn insert(&mut self, i: u64) -> R<()> {
        self.0.execute(&self.1, &[&format!("bench{i}").into_bytes()]).map(|_| ()).map_err(err)
    }
    fn claim_ack(&mut self) -> R<bool> {
        let Some(row) = self.0.query_opt(&self.2, &[]).map_err(err)? else { return Ok(false) };
        let id: i64 = row.get(0);
        self.0.execute(&self.3, &[&id]).map_err(err)?;
        Ok(true)
    }
    fn clean(&mut self, tables: &[String]) -> R<()> {
        self.0.batch_execute("DROP TABLE IF EXISTS pq_bench_raw").map_err(err)?;
        for t in tables {
            self.0.batch_execute(&format!("DROP TABLE IF EXISTS \"{t}\"")).map_err(err)?;
            self.0.execute("DELETE FROM pq_schema WHERE name = $1", &[t]).map_err(err)?;
        }
        Ok(())
    }
}

struct RawMy(mysql::PooledConn);

impl RawMy {
    fn connect(url: &str) -> R<RawMy> {
        use mysql::prelude::Queryable;
        let mut c = persist_queue_mysql::Connect::url(url).and_then(|c| c.conn()).map_err(err)?;
        c.query_drop("DROP TABLE IF EXISTS pq_bench_raw").map_err(err)?;
        c.query_drop(
            "CREATE TABLE pq_bench_raw (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, payload LONGBLOB NOT NULL,
             status SMALLINT NOT NULL, KEY ready (status, id)) ENGINE=InnoDB",
        )
        .map_err(err)?;
        Ok(RawMy(c))
    }
}

impl Raw for RawMy {
    fn outbox(&mut self, i: u64, put: Option<&AckQueue<String>>) -> R<()> {
        use mysql::prelude::Queryable;
        let mut tx = self.0.start_transaction(mysql::TxOpts::default()).map_err(err)?;
        let insert = "INSERT INTO pq_bench_raw (payload, status) VALUES (?, 1)";
        tx.exec_drop(insert, (format!("bench{i}").into_bytes(),)).map_err(err)?;
        match put {
            Some(q) => drop(q.put_in(&mut tx, &format!("bench{i}")).map_err(err)?),
            None => tx.exec_drop(insert, (format!("bench{i}").into_bytes(),)).map_err(err)?,
        }
        tx.commit().map_err(err)
    }
    fn reset(&mut self, n: u64) -> R<()> {
        use mysql::prelude::Queryable;
        self.0.query_drop("TRUNCATE pq_bench_raw").map_err(err)?;
        for part in (0..n).collect::<Vec<_>>().chunks(1000) {
            let values = vec!["(?, 1)"; part.len()].join(",");
            let params: Vec<mysql::Value> =
                part.iter().map(|i| format!("bench{i}").into_bytes().into()).collect();
            self.0
                .exec_drop(format!("INSERT INTO pq_bench_raw (payload, status) VALUES {values}"), params)
                .map_err(err)?;
        }
        Ok(())
    }
    fn insert(&mut self, i: u64) -> R<()> {
        use mysql::prelude::Queryable;
        self.0
            .exec_drop(
                "INSERT INTO pq_bench_raw (payload, status) VALUES (?, 1)",
                (format!("bench{i}").into_bytes(),),
            )
            .map_err(err)
    }
    fn claim_ack(&mut self) -> R<bool> {
        use mysql::prelude::Queryable;
        // MariaDB's one-statement claim scans the table; the claim
        // transaction (SELECT … FOR UPDATE SKIP LOCKED, UPDATE, COMMIT).
        let c = &mut self.0;
        c.query_drop("START TRANSACTION").map_err(err)?;
        let id: Option<u64> = c
            .query_first(
                "SELECT id FROM pq_bench_raw WHERE status = 1 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
            )
            .map_err(err)?;
        if let Some(id) = id {
            c.exec_drop("UPDATE pq_bench_raw SET status = 2 WHERE id = ?", (id,)).map_err(err)?;
        }
        c.query_drop("COMMIT").map_err(err)?;
        if let Some(id) = id {
            c.exec_drop("UPDATE pq_bench_raw SET status = 5 WHERE id = ?", (id,)).map_err(err)?;
        }
        Ok(id.is_some())
    }
    fn clean(&mut self, tables: &[String]) -> R<()> {
        use mysql::prelude::Queryable;
        self.0.query_drop("DROP TABLE IF EXISTS pq_bench_raw").map_err(err)?;
        for t in tables {
            self.0.query_drop(format!("DROP TABLE IF EXISTS `{t}`")).map_err(err)?;
            self.0.exec_drop("DELETE FROM pq_schema WHERE name = ?", (t,)).map_err(err)?;
        }
        Ok(())
    }
}

fn queue(url: &str, name: &str) -> R<AckQueue<String>> {
    AckQueue::server(url).name(name).durability(Durability::Synced).auto_resume(false).open().map_err(err)
}

/// Items per second that `processes` consumer processes (`pq
/// server-consume`) take and ack from a queue filled with `n` items.
fn consumers(url: &str, name: &str, n: u64, processes: usize) -> R<f64> {
    let q = queue(url, name)?;
    let items: Vec<String> = (0..n).map(|i| format!("bench{i}")).collect();
    for part in items.chunks(1000) {
        q.put_many(part).map_err(err)?;
    }
    let exe = std::env::current_exe().map_err(err)?;
    let start = Instant::now();
    let children: Vec<_> = (0..processes)
        .map(|_| {
            Command::new(&exe).args(["server-consume", url, name]).stdout(Stdio::null()).spawn().map_err(err)
        })
        .collect::<R<_>>()?;
    for mut c in children {
        if !c.wait().map_err(err)?.success() {
            return Err("a consumer process failed".into());
        }
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// `pq server-consume URL NAME`: gets and acks until the queue is empty.
pub(crate) fn consume(url: &str, name: &str) -> R<()> {
    let q = queue(url, name)?;
    loop {
        match q.try_get() {
            Ok(d) => q.ack(&d).map_err(err)?,
            Err(persist_queue::Error::Empty) => return Ok(()),
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Runs the section for one server.
pub(crate) fn measure(args: &BenchArgs, server: &str, url: &str) -> R<()> {
    let window = Duration::from_secs_f64(args.seconds);
    let mut raw: Box<dyn Raw> = match server {
        "PostgreSQL" => Box::new(RawPg::connect(url)?),
        _ => Box::new(RawMy::connect(url)?),
    };
    println!("## {server} ack queue (synced, loopback), 'bench%d' strings");
    println!();
    crate::bench::table_header();
    let names: Vec<String> = (0..5).map(|k| format!("bench_{}_{k}", std::process::id())).collect();
    let q = queue(url, &names[0])?;
    // Raw and ours alternate, round by round, so both see the same disk
    // and CPU weather; medians of rates and of per-round ratios.
    let rounds = args.rounds.max(1);
    let (mut raw_i, mut put, mut put_ratio) = (vec![], vec![], vec![]);
    let mut i = 0u64;
    for _ in 0..rounds {
        let r = rate_for(window, || {
            i += 1;
            u64::from(raw.insert(i).is_ok())
        });
        let o = rate_for(window, || {
            i += 1;
            u64::from(q.put(&format!("bench{i}")).is_ok())
        });
        raw_i.push(r);
        put.push(o);
        put_ratio.push(o / r);
    }
    let raw_i = median(raw_i);
    row("raw client: autocommit single-row INSERT (baseline I)", raw_i, "1.00");
    row("AckQueue put, 1 thread", median(put), &format!("{:.2}x I", median(put_ratio)));
    let fill = (raw_i * args.seconds * 1.5).max(1000.0) as u64;
    let items: Vec<String> = (0..fill.max(1000)).map(|i| format!("bench{i}")).collect();
    let q = queue(url, &names[1])?;
    let (mut raw_c, mut got, mut got_ratio) = (vec![], vec![], vec![]);
    for _ in 0..rounds {
        raw.reset(fill)?;
        let r = rate_for(window, || u64::from(raw.claim_ack().unwrap_or(false)));
        for part in items.chunks(1000) {
            q.put_many(part).map_err(err)?;
        }
        let o = rate_for(window, || match q.try_get() {
            Ok(d) => u64::from(q.ack(&d).is_ok()),
            Err(_) => 0,
        });
        raw_c.push(r);
        got.push(o);
        got_ratio.push(o / r);
    }
    let got = median(got);
    row(
        "raw client: claim UPDATE/SELECT ... SKIP LOCKED, then ack UPDATE (baseline C)",
        median(raw_c),
        "1.00",
    );
    row("AckQueue get + ack", got, &format!("{:.2}x C", median(got_ratio)));
    // The outbox: the application's row and a raw outbox row, against its
    // row and a put_in, in one transaction.
    let q_tx = queue(url, &names[2])?;
    let (mut alone, mut with, mut with_ratio) = (vec![], vec![], vec![]);
    for _ in 0..rounds {
        let a = rate_for(window, || {
            i += 1;
            u64::from(raw.outbox(i, None).is_ok())
        });
        let w = rate_for(window, || {
            i += 1;
            u64::from(raw.outbox(i, Some(&q_tx)).is_ok())
        });
        alone.push(a);
        with.push(w);
        with_ratio.push(w / a);
    }
    row(
        "raw client: transaction of 2 INSERTs (a row + an outbox row) + COMMIT (baseline T)",
        median(alone),
        "1.00",
    );
    row("the same with put_in as the outbox row", median(with), &format!("{:.2}x T", median(with_ratio)));
    drop(q_tx);
    let (p, g, k) = crate::bench_sqlite::batch_rates(&queue(url, &names[2])?, args.rounds)?;
    row("put_many of 1,000", p, "");
    row("get_many of 1,000", g, "");
    row("ack_many of 1,000", k, "");
    let per = (got * args.seconds * 2.0).max(1000.0) as u64;
    let one = consumers(url, &names[3], per, 1)?;
    let eight = consumers(url, &names[4], per * 4, 8)?;
    row("1 consumer process, get + ack", one, "1.00");
    row("8 consumer processes, get + ack", eight, &format!("{:.2}x 1 process", eight / one));
    drop(q);
    raw.clean(&names.iter().map(|n| format!("ack_queue_{n}")).collect::<Vec<_>>())?;
    println!();
    Ok(())
}

/// For `pq bench --report`: timed single puts of a raw client and of the
/// ack queue on one server, in that order.
pub(crate) fn timed_puts(
    server: &str,
    url: &str,
    window: Duration,
) -> R<(crate::report::Timing, crate::report::Timing)> {
    let mut raw: Box<dyn Raw> = match server {
        "PostgreSQL" => Box::new(RawPg::connect(url)?),
        _ => Box::new(RawMy::connect(url)?),
    };
    let name = format!("bench_report_{}", std::process::id());
    let baseline = crate::report::timed(window, 100, |i| raw.insert(i))?;
    let q = queue(url, &name)?;
    let ours = crate::report::timed(window, 100, |i| q.put(&format!("bench{i}")).map(|_| ()).map_err(err))?;
    drop(q);
    raw.clean(&[format!("ack_queue_{name}")])?;
    Ok((baseline, ours))
}
