//! A record as an IndexedDB value, and the queue's meta entry.
//!
//! Record fields (FORMAT.md, "IndexedDB"): `id`, `p` (payload bytes), `s`
//! (status code), `pr` (priority), `t` (timestamp ms), `d` (deliveries),
//! `q` = 0 and `qp` = priority only while ready (the sparse indexes
//! `ready` on [q, id] and, in priority tables, `prio` on [qp, id]), `st` =
//! the status code only while not ready (sparse index `status`), `u`
//! (unique key, hex) only while live, `o` (the session that holds it) only
//! while in flight, `v` (`visible_at`: when its lease ends or its delay is
//! due) only while in flight or delayed (sparse index `timed`, database
//! version 2).

use js_sys::{Array, Object};
use persist_queue_core::records::{NewRecord, Record, Status};
use wasm_bindgen::JsValue;

use crate::error::IdbError;
use crate::js;

/// Payloads up to this size live in the record; larger ones in the
/// `payloads` store, so that claims and acks, which rewrite the record,
/// write a few hundred bytes, and still fit when the quota is all but
/// used up (a rewrite counts its whole size against the quota).
pub(crate) const INLINE_MAX: usize = 512;

/// The largest integer a JavaScript number holds exactly.
const EXACT: i64 = (1 << 53) - 1;

/// A stored record, as an object this module reads and writes.
pub(crate) struct Row(pub(crate) Object);

/// `n` as a JavaScript number, if it is exact.
pub(crate) fn exact(n: i64, what: &'static str) -> Result<f64, IdbError> {
    if (-EXACT..=EXACT).contains(&n) { Ok(n as f64) } else { Err(IdbError::OutOfRange(what)) }
}

/// The key of a record in the FIFO/FILO order (index `ready`).
pub(crate) fn id_key(id: u64) -> JsValue {
    Array::of2(&0.into(), &(id as f64).into()).into()
}

/// The key of a record in the priority order (index `prio`).
pub(crate) fn prio_key(priority: i64, id: u64) -> Result<JsValue, IdbError> {
    let p = exact(priority, "priority beyond ±2^53")?;
    Ok(Array::of2(&p.into(), &(id as f64).into()).into())
}

