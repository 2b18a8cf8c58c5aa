// Type-checked by `tsc --noEmit` (npm run typecheck): the shipped
// declarations describe the API as the README uses it.
import init, { AckQueue, PDict, PriorityQueue, Queue, type Counts, type Message, type QueueError } from "../web/persist_queue_wasm.js";

export async function example(): Promise<number> {
  await init();
  const q: AckQueue = await AckQueue.open("uploads", { backend: "indexeddb", durability: "strict" });
  const id: number | null = await q.put({ url: "/api/post" });
  const ids: (number | null)[] = await q.putMany([1, "two", new Uint8Array([3])]);
  const msg: Message = await q.get({ timeout: 1000 });
  const many: Message[] = await q.getMany(10, { block: false });
  await q.ack(msg.id);
  await q.nack(many[0].id);
  await q.ackFailed(many[0].id);
  await q.ackMany([1, 2]);
  const c: Counts = await q.counts();
  const cleared: number = await q.clearAcked({ keepLatest: 10, includeFailed: true });
  const p = await PriorityQueue.open("jobs", { durability: "relaxed" });
  await p.put("urgent", { priority: -1 });
  const f = await Queue.open("drafts", { backend: "localStorage", order: "filo", autoCommit: false });
  const d = await PDict.open("settings");
  await d.set("theme", "dark");
  const entries: [string, unknown][] = await d.entries();
  try {
    await f.get({ block: false });
  } catch (e) {
    const err = e as QueueError;
    if (err.code === "Empty") return 0;
  }
  await q.close();
  return (id ?? 0) + ids.length + c.ready + cleared + entries.length;
}
