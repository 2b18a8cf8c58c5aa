// The package in Node.js 20, with IndexedDB from fake-indexeddb (Node has
// none). Each test asserts what a user relies on; reopening a queue by
// name stands for a restart.
import "fake-indexeddb/auto";
import test from "node:test";
import assert from "node:assert/strict";
import { AckQueue, Queue, PriorityQueue, UniqueQueue, PDict } from "../node.js";

let n = 0;
const fresh = (p) => `${p}_${process.pid}_${Date.now()}_${n++}`;

async function rejectsWith(promise, code) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof Error, "a real Error");
    assert.equal(e.code, code, e.message);
    return true;
  });
}

test("ack queue: put, get, ack; a nacked item comes back first; counts per status", async () => {
  const q = await AckQueue.open(fresh("ack"), { durability: "strict" });
  const a = await q.put({ job: 1 });
  await q.put("two");
  const m = await q.get({ timeout: 100 });
  assert.deepEqual([m.id, m.value, m.deliveries], [a, { job: 1 }, 1]);
  await q.nack(m.id);
  const again = await q.get({ timeout: 100 });
  assert.deepEqual([again.id, again.deliveries], [a, 2]);
  await q.ack(again.id);
  const two = await q.get({ timeout: 100 });
  await q.ackFailed(two.id);
  assert.deepEqual(await q.counts(), { ready: 0, unacked: 0, acked: 1, ackFailed: 1 });
  assert.equal(await q.clearAcked({ includeFailed: true }), 2);
  await q.close();
});

test("items survive closing and reopening; an item got but not acked is ready again", async () => {
  const name = fresh("reopen");
  let q = await AckQueue.open(name);
  await q.putMany(["a", "b", "c"]);
  const held = await q.get();
  assert.equal(held.value, "a");
  await q.close();
  q = await AckQueue.open(name);
  const got = [];
  for (let i = 0; i < 3; i++) got.push((await q.get({ block: false })).value);
  assert.deepEqual(got, ["a", "b", "c"]);
  await q.close();
});

test("FIFO, FILO and priority orders; Uint8Array items come back as bytes", async () => {
  const fifo = await Queue.open(fresh("fifo"));
  const filo = await Queue.open(fresh("filo"), { order: "filo" });
  const prio = await PriorityQueue.open(fresh("prio"));
  for (const [v, p] of [["a", 5], ["b", -3], ["c", 5], ["d", 0]]) {
    await fifo.put(v);
    await filo.put(v);
    await prio.put(v, { priority: p });
  }
  const drain = async (q) => (await q.getMany(10, { block: false })).map((m) => m.value);
  assert.deepEqual(await drain(fifo), ["a", "b", "c", "d"]);
  assert.deepEqual(await drain(filo), ["d", "c", "b", "a"]);
  assert.deepEqual(await drain(prio), ["b", "d", "a", "c"]);
  await fifo.put(new Uint8Array([0, 1, 255]));
  const bytes = (await fifo.get()).value;
  assert.ok(bytes instanceof Uint8Array);
  assert.deepEqual([...bytes], [0, 1, 255]);
  for (const q of [fifo, filo, prio]) await q.close();
});

test("unique queue refuses an equal live item, whatever its key order", async () => {
  const q = await UniqueQueue.open(fresh("uniq"));
  assert.notEqual(await q.put({ a: 1, b: 2 }), null);
  assert.equal(await q.put({ b: 2, a: 1 }), null);
  assert.equal(await q.size(), 1);
  await q.get();
  assert.notEqual(await q.put({ a: 1, b: 2 }), null, "a got item no longer counts");
  await q.close();
});

test("errors are Error objects with a stable code, and change nothing", async () => {
  await rejectsWith(AckQueue.open("no spaces"), "InvalidName");
  await rejectsWith(AckQueue.open("x".repeat(65)), "InvalidName");
  await rejectsWith(AckQueue.open(fresh("opt"), { durability: "eventually" }), "InvalidOption");
  await rejectsWith(AckQueue.open(fresh("ls"), { backend: "localStorage" }), "Unavailable");
  const q = await AckQueue.open(fresh("err"));
  await rejectsWith(q.get({ block: false }), "Empty");
  await rejectsWith(q.get({ timeout: 20 }), "Empty");
  await rejectsWith(q.put(undefined), "InvalidItem");
  await rejectsWith(q.put(() => 1), "InvalidItem");
  await rejectsWith(q.put({ n: 1n }), "InvalidItem");
  await rejectsWith(q.ack(12345), "UnknownId");
  await rejectsWith(q.ack(-1), "UnknownId");
  const id = await q.put("x");
  await rejectsWith(q.ack(id), "NotInFlight");
  assert.equal(await q.size(), 1, "the refused ack changed nothing");
  await q.close();
  await rejectsWith(q.put("late"), "Closed");
});

test("a waiting get wakes when another handle puts", async () => {
  const name = fresh("wake");
  const consumer = await AckQueue.open(name);
  const producer = await AckQueue.open(name);
  const waiting = consumer.get({ timeout: 5000 });
  await producer.put("hello");
  assert.equal((await waiting).value, "hello");
  await consumer.close();
  await producer.close();
});

test("PDict: set, get, delete, entries in key order, across reopen", async () => {
  const name = fresh("dict");
  let d = await PDict.open(name);
  assert.equal(await d.set("b", { x: 1 }), undefined);
  assert.deepEqual(await d.set("b", { x: 2 }), { x: 1 });
  await d.set("a", "first");
  await d.close();
  d = await PDict.open(name);
  assert.deepEqual(await d.entries(), [["a", "first"], ["b", { x: 2 }]]);
  assert.equal(await d.delete("a"), "first");
  assert.equal(await d.get("a"), undefined);
  assert.equal(await d.size(), 1);
  await d.close();
});

test("a database deleted while open: the handle's calls reject with code Closed", async () => {
  const name = fresh("deleted");
  const q = await AckQueue.open(name);
  await q.put("x");
  await AckQueue.delete(name);
  await rejectsWith(q.put("y"), "Closed");
  const again = await AckQueue.open(name);
  assert.equal(await again.size(), 0, "deleted means empty, and the name opens again");
  await again.close();
});

test("puts issued at once share transactions and keep their call order", async () => {
  const q = await AckQueue.open(fresh("group"));
  const ids = await Promise.all([...Array(200).keys()].map((i) => q.put({ i })));
  assert.ok(ids.every((id, k) => k === 0 || id > ids[k - 1]), "ids increase in call order");
  const got = (await q.getMany(500, { block: false })).map((m) => m.value.i);
  assert.deepEqual(got, [...Array(200).keys()]);
  await q.close();
  const u = await UniqueQueue.open(fresh("groupuniq"));
  const [a, b, c] = await Promise.all([u.put("same"), u.put("same"), u.put("other")]);
  assert.notEqual(a, null);
  assert.equal(b, null, "an equal item in the same batch is refused");
  assert.notEqual(c, null);
  await u.close();
});
