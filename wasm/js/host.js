// The browser services the queues use that are simplest in JavaScript:
// wake-ups across tabs (BroadcastChannel), liveness of tabs (Web Locks),
// and the canonical JSON of a value (unique queues).

// Wakes this handle's waiting gets when anyone (this tab, another tab, a
// worker) puts or returns an item to the queue `name`.
export class Waker {
  constructor(name) {
    this.waiters = new Set();
    if (typeof BroadcastChannel === "function") {
      this.channel = new BroadcastChannel(name);
      this.channel.onmessage = () => this.wakeLocal();
      // Node.js: an open channel must not keep the process alive.
      if (typeof this.channel.unref === "function") this.channel.unref();
    }
  }
  // Wakes this handle's waiters now, and other tabs' in a later task:
  // posting costs about 0.1 ms of this thread, so it is kept off the
  // caller's path and one post covers a burst of puts.
  notify() {
    this.wakeLocal();
    if (this.channel && !this.posting) {
      this.posting = true;
      setTimeout(() => {
        this.posting = false;
        if (this.channel) this.channel.postMessage(1);
      }, 0);
    }
  }
  wakeLocal() {
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }
  // Resolves on the next notify (here or elsewhere) or after `ms`.
  wait(ms) {
    return new Promise((resolve) => {
      const done = () => { clearTimeout(timer); this.waiters.delete(done); resolve(); };
      const timer = setTimeout(done, Math.max(0, ms));
      this.waiters.add(done);
    });
  }
  close() {
    if (this.channel) this.channel.close();
    this.channel = undefined;
    this.wakeLocal();
  }
}

function locks() {
  return typeof navigator !== "undefined" && navigator.locks ? navigator.locks : undefined;
}

// Whether Web Locks exist here (browsers, workers; not Node.js 20).
export function hasLocks() {
  return locks() !== undefined;
}

// Takes the exclusive lock `name` and holds it until `release()` (or the
// page/worker ends: the browser then releases it). With `ifAvailable`,
// resolves to null if someone else holds it.
export async function hold(name, ifAvailable) {
  const l = locks();
  if (!l) return { release() { return Promise.resolve(); } };
  let unhold;
  const held = new Promise((r) => { unhold = r; });
  let ended;
  const granted = await new Promise((resolve) => {
    ended = l.request(name, { ifAvailable }, (lock) => {
      resolve(lock !== null);
      return lock === null ? null : held;
    }).catch(() => resolve(false));
  });
  // release() resolves once the lock manager has let the lock go.
  return granted ? { release() { unhold(); return ended; } } : null;
}

// The names of the held locks that start with `prefix`.
export async function heldLocks(prefix) {
  const l = locks();
  if (!l) return [];
  const state = await l.query();
  return (state.held || []).map((h) => h.name).filter((n) => n && n.startsWith(prefix));
}

// A random session id.
export function newSession() {
  if (globalThis.crypto && crypto.randomUUID) return crypto.randomUUID();
  return Math.random().toString(36).slice(2) + Date.now().toString(36);
}

// JSON with every object's keys sorted: equal values, equal text.
export function canonicalJson(value) {
  return JSON.stringify(value, (_, v) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const out = {};
      for (const k of Object.keys(v).sort()) out[k] = v[k];
      return out;
    }
    return v;
  });
}

// An Error with a stable `code`.
export function queueError(code, message) {
  const e = new Error(message);
  e.name = "QueueError";
  e.code = code;
  return e;
}

// Whether a store named `name` exists: an IndexedDB database ("idb"), or
// a localStorage key starting with `name` ("ls").
export async function storeExists(kind, name) {
  if (kind === "ls") {
    for (let i = 0; i < localStorage.length; i++) {
      if (localStorage.key(i).startsWith(name)) return true;
    }
    return false;
  }
  const dbs = await indexedDB.databases();
  return dbs.some((d) => d.name === name);
}
