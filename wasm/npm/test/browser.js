// Shared by the browser tests and the benchmark: a static server for the
// package directory and Debian's Chromium driven by playwright-core.
import http from "node:http";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };

// Serves the package root (web/, test/pages/, bench/, examples) on 127.0.0.1.
export async function serve(root = ROOT) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, "http://x");
    const file = path.join(root, decodeURIComponent(url.pathname));
    if (!file.startsWith(root) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": TYPES[path.extname(file)] || "application/octet-stream" });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

// A browser with a fresh profile on disk (so IndexedDB writes to disk).
export async function launch() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "pq-profile-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
      "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  return { context, profile, async close() { await context.close(); fs.rmSync(profile, { recursive: true, force: true }); } };
}

// A page of `origin` with the package loaded as `window.pq`.
export async function openPage(context, origin, page = "/test/pages/index.html") {
  const p = await context.newPage();
  p.on("pageerror", (e) => console.error("page error:", e));
  await p.goto(origin + page);
  await p.waitForFunction(() => window.pqReady !== undefined);
  await p.evaluate(() => window.pqReady);
  return p;
}
