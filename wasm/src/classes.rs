//! The queue classes JavaScript sees. Each is the same handle with its
//! kind; the methods are written once, in a macro.

use std::rc::Rc;

use js_sys::{Array, Promise};
use persist_queue_core::records::{Kind, Order, Verdict};
use wasm_bindgen::prelude::*;

use crate::handle::{Handle, Shared, delivery_of, id_of, ids_of, message, promise};
use crate::options::Options;
use crate::store::Backend;

fn plain(kind: Kind) -> impl Fn(&Options) -> Result<(Kind, bool), JsValue> {
    move |o| {
        let kind = if kind == Kind::FIFO && o.filo()? { Kind::FILO } else { kind };
        Ok((kind, o.flag("autoCommit", true)?))
    }
}

fn ack(o: &Options) -> Result<(Kind, bool), JsValue> {
    let order = if o.filo()? { Order::Filo } else { Order::Fifo };
    Ok((Kind { order, unique: o.flag("unique", false)?, keep_done: true }, false))
}

/// Deletes the queue `name` of `backend` (it must not be open).
async fn delete(name: String, o: Options) -> Result<JsValue, JsValue> {
    let backend = o.backend()?;
    let name =
        crate::name::stored_name(&name, crate::name::Named::Queue, backend == Backend::IndexedDb).await?;
    match backend {
        Backend::IndexedDb => {
            persist_queue_indexeddb::IdbTable::delete(&name).await.map_err(crate::error::from_store)?
        }
        Backend::LocalStorage => persist_queue_local_storage::delete(&name)
            .map_err(|e| crate::error::from_store(persist_queue_core::records::LogError::Storage(e)))?,
    }
    Ok(JsValue::UNDEFINED)
}

