//! [`IdbMap`]: the persistent map (persist-queue's `PDict`) in IndexedDB.

use js_sys::Array;
use persist_queue_core::records::{MapOutcome, MapPlan, MapTable};
use wasm_bindgen::JsValue;
use web_sys::{IdbKeyRange, IdbObjectStore};

use crate::error::IdbError;
use crate::js;

const VERSION: u32 = 1;
const ENTRIES: &str = "entries";

/// The IndexedDB database that holds the map `name`.
pub fn map_database_name(name: &str) -> String {
    format!("persist-queue-map/{name}")
}

/// A map in IndexedDB: keys are the encoded key bytes (IndexedDB binary
/// keys, so iteration is in key-byte order, as the map contract asks),
/// values the encoded value bytes. Each plan is one transaction.
#[derive(Debug)]
pub struct IdbMap {
    db: web_sys::IdbDatabase,
    strict: bool,
}

impl IdbMap {
    /// Opens (creating) the map `name`.
    pub async fn open(name: &str, durability: persist_queue_core::Durability) -> Result<IdbMap, IdbError> {
        let db = js::open(&map_database_name(name), VERSION, "map").await?;
        Ok(IdbMap { db, strict: durability.is_synced() })
    }

    /// Deletes the map `name`.
    pub async fn delete(name: &str) -> Result<(), IdbError> {
        js::delete_database(&map_database_name(name)).await
    }

    fn store(&self, write: bool) -> Result<(web_sys::IdbTransaction, IdbObjectStore), IdbError> {
        let tx = js::transaction(&self.db, &[ENTRIES], write, self.strict)?;
        let store = tx.object_store(ENTRIES).map_err(IdbError::from_js)?;
        Ok((tx, store))
    }

    /// Closes the connection.
    pub fn close(&self) {
        self.db.close();
    }
}

impl MapTable for IdbMap {
    type Error = IdbError;

    /// Executes `plan` atomically, in one transaction.
    async fn execute_map(&mut self, plan: &MapPlan) -> Result<MapOutcome, IdbError> {
        let write = matches!(plan, MapPlan::Insert { .. } | MapPlan::Remove { .. });
        let (tx, store) = self.store(write)?;
        let value = |v: JsValue| -> Result<Option<Vec<u8>>, IdbError> {
            if v.is_undefined() { Ok(None) } else { js::bytes_of(&v).map(Some) }
        };
        let out = match plan {
            MapPlan::Insert { key, value: v } => {
                let key = js::uint8(key);
                let old = value(js::request(store.get(&key)).await?)?;
                store.put_with_key(&js::uint8(v), &key).map_err(IdbError::from_js)?;
                MapOutcome::Value(old)
            }
            MapPlan::Get { key } => MapOutcome::Value(value(js::request(store.get(&js::uint8(key))).await?)?),
            MapPlan::Remove { key } => {
                let key = js::uint8(key);
                let old = value(js::request(store.get(&key)).await?)?;
                store.delete(&key).map_err(IdbError::from_js)?;
                MapOutcome::Value(old)
            }
            MapPlan::Len => {
                let n = js::request(store.count()).await?;
                MapOutcome::Len(n.as_f64().unwrap_or(0.0) as u64)
            }
            MapPlan::Scan { after, limit } => {
                let range: JsValue = match after {
                    Some(k) => IdbKeyRange::lower_bound_with_open(&js::uint8(k), true)
                        .map_err(IdbError::from_js)?
                        .into(),
                    None => JsValue::UNDEFINED,
                };
                let limit = (*limit).max(1);
                let keys =
                    Array::from(&js::request(store.get_all_keys_with_key_and_limit(&range, limit)).await?);
                let vals = Array::from(&js::request(store.get_all_with_key_and_limit(&range, limit)).await?);
                let mut entries = Vec::with_capacity(keys.length() as usize);
                for (k, v) in keys.iter().zip(vals.iter()) {
                    entries.push((js::bytes_of(&k)?, js::bytes_of(&v)?));
                }
                MapOutcome::Entries(entries)
            }
        };
        if write {
            js::finish(&tx).await?;
        }
        Ok(out)
    }
}
