//! What can go wrong with localStorage.

use wasm_bindgen::{JsCast, JsValue};

/// A localStorage store failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LsError {
    /// The origin's quota (about 5 Mi UTF-16 code units) is used up. The
    /// refused write changed nothing.
    #[error("localStorage quota exceeded: {0}")]
    QuotaExceeded(String),
    /// The synced level was asked of localStorage, which Chromium writes
    /// to disk seconds later: use IndexedDB for synced queues.
    #[error(
        "localStorage cannot offer the synced durability level (Chromium writes it to disk lazily); use IndexedDB"
    )]
    NotDurable,
    /// There is no localStorage here (a worker, Node.js, storage blocked).
    #[error("localStorage is not available: {0}")]
    Unavailable(String),
    /// A stored value is not one this code wrote.
    #[error("localStorage value {0} is damaged")]
    Corrupted(String),
    /// Any other error the browser threw.
    #[error("localStorage: {0}")]
    Js(String),
}

impl LsError {
    pub(crate) fn from_js(e: JsValue) -> LsError {
        match e.dyn_ref::<web_sys::DomException>() {
            Some(d) if d.name() == "QuotaExceededError" => LsError::QuotaExceeded(d.message()),
            Some(d) if d.name() == "SecurityError" => LsError::Unavailable(d.message()),
            Some(d) => LsError::Js(format!("{}: {}", d.name(), d.message())),
            None => LsError::Js(format!("{e:?}")),
        }
    }

    /// The stable code the JavaScript API gives this error.
    pub fn code(&self) -> &'static str {
        match self {
            LsError::QuotaExceeded(_) => "QuotaExceeded",
            LsError::NotDurable => "NotDurable",
            LsError::Unavailable(_) => "Unavailable",
            LsError::Corrupted(_) => "Corrupted",
            LsError::Js(_) => "Storage",
        }
    }
}
