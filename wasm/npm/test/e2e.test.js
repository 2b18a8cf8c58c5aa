// End to end in Debian's Chromium (playwright-core, never a downloaded
// browser): reloads, two pages on one queue, a closed tab's items, quota.
import test from "node:test";
import assert from "node:assert/strict";
import { serve, launch, openPage } from "./browser.js";

let srv, browser;
test.before(async () => {
  srv = await serve();
  browser = await launch();
});
test.after(async () => {
  await browser?.close();
  srv?.server.close();
});

// After a quota refusal: its code, and every item put before it back, in order.
function assertQuotaRefusal(r, atLeast) {
  assert.equal(r.code, "QuotaExceeded");
  assert.ok(r.put >= atLeast, `stored ${r.put} before the quota`);
  assert.deepEqual(r.got, [...Array(r.put).keys()], "every item put before the refusal, in order");
}

let n = 0;
const fresh = (p) => `${p}_${Date.now()}_${n++}`;

test("items survive a reload, in order", async () => {
  const name = fresh("reload");
  const page = await openPage(browser.context, srv.origin);
  await page.evaluate(async (name) => {
    const q = await pq.AckQueue.open(name);
    for (let i = 0; i < 50; i++) await q.put({ i });
  }, name);
  await page.reload();
  await page.evaluate(() => window.pqReady);
  const got = await page.evaluate(async (name) => {
    const q = await pq.AckQueue.open(name);
    return (await drain(q)).map((v) => v.i);
  }, name);
  assert.deepEqual(got, [...Array(50).keys()]);
  await page.close();
});

test("an item got but not acked is ready again after a reload (its tab is gone)", async () => {
  const name = fresh("unacked");
  const page = await openPage(browser.context, srv.origin);
  const first = await page.evaluate(async (name) => {
    const q = await pq.AckQueue.open(name);
    await q.putMany(["a", "b"]);
    return (await q.get()).value;
  }, name);
  assert.equal(first, "a");
  await page.reload();
  await page.evaluate(() => window.pqReady);
  const again = await page.evaluate(async (name) => {
    const q = await pq.AckQueue.open(name);
    const m = await q.get({ block: false });
    return [m.value, m.deliveries];
  }, name);
  assert.deepEqual(again, ["a", 2]);
  await page.close();
});

test("an item held by a live tab is never taken from it", async () => {
  const name = fresh("held");
  const a = await openPage(browser.context, srv.origin);
  const b = await openPage(browser.context, srv.origin);
  await a.evaluate(async (name) => {
    window.q = await pq.AckQueue.open(name);
    await window.q.put("mine");
    window.held = await window.q.get();
  }, name);
  const code = await b.evaluate(async (name) => {
    const q = await pq.AckQueue.open(name);      // auto-resume: only orphans
    await q.resume();
    try { await q.get({ block: false }); return "got it"; } catch (e) { return e.code; }
  }, name);
  assert.equal(code, "Empty");
  await a.evaluate(() => window.q.ack(window.held.id));
  await a.close();
  await b.close();
});

test("an item held by a tab that closes goes to a tab waiting for it", async () => {
  const name = fresh("closed");
  const a = await openPage(browser.context, srv.origin);
  const b = await openPage(browser.context, srv.origin);
  await a.evaluate(async (name) => {
    const q = await pq.AckQueue.open(name);
    await q.put("job");
    window.held = await q.get();
  }, name);
  await b.evaluate(async (name) => {
    const q = await pq.AckQueue.open(name);
    window.waiting = q.get({ timeout: 15000 }).then((m) => [m.value, m.deliveries]);
  }, name);
  await a.close();
  assert.deepEqual(await b.evaluate(() => window.waiting), ["job", 2]);
  await b.close();
});