/// A unique key as stored (hex).
pub(crate) fn unique_hex(key: &[u8; 32]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

impl Row {
    /// A ready row holding `r` (an insert, or a restore of record `id`;
    /// `None`: the store's key generator assigns the id).
    pub(crate) fn ready(
        id: Option<u64>,
        r: &NewRecord,
        deliveries: u32,
        prio: bool,
    ) -> Result<Row, IdbError> {
        let o = js::object();
        if let Some(id) = id {
            js::set(&o, "id", &(id as f64).into());
        }
        js::set(&o, "pr", &exact(r.priority, "priority beyond ±2^53")?.into());
        js::set(&o, "t", &(r.timestamp as f64).into());
        js::set(&o, "d", &deliveries.into());
        let mut row = Row(o);
        row.set_payload(&r.payload, r.unique_key.as_ref());
        if r.delay > 0 {
            row.set_status(Status::Delayed, None, prio)?;
            row.set_visible_at(r.timestamp.saturating_add(r.delay));
        } else {
            row.set_status(Status::Ready, None, prio)?;
        }
        Ok(row)
    }

    /// When its lease ends or its delay is due (0: not timed).
    pub(crate) fn visible_at(&self) -> u64 {
        js::get(&self.0, "v").as_f64().map_or(0, |v| v as u64)
    }

    /// Sets `visible_at` (of a row in flight or delayed: call after
    /// [`Row::set_status`]).
    pub(crate) fn set_visible_at(&mut self, at: u64) {
        js::set(&self.0, "v", &(at as f64).into());
    }

    pub(crate) fn deliveries(&self) -> Result<u32, IdbError> {
        Ok(js::num(&self.0, "d")? as u32)
    }

    /// Reads a stored value.
    pub(crate) fn from_js(v: JsValue) -> Result<Row, IdbError> {
        v.dyn_into_object().map(Row)
    }

    pub(crate) fn id(&self) -> Result<u64, IdbError> {
        Ok(js::num(&self.0, "id")? as u64)
    }

    pub(crate) fn status(&self) -> Result<Status, IdbError> {
        let code = js::num(&self.0, "s")?;
        Status::from_code(code as u8).ok_or(IdbError::Corrupted("unknown status code"))
    }

    pub(crate) fn priority(&self) -> Result<i64, IdbError> {
        Ok(js::num(&self.0, "pr")? as i64)
    }

    /// The session holding it (in flight only).
    pub(crate) fn owner(&self) -> Option<String> {
        js::get(&self.0, "o").as_string()
    }

    /// Moves the row to `s`, keeping the ready indexes, the unique key and
    /// the owner consistent with it. `prio`: the table delivers by
    /// priority, so a ready row is also in the `prio` index (other tables
    /// leave it out: one index entry less per put).
    pub(crate) fn set_status(&mut self, s: Status, owner: Option<&str>, prio: bool) -> Result<(), IdbError> {
        js::set(&self.0, "s", &s.code().into());
        if s == Status::Ready {
            js::unset(&self.0, "st");
            js::set(&self.0, "q", &0.into());
            let p = exact(self.priority()?, "priority beyond ±2^53")?;
            if prio {
                js::set(&self.0, "qp", &p.into());
            }
        } else {
            js::set(&self.0, "st", &s.code().into());
            js::unset(&self.0, "q");
            js::unset(&self.0, "qp");
        }
        match (s, owner) {
            (Status::Unacked, Some(o)) => js::set(&self.0, "o", &o.into()),
            _ => js::unset(&self.0, "o"),
        }
        if !s.is_timed() {
            js::unset(&self.0, "v");
        }
        if !s.is_live() {
            js::unset(&self.0, "u");
        }
        Ok(())
    }

    /// Counts one more delivery.
    pub(crate) fn delivered(&mut self) -> Result<(), IdbError> {
        let d = js::num(&self.0, "d")?;
        js::set(&self.0, "d", &(d + 1.0).into());
        Ok(())
    }

    /// Whether the payload lives in the `payloads` store.
    pub(crate) fn external(&self) -> bool {
        js::get(&self.0, "px").is_truthy()
    }

    /// The inline payload, if any.
    pub(crate) fn inline_payload(&self) -> Option<Vec<u8>> {
        if self.external() { None } else { js::bytes(&self.0, "p").ok() }
    }

    /// Replaces the payload (inline when small; otherwise marked external:
    /// the caller stores it in `payloads`) and the unique key.
    pub(crate) fn set_payload(&mut self, payload: &[u8], unique: Option<&[u8; 32]>) {
        if payload.len() <= INLINE_MAX {
            js::set(&self.0, "p", &js::uint8(payload));
            js::unset(&self.0, "px");
        } else {
            js::unset(&self.0, "p");
            js::set(&self.0, "px", &JsValue::TRUE);
        }
        match unique {
            Some(k) => js::set(&self.0, "u", &unique_hex(k).into()),
            None => js::unset(&self.0, "u"),
        }
    }

    /// The record it holds, with its payload (read from `payloads` by the
    /// caller if [`Row::external`]).
    pub(crate) fn record(&self, payload: Vec<u8>) -> Result<Record, IdbError> {
        Ok(Record {
            id: self.id()?,
            payload,
            priority: self.priority()?,
            status: self.status()?,
            timestamp: js::num(&self.0, "t")? as u64,
            deliveries: js::num(&self.0, "d")? as u32,
            visible_at: self.visible_at(),
        })
    }
}

trait IntoObject {
    fn dyn_into_object(self) -> Result<Object, IdbError>;
}

impl IntoObject for JsValue {
    fn dyn_into_object(self) -> Result<Object, IdbError> {
        if self.is_object() {
            Ok(Object::from(self))
        } else {
            Err(IdbError::Corrupted("a stored record is not an object"))
        }
    }
}

/// The queue's meta entry: where the ready records begin in the FIFO and
/// priority orders, so claims seek past the deleted index entries at the
/// head instead of walking them (browser-anchors.md §4).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Meta {
    /// Every ready id is at least this.
    pub(crate) lo: u64,
    /// Every ready record's [priority, id] is at least this (kept by
    /// priority tables only; `None`: no bound).
    pub(crate) lp: Option<(i64, u64)>,
}

/// The stored format of the meta entry.
pub(crate) const FORMAT: u32 = 1;

impl Meta {
    pub(crate) fn from_js(v: &JsValue) -> Result<Meta, IdbError> {
        if v.is_undefined() {
            return Ok(Meta { lo: 0, lp: None });
        }
        if js::num(v, "format")? as u32 != FORMAT {
            return Err(IdbError::Corrupted("queue written in another format version"));
        }
        let lp = js::get(v, "lp");
        let lp = if lp.is_undefined() || lp.is_null() {
            None
        } else {
            let a = Array::from(&lp);
            let p = a.get(0).as_f64().ok_or(IdbError::Corrupted("meta lp"))?;
            let i = a.get(1).as_f64().ok_or(IdbError::Corrupted("meta lp"))?;
            Some((p as i64, i as u64))
        };
        Ok(Meta { lo: js::num(v, "lo")? as u64, lp })
    }

    pub(crate) fn to_js(&self) -> Result<JsValue, IdbError> {
        let o = js::object();
        js::set(&o, "format", &FORMAT.into());
        js::set(&o, "lo", &(self.lo as f64).into());
        match self.lp {
            Some((p, i)) => js::set(&o, "lp", &prio_key(p, i)?),
            None => js::set(&o, "lp", &JsValue::NULL),
        }
        Ok(o.into())
    }

    /// A record became ready: widen the bounds to include it.
    pub(crate) fn readied(&mut self, id: u64, priority: i64) {
        self.lo = self.lo.min(id);
        self.lp = match self.lp {
            Some(k) if k <= (priority, id) => Some(k),
            Some(_) => Some((priority, id)),
            None => None,
        };
    }
}
