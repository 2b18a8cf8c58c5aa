//! [`LocalStorage`]: the core's byte storage, one localStorage key per
//! blob.

use std::collections::BTreeMap;

use persist_queue_core::{Blob, NoFlush, Storage};
use wasm_bindgen::JsCast;

use crate::error::LsError;

/// Characters of the reserve key (one UTF-16 unit each): 32 KiB, the log
/// entries of about a thousand deletions.
const RESERVE_CHARS: usize = 16 * 1024;

/// The keys of queue `name` start with this.
pub fn key_prefix(name: &str) -> String {
    format!("pq-ls/{name}/")
}

/// Bytes as a string of U+0100 + byte: one UTF-16 unit per byte, no
/// control characters.
pub(crate) fn encode_into(out: &mut String, bytes: &[u8]) {
    out.extend(bytes.iter().map(|&b| char::from_u32(0x100 + u32::from(b)).unwrap_or('\u{100}')));
}

pub(crate) fn decode(key: &str, s: &str) -> Result<Vec<u8>, LsError> {
    s.chars()
        .map(|c| u32::from(c).checked_sub(0x100).and_then(|b| u8::try_from(b).ok()))
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(|| LsError::Corrupted(key.to_owned()))
}

/// This page's `window.localStorage` (none in workers and Node.js).
pub(crate) fn local_storage() -> Result<web_sys::Storage, LsError> {
    let store = match js_sys::global().dyn_ref::<web_sys::Window>() {
        Some(w) => w.local_storage().map_err(LsError::from_js)?,
        None => None,
    };
    store.ok_or_else(|| LsError::Unavailable("no window.localStorage in this context".into()))
}

/// One queue's blobs in `window.localStorage`, with a copy of each blob
/// read or written (decoded, and as stored) so reads cost no call.
#[derive(Debug)]
pub struct LocalStorage {
    store: web_sys::Storage,
    prefix: String,
    cache: BTreeMap<Blob, (Vec<u8>, String)>,
}

impl LocalStorage {
    /// The queue `name`'s storage in this page's localStorage.
    pub fn open(name: &str) -> Result<LocalStorage, LsError> {
        let global = js_sys::global();
        let store = match global.dyn_ref::<web_sys::Window>() {
            Some(w) => w.local_storage().map_err(LsError::from_js)?,
            None => None,
        };
        let store =
            store.ok_or_else(|| LsError::Unavailable("no window.localStorage in this context".into()))?;
        let prefix = key_prefix(name);
        let s = LocalStorage { store, prefix, cache: BTreeMap::new() };
        // Best effort: a queue opened at the quota starts without one.
        if s.store.get_item(&s.reserve_key()).ok().flatten().is_none() {
            let _ = s.store.set_item(&s.reserve_key(), &"\u{100}".repeat(RESERVE_CHARS));
        }
        Ok(s)
    }

    /// The key of the space set aside for deletions at the quota.
    fn reserve_key(&self) -> String {
        format!("{}reserve", self.prefix)
    }

    fn key(&self, blob: Blob) -> String {
        format!("{}{blob}", self.prefix)
    }

    /// The blob's bytes (`None`: missing), loaded once.
    fn load(&mut self, blob: Blob) -> Result<Option<&(Vec<u8>, String)>, LsError> {
        if !self.cache.contains_key(&blob) {
            let key = self.key(blob);
            let Some(s) = self.store.get_item(&key).map_err(LsError::from_js)? else { return Ok(None) };
            let bytes = decode(&key, &s)?;
            self.cache.insert(blob, (bytes, s));
        }
        Ok(self.cache.get(&blob))
    }

    /// Stores `text` (the encoding of `bytes`) under `blob`: all or nothing.
    fn store(&mut self, blob: Blob, bytes: Vec<u8>, text: String) -> Result<(), LsError> {
        self.store.set_item(&self.key(blob), &text).map_err(LsError::from_js)?;
        self.cache.insert(blob, (bytes, text));
        Ok(())
    }

    /// Removes every key of this queue.
    pub fn delete_all(&mut self) -> Result<(), LsError> {
        for b in self.list()? {
            self.remove(b)?;
        }
        self.store.remove_item(&self.reserve_key()).map_err(LsError::from_js)
    }
}

impl Storage for LocalStorage {
    type Error = LsError;
    type Flush = NoFlush<LsError>;

    fn list(&mut self) -> Result<Vec<Blob>, LsError> {
        let n = self.store.length().map_err(LsError::from_js)?;
        let mut out = Vec::new();
        for i in 0..n {
            if let Some(k) = self.store.key(i).map_err(LsError::from_js)?
                && let Some(b) = k.strip_prefix(&self.prefix).and_then(Blob::parse)
            {
                out.push(b);
            }
        }
        Ok(out)
    }

    fn size(&mut self, blob: Blob) -> Result<Option<u64>, LsError> {
        Ok(self.load(blob)?.map(|(b, _)| b.len() as u64))
    }

    fn read(&mut self, blob: Blob, offset: u64, buf: &mut [u8]) -> Result<usize, LsError> {
        let key = self.key(blob);
        let (bytes, _) = self.load(blob)?.ok_or(LsError::Corrupted(format!("{key} (missing)")))?;
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(bytes.len());
        let n = buf.len().min(bytes.len() - start);
        buf[..n].copy_from_slice(&bytes[start..start + n]);
        Ok(n)
    }

    fn append(&mut self, blob: Blob, data: &[u8]) -> Result<(), LsError> {
        // The new value is the stored text plus the new bytes'; the copy is
        // updated only once localStorage took it.
        let mut text = String::new();
        if let Some((_, old)) = self.load(blob)? {
            text.reserve(old.len() + 2 * data.len());
            text.push_str(old);
        }
        encode_into(&mut text, data);
        self.store.set_item(&self.key(blob), &text).map_err(LsError::from_js)?;
        let (bytes, stored) = self.cache.entry(blob).or_default();
        bytes.extend_from_slice(data);
        *stored = text;
        Ok(())
    }

    fn truncate(&mut self, blob: Blob, len: u64) -> Result<(), LsError> {
        let Some((bytes, _)) = self.load(blob)?.cloned() else { return Ok(()) };
        let bytes = bytes[..usize::try_from(len).unwrap_or(usize::MAX).min(bytes.len())].to_vec();
        let mut text = String::new();
        encode_into(&mut text, &bytes);
        self.store(blob, bytes, text)
    }

    fn replace(&mut self, blob: Blob, data: &[u8]) -> Result<(), LsError> {
        let mut text = String::new();
        encode_into(&mut text, data);
        self.store(blob, data.to_vec(), text)
    }

    fn remove(&mut self, blob: Blob) -> Result<(), LsError> {
        self.store.remove_item(&self.key(blob)).map_err(LsError::from_js)?;
        self.cache.remove(&blob);
        Ok(())
    }

    fn begin_flush(&mut self) -> Result<NoFlush<LsError>, LsError> {
        // Nothing to ask for: the browser writes localStorage when it likes.
        Ok(NoFlush::new())
    }

    /// The reserve key goes: room for the log entries of deletions, until
    /// dropped dead chunks give more (set aside again at the next open).
    fn release_reserve(&mut self) -> Result<bool, LsError> {
        let key = self.reserve_key();
        let had = self.store.get_item(&key).map_err(LsError::from_js)?.is_some();
        self.store.remove_item(&key).map_err(LsError::from_js)?;
        Ok(had)
    }

    fn untouched(&self, e: &LsError) -> bool {
        // setItem refuses a value over the quota whole; the copy is only
        // updated after it succeeded.
        matches!(e, LsError::QuotaExceeded(_))
    }
}