test("a tab that freezes holding an item loses it to a waiting tab once its lease ends, and its late ack is refused", async () => {
  const name = fresh("frozen");
  const a = await openPage(browser.context, srv.origin);
  const b = await openPage(browser.context, srv.origin);
  await a.evaluate(async (name) => {
    window.q = await pq.AckQueue.open(name, { leaseMs: 600 });
    await window.q.put("job");
    window.held = await window.q.get();
  }, name);
  // Tab a stays open (its Web Lock held: no orphan) and never settles.
  const [value, deliveries, waited] = await b.evaluate(async (name) => {
    window.q = await pq.AckQueue.open(name, { leaseMs: 600 });
    const start = Date.now();
    window.taken = await window.q.get({ timeout: 15000 });
    return [window.taken.value, window.taken.deliveries, Date.now() - start];
  }, name);
  assert.deepEqual([value, deliveries], ["job", 2]);
  assert.ok(waited >= 400, `not before the lease ended (${waited} ms)`);
  const late = await a.evaluate(async () => {
    try { await window.q.ack(window.held); return "acked"; } catch (e) { return e.code; }
  });
  assert.equal(late, "LeaseLost", "the frozen tab's late ack is refused");
  await b.evaluate(() => window.q.ack(window.taken));
  const counts = await b.evaluate(() => window.q.counts());
  assert.deepEqual([counts.acked, counts.unacked], [1, 0]);
  await a.close();
  await b.close();
});

test("IndexedDB over quota is code QuotaExceeded and nothing stored before is lost", async () => {
  const name = fresh("idbquota");
  // An origin of its own (another port), whose quota is set before it
  // stores anything: Chromium applies an override to a fresh origin.
  const own = await serve();
  const page = await browser.context.newPage();
  const cdp = await browser.context.newCDPSession(page);
  await cdp.send("Storage.overrideQuotaForOrigin", { origin: own.origin, quotaSize: 3 * 1024 * 1024 });
  await page.goto(own.origin + "/test/pages/index.html");
  await page.evaluate(() => window.pqReady);
  const r = await page.evaluate(async (name) => {
    const q = await pq.AckQueue.open(name);
    let put = 0, code;
    for (;;) {
      const item = new Uint8Array(256 * 1024);
      for (let o = 0; o < item.length; o += 65536) crypto.getRandomValues(item.subarray(o, o + 65536));
      item[0] = put & 255; item[1] = put >> 8;
      try { await q.put(item); put++; }
      catch (e) { code = e.code; break; }
      if (put > 500) break;
    }
    const got = (await drain(q)).map((v) => v[0] | (v[1] << 8));
    await q.close();
    await pq.AckQueue.delete(name);
    return { put, code, got };
  }, name);
  own.server.close();
  assertQuotaRefusal(r, 1);
  await page.close();
});

// Issue 11, defect 8: a queue at its quota must still drain (claims, acks,
// deletes), on the same handle and after a reload, for Queue and AckQueue.
for (const [cls, backend] of [["Queue", "indexeddb"], ["AckQueue", "indexeddb"], ["Queue", "localStorage"], ["AckQueue", "localStorage"]]) {
  test(`a full ${backend} ${cls} drains: on the same handle and after a reload`, async () => {
    const name = fresh(`full${cls}`);
    const own = await serve();
    const page = await browser.context.newPage();
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send("Storage.overrideQuotaForOrigin", { origin: own.origin, quotaSize: 1024 * 1024 });
    await page.goto(own.origin + "/test/pages/index.html");
    await page.evaluate(() => window.pqReady);
    const first = await page.evaluate(async ([cls, name, backend]) => {
      if (backend === "localStorage") localStorage.clear();
      const q = await pq[cls].open(name, { backend });
      let put = 0, code;
      for (;;) {
        const item = new Uint8Array(2048);
        crypto.getRandomValues(item);
        item[0] = put & 255; item[1] = put >> 8;
        try { await q.put(item); put++; }
        catch (e) { code = e.code; break; }
        if (put > 5000) break;
      }
      // Half now, on the same handle (acked, for the ack queue).
      const got = [];
      for (let i = 0; i < Math.floor(put / 2); i++) {
        const m = await q.get({ block: false });
        if (cls === "AckQueue") await q.ack(m.id);
        got.push(m.value[0] | (m.value[1] << 8));
      }
      await q.close();
      return { put, code, got };
    }, [cls, name, backend]);
    assert.equal(first.code, "QuotaExceeded", `refused at the quota after ${first.put}`);
    assert.ok(first.put > 100, `stored ${first.put}`);
    await page.reload();
    await page.evaluate(() => window.pqReady);
    const rest = await page.evaluate(async ([cls, name, backend]) => {
      const q = await pq[cls].open(name, { backend });
      const got = [];
      for (;;) {
        const batch = await q.getMany(16, { block: false }).catch((e) => (e.code === "Empty" ? [] : Promise.reject(e)));
        if (batch.length === 0) break;
        if (cls === "AckQueue") await q.ackMany(batch.map((m) => m.id));
        for (const m of batch) got.push(m.value[0] | (m.value[1] << 8));
      }
      if (cls === "AckQueue") await q.clearAcked();
      // (Chromium gives no space back within the session, so the origin
      // stays over its quota: nothing here can put again.)
      await q.close();
      await pq[cls].delete(name, { backend });
      return got;
    }, [cls, name, backend]);
    own.server.close();
    const all = first.got.concat(rest).map((v, i) => (v - i) & 0xffff);
    assert.equal(first.got.length + rest.length, first.put, "every item drained");
    assert.ok(all.every((d) => d === 0), "in order");
    await page.close();
  });
}

