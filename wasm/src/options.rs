//! Reading the options objects JavaScript passes (`undefined` = defaults;
//! a wrong type is an `InvalidOption` error, never ignored).

use js_sys::Reflect;
use persist_queue_core::Durability;
use wasm_bindgen::JsValue;

use crate::error::js_error;
use crate::store::Backend;

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// `OpenOptions` of the TypeScript declarations.
    #[wasm_bindgen(typescript_type = "OpenOptions")]
    pub type OpenOptions;
    /// `PutOptions`.
    #[wasm_bindgen(typescript_type = "PutOptions")]
    pub type PutOptions;
    /// `GetOptions`.
    #[wasm_bindgen(typescript_type = "GetOptions")]
    pub type GetOptions;
    /// `ClearOptions`.
    #[wasm_bindgen(typescript_type = "ClearOptions")]
    pub type ClearOptions;
}

/// An options object.
pub(crate) struct Options(JsValue);

fn bad(what: &str) -> JsValue {
    js_error("InvalidOption", what)
}

/// A JavaScript number.
pub(crate) fn number(v: &JsValue) -> Result<f64, JsValue> {
    v.as_f64().ok_or_else(|| bad("expected a number"))
}

impl Options {
    pub(crate) fn new(v: JsValue) -> Result<Options, JsValue> {
        if v.is_undefined() || v.is_null() || v.is_object() {
            Ok(Options(v))
        } else {
            Err(bad("options must be an object"))
        }
    }

    fn get(&self, k: &str) -> JsValue {
        if self.0.is_object() {
            Reflect::get(&self.0, &k.into()).unwrap_or(JsValue::UNDEFINED)
        } else {
            JsValue::UNDEFINED
        }
    }

    pub(crate) fn flag(&self, k: &str, default: bool) -> Result<bool, JsValue> {
        let v = self.get(k);
        if v.is_undefined() {
            Ok(default)
        } else {
            v.as_bool().ok_or_else(|| bad(&format!("{k} must be a boolean")))
        }
    }

    pub(crate) fn number(&self, k: &str) -> Result<Option<f64>, JsValue> {
        let v = self.get(k);
        if v.is_undefined() || v.is_null() {
            Ok(None)
        } else {
            v.as_f64().map(Some).ok_or_else(|| bad(&format!("{k} must be a number")))
        }
    }

    pub(crate) fn string(&self, k: &str) -> Result<Option<String>, JsValue> {
        let v = self.get(k);
        if v.is_undefined() {
            Ok(None)
        } else {
            v.as_string().map(Some).ok_or_else(|| bad(&format!("{k} must be a string")))
        }
    }

    pub(crate) fn backend(&self) -> Result<Backend, JsValue> {
        match self.string("backend")? {
            None => Ok(Backend::IndexedDb),
            Some(s) => Backend::parse(&s).ok_or_else(|| bad("backend is \"indexeddb\" or \"localStorage\"")),
        }
    }

    /// `"strict"` (synced) or `"relaxed"` (buffered); by default
    /// [`Backend::default_durability`].
    pub(crate) fn durability(&self) -> Result<Durability, JsValue> {
        match self.string("durability")?.as_deref() {
            None => Ok(self.backend()?.default_durability()),
            Some("strict" | "synced") => Ok(Durability::Synced),
            Some("relaxed" | "buffered") => Ok(Durability::Buffered),
            Some(_) => Err(bad("durability is \"strict\" or \"relaxed\"")),
        }
    }

    /// The delivery order a class allows choosing (`order`: "fifo", "filo").
    pub(crate) fn filo(&self) -> Result<bool, JsValue> {
        match self.string("order")?.as_deref() {
            None | Some("fifo") => Ok(false),
            Some("filo") => Ok(true),
            Some(_) => Err(bad("order is \"fifo\" or \"filo\"")),
        }
    }
}
