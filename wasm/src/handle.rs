//! One open queue, shared by the JavaScript object and the promises it
//! hands out: the core's driver behind an async lock (JavaScript may call
//! `put` again before the last one settled), the waker, the locks it holds.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::rc::Rc;

use async_lock::Mutex;
use js_sys::{Array, Object, Promise, Reflect};
use persist_queue_core::Durability;
use persist_queue_core::records::{Kind, Lease, Put, Record, RecordError, RecordQueue, Table, Verdict};

use crate::name::Named;
use persist_queue_indexeddb::IdbTable;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, future_to_promise};

use crate::batch;
use crate::error::{StoreError, from_record, from_store, js_error};
use crate::host;
use crate::item;
use crate::options::{Options, number};
use crate::store::{Backend, Store};

const SESSION_LOCKS: &str = "persist-queue-session/";
/// How long a get leases its items unless the `leaseMs` option says
/// otherwise: an item neither settled nor given back by then (its tab
/// froze or was killed) is delivered again, to any tab.
const DEFAULT_LEASE_MS: u64 = 30_000;
/// How often a waiting get looks again without a wake-up (a put made by
/// a browser without BroadcastChannel, a holder tab that closed).
const FALLBACK_MS: f64 = 1000.0;

/// An open queue.
pub(crate) struct Handle {
    kind: Kind,
    auto_commit: bool,
    /// How long a get leases its items (ms, option `leaseMs`).
    lease_ms: u64,
    queue: Mutex<Option<RecordQueue<Store>>>,
    waker: host::Waker,
    /// This handle's session id and its Web Lock (IndexedDB with locks).
    session: Option<String>,
    /// Locks to release at close.
    locks: Vec<JsValue>,
    /// When this handle last looked for items held by closed tabs.
    last_sweep: Cell<f64>,
    /// Puts waiting for the queue (group commit).
    pending: batch::Pending,
    /// The Web Lock naming the one handle that takes held claims of this
    /// queue while its store is at its quota, and this handle's hold on it.
    drain_lock: String,
    drain: RefCell<Option<JsValue>>,
}

type Op<T> = Result<T, JsValue>;

fn closed() -> JsValue {
    js_error("Closed", "the queue is closed")
}

pub(crate) async fn await_js(p: Promise) -> Op<JsValue> {
    JsFuture::from(p).await
}

/// The sessions whose holder is alive (their Web Lock is held).
async fn live_sessions() -> Op<BTreeSet<String>> {
    let held = Array::from(&await_js(host::held_locks(SESSION_LOCKS)).await?);
    Ok(held
        .iter()
        .filter_map(|n| n.as_string())
        .filter_map(|n| n.strip_prefix(SESSION_LOCKS).map(str::to_owned))
        .collect())
}

impl Handle {
    /// Opens `name` for a queue of `kind` (`options` may change the order
    /// and uniqueness where the class allows).
    pub(crate) async fn open(name: &str, kind: Kind, auto_commit: bool, o: &Options) -> Op<Handle> {
        let durability = o.durability()?;
        let backend = o.backend()?;
        let name = &crate::name::stored_name(name, Named::Queue, backend == Backend::IndexedDb).await?;
        let auto_resume = o.flag("autoResume", true)?;
        let lease_ms = o.number("leaseMs")?.map_or(DEFAULT_LEASE_MS, |ms| ms.max(0.0) as u64);
        let mut locks = Vec::new();
        let mut session = None;
        let lease = Lease { now: host::now_ms(), ms: lease_ms };
        let opened =
            Self::open_store(name, kind, durability, backend, auto_resume, lease, &mut locks, &mut session)
                .await;
        let queue = match opened {
            Ok(queue) => queue,
            Err(e) => {
                // Whatever failed, the locks taken so far go (a localStorage
                // queue would stay Locked until the page ends).
                for l in &locks {
                    host::release(l).await;
                }
                return Err(e);
            }
        };
        let prefix = if backend == Backend::IndexedDb { "idb" } else { "ls" };
        Ok(Handle {
            kind,
            auto_commit,
            lease_ms,
            queue: Mutex::new(Some(queue)),
            waker: host::Waker::new(&format!("persist-queue/{prefix}/{name}")),
            session,
            locks,
            last_sweep: Cell::new(js_sys::Date::now()),
            pending: batch::Pending::default(),
            drain_lock: format!("persist-queue-drain/{prefix}/{name}"),
            drain: RefCell::new(None),
        })
    }