test("at the quota, an item one tab holds is not handed to another, and comes back when that tab closes", async () => {
  const name = fresh("idbfullheld");
  const own = await serve();
  const a = await browser.context.newPage();
  const cdp = await browser.context.newCDPSession(a);
  await cdp.send("Storage.overrideQuotaForOrigin", { origin: own.origin, quotaSize: 1024 * 1024 });
  await a.goto(own.origin + "/test/pages/index.html");
  await a.evaluate(() => window.pqReady);
  const first = await a.evaluate(async (name) => {
    window.q = await pq.AckQueue.open(name);
    let put = 0;
    for (;;) {
      try { await window.q.put(new Uint8Array(2048).fill(put & 255)); put++; } catch (e) { break; }
    }
    window.held = await window.q.get({ block: false });
    return [put, window.held.id, window.held.value[0], window.held.deliveries];
  }, name);
  assert.ok(first[0] > 100);
  assert.deepEqual(first.slice(2), [0, 1], "the first item, delivered once");
  const b = await openPage(browser.context, own.origin);
  const whileHeld = await b.evaluate(async (name) => {
    const q = await pq.AckQueue.open(name);
    const got = await q.getMany(4, { block: false }).catch((e) => e.code);
    await q.close();
    return got;
  }, name);
  assert.equal(whileHeld, "Empty", "one handle drains at a time: nothing is handed out twice");
  await a.close();
  const after = await b.evaluate(async (name) => {
    const q = await pq.AckQueue.open(name);
    const m = await q.get({ timeout: 5000 });
    await q.ack(m.id);
    await q.close();
    await pq.AckQueue.delete(name);
    return [m.id, m.value[0]];
  }, name);
  assert.deepEqual(after, [first[1], 0], "the held item, delivered again: never lost");
  own.server.close();
  await b.close();
});

test("a service worker and a page share one queue", async () => {
  const name = fresh("sw");
  const page = await openPage(browser.context, srv.origin);
  const got = await page.evaluate(async (name) => {
    const reg = await navigator.serviceWorker.register("/test/pages/sw.js", { type: "module", scope: "/test/pages/" });
    const sw = reg.installing || reg.waiting || reg.active;
    const reply = new Promise((r) => navigator.serviceWorker.addEventListener("message", (e) => r(e.data), { once: true }));
    sw.postMessage(name);
    const said = await reply;
    if (said !== "put") throw new Error(said);
    const q = await pq.AckQueue.open(name);
    const m = await q.get({ timeout: 2000 });
    await q.ack(m.id);
    await reg.unregister();
    return m.value;
  }, name);
  assert.deepEqual(got, { from: "service worker" });
  await page.close();
});

test("two pages consuming one queue never receive the same item", async () => {
  const name = fresh("shared");
  const total = 300;
  const pages = [await openPage(browser.context, srv.origin), await openPage(browser.context, srv.origin)];
  await pages[0].evaluate(async ([name, total]) => {
    const q = await pq.AckQueue.open(name, { durability: "relaxed" });
    await q.putMany([...Array(total).keys()]);
  }, [name, total]);
  const consume = (p) => p.evaluate(async (name) => {
    const q = await pq.AckQueue.open(name, { durability: "relaxed" });
    return drain(q, { timeout: 300 });
  }, name);
  const [x, y] = await Promise.all(pages.map(consume));
  assert.ok(x.length > 0 && y.length > 0, `both pages consumed (${x.length}, ${y.length})`);
  const all = [...x, ...y].sort((p, q) => p - q);
  assert.deepEqual(all, [...Array(total).keys()], "every item exactly once");
  for (const p of pages) await p.close();
});

