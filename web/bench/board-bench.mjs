// Browser benchmark (issue 9): a board of 500 agents receiving 50 agent
// changes per second in Chromium. Records every main-thread long task
// (PerformanceObserver 'longtask', the browser's own measure) and the JS heap
// (performance.memory after a forced garbage collection) at 2 minutes and at
// the end. Targets: no task longer than 50 ms; heap at the end within 10% of
// the heap at 2 minutes. Not part of `npm test`; run it by hand:
//
//   go build -o /tmp/wallboard ./cmd/wallboard
//   WALLBOARD_BIN=/tmp/wallboard BENCH_MINUTES=30 node web/bench/board-bench.mjs
//
// Environment: BENCH_MINUTES (default 30), BENCH_AGENTS (500), BENCH_RATE
// (changes per second, 50), BENCH_JSON (write the summary there too),
// BENCH_PROFILE (write a Chromium CPU profile of the first 20 s of driving
// there, and print the functions with the most self time).
// Exit status 1 when a target is missed.
import { writeFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { launchBrowser, startDemo } from '../tests/helpers.mjs';

const minutes = Number(process.env.BENCH_MINUTES || 30);
const agents = Number(process.env.BENCH_AGENTS || 500);
const rate = Number(process.env.BENCH_RATE || 50);
const firstSampleMin = Math.min(2, minutes / 2);

async function heap(page, cdp) {
  await cdp.send('HeapProfiler.collectGarbage');
  return page.evaluate(() => ({
    heap: performance.memory.usedJSHeapSize,
    nodes: document.getElementsByTagName('*').length,
  }));
}

const demo = await startDemo({ args: ['--agents', String(agents), '--queues', '20'] });
const browser = await launchBrowser();
let failed = false;
try {
  const page = await browser.newPage({ viewport: { width: 1920, height: 1080 } });
  await page.addInitScript(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longTasks.push({ at: Math.round(e.startTime), ms: Math.round(e.duration) });
    }).observe({ type: 'longtask', buffered: true });
  });
  await page.goto(demo.boardURL);
  await page.waitForFunction((n) => document.querySelectorAll('[id^="agent-"][data-state]').length >= n, Math.floor(agents * 0.8), { timeout: 60000 });
  const cdp = await page.context().newCDPSession(page);
  const state = await demo.state();
  const ids = state.agents.filter((a) => a.source === 'sim' && a.state !== 'logged_out').map((a) => a.id);
  if (ids.length === 0) throw new Error('no logged-in agent of source sim');
  const loadTasks = await page.evaluate(() => window.__longTasks.splice(0));
  console.log(`board with ${await page.evaluate(() => document.querySelectorAll('[id^="agent-"][data-state]').length)} agents; driving ${rate} changes/s on ${ids.length} sim agents for ${minutes} min`);

  // Drive: rate changes per second, spread evenly, through /demo/action.
  const t0 = Date.now();
  const end = t0 + minutes * 60000;
  let sent = 0;
  let errors = 0;
  let first = null;
  const reasons = ['Lunch', 'Break', 'Training', 'Meeting', 'Coaching'];
  const states = ['not_ready', 'available', 'busy', 'wrap_up'];
  let profiling = false;
  if (process.env.BENCH_PROFILE) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.start');
    profiling = true;
  }
  while (Date.now() < end) {
    if (profiling && Date.now() - t0 > 20000) {
      profiling = false;
      const { profile } = await cdp.send('Profiler.stop');
      writeFileSync(process.env.BENCH_PROFILE, JSON.stringify(profile));
      const self = new Map();
      const dt = profile.timeDeltas || [];
      const byId = new Map(profile.nodes.map((n) => [n.id, n]));
      profile.samples.forEach((id, i) => {
        const f = byId.get(id).callFrame;
        const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
        self.set(key, (self.get(key) || 0) + (dt[i] || 0) / 1000);
      });
      const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15);
      console.log('CPU profile, self time over 20 s of driving:');
      for (const [k, v] of top) console.log(`  ${v.toFixed(0).padStart(6)} ms  ${k}`);
    }
    const due = Math.floor(((Date.now() - t0) / 1000) * rate) - sent;
    const batch = [];
    for (let k = 0; k < due; k++, sent++) {
      const st = states[sent % states.length];
      batch.push(fetch(`${demo.base}/demo/action`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ source: 'sim', agent: ids[sent % ids.length], state: st, reason: st === 'not_ready' ? reasons[sent % reasons.length] : '' }),
      }).then((r) => { if (!r.ok) errors++; }, () => { errors++; }));
    }
    await Promise.all(batch);
    if (!first && Date.now() - t0 >= firstSampleMin * 60000) {
      first = await heap(page, cdp);
      console.log(`${firstSampleMin} min: heap ${(first.heap / 1e6).toFixed(2)} MB, ${first.nodes} elements`);
    }
    await delay(20);
  }
  const last = await heap(page, cdp);
  const tasks = await page.evaluate(() => window.__longTasks);
  const longest = tasks.reduce((m, t) => Math.max(m, t.ms), 0);
  const over50 = tasks.filter((t) => t.ms > 50);
  const growth = first ? last.heap / first.heap - 1 : 0;
  const summary = {
    date: new Date().toISOString(), minutes, agents, rate, changesSent: sent, sendErrors: errors,
    pageLoadLongTasks: loadTasks, longTasks: tasks.length, longestTaskMs: longest, tasksOver50ms: over50.length,
    heapAt2MinMB: first && +(first.heap / 1e6).toFixed(2), heapAtEndMB: +(last.heap / 1e6).toFixed(2),
    heapGrowthPct: +(growth * 100).toFixed(1), elementsAt2Min: first?.nodes, elementsAtEnd: last.nodes,
  };
  console.log(JSON.stringify(summary, null, 2));
  if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify(summary, null, 2));
  if (over50.length > 0) { console.log(`FAIL: ${over50.length} main-thread tasks over 50 ms (longest ${longest} ms)`); failed = true; }
  if (Math.abs(growth) > 0.10) { console.log(`FAIL: JS heap changed ${(growth * 100).toFixed(1)}% between ${firstSampleMin} min and the end`); failed = true; }
  if (!failed) console.log('PASS');
} finally {
  await browser.close();
  await demo.stop();
}
process.exit(failed ? 1 : 0);
