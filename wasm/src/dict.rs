//! `PDict`: persist-queue's persistent dictionary, in IndexedDB. Keys are
//! strings; values anything `put` takes.

use std::rc::Rc;

use async_lock::Mutex;
use js_sys::{Array, Promise};
use persist_queue_core::records::{MapOutcome, MapPlan, valid_name};
use persist_queue_indexeddb::IdbMap;
use wasm_bindgen::prelude::*;

use crate::error::{from_store, js_error};
use crate::handle::promise;
use crate::item;
use crate::options::Options;
use crate::store::Backend;

/// A persistent dictionary (IndexedDB only). Each call is one transaction.
#[wasm_bindgen]
pub struct PDict {
    map: Rc<Mutex<Option<IdbMap>>>,
}

fn open_options(name: &str, o: &Options) -> Result<(), JsValue> {
    if !valid_name(name) {
        return Err(js_error("InvalidName", "a dictionary name is 1 to 64 of A-Z, a-z, 0-9 and _"));
    }
    if o.backend()? != Backend::IndexedDb {
        return Err(js_error("Unsupported", "PDict lives in IndexedDB only"));
    }
    Ok(())
}

async fn run(map: &Mutex<Option<IdbMap>>, plan: MapPlan) -> Result<MapOutcome, JsValue> {
    let mut guard = map.lock().await;
    let m = guard.as_mut().ok_or_else(|| js_error("Closed", "the dictionary is closed"))?;
    m.execute_map(&plan).await.map_err(from_store)
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
            open_options(&name, &o)?;
            let map = IdbMap::open(&name, o.durability()?).await.map_err(from_store)?;
            Ok(PDict { map: Rc::new(Mutex::new(Some(map))) }.into())
        })
    }

    /// Sets `key` to `value`; resolves to the previous value.
    #[wasm_bindgen(unchecked_return_type = "Promise<unknown>")]
    pub fn set(&self, key: String, value: JsValue) -> Promise {
        let map = Rc::clone(&self.map);
        promise(async move {
            let value = item::encode(&value, false)?.payload;
            value_of(run(&map, MapPlan::Insert { key: key.into_bytes(), value }).await?)
        })
    }

    /// The value of `key`, or `undefined`.
    #[wasm_bindgen(unchecked_return_type = "Promise<unknown>")]
    pub fn get(&self, key: String) -> Promise {
        let map = Rc::clone(&self.map);
        promise(async move { value_of(run(&map, MapPlan::Get { key: key.into_bytes() }).await?) })
    }

    /// Removes `key`; resolves to the removed value.
    #[wasm_bindgen(unchecked_return_type = "Promise<unknown>")]
    pub fn delete(&self, key: String) -> Promise {
        let map = Rc::clone(&self.map);
        promise(async move { value_of(run(&map, MapPlan::Remove { key: key.into_bytes() }).await?) })
    }

    /// How many entries.
    #[wasm_bindgen(unchecked_return_type = "Promise<number>")]
    pub fn size(&self) -> Promise {
        let map = Rc::clone(&self.map);
        promise(async move {
            match run(&map, MapPlan::Len).await? {
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
                    run(&map, MapPlan::Scan { after: after.take(), limit: 500 }).await?
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
            map.lock().await.take();
            Ok(JsValue::UNDEFINED)
        })
    }
}
