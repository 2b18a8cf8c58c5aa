//! TLS to the database servers, tried as a user would, through the URL:
//! `verify-full` with the servers' CA succeeds and is really encrypted,
//! fails for a host name the certificate does not carry and for a CA that
//! did not sign it; `verify-ca` accepts any name; a plain connection to a
//! server (or user) that accepts only TLS is refused with the server's
//! reason, at once (never retried for the whole window). Needs the servers
//! `.ci/servers start` makes (`PQ_TLS_CA`, `MYSQL_TLS_ONLY_URL`,
//! `PG_TLS_ONLY_USER`); skips without them unless `PQ_REQUIRE_SERVERS=1`.

use std::time::{Duration, Instant};

use persist_queue::{AckQueue, Error};
use persist_queue_core::records::server::TlsMode;
use persist_queue_tests::{fresh_table_name, servers};

fn env(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ if std::env::var("PQ_REQUIRE_SERVERS").is_ok_and(|v| v == "1") => {
            panic!("{var} is not set, and PQ_REQUIRE_SERVERS=1: the TLS tests must run")
        }
        _ => None,
    }
}

/// `url` with its host replaced by `host` and the query `query` added.
fn with(url: &str, host: &str, query: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (auth, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (user, hostport) = auth.rsplit_once('@').map_or(("", auth), |(u, h)| (u, h));
    let port = hostport.rsplit_once(':').map_or("", |(_, p)| p);
    let at = if user.is_empty() { String::new() } else { format!("{user}@") };
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{scheme}://{at}{host}:{port}/{path}{sep}{query}")
}

fn round_trip(url: &str) -> Result<String, Error> {
    let name = fresh_table_name("tls");
    let q = AckQueue::server(url).name(name.as_str()).open::<String>()?;
    q.put(&"over tls".to_string())?;
    let d = q.get()?;
    q.ack(&d)?;
    Ok(name)
}

fn refused(url: &str, what: &str) -> String {
    let start = Instant::now();
    let err = round_trip(url).expect_err(what);
    assert!(start.elapsed() < Duration::from_secs(10), "{what}: refused at once, not retried ({err})");
    let text = format!("{err} {:?}", std::error::Error::source(&err).map(ToString::to_string));
    eprintln!("{what}: {text}");
    text
}

#[test]
fn postgres_tls_modes() {
    let (Ok(url), Some(ca), Some(other), Some(tls_only)) =
        (servers::pg_url(), env("PQ_TLS_CA"), env("PQ_TLS_OTHER_CA"), env("PG_TLS_ONLY_USER"))
    else {
        return eprintln!("skipped: no PostgreSQL with TLS");
    };
    // verify-full with the CA, to the name the certificate carries.
    let full = with(&url, "localhost", &format!("sslmode=verify-full&sslrootcert={ca}"));
    let table = round_trip(&full).expect("verify-full to localhost with the CA");
    // The server agrees the connection is encrypted, and a DBA finds it by
    // its application name.
    let mut dba = postgres::Client::connect(&url, postgres::NoTls).expect("a plain admin connection");
    let _ = dba.execute("SELECT 1", &[]);
    let q = AckQueue::server(full.as_str()).name(table.as_str()).open::<String>().expect("reopen");
    q.put(&"seen".to_string()).expect("put");
    let rows = dba
        .query(
            "SELECT s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.application_name LIKE $1",
            &[&format!("persist-queue %{table}")],
        )
        .expect("pg_stat_activity");
    assert!(!rows.is_empty(), "the queue's connections are named persist-queue <its table>");
    assert!(rows.iter().all(|r| r.get::<_, bool>(0)), "every connection of the queue uses TLS");
    drop(q);

    let text =
        refused(&with(&url, "127.0.0.1", &format!("sslmode=verify-full&sslrootcert={ca}")), "wrong name");
    assert!(text.contains("NotValidForName") || text.contains("name"), "names the name mismatch: {text}");
    let text =
        refused(&with(&url, "localhost", &format!("sslmode=verify-full&sslrootcert={other}")), "other CA");
    assert!(text.contains("UnknownIssuer") || text.contains("certificate"), "names the certificate: {text}");
    round_trip(&with(&url, "127.0.0.1", &format!("sslmode=verify-ca&sslrootcert={ca}"))).expect("verify-ca");
    round_trip(&with(&url, "127.0.0.1", "sslmode=require")).expect("require without a CA");

    // A user the server lets in only over TLS.
    let user_url = |query: &str| {
        let u = with(&url, "127.0.0.1", query);
        let (scheme, rest) = u.split_once("://").expect("a URL");
        let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
        format!("{scheme}://{tls_only}@{rest}")
    };
    let text = refused(&user_url("sslmode=disable"), "plain to a TLS-only user");
    assert!(text.contains("no encryption"), "the server's reason: {text}");
    round_trip(&user_url("sslmode=require")).expect("the same user over TLS");

    // A user who logs in with a client certificate, and without one cannot.
    let (Some(cert), Some(key)) = (env("PQ_TLS_CLIENT_CERT"), env("PQ_TLS_CLIENT_KEY")) else { return };
    let cert_url = |query: &str| {
        let u = with(&url, "127.0.0.1", query);
        let (scheme, rest) = u.split_once("://").expect("a URL");
        format!("{scheme}://pq_cert@{}", rest.rsplit_once('@').map_or(rest, |(_, r)| r))
    };
    round_trip(&cert_url(&format!("sslmode=verify-ca&sslrootcert={ca}&sslcert={cert}&sslkey={key}")))
        .expect("a certificate login");
    let text = refused(&cert_url(&format!("sslmode=verify-ca&sslrootcert={ca}")), "no client certificate");
    assert!(text.contains("certificate"), "the server asks for a certificate: {text}");
}

#[test]
fn mysql_tls_modes() {
    let (Ok(url), Some(ca), Some(other), Some(tls_only)) =
        (servers::mysql_url(), env("PQ_TLS_CA"), env("PQ_TLS_OTHER_CA"), env("MYSQL_TLS_ONLY_URL"))
    else {
        return eprintln!("skipped: no MariaDB with TLS");
    };
    round_trip(&with(&url, "localhost", &format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={ca}")))
        .expect("verify-identity to localhost with the CA");
    let text =
        refused(&with(&url, "127.0.0.1", &format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={ca}")), "wrong name");
    assert!(text.contains("NotValidForName") || text.contains("name"), "names the name mismatch: {text}");
    let text =
        refused(&with(&url, "localhost", &format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={other}")), "other CA");
    assert!(text.contains("UnknownIssuer") || text.contains("certificate"), "names the certificate: {text}");
    round_trip(&with(&url, "127.0.0.1", &format!("ssl-mode=VERIFY_CA&ssl-ca={ca}"))).expect("verify-ca");

    // A server that refuses plain connections.
    let text = refused(&with(&tls_only, "127.0.0.1", "ssl-mode=DISABLED"), "plain to a TLS-only server");
    assert!(text.to_lowercase().contains("tls"), "says TLS may be what is missing: {text}");
    round_trip(&with(&tls_only, "127.0.0.1", "ssl-mode=REQUIRED")).expect("the TLS-only server over TLS");
    round_trip(&with(&tls_only, "localhost", &format!("ssl-mode=VERIFY_IDENTITY&ssl-ca={ca}")))
        .expect("the TLS-only server verified");
}

#[test]
fn remote_hosts_default_to_tls() {
    use persist_queue_mysql::Connect as MyConnect;
    use persist_queue_postgres::Connect as PgConnect;
    let pg = |u: &str| PgConnect::url(u).expect("a URL").tls_mode();
    assert_eq!(pg("postgresql://u@db.example.com/x"), TlsMode::Require);
    assert_eq!(pg("postgresql://u@127.0.0.1/x"), TlsMode::Disable);
    assert_eq!(pg("postgresql://u@db.example.com/x?sslmode=disable"), TlsMode::Disable);
    assert!(PgConnect::url("postgresql://u@h/x?sslmode=sometimes").is_err(), "an unknown mode is an error");
    assert!(
        PgConnect::url("postgresql://u@h/x?sslrootcert=/nonexistent/ca.pem").is_err(),
        "a missing CA file is an error of the setup"
    );
    let my = |u: &str| MyConnect::url(u).expect("a URL").tls_mode();
    assert_eq!(my("mysql://u@db.example.com/x"), TlsMode::Require);
    assert_eq!(my("mysql://u@localhost/x"), TlsMode::Disable);
    assert_eq!(my("mysql://u@db.example.com/x?ssl-mode=VERIFY_CA&ssl-ca=/a.pem"), TlsMode::VerifyCa);
}
