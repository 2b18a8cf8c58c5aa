// Runs in the page: the queue against raw IndexedDB, same page, same
// rounds, alternating, so every figure is a ratio to its own baseline.
import init, { AckQueue } from "/web/persist_queue_wasm.js";

function rawOpen(name) {
  return new Promise((res, rej) => {
    const r = indexedDB.open(name, 1);
    r.onupgradeneeded = () => r.result.createObjectStore("s");
    r.onsuccess = () => res(r.result);
    r.onerror = () => rej(r.error);
  });
}

// One record per transaction, awaited, as browser-anchors.md measures.
async function rawPuts(db, n, durability) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await new Promise((res, rej) => {
      const tx = db.transaction("s", "readwrite", { durability });
      tx.objectStore("s").put(new Uint8Array(25), i);
      tx.oncomplete = res;
      tx.onabort = () => rej(tx.error);
    });
  }
  return performance.now() - t0;
}

// All n records in one transaction: raw IndexedDB's own batching.
async function rawPutAll(db, n, durability) {
  const t0 = performance.now();
  await new Promise((res, rej) => {
    const tx = db.transaction("s", "readwrite", { durability });
    const s = tx.objectStore("s");
    for (let i = 0; i < n; i++) s.put(new Uint8Array(25), n + i);
    tx.oncomplete = res;
    tx.onabort = () => rej(tx.error);
  });
  return performance.now() - t0;
}

async function queuePuts(q, n) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await q.put(new Uint8Array(25));
  return performance.now() - t0;
}

async function queuePutMany(q, n) {
  const items = Array.from({ length: n }, () => new Uint8Array(25));
  const t0 = performance.now();
  await q.putMany(items);
  return performance.now() - t0;
}

// n puts issued at once (not awaited one by one): group commit.
async function queueConcurrent(q, n) {
  const t0 = performance.now();
  await Promise.all(Array.from({ length: n }, () => q.put(new Uint8Array(25))));
  return performance.now() - t0;
}

async function queueGetAck(q, n) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const m = await q.get({ block: false });
    await q.ack(m.id);
  }
  return performance.now() - t0;
}

window.runBench = async ({ n, rounds, durability }) => {
  await init();
  const rows = [];
  for (let r = 0; r < rounds; r++) {
    const tag = `${Date.now()}_${r}`;
    const db = await rawOpen(`raw_${tag}`);
    const q = await AckQueue.open(`bench_${tag}`, { durability });
    const order = r % 2 ? ["q", "raw"] : ["raw", "q"];
    const t = {};
    for (const which of order) {
      t[which] = which === "raw" ? await rawPuts(db, n, durability) : await queuePuts(q, n);
    }
    t.rawAll = await rawPutAll(db, n, durability);
    t.many = await queuePutMany(q, n);
    t.concurrent = await queueConcurrent(q, n);
    t.getAck = await queueGetAck(q, n);
    rows.push(t);
    await q.close();
    db.close();
  }
  return rows;
};
