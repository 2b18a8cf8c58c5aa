//! Errors as JavaScript sees them: an `Error` whose `code` is stable.

use persist_queue_core::records::{LogError, RecordError};
use persist_queue_indexeddb::IdbError;
use persist_queue_local_storage::LsError;
use wasm_bindgen::JsValue;

use crate::host;

/// A store's error, whichever backend.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    #[error(transparent)]
    Idb(#[from] IdbError),
    #[error(transparent)]
    Ls(#[from] LogError<LsError>),
}

impl StoreError {
    fn code(&self) -> &'static str {
        match self {
            StoreError::Idb(e) => e.code(),
            StoreError::Ls(LogError::Storage(e)) => e.code(),
            StoreError::Ls(LogError::Corrupted(..)) => "Corrupted",
            StoreError::Ls(LogError::Poisoned) => "Poisoned",
        }
    }
}

/// A JavaScript `Error` with `code`.
pub(crate) fn js_error(code: &str, message: &str) -> JsValue {
    host::queue_error(code, message)
}

/// A queue operation's error as a JavaScript `Error`.
pub(crate) fn from_record(e: RecordError<StoreError>) -> JsValue {
    let code = match &e {
        RecordError::Store(s) => s.code(),
        RecordError::UnknownId(_) => "UnknownId",
        RecordError::NotInFlight { .. } => "NotInFlight",
        RecordError::Duplicate => "Duplicate",
        RecordError::LeaseLost { .. } => "LeaseLost",
        _ => "Protocol",
    };
    js_error(code, &e.to_string())
}

/// A store error met outside a queue operation (open, delete).
pub(crate) fn from_store(e: impl Into<StoreError>) -> JsValue {
    let e = e.into();
    js_error(e.code(), &e.to_string())
}
