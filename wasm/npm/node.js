// Node.js entry: the same ES module as for browsers, initialised from the
// package's .wasm file, so `import { AckQueue } from "persist-queue-wasm"`
// is ready to use. IndexedDB is not built into Node.js: install a polyfill
// (e.g. `import "fake-indexeddb/auto"`) before opening a queue.
import { readFileSync } from "node:fs";
import { initSync } from "./web/persist_queue_wasm.js";

initSync({ module: readFileSync(new URL("./web/persist_queue_wasm_bg.wasm", import.meta.url)) });

export * from "./web/persist_queue_wasm.js";
export { default } from "./web/persist_queue_wasm.js";
