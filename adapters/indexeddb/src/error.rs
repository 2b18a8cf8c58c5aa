//! What can go wrong with IndexedDB, by what the caller can do about it.

use wasm_bindgen::{JsCast, JsValue};

/// An IndexedDB store failed. Whatever the error, a plan took effect
/// entirely or not at all (each plan is one transaction).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdbError {
    /// The origin's storage quota is used up (`QuotaExceededError`).
    /// Nothing of the plan was stored; what was stored before stays.
    #[error("storage quota exceeded: {0}")]
    QuotaExceeded(String),
    /// Another connection keeps an older version of the database open
    /// and does not close it, so it cannot be upgraded now.
    #[error("database upgrade blocked: {0}")]
    Blocked(String),
    /// The database was deleted, upgraded or closed elsewhere (another
    /// tab, the user clearing site data): reopen the queue.
    #[error("database closed (deleted or upgraded elsewhere): {0}")]
    Closed(String),
    /// There is no IndexedDB here (Node.js without a polyfill, some
    /// private modes).
    #[error("IndexedDB is not available: {0}")]
    Unavailable(String),
    /// The database holds data this code does not read (a newer format,
    /// a damaged record): nothing is handed out.
    #[error("stored data is damaged or of another format: {0}")]
    Corrupted(&'static str),
    /// A value cannot be stored exactly (a priority beyond ±2^53, which a
    /// JavaScript number cannot hold).
    #[error("value out of range: {0}")]
    OutOfRange(&'static str),
    /// IndexedDB answered something this code does not expect.
    #[error("unexpected answer from IndexedDB: {0}")]
    Protocol(&'static str),
    /// Any other IndexedDB error, by its DOMException name.
    #[error("{name}: {message}")]
    Js {
        /// The DOMException's name (`"AbortError"`, `"DataError"` ...).
        name: String,
        /// Its message.
        message: String,
    },
}

impl IdbError {
    /// Maps a thrown JavaScript value (usually a `DOMException`).
    pub(crate) fn from_js(e: JsValue) -> IdbError {
        let (name, message) = match e.dyn_ref::<web_sys::DomException>() {
            Some(d) => (d.name(), d.message()),
            None => match e.dyn_ref::<js_sys::Error>() {
                Some(err) => (String::from(err.name()), String::from(err.message())),
                None => ("Error".to_owned(), format!("{e:?}")),
            },
        };
        match name.as_str() {
            "QuotaExceededError" => IdbError::QuotaExceeded(message),
            "BlockedError" | "VersionError" => IdbError::Blocked(message),
            "InvalidStateError" => IdbError::Closed(message),
            "NotSupportedError" => IdbError::Unavailable(message),
            _ => IdbError::Js { name, message },
        }
    }

    /// The stable code the JavaScript API gives this error.
    pub fn code(&self) -> &'static str {
        match self {
            IdbError::QuotaExceeded(_) => "QuotaExceeded",
            IdbError::Blocked(_) => "Blocked",
            IdbError::Closed(_) => "Closed",
            IdbError::Unavailable(_) => "Unavailable",
            IdbError::Corrupted(_) => "Corrupted",
            IdbError::OutOfRange(_) => "OutOfRange",
            IdbError::Protocol(_) | IdbError::Js { .. } => "Storage",
        }
    }
}
