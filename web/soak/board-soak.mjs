// Browser soak: one board open in Chromium for a long run while the demo's
// floor changes steadily (its simulation, plus a forced agent change every
// second). Measures the page's JS heap and DOM node count after a forced
// garbage collection at the start and at the end, and fails when either grew
// beyond a margin. Not part of `npm test`; run it by hand:
//
//   go build -o /tmp/wallboard ./cmd/wallboard
//   WALLBOARD_BIN=/tmp/wallboard SOAK_MINUTES=30 node web/soak/board-soak.mjs
//
// SOAK_MINUTES defaults to 10. Prints one line per sample and a summary.
import { setTimeout as delay } from 'node:timers/promises';
import { launchBrowser, pickAgent, startDemo } from '../tests/helpers.mjs';

const minutes = Number(process.env.SOAK_MINUTES || 10);
const HEAP_MARGIN = 1.3; // the end may be 30% above the start (GC timing, string interning)
const NODE_MARGIN = 1.05; // the DOM is swapped by id: it must stay the same size

async function sample(cdp) {
  await cdp.send('HeapProfiler.collectGarbage');
  const { metrics } = await cdp.send('Performance.getMetrics');
  const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
  return { heap: m.JSHeapUsedSize, nodes: m.Nodes, listeners: m.JSEventListeners };
}

const demo = await startDemo({ args: ['--agents', '60', '--queues', '8'] });
const browser = await launchBrowser();
let failed = false;
try {
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  await page.goto(demo.boardURL);
  await page.waitForFunction(() => document.querySelectorAll('[id^="agent-"][data-state]').length >= 20, null, { timeout: 30000 });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  await delay(5000); // let the page settle (first frames, fonts, grid fit)
  const start = await sample(cdp);
  const t0 = Date.now();
  console.log(`start: heap ${(start.heap / 1e6).toFixed(2)} MB, ${start.nodes} nodes, ${start.listeners} listeners`);

  const states = ['not_ready', 'available'];
  let i = 0;
  let nextSample = Date.now() + 60000;
  while (Date.now() - t0 < minutes * 60000) {
    const st = await demo.state();
    const a = pickAgent(st);
    await demo.action({ source: 'sim', agent: a.id, state: states[i++ % 2], reason: 'Soak' });
    if (Date.now() > nextSample) {
      const s = await sample(cdp);
      console.log(`${((Date.now() - t0) / 60000).toFixed(1)} min: heap ${(s.heap / 1e6).toFixed(2)} MB, ${s.nodes} nodes, ${s.listeners} listeners`);
      nextSample += 60000;
    }
    await delay(1000);
  }
  await delay(2000);
  const end = await sample(cdp);
  const msgs = await page.evaluate(() => document.querySelectorAll('[id^="agent-"]').length);
  console.log(`end after ${minutes} min and ${i} forced changes: heap ${(end.heap / 1e6).toFixed(2)} MB, ${end.nodes} nodes, ${end.listeners} listeners (${msgs} agent cards)`);
  if (end.heap > start.heap * HEAP_MARGIN) {
    console.error(`FAIL: JS heap grew from ${start.heap} to ${end.heap} bytes`);
    failed = true;
  }
  if (end.nodes > start.nodes * NODE_MARGIN) {
    console.error(`FAIL: DOM nodes grew from ${start.nodes} to ${end.nodes}`);
    failed = true;
  }
} finally {
  await browser.close();
  await demo.stop();
}
process.exit(failed ? 1 : 0);