    /// The store of `name` and the core's queue over it, taking the locks
    /// it needs into `locks` (a session's on IndexedDB, with its id in
    /// `session`; the queue's own on localStorage).
    #[allow(clippy::too_many_arguments)]
    async fn open_store(
        name: &str,
        kind: Kind,
        durability: Durability,
        backend: Backend,
        auto_resume: bool,
        lease: Lease,
        locks: &mut Vec<JsValue>,
        session: &mut Option<String>,
    ) -> Op<RecordQueue<Store>> {
        let (store, resume_all) = match backend {
            Backend::IndexedDb => {
                let mut table = IdbTable::open(name, durability, kind.order).await.map_err(from_store)?;
                if host::has_locks() {
                    let sid = host::new_session();
                    locks.push(await_js(host::hold(&format!("{SESSION_LOCKS}{sid}"), false)).await?);
                    table = table.with_session(sid.clone());
                    if auto_resume {
                        let live = live_sessions().await?;
                        match table.release_orphans(&live).await {
                            // At the quota they stay in flight until there
                            // is room; the queue still opens and drains.
                            Err(e) if IdbTable::only_deletes(&e) => {}
                            other => {
                                other.map_err(from_store)?;
                            }
                        }
                    }
                    *session = Some(sid);
                }
                // Without Web Locks no holder can be told alive: resume all.
                (Store::Idb(table), auto_resume && session.is_none())
            }
            Backend::LocalStorage => {
                let lock = await_js(host::hold(&format!("persist-queue-ls/{name}"), true)).await?;
                if lock.is_null() {
                    return Err(js_error(
                        "Locked",
                        "another page or handle has this localStorage queue open",
                    ));
                }
                locks.push(lock);
                let table = persist_queue_local_storage::open_table(name, durability).map_err(from_store)?;
                (Store::Ls(Box::new(table)), auto_resume)
            }
        };
        RecordQueue::open(store, kind, resume_all, lease).await.map_err(from_record)
    }

    /// Runs `f` on the open queue, one operation at a time.
    async fn with<T>(
        &self,
        f: impl AsyncFnOnce(&mut RecordQueue<Store>) -> Result<T, RecordError<StoreError>>,
    ) -> Op<T> {
        let mut guard = self.queue.lock().await;
        let q = guard.as_mut().ok_or_else(closed)?;
        f(q).await.map_err(from_record)
    }

