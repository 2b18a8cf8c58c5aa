//! Table names come only from validated queue names: SQL never sees
//! unvalidated user text (persist-queue pastes names into backticks, B4a).

use std::fmt;

/// A table name refused because it is not `[A-Za-z0-9_]{1,128}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidName(pub String);

impl fmt::Display for InvalidName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid table name {:?}: use 1 to 128 of A-Z, a-z, 0-9 and _", self.0)
    }
}

impl std::error::Error for InvalidName {}

/// A validated SQL identifier: `[A-Za-z0-9_]{1,128}` (room for a kind's
/// prefix before a 64-byte queue name; SQLite itself has no limit), so it
/// needs no escaping; it is still double-quoted wherever it is used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident(String);

impl Ident {
    /// Validates `name`.
    pub fn new(name: &str) -> Result<Ident, InvalidName> {
        if persist_queue_core::records::valid_store_name(name) {
            Ok(Ident(name.to_string()))
        } else {
            Err(InvalidName(name.to_string()))
        }
    }

    /// The identifier, double-quoted.
    pub fn quoted(&self) -> String {
        format!("\"{}\"", self.0)
    }

    /// The bare identifier.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_are_refused() {
        for bad in ["", "a`b", "x\"; DROP TABLE t; --", "ümlaut", "sp ace", &"n".repeat(129)] {
            assert!(Ident::new(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Ident::new("ack_queue_default").expect("valid").quoted(), "\"ack_queue_default\"");
    }
}