macro_rules! queue_class {
    ($(#[$doc:meta])* $class:ident, $kind:expr, $promise:literal) => {
        $(#[$doc])*
        #[wasm_bindgen]
        pub struct $class {
            h: Shared,
        }

        #[wasm_bindgen]
        impl $class {
            /// Opens (creating) the queue `name`.
            #[wasm_bindgen(unchecked_return_type = $promise)]
            pub fn open(name: String, options: Option<crate::options::OpenOptions>) -> Promise {
                promise(async move {
                    let o = Options::new(options.map_or(JsValue::UNDEFINED, Into::into))?;
                    let (kind, auto_commit) = ($kind)(&o)?;
                    let h = Handle::open(&name, kind, auto_commit, &o).await?;
                    Ok($class { h: Rc::new(h) }.into())
                })
            }

            /// Deletes the queue `name` and everything in it.
            #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
            pub fn delete(name: String, options: Option<crate::options::OpenOptions>) -> Promise {
                promise(async move { delete(name, Options::new(options.map_or(JsValue::UNDEFINED, Into::into))?).await })
            }

            /// Puts one item (any JSON-compatible value or a `Uint8Array`);
            /// resolves to its id, or `null` when a unique queue already
            /// holds an equal live item.
            #[wasm_bindgen(unchecked_return_type = "Promise<number | null>")]
            pub fn put(&self, value: JsValue, options: Option<crate::options::PutOptions>) -> Promise {
                let h = Rc::clone(&self.h);
                promise(async move {
                    let p = Options::new(options.map_or(JsValue::UNDEFINED, Into::into))?.number("priority")?.unwrap_or(0.0) as i64;
                    let ids = h.put_many(vec![value], vec![p]).await?;
                    Ok(ids.first().copied().flatten().map_or(JsValue::NULL, |id| (id as f64).into()))
                })
            }

            /// Puts many items in one transaction.
            #[wasm_bindgen(js_name = putMany, unchecked_return_type = "Promise<(number | null)[]>")]
            pub fn put_many(&self, #[wasm_bindgen(unchecked_param_type = "unknown[]")] values: JsValue, options: Option<crate::options::PutOptions>) -> Promise {
                let h = Rc::clone(&self.h);
                promise(async move {
                    if !Array::is_array(&values) {
                        return Err(crate::error::js_error("InvalidItem", "putMany takes an array"));
                    }
                    let values: Vec<JsValue> = Array::from(&values).to_vec();
                    let p = Options::new(options.map_or(JsValue::UNDEFINED, Into::into))?.number("priority")?.unwrap_or(0.0) as i64;
                    let n = values.len();
                    let ids = h.put_many(values, vec![p; n]).await?;
                    Ok(ids.into_iter().map(|i| i.map_or(JsValue::NULL, |id| (id as f64).into())).collect::<Array>().into())
                })
            }

            /// Takes the next item. Waits for one unless `block` is false,
            /// at most `timeout` ms; rejects with code `"Empty"` if none.
            #[wasm_bindgen(unchecked_return_type = "Promise<Message>")]
            pub fn get(&self, options: Option<crate::options::GetOptions>) -> Promise {
                let h = Rc::clone(&self.h);
                promise(async move {
                    let got = h.get_many(1, &Options::new(options.map_or(JsValue::UNDEFINED, Into::into))?).await?;
                    message(&got[0])
                })
            }

            /// Takes up to `n` items at once (waits as `get` for the first).
            #[wasm_bindgen(js_name = getMany, unchecked_return_type = "Promise<Message[]>")]
            pub fn get_many(&self, n: u32, options: Option<crate::options::GetOptions>) -> Promise {
                let h = Rc::clone(&self.h);
                promise(async move {
                    let got = h.get_many(n.max(1), &Options::new(options.map_or(JsValue::UNDEFINED, Into::into))?).await?;
                    Ok(got.iter().map(message).collect::<Result<Array, _>>()?.into())
                })
            }

            /// Done with an item given out: acked.
            #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
            pub fn ack(&self, #[wasm_bindgen(unchecked_param_type = "number | Message")] item: JsValue) -> Promise {
                self.settle(item, Verdict::Ack)
            }

            /// Gives an item back: ready again, at its place in the order.
            #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
            pub fn nack(&self, #[wasm_bindgen(unchecked_param_type = "number | Message")] item: JsValue) -> Promise {
                self.settle(item, Verdict::Nack)
            }

            /// Failed for good: never delivered again.
            #[wasm_bindgen(js_name = ackFailed, unchecked_return_type = "Promise<void>")]
            pub fn ack_failed(&self, #[wasm_bindgen(unchecked_param_type = "number | Message")] item: JsValue) -> Promise {
                self.settle(item, Verdict::Fail)
            }

            /// Acks many items in one transaction.
            #[wasm_bindgen(js_name = ackMany, unchecked_return_type = "Promise<void>")]
            pub fn ack_many(&self, #[wasm_bindgen(unchecked_param_type = "number[]")] ids: JsValue) -> Promise {
                let h = Rc::clone(&self.h);
                promise(async move {
                    h.settle(ids_of(&ids)?, Verdict::Ack).await?;
                    Ok(JsValue::UNDEFINED)
                })
            }

            /// Replaces the value of a live item.
            #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
            pub fn update(&self, id: f64, value: JsValue) -> Promise {
                let h = Rc::clone(&self.h);
                promise(async move {
                    h.update(id_of(id)?, value).await?;
                    Ok(JsValue::UNDEFINED)
                })
            }

            /// How many items are ready.
            #[wasm_bindgen(unchecked_return_type = "Promise<number>")]
            pub fn size(&self) -> Promise {
                let h = Rc::clone(&self.h);
                promise(async move {
                    let c = h.counts().await?;
                    js_sys::Reflect::get(&c, &"ready".into())
                })
            }

            /// Items per status.
            #[wasm_bindgen(unchecked_return_type = "Promise<Counts>")]
            pub fn counts(&self) -> Promise {
                let h = Rc::clone(&self.h);
                promise(async move { Ok(h.counts().await?.into()) })
            }

            /// Deletes acked (and with `includeFailed`, failed) items,
            /// keeping the `keepLatest` newest, at most `maxDelete`.
            #[wasm_bindgen(js_name = clearAcked, unchecked_return_type = "Promise<number>")]
            pub fn clear_acked(&self, options: Option<crate::options::ClearOptions>) -> Promise {
                let h = Rc::clone(&self.h);
                promise(async move { Ok((h.clear_acked(&Options::new(options.map_or(JsValue::UNDEFINED, Into::into))?).await? as f64).into()) })
            }

            /// Makes ready again the items this handle holds and those
            /// whose holder (a closed tab) is gone; resolves to how many.
            #[wasm_bindgen(unchecked_return_type = "Promise<number>")]
            pub fn resume(&self) -> Promise {
                let h = Rc::clone(&self.h);
                promise(async move { Ok((h.release_orphans(true).await? as f64).into()) })
            }

            /// Closes the handle: its locks are released, its waiting gets
            /// end; items it holds become ready for others.
            #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
            pub fn close(&self) -> Promise {
                let h = Rc::clone(&self.h);
                promise(async move {
                    h.close().await?;
                    Ok(JsValue::UNDEFINED)
                })
            }

        }

        impl $class {
            /// Settles a message (fenced by its lease: `LeaseLost` once it
            /// ended and another get took the item) or a bare id.
            fn settle(&self, item: JsValue, verdict: Verdict) -> Promise {
                let h = Rc::clone(&self.h);
                promise(async move {
                    let (id, token) = delivery_of(&item)?;
                    h.settle_one(id, token, verdict).await?;
                    Ok(JsValue::UNDEFINED)
                })
            }
        }
    };
}

queue_class!(
    /// A FIFO queue (`order: "filo"` for FILO). `get` removes the item
    /// (at-most-once) unless opened with `autoCommit: false`; then `ack`
    /// removes it and `nack` gives it back. This is the Rust crate's
    /// `FifoQueue` / `FiloQueue` (a record queue: each item settles on its
    /// own), not its `Queue` (the chunk FIFO with `task_done`, which has
    /// no JavaScript class): in the browser every queue is a record queue.
    Queue, plain(Kind::FIFO), "Promise<Queue>"
);
queue_class!(
    /// Lowest `priority` first (ties oldest first).
    PriorityQueue, plain(Kind::PRIORITY), "Promise<PriorityQueue>"
);
queue_class!(
    /// A FIFO queue that refuses an item equal to one still in it.
    UniqueQueue, plain(Kind::UNIQUE), "Promise<UniqueQueue>"
);
queue_class!(
    /// At-least-once: `get` hands an item out, `ack`/`nack`/`ackFailed`
    /// settle it; acked items are kept until `clearAcked`. An item held by
    /// a tab that closes becomes ready again. Options `order: "filo"`,
    /// `unique: true`.
    AckQueue, ack, "Promise<AckQueue>"
);