    fn put_of<'a>(&self, e: &'a item::Encoded, priority: i64) -> Put<'a> {
        Put { payload: &e.payload, priority, canonical: e.canonical.as_deref(), delay: 0 }
    }

    /// Puts `values`, in one transaction with every other put waiting
    /// for the queue meanwhile (group commit: see [`crate::batch`]).
    pub(crate) async fn put_many(&self, values: Vec<JsValue>, priorities: Vec<i64>) -> Op<Vec<Option<u64>>> {
        let items = values
            .iter()
            .zip(priorities)
            .map(|(v, p)| Ok((item::encode(v, self.kind.unique)?, p)))
            .collect::<Op<Vec<_>>>()?;
        let ticket = self.pending.enqueue(items);
        let mut guard = self.queue.lock().await;
        if let Some(answer) = self.pending.answer(&ticket) {
            return answer;
        }
        // First to get the queue: write everything waiting.
        let (batch, works) = self.pending.begin();
        let puts: Vec<Put<'_>> =
            works.iter().flat_map(|items| items.iter().map(|(e, p)| self.put_of(e, *p))).collect();
        let ids = match guard.as_mut() {
            Some(q) => q.put_many(&puts, host::now_ms()).await.map_err(from_record),
            None => Err(closed()),
        };
        drop(guard);
        if ids.is_ok() {
            self.waker.notify();
        }
        self.pending.finish(batch, &ticket, &works, ids)
    }

    /// Takes up to `n` items, waiting per `o` (`block`, `timeout` ms).
    pub(crate) async fn get_many(&self, n: u32, o: &Options) -> Op<Vec<Record>> {
        let block = o.flag("block", true)?;
        let deadline = o.number("timeout")?.map(|t| js_sys::Date::now() + t.max(0.0));
        loop {
            let wait_ms = deadline.map_or(FALLBACK_MS, |d| (d - js_sys::Date::now()).clamp(0.0, FALLBACK_MS));
            // Listen before looking, so a put in between still wakes us.
            let wake = self.waker.wait(wait_ms);
            let got = self.claim(n).await?;
            if !got.is_empty() {
                return Ok(got);
            }
            // Nothing ready: items a closed tab held may be (at most once
            // a second, so an empty queue polled in a loop stays cheap).
            if js_sys::Date::now() - self.last_sweep.get() >= FALLBACK_MS {
                self.last_sweep.set(js_sys::Date::now());
                if self.release_orphans(false).await? > 0 {
                    continue;
                }
            }
            let expired = deadline.is_some_and(|d| js_sys::Date::now() >= d);
            if !block || expired {
                return Err(js_error("Empty", "no item is ready"));
            }
            await_js(wake).await?;
        }
    }

    /// Takes up to `n` items. At the store's quota, where only deletions
    /// are written, an ack queue's claims are held by this handle instead
    /// of marked in the store ([`RecordQueue::claim_held`]), one
    /// handle per queue at a time (the drain Web Lock; another handle
    /// finds nothing until it is free): the queue drains.
    async fn claim(&self, n: u32) -> Op<Vec<Record>> {
        let mut guard = self.queue.lock().await;
        let q = guard.as_mut().ok_or_else(closed)?;
        let marks_in_flight = !self.auto_commit || self.kind.keep_done;
        let lease = Lease { now: host::now_ms(), ms: self.lease_ms };
        match q.get_many(n, self.auto_commit, lease).await {
            Err(RecordError::Store(e)) if marks_in_flight && Store::only_deletes(&e) => {}
            other => return other.map_err(from_record),
        }
        drop(guard);
        if self.drain.borrow().is_none() {
            let lock = await_js(host::hold(&self.drain_lock, true)).await?;
            if lock.is_null() {
                return Ok(Vec::new());
            }
            *self.drain.borrow_mut() = Some(lock);
        }
        let got = self.with(async |q| q.claim_held(n).await).await;
        self.let_go_of_drain().await;
        got
    }

    /// Releases the drain lock once this handle holds no claims.
    async fn let_go_of_drain(&self) {
        if self.drain.borrow().is_none() {
            return;
        }
        let held = self.queue.lock().await.as_ref().map_or(0, |q| q.held());
        if held == 0 {
            let lock = self.drain.borrow_mut().take();
            if let Some(lock) = lock {
                host::release(&lock).await;
            }
        }
    }

    /// Makes ready the in-flight items whose holder is gone (and, with
    /// `own`, this handle's). Without Web Locks: every in-flight item.
    pub(crate) async fn release_orphans(&self, own: bool) -> Op<u64> {
        let n = match &self.session {
            Some(sid) => {
                let mut live = live_sessions().await?;
                if own {
                    live.remove(sid);
                }
                let mut guard = self.queue.lock().await;
                let q = guard.as_mut().ok_or_else(closed)?;
                match q.table_mut() {
                    Store::Idb(t) => match t.release_orphans(&live).await {
                        // At the quota: they wait for room (held claims
                        // drain the rest).
                        Err(e) if IdbTable::only_deletes(&e) => 0,
                        other => other.map_err(from_store)?,
                    },
                    // Sessions exist on IndexedDB only.
                    Store::Ls(_) => 0,
                }
            }
            _ if own => self.with(async |q| q.resume().await).await?,
            _ => 0,
        };
        if n > 0 {
            self.waker.notify();
        }
        Ok(n)
    }

    /// Settles one delivery: fenced by its lease token when given
    /// (`LeaseLost` once another delivery took over), else by id.
    pub(crate) async fn settle_one(&self, id: u64, token: Option<u32>, verdict: Verdict) -> Op<()> {
        let Some(token) = token else { return self.settle(vec![id], verdict).await };
        // Items held at the quota are settled by id (they are not leased).
        if self.queue.lock().await.as_ref().is_some_and(|q| q.held() > 0) {
            return self.settle(vec![id], verdict).await;
        }
        let now = host::now_ms();
        let settled = self.with(async |q| q.settle_leased(&[(id, token)], verdict, now, 0).await).await?;
        if verdict == Verdict::Nack {
            self.waker.notify();
        }
        settled.into_iter().try_for_each(|r| r.map_err(from_record))
    }

    pub(crate) async fn settle(&self, ids: Vec<u64>, verdict: Verdict) -> Op<()> {
        let settled = self.with(async |q| q.settle_many(&ids, verdict).await).await;
        self.let_go_of_drain().await;
        let settled = settled?;
        if verdict == Verdict::Nack {
            self.waker.notify();
        }
        settled.into_iter().try_for_each(|r| r.map_err(from_record))
    }

    pub(crate) async fn update(&self, id: u64, value: JsValue) -> Op<()> {
        let e = item::encode(&value, self.kind.unique)?;
        let put = self.put_of(&e, 0);
        self.with(async |q| q.update(id, put).await).await
    }

    pub(crate) async fn counts(&self) -> Op<Object> {
        let c = self.with(async |q| q.counts().await).await?;
        let o = Object::new();
        for (k, v) in
            [("ready", c.ready), ("unacked", c.unacked), ("acked", c.acked), ("ackFailed", c.ack_failed)]
        {
            let _ = Reflect::set(&o, &k.into(), &(v as f64).into());
        }
        Ok(o)
    }

    pub(crate) async fn clear_acked(&self, o: &Options) -> Op<u64> {
        let max_delete = o.number("maxDelete")?.unwrap_or(0.0) as u64;
        let keep_latest = o.number("keepLatest")?.unwrap_or(0.0) as u64;
        let failed = o.flag("includeFailed", false)?;
        self.with(async |q| q.clear_done(max_delete, keep_latest, failed).await).await
    }

    pub(crate) async fn close(&self) -> Op<()> {
        let q = self.queue.lock().await.take();
        if let Some(q) = q
            && let Store::Idb(t) = q.table()
        {
            t.close();
        }
        let drain = self.drain.borrow_mut().take();
        for l in self.locks.iter().chain(drain.as_ref()) {
            host::release(l).await;
        }
        self.waker.close();
        Ok(())
    }
}

