//! Connection settings every server store (PostgreSQL, MySQL / MariaDB)
//! reads the same way: the TLS mode and its default by host, and the
//! parameters persist-queue takes out of a connection string before the
//! client library parses the rest.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// How a connection to a database server is protected. Spelled in a URL
/// the PostgreSQL way (`sslmode=disable|prefer|require|verify-ca|verify-full`)
/// or the MySQL way (`ssl-mode=DISABLED|PREFERRED|REQUIRED|VERIFY_CA|VERIFY_IDENTITY`),
/// either spelling on either server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain TCP: credentials and items in clear.
    Disable,
    /// TLS when the server offers it, plain otherwise; the certificate is
    /// not checked (PostgreSQL only: the MySQL client cannot fall back).
    Prefer,
    /// TLS or no connection; the certificate is not checked (encryption
    /// against a passive listener, not against an impostor).
    Require,
    /// TLS, and the server's certificate must chain to a trusted root (the
    /// CA file given, or the bundled Mozilla roots); any host name.
    VerifyCa,
    /// `VerifyCa`, and the certificate must name the host connected to.
    VerifyFull,
}

impl TlsMode {
    /// Reads either spelling, case-insensitively; `None` for anything else.
    pub fn parse(text: &str) -> Option<TlsMode> {
        let lower = text.to_ascii_lowercase().replace('_', "-");
        Some(match lower.as_str() {
            "disable" | "disabled" => TlsMode::Disable,
            "prefer" | "preferred" => TlsMode::Prefer,
            "require" | "required" => TlsMode::Require,
            "verify-ca" => TlsMode::VerifyCa,
            "verify-full" | "verify-identity" => TlsMode::VerifyFull,
            _ => return None,
        })
    }

    /// The mode a connection gets when none is given: [`TlsMode::Disable`]
    /// for a loopback host (`localhost`, `127.0.0.0/8`, `::1`) or a Unix
    /// socket path, [`TlsMode::Require`] for every other host, so that
    /// nothing crosses a network in clear unless asked to.
    pub fn default_for(host: &str) -> TlsMode {
        if is_loopback(host) { TlsMode::Disable } else { TlsMode::Require }
    }

    /// Whether the connection is encrypted whatever the server offers.
    pub fn requires_tls(self) -> bool {
        matches!(self, TlsMode::Require | TlsMode::VerifyCa | TlsMode::VerifyFull)
    }
}

/// Whether `host` names this machine: `localhost`, an address in
/// `127.0.0.0/8`, `::1`, or a Unix socket directory (a path).
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost") || host == "::1" || host.starts_with('/') || host.is_empty() {
        return true;
    }
    let mut parts = host.split('.');
    parts.next() == Some("127") && {
        let rest: Vec<&str> = parts.collect();
        rest.len() == 3 && rest.iter().all(|p| p.parse::<u8>().is_ok())
    }
}

/// Takes the parameters named in `keys` out of a connection string: a URL
/// (`scheme://…?a=1&b=2`, values percent-decoded) or PostgreSQL's
/// key-value form (`host=h sslmode=require`, values optionally in single
/// quotes). Returns the string without them, for the client library, and
/// the `(key, value)` pairs taken, in order. Keys compare
/// case-insensitively with `-` and `_` alike.
pub fn take_params(conn: &str, keys: &[&str]) -> (String, Vec<(String, String)>) {
    let wanted = |k: &str| keys.iter().any(|w| same_key(w, k));
    let mut taken = Vec::new();
    if let Some((base, query)) = conn.split_once('?').filter(|_| conn.contains("://")) {
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            if wanted(k) {
                taken.push((k.to_string(), percent_decode(v)));
            } else {
                kept.push(pair);
            }
        }
        let rest =
            if kept.is_empty() { base.to_string() } else { alloc::format!("{base}?{}", kept.join("&")) };
        return (rest, taken);
    }
    if conn.contains("://") {
        return (conn.to_string(), taken);
    }
    let mut kept = Vec::new();
    for (k, v, raw) in key_values(conn) {
        if wanted(&k) { taken.push((k, v)) } else { kept.push(raw) }
    }
    (kept.join(" "), taken)
}

fn same_key(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes().zip(b.bytes()).all(|(x, y)| {
            let norm = |c: u8| if c == b'-' { b'_' } else { c.to_ascii_lowercase() };
            norm(x) == norm(y)
        })
}

/// `key=value` tokens of the key-value form, each with its raw text.
fn key_values(conn: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut chars = conn.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut key = String::new();
        while let Some(&(_, c)) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|&(_, c)| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek().is_some_and(|&(_, c)| c == '=') {
            chars.next();
            while chars.peek().is_some_and(|&(_, c)| c.is_whitespace()) {
                chars.next();
            }
            if chars.peek().is_some_and(|&(_, c)| c == '\'') {
                chars.next();
                while let Some((_, c)) = chars.next() {
                    match c {
                        '\'' => break,
                        '\\' => value.extend(chars.next().map(|(_, c)| c)),
                        c => value.push(c),
                    }
                }
            } else {
                while let Some(&(_, c)) = chars.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    value.push(c);
                    chars.next();
                }
            }
        }
        let end = chars.peek().map_or(conn.len(), |&(i, _)| i);
        out.push((key, value, conn[start..end].trim_end().to_string()));
    }
    out
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_read_both_spellings() {
        assert_eq!(TlsMode::parse("verify-full"), Some(TlsMode::VerifyFull));
        assert_eq!(TlsMode::parse("VERIFY_IDENTITY"), Some(TlsMode::VerifyFull));
        assert_eq!(TlsMode::parse("REQUIRED"), Some(TlsMode::Require));
        assert_eq!(TlsMode::parse("verify_ca"), Some(TlsMode::VerifyCa));
        assert_eq!(TlsMode::parse("allow"), None);
    }

    #[test]
    fn remote_hosts_require_tls_by_default() {
        for local in ["localhost", "127.0.0.1", "127.1.2.3", "::1", "[::1]", "/var/run/postgresql"] {
            assert_eq!(TlsMode::default_for(local), TlsMode::Disable, "{local}");
        }
        for remote in ["db.example.com", "10.0.0.5", "127.0.0.1.example.com", "1270.0.0.1"] {
            assert_eq!(TlsMode::default_for(remote), TlsMode::Require, "{remote}");
        }
    }

    #[test]
    fn params_leave_the_url_and_the_key_value_form() {
        let (rest, taken) = take_params(
            "postgresql://u@h/db?sslmode=verify-full&connect_timeout=3&sslrootcert=%2Ftmp%2Fca.pem",
            &["sslmode", "sslrootcert"],
        );
        assert_eq!(rest, "postgresql://u@h/db?connect_timeout=3");
        assert_eq!(
            taken,
            [("sslmode".into(), "verify-full".into()), ("sslrootcert".into(), "/tmp/ca.pem".into())]
        );
        let (rest, taken) = take_params("mysql://u@h/db?ssl-mode=REQUIRED", &["ssl_mode"]);
        assert_eq!((rest.as_str(), taken[0].1.as_str()), ("mysql://u@h/db", "REQUIRED"));
        let (rest, taken) = take_params(
            "host=h sslmode = require user=u sslrootcert='/a b/ca.pem'",
            &["sslmode", "sslrootcert"],
        );
        assert_eq!(rest, "host=h user=u");
        assert_eq!(taken[1].1, "/a b/ca.pem");
    }
}
