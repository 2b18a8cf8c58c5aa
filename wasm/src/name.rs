//! A queue's or dictionary's name as the browser stores know it.
//!
//! Names are case-insensitive ([`persist_queue_core::records::store_name`]):
//! stores are named by the lowercase form. A store an older version created
//! under the name as given (with capitals) is still found: it is used if it
//! is the only one, and two stores differing only in case are reported,
//! never picked between.

use persist_queue_core::records::{NAME_MAX, valid_name};
use wasm_bindgen::JsValue;

use crate::error::js_error;
use crate::handle::await_js;
use crate::host;

/// Which kind of name: a queue's or a dictionary's.
#[derive(Clone, Copy)]
pub(crate) enum Named {
    Queue,
    Dict,
}

/// The name the store of `name` is under (`idb`: IndexedDB, else
/// localStorage), or `InvalidName`.
pub(crate) async fn stored_name(name: &str, named: Named, idb: bool) -> Result<String, JsValue> {
    let what = match named {
        Named::Queue => "queue",
        Named::Dict => "dictionary",
    };
    if !valid_name(name) {
        return Err(js_error(
            "InvalidName",
            &format!("a {what} name is 1 to {NAME_MAX} of A-Z, a-z, 0-9 and _"),
        ));
    }
    let lower = name.to_ascii_lowercase();
    if lower == name {
        return Ok(lower);
    }
    let store = |n: &str| match (named, idb) {
        (Named::Queue, true) => persist_queue_indexeddb::database_name(n),
        (Named::Dict, true) => persist_queue_indexeddb::map_database_name(n),
        (Named::Queue, false) => persist_queue_local_storage::key_prefix(n),
        (Named::Dict, false) => persist_queue_local_storage::map_key_prefix(n),
    };
    let kind = if idb { "idb" } else { "ls" };
    let exists = |n: String| async move {
        Ok::<_, JsValue>(await_js(host::store_exists(kind, &n)).await?.is_truthy())
    };
    match (exists(store(name)).await?, exists(store(&lower)).await?) {
        (true, true) => Err(js_error(
            "InvalidName",
            &format!(
                "names are case-insensitive, and two {what}s differ only in case: {name:?} and {lower:?}"
            ),
        )),
        (true, false) => Ok(name.to_string()),
        _ => Ok(lower),
    }
}
