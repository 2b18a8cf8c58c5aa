// npm run bench [-- n rounds]: the IndexedDB queue against raw IndexedDB in
// headless Chromium, one page, alternating rounds; prints ratios.
import { serve, launch } from "../test/browser.js";

const n = Number(process.argv[2] || 500);
const rounds = Number(process.argv[3] || 5);
const srv = await serve();
const browser = await launch();
try {
  const page = await browser.context.newPage();
  await page.goto(srv.origin + "/bench/index.html");
  await page.waitForFunction(() => typeof window.runBench === "function");
  for (const durability of ["strict", "relaxed"]) {
    const rows = await page.evaluate((o) => window.runBench(o), { n, rounds, durability });
    const med = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const perS = (ms) => Math.round((n / ms) * 1000);
    const putRatio = med(rows.map((r) => r.raw / r.q));
    const manyRatio = med(rows.map((r) => r.q / r.many));
    console.log(`IndexedDB ${durability}, ${n} items x ${rounds} rounds (25 B):`);
    console.log(`  raw put (1 record per tx)  ${perS(med(rows.map((r) => r.raw)))}/s`);
    console.log(`  AckQueue.put               ${perS(med(rows.map((r) => r.q)))}/s   = ${putRatio.toFixed(2)}x raw (median of per-round ratios)`);
    console.log(`  AckQueue.putMany(${n})     ${perS(med(rows.map((r) => r.many)))}/s   = ${manyRatio.toFixed(1)}x single puts`);
    console.log(`  raw put, all in one tx     ${perS(med(rows.map((r) => r.rawAll)))}/s   (raw's own batching: ${med(rows.map((r) => r.raw / r.rawAll)).toFixed(1)}x)`);
    console.log(`  putMany / raw one tx       ${med(rows.map((r) => r.rawAll / r.many)).toFixed(2)}x`);
    console.log(`  ${n} puts issued at once    ${perS(med(rows.map((r) => r.concurrent)))}/s   = ${med(rows.map((r) => r.q / r.concurrent)).toFixed(1)}x sequential puts (group commit)`);
    console.log(`  AckQueue.get + ack         ${perS(med(rows.map((r) => r.getAck)))}/s`);
  }
} finally {
  await browser.close();
  srv.server.close();
}
