//! Uniqueness keys: the SHA-256 of an item's canonical encoding.

use sha2::{Digest, Sha256};

/// The uniqueness key of an item whose canonical encoding is `canonical`.
///
/// Hosts produce the canonical encoding (for serde values: maps with keys
/// in sorted order, so `{"b":1,"a":2}` and `{"a":2,"b":1}` are the same
/// item); the digest keeps keys fixed-size for every store.
pub fn unique_key(canonical: &[u8]) -> [u8; 32] {
    Sha256::digest(canonical).into()
}
