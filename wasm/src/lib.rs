//! # persist-queue-wasm
//!
//! persist-queue for JavaScript: the npm package `persist-queue-wasm`.
//! Every queue kind of the core (FIFO/FILO [`Queue`], [`PriorityQueue`],
//! [`UniqueQueue`], at-least-once [`AckQueue`]) and the dictionary
//! [`PDict`], over IndexedDB (default; `durability: "strict"` by default)
//! or localStorage, in a page, a dedicated worker or a service worker.
//!
//! This is the only crate with `#[wasm_bindgen]` exports. It holds no
//! queue rules: the core decides (the same code as the native crates), the
//! adapters store, this crate converts values and errors, and wires the
//! browser services that make several tabs safe (Web Locks to know which
//! holder is alive, BroadcastChannel to wake a waiting `get`).
//!
//! ```js
//! import init, { AckQueue } from "persist-queue-wasm";
//! await init();
//! const q = await AckQueue.open("uploads", { durability: "strict" });
//! const id = await q.put({ url: "/api/post", body: "..." });
//! const msg = await q.get({ timeout: 1000 });   // rejects with code "Empty"
//! await q.ack(msg.id);
//! ```
//!
//! Only for `wasm32`; on other targets this crate is empty.

#![cfg(target_arch = "wasm32")]

mod batch;
mod classes;
mod dict;
mod error;
mod handle;
mod host;
mod item;
mod name;
mod options;
mod store;

pub use classes::{AckQueue, PriorityQueue, Queue, UniqueQueue};
pub use dict::PDict;

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &str = r#"
/** How a queue is opened. */
export interface OpenOptions {
  /** Where the queue lives (default "indexeddb"). */
  backend?: "indexeddb" | "localStorage";
  /** "strict": on disk when a call resolves (IndexedDB only, the default
   *  there); "relaxed": with the OS, lost only by an OS crash or power cut
   *  (IndexedDB), or written by the browser a few seconds later (localStorage). */
  durability?: "strict" | "relaxed";
  /** Make items left in flight by closed tabs ready again (default true). */
  autoResume?: boolean;
  /** How long a get leases its item, ms (default 30000): an item neither
   *  acked nor nacked by then is delivered again, to any tab. */
  leaseMs?: number;
  /** Queue: false keeps got items in flight until ack (default true). */
  autoCommit?: boolean;
  /** Queue, AckQueue: delivery order (default "fifo"). */
  order?: "fifo" | "filo";
  /** AckQueue: refuse an item equal to a live one. */
  unique?: boolean;
}
/** Options of put and putMany. */
export interface PutOptions {
  /** PriorityQueue: lower first (default 0). */
  priority?: number;
}
/** Options of get and getMany. */
export interface GetOptions {
  /** Wait for an item (default true). */
  block?: boolean;
  /** Wait at most this many ms, then reject with code "Empty". */
  timeout?: number;
}
/** Options of clearAcked. */
export interface ClearOptions {
  maxDelete?: number;
  keepLatest?: number;
  includeFailed?: boolean;
}
/** An item handed out by get. */
export interface Message {
  id: number;
  value: unknown;
  priority: number;
  /** When it was put (ms since the epoch). */
  timestamp: number;
  /** How many times it was handed out, this time included (items kept in
   *  flight: AckQueue, or Queue with autoCommit false; 0 when get removed it).
   *  It is also the delivery's lease token: ack(message), nack(message) and
   *  ackFailed(message) reject with code "LeaseLost" once the lease ended
   *  and another get took the item (ack(id) settles whoever holds it). */
  deliveries: number;
}
/** Items per status. */
export interface Counts {
  ready: number;
  unacked: number;
  acked: number;
  ackFailed: number;
}
/** Every error a queue rejects with. */
export interface QueueError extends Error {
  code: "Empty" | "QuotaExceeded" | "Corrupted" | "Closed" | "Blocked" | "Locked" | "NotDurable"
    | "Unavailable" | "InvalidName" | "InvalidItem" | "InvalidOption" | "UnknownId" | "NotInFlight"
    | "Duplicate" | "OutOfRange" | "Unsupported" | "Poisoned" | "Storage" | "Protocol" | "LeaseLost";
}
"#;
