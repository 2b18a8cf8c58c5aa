//! The canonical encoding of a unique queue's item: what "the same item"
//! means, whatever the codec stores.
//!
//! The item is read into a JSON value and written with every map's keys in
//! byte order, by this code — never by the value's own map, whose order
//! depends on serde_json's `preserve_order` feature, which any crate in a
//! build can turn on. Maps that differ only in key (or iteration) order are
//! one item, on every codec. For a map without `preserve_order` the bytes
//! are exactly `serde_json::to_vec`'s, so queues written before this rule
//! keep their keys.
//!
//! An item JSON cannot represent (a map keyed by structs or sequences)
//! falls back to the codec's bytes: equal only if encoded alike.

use serde_json::Value;

/// The canonical bytes of `item`; `encoded` (the codec's bytes) when JSON
/// cannot represent it.
pub(crate) fn canonical_bytes<T: serde::Serialize + ?Sized>(item: &T, encoded: &[u8]) -> Vec<u8> {
    match serde_json::to_value(item) {
        Ok(value) => {
            let mut out = Vec::with_capacity(encoded.len() + 16);
            write_sorted(&value, &mut out);
            out
        }
        Err(_) => encoded.to_vec(),
    }
}

/// Writes `value` as compact JSON, map keys in byte order.
fn write_sorted(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                // Writing a string into a Vec cannot fail.
                let _ = serde_json::to_writer(&mut *out, key);
                out.push(b':');
                write_sorted(item, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_sorted(item, out);
            }
            out.push(b']');
        }
        leaf => write_leaf(leaf, out),
    }
}

fn write_leaf(leaf: &Value, out: &mut Vec<u8>) {
    // Writing a scalar JSON value into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, leaf);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap};

    #[test]
    fn maps_are_written_in_key_order_at_every_depth() {
        let a: Value = serde_json::from_str(r#"{"b":[{"z":1,"y":2}],"a":"x"}"#).expect("json");
        assert_eq!(canonical_bytes(&a, b""), br#"{"a":"x","b":[{"y":2,"z":1}]}"#);
    }

    #[test]
    fn the_bytes_are_serde_jsons_for_a_sorted_map() {
        let m: BTreeMap<String, Vec<f64>> = [("k".into(), vec![1.5, -0.0]), ("a\"".into(), vec![])].into();
        assert_eq!(canonical_bytes(&m, b""), serde_json::to_vec(&m).expect("json"));
    }

    #[test]
    fn equal_hash_maps_are_equal_bytes() {
        let one: HashMap<u32, &str> = (0..50).map(|i| (i, "v")).collect();
        let two: HashMap<u32, &str> = (0..50).rev().map(|i| (i, "v")).collect();
        assert_eq!(canonical_bytes(&one, b""), canonical_bytes(&two, b""));
    }

    #[test]
    fn what_json_cannot_hold_falls_back_to_the_codec_bytes() {
        let m: BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
        assert_eq!(canonical_bytes(&m, b"codec"), b"codec");
    }
}
