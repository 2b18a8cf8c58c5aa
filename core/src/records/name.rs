//! Queue and map names: one rule for every backend.
//!
//! A name is 1 to [`NAME_MAX`] of `A-Z`, `a-z`, `0-9` and `_`, counted on
//! the name the user gives (never on a prefixed table name). Names are
//! **case-insensitive**: `Jobs` and `jobs` are the same queue on every
//! backend and operating system, because SQLite and MySQL table names and
//! the macOS and Windows filesystems fold case, so only that rule can hold
//! everywhere. Stores are named by [`store_name`], the lowercase form;
//! stores name nothing from unvalidated user text, so no name ever needs
//! escaping (persist-queue pastes names into SQL, B4a).

use alloc::format;
use alloc::string::String;

use sha2::{Digest, Sha256};

/// The longest name, in bytes (= characters: names are ASCII).
pub const NAME_MAX: usize = 64;

/// Whether `name` may name a queue or a map: 1 to [`NAME_MAX`] of `A-Z`,
/// `a-z`, `0-9` and `_`.
pub fn valid_name(name: &str) -> bool {
    (1..=NAME_MAX).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The longest store name: a kind's prefix and a [`NAME_MAX`] name fit.
pub const STORE_NAME_MAX: usize = 128;

/// Whether `ident` may name a store (what [`store_name`] returns, or a
/// table an adapter is handed): 1 to [`STORE_NAME_MAX`] of `A-Z`, `a-z`,
/// `0-9` and `_`, so it needs no escaping in SQL.
pub fn valid_store_name(ident: &str) -> bool {
    (1..=STORE_NAME_MAX).contains(&ident.len())
        && ident.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The name of the store (table, directory, database) holding the queue or
/// map `name` of the kind `prefix` (`ack_queue`, `dict`, ...):
/// `{prefix}_{name}` in lowercase, so names that differ only in case share
/// it. `name` must be valid.
pub fn store_name(prefix: &str, name: &str) -> String {
    format!("{prefix}_{}", name.to_ascii_lowercase())
}

/// `ident` if it has at most `max` bytes; otherwise its first bytes, `_`
/// and 16 hex digits of its SHA-256, `max` bytes in all — for stores whose
/// identifiers are shorter than a prefixed name can be (PostgreSQL: 63
/// bytes). Distinct identifiers stay distinct (up to a 64-bit digest
/// collision). `ident` must be ASCII and `max` at least 24.
pub fn fit_identifier(ident: &str, max: usize) -> String {
    if ident.len() <= max {
        return String::from(ident);
    }
    let digest = Sha256::digest(ident.as_bytes());
    let mut out = String::from(&ident[..max - 17]);
    out.push('_');
    for b in &digest[..8] {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_on_the_users_name() {
        assert!(valid_name(&"n".repeat(NAME_MAX)));
        assert!(!valid_name(&"n".repeat(NAME_MAX + 1)));
        for bad in ["", "a b", "a-b", "ü", "x\"y", "a;b"] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn case_does_not_name_another_store() {
        assert_eq!(store_name("ack_queue", "Jobs"), store_name("ack_queue", "jobs"));
        assert_eq!(store_name("dict", "A_1"), "dict_a_1");
    }

    #[test]
    fn long_identifiers_are_cut_to_distinct_ones() {
        let a = store_name("ack_unique_queue", &"n".repeat(64));
        let b = store_name("ack_unique_queue", &format!("{}m", "n".repeat(63)));
        let (fa, fb) = (fit_identifier(&a, 63), fit_identifier(&b, 63));
        assert_eq!((fa.len(), fb.len()), (63, 63));
        assert_ne!(fa, fb);
        assert!(fa.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_'));
        assert_eq!(fit_identifier("short", 63), "short");
    }
}
