//! `PDict`: persist-queue's persistent dictionary, in IndexedDB or
//! localStorage. Keys are strings; values anything `put` takes.

use std::rc::Rc;

use async_lock::Mutex;
use js_sys::{Array, Promise};
use persist_queue_core::records::{MapOutcome, MapPlan, MapTable};
use persist_queue_indexeddb::IdbMap;
use persist_queue_local_storage::LsMap;
use wasm_bindgen::prelude::*;

use crate::error::{from_store, js_error};
use crate::handle::promise;
use crate::item;
use crate::options::Options;
use crate::store::Backend;

/// A dictionary's store.
enum MapStore {
    Idb(IdbMap),
    Ls(LsMap),
}

/// A persistent dictionary. Each call is one IndexedDB transaction, or
/// one localStorage call (there, tabs see each other's writes late: last
/// writer wins per key).
#[wasm_bindgen]
pub struct PDict {
    map: Rc<Mutex<Option<MapStore>>>,
}

async fn execute(map: &Mutex<Option<MapStore>>, plan: MapPlan) -> Result<MapOutcome, JsValue> {
    let mut guard = map.lock().await;
    match guard.as_mut().ok_or_else(|| js_error("Closed", "the dictionary is closed"))? {
        MapStore::Idb(m) => m.execute_map(&plan).await.map_err(from_store),
        MapStore::Ls(m) => m
            .execute_map(&plan)
            .await
            .map_err(|e| from_store(persist_queue_core::records::LogError::Storage(e))),
    }
}

fn value_of(o: MapOutcome) -> Result<JsValue, JsValue> {
    match o {
        MapOutcome::Value(Some(v)) => item::decode(&v),
        MapOutcome::Value(None) => Ok(JsValue::UNDEFINED),
        _ => Err(js_error("Protocol", "unexpected map outcome")),
    }
}

#[wasm_bindgen]
impl PDict {
    /// Opens (creating) the dictionary `name`.
    #[wasm_bindgen(unchecked_return_type = "Promise<PDict>")]
    pub fn open(name: String, options: Option<crate::options::OpenOptions>) -> Promise {
        promise(async move {
            let o = Options::new(options.map_or(JsValue::UNDEFINED, Into::into))?;
            let durability = o.durability()?;
            let backend = o.backend()?;
            let idb = backend == Backend::IndexedDb;
            let name = crate::name::stored_name(&name, crate::name::Named::Dict, idb).await?;
            let map = match backend {
                Backend::IndexedDb => {
                    MapStore::Idb(IdbMap::open(&name, durability).await.map_err(from_store)?)
                }
                Backend::LocalStorage => {
                    let ls = |e| from_store(persist_queue_core::records::LogError::Storage(e));
                    if durability.is_synced() {
                        return Err(ls(persist_queue_local_storage::LsError::NotDurable));
                    }
                    MapStore::Ls(LsMap::open(&name).map_err(ls)?)
                }
            };
            Ok(PDict { map: Rc::new(Mutex::new(Some(map))) }.into())
        })
    }

    /// Sets `key` to `value`; resolves to the previous value.
    #[wasm_bindgen(unchecked_return_type = "Promise<unknown>")]
    pub fn set(&self, key: String, value: JsValue) -> Promise {
        let map = Rc::clone(&self.map);
        promise(async move {
            let value = item::encode(&value, false)?.payload;
            value_of(execute(&map, MapPlan::Insert { key: key.into_bytes(), value }).await?)
        })
    }

    /// The value of `key`, or `undefined`.
    #[wasm_bindgen(unchecked_return_type = "Promise<unknown>")]
    pub fn get(&self, key: String) -> Promise {
        let map = Rc::clone(&self.map);
        promise(async move { value_of(execute(&map, MapPlan::Get { key: key.into_bytes() }).await?) })
    }

    /// Removes `key`; resolves to the removed value.
    #[wasm_bindgen(unchecked_return_type = "Promise<unknown>")]
    pub fn delete(&self, key: String) -> Promise {
        let map = Rc::clone(&self.map);
        promise(async move { value_of(execute(&map, MapPlan::Remove { key: key.into_bytes() }).await?) })
    }

    /// How many entries.
    #[wasm_bindgen(unchecked_return_type = "Promise<number>")]
    pub fn size(&self) -> Promise {
        let map = Rc::clone(&self.map);
        promise(async move {
            match execute(&map, MapPlan::Len).await? {
                MapOutcome::Len(n) => Ok((n as f64).into()),
                _ => Err(js_error("Protocol", "unexpected map outcome")),
            }
        })
    }

    /// Every `[key, value]`, in key order.
    #[wasm_bindgen(unchecked_return_type = "Promise<[string, unknown][]>")]
    pub fn entries(&self) -> Promise {
        let map = Rc::clone(&self.map);
        promise(async move {
            let out = Array::new();
            let mut after = None;
            loop {
                let MapOutcome::Entries(page) =
                    execute(&map, MapPlan::Scan { after: after.take(), limit: 500 }).await?
                else {
                    return Err(js_error("Protocol", "unexpected map outcome"));
                };
                let Some((last, _)) = page.last() else { break };
                let last = last.clone();
                for (k, v) in &page {
                    let key = String::from_utf8_lossy(k).into_owned();
                    out.push(&Array::of2(&key.into(), &item::decode(v)?));
                }
                after = Some(last);
            }
            Ok(out.into())
        })
    }

    /// Closes the dictionary.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn close(&self) -> Promise {
        let map = Rc::clone(&self.map);
        promise(async move {
            if let Some(MapStore::Idb(m)) = map.lock().await.take() {
                m.close();
            }
            Ok(JsValue::UNDEFINED)
        })
    }
}
