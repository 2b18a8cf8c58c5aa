//! The JavaScript side: `js/idb.js` (requests and transactions as
//! promises, open with an upgrade callback) and small conversions.

use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbRequest, IdbTransaction};

use crate::error::IdbError;

#[wasm_bindgen(module = "/js/idb.js")]
extern "C" {
    #[wasm_bindgen(js_name = request)]
    fn request_promise(req: &IdbRequest) -> js_sys::Promise;
    #[wasm_bindgen(js_name = transaction, catch)]
    fn transaction_js(
        db: &IdbDatabase,
        stores: &Array,
        mode: &str,
        durability: &str,
    ) -> Result<IdbTransaction, JsValue>;
    #[wasm_bindgen(js_name = finished)]
    fn finished_promise(tx: &IdbTransaction) -> js_sys::Promise;
    #[wasm_bindgen(js_name = open)]
    fn open_promise(name: &str, version: u32, schema: &str) -> js_sys::Promise;
    #[wasm_bindgen(js_name = remove)]
    fn remove_promise(name: &str) -> js_sys::Promise;
}

/// A request issued now, its result awaited later ([`settled`]).
pub(crate) fn pending(req: Result<IdbRequest, JsValue>) -> Result<js_sys::Promise, IdbError> {
    req.map(|r| request_promise(&r)).map_err(IdbError::from_js)
}

/// The result of a [`pending`] request.
pub(crate) async fn settled(p: js_sys::Promise) -> Result<JsValue, IdbError> {
    JsFuture::from(p).await.map_err(IdbError::from_js)
}

/// A request's result.
pub(crate) async fn request(req: Result<IdbRequest, JsValue>) -> Result<JsValue, IdbError> {
    settled(pending(req)?).await
}

/// A transaction; `readwrite` ones carry the durability hint.
pub(crate) fn transaction(
    db: &IdbDatabase,
    stores: &[&str],
    write: bool,
    strict: bool,
) -> Result<IdbTransaction, IdbError> {
    let names: Array = stores.iter().map(|s| JsValue::from_str(s)).collect();
    let mode = if write { "readwrite" } else { "readonly" };
    transaction_js(db, &names, mode, if strict { "strict" } else { "relaxed" }).map_err(IdbError::from_js)
}

/// Waits until `tx` commits (for a strict one: on disk). It commits on
/// its own once its last request is answered: asking with `commit()` was
/// measured slower (a call per transaction, no earlier commit).
pub(crate) async fn finish(tx: &IdbTransaction) -> Result<(), IdbError> {
    JsFuture::from(finished_promise(tx)).await.map(drop).map_err(IdbError::from_js)
}

/// Opens (creating or upgrading) a database.
pub(crate) async fn open(name: &str, version: u32, schema: &str) -> Result<IdbDatabase, IdbError> {
    let db = JsFuture::from(open_promise(name, version, schema)).await.map_err(IdbError::from_js)?;
    db.dyn_into().map_err(|_| IdbError::Protocol("open did not answer a database"))
}

/// Deletes a database (and every queue or map in it).
pub(crate) async fn delete_database(name: &str) -> Result<(), IdbError> {
    JsFuture::from(remove_promise(name)).await.map(drop).map_err(IdbError::from_js)
}

/// A new plain object.
pub(crate) fn object() -> Object {
    Object::new()
}

/// Sets `o[k] = v`.
pub(crate) fn set(o: &Object, k: &str, v: &JsValue) {
    // Setting a property on a plain object cannot fail.
    let _ = Reflect::set(o, &JsValue::from_str(k), v);
}

/// Removes `o[k]`.
pub(crate) fn unset(o: &Object, k: &str) {
    let _ = Reflect::delete_property(o, &JsValue::from_str(k));
}

/// `o[k]`, or `undefined`.
pub(crate) fn get(o: &JsValue, k: &str) -> JsValue {
    Reflect::get(o, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED)
}

/// `o[k]` as a number.
pub(crate) fn num(o: &JsValue, k: &str) -> Result<f64, IdbError> {
    get(o, k).as_f64().ok_or(IdbError::Corrupted("a stored number is missing"))
}

/// `o[k]` as bytes.
pub(crate) fn bytes(o: &JsValue, k: &str) -> Result<Vec<u8>, IdbError> {
    bytes_of(&get(o, k))
}

/// Bytes as a new `Uint8Array`.
pub(crate) fn uint8(b: &[u8]) -> JsValue {
    Uint8Array::from(b).into()
}

/// A stored `Uint8Array` or `ArrayBuffer` (binary keys read back as
/// `ArrayBuffer`) as bytes.
pub(crate) fn bytes_of(v: &JsValue) -> Result<Vec<u8>, IdbError> {
    if v.is_instance_of::<Uint8Array>() || v.is_instance_of::<js_sys::ArrayBuffer>() {
        Ok(Uint8Array::new(v).to_vec())
    } else {
        Err(IdbError::Corrupted("stored bytes are missing"))
    }
}
