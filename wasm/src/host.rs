//! Bindings to `js/host.js`: wake-ups, Web Locks, canonical JSON, errors.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/host.js")]
extern "C" {
    /// Wakes waiting gets across tabs and workers.
    pub(crate) type Waker;
    #[wasm_bindgen(constructor)]
    pub(crate) fn new(name: &str) -> Waker;
    #[wasm_bindgen(method)]
    pub(crate) fn notify(this: &Waker);
    #[wasm_bindgen(method)]
    pub(crate) fn wait(this: &Waker, ms: f64) -> js_sys::Promise;
    #[wasm_bindgen(method)]
    pub(crate) fn close(this: &Waker);

    #[wasm_bindgen(js_name = hasLocks)]
    pub(crate) fn has_locks() -> bool;
    #[wasm_bindgen(js_name = hold)]
    pub(crate) fn hold(name: &str, if_available: bool) -> js_sys::Promise;
    #[wasm_bindgen(js_name = heldLocks)]
    pub(crate) fn held_locks(prefix: &str) -> js_sys::Promise;
    #[wasm_bindgen(js_name = newSession)]
    pub(crate) fn new_session() -> String;
    #[wasm_bindgen(js_name = canonicalJson, catch)]
    pub(crate) fn canonical_json(value: &JsValue) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = storeExists)]
    pub(crate) fn store_exists(kind: &str, name: &str) -> js_sys::Promise;
    #[wasm_bindgen(js_name = queueError)]
    pub(crate) fn queue_error(code: &str, message: &str) -> JsValue;
}

/// Releases a lock taken by [`hold`]; resolves once it is free.
pub(crate) async fn release(lock: &JsValue) {
    if let Ok(f) = js_sys::Reflect::get(lock, &"release".into())
        && let Some(f) = f.dyn_ref::<js_sys::Function>()
        && let Ok(p) = f.call0(lock)
        && let Ok(p) = p.dyn_into::<js_sys::Promise>()
    {
        let _ = wasm_bindgen_futures::JsFuture::from(p).await;
    }
}

/// `Date.now()`.
pub(crate) fn now_ms() -> u64 {
    js_sys::Date::now() as u64
}