test("a get waiting in one tab wakes when another tab puts", async () => {
  const name = fresh("wake");
  const a = await openPage(browser.context, srv.origin);
  const b = await openPage(browser.context, srv.origin);
  await b.evaluate(async (name) => {
    const q = await pq.AckQueue.open(name);
    window.waiting = q.get({ timeout: 10000 }).then((m) => m.value);
  }, name);
  await a.evaluate(async (name) => (await pq.AckQueue.open(name)).put("ping"), name);
  assert.equal(await b.evaluate(() => window.waiting), "ping");
  await a.close();
  await b.close();
});

test("localStorage: over quota is code QuotaExceeded and nothing stored before is lost", async () => {
  const name = fresh("quota");
  const page = await openPage(browser.context, srv.origin);
  const r = await page.evaluate(async (name) => {
    localStorage.clear();
    const q = await pq.Queue.open(name, { backend: "localStorage" });
    const big = "x".repeat(100000);
    let put = 0, code;
    for (;;) {
      try { await q.put({ n: put, big }); put++; }
      catch (e) { code = e.code; break; }
      if (put > 200) break;
    }
    await q.close();
    const again = await pq.Queue.open(name, { backend: "localStorage" });
    const got = (await drain(again)).map((v) => v.n);
    await again.close();
    await pq.Queue.delete(name, { backend: "localStorage" });
    return { put, code, got };
  }, name);
  assertQuotaRefusal(r, 6);
  await page.close();
});

test("localStorage refuses the strict level and a second owner", async () => {
  const name = fresh("lsrules");
  const page = await openPage(browser.context, srv.origin);
  const codes = await page.evaluate(async (name) => {
    const code = (p) => p.then(() => "ok", (e) => e.code);
    const strict = await code(pq.Queue.open(name, { backend: "localStorage", durability: "strict" }));
    const q = await pq.Queue.open(name, { backend: "localStorage" });
    const second = await code(pq.Queue.open(name, { backend: "localStorage" }));
    await q.close();
    const afterClose = await code(pq.Queue.open(name, { backend: "localStorage" }).then((q) => q.close()));
    return { strict, second, afterClose };
  }, name);
  assert.deepEqual(codes, { strict: "NotDurable", second: "Locked", afterClose: "ok" });
  await page.close();
});

test("PDict keeps its entries across a reload, in IndexedDB and in localStorage", async () => {
  const name = fresh("dict");
  const page = await openPage(browser.context, srv.origin);
  await page.evaluate(async (name) => {
    for (const backend of ["indexeddb", "localStorage"]) {
      const d = await pq.PDict.open(name, { backend });
      await d.set("b", { n: 2 });
      await d.set("a", new Uint8Array([1, 2]));
      await d.set("gone", 1);
      await d.delete("gone");
      await d.close();
    }
  }, name);
  await page.reload();
  await page.evaluate(() => window.pqReady);
  const got = await page.evaluate(async (name) => {
    const out = {};
    for (const backend of ["indexeddb", "localStorage"]) {
      const d = await pq.PDict.open(name, { backend });
      out[backend] = (await d.entries()).map(([k, v]) => [k, v instanceof Uint8Array ? [...v] : v]);
      await d.close();
    }
    return out;
  }, name);
  const want = [["a", [1, 2]], ["b", { n: 2 }]];
  assert.deepEqual(got, { indexeddb: want, localStorage: want });
  await page.close();
});

test("a dedicated worker and a page share one queue", async () => {
  const name = fresh("worker");
  const page = await openPage(browser.context, srv.origin);
  const got = await page.evaluate(async (name) => {
    const w = new Worker("/test/pages/worker.js", { type: "module" });
    const done = new Promise((r) => { w.onmessage = (e) => r(e.data); });
    w.postMessage(name);
    const reply = await done;
    if (reply !== "put") throw new Error(reply);
    const q = await pq.AckQueue.open(name);
    const m = await q.get({ timeout: 2000 });
    await q.ack(m.id);
    return m.value;
  }, name);
  assert.deepEqual(got, { from: "worker" });
  await page.close();
});
