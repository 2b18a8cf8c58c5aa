//! [`LsMap`]: the persistent map (persist-queue's `PDict`) in
//! localStorage, one key per entry, so each operation is one call.

use persist_queue_core::records::{MapOutcome, MapPlan, MapTable};

use crate::error::LsError;
use crate::storage::{decode, encode_into, local_storage};

/// The keys of map `name` start with this.
pub fn map_key_prefix(name: &str) -> String {
    format!("pq-ls-map/{name}/")
}

/// A map in localStorage: the entry for key bytes `k` is stored under the
/// prefix plus `k` as text (U+0100 + byte each), its value the same way.
/// Iteration is in key-byte order. The same guarantees as the queues: not
/// synced, one owner at a time.
#[derive(Debug)]
pub struct LsMap {
    store: web_sys::Storage,
    prefix: String,
}

fn text(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    encode_into(&mut s, bytes);
    s
}

impl LsMap {
    /// The map `name` in this page's localStorage.
    pub fn open(name: &str) -> Result<LsMap, LsError> {
        Ok(LsMap { store: local_storage()?, prefix: map_key_prefix(name) })
    }

    fn key(&self, k: &[u8]) -> String {
        format!("{}{}", self.prefix, text(k))
    }

    fn get(&self, k: &[u8]) -> Result<Option<Vec<u8>>, LsError> {
        let key = self.key(k);
        match self.store.get_item(&key).map_err(LsError::from_js)? {
            Some(v) => decode(&key, &v).map(Some),
            None => Ok(None),
        }
    }

    /// Every key of this map, decoded, in byte order.
    fn keys(&self) -> Result<Vec<Vec<u8>>, LsError> {
        let n = self.store.length().map_err(LsError::from_js)?;
        let mut out = Vec::new();
        for i in 0..n {
            if let Some(k) = self.store.key(i).map_err(LsError::from_js)?
                && let Some(rest) = k.strip_prefix(&self.prefix)
            {
                out.push(decode(&k, rest)?);
            }
        }
        out.sort_unstable();
        Ok(out)
    }

    /// Removes every entry.
    pub fn delete_all(&mut self) -> Result<(), LsError> {
        for k in self.keys()? {
            self.store.remove_item(&self.key(&k)).map_err(LsError::from_js)?;
        }
        Ok(())
    }
}

impl MapTable for LsMap {
    type Error = LsError;

    async fn execute_map(&mut self, plan: &MapPlan) -> Result<MapOutcome, LsError> {
        Ok(match plan {
            MapPlan::Insert { key, value } => {
                let old = self.get(key)?;
                self.store.set_item(&self.key(key), &text(value)).map_err(LsError::from_js)?;
                MapOutcome::Value(old)
            }
            MapPlan::Get { key } => MapOutcome::Value(self.get(key)?),
            MapPlan::Remove { key } => {
                let old = self.get(key)?;
                self.store.remove_item(&self.key(key)).map_err(LsError::from_js)?;
                MapOutcome::Value(old)
            }
            MapPlan::Len => MapOutcome::Len(self.keys()?.len() as u64),
            MapPlan::Scan { after, limit } => {
                let keys = self.keys()?;
                let mut entries = Vec::new();
                for k in keys
                    .into_iter()
                    .filter(|k| after.as_ref().is_none_or(|a| k > a))
                    .take((*limit).max(1) as usize)
                {
                    if let Some(v) = self.get(&k)? {
                        entries.push((k, v));
                    }
                }
                MapOutcome::Entries(entries)
            }
        })
    }
}
