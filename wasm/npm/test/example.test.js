// The offline-queue example app, driven like a user would: messages sent
// while offline are kept across a reload and replayed in order, once each,
// when the server answers; a 503 is retried, a 400 is given up.
import test from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { serve, launch } from "./browser.js";

const WASM_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

test("the offline-queue example replays what was queued offline, across a reload", async () => {
  const srv = await serve(WASM_DIR);
  const browser = await launch();
  try {
    const page = await browser.context.newPage();
    const posted = [];
    let answer = 503;
    await page.route("**/api/messages", async (route) => {
      const body = JSON.parse(route.request().postData());
      const status = body.body === "bad" ? 400 : answer;
      if (status === 200) posted.push(body.body);
      await route.fulfill({ status, body: "" });
    });
    const url = srv.origin + "/examples/offline-queue/index.html";
    await page.goto(url);
    await page.waitForFunction(() => document.getElementById("state").textContent !== "");
    await browser.context.setOffline(true);
    for (const m of ["one", "bad", "two", "three"]) {
      await page.fill("#msg", m);
      await page.click("button");
      await page.waitForFunction((m) => document.getElementById("log").textContent.includes("queued"), m);
    }
    await page.waitForFunction(() => document.getElementById("n").textContent === "4");
    await browser.context.setOffline(false);
    // The server fails (503) for a while: nothing is lost, then a reload.
    await page.waitForTimeout(300);
    await page.reload();
    answer = 200;
    await page.waitForFunction(() => document.getElementById("log").textContent.includes("refused"), null, { timeout: 20000 });
    for (let i = 0; i < 200 && posted.length < 3; i++) await page.waitForTimeout(100);
    await page.waitForTimeout(300); // a duplicate would arrive now
    assert.deepEqual(posted, ["one", "two", "three"], "each message delivered once, in order; the refused one dropped");
  } finally {
    await browser.close();
    srv.server.close();
  }
});
