import init, { AckQueue } from "/web/persist_queue_wasm.js";
onmessage = async (e) => {
  try {
    await init();
    const q = await AckQueue.open(e.data);
    await q.put({ from: "worker" });
    postMessage("put");
  } catch (err) {
    postMessage(String(err && err.message));
  }
};
