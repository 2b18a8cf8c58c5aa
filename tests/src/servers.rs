//! Which database servers the server tests use: `PG_URL` and `MYSQL_URL`.
//! Unset on a developer's machine: those tests skip, saying so. With
//! `PQ_REQUIRE_SERVERS=1` (CI), an unset URL fails them instead.

fn url(var: &str) -> Result<String, String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Ok(url),
        _ if std::env::var("PQ_REQUIRE_SERVERS").is_ok_and(|v| v == "1") => {
            panic!("{var} is not set, and PQ_REQUIRE_SERVERS=1: the server tests must run")
        }
        _ => Err(format!("{var} is not set (start servers with `.ci/servers start DIR`)")),
    }
}

/// The PostgreSQL server's URL, or why there is none.
pub fn pg_url() -> Result<String, String> {
    url("PG_URL")
}

/// The MySQL / MariaDB server's URL, or why there is none.
pub fn mysql_url() -> Result<String, String> {
    url("MYSQL_URL")
}

/// The URLs of the servers configured here (none on a machine without
/// them, unless `PQ_REQUIRE_SERVERS=1`, which makes a missing one fail).
pub fn configured() -> Vec<String> {
    [pg_url(), mysql_url()].into_iter().filter_map(Result::ok).collect()
}
