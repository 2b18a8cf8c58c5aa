// Serve the npm package root (wasm/npm) with web/ built, and this folder
// under it (e.g. `npx http-server wasm`), then open /examples/offline-queue/.
import init, { AckQueue } from "../../npm/web/persist_queue_wasm.js";

await init();
const queue = await AckQueue.open("outbox", { durability: "strict" });
const $ = (id) => document.getElementById(id);
const log = (t) => $("log").insertAdjacentHTML("afterbegin", `<li>${new Date().toLocaleTimeString()} ${t}</li>`);
const refresh = async () => { $("n").textContent = (await queue.counts()).ready; $("state").textContent = navigator.onLine ? "online" : "offline"; };

$("f").addEventListener("submit", async (e) => {
  e.preventDefault();
  const id = await queue.put({ url: "/api/messages", body: $("msg").value, at: Date.now() });
  log(`queued #${id}`);
  $("msg").value = "";
  refresh();
});

// The replay loop: one request at a time, in order; a get waits (woken by
// a put in any tab) instead of polling.
async function replay() {
  for (;;) {
    if (!navigator.onLine) {
      await new Promise((r) => addEventListener("online", r, { once: true }));
    }
    let msg;
    try {
      msg = await queue.get({ timeout: 30000 });
    } catch (e) {
      if (e.code === "Empty") continue;
      throw e;
    }
    try {
      const res = await fetch(msg.value.url, { method: "POST", body: JSON.stringify(msg.value) });
      if (res.ok) { await queue.ack(msg.id); log(`sent #${msg.id}`); }
      else if (res.status >= 400 && res.status < 500) { await queue.ackFailed(msg.id); log(`refused #${msg.id} (${res.status})`); }
      else { await queue.nack(msg.id); await new Promise((r) => setTimeout(r, 2000)); }
    } catch {
      await queue.nack(msg.id); // network error: keep it, at its place
      await new Promise((r) => setTimeout(r, 2000));
    }
    refresh();
  }
}

addEventListener("online", refresh);
addEventListener("offline", refresh);
refresh();
replay();
