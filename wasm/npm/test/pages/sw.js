// A module service worker that puts into a queue when a page asks.
import init, { AckQueue } from "/web/persist_queue_wasm.js";

self.addEventListener("message", (e) => {
  e.waitUntil((async () => {
    try {
      await init();
      const q = await AckQueue.open(e.data);
      await q.put({ from: "service worker" });
      await q.close();
      e.source.postMessage("put");
    } catch (err) {
      e.source.postMessage(String(err && err.message));
    }
  })());
});
