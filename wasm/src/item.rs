//! Items as stored: a tag byte, then JSON text (any JSON-compatible
//! value) or the bytes of a `Uint8Array` as they are.

use js_sys::{JSON, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};

use crate::error::js_error;
use crate::host;

const JSON_TAG: u8 = 0;
const BYTES_TAG: u8 = 1;

/// An encoded item and, for unique queues, its canonical encoding.
pub(crate) struct Encoded {
    pub(crate) payload: Vec<u8>,
    pub(crate) canonical: Option<Vec<u8>>,
}

fn invalid(why: &str) -> JsValue {
    js_error("InvalidItem", why)
}

/// Encodes `value`; `unique` also computes its canonical form (JSON with
/// sorted keys, so `{b:1,a:2}` equals `{a:2,b:1}`).
pub(crate) fn encode(value: &JsValue, unique: bool) -> Result<Encoded, JsValue> {
    if let Some(bytes) = value.dyn_ref::<Uint8Array>() {
        let mut payload = Vec::with_capacity(bytes.length() as usize + 1);
        payload.push(BYTES_TAG);
        payload.extend_from_slice(&bytes.to_vec());
        return Ok(Encoded { payload, canonical: None });
    }
    if value.is_undefined() || value.is_function() || value.is_symbol() {
        return Err(invalid("an item must be a JSON-compatible value or a Uint8Array"));
    }
    let text = JSON::stringify(value)
        .map_err(|e| invalid(&format!("the item does not convert to JSON: {e:?}")))?
        .as_string()
        .ok_or_else(|| invalid("the item does not convert to JSON"))?;
    let mut payload = Vec::with_capacity(text.len() + 1);
    payload.push(JSON_TAG);
    payload.extend_from_slice(text.as_bytes());
    let canonical = if unique {
        let c = host::canonical_json(value).map_err(|_| invalid("the item does not convert to JSON"))?;
        let mut out = vec![JSON_TAG];
        out.extend_from_slice(c.as_string().unwrap_or_default().as_bytes());
        Some(out)
    } else {
        None
    };
    Ok(Encoded { payload, canonical })
}

/// Decodes a stored item; a payload this code did not write is
/// `Corrupted`, never handed out as garbage.
pub(crate) fn decode(payload: &[u8]) -> Result<JsValue, JsValue> {
    match payload.split_first() {
        Some((&BYTES_TAG, rest)) => Ok(Uint8Array::from(rest).into()),
        Some((&JSON_TAG, rest)) => {
            let text = core::str::from_utf8(rest)
                .map_err(|_| js_error("Corrupted", "stored item is not UTF-8 JSON"))?;
            JSON::parse(text).map_err(|_| js_error("Corrupted", "stored item is not JSON"))
        }
        _ => Err(js_error("Corrupted", "stored item has an unknown tag")),
    }
}