/// A delivered item as JavaScript sees it.
pub(crate) fn message(r: &Record) -> Op<JsValue> {
    let o = Object::new();
    let set = |k: &str, v: JsValue| {
        let _ = Reflect::set(&o, &k.into(), &v);
    };
    set("id", (r.id as f64).into());
    set("value", item::decode(&r.payload)?);
    set("priority", (r.priority as f64).into());
    set("timestamp", (r.timestamp as f64).into());
    set("deliveries", r.deliveries.into());
    Ok(o.into())
}

/// Runs `f` as a JavaScript promise.
pub(crate) fn promise<F>(f: F) -> Promise
where
    F: Future<Output = Op<JsValue>> + 'static,
{
    future_to_promise(f)
}

/// An id given by JavaScript.
pub(crate) fn id_of(v: f64) -> Op<u64> {
    if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= 9_007_199_254_740_991.0 {
        Ok(v as u64)
    } else {
        Err(js_error("UnknownId", "an id is a non-negative integer"))
    }
}

/// What a settle names: a message a get returned (its id and lease
/// token: the settle is fenced) or a bare id (settled whoever holds it).
pub(crate) fn delivery_of(v: &JsValue) -> Op<(u64, Option<u32>)> {
    if v.is_object() {
        let id = id_of(number(&Reflect::get(v, &"id".into())?)?)?;
        let token = number(&Reflect::get(v, &"deliveries".into())?)?;
        if !(token.is_finite() && token >= 0.0 && token.fract() == 0.0 && token <= f64::from(u32::MAX)) {
            return Err(js_error("UnknownId", "a message's deliveries is a non-negative integer"));
        }
        // 0: the get removed it (it holds no lease).
        return Ok((id, (token >= 1.0).then_some(token as u32)));
    }
    Ok((id_of(number(v)?)?, None))
}

/// Ids given by JavaScript (an array of numbers).
pub(crate) fn ids_of(v: &JsValue) -> Op<Vec<u64>> {
    if !Array::is_array(v) {
        return Err(js_error("UnknownId", "ids must be an array of numbers"));
    }
    Array::from(v).iter().map(|x| id_of(number(&x)?)).collect()
}

/// A handle shared by a JavaScript object and its pending promises.
pub(crate) type Shared = Rc<Handle>;
